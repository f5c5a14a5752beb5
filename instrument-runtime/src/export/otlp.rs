//! The OTLP exporters (feature `otlp`) for spans and metrics, over gRPC or HTTP/protobuf.
//!
//! The gRPC exporters run on a small Tokio runtime owned by the telemetry guard, so they work
//! from a plain `main`, a current-thread runtime, or a multi-thread one alike, and never depend
//! on the application's runtime being alive at shutdown.
//!
//! An `https://` endpoint needs the `tls` feature: without it setup refuses the endpoint, as it
//! refuses any endpoint when the `otlp` feature is off, instead of building exporters whose
//! every export fails before a connection is made.

use opentelemetry_otlp::{
    MetricExporter, RetryPolicy, SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use std::sync::Arc;
use std::time::Duration;

use super::diagnose::TransportFailures;
use super::empty_histograms::WithoutEmptyMinMax;
use super::error::SetupError;
use super::grpc_metrics::{GrpcMetricExporter, GrpcTransport, grpc_metrics_transport};
use super::target::{OtlpTarget, Protocol};

/// The exporters and, for gRPC, the runtime that drives them.
pub(crate) struct OtlpExporters {
    pub spans: SpanExporter,
    pub metrics: OtlpMetricExporter,
    pub runtime: Option<tokio::runtime::Runtime>,
}

/// The metrics exporter of a protocol: `opentelemetry-otlp`'s over HTTP (its client clears empty
/// histogram points), the toolkit's own over gRPC (see `grpc_metrics`).
#[derive(Debug)]
pub(crate) enum OtlpMetricExporter {
    Http(MetricExporter),
    Grpc(GrpcMetricExporter),
}

impl PushMetricExporter for OtlpMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        match self {
            Self::Http(exporter) => exporter.export(metrics).await,
            Self::Grpc(exporter) => exporter.export(metrics).await,
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        match self {
            Self::Http(exporter) => exporter.force_flush(),
            Self::Grpc(exporter) => exporter.force_flush(),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        match self {
            Self::Http(exporter) => exporter.shutdown_with_timeout(timeout),
            Self::Grpc(exporter) => exporter.shutdown_with_timeout(timeout),
        }
    }

    fn temporality(&self) -> Temporality {
        match self {
            Self::Http(exporter) => exporter.temporality(),
            Self::Grpc(exporter) => exporter.temporality(),
        }
    }
}

/// Builds exporters sending to `target`.
pub(crate) fn build(
    target: &OtlpTarget<'_>,
    temporality: Temporality,
    accounting: &super::Accounting,
) -> Result<OtlpExporters, SetupError> {
    for endpoint in [target.traces_endpoint, target.metrics_endpoint] {
        require_tls_support(endpoint, cfg!(feature = "tls"))?;
    }
    let failed = |e: opentelemetry_otlp::ExporterBuildError| SetupError::Exporter(e.to_string());
    let transport = Transport::new(target.read_env).reporting_to(accounting.transport.clone());
    match target.protocol {
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
            let spans = transport
                .tonic(SpanExporter::builder().with_tonic(), target.traces_endpoint)
                .with_endpoint(target.traces_endpoint)
                .with_timeout(target.timeout)
                .with_retry_policy(RetryPolicy::disabled())
                .build()
                .map_err(failed)?;
            let (headers, gzip) = grpc_metrics_transport(target.read_env);
            let metrics = GrpcMetricExporter::new(
                target.metrics_endpoint,
                GrpcTransport {
                    timeout: target.timeout,
                    temporality,
                    headers,
                    gzip,
                    #[cfg(feature = "tls")]
                    tls: target
                        .metrics_endpoint
                        .starts_with("https://")
                        .then(|| transport.files.tonic_config()),
                },
            )?;
            drop(_entered);
            Ok(OtlpExporters {
                spans,
                metrics: OtlpMetricExporter::Grpc(metrics),
                runtime: Some(runtime),
            })
        }
        Protocol::HttpProtobuf => {
            let spans = transport
                .http(SpanExporter::builder().with_http(), target.timeout)?
                .with_endpoint(http_signal_url(target.traces_endpoint, "traces"))
                .with_timeout(target.timeout)
                .with_retry_policy(RetryPolicy::disabled())
                .build()
                .map_err(failed)?;
            let metrics = transport
                .http_metrics(MetricExporter::builder().with_http(), target.timeout)?
                .with_endpoint(http_signal_url(target.metrics_endpoint, "metrics"))
                .with_timeout(target.timeout)
                .with_temporality(temporality)
                .build()
                .map_err(failed)?;
            Ok(OtlpExporters {
                spans,
                metrics: OtlpMetricExporter::Http(metrics),
                runtime: None,
            })
        }
    }
}

/// Refuses an `https://` endpoint when the crate was built without its `tls` feature
/// (`tls_built`): the exporters could not open a connection to it, and each failed export would
/// name neither the feature nor the cause.
pub(crate) fn require_tls_support(endpoint: &str, tls_built: bool) -> Result<(), SetupError> {
    if tls_built || !endpoint.starts_with("https://") {
        return Ok(());
    }
    Err(SetupError::Exporter(format!(
        "the endpoint is {endpoint} but instrument was built without its `tls` feature: enable \
         it (`features = [\"tls\"]` on the `instrument` dependency) or use an http:// endpoint"
    )))
}

/// What the exporters' transport adds: TLS settings (feature `tls`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Transport {
    #[cfg(feature = "tls")]
    files: super::tls::TlsFiles,
    /// Where the HTTP clients keep the causes of their transport failures.
    failures: Arc<TransportFailures>,
}

impl Transport {
    /// The transport the environment describes (nothing from it when `read_env` is false).
    pub(crate) fn new(read_env: bool) -> Self {
        #[cfg(feature = "tls")]
        return Self {
            files: super::tls::TlsFiles::from_env(!read_env),
            failures: Arc::default(),
        };
        #[cfg(not(feature = "tls"))]
        {
            let _ = read_env;
            Self::default()
        }
    }

    /// This transport, its HTTP clients keeping their transport failures in `failures`.
    pub(crate) fn reporting_to(mut self, failures: Arc<TransportFailures>) -> Self {
        self.failures = failures;
        self
    }

    /// A gRPC exporter builder with TLS when `endpoint` is `https://`.
    pub(crate) fn tonic<B: WithTonicConfig>(&self, builder: B, endpoint: &str) -> B {
        #[cfg(feature = "tls")]
        if endpoint.starts_with("https://") {
            return builder.with_tls_config(self.files.tonic_config());
        }
        let _ = endpoint;
        builder
    }

    /// An HTTP exporter builder whose client trusts the configured CA, presents the client
    /// certificate, and keeps the cause of transport failures for the warning.
    pub(crate) fn http<B: WithHttpConfig>(
        &self,
        builder: B,
        timeout: Duration,
    ) -> Result<B, SetupError> {
        Ok(builder.with_http_client(self.diagnosing_client(timeout)?))
    }

    /// [`Transport::http`] for the metrics exporter: histogram points that recorded nothing are
    /// sent without a min or max (see `export::empty_histograms`).
    fn http_metrics<B: WithHttpConfig>(
        &self,
        builder: B,
        timeout: Duration,
    ) -> Result<B, SetupError> {
        let client = WithoutEmptyMinMax(self.diagnosing_client(timeout)?);
        Ok(builder.with_http_client(client))
    }

    /// The HTTP client of an exporter.
    fn diagnosing_client(&self, timeout: Duration) -> Result<DiagnosingClient, SetupError> {
        let transport = self.clone();
        // A blocking client owns a runtime: built (and later dropped) off the caller's runtime.
        let client = std::thread::spawn(move || transport.blocking_client(timeout))
            .join()
            .map_err(|_| SetupError::Exporter("building the HTTP client panicked".into()))??;
        Ok(DiagnosingClient(client, self.failures.clone()))
    }

    fn blocking_client(&self, timeout: Duration) -> Result<reqwest::blocking::Client, SetupError> {
        let builder = reqwest::blocking::Client::builder().timeout(timeout);
        #[cfg(feature = "tls")]
        let builder = self
            .files
            .http_client(builder)
            .map_err(SetupError::Exporter)?;
        builder
            .build()
            .map_err(|e| SetupError::Exporter(format!("cannot build the HTTP client: {e}")))
    }
}

/// The OTLP/HTTP exporters' client: reqwest's blocking client, keeping the cause of a transport
/// failure (the exporter's own error says only "network error").
#[derive(Debug)]
struct DiagnosingClient(reqwest::blocking::Client, Arc<TransportFailures>);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for DiagnosingClient {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<
        opentelemetry_http::Response<opentelemetry_http::Bytes>,
        opentelemetry_http::HttpError,
    > {
        self.0.send_bytes(request).await.inspect_err(|error| {
            self.1.record(error.as_ref());
        })
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

    /// A pipeline's accounting, for the exporters built here.
    fn accounting() -> crate::export::Accounting {
        crate::export::Accounting::new(Arc::default(), None)
    }

    /// A target sending spans to `traces` and metrics to `metrics` over `protocol`.
    fn target<'a>(traces: &'a str, metrics: &'a str, protocol: Protocol) -> OtlpTarget<'a> {
        OtlpTarget {
            traces_endpoint: traces,
            metrics_endpoint: metrics,
            protocol,
            timeout: Duration::from_secs(1),
            read_env: false,
        }
    }

    #[test]
    fn an_https_endpoint_needs_the_tls_feature() {
        assert!(require_tls_support("http://collector:4318", false).is_ok());
        assert!(require_tls_support("https://collector:4318", true).is_ok());
        let error = require_tls_support("https://collector:4317", false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "cannot build the exporter: the endpoint is https://collector:4317 but instrument was \
             built without its `tls` feature: enable it (`features = [\"tls\"]` on the \
             `instrument` dependency) or use an http:// endpoint"
        );
    }

    /// Without the `tls` feature an `https://` endpoint, for spans or for metrics only, is
    /// refused before any exporter is built, over either protocol.
    #[cfg(not(feature = "tls"))]
    #[test]
    fn without_tls_an_https_endpoint_is_refused() {
        for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
            for (traces, metrics) in [
                ("https://collector:4317", "https://collector:4317"),
                ("http://collector:4318", "https://metrics:4318"),
            ] {
                match build(
                    &target(traces, metrics, protocol),
                    Temporality::Cumulative,
                    &accounting(),
                ) {
                    Err(SetupError::Exporter(error)) => {
                        assert!(error.contains("`tls` feature"), "{error}")
                    }
                    Err(other) => panic!("{protocol:?} {traces} {metrics}: {other}"),
                    Ok(_) => panic!("{protocol:?} {traces} {metrics}: built"),
                }
            }
        }
    }

    /// With the `tls` feature an `https://` endpoint builds, over either protocol.
    #[cfg(feature = "tls")]
    #[test]
    fn with_tls_an_https_endpoint_builds() {
        for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
            let endpoint = "https://collector:4317";
            let built = build(
                &target(endpoint, endpoint, protocol),
                Temporality::Cumulative,
                &accounting(),
            );
            assert!(built.is_ok(), "{protocol:?}: {:?}", built.err());
        }
    }

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
