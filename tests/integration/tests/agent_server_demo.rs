//! The agent-server demo run as a test: the example binary (`examples/agent_server`, built by
//! `cargo test`) runs `--demo` with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at the in-test OTLP
//! receiver; it must exit 0, and what it exported must show, per request, one trace across the
//! server span, the manager, the step, the LLM client span, the fake LLM server's span, the tool
//! and the database spans, with its logs; the GenAI spans (`invoke_agent`, `chat {model}` with
//! both token counts, `execute_tool`) and metrics (`gen_ai.client.operation.duration`,
//! `gen_ai.client.token.usage` input and output) and the original's agent metrics; context
//! attributes on every span of a request; the repeated-query finding; secrets redacted; the pool
//! gauges read before the pool closed; and the 404 body's trace id equal to the exported one.

#[allow(dead_code)]
#[path = "support/demo.rs"]
mod demo;
#[allow(dead_code)]
#[path = "support/receiver.rs"]
mod receiver;

use std::process::Command;
use std::time::{Duration, Instant};

use demo::example_binary;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
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
        Some(Value::ArrayValue(array)) => {
            let items: Vec<String> = array
                .values
                .iter()
                .map(|item| format!("{:?}", text(&Some(item.clone()))))
                .collect();
            format!("[{}]", items.join(","))
        }
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

/// The one child of `parent` named `name` in `trace`.
fn child<'a>(trace: &'a [&'a Span], parent: &Span, name: &str) -> &'a Span {
    let found: Vec<_> = trace
        .iter()
        .filter(|s| s.name == name && is_child_of(s, parent))
        .collect();
    assert_eq!(found.len(), 1, "one {name} under {}", parent.name);
    found[0]
}

/// A metric data point as received: its attributes, its value (a histogram's sum) and count.
struct Point {
    attributes: Vec<KeyValue>,
    value: f64,
    count: u64,
}

/// Every point of the metric `name` received, histogram or sum.
fn points(requests: &[ExportMetricsServiceRequest], name: &str) -> Vec<Point> {
    let number = |value: &Option<number_data_point::Value>| match value {
        Some(number_data_point::Value::AsInt(i)) => *i as f64,
        Some(number_data_point::Value::AsDouble(d)) => *d,
        None => f64::NAN,
    };
    requests
        .iter()
        .flat_map(|request| &request.resource_metrics)
        .flat_map(|resource| &resource.scope_metrics)
        .flat_map(|scope| &scope.metrics)
        .filter(|metric| metric.name == name)
        .flat_map(|metric| match &metric.data {
            Some(Data::Histogram(histogram)) => histogram
                .data_points
                .iter()
                .map(|p| Point {
                    attributes: p.attributes.clone(),
                    value: p.sum.unwrap_or(f64::NAN),
                    count: p.count,
                })
                .collect(),
            Some(Data::Sum(sum)) => sum
                .data_points
                .iter()
                .map(|p| Point {
                    attributes: p.attributes.clone(),
                    value: number(&p.value),
                    count: 1,
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect()
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
    let agent = child(&trace, step, "invoke_agent support");
    assert_eq!(agent.kind, 1, "INTERNAL");
    assert_eq!(
        attr(&agent.attributes, "gen_ai.operation.name").as_deref(),
        Some("invoke_agent")
    );
    assert_eq!(
        attr(&agent.attributes, "gen_ai.agent.name").as_deref(),
        Some("support")
    );
    assert_eq!(
        attr(&agent.attributes, "gen_ai.agent.id").as_deref(),
        Some("agent-1")
    );
    assert!(is_child_of(tool, agent));
    let execution = child(&trace, tool, "execute_tool calculator");
    assert_eq!(execution.kind, 1, "INTERNAL");
    for (key, value) in [
        ("gen_ai.operation.name", "execute_tool"),
        ("gen_ai.tool.name", "calculator"),
        ("gen_ai.tool.call.id", "call-1"),
    ] {
        assert_eq!(
            attr(&execution.attributes, key).as_deref(),
            Some(value),
            "{key}"
        );
    }
    let llm_calls: Vec<_> = trace
        .iter()
        .filter(|s| s.name == "AgentManager.call_llm")
        .collect();
    assert_eq!(
        llm_calls.len(),
        2,
        "the LLM is called before and after the tool"
    );
    let mut finish_reasons = Vec::new();
    for call in &llm_calls {
        assert!(is_child_of(call, agent));
        let chat = child(&trace, call, "chat gpt-4o-mini");
        assert_eq!(chat.kind, 3, "the model call is a CLIENT span");
        for (key, value) in [
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.provider.name", "openai"),
            ("gen_ai.request.model", "gpt-4o-mini"),
            ("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
            ("gen_ai.request.max_tokens", "256"),
            ("server.address", "127.0.0.1"),
        ] {
            assert_eq!(attr(&chat.attributes, key).as_deref(), Some(value), "{key}");
        }
        for tokens in ["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"] {
            let count: i64 = attr(&chat.attributes, tokens).unwrap().parse().unwrap();
            assert!(count > 0, "{tokens} = {count}");
        }
        assert!(attr(&chat.attributes, "gen_ai.response.id").is_some());
        finish_reasons.push(attr(&chat.attributes, "gen_ai.response.finish_reasons").unwrap());
        let client = child(&trace, chat, "POST");
        let fake_server = trace
            .iter()
            .find(|s| is_child_of(s, client) && s.name == "POST /v1/chat/completions")
            .expect("the fake LLM server's span continues the propagated context");
        assert_eq!(fake_server.kind, 2, "SERVER");
        assert_eq!(client.kind, 3, "CLIENT");
    }
    finish_reasons.sort();
    assert_eq!(
        finish_reasons,
        [r#"["stop"]"#, r#"["tool_calls"]"#],
        "a tool call, then the answer"
    );
    let streamed = server("POST /v1/agents/{agent_id}/messages/stream");
    let streamed_chat = spans
        .iter()
        .find(|s| s.trace_id == streamed.trace_id && s.name == "chat gpt-4o-mini")
        .expect("the streamed reply's model call");
    assert_eq!(
        attr(&streamed_chat.attributes, "gen_ai.request.stream").as_deref(),
        Some("true")
    );
    let first: f64 = attr(
        &streamed_chat.attributes,
        "gen_ai.response.time_to_first_chunk",
    )
    .expect("the time to the first chunk of the stream")
    .parse()
    .unwrap();
    assert!(first > 0.0);
    let output_tokens = attr(&streamed_chat.attributes, "gen_ai.usage.output_tokens");
    assert_eq!(
        output_tokens.as_deref(),
        Some("9"),
        "the usage of the last chunk"
    );
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

    let requests = receiver.metric_requests();
    let in_request =
        |point: &Point| attr(&point.attributes, "organization.id").as_deref() == Some("org-1");
    for name in [
        "gen_ai.client.operation.duration",
        "hist_step_execution_time_ms",
        "hist_llm_execution_time_ms",
        "hist_tool_execution_time_ms",
        "hist_ttft_ms",
        "count_tool_execution",
        "count_user_message",
    ] {
        let points = points(&requests, name);
        assert!(!points.is_empty(), "{name} was exported");
        assert!(
            points.iter().all(in_request),
            "{name}'s points carry the request's context"
        );
    }
    let duration = points(&requests, "gen_ai.client.operation.duration");
    assert_eq!(
        duration.iter().map(|p| p.count).sum::<u64>(),
        3,
        "three model calls"
    );
    assert!(duration.iter().all(|p| {
        attr(&p.attributes, "gen_ai.operation.name").as_deref() == Some("chat")
            && attr(&p.attributes, "gen_ai.provider.name").as_deref() == Some("openai")
            && attr(&p.attributes, "gen_ai.request.model").as_deref() == Some("gpt-4o-mini")
    }));
    let usage = points(&requests, "gen_ai.client.token.usage");
    for token_type in ["input", "output"] {
        let typed: Vec<_> = usage
            .iter()
            .filter(|p| attr(&p.attributes, "gen_ai.token.type").as_deref() == Some(token_type))
            .collect();
        assert_eq!(
            typed.iter().map(|p| p.count).sum::<u64>(),
            3,
            "{token_type} tokens"
        );
        assert!(typed.iter().all(|p| p.value > 0.0 && in_request(p)));
    }
    let tools = points(&requests, "count_tool_execution");
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].value, 1.0);
    assert_eq!(
        attr(&tools[0].attributes, "tool.name").as_deref(),
        Some("calculator")
    );
    assert_eq!(
        attr(&tools[0].attributes, "tool.execution_success").as_deref(),
        Some("true")
    );
    let messages = points(&requests, "count_user_message");
    assert_eq!(
        messages.iter().map(|p| p.value).sum::<f64>(),
        2.0,
        "two user messages"
    );
    let first_chunk = points(&requests, "gen_ai.client.operation.time_to_first_chunk");
    assert_eq!(
        first_chunk.iter().map(|p| p.count).sum::<u64>(),
        1,
        "one streamed reply"
    );

    let pool_sizes: Vec<i64> = requests
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
        .env_remove(CAPTURE_CONTENT)
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("gen_ai.input.messages") && !text.contains("gen_ai.output.messages"),
        "no message content unless asked"
    );
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

/// The conventions' opt-in for prompt and completion content, read at setup.
const CAPTURE_CONTENT: &str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

#[test]
fn with_the_content_variable_the_model_calls_record_their_messages() {
    let path = std::env::temp_dir().join(format!("agent-content-{}.jsonl", std::process::id()));
    let output = Command::new(example_binary())
        .arg("--demo")
        .env("INSTRUMENT_EXPORT_FILE", &path)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env(CAPTURE_CONTENT, "true")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let calls: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .flat_map(|l| l["resourceSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|rs| rs["scopeSpans"].as_array().cloned().unwrap_or_default())
        .flat_map(|ss| ss["spans"].as_array().cloned().unwrap_or_default())
        .filter(|span| span["name"] == "chat gpt-4o-mini")
        .collect();
    assert_eq!(
        calls.len(),
        3,
        "two calls of the message, one of the stream"
    );
    let content = |span: &serde_json::Value, key: &str| -> serde_json::Value {
        let attribute = span["attributes"]
            .as_array()
            .and_then(|all| all.iter().find(|kv| kv["key"] == key))
            .unwrap_or_else(|| panic!("{key} on {span}"));
        serde_json::from_str(attribute["value"]["stringValue"].as_str().unwrap())
            .expect("the messages are JSON")
    };
    let answered = calls
        .iter()
        .find(|span| {
            content(span, "gen_ai.output.messages")[0]["parts"][0]["content"] == "The answer is 4."
        })
        .expect("the call after the tool answers");
    let input = content(answered, "gen_ai.input.messages");
    let input = input.as_array().unwrap();
    assert_eq!(input[0]["role"], "system");
    assert_eq!(input[0]["parts"][0]["content"], "You help with arithmetic.");
    let user = &input[input.len() - 2];
    assert_eq!(user["parts"][0]["content"], "What is 2+2?");
    let tool = &input[input.len() - 1];
    assert_eq!(tool["parts"][0]["type"], "tool_call_response");
    assert_eq!(tool["parts"][0]["result"], "4");
    assert_eq!(
        content(answered, "gen_ai.output.messages")[0]["finish_reason"],
        "stop"
    );
    assert!(!text.contains("sk-user-secret") && !text.contains("sk-llm-provider-secret"));
}
