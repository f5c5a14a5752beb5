//! An axum service instrumented with `HttpLayer`, called by a client through `HttpClientLayer`:
//! `cargo run --example axum_server --features axum`.
//!
//! The example starts the server on 127.0.0.1 (a free port), sends a few requests to it —
//! a normal one, one with headers that become context attributes, a 404, an error returned as
//! `HttpError`, a handler panic, a health check (excluded) — prints the answers, and exits. The
//! span trees and the metrics summary are printed on stderr at the end.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instrument::http::{HttpClientLayer, HttpConfig, HttpError, HttpLayer};
use instrument::{metric, trace_method};
use tower::{Layer, Service};

#[trace_method]
#[metric(histogram = "hist_agent_lookup_ms")]
async fn find_agent(agent_id: &str) -> Result<String, HttpError> {
    tokio::task::yield_now().await;
    match agent_id {
        "missing" => Err(HttpError::new(
            http::StatusCode::NOT_FOUND,
            format!("no agent {agent_id}"),
        )),
        "broken" => Err(HttpError::internal("the agent store is unreachable")),
        _ => Ok(format!("agent {agent_id}")),
    }
}

async fn get_agent(Path(agent_id): Path<String>) -> Result<String, HttpError> {
    find_agent(&agent_id).await
}

async fn send_message(Path(agent_id): Path<String>, body: String) -> String {
    format!("{agent_id} received {} bytes", body.len())
}

async fn crash() -> String {
    panic!("the handler crashed")
}

fn app() -> Router {
    let config = HttpConfig::default()
        .trace_id_header("x-trace-id")
        .expect("a valid header name");
    Router::new()
        .route("/v1/agents/{agent_id}", get(get_agent))
        .route("/v1/agents/{agent_id}/messages", post(send_message))
        .route("/v1/crash", get(crash))
        .route("/v1/health", get(|| async { "ok" }))
        .layer(HttpLayer::with_config(config))
}

async fn call(address: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) {
    let mut client =
        HttpClientLayer.layer(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{address}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from("hello")))
        .expect("a valid request");
    match client.call(request).await {
        Ok(response) => {
            let status = response.status();
            let trace_id = response
                .headers()
                .get("x-trace-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned();
            let body = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            println!(
                "{method} {path} -> {status} trace_id={trace_id} {}",
                String::from_utf8_lossy(&body)
            );
        }
        Err(error) => println!("{method} {path} -> failed: {error}"),
    }
}

#[tokio::main]
async fn main() {
    let _telemetry = instrument::Telemetry::builder()
        .service_name("axum_server")
        .install()
        .unwrap_or_else(|error| {
            eprintln!("telemetry off: {error}");
            instrument::TelemetryGuard::inert()
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("a bound address");
    let server = tokio::spawn(async move { axum::serve(listener, app()).await });

    call(address, "GET", "/v1/agents/agent-1", &[]).await;
    call(
        address,
        "POST",
        "/v1/agents/agent-1/messages",
        &[("x-organization-id", "org-7"), ("user_id", "u-1")],
    )
    .await;
    call(address, "GET", "/v1/agents/missing", &[]).await;
    call(address, "GET", "/v1/agents/broken", &[]).await;
    call(address, "GET", "/v1/crash", &[]).await;
    call(address, "GET", "/v1/health", &[]).await;
    call(address, "GET", "/no/such/route", &[]).await;

    server.abort();
}
