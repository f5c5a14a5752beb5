//! The logs signal (feature `tracing`): a logger provider exporting OpenTelemetry log records
//! over OTLP, chosen by `OTEL_LOGS_EXPORTER` (`otlp`, the default when an endpoint is set;
//! `console`, the default otherwise, which prints each record under its span in the console
//! tree, or on a line of its own on stderr outside any span; `none`) with
//! `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` overriding the endpoint for logs.

use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;

#[cfg(feature = "otlp")]
use super::Protocol;
use super::env::{Destination, destination};
use crate::diagnostics::warn;
use crate::state;

/// A logger provider exporting to `exporter` through a batch processor, installed for the
/// bridges to emit into.
#[cfg(feature = "otlp")]
pub(crate) fn install_provider(
    exporter: impl opentelemetry_sdk::logs::LogExporter + 'static,
    resource: Resource,
) -> SdkLoggerProvider {
    let provider = SdkLoggerProvider::builder()
        .with_resource(resource)
        .with_batch_exporter(exporter)
        .build();
    state::install_logger_provider(provider.clone());
    provider
}

/// The OTLP log exporter for `endpoint` (the logs endpoint, when set, is used as it is).
#[cfg(feature = "otlp")]
pub(crate) fn otlp_exporter(
    endpoint: &str,
    logs_endpoint: Option<&str>,
    protocol: Protocol,
    timeout: Duration,
    runtime: Option<&tokio::runtime::Runtime>,
    transport: &crate::export::otlp::Transport,
) -> Result<opentelemetry_otlp::LogExporter, String> {
    use opentelemetry_otlp::WithExportConfig;
    crate::export::otlp::require_tls_support(
        logs_endpoint.unwrap_or(endpoint),
        cfg!(feature = "tls"),
    )
    .map_err(|e| e.to_string())?;
    let built = match protocol {
        Protocol::Grpc => {
            let _entered = runtime.map(tokio::runtime::Runtime::enter);
            let endpoint = logs_endpoint.unwrap_or(endpoint);
            transport
                .tonic(
                    opentelemetry_otlp::LogExporter::builder().with_tonic(),
                    endpoint,
                )
                .with_endpoint(endpoint)
                .with_timeout(timeout)
                .build()
        }
        Protocol::HttpProtobuf => transport
            .http(
                opentelemetry_otlp::LogExporter::builder().with_http(),
                timeout,
            )
            .map_err(|e| e.to_string())?
            .with_endpoint(
                logs_endpoint
                    .map(str::to_owned)
                    .unwrap_or_else(|| crate::export::otlp::http_signal_url(endpoint, "logs")),
            )
            .with_timeout(timeout)
            .build(),
    };
    built.map_err(|e| e.to_string())
}

/// What setup hands the logs pipeline.
pub(crate) struct LogsInputs<'a> {
    pub ignore_env: bool,
    pub endpoint: Option<&'a str>,
    #[cfg(feature = "otlp")]
    pub protocol: Protocol,
    #[cfg(feature = "otlp")]
    pub timeout: Duration,
    pub resource: Resource,
    #[cfg(feature = "otlp")]
    pub runtime: Option<&'a tokio::runtime::Runtime>,
    pub custom: Option<Box<dyn FnOnce(Resource) -> SdkLoggerProvider>>,
}

/// Builds and installs the logger provider the inputs call for, if any.
pub(crate) fn build(inputs: LogsInputs<'_>) -> Option<SdkLoggerProvider> {
    let var = |name: &str| {
        (!inputs.ignore_env)
            .then(|| crate::environment::read(name))
            .flatten()
    };
    if let Some(custom) = inputs.custom {
        state::set_console_logs(false);
        let provider = custom(inputs.resource);
        state::install_logger_provider(provider.clone());
        return Some(provider);
    }
    let logs_endpoint = var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
    let endpoint_set = inputs.endpoint.is_some() || logs_endpoint.is_some();
    let chosen = destination(
        "OTEL_LOGS_EXPORTER",
        var("OTEL_LOGS_EXPORTER").as_deref(),
        endpoint_set,
    );
    state::set_console_logs(chosen == Destination::Console);
    if chosen != Destination::Otlp {
        return None;
    }
    otlp_provider(&inputs, logs_endpoint.as_deref())
}

#[cfg(feature = "otlp")]
fn otlp_provider(
    inputs: &LogsInputs<'_>,
    logs_endpoint: Option<&str>,
) -> Option<SdkLoggerProvider> {
    let endpoint = inputs.endpoint.or(logs_endpoint)?;
    match otlp_exporter(
        endpoint,
        logs_endpoint,
        inputs.protocol,
        inputs.timeout,
        inputs.runtime,
        &crate::export::otlp::Transport::new(!inputs.ignore_env),
    ) {
        Ok(exporter) => Some(install_provider(exporter, inputs.resource.clone())),
        Err(error) => {
            warn(&format!(
                "OTLP logs exporter: {error}; log records are not exported"
            ));
            None
        }
    }
}

#[cfg(not(feature = "otlp"))]
fn otlp_provider(
    _inputs: &LogsInputs<'_>,
    _logs_endpoint: Option<&str>,
) -> Option<SdkLoggerProvider> {
    warn("OTLP logs need the `otlp` feature; log records are not exported");
    None
}
