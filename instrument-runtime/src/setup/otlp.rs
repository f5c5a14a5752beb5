//! The OTLP exporters (feature `otlp`) for spans and metrics, over gRPC or HTTP/protobuf.
//!
//! The gRPC exporters run on a small Tokio runtime owned by the telemetry guard, so they work
//! from a plain `main`, a current-thread runtime, or a multi-thread one alike, and never depend
//! on the application's runtime being alive at shutdown.

use std::time::Duration;

use opentelemetry_otlp::{
    MetricExporter, RetryPolicy, SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::metrics::Temporality;

use super::{Protocol, SetupError};

/// The exporters and, for gRPC, the runtime that drives them.
pub(crate) struct OtlpExporters {
    pub spans: SpanExporter,
    pub metrics: MetricExporter,
    pub runtime: Option<tokio::runtime::Runtime>,
}

/// Builds exporters sending to `endpoint` with `protocol`.
pub(crate) fn build(
    endpoint: &str,
    protocol: Protocol,
    timeout: Duration,
    temporality: Temporality,
) -> Result<OtlpExporters, SetupError> {
    let failed = |e: opentelemetry_otlp::ExporterBuildError| SetupError::Exporter(e.to_string());
    match protocol {
        Protocol::Grpc => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("instrument-otlp")
                .enable_all()
                .build()
                .map_err(|e| SetupError::Exporter(format!("cannot start the OTLP runtime: {e}")))?;
            let _entered = runtime.enter();
            // Failed span batches are retried by the toolkit (see `delivery`), which knows when
            // the queue is full and when shutdown began; the exporter's own retries would only
            // hold shutdown up.
            let spans = SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .with_timeout(timeout)
                .with_retry_policy(RetryPolicy::disabled())
                .build()
                .map_err(failed)?;
            let metrics = MetricExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .with_timeout(timeout)
                .with_temporality(temporality)
                .build()
                .map_err(failed)?;
            drop(_entered);
            Ok(OtlpExporters {
                spans,
                metrics,
                runtime: Some(runtime),
            })
        }
        Protocol::HttpProtobuf => {
            let spans = SpanExporter::builder()
                .with_http()
                .with_endpoint(http_signal_url(endpoint, "traces"))
                .with_timeout(timeout)
                .with_retry_policy(RetryPolicy::disabled())
                .build()
                .map_err(failed)?;
            let metrics = MetricExporter::builder()
                .with_http()
                .with_endpoint(http_signal_url(endpoint, "metrics"))
                .with_timeout(timeout)
                .with_temporality(temporality)
                .build()
                .map_err(failed)?;
            Ok(OtlpExporters {
                spans,
                metrics,
                runtime: None,
            })
        }
    }
}

/// The signal URL for a base endpoint: `http://host:4318` becomes `http://host:4318/v1/traces`;
/// a URL that already has a path is used as it is.
pub(crate) fn http_signal_url(endpoint: &str, signal: &str) -> String {
    let after_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(i) if !after_scheme[i..].trim_end_matches('/').is_empty() => endpoint.to_owned(),
        _ => format!("{}/v1/{signal}", endpoint.trim_end_matches('/')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_url_gets_the_signal_path() {
        assert_eq!(
            http_signal_url("http://c:4318", "traces"),
            "http://c:4318/v1/traces"
        );
        assert_eq!(
            http_signal_url("http://c:4318/", "metrics"),
            "http://c:4318/v1/metrics"
        );
        assert_eq!(
            http_signal_url("http://c:4318/custom/path", "traces"),
            "http://c:4318/custom/path"
        );
    }
}
