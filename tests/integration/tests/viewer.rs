//! The local viewer fed by the agent-server demo: what the toolkit sends over OTLP/gRPC and
//! OTLP/HTTP, an OTLP/JSON request from "another SDK", and an OTLP-JSON lines file written by the
//! file exporter all come back from the viewer's API. (`viewer_browser.rs` drives the page.)

#[allow(dead_code)]
#[path = "support/demo.rs"]
mod demo;

use std::net::SocketAddr;

use demo::{printed_trace_ids, run_demo};
use instrument_viewer::{Viewer, ViewerConfig};
use serde_json::{Value, json};

fn loopback_any_port() -> ViewerConfig {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    ViewerConfig {
        grpc: any,
        http: any,
        ui: any,
        ..ViewerConfig::default()
    }
}

/// Runs the demo (off the runtime's threads) exporting to `endpoint` with `protocol`.
async fn demo_to(endpoint: String, protocol: &'static str, service: &'static str) -> Vec<String> {
    tokio::task::spawn_blocking(move || {
        printed_trace_ids(&run_demo(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_SERVICE_NAME", service),
        ]))
    })
    .await
    .unwrap()
}

async fn get(viewer: &Viewer, path: &str) -> Value {
    let url = format!("http://{}{path}", viewer.ui_address());
    let response = reqwest::get(&url).await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// An OTLP/JSON export as another SDK would send it: one span with a hostile name and attribute
/// value, a log record in its trace and a gauge.
fn foreign_requests(name: &str) -> [(&'static str, Value); 3] {
    let resource =
        json!({"attributes": [{"key": "service.name", "value": {"stringValue": "json-sender"}}]});
    [
        (
            "/v1/traces",
            json!({"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": {"name": "manual"}, "spans": [{
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "eee19b7ec3c1b174",
                "name": name,
                "kind": 2,
                "startTimeUnixNano": "1700000000000000000",
                "endTimeUnixNano": "1700000000250000000",
                "attributes": [{"key": "note", "value": {"stringValue": name}}, {"key": "n", "value": {"intValue": "7"}}],
                "status": {"code": 2, "message": "boom"}
            }]}]}]}),
        ),
        (
            "/v1/logs",
            json!({"resourceLogs": [{"resource": resource, "scopeLogs": [{"scope": {"name": "manual"}, "logRecords": [{
                "timeUnixNano": "1700000000100000000",
                "severityNumber": 17,
                "body": {"stringValue": "foreign log line"},
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "eee19b7ec3c1b174"
            }]}]}]}),
        ),
        (
            "/v1/metrics",
            json!({"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"scope": {"name": "manual"}, "metrics": [{
                "name": "foreign_queue_depth",
                "unit": "1",
                "gauge": {"dataPoints": [{"timeUnixNano": "1700000000000000000", "asInt": "42", "attributes": [{"key": "queue", "value": {"stringValue": "jobs"}}]}]}
            }]}]}]}),
        ),
    ]
}

async fn send_foreign(viewer: &Viewer, name: &str) {
    let client = reqwest::Client::new();
    for (path, body) in foreign_requests(name) {
        let response = client
            .post(format!("http://{}{path}", viewer.http_address()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }
}

fn names(detail: &Value) -> Vec<String> {
    detail["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The message trace: a POST /messages whose spans reach the fake LLM server.
async fn message_trace(viewer: &Viewer, ids: &[String]) -> (String, Value) {
    for id in ids {
        let detail = get(viewer, &format!("/api/traces/{id}")).await;
        if detail["summary"]["root"] == "POST /v1/agents/{agent_id}/messages" {
            return (id.clone(), detail);
        }
    }
    panic!("no message trace among {ids:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_holds_what_the_toolkit_sent_over_grpc_and_http_and_an_otlp_json_request() {
    let viewer = Viewer::start(loopback_any_port()).await.unwrap();
    let over_grpc = demo_to(
        format!("http://{}", viewer.grpc_address()),
        "grpc",
        "demo-grpc",
    )
    .await;
    let over_http = demo_to(
        format!("http://{}", viewer.http_address()),
        "http/protobuf",
        "demo-http",
    )
    .await;
    send_foreign(&viewer, "plain foreign span").await;
    assert_eq!(over_grpc.len(), 4, "the demo's four traced requests");
    assert_eq!(over_http.len(), 4);

    let listed = get(&viewer, "/api/traces").await;
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    for id in over_grpc.iter().chain(&over_http) {
        assert!(listed.contains(&id.as_str()), "{id} is listed");
    }
    for (ids, service) in [(&over_grpc, "demo-grpc"), (&over_http, "demo-http")] {
        let (id, detail) = message_trace(&viewer, ids).await;
        assert_eq!(detail["summary"]["service"], service);
        let names = names(&detail);
        for expected in [
            "AgentManager.send_message",
            "AgentManager.step",
            "AgentManager.call_llm",
            "POST",
            "POST /v1/chat/completions",
            "SELECT messages",
            "transaction",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        let logs = get(&viewer, &format!("/api/logs?trace_id={id}")).await;
        assert!(
            logs.as_array()
                .unwrap()
                .iter()
                .any(|l| l["body"].as_str().unwrap().contains("message received")),
            "the handler's log line is in the trace: {logs}"
        );
    }

    let filtered = get(&viewer, "/api/traces?service=demo-http&status=error").await;
    let filtered = filtered.as_array().unwrap();
    assert_eq!(filtered.len(), 1, "the demo's one 404: {filtered:?}");
    assert_eq!(filtered[0]["root"], "GET /v1/agents/{agent_id}");
    let by_attribute = get(
        &viewer,
        "/api/traces?attr=organization.id%3Dorg-1&service=demo-grpc",
    )
    .await;
    assert!(!by_attribute.as_array().unwrap().is_empty());

    let foreign = get(&viewer, "/api/traces/5b8efff798038103d269b633813fc60c").await;
    let span = &foreign["spans"][0];
    assert_eq!(span["name"], "plain foreign span");
    assert_eq!(span["kind"], "server");
    assert_eq!(span["status"], "error");
    assert_eq!(
        span["end_ns"].as_u64().unwrap() - span["start_ns"].as_u64().unwrap(),
        250_000_000
    );
    assert_eq!(
        span["attributes"],
        json!([["note", "plain foreign span"], ["n", "7"]])
    );
    assert_eq!(foreign["logs"][0]["body"], "foreign log line");
    assert_eq!(foreign["logs"][0]["severity"], "ERROR");

    let metrics = get(&viewer, "/api/metrics").await;
    let metric = |service: &str, name: &str| {
        metrics
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["service"] == service && m["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{service} {name} held"))
    };
    for service in ["demo-grpc", "demo-http"] {
        let steps = metric(service, "hist_step_execution_time_ms");
        let series: Vec<&Value> = steps["series"].as_object().unwrap().values().collect();
        assert!(
            series
                .iter()
                .any(|s| s["histogram"]["count"].as_u64() > Some(0))
        );
        assert!(series.iter().all(|s| s["histogram"]["p50"].is_number()));
        let pool = metric(service, "gauge_db_pool_connections_total");
        assert!(
            pool["series"]
                .as_object()
                .unwrap()
                .values()
                .any(|s| s["points"][0][1].as_f64() > Some(0.0))
        );
    }
    let queue = metric("json-sender", "foreign_queue_depth");
    assert_eq!(
        queue["series"]["queue=jobs"]["points"],
        json!([[1_700_000_000_000_000_000u64, 42.0]])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_the_file_exporter_wrote_opens_in_the_viewer() {
    let path = std::env::temp_dir().join(format!("viewer-open-{}.jsonl", std::process::id()));
    let file = path.to_string_lossy().into_owned();
    let ids = tokio::task::spawn_blocking(move || {
        printed_trace_ids(&run_demo(&[("INSTRUMENT_EXPORT_FILE", &file)]))
    })
    .await
    .unwrap();
    let viewer = Viewer::start(ViewerConfig {
        open: vec![path.clone()],
        ..loopback_any_port()
    })
    .await
    .unwrap();
    let stats = viewer.store().stats();
    let held = viewer.store().traces(&Default::default());
    let roots: Vec<&str> = held.iter().map(|t| t.root.as_str()).collect();
    assert_eq!(stats.traces, ids.len() + 1, "{roots:?}");
    assert!(
        roots.contains(&"open"),
        "the store's startup trace, untied to a request"
    );
    for id in &ids {
        assert!(held.iter().any(|t| &t.trace_id == id), "{id} held");
    }
    let (id, _) = message_trace(&viewer, &ids).await;
    let logs = get(&viewer, &format!("/api/logs?trace_id={id}")).await;
    assert!(!logs.as_array().unwrap().is_empty());
    assert!(stats.series > 0);
    let _ = std::fs::remove_file(path);
}
