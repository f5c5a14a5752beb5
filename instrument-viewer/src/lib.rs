//! A local trace viewer: an OTLP receiver (gRPC on 4317, HTTP/protobuf and JSON on 4318, each
//! port answering both protocols), a
//! bounded in-memory store, and a one-page web UI (default <http://127.0.0.1:18888>) showing the
//! traces, logs and metrics of the services on this machine — any OpenTelemetry SDK's, not only
//! the `instrument` toolkit's. No collector, no account, no JavaScript build step.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let viewer = instrument_viewer::Viewer::start(instrument_viewer::ViewerConfig::default()).await?;
//! println!("open http://{}", viewer.ui_address());
//! viewer.wait().await;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod file;
pub mod receiver;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{Command, ConfigError, USAGE, ViewerConfig};
pub use store::{Limits, Stats, Store};

/// A running viewer: its three listeners and its store.
pub struct Viewer {
    store: Arc<Store>,
    grpc: SocketAddr,
    http: SocketAddr,
    ui: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

async fn bind(address: SocketAddr, what: &str) -> std::io::Result<TcpListener> {
    TcpListener::bind(address).await.map_err(|error| {
        std::io::Error::new(
            error.kind(),
            format!("cannot listen for {what} on {address}: {error}"),
        )
    })
}

impl Viewer {
    /// Binds the three listeners, loads the files to open, and starts serving on the current
    /// tokio runtime. Fails with a clear error on a refused setting or a taken port.
    pub async fn start(config: ViewerConfig) -> std::io::Result<Self> {
        config
            .check()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::PermissionDenied, e.0))?;
        let store = Store::new(config.limits);
        for path in &config.open {
            let loaded = file::load(path, &store).map_err(|error| {
                std::io::Error::new(
                    error.kind(),
                    format!("cannot open {}: {error}", path.display()),
                )
            })?;
            eprintln!(
                "instrument-viewer: {} loaded: {} trace, {} metrics and {} logs lines ({} skipped)",
                path.display(),
                loaded.trace_lines,
                loaded.metric_lines,
                loaded.log_lines,
                loaded.skipped_lines
            );
        }
        let grpc = bind(config.grpc, "OTLP/gRPC").await?;
        let http = bind(config.http, "OTLP/HTTP").await?;
        let ui = bind(config.ui, "the UI").await?;
        let addresses = (grpc.local_addr()?, http.local_addr()?, ui.local_addr()?);
        // Each OTLP port answers both protocols, so an SDK pointed at the other port still works.
        let otlp = receiver::otlp_routes(Arc::clone(&store));
        let tasks = vec![
            serve(grpc, otlp.clone(), "OTLP/gRPC"),
            serve(http, otlp, "OTLP/HTTP"),
            serve(ui, api::ui_routes(Arc::clone(&store)), "UI"),
        ];
        Ok(Self {
            store,
            grpc: addresses.0,
            http: addresses.1,
            ui: addresses.2,
            tasks,
        })
    }

    /// The store the receiver feeds.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Where OTLP/gRPC is received.
    pub fn grpc_address(&self) -> SocketAddr {
        self.grpc
    }

    /// Where OTLP/HTTP is received.
    pub fn http_address(&self) -> SocketAddr {
        self.http
    }

    /// Where the UI is served.
    pub fn ui_address(&self) -> SocketAddr {
        self.ui
    }

    /// Serves until the process ends.
    pub async fn wait(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Serves `router` on `listener`, every connection with Nagle's algorithm off: with it on, a small
/// reply to an exporter's large request waits for the exporter's delayed acknowledgement (about
/// 40 ms on Linux) every few batches, which halves what a busy service can send.
fn serve(listener: TcpListener, router: axum::Router, what: &'static str) -> JoinHandle<()> {
    use axum::serve::ListenerExt as _;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            eprintln!("instrument-viewer: the {what} server stopped: {error}");
        }
    })
}
