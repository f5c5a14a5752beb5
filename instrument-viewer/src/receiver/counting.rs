//! An OTLP/gRPC trace service that only counts the spans it is sent: it decodes each export
//! request down to its spans' framing and keeps each span as the bytes it arrived in, without
//! decoding its fields. It stands for a collector on another machine in throughput benchmarks,
//! whose decoding does not share the machine's cores with the pipeline under measurement (the
//! [`Sink`](super::Sink) services decode every span into the OTLP structs, as a collector does).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::{Grpc, NamedService, UnaryService};

/// An export request, down to the spans' framing.
#[derive(Clone, PartialEq, prost::Message)]
struct ExportRequest {
    #[prost(message, repeated, tag = "1")]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ResourceSpans {
    #[prost(message, repeated, tag = "2")]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ScopeSpans {
    #[prost(bytes = "bytes", repeated, tag = "2")]
    spans: Vec<prost::bytes::Bytes>,
}

/// The empty answer (no partial success).
#[derive(Clone, PartialEq, prost::Message)]
struct ExportResponse {}

/// The trace service, counting into `spans`.
#[derive(Clone, Debug)]
pub struct CountingTraces {
    spans: Arc<AtomicUsize>,
}

impl CountingTraces {
    /// A service adding the spans of each export to `spans`.
    pub fn new(spans: Arc<AtomicUsize>) -> Self {
        Self { spans }
    }
}

impl NamedService for CountingTraces {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
}

impl UnaryService<ExportRequest> for CountingTraces {
    type Response = ExportResponse;
    type Future = std::future::Ready<Result<tonic::Response<ExportResponse>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<ExportRequest>) -> Self::Future {
        let spans: usize = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        self.spans.fetch_add(spans, Ordering::Relaxed);
        std::future::ready(Ok(tonic::Response::new(ExportResponse {})))
    }
}

impl Service<http::Request<Body>> for CountingTraces {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move {
            if request.uri().path() != "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
            {
                return Ok(tonic::Status::unimplemented("traces only").into_http());
            }
            let mut grpc = Grpc::new(tonic_prost::ProstCodec::default());
            Ok(grpc.unary(service, request).await)
        })
    }
}
