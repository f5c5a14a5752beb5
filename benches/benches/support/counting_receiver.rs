//! A receiver on its own runtime that only counts the spans it is sent, with the viewer's
//! counting trace service (`instrument_viewer::receiver::counting`): it stands for a collector
//! on another machine, whose decoding does not share this machine's two cores with the pipeline
//! under measurement.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use instrument_viewer::receiver::counting::CountingTraces;

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
        let service = CountingTraces::new(spans.clone());
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
