//! The OTLP receiver of the toolkit, used by the viewer, the tests and the benchmarks: gRPC
//! (traces, metrics, logs; gzip accepted) and HTTP (`/v1/traces`, `/v1/metrics`, `/v1/logs`;
//! protobuf or JSON bodies, gzip accepted), both feeding a [`Sink`] (the viewer's is its store)
//! and both served on each of the viewer's OTLP ports. [`counting`] is a trace service that only
//! counts spans, for throughput benchmarks.

pub mod counting;

use std::io::Read;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::codec::CompressionEncoding;
use tonic::service::interceptor::InterceptedService;

use crate::store::Store;

/// Where a receiver puts what it is sent.
pub trait Sink: Send + Sync + 'static {
    /// Whether to take the export that just arrived (called once per request, before it is
    /// decoded); `false` refuses it: gRPC `UNAVAILABLE`, HTTP 503.
    fn admit(&self) -> impl Future<Output = bool> + Send {
        std::future::ready(true)
    }
    /// A trace export request.
    fn traces(&self, request: ExportTraceServiceRequest);
    /// A metric export request.
    fn metrics(&self, request: ExportMetricsServiceRequest);
    /// A log export request.
    fn logs(&self, request: ExportLogsServiceRequest);
}

impl Sink for Store {
    fn traces(&self, request: ExportTraceServiceRequest) {
        self.add_traces(request);
    }

    fn metrics(&self, request: ExportMetricsServiceRequest) {
        self.add_metrics(request);
    }

    fn logs(&self, request: ExportLogsServiceRequest) {
        self.add_logs(request);
    }
}

/// The refusal of an export [`Sink::admit`] did not take.
fn refused_grpc() -> tonic::Status {
    tonic::Status::unavailable("the receiver refuses exports for now")
}

/// The largest OTLP request accepted, compressed or not.
const MAX_REQUEST_BYTES: usize = 64 << 20;

/// The gRPC services over a sink.
struct Grpc<S>(Arc<S>);

impl<S> Clone for Grpc<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

#[tonic::async_trait]
impl<S: Sink> TraceService for Grpc<S> {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        if !self.0.admit().await {
            return Err(refused_grpc());
        }
        self.0.traces(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl<S: Sink> MetricsService for Grpc<S> {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        if !self.0.admit().await {
            return Err(refused_grpc());
        }
        self.0.metrics(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl<S: Sink> LogsService for Grpc<S> {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        if !self.0.admit().await {
            return Err(refused_grpc());
        }
        self.0.logs(request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

/// The gRPC services (traces, metrics, logs) over `sink`.
pub fn grpc_routes<S: Sink>(sink: Arc<S>) -> tonic::service::Routes {
    grpc_routes_with(sink, Ok)
}

/// The gRPC services over `sink`, each request first through `interceptor` (which may refuse
/// it, as an authenticating collector does).
pub fn grpc_routes_with<S: Sink, I>(sink: Arc<S>, interceptor: I) -> tonic::service::Routes
where
    I: tonic::service::Interceptor + Clone + Send + Sync + 'static,
{
    let grpc = Grpc(sink);
    tonic::service::Routes::new(InterceptedService::new(
        TraceServiceServer::new(grpc.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_REQUEST_BYTES),
        interceptor.clone(),
    ))
    .add_service(InterceptedService::new(
        MetricsServiceServer::new(grpc.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_REQUEST_BYTES),
        interceptor.clone(),
    ))
    .add_service(InterceptedService::new(
        LogsServiceServer::new(grpc)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_REQUEST_BYTES),
        interceptor,
    ))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The body, gunzipped when it says it is gzip.
fn plain_body(headers: &HeaderMap, body: Bytes) -> Result<Bytes, String> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    if !gzip {
        return Ok(body);
    }
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut plain)
        .map_err(|e| format!("the gzip body does not decompress: {e}"))?;
    if plain.len() > MAX_REQUEST_BYTES {
        return Err(format!(
            "the body decompresses to more than {MAX_REQUEST_BYTES} bytes"
        ));
    }
    Ok(plain.into())
}

/// An OTLP/HTTP body (protobuf or JSON) decoded, or why it cannot be.
pub fn decode<T: Message + Default + DeserializeOwned>(
    headers: &HeaderMap,
    body: Bytes,
) -> Result<T, String> {
    let body = plain_body(headers, body)?;
    if is_json(headers) {
        serde_json::from_slice(&body).map_err(|e| format!("not OTLP/JSON: {e}"))
    } else {
        T::decode(body.as_ref()).map_err(|e| format!("not OTLP/protobuf: {e}"))
    }
}

/// The success answer, in the request's encoding.
fn answer<T: Message + Serialize>(headers: &HeaderMap, response: T) -> Response {
    if is_json(headers) {
        (
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_vec(&response).unwrap_or_default(),
        )
            .into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            response.encode_to_vec(),
        )
            .into_response()
    }
}

/// One OTLP/HTTP export: admitted, decoded and handed to the sink, or refused.
async fn export<
    S: Sink,
    T: Message + Default + DeserializeOwned,
    R: Message + Serialize + Default,
>(
    sink: &S,
    headers: &HeaderMap,
    body: Bytes,
    take: impl FnOnce(&S, T),
) -> Response {
    if !sink.admit().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the receiver refuses exports for now",
        )
            .into_response();
    }
    match decode::<T>(headers, body) {
        Ok(request) => {
            take(sink, request);
            answer(headers, R::default())
        }
        Err(error) => (StatusCode::BAD_REQUEST, error).into_response(),
    }
}

async fn http_traces<S: Sink>(
    State(sink): State<Arc<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    export::<S, ExportTraceServiceRequest, ExportTraceServiceResponse>(
        &sink,
        &headers,
        body,
        S::traces,
    )
    .await
}

async fn http_metrics<S: Sink>(
    State(sink): State<Arc<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    export::<S, ExportMetricsServiceRequest, ExportMetricsServiceResponse>(
        &sink,
        &headers,
        body,
        S::metrics,
    )
    .await
}

async fn http_logs<S: Sink>(
    State(sink): State<Arc<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    export::<S, ExportLogsServiceRequest, ExportLogsServiceResponse>(&sink, &headers, body, S::logs)
        .await
}

/// OTLP over both gRPC (HTTP/2, `application/grpc`) and HTTP (`POST /v1/{traces,metrics,logs}`).
pub fn otlp_routes<S: Sink>(sink: Arc<S>) -> Router {
    grpc_routes(Arc::clone(&sink))
        .into_axum_router()
        .merge(http_routes(sink))
}

/// OTLP/HTTP: `POST /v1/traces`, `/v1/metrics`, `/v1/logs`, protobuf or JSON, gzip or not.
pub fn http_routes<S: Sink>(sink: Arc<S>) -> Router {
    Router::new()
        .route("/v1/traces", post(http_traces::<S>))
        .route("/v1/metrics", post(http_metrics::<S>))
        .route("/v1/logs", post(http_logs::<S>))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(sink)
}
