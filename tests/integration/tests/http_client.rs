//! Outbound calls: one CLIENT span per request, through the reqwest middleware and the tower
//! client layer, with the `traceparent` each request carried naming that span.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

#[path = "../../support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instrument::http::{HttpClientLayer, HttpLayer, TracingMiddleware};
use instrument::trace_method;
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::SpanData;
use support::{attr, spans, start};
use tower::{Layer as _, Service as _};

/// The `traceparent`s the server received, in arrival order.
type Received = Arc<Mutex<Vec<String>>>;

async fn record(State(received): State<Received>, headers: HeaderMap) -> &'static str {
    if let Some(value) = headers.get("traceparent") {
        received
            .lock()
            .unwrap()
            .push(value.to_str().unwrap().to_owned());
    }
    "ok"
}

async fn recording_server() -> (SocketAddr, Received) {
    let received = Received::default();
    let app = Router::new()
        .route("/echo", get(record))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, received)
}

#[trace_method]
async fn call_out(client: &reqwest_middleware::ClientWithMiddleware, url: &str) -> usize {
    for _ in 0..3 {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let concurrent = (0..3).map(|_| async { client.get(url).send().await.unwrap().status() });
    futures_util::future::join_all(concurrent).await.len()
}

/// Checks that each received `traceparent` names a distinct CLIENT span of `exported` in the
/// trace and under the parent `parent`.
fn each_request_names_its_client_span(
    exported: &[SpanData],
    received: &[String],
    parent: &SpanData,
) {
    let clients: Vec<&SpanData> = exported
        .iter()
        .filter(|s| s.span_kind == SpanKind::Client)
        .collect();
    assert_eq!(clients.len(), received.len());
    let mut named = Vec::new();
    for value in received {
        let fields: Vec<&str> = value.split('-').collect();
        assert_eq!(
            fields[1],
            format!("{:032x}", parent.span_context.trace_id()),
            "{value}"
        );
        let client = clients
            .iter()
            .find(|c| format!("{:016x}", c.span_context.span_id()) == fields[2])
            .unwrap_or_else(|| panic!("{value} names no CLIENT span"));
        assert_eq!(client.parent_span_id, parent.span_context.span_id());
        assert_eq!(attr(client, "http.request.method").as_deref(), Some("GET"));
        assert_eq!(
            attr(client, "http.response.status_code").as_deref(),
            Some("200")
        );
        assert_eq!(attr(client, "server.address").as_deref(), Some("127.0.0.1"));
        assert!(attr(client, "url.full").unwrap().ends_with("/echo"));
        named.push(fields[2].to_owned());
    }
    named.sort();
    named.dedup();
    assert_eq!(
        named.len(),
        received.len(),
        "every request carried its own span id"
    );
}

#[test]
fn reqwest_sequential_and_concurrent_calls_each_get_a_client_span() {
    support::run_multi_thread(async move {
        let _guard = start();
        let (address, received) = recording_server().await;
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(TracingMiddleware)
            .build();
        let _ = spans();
        assert_eq!(
            call_out(&client, &format!("http://{address}/echo")).await,
            3
        );
        let exported = spans();
        let parent = exported.iter().find(|s| s.name == "call_out").unwrap();
        let received = received.lock().unwrap().clone();
        assert_eq!(received.len(), 6);
        each_request_names_its_client_span(&exported, &received, parent);
    })
}

#[test]
fn client_urls_keep_no_credentials_or_secret_query_parameters() {
    support::run_multi_thread(async move {
        let _guard = start();
        let (address, _received) = recording_server().await;
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(TracingMiddleware)
            .build();
        let _ = spans();
        let url = format!("http://agent:SECRET@{address}/echo?api_key=SECRET&page=2");
        client.get(&url).send().await.unwrap();
        let exported = spans();
        let client_span = exported
            .iter()
            .find(|s| s.span_kind == SpanKind::Client)
            .unwrap();
        assert_eq!(
            attr(client_span, "url.full"),
            Some(format!("http://{address}/echo?api_key=[redacted]&page=2"))
        );
        assert!(
            !client_span
                .attributes
                .iter()
                .any(|kv| kv.value.as_str().contains("SECRET"))
        );
    })
}

async fn handler_calling_out(State(target): State<SocketAddr>) -> &'static str {
    let mut client =
        HttpClientLayer.layer(Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>());
    for _ in 0..3 {
        let request = http::Request::get(format!("http://{target}/echo"))
            .body(Empty::new())
            .unwrap();
        let response = client.call(request).await.unwrap();
        response.into_body().collect().await.unwrap();
    }
    "done"
}

#[test]
fn three_calls_from_one_handler_carry_three_client_spans() {
    support::run_multi_thread(async move {
        let _guard = start();
        let (target, received) = recording_server().await;
        let app = Router::new()
            .route("/fan-out", get(handler_calling_out))
            .with_state(target)
            .layer(HttpLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let _ = spans();
        let response = reqwest::get(format!("http://{address}/fan-out"))
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "done");
        let exported = support::wait_for_spans(4);
        let server = exported
            .iter()
            .find(|s| s.span_kind == SpanKind::Server)
            .unwrap();
        let received = received.lock().unwrap().clone();
        assert_eq!(received.len(), 3);
        each_request_names_its_client_span(&exported, &received, server);
    })
}

#[test]
fn the_client_span_is_the_current_context_while_the_inner_service_runs() {
    support::run_multi_thread(async move {
        use opentelemetry::trace::TraceContextExt as _;

        let _t = start();
        // An inner service that only knows the OpenTelemetry API: what `Context::current()` holds
        // when it is called and when its future is polled.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let inner = {
            let seen = seen.clone();
            tower::service_fn(move |_request: http::Request<Empty<Bytes>>| {
                let at_call = opentelemetry::Context::current()
                    .span()
                    .span_context()
                    .span_id();
                let seen = seen.clone();
                async move {
                    let at_poll = opentelemetry::Context::current()
                        .span()
                        .span_context()
                        .span_id();
                    seen.lock().unwrap().push((at_call, at_poll));
                    Ok::<_, std::convert::Infallible>(http::Response::new(Empty::<Bytes>::new()))
                }
            })
        };
        let mut client = HttpClientLayer.layer(inner);
        let request = http::Request::get("http://127.0.0.1:9/x")
            .body(Empty::<Bytes>::new())
            .unwrap();
        client.call(request).await.unwrap();
        let all = spans();
        let span = all
            .iter()
            .find(|s| {
                s.span_kind == SpanKind::Client
                    && attr(s, "url.full").is_some_and(|u| u.ends_with("/x"))
            })
            .expect("the CLIENT span was exported");
        let id = span.span_context.span_id();
        assert_eq!(*seen.lock().unwrap(), vec![(id, id)]);
    })
}
