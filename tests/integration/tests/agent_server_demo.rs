//! The agent-server demo run as a test: the example binary (`examples/agent_server`, built by
//! `cargo test`) runs `--demo` with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at the in-test OTLP
//! receiver; it must exit 0, and what it exported must show, per request, one trace across the
//! server span, the manager, the step, the LLM client span, the fake LLM server's span, the tool
//! and the database spans, with its logs; context attributes on every span of a request; the
//! repeated-query finding; secrets redacted; the pool gauges read before the pool closed; and the 404 body's trace id equal to the exported one.

#[allow(dead_code)]
#[path = "support/demo.rs"]
mod demo;
#[allow(dead_code)]
#[path = "support/receiver.rs"]
mod receiver;

use std::process::Command;
use std::time::{Duration, Instant};

use demo::example_binary;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use opentelemetry_proto::tonic::trace::v1::Span;
use receiver::{Receiver, Wire};

fn text(value: &Option<AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn attr(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| text(&kv.value))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The one span named `name` in `trace`.
fn named<'a>(trace: &'a [&'a Span], name: &str) -> &'a Span {
    let found: Vec<_> = trace.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "one {name} span in the trace");
    found[0]
}

fn is_child_of(child: &Span, parent: &Span) -> bool {
    child.parent_span_id == parent.span_id && child.trace_id == parent.trace_id
}

#[test]
fn the_demo_exports_one_coherent_trace_per_request() {
    let receiver = Receiver::start(Wire::Grpc);
    let output = Command::new(example_binary())
        .arg("--demo")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_SERVICE_NAME", "agent-server-demo")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the demo exits 0\n{stdout}\n{stderr}"
    );

    let spans = receiver.spans();
    let server = |route: &str| {
        spans
            .iter()
            .find(|s| s.name == route)
            .unwrap_or_else(|| panic!("a {route} span among {} spans", spans.len()))
    };
    let message = server("POST /v1/agents/{agent_id}/messages");
    let trace: Vec<&Span> = spans
        .iter()
        .filter(|s| s.trace_id == message.trace_id)
        .collect();
    let send = named(&trace, "AgentManager.send_message");
    let step = named(&trace, "AgentManager.step");
    let tool = named(&trace, "AgentManager.execute_tool");
    assert!(is_child_of(send, message));
    assert!(is_child_of(step, send));
    assert!(is_child_of(tool, step));
    let llm_calls: Vec<_> = trace
        .iter()
        .filter(|s| s.name == "AgentManager.call_llm")
        .collect();
    assert_eq!(
        llm_calls.len(),
        2,
        "the LLM is called before and after the tool"
    );
    for call in &llm_calls {
        assert!(is_child_of(call, step));
        let client = trace
            .iter()
            .find(|s| is_child_of(s, call) && s.name == "POST")
            .expect("a CLIENT span under each LLM call");
        let fake_server = trace
            .iter()
            .find(|s| is_child_of(s, client) && s.name == "POST /v1/chat/completions")
            .expect("the fake LLM server's span continues the propagated context");
        assert_eq!(fake_server.kind, 2, "SERVER");
        assert_eq!(client.kind, 3, "CLIENT");
    }
    let db_spans: Vec<_> = trace
        .iter()
        .filter(|s| attr(&s.attributes, "db.system.name").is_some())
        .collect();
    assert!(
        db_spans.len() >= 22,
        "the N+1 and the transaction: {}",
        db_spans.len()
    );
    assert!(trace.iter().any(|s| s.name == "transaction"));
    let repeated = trace
        .iter()
        .flat_map(|s| &s.events)
        .find(|e| e.name == "instrument.db.repeated_query")
        .expect("the repeated-query finding");
    assert_eq!(
        attr(&repeated.attributes, "instrument.db.repeated_query.count").as_deref(),
        Some("20")
    );
    for span in &trace {
        if span.name == "POST /v1/chat/completions" {
            continue; // the fake LLM receives no organization header
        }
        assert_eq!(
            attr(&span.attributes, "organization.id").as_deref(),
            Some("org-1"),
            "{} carries the request's context",
            span.name
        );
    }

    let exported = format!("{spans:?}");
    for secret in ["sk-user-secret", "sk-llm-provider-secret"] {
        assert!(!exported.contains(secret), "{secret} never leaves");
    }
    assert_eq!(
        attr(&send.attributes, "parameter.api_key").as_deref(),
        Some("[redacted]")
    );
    let settings = attr(&llm_calls[0].attributes, "parameter.settings").unwrap();
    assert!(settings.contains(r#""token":"[redacted]""#), "{settings}");
    assert_eq!(
        attr(&message.attributes, "http.request.body.api_key").as_deref(),
        Some("[redacted]")
    );
    let state = attr(&step.attributes, "parameter.agent_state").unwrap();
    assert!(state.contains("excluded, id=agent-1"), "{state}");

    // Every log line the handlers and instrumented fns write inside a request.
    let request_lines = [
        "agent looked up",
        "message received",
        "a long reply, streamed in pieces",
        "executing a tool",
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    let logs = loop {
        let logs = receiver.log_records();
        let bodies = format!("{:?}", logs.iter().map(|r| &r.body).collect::<Vec<_>>());
        if request_lines.iter().all(|line| bodies.contains(line)) || Instant::now() > deadline {
            break logs;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut request_logs = 0;
    for record in &logs {
        let body = format!("{:?}", record.body);
        if body.contains("fake LLM answering") {
            continue; // the fake LLM receives no organization header
        }
        request_logs += 1;
        assert_eq!(
            attr(&record.attributes, "organization.id").as_deref(),
            Some("org-1"),
            "the log {body} carries the request's context, as its span does"
        );
    }
    for line in request_lines {
        assert!(
            logs.iter().any(|r| format!("{:?}", r.body).contains(line)),
            "the log {line:?} arrived"
        );
    }
    assert!(request_logs >= 4, "{request_logs} request logs");
    let received = logs
        .iter()
        .find(|r| format!("{:?}", r.body).contains("message received"))
        .expect("the handler's log line arrived");
    assert_eq!(received.trace_id, message.trace_id);
    let answered = logs
        .iter()
        .find(|r| format!("{:?}", r.body).contains("fake LLM answering"))
        .expect("the fake LLM's log line arrived");
    assert_eq!(answered.trace_id, message.trace_id, "logs join the trace");

    let metrics = format!("{:?}", receiver.metric_requests());
    for name in [
        "hist_step_execution_time_ms",
        "hist_llm_execution_time_ms",
        "hist_tool_execution_time_ms",
        "hist_ttft_ms",
    ] {
        let at = metrics
            .find(&format!("name: \"{name}\""))
            .unwrap_or_else(|| panic!("{name} was exported"));
        let points = &metrics[at..metrics[at..]
            .find("Metric {")
            .map_or(metrics.len(), |n| at + n)];
        assert!(
            points.contains("organization.id") && points.contains("org-1"),
            "{name}'s points carry the request's context"
        );
    }

    let pool_sizes: Vec<i64> = receiver
        .metric_requests()
        .iter()
        .flat_map(|request| &request.resource_metrics)
        .flat_map(|resource| &resource.scope_metrics)
        .flat_map(|scope| &scope.metrics)
        .filter(|metric| metric.name == "gauge_db_pool_connections_total")
        .filter_map(|metric| match &metric.data {
            Some(Data::Gauge(gauge)) => Some(&gauge.data_points),
            _ => None,
        })
        .flatten()
        .filter_map(|point| match point.value {
            Some(number_data_point::Value::AsInt(size)) => Some(size),
            _ => None,
        })
        .collect();
    assert!(
        pool_sizes.iter().any(|&size| size > 0),
        "the pool gauges read the pool as it was before it closed: {pool_sizes:?}"
    );

    let missing = server("GET /v1/agents/{agent_id}");
    let error_line = stdout
        .lines()
        .find(|l| l.contains("\"trace_id\""))
        .expect("the 404 body is printed");
    let not_found = spans
        .iter()
        .filter(|s| s.name == "GET /v1/agents/{agent_id}")
        .find(|s| error_line.contains(&hex(&s.trace_id)))
        .expect("the 404 body's trace id is an exported trace");
    assert_eq!(
        attr(&not_found.attributes, "http.response.status_code").as_deref(),
        Some("404")
    );
    assert!(!missing.trace_id.is_empty());
    assert!(
        spans.iter().all(|s| !s.name.contains("/v1/health")),
        "the health check is not traced"
    );
}

#[test]
fn the_demo_writes_spans_metrics_and_logs_as_otlp_json_lines() {
    let path = std::env::temp_dir().join(format!("agent-server-{}.jsonl", std::process::id()));
    let output = Command::new(example_binary())
        .arg("--demo")
        .env("INSTRUMENT_EXPORT_FILE", &path)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON request"))
        .collect();
    let kinds = |key: &str| lines.iter().filter(|l| l.get(key).is_some()).count();
    assert!(kinds("resourceSpans") >= 1, "{text}");
    assert!(kinds("resourceMetrics") >= 1, "{text}");
    assert!(kinds("resourceLogs") >= 1, "{text}");
    let step = lines
        .iter()
        .flat_map(|l| l["resourceSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|rs| rs["scopeSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|ss| ss["spans"].as_array().cloned().unwrap_or_default())
        .find(|span| span["name"] == "AgentManager.step")
        .expect("the step span is in the file");
    let trace_id = step["traceId"].as_str().unwrap();
    assert_eq!(trace_id.len(), 32, "OTLP/JSON ids are hex: {trace_id}");
    assert!(text.contains("hist_step_execution_time_ms"));
    assert!(text.contains("message received"));
    assert!(!text.contains("sk-user-secret"));
    let _ = std::fs::remove_file(&path);
}
