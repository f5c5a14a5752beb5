//! Metrics over OTLP/gRPC, the toolkit's own exporter: the SDK's export data converted with
//! `opentelemetry-proto` (as `opentelemetry-otlp` converts it), histogram points that recorded
//! nothing cleared of their `f64::MAX` / `-f64::MAX` min and max (see `empty_histograms`), then
//! sent with tonic's generated client. `opentelemetry-otlp`'s gRPC exporter encodes inside itself
//! and offers no hook between the conversion and the wire, which is why this one exists; it
//! keeps that exporter's settings: endpoint, timeout, temporality, TLS, the
//! `OTEL_EXPORTER_OTLP_(METRICS_)HEADERS` and `_COMPRESSION` variables, and its retries: an
//! export the collector refuses with a retryable code is sent again up to 3 times, 100, 200 and
//! 400 ms apart (on the exporters' runtime), before it counts as refused.

use std::str::FromStr;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};

use super::empty_histograms::clear_empty_min_max;
use super::error::SetupError;
use crate::diagnostics::warn;
use crate::environment::{key_value_list, read};

/// Sends metrics to an OTLP/gRPC endpoint.
#[derive(Debug)]
pub(crate) struct GrpcMetricExporter {
    client: MetricsServiceClient<Channel>,
    metadata: MetadataMap,
    timeout: Duration,
    temporality: Temporality,
    /// The exporters' runtime, which runs each export (its retries wait on its timer).
    runtime: tokio::runtime::Handle,
}

/// Retries of a refused export, and the wait before the first (doubled for each next).
const RETRIES: u32 = 3;
const FIRST_RETRY_AFTER: Duration = Duration::from_millis(100);

/// Whether a collector's refusal may pass if the export is sent again.
fn retryable(code: tonic::Code) -> bool {
    use tonic::Code::*;
    matches!(
        code,
        Cancelled
            | DeadlineExceeded
            | ResourceExhausted
            | Aborted
            | OutOfRange
            | Unavailable
            | DataLoss
    )
}

/// How the exporter reaches its endpoint.
pub(crate) struct GrpcTransport {
    pub timeout: Duration,
    pub temporality: Temporality,
    /// `key=value` headers sent with every export.
    pub headers: Vec<(String, String)>,
    pub gzip: bool,
    #[cfg(feature = "tls")]
    pub tls: Option<tonic::transport::ClientTlsConfig>,
}

impl GrpcMetricExporter {
    /// An exporter to `endpoint`; its connection is made at the first export, on the runtime
    /// this is called inside (which runs its exports).
    pub(crate) fn new(endpoint: &str, transport: GrpcTransport) -> Result<Self, SetupError> {
        let refused = |e: &dyn std::fmt::Display| {
            SetupError::Exporter(format!(
                "the metrics endpoint {endpoint} is not usable: {e}"
            ))
        };
        let channel = Endpoint::from_shared(endpoint.to_owned())
            .map_err(|e| refused(&e))?
            .timeout(transport.timeout)
            .connect_timeout(transport.timeout);
        #[cfg(feature = "tls")]
        let channel = match transport.tls {
            Some(tls) => channel.tls_config(tls).map_err(|e| refused(&e))?,
            None => channel,
        };
        let mut client = MetricsServiceClient::new(channel.connect_lazy());
        if transport.gzip {
            client = client
                .send_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Gzip);
        }
        let mut metadata = MetadataMap::new();
        for (key, value) in &transport.headers {
            match (
                MetadataKey::from_str(&key.to_ascii_lowercase()),
                MetadataValue::try_from(value.as_str()),
            ) {
                (Ok(key), Ok(value)) => {
                    metadata.insert(key, value);
                }
                _ => warn(&format!(
                    "the OTLP header {key:?} is not a valid gRPC metadata entry; left out"
                )),
            }
        }
        Ok(Self {
            client,
            metadata,
            timeout: transport.timeout,
            temporality: transport.temporality,
            runtime: tokio::runtime::Handle::try_current().map_err(|e| refused(&e))?,
        })
    }
}

impl PushMetricExporter for GrpcMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let mut request = ExportMetricsServiceRequest::from(metrics);
        clear_empty_min_max(&mut request);
        let (client, metadata, timeout) =
            (self.client.clone(), self.metadata.clone(), self.timeout);
        let sent = self.runtime.spawn(async move {
            let mut wait = FIRST_RETRY_AFTER;
            let mut retries = 0;
            loop {
                let mut attempt = tonic::Request::new(request.clone());
                *attempt.metadata_mut() = metadata.clone();
                attempt.set_timeout(timeout);
                match client.clone().export(attempt).await {
                    Ok(_) => return Ok(()),
                    Err(status) if retries < RETRIES && retryable(status.code()) => {
                        retries += 1;
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                    }
                    Err(status) => return Err(status),
                }
            }
        });
        match sent.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(status)) => Err(OTelSdkError::InternalFailure(format!(
                "the collector answered {:?}: {}",
                status.code(),
                status.message()
            ))),
            Err(error) => Err(OTelSdkError::InternalFailure(format!(
                "the metric export stopped: {error}"
            ))),
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        self.temporality
    }
}

/// What the OTLP metrics exporter over gRPC (the toolkit's own) takes from the environment:
/// `OTEL_EXPORTER_OTLP_METRICS_HEADERS` (else `OTEL_EXPORTER_OTLP_HEADERS`) as `key=value` pairs,
/// and whether `OTEL_EXPORTER_OTLP_METRICS_COMPRESSION` (else `OTEL_EXPORTER_OTLP_COMPRESSION`)
/// is `gzip`; nothing when `read_env` is false.
pub(crate) fn grpc_metrics_transport(read_env: bool) -> (Vec<(String, String)>, bool) {
    if !read_env {
        return (Vec::new(), false);
    }
    let get = |specific: &str, general: &str| read(specific).or_else(|| read(general));
    let headers = get(
        "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
        "OTEL_EXPORTER_OTLP_HEADERS",
    )
    .map(|v| key_value_list("OTEL_EXPORTER_OTLP_HEADERS", &v))
    .unwrap_or_default();
    let gzip = match get(
        "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
    ) {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("gzip") => true,
        Some(v) if v.eq_ignore_ascii_case("none") => false,
        Some(v) => {
            warn(&format!(
                "OTEL_EXPORTER_OTLP_COMPRESSION={v:?} is not gzip or none; sending uncompressed"
            ));
            false
        }
    };
    (headers, gzip)
}
