//! The logs signal (feature `tracing`): a logger provider exporting OpenTelemetry log records
//! over OTLP, chosen by `OTEL_LOGS_EXPORTER` (`otlp`, the default when an endpoint is set;
//! `console`, the default otherwise, which prints each record under its span in the console
//! tree, or on a line of its own on stderr outside any span; `none`) with
//! `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` overriding the endpoint for logs.

#[cfg(feature = "otlp")]
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;

#[cfg(feature = "otlp")]
use super::Protocol;
use super::env::{Destination, destination};
use crate::diagnostics::warn;

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

/// The logs the inputs call for: the logger provider, if any, and whether records print under
/// their span in the console tree.
pub(crate) struct Logs {
    pub provider: Option<SdkLoggerProvider>,
    pub console: bool,
}

/// Builds the logger provider the inputs call for, if any.
pub(crate) fn build(inputs: LogsInputs<'_>) -> Logs {
    let var = |name: &str| {
        (!inputs.ignore_env)
            .then(|| crate::environment::read(name))
            .flatten()
    };
    if let Some(custom) = inputs.custom {
        return Logs {
            provider: Some(custom(inputs.resource)),
            console: false,
        };
    }
    let logs_endpoint = var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
    let endpoint_set = inputs.endpoint.is_some() || logs_endpoint.is_some();
    let chosen = destination(
        "OTEL_LOGS_EXPORTER",
        var("OTEL_LOGS_EXPORTER").as_deref(),
        endpoint_set,
    );
    Logs {
        provider: (chosen == Destination::Otlp)
            .then(|| otlp_provider(&inputs, logs_endpoint.as_deref()))
            .flatten(),
        console: chosen == Destination::Console,
    }
}

#[cfg(feature = "otlp")]
fn otlp_provider(
    inputs: &LogsInputs<'_>,
    logs_endpoint: Option<&str>,
) -> Option<SdkLoggerProvider> {
    let endpoint = inputs.endpoint.or(logs_endpoint)?;
    match crate::export::otlp_logs::exporter(
        endpoint,
        logs_endpoint,
        inputs.protocol,
        inputs.timeout,
        inputs.runtime,
        &crate::export::otlp::Transport::new(!inputs.ignore_env),
    ) {
        Ok(exporter) => Some(crate::export::otlp_logs::batched_provider(
            exporter,
            inputs.resource.clone(),
        )),
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
