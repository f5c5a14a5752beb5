//! The OTLP span exporter (feature `otlp`), over gRPC or HTTP/protobuf.
//!
//! The gRPC exporter runs on a small Tokio runtime owned by the telemetry guard, so it works from
//! a plain `main`, a current-thread runtime, or a multi-thread one alike, and never depends on
//! the application's runtime being alive at shutdown.

use std::time::Duration;

use opentelemetry_otlp::{SpanExporter, WithExportConfig};

use super::Protocol;
use super::SetupError;

/// The exporter and, for gRPC, the runtime that drives it.
pub(crate) struct OtlpExporter {
    pub exporter: SpanExporter,
    pub runtime: Option<tokio::runtime::Runtime>,
}

/// Builds an exporter sending to `endpoint` with `protocol`.
pub(crate) fn build(
    endpoint: &str,
    protocol: Protocol,
    timeout: Duration,
) -> Result<OtlpExporter, SetupError> {
    match protocol {
        Protocol::Grpc => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("instrument-otlp")
                .enable_all()
                .build()
                .map_err(|e| SetupError::Exporter(format!("cannot start the OTLP runtime: {e}")))?;
            let exporter = {
                let _entered = runtime.enter();
                SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(endpoint)
                    .with_timeout(timeout)
                    .build()
            }
            .map_err(|e| SetupError::Exporter(e.to_string()))?;
            Ok(OtlpExporter {
                exporter,
                runtime: Some(runtime),
            })
        }
        Protocol::HttpProtobuf => {
            let exporter = SpanExporter::builder()
                .with_http()
                .with_endpoint(http_traces_url(endpoint))
                .with_timeout(timeout)
                .build()
                .map_err(|e| SetupError::Exporter(e.to_string()))?;
            Ok(OtlpExporter {
                exporter,
                runtime: None,
            })
        }
    }
}

/// The traces URL for a base endpoint: `http://host:4318` becomes `http://host:4318/v1/traces`;
/// a URL that already has a path is used as it is.
fn http_traces_url(endpoint: &str) -> String {
    let after_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(i) if !after_scheme[i..].trim_end_matches('/').is_empty() => endpoint.to_owned(),
        _ => format!("{}/v1/traces", endpoint.trim_end_matches('/')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_url_gets_the_traces_path() {
        assert_eq!(http_traces_url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(http_traces_url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(
            http_traces_url("http://c:4318/custom/path"),
            "http://c:4318/custom/path"
        );
    }
}
