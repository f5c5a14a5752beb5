//! The OTLP receiver: gRPC (traces, metrics, logs; gzip accepted) and HTTP (`/v1/traces`,
//! `/v1/metrics`, `/v1/logs`; protobuf or JSON bodies, gzip accepted), both feeding the store and
//! both served on each OTLP port.

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

use crate::store::Store;

/// The largest OTLP request accepted, compressed or not.
const MAX_REQUEST_BYTES: usize = 64 << 20;

#[derive(Clone)]
struct Grpc(Arc<Store>);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.add_traces(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.add_metrics(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.0.add_logs(request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

/// The gRPC services.
fn grpc_routes(store: Arc<Store>) -> tonic::service::Routes {
    let grpc = Grpc(store);
    tonic::service::Routes::new(
        TraceServiceServer::new(grpc.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .add_service(
        MetricsServiceServer::new(grpc.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .add_service(
        LogsServiceServer::new(grpc)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(MAX_REQUEST_BYTES),
    )
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

async fn http_traces(State(store): State<Arc<Store>>, headers: HeaderMap, body: Bytes) -> Response {
    match decode::<ExportTraceServiceRequest>(&headers, body) {
        Ok(request) => {
            store.add_traces(request);
            answer(&headers, ExportTraceServiceResponse::default())
        }
        Err(error) => (StatusCode::BAD_REQUEST, error).into_response(),
    }
}

async fn http_metrics(
    State(store): State<Arc<Store>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match decode::<ExportMetricsServiceRequest>(&headers, body) {
        Ok(request) => {
            store.add_metrics(request);
            answer(&headers, ExportMetricsServiceResponse::default())
        }
        Err(error) => (StatusCode::BAD_REQUEST, error).into_response(),
    }
}

async fn http_logs(State(store): State<Arc<Store>>, headers: HeaderMap, body: Bytes) -> Response {
    match decode::<ExportLogsServiceRequest>(&headers, body) {
        Ok(request) => {
            store.add_logs(request);
            answer(&headers, ExportLogsServiceResponse::default())
        }
        Err(error) => (StatusCode::BAD_REQUEST, error).into_response(),
    }
}

/// OTLP over both gRPC (HTTP/2, `application/grpc`) and HTTP (`POST /v1/{traces,metrics,logs}`).
pub fn otlp_routes(store: Arc<Store>) -> Router {
    grpc_routes(Arc::clone(&store))
        .into_axum_router()
        .merge(http_routes(store))
}

fn http_routes(store: Arc<Store>) -> Router {
    Router::new()
        .route("/v1/traces", post(http_traces))
        .route("/v1/metrics", post(http_metrics))
        .route("/v1/logs", post(http_logs))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(store)
}
