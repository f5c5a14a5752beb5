//! An OTLP/gRPC trace receiver that only counts the spans it is sent: it decodes each export
//! request down to its spans' framing and keeps each span as the bytes it arrived in, without
//! decoding its fields. It stands for a collector on another machine, whose decoding does not
//! share this machine's two cores with the pipeline under measurement (the shared test receiver
//! decodes every span into the OTLP structs, as a collector does).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service};
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
    spans: Vec<bytes::Bytes>,
}

/// The empty answer (no partial success).
#[derive(Clone, PartialEq, prost::Message)]
struct ExportResponse {}

/// The trace service, counting into `spans`.
#[derive(Clone)]
struct TraceService {
    spans: Arc<AtomicUsize>,
}

impl NamedService for TraceService {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
}

impl UnaryService<ExportRequest> for TraceService {
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

impl Service<http::Request<Body>> for TraceService {
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

/// A counting receiver on 127.0.0.1, on a runtime (one worker thread) of its own.
pub struct CountingReceiver {
    address: SocketAddr,
    spans: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

impl CountingReceiver {
    /// Listens on a free port.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let spans = Arc::new(AtomicUsize::new(0));
        let service = TraceService {
            spans: spans.clone(),
        };
        let _entered = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        runtime.spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(crate::receiver::nodelay(listener)),
        );
        Self {
            address,
            spans,
            _runtime: runtime,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Spans received so far.
    pub fn span_count(&self) -> usize {
        self.spans.load(Ordering::Relaxed)
    }
}
