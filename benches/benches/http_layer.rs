//! Added latency of `HttpLayer`: requests per second through an axum app with and without the
//! layer, on loopback, in one run. `cargo bench --bench http_layer --features axum`.
//!
//! Client and server share the machine, so requests per second reflect the whole CPU cost of a
//! request; rounds alternate between the two apps to spread the noise evenly.
//!
//! With `HTTP_LAYER_CASE=plain` or `=layer` it sends only `OVERHEAD_CALLS` requests to that app
//! and exits: `benches/instructions.sh http_layer` counts every thread's instructions per
//! request (client, server, span export), the stable figure on a shared machine.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instrument::Telemetry;
use instrument::http::HttpLayer;

#[path = "support/discard.rs"]
mod discard;
use discard::Discard;

const CONCURRENCY: usize = 16;
const ROUND: Duration = Duration::from_secs(2);
const ROUNDS: usize = 3;

fn router() -> Router {
    Router::new().route(
        "/v1/agents/{agent_id}",
        get(|Path(id): Path<String>| async move { format!("agent {id}") }),
    )
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

/// Requests per second over one round of `CONCURRENCY` clients sending back to back.
async fn round(address: SocketAddr) -> f64 {
    let deadline = Instant::now() + ROUND;
    let done = send(address, move |_| Instant::now() < deadline).await;
    done as f64 / ROUND.as_secs_f64()
}

/// Sends requests from `CONCURRENCY` clients, back to back, while `more(sent so far)`; returns
/// how many were answered.
async fn send(address: SocketAddr, more: impl Fn(u64) -> bool + Copy + Send + 'static) -> u64 {
    let started = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (started, done) = (started.clone(), done.clone());
            tokio::spawn(async move {
                let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
                let uri: http::Uri = format!("http://{address}/v1/agents/a1").parse().unwrap();
                while more(started.fetch_add(1, Ordering::Relaxed)) {
                    let response = client.get(uri.clone()).await.unwrap();
                    let _ = response.into_body().collect().await.unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    done.load(Ordering::Relaxed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _telemetry = Telemetry::builder()
        .ignore_env()
        .service_name("http-bench")
        .with_exporter(Discard)
        .with_metric_exporter(Discard)
        .install()
        .unwrap();
    if let Ok(case) = std::env::var("HTTP_LAYER_CASE") {
        let requests: u64 = std::env::var("OVERHEAD_CALLS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_000);
        let address = match case.as_str() {
            "plain" => serve(router()).await,
            "layer" => serve(router().layer(HttpLayer::new())).await,
            other => panic!("HTTP_LAYER_CASE is plain or layer, not {other}"),
        };
        send(address, move |sent| sent < requests).await;
        return;
    }
    let plain = serve(router()).await;
    let layered = serve(router().layer(HttpLayer::new())).await;
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        without.push(round(plain).await);
        with.push(round(layered).await);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (without, with) = (median(&mut without), median(&mut with));
    println!(
        "{:<28} {:>12} {:>16}",
        "app", "requests/s", "µs per request"
    );
    println!(
        "{:<28} {:>12.0} {:>16.1}",
        "axum, no layer",
        without,
        1e6 / without
    );
    println!(
        "{:<28} {:>12.0} {:>16.1}",
        "axum + HttpLayer",
        with,
        1e6 / with
    );
    println!(
        "added cost per request: {:.1} µs of machine time ({:.1}% fewer requests/s)",
        1e6 / with - 1e6 / without,
        (1.0 - with / without) * 100.0
    );
}
