//! A trace's GenAI token totals over the API: spans following the OpenTelemetry GenAI conventions,
//! sent over OTLP/HTTP as JSON (in two exports, the counts as JSON numbers and as strings, as
//! OTLP/JSON allows), give their trace the sums of `gen_ai.usage.input_tokens` and
//! `gen_ai.usage.output_tokens` in `/api/traces` and `/api/traces/{id}`; a trace without them
//! has neither field.

#[allow(dead_code)]
mod support;

use std::net::SocketAddr;

use instrument_viewer::{Viewer, ViewerConfig};
use serde_json::{Value, json};

/// Sends `spans` (OTLP/JSON span objects) of service `agent` to `/v1/traces`.
fn send(address: SocketAddr, spans: Value) {
    let export = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "agent"}}]},
        "scopeSpans": [{"spans": spans}]
    }]})
    .to_string();
    let (status, body) = support::exchange(
        address,
        &format!(
            "POST /v1/traces HTTP/1.1\r\nHost: viewer\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{export}",
            export.len()
        ),
    );
    assert_eq!(status, 200, "POST /v1/traces: {body}");
}

/// Span `span` of trace `trace` named `name`, under `parent` if set, with `attributes`.
fn span(trace: u64, span: u64, parent: Option<u64>, name: &str, attributes: Value) -> Value {
    let start = 1_700_000_000_000_000_000u64 + span * 1_000_000;
    json!({
        "traceId": format!("{trace:032x}"),
        "spanId": format!("{span:016x}"),
        "parentSpanId": parent.map(|p| format!("{p:016x}")).unwrap_or_default(),
        "name": name,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": (start + 500_000).to_string(),
        "attributes": attributes,
    })
}

fn string(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

/// An integer attribute; OTLP/JSON sends 64-bit integers as strings or numbers.
fn int(key: &str, value: Value) -> Value {
    json!({"key": key, "value": {"intValue": value}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traces_token_totals_are_the_sums_over_its_spans() {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let viewer = Viewer::start(ViewerConfig {
        grpc: any,
        http: any,
        ui: any,
        ..ViewerConfig::default()
    })
    .await
    .unwrap();
    let (http, ui) = (viewer.http_address(), viewer.ui_address());
    tokio::task::spawn_blocking(move || {
        // An agent: two model calls and a tool between them; the second call arrives later.
        send(
            http,
            json!([
                span(
                    1,
                    1,
                    None,
                    "invoke_agent planner",
                    json!([
                        string("gen_ai.operation.name", "invoke_agent"),
                        string("gen_ai.agent.name", "planner"),
                    ])
                ),
                span(
                    1,
                    2,
                    Some(1),
                    "chat gpt-4o",
                    json!([
                        string("gen_ai.operation.name", "chat"),
                        string("gen_ai.provider.name", "openai"),
                        string("gen_ai.request.model", "gpt-4o"),
                        int("gen_ai.usage.input_tokens", json!(1000)),
                        int("gen_ai.usage.output_tokens", json!("200")),
                    ])
                ),
                span(
                    1,
                    3,
                    Some(1),
                    "execute_tool search",
                    json!([
                        string("gen_ai.operation.name", "execute_tool"),
                        string("gen_ai.tool.name", "search"),
                    ])
                ),
            ]),
        );
        send(
            http,
            json!([span(
                1,
                4,
                Some(1),
                "chat gpt-4o",
                json!([
                    string("gen_ai.operation.name", "chat"),
                    int("gen_ai.usage.input_tokens", json!("234")),
                    int("gen_ai.usage.output_tokens", json!(367)),
                ])
            )]),
        );
        // A trace with no GenAI span, and one whose only call reported input tokens.
        send(http, json!([span(2, 10, None, "GET /health", json!([]))]));
        send(
            http,
            json!([span(
                3,
                20,
                None,
                "embeddings",
                json!([
                    string("gen_ai.operation.name", "embeddings"),
                    int("gen_ai.usage.input_tokens", json!(42)),
                ])
            )]),
        );

        let listed = support::get(ui, "/api/traces");
        let by_root = |root: &str| -> Value {
            listed
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["root"] == root)
                .unwrap_or_else(|| panic!("{root} listed: {listed}"))
                .clone()
        };
        let agent = by_root("invoke_agent planner");
        assert_eq!(agent["spans"], 4);
        assert_eq!(agent["input_tokens"], 1_234, "1000 + 234: {agent}");
        assert_eq!(agent["output_tokens"], 567, "200 + 367: {agent}");

        let health = by_root("GET /health");
        let health = health.as_object().unwrap();
        assert!(
            !health.contains_key("input_tokens") && !health.contains_key("output_tokens"),
            "no span has tokens, so no totals: {health:?}"
        );

        let embeddings = by_root("embeddings");
        assert_eq!(embeddings["input_tokens"], 42);
        assert!(embeddings.get("output_tokens").is_none(), "{embeddings}");

        let detail = support::get(ui, &format!("/api/traces/{:032x}", 1));
        assert_eq!(detail["summary"]["input_tokens"], 1_234);
        assert_eq!(detail["summary"]["output_tokens"], 567);
        assert_eq!(
            detail["summary"], agent,
            "the trace's summary is its list line"
        );
    })
    .await
    .unwrap();
}
