//! The OTLP log exporter and the logger provider around it (features `otlp` and `tracing`).

use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;

use super::target::Protocol;

/// A logger provider exporting to `exporter` through a batch processor, for the bridges to
/// emit into.
pub(crate) fn batched_provider(
    exporter: impl opentelemetry_sdk::logs::LogExporter + 'static,
    resource: Resource,
) -> SdkLoggerProvider {
    SdkLoggerProvider::builder()
        .with_resource(resource)
        .with_batch_exporter(exporter)
        .build()
}

/// The OTLP log exporter for `endpoint` (the logs endpoint, when set, is used as it is).
pub(crate) fn exporter(
    endpoint: &str,
    logs_endpoint: Option<&str>,
    protocol: Protocol,
    timeout: Duration,
    runtime: Option<&tokio::runtime::Runtime>,
    transport: &super::otlp::Transport,
) -> Result<opentelemetry_otlp::LogExporter, String> {
    use opentelemetry_otlp::WithExportConfig;
    super::otlp::require_tls_support(logs_endpoint.unwrap_or(endpoint), cfg!(feature = "tls"))
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
                    .unwrap_or_else(|| super::otlp::http_signal_url(endpoint, "logs")),
            )
            .with_timeout(timeout)
            .build(),
    };
    built.map_err(|e| e.to_string())
}
