//! Histogram points that recorded nothing leave OTLP/HTTP without a min or max.
//!
//! The SDK exports a series that recorded nothing — one bound and never recorded into (under
//! cumulative temporality), or one whose recording raced a delta collection
//! (open-telemetry/opentelemetry-rust#3470) — as a point of count 0 whose `min` and `max` are the
//! `f64::MAX` and `-f64::MAX` its aggregation starts from. The SDK's export data cannot be
//! changed before the OTLP exporter encodes it, so the metrics client of OTLP/HTTP decodes each
//! protobuf request (`ExportMetricsServiceRequest`, with `opentelemetry-proto` and `prost`),
//! clears `min` and `max` on every histogram and exponential histogram point of count 0, and
//! encodes it again. A gzip-compressed request (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`) is
//! decompressed and compressed again around that; a request in another encoding, or one that
//! does not decode, is sent as it is. OTLP/gRPC encodes inside its exporter, out of reach, so the
//! toolkit sends metrics over gRPC with its own exporter (`grpc_metrics`), which clears them
//! before encoding.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;

/// An OTLP/HTTP client sending metric requests with the min and max of empty histogram points
/// removed.
#[derive(Debug)]
pub(crate) struct WithoutEmptyMinMax<C>(pub(crate) C);

#[async_trait::async_trait]
impl<C: HttpClient> HttpClient for WithoutEmptyMinMax<C> {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let headers = request.headers();
        let protobuf = headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes() == b"application/x-protobuf");
        let gzip = match headers.get("content-encoding") {
            None => Some(false),
            Some(v) if v.as_bytes().eq_ignore_ascii_case(b"gzip") => Some(true),
            Some(_) => None,
        };
        let request = match gzip {
            Some(gzip) if protobuf => {
                request.map(|body| rewritten(&body, gzip).map(Bytes::from).unwrap_or(body))
            }
            _ => request,
        };
        self.0.send_bytes(request).await
    }
}

/// A request body (gzip-compressed when `gzip`) with the min and max of its empty histogram
/// points removed; `None` when it has none with them (or does not decode).
fn rewritten(body: &[u8], gzip: bool) -> Option<Vec<u8>> {
    if !gzip {
        return without_empty_min_max(body);
    }
    let mut plain = Vec::new();
    GzDecoder::new(body).read_to_end(&mut plain).ok()?;
    let fixed = without_empty_min_max(&plain)?;
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len()), Compression::default());
    encoder.write_all(&fixed).ok()?;
    encoder.finish().ok()
}

/// An encoded `ExportMetricsServiceRequest` with `min` and `max` removed from its histogram
/// points of count 0; `None` when it has none with them (or does not decode).
pub(crate) fn without_empty_min_max(request: &[u8]) -> Option<Vec<u8>> {
    let mut request = ExportMetricsServiceRequest::decode(request).ok()?;
    clear_empty_min_max(&mut request).then(|| request.encode_to_vec())
}

/// Removes `min` and `max` from the histogram points of count 0 of `request`; whether it had
/// any with them.
pub(crate) fn clear_empty_min_max(request: &mut ExportMetricsServiceRequest) -> bool {
    let mut changed = false;
    let mut clear = |count: u64, min: &mut Option<f64>, max: &mut Option<f64>| {
        if count == 0 && (min.is_some() || max.is_some()) {
            (*min, *max) = (None, None);
            changed = true;
        }
    };
    let metrics = request
        .resource_metrics
        .iter_mut()
        .flat_map(|resource| &mut resource.scope_metrics)
        .flat_map(|scope| &mut scope.metrics);
    for metric in metrics {
        match &mut metric.data {
            Some(Data::Histogram(histogram)) => {
                for p in &mut histogram.data_points {
                    clear(p.count, &mut p.min, &mut p.max);
                }
            }
            Some(Data::ExponentialHistogram(histogram)) => {
                for p in &mut histogram.data_points {
                    clear(p.count, &mut p.min, &mut p.max);
                }
            }
            _ => {}
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::metrics::v1::{
        ExponentialHistogram, ExponentialHistogramDataPoint, Histogram, HistogramDataPoint, Metric,
        ResourceMetrics, ScopeMetrics,
    };

    use super::*;

    /// A request holding one metric with `data`.
    fn request(data: Data) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "hist_ms".into(),
                        data: Some(data),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn histogram(points: Vec<HistogramDataPoint>) -> Data {
        Data::Histogram(Histogram {
            data_points: points,
            aggregation_temporality: 2,
        })
    }

    /// An explicit-bucket point on route `route` with `count`, a sum, bucket counts, and min and
    /// max.
    fn explicit_point(route: &str, count: u64, min_max: Option<(f64, f64)>) -> HistogramDataPoint {
        HistogramDataPoint {
            attributes: vec![KeyValue {
                key: "route".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(route.into())),
                }),
                ..Default::default()
            }],
            count,
            sum: Some(3.0 * count as f64),
            bucket_counts: vec![0, count],
            explicit_bounds: vec![2.0],
            min: min_max.map(|(min, _)| min),
            max: min_max.map(|(_, max)| max),
            ..Default::default()
        }
    }

    const SENTINELS: Option<(f64, f64)> = Some((f64::MAX, -f64::MAX));

    #[test]
    fn an_empty_point_loses_min_and_max_and_keeps_the_rest() {
        let used = explicit_point("/busy", 2, Some((1.0, 5.0)));
        let sent = request(histogram(vec![
            explicit_point("/idle", 0, SENTINELS),
            used.clone(),
        ]));
        let rewritten = without_empty_min_max(&sent.encode_to_vec()).expect("an empty point");
        assert_eq!(
            ExportMetricsServiceRequest::decode(rewritten.as_slice()).unwrap(),
            request(histogram(vec![explicit_point("/idle", 0, None), used]))
        );
    }

    #[test]
    fn points_that_recorded_something_are_left_as_they_are() {
        let sent = request(histogram(vec![explicit_point(
            "/busy",
            2,
            Some((1.0, 5.0)),
        )]));
        assert_eq!(without_empty_min_max(&sent.encode_to_vec()), None);
        let without = request(histogram(vec![explicit_point("/idle", 0, None)]));
        assert_eq!(without_empty_min_max(&without.encode_to_vec()), None);
    }

    #[test]
    fn exponential_points_lose_their_min_and_max() {
        let point = |count, min_max: Option<(f64, f64)>| ExponentialHistogramDataPoint {
            count,
            scale: 20,
            min: min_max.map(|(min, _)| min),
            max: min_max.map(|(_, max)| max),
            ..Default::default()
        };
        let data = |points| {
            Data::ExponentialHistogram(ExponentialHistogram {
                data_points: points,
                aggregation_temporality: 1,
            })
        };
        let used = point(1, Some((2.0, 2.0)));
        let sent = request(data(vec![point(0, SENTINELS), used.clone()]));
        let rewritten = without_empty_min_max(&sent.encode_to_vec()).unwrap();
        assert_eq!(
            ExportMetricsServiceRequest::decode(rewritten.as_slice()).unwrap(),
            request(data(vec![point(0, None), used]))
        );
    }

    #[test]
    fn a_request_that_does_not_decode_is_left_alone() {
        let mut sent =
            request(histogram(vec![explicit_point("/idle", 0, SENTINELS)])).encode_to_vec();
        sent.truncate(sent.len() - 3);
        assert_eq!(without_empty_min_max(&sent), None);
        assert_eq!(without_empty_min_max(&[0xff; 12]), None);
    }

    /// An HTTP client keeping the body it was asked to send.
    #[derive(Debug, Default)]
    struct Sent(std::sync::Mutex<Option<Bytes>>);

    #[async_trait::async_trait]
    impl HttpClient for Sent {
        async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
            *self.0.lock().unwrap() = Some(request.into_body());
            Ok(Response::new(Bytes::new()))
        }
    }

    /// The body `client` sends for a protobuf request of `body` in `encoding`.
    fn sent_body(
        client: &WithoutEmptyMinMax<Sent>,
        body: Vec<u8>,
        encoding: Option<&str>,
    ) -> Bytes {
        let mut request = Request::builder().header("content-type", "application/x-protobuf");
        if let Some(encoding) = encoding {
            request = request.header("content-encoding", encoding);
        }
        let request = request.body(Bytes::from(body)).unwrap();
        futures_executor::block_on(client.send_bytes(request)).unwrap();
        client.0.0.lock().unwrap().take().unwrap()
    }

    #[test]
    fn gzip_requests_are_decompressed_fixed_and_compressed_again() {
        let client = WithoutEmptyMinMax(Sent::default());
        let sent = request(histogram(vec![explicit_point("/idle", 0, SENTINELS)]));
        let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
        gzip.write_all(&sent.encode_to_vec()).unwrap();
        let body = sent_body(&client, gzip.finish().unwrap(), Some("gzip"));
        let mut plain = Vec::new();
        GzDecoder::new(&body[..]).read_to_end(&mut plain).unwrap();
        assert_eq!(
            ExportMetricsServiceRequest::decode(plain.as_slice()).unwrap(),
            request(histogram(vec![explicit_point("/idle", 0, None)]))
        );

        let plain = sent_body(&client, sent.encode_to_vec(), None);
        assert_eq!(
            plain,
            request(histogram(vec![explicit_point("/idle", 0, None)])).encode_to_vec()
        );
        let other = sent_body(&client, sent.encode_to_vec(), Some("zstd"));
        assert_eq!(
            other,
            sent.encode_to_vec(),
            "another encoding is sent as it is"
        );
    }
}
