//! A test OTLP receiver on 127.0.0.1 speaking OTLP/gRPC or OTLP/HTTP (protobuf and JSON), the
//! viewer's receiver (`instrument_viewer::receiver`) over a sink that stores what it receives and can be told to misbehave: refuse the next N exports
//! (`UNAVAILABLE` / 503), delay every answer, or stop and restart on the same port. Each start
//! runs on a runtime of its own, so stopping it drops every open connection, as a killed
//! collector would.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use instrument_viewer::receiver::{Sink, grpc_routes_with, http_routes};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;

#[path = "tls.rs"]
pub mod tls;

/// TLS and the `authorization` value a secure receiver demands.
#[derive(Clone)]
pub struct Security {
    pub pki: Arc<tls::TestPki>,
    pub authorization: String,
}

/// Counts `request` in `received` when its body is gzip (`Content-Encoding: gzip`).
fn count_gzip(request: &axum::extract::Request, received: &Received) {
    if request
        .headers()
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes() == b"gzip")
    {
        received.gzip_requests.fetch_add(1, Ordering::Relaxed);
    }
}

/// Checks the `authorization` metadata of gRPC requests when one is demanded, and counts the
/// gzip-compressed ones.
#[derive(Clone)]
struct Authorization(Option<String>, Arc<Received>);

impl tonic::service::Interceptor for Authorization {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if request
            .metadata()
            .get("grpc-encoding")
            .is_some_and(|v| v.as_bytes() == b"gzip")
        {
            self.1.gzip_requests.fetch_add(1, Ordering::Relaxed);
        }
        match &self.0 {
            Some(wanted)
                if request
                    .metadata()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    != Some(wanted.as_str()) =>
            {
                Err(tonic::Status::unauthenticated("no valid authorization"))
            }
            _ => Ok(request),
        }
    }
}

/// How the receiver speaks OTLP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP: `/v1/traces`, `/v1/metrics` and `/v1/logs`, protobuf or JSON bodies.
    Http,
}

/// What the receiver got, and its faults.
#[derive(Default)]
pub struct Received {
    trace_requests: Mutex<Vec<ExportTraceServiceRequest>>,
    spans: Mutex<Vec<Span>>,
    span_count: AtomicUsize,
    metric_requests: Mutex<Vec<ExportMetricsServiceRequest>>,
    log_records: Mutex<Vec<LogRecord>>,
    attempts: AtomicUsize,
    refused: AtomicUsize,
    refuse_next: AtomicUsize,
    delay_ms: AtomicU64,
    count_only: AtomicBool,
    gzip_requests: AtomicUsize,
}

impl Received {
    /// Whether to refuse this export (counting the attempt either way).
    async fn admit(&self) -> bool {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let delay = self.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let refuse = self
            .refuse_next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if refuse {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        !refuse
    }

    fn store_spans(&self, request: ExportTraceServiceRequest) {
        if !self.count_only.load(Ordering::Relaxed) {
            self.trace_requests.lock().unwrap().push(request.clone());
        }
        let spans = request
            .resource_spans
            .into_iter()
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans);
        if self.count_only.load(Ordering::Relaxed) {
            self.span_count.fetch_add(spans.count(), Ordering::Relaxed);
        } else {
            let mut stored = self.spans.lock().unwrap();
            let before = stored.len();
            stored.extend(spans);
            self.span_count
                .fetch_add(stored.len() - before, Ordering::Relaxed);
        }
    }

    fn store_metrics(&self, request: ExportMetricsServiceRequest) {
        self.metric_requests.lock().unwrap().push(request);
    }

    fn store_logs(&self, request: ExportLogsServiceRequest) {
        let records = request
            .resource_logs
            .into_iter()
            .flat_map(|r| r.scope_logs)
            .flat_map(|s| s.log_records);
        self.log_records.lock().unwrap().extend(records);
    }
}

impl Sink for Received {
    fn admit(&self) -> impl std::future::Future<Output = bool> + Send {
        Received::admit(self)
    }

    fn traces(&self, request: ExportTraceServiceRequest) {
        self.store_spans(request);
    }

    fn metrics(&self, request: ExportMetricsServiceRequest) {
        self.store_metrics(request);
    }

    fn logs(&self, request: ExportLogsServiceRequest) {
        self.store_logs(request);
    }
}

/// A running (or stopped) receiver.
pub struct Receiver {
    received: Arc<Received>,
    address: SocketAddr,
    wire: Wire,
    runtime: Option<tokio::runtime::Runtime>,
    security: Option<Security>,
}

impl Receiver {
    /// Starts a receiver on a free port.
    pub fn start(wire: Wire) -> Self {
        let mut receiver = Self {
            received: Arc::default(),
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            wire,
            runtime: None,
            security: None,
        };
        receiver.restart();
        receiver
    }

    /// Starts a receiver on a free port that speaks TLS with `security`'s certificate and
    /// refuses exports without its `authorization` value (gRPC `UNAUTHENTICATED`, HTTP 401).
    pub fn start_secure(wire: Wire, security: Security) -> Self {
        let mut receiver = Self {
            received: Arc::default(),
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            wire,
            runtime: None,
            security: Some(security),
        };
        receiver.restart();
        receiver
    }

    /// A port nothing listens on yet: start a receiver there later with [`Receiver::start_on`].
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// Starts a receiver on `port`.
    pub fn start_on(wire: Wire, port: u16) -> Self {
        let mut receiver = Self {
            received: Arc::default(),
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            wire,
            runtime: None,
            security: None,
        };
        receiver.restart();
        receiver
    }

    /// `http://127.0.0.1:<port>`, or `https://localhost:<port>` for a secure receiver.
    pub fn endpoint(&self) -> String {
        match self.security {
            Some(_) => format!("https://localhost:{}", self.address.port()),
            None => format!("http://{}", self.address),
        }
    }

    /// Stops listening and drops every open connection.
    pub fn stop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Listens again on the same port (retrying while the old socket lingers).
    pub fn restart(&mut self) {
        self.stop();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match std::net::TcpListener::bind(self.address) {
                Ok(listener) => break listener,
                Err(error) if Instant::now() > deadline => panic!("cannot listen: {error}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        self.address = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        // Entering (not blocking on) the runtime works from inside another runtime too.
        let _entered = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let received = self.received.clone();
        let authorization = Authorization(
            self.security.as_ref().map(|s| s.authorization.clone()),
            received.clone(),
        );
        match self.wire {
            Wire::Grpc => {
                let mut server = tonic::transport::Server::builder();
                if let Some(security) = &self.security {
                    let identity = tonic::transport::Identity::from_pem(
                        &security.pki.server_cert_pem,
                        &security.pki.server_key_pem,
                    );
                    server = server
                        .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
                        .unwrap();
                }
                runtime.spawn(
                    server
                        .add_routes(grpc_routes_with(received, authorization))
                        .serve_with_incoming(nodelay(listener)),
                );
            }
            Wire::Http => {
                let (wanted, counted) = (authorization.0, authorization.1);
                let app = http_routes(received).layer(axum::middleware::from_fn(
                    move |request: axum::extract::Request, next: axum::middleware::Next| {
                        count_gzip(&request, &counted);
                        let given = request
                            .headers()
                            .get(header::AUTHORIZATION)
                            .and_then(|v| v.to_str().ok());
                        let allowed = match &wanted {
                            Some(wanted) => given == Some(wanted.as_str()),
                            None => true,
                        };
                        async move {
                            if allowed {
                                next.run(request).await
                            } else {
                                StatusCode::UNAUTHORIZED.into_response()
                            }
                        }
                    },
                ));
                match &self.security {
                    Some(security) => {
                        let config = tls::server_config(&security.pki, &[b"h2", b"http/1.1"]);
                        runtime.spawn(tls::serve_https(listener, app, config));
                    }
                    None => {
                        use axum::serve::ListenerExt as _;
                        let listener = listener.tap_io(|tcp| {
                            let _ = tcp.set_nodelay(true);
                        });
                        runtime.spawn(async move { axum::serve(listener, app).await });
                    }
                }
            }
        }
        self.runtime = Some(runtime);
    }

    /// Refuses the next `count` exports.
    pub fn refuse_next(&self, count: usize) {
        self.received.refuse_next.store(count, Ordering::Relaxed);
    }

    /// Waits `delay` before answering each export.
    pub fn delay_each(&self, delay: Duration) {
        self.received
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    /// Counts spans without keeping them (for runs of millions).
    pub fn count_only(&self) {
        self.received.count_only.store(true, Ordering::Relaxed);
    }

    /// Spans received so far.
    pub fn span_count(&self) -> usize {
        self.received.span_count.load(Ordering::Relaxed)
    }

    /// The names of the spans received so far, in arrival order.
    pub fn span_names(&self) -> Vec<String> {
        self.spans().into_iter().map(|s| s.name).collect()
    }

    /// The spans received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.received.spans.lock().unwrap().clone()
    }

    /// Trace export requests received so far, whole (resource and scope included).
    pub fn trace_requests(&self) -> Vec<ExportTraceServiceRequest> {
        self.received.trace_requests.lock().unwrap().clone()
    }

    /// Metric export requests received so far.
    pub fn metric_requests(&self) -> Vec<ExportMetricsServiceRequest> {
        self.received.metric_requests.lock().unwrap().clone()
    }

    /// Log records received so far.
    pub fn log_records(&self) -> Vec<LogRecord> {
        self.received.log_records.lock().unwrap().clone()
    }

    /// Export requests that arrived (answered or refused).
    pub fn attempts(&self) -> usize {
        self.received.attempts.load(Ordering::Relaxed)
    }

    /// Export requests refused.
    pub fn refused(&self) -> usize {
        self.received.refused.load(Ordering::Relaxed)
    }

    /// Exports that arrived gzip-compressed.
    pub fn gzip_requests(&self) -> usize {
        self.received.gzip_requests.load(Ordering::Relaxed)
    }

    /// Waits until `count` spans arrived or `timeout` passed; whether they did.
    pub fn wait_for_spans(&self, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.span_count() < count {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The connections `listener` accepts, each with Nagle's algorithm off, as the OpenTelemetry
/// Collector's servers set them (the HTTP one through `tap_io`): with it on, a small reply waits
/// for the exporter's delayed acknowledgement (about 40 ms on Linux) every few batches.
pub fn nodelay(
    listener: tokio::net::TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt as _;
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}
