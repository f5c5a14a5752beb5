//! The HTTP layers against real servers: axum apps bound to 127.0.0.1:0, driven by a real
//! hyper client.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

#[path = "../../support/mod.rs"]
mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use instrument::http::{HttpClientLayer, HttpConfig, HttpError, HttpLayer};
use instrument::{metric, trace_method};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;
use support::{attr, error_description, event, metrics, points, spans, start, wait_for_spans};
use tower::Layer as _;

#[trace_method]
async fn load_agent(agent_id: &str) -> String {
    record_lookup().await;
    format!("agent {agent_id}")
}

#[metric(histogram = "test_http_lookup_ms")]
async fn record_lookup() {
    tokio::task::yield_now().await;
}

async fn get_agent(Path(agent_id): Path<String>) -> String {
    load_agent(&agent_id).await
}

async fn send_message(Path(agent_id): Path<String>, body: String) -> String {
    instrument::context::add_attribute("message.bytes", body.len() as i64);
    format!("{agent_id} got {} bytes", body.len())
}

async fn fail() -> Result<String, HttpError> {
    Err(HttpError::internal("database down"))
}

async fn boom() -> String {
    panic!("handler exploded")
}

async fn stream() -> Body {
    let chunks = futures_util::stream::unfold(0u8, |n| async move {
        if n == 4 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
        Some((
            Ok::<_, Infallible>(Bytes::from(format!("chunk {n}\n"))),
            n + 1,
        ))
    });
    Body::from_stream(chunks)
}

fn app(config: HttpConfig) -> Router {
    Router::new()
        .route("/v1/agents/{agent_id}", get(get_agent))
        .route("/v1/agents/{agent_id}/messages", post(send_message))
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/fail", get(fail))
        .route("/v1/boom", get(boom))
        .route("/v1/stream", get(stream))
        .layer(HttpLayer::with_config(config))
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

type HyperClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HyperClient {
    Client::builder(TokioExecutor::new()).build_http()
}

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

async fn send(address: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{address}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client()
        .request(request.body(Full::new(Bytes::from("hello"))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

fn named<'a>(all: &'a [SpanData], name: &str) -> &'a SpanData {
    all.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "no span {name} in {:?}",
            all.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

fn trace_id(span: &SpanData) -> String {
    format!("{:032x}", span.span_context.trace_id())
}

#[test]
fn server_span_name_kind_attributes_and_header_context() {
    support::run_multi_thread(async move {
        let _t = start();
        let address = serve(app(HttpConfig::default())).await;
        let reply = send(
            address,
            "GET",
            "/v1/agents/a1",
            &[
                ("x-organization-id", "org-1"),
                ("user_id", "u-9"),
                ("user-agent", "test-agent"),
                ("x-unlisted", "secret"),
            ],
        )
        .await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "agent a1"));
        let all = wait_for_spans(2);
        let server = named(&all, "GET /v1/agents/{agent_id}");
        assert_eq!(server.span_kind, SpanKind::Server);
        assert_eq!(server.status, Status::Unset);
        for (key, value) in [
            ("http.request.method", "GET"),
            ("url.path", "/v1/agents/a1"),
            ("url.scheme", "http"),
            ("http.route", "/v1/agents/{agent_id}"),
            ("http.response.status_code", "200"),
            ("organization.id", "org-1"),
            ("user.id", "u-9"),
            ("user_agent.original", "test-agent"),
            ("server.address", "127.0.0.1"),
            ("network.protocol.version", "1.1"),
        ] {
            assert_eq!(attr(server, key).as_deref(), Some(value), "{key}");
        }
        assert_eq!(
            attr(server, "client"),
            None,
            "`client` only in the original-names mode"
        );
        assert!(attr(server, "entry.timestamp_ms").is_some());
        assert!(
            server
                .attributes
                .iter()
                .all(|kv| kv.value.as_str() != "secret"),
            "unlisted headers are not recorded"
        );
        let child = named(&all, "load_agent");
        assert_eq!(child.parent_span_id, server.span_context.span_id());
        assert_eq!(
            attr(child, "organization.id").as_deref(),
            Some("org-1"),
            "header attributes reach handler spans"
        );
        assert_eq!(
            attr(child, "user.id"),
            None,
            "span-only headers stay on the server span"
        );
        let lookup = points(&metrics(), "test_http_lookup_ms");
        assert_eq!(
            lookup[0].attr("organization.id"),
            Some("org-1"),
            "and metrics recorded in the handler"
        );
    })
}

#[test]
fn not_found_is_unset_and_server_errors_are_errors() {
    support::run_multi_thread(async move {
        let _t = start();
        let address = serve(app(HttpConfig::default())).await;
        assert_eq!(send(address, "GET", "/nope", &[]).await.status, 404);
        let reply = send(address, "GET", "/v1/fail", &[]).await;
        assert_eq!(reply.status, 500);
        let all = wait_for_spans(2);
        let missing = named(&all, "GET");
        assert_eq!(missing.status, Status::Unset, "4xx is not a server error");
        assert_eq!(
            attr(missing, "http.response.status_code").as_deref(),
            Some("404")
        );
        assert_eq!(attr(missing, "http.route"), None);
        let failed = named(&all, "GET /v1/fail");
        assert!(error_description(failed).is_some());
        assert_eq!(attr(failed, "error.type").as_deref(), Some("500"));
        assert!(
            event(failed, "exception")
                .unwrap()
                .contains(&("exception.message".into(), "database down".into()))
        );
        let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["detail"], "database down");
        assert_eq!(body["trace_id"], trace_id(failed));
    })
}

#[test]
fn handler_panic_is_a_json_500_with_the_span_trace_id() {
    support::run_multi_thread(async move {
        let _t = start();
        let address = serve(app(HttpConfig::default())).await;
        let reply = send(address, "GET", "/v1/boom", &[]).await;
        assert_eq!(reply.status, 500);
        assert_eq!(reply.headers["content-type"], "application/json");
        let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["detail"], "Internal Server Error");
        let all = wait_for_spans(1);
        let server = named(&all, "GET /v1/boom");
        assert_eq!(body["trace_id"], trace_id(server));
        assert_eq!(body["trace_id"].as_str().unwrap().len(), 32);
        assert!(
            event(server, "exception")
                .unwrap()
                .contains(&("exception.message".into(), "handler exploded".into()))
        );
        assert_eq!(
            attr(server, "http.response.status_code").as_deref(),
            Some("500")
        );
        assert!(error_description(server).is_some());
        // The server keeps serving.
        assert_eq!(send(address, "GET", "/v1/agents/a2", &[]).await.status, 200);
    })
}

#[test]
fn health_route_is_excluded() {
    support::run_multi_thread(async move {
        let _t = start();
        let address = serve(app(HttpConfig::default())).await;
        assert_eq!(send(address, "GET", "/v1/health", &[]).await.body, "ok");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(spans().is_empty(), "no span");
        let all = metrics();
        assert!(
            points(&all, "http.server.request.duration").is_empty(),
            "no metrics"
        );
        assert!(points(&all, "count_endpoint_requests").is_empty());
    })
}

#[test]
fn incoming_traceparent_becomes_the_parent() {
    support::run_multi_thread(async move {
        let _t = start();
        let address = serve(app(HttpConfig::default())).await;
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        send(
            address,
            "GET",
            "/v1/agents/a3",
            &[("traceparent", traceparent)],
        )
        .await;
        let all = wait_for_spans(2);
        let server = named(&all, "GET /v1/agents/{agent_id}");
        assert_eq!(trace_id(server), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            format!("{:016x}", server.parent_span_id),
            "00f067aa0ba902b7"
        );
        assert!(server.parent_span_is_remote);
    })
}

#[test]
fn what_the_handler_adds_reaches_the_endpoint_metrics_without_any_mapped_header() {
    support::run_multi_thread(async move {
        let _t = start();
        let address = serve(app(HttpConfig::default())).await;
        send(address, "POST", "/v1/agents/a2/messages", &[]).await;
        wait_for_spans(1);
        let all = metrics();
        let requests = points(&all, "count_endpoint_requests");
        let point = requests
            .iter()
            .find(|p| p.attr("agent.id").is_none())
            .unwrap_or_else(|| panic!("the request without headers was counted: {requests:?}"));
        assert_eq!(
            point.attr("message.bytes"),
            Some("5"),
            "the scope the layer opened kept what the handler added: {point:?}"
        );
    })
}

#[test]
fn endpoint_metrics_follow_the_opt_in_patterns() {
    support::run_multi_thread(async move {
        let _t = start();
        let address = serve(app(HttpConfig::default())).await;
        send(
            address,
            "POST",
            "/v1/agents/a1/messages",
            &[("x-agent-id", "agent-7")],
        )
        .await;
        send(address, "GET", "/v1/agents/a1", &[]).await;
        wait_for_spans(3);
        let all = metrics();
        let requests = points(&all, "count_endpoint_requests");
        assert_eq!(requests.len(), 1, "only the opted-in route: {requests:?}");
        let point = &requests[0];
        assert_eq!(
            point.attr("endpoint_path"),
            Some("/v1/agents/{agent_id}/messages")
        );
        assert_eq!(point.attr("method"), Some("POST"));
        assert_eq!(point.attr("status_code"), Some("200"));
        assert_eq!(point.attr("agent.id"), Some("agent-7"));
        assert_eq!(points(&all, "hist_endpoint_e2e_ms").len(), 1);
        let durations = points(&all, "http.server.request.duration");
        assert_eq!(
            durations.len(),
            2,
            "the semantic-convention metric covers every route"
        );
        assert!(
            durations
                .iter()
                .any(|p| p.attr("http.route") == Some("/v1/agents/{agent_id}"))
        );

        let custom = serve(app(HttpConfig::default()
            .endpoint_metrics(["^GET "])
            .unwrap()
            .semconv_metrics(false)))
        .await;
        send(custom, "GET", "/v1/agents/a1", &[]).await;
        send(custom, "POST", "/v1/agents/a1/messages", &[]).await;
        wait_for_spans(6);
        let all = metrics();
        let requests = points(&all, "count_endpoint_requests");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].attr("method"), Some("GET"));
        assert!(
            points(&all, "http.server.request.duration").is_empty(),
            "switched off"
        );
    })
}

#[test]
fn streaming_response_is_timed_to_its_last_chunk() {
    support::run_multi_thread(async move {
        let _t = start();
        let config = HttpConfig::default()
            .endpoint_metrics(["^GET /v1/stream$"])
            .unwrap();
        let address = serve(app(config)).await;
        let reply = send(address, "GET", "/v1/stream", &[]).await;
        assert_eq!(reply.body.lines().count(), 4);
        let all = wait_for_spans(1);
        let server = named(&all, "GET /v1/stream");
        let span_duration = server.end_time.duration_since(server.start_time).unwrap();
        assert!(
            span_duration >= Duration::from_millis(230),
            "span lasted {span_duration:?}"
        );
        let all = metrics();
        let e2e = points(&all, "hist_endpoint_e2e_ms");
        assert!(e2e[0].sum >= 230.0, "e2e {} ms", e2e[0].sum);
        let seconds = points(&all, "http.server.request.duration");
        assert!(seconds[0].sum >= 0.23, "duration {} s", seconds[0].sum);
    })
}

#[test]
fn trace_id_response_header_when_configured() {
    support::run_multi_thread(async move {
        let _t = start();
        let address = serve(app(HttpConfig::default()
            .trace_id_header("x-trace-id")
            .unwrap()))
        .await;
        let reply = send(address, "GET", "/v1/agents/a1", &[]).await;
        let all = wait_for_spans(2);
        let server = named(&all, "GET /v1/agents/{agent_id}");
        assert_eq!(reply.headers["x-trace-id"], trace_id(server));
        let default = serve(app(HttpConfig::default())).await;
        assert!(
            send(default, "GET", "/v1/agents/a1", &[])
                .await
                .headers
                .get("x-trace-id")
                .is_none()
        );
    })
}

#[test]
fn two_services_share_one_trace_through_the_client_layer() {
    support::run_multi_thread(async move {
        let _t = start();
        let service_b = serve(app(HttpConfig::default())).await;
        let service_a = serve(
            Router::new()
                .route(
                    "/v1/proxy/{agent_id}",
                    get(move |Path(agent_id): Path<String>| async move {
                        let mut traced = HttpClientLayer.layer(client());
                        let request = http::Request::get(format!(
                            "http://user:pw@{service_b}/v1/agents/{agent_id}"
                        ))
                        .body(Full::new(Bytes::new()))
                        .unwrap();
                        let response = tower::Service::call(&mut traced, request).await.unwrap();
                        let body = response.into_body().collect().await.unwrap().to_bytes();
                        format!("via A: {}", String::from_utf8_lossy(&body))
                    }),
                )
                .layer(HttpLayer::new()),
        )
        .await;
        let reply = send(service_a, "GET", "/v1/proxy/a9", &[]).await;
        assert_eq!(reply.body, "via A: agent a9");
        let all = wait_for_spans(4);
        let a_server = named(&all, "GET /v1/proxy/{agent_id}");
        let a_client = all
            .iter()
            .find(|s| s.span_kind == SpanKind::Client)
            .expect("client span");
        let b_server = named(&all, "GET /v1/agents/{agent_id}");
        let b_child = named(&all, "load_agent");
        assert_eq!(a_client.name, "GET");
        assert_eq!(a_client.parent_span_id, a_server.span_context.span_id());
        assert_eq!(b_server.parent_span_id, a_client.span_context.span_id());
        assert_eq!(b_child.parent_span_id, b_server.span_context.span_id());
        for span in [a_client, b_server, b_child] {
            assert_eq!(
                span.span_context.trace_id(),
                a_server.span_context.trace_id()
            );
        }
        assert_eq!(
            attr(a_client, "http.response.status_code").as_deref(),
            Some("200")
        );
        assert_eq!(
            attr(a_client, "server.address").as_deref(),
            Some("127.0.0.1")
        );
        let url = attr(a_client, "url.full").unwrap();
        assert!(
            url.starts_with("http://127.0.0.1:") && !url.contains("pw"),
            "{url}"
        );
    })
}

#[test]
fn any_tower_service_and_its_errors_become_json_500s() {
    support::run_multi_thread(async move {
        use tower::ServiceExt as _;
        let _t = start();
        let failing = tower::service_fn(
            |_request: http::Request<instrument::http::RequestBody<Full<Bytes>>>| async {
                Err::<http::Response<Full<Bytes>>, _>(std::io::Error::other("backend refused"))
            },
        );
        let service = HttpLayer::new().layer(failing);
        let request = http::Request::post("/v1/jobs")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = service
            .oneshot(request)
            .await
            .expect("the layer answers instead of failing");
        assert_eq!(response.status(), 500);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let all = wait_for_spans(1);
        let server = named(&all, "POST");
        assert_eq!(body["trace_id"], trace_id(server));
        assert_eq!(attr(server, "error.type").as_deref(), Some("500"));
        assert!(
            event(server, "exception")
                .unwrap()
                .contains(&("exception.message".into(), "backend refused".into()))
        );
    })
}

#[test]
fn endpoint_metrics_keep_the_original_names() {
    let _t = start();
    let endpoint = instrument::http::EndpointMetrics::global();
    endpoint.requests.add(
        1,
        &[opentelemetry::KeyValue::new(
            "endpoint_path",
            "/v1/agents/{agent_id}/messages",
        )],
    );
    endpoint.e2e_ms.record(12.0, &[]);
    let all = metrics();
    assert_eq!(points(&all, "count_endpoint_requests").len(), 1);
    let e2e = all
        .iter()
        .find(|m| m.name == "hist_endpoint_e2e_ms")
        .unwrap();
    assert_eq!(e2e.unit, "ms");
}

#[test]
fn original_names_mode_adds_the_old_names_and_4xx_errors() {
    support::run_multi_thread(async move {
        let _t = start();
        let app = Router::new()
            .route("/v1/agents/{agent_id}", get(get_agent))
            .route(
                "/v1/missing/{id}",
                get(|| async { (http::StatusCode::NOT_FOUND, "no") }),
            )
            .layer(HttpLayer::with_config(
                HttpConfig::default().original_names(true),
            ));
        let address = serve(app).await;
        let _ = spans();
        let ok = send(
            address,
            "GET",
            "/v1/agents/a1",
            &[("user-agent", "letta/1")],
        )
        .await;
        assert_eq!(ok.status, 200);
        let missing = send(address, "GET", "/v1/missing/7", &[]).await;
        assert_eq!(missing.status, 404);
        let all = wait_for_spans(3);
        let server = named(&all, "GET /v1/agents/{agent_id}");
        for (key, value) in [
            ("http.method", "GET"),
            ("http.status_code", "200"),
            ("http.agent_id", "a1"),
            ("client", "letta/1"),
            ("user_agent.original", "letta/1"),
            ("http.request.method", "GET"),
        ] {
            assert_eq!(attr(server, key).as_deref(), Some(value), "{key}");
        }
        assert!(attr(server, "http.url").unwrap().ends_with("/v1/agents/a1"));
        let not_found = named(&all, "GET /v1/missing/{id}");
        assert_eq!(attr(not_found, "error.type").as_deref(), Some("404"));
        assert!(
            matches!(not_found.status, Status::Error { .. }),
            "4xx is an error in this mode"
        );
    })
}

async fn post_json(address: SocketAddr, path: &str, body: &str) -> Reply {
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{address}{path}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = client().request(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

#[test]
fn json_request_bodies_are_captured_on_opted_in_routes() {
    support::run_multi_thread(async move {
        let _t = start();
        let echo = |body: String| async move { body };
        let app = Router::new()
            .route("/v1/agents/{agent_id}/messages", post(echo))
            .route("/v1/other", post(echo))
            .layer(HttpLayer::with_config(
                HttpConfig::default()
                    .capture_request_body(["^POST /v1/agents/"])
                    .unwrap(),
            ));
        let address = serve(app).await;
        let _ = spans();
        let body = r#"{"message":"hi","max_tokens":5,"api_key":"sk-SECRET","nested":{"a":1,"auth":{"token":"SECRET-2"}},"callback":"https://hook:SECRET-3@example.com/in?sig=SECRET-4&id=7"}"#;
        let reply = post_json(address, "/v1/agents/a1/messages", body).await;
        assert_eq!(reply.body, body, "the handler gets the body unchanged");
        let other = post_json(address, "/v1/other", body).await;
        assert_eq!(other.body, body);
        let _limit = instrument::capture::temporary_capture_config({
            let mut limits = instrument::capture::CaptureConfig::default();
            limits.max_value_bytes = 16;
            limits
        });
        let long = post_json(address, "/v1/agents/a2/messages", body).await;
        assert_eq!(long.body, body, "a body past the limit streams through");
        let all = wait_for_spans(3);
        let captured = all
            .iter()
            .find(|s| attr(s, "url.path").as_deref() == Some("/v1/agents/a1/messages"))
            .unwrap();
        for (key, value) in [
            ("http.request.body.message", "hi"),
            ("http.request.body.max_tokens", "5"),
            ("http.request.body.api_key", "[redacted]"),
            (
                "http.request.body.nested",
                r#"{"a":1,"auth":{"token":"[redacted]"}}"#,
            ),
            (
                "http.request.body.callback",
                "https://hook:[redacted]@example.com/in?sig=[redacted]&id=7",
            ),
        ] {
            assert_eq!(attr(captured, key).as_deref(), Some(value), "{key}");
        }
        for path in ["/v1/other", "/v1/agents/a2/messages"] {
            let span = all
                .iter()
                .find(|s| attr(s, "url.path").as_deref() == Some(path))
                .unwrap();
            assert!(
                span.attributes
                    .iter()
                    .all(|kv| !kv.key.as_str().starts_with("http.request.body.")),
                "{path} records no body"
            );
        }
        assert!(!all.iter().any(|s| {
            s.attributes
                .iter()
                .any(|kv| kv.value.as_str().contains("SECRET"))
        }));
    })
}

/// Sends `method path` through `config`'s layer around a plain tower service (no axum, so no
/// route template), reading the whole response.
async fn call_plain(config: &HttpConfig, method: &str, path: &str) -> u16 {
    use tower::ServiceExt as _;
    let plain = tower::service_fn(
        |_request: http::Request<instrument::http::RequestBody<Full<Bytes>>>| async {
            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from("ok"))))
        },
    );
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = HttpLayer::with_config(config.clone())
        .layer(plain)
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    response.into_body().collect().await.unwrap();
    status
}

#[test]
fn plain_tower_service_gets_endpoint_metrics_under_the_normalized_path() {
    support::run_multi_thread(async move {
        let _t = start();
        let config = HttpConfig::default();
        assert_eq!(
            call_plain(&config, "POST", "/v1/agents/a-123/messages").await,
            200
        );
        call_plain(&config, "POST", "/v1/agents/a-123/messages/stream").await;
        call_plain(&config, "POST", "/v1/jobs/a-123").await;
        call_plain(&config, "GET", "/v1/agents/a-123/messages").await;
        let all_spans = wait_for_spans(4);
        let all = metrics();
        let requests = points(&all, "count_endpoint_requests");
        let mut paths: Vec<_> = requests
            .iter()
            .map(|p| p.attr("endpoint_path").unwrap_or_default())
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "/v1/agents/{agent_id}/messages",
                "/v1/agents/{agent_id}/messages/stream"
            ],
            "only the matching paths, never the id: {requests:?}"
        );
        let point = requests
            .iter()
            .find(|p| p.attr("endpoint_path") == Some("/v1/agents/{agent_id}/messages"))
            .unwrap();
        assert_eq!(point.attr("method"), Some("POST"));
        assert_eq!(point.attr("status_code"), Some("200"));
        assert_eq!(points(&all, "hist_endpoint_e2e_ms").len(), 2);
        for metric in &all {
            for point in &metric.points {
                assert!(
                    point.attributes.iter().all(|(_, v)| !v.contains("a-123")),
                    "{} carries the id: {point:?}",
                    metric.name
                );
            }
        }
        // The normalized path is the low-cardinality route; a path no pattern matched has none.
        let durations = points(&all, "http.server.request.duration");
        assert!(
            durations
                .iter()
                .any(|p| p.attr("http.route") == Some("/v1/agents/{agent_id}/messages"))
        );
        assert_eq!(
            durations
                .iter()
                .filter(|p| p.attr("http.route").is_none())
                .count(),
            2,
            "{durations:?}"
        );
        let matched = named(&all_spans, "POST /v1/agents/{agent_id}/messages");
        assert_eq!(
            attr(matched, "http.route").as_deref(),
            Some("/v1/agents/{agent_id}/messages")
        );
        assert_eq!(
            attr(matched, "url.path").as_deref(),
            Some("/v1/agents/a-123/messages")
        );
        let unmatched = named(&all_spans, "POST");
        assert_eq!(attr(unmatched, "http.route"), None);
    })
}

#[test]
fn custom_named_group_patterns_work_with_and_without_axum() {
    support::run_multi_thread(async move {
        let _t = start();
        let config = HttpConfig::default()
            .endpoint_metrics([
                "^PUT /v1/tools/(?P<tool_id>[^/]+)/run$",
                "^POST /v1/agents/(?P<id>a[0-9]+)/messages$",
            ])
            .unwrap();
        call_plain(&config, "PUT", "/v1/tools/t-9/run").await;
        call_plain(&config, "POST", "/v1/agents/x-1/messages").await;
        wait_for_spans(2);
        let all = metrics();
        let requests = points(&all, "count_endpoint_requests");
        assert_eq!(
            requests.len(),
            1,
            "the defaults were replaced: {requests:?}"
        );
        assert_eq!(
            requests[0].attr("endpoint_path"),
            Some("/v1/tools/{tool_id}/run")
        );

        // With axum the pattern matches the concrete path, and the route template is recorded.
        let address = serve(app(config)).await;
        send(address, "POST", "/v1/agents/a1/messages", &[]).await;
        send(address, "POST", "/v1/agents/b1/messages", &[]).await;
        wait_for_spans(4);
        let all = metrics();
        let requests = points(&all, "count_endpoint_requests");
        assert_eq!(requests.len(), 1, "{requests:?}");
        assert_eq!(
            requests[0].attr("endpoint_path"),
            Some("/v1/agents/{agent_id}/messages")
        );
    })
}

#[test]
fn an_invalid_endpoint_pattern_is_an_error_naming_it() {
    let pattern = "^POST /v1/agents/(?P<agent_id>[^/]+/messages$";
    let error = HttpConfig::default()
        .endpoint_metrics([pattern])
        .unwrap_err();
    assert!(error.to_string().contains(pattern), "{error}");
}
