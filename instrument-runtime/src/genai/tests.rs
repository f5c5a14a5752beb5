//! The three operations as an application records them, in sync and async code and inside
//! `#[trace_method]` calls: what their spans and metric points hold.

use std::sync::Mutex;

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;

use super::{GenAiConfig, chat, execute_tool, invoke_agent, temporary_genai_config, user_message};
use crate::testing::{Captured, MetricPoint, capture, capture_async};

/// Held by the tests that depend on the content-capture setting.
pub(super) static CONTENT: Mutex<()> = Mutex::new(());

#[instrument_macros::trace_method(crate = crate)]
fn answer(question: &str) -> usize {
    let mut call = chat("openai", "gpt-4o")
        .max_tokens(256)
        .temperature(0.25)
        .stop_sequences(["\n\n"])
        .server("api.openai.com", 443)
        .start();
    call.first_token();
    call.response("gpt-4o-2024-08-06", "chatcmpl-1")
        .finish_reasons(["stop"])
        .usage(42, 9);
    question.len()
}

#[instrument_macros::trace_method(crate = crate)]
async fn lookup(key: &str) -> usize {
    key.len()
}

fn attribute(captured: &Captured, span: &SpanData, key: &str) -> String {
    captured
        .attribute(span, key)
        .unwrap_or_else(|| panic!("{key} on {}: {:?}", span.name, span.attributes))
}

/// The one point named `name` whose attributes include every pair of `with`.
fn point<'a>(captured: &'a Captured, name: &str, with: &[(&str, &str)]) -> &'a MetricPoint {
    let found: Vec<_> = captured
        .metric_points(name)
        .into_iter()
        .filter(|p| {
            with.iter()
                .all(|(k, v)| p.attributes.contains(&(k.to_string(), v.to_string())))
        })
        .collect();
    assert_eq!(found.len(), 1, "one {name} point with {with:?}: {found:?}");
    found[0]
}

#[test]
fn a_model_call_is_a_client_span_under_the_traced_call_with_its_metrics() {
    let (len, captured) = capture(|| {
        crate::context::in_scope(
            [opentelemetry::KeyValue::new("organization.id", "org-1")],
            || answer("2+2"),
        )
    });
    assert_eq!(len, 3);
    let call = captured.span("chat gpt-4o");
    assert_eq!(call.span_kind, SpanKind::Client);
    assert!(captured.is_child(call, captured.span("answer")));
    for (key, value) in [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "openai"),
        ("gen_ai.request.model", "gpt-4o"),
        ("gen_ai.request.max_tokens", "256"),
        ("gen_ai.request.temperature", "0.25"),
        ("gen_ai.request.stop_sequences", "[\"\n\n\"]"),
        ("server.address", "api.openai.com"),
        ("server.port", "443"),
        ("gen_ai.response.model", "gpt-4o-2024-08-06"),
        ("gen_ai.response.id", "chatcmpl-1"),
        ("gen_ai.response.finish_reasons", "[\"stop\"]"),
        ("gen_ai.usage.input_tokens", "42"),
        ("gen_ai.usage.output_tokens", "9"),
        ("organization.id", "org-1"),
    ] {
        assert_eq!(attribute(&captured, call, key), value, "{key}");
    }
    let first: f64 = attribute(&captured, call, "gen_ai.response.time_to_first_chunk")
        .parse()
        .unwrap();
    assert!((0.0..1.0).contains(&first), "{first}");
    assert_eq!(call.status, Status::Unset);

    let semconv = [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "openai"),
        ("gen_ai.request.model", "gpt-4o"),
        ("gen_ai.response.model", "gpt-4o-2024-08-06"),
        ("server.address", "api.openai.com"),
        ("server.port", "443"),
        ("organization.id", "org-1"),
    ];
    let duration = point(&captured, "gen_ai.client.operation.duration", &semconv);
    assert_eq!(duration.count, 1);
    assert!(!duration.attributes.iter().any(|(k, _)| k == "error.type"));
    let mut input = semconv.to_vec();
    input.push(("gen_ai.token.type", "input"));
    assert_eq!(
        point(&captured, "gen_ai.client.token.usage", &input).value,
        42.0
    );
    let mut output = semconv.to_vec();
    output.push(("gen_ai.token.type", "output"));
    assert_eq!(
        point(&captured, "gen_ai.client.token.usage", &output).value,
        9.0
    );
    let chunk = point(
        &captured,
        "gen_ai.client.operation.time_to_first_chunk",
        &semconv,
    );
    assert_eq!(chunk.count, 1);
    let original = [("model.name", "gpt-4o"), ("organization.id", "org-1")];
    for name in ["hist_llm_execution_time_ms", "hist_ttft_ms"] {
        let point = point(&captured, name, &original);
        assert_eq!((point.count, point.attributes.len()), (1, 2), "{point:?}");
    }
}

#[test]
fn a_failed_call_records_its_error_type_on_the_span_and_the_duration() {
    let ((), captured) = capture(|| {
        let mut call = chat("anthropic", "claude-sonnet-4").start();
        call.fail("rate_limit_exceeded");
    });
    let call = captured.span("chat claude-sonnet-4");
    assert_eq!(
        attribute(&captured, call, "error.type"),
        "rate_limit_exceeded"
    );
    assert!(matches!(call.status, Status::Error { .. }));
    let failed = [("error.type", "rate_limit_exceeded")];
    point(&captured, "gen_ai.client.operation.duration", &failed);
    assert!(
        captured
            .metric_points("gen_ai.client.token.usage")
            .is_empty()
            && captured
                .metric_points("gen_ai.client.operation.time_to_first_chunk")
                .is_empty(),
        "no usage given, no first token marked: no points"
    );
}

#[tokio::test]
async fn a_tool_runs_its_future_under_its_span_and_counts_its_executions() {
    let (len, captured) = capture_async(async {
        let tool = execute_tool("calculator")
            .call_id("call-1")
            .tool_type("function")
            .start();
        let len = tool.instrument(lookup("2+2")).await;
        drop(tool);
        let mut failing = execute_tool("search").step_id("step-3").start();
        failing.fail("ToolError");
        len
    })
    .await;
    assert_eq!(len, 3);
    let tool = captured.span("execute_tool calculator");
    assert_eq!(tool.span_kind, SpanKind::Internal);
    assert!(captured.is_child(captured.span("lookup"), tool));
    for (key, value) in [
        ("gen_ai.operation.name", "execute_tool"),
        ("gen_ai.tool.name", "calculator"),
        ("gen_ai.tool.call.id", "call-1"),
        ("gen_ai.tool.type", "function"),
    ] {
        assert_eq!(attribute(&captured, tool, key), value, "{key}");
    }
    let failed = captured.span("execute_tool search");
    assert_eq!(attribute(&captured, failed, "error.type"), "ToolError");
    let ok = [
        ("tool.name", "calculator"),
        ("tool.execution_success", "true"),
    ];
    let counted = point(&captured, "count_tool_execution", &ok);
    assert_eq!((counted.value, counted.attributes.len()), (1.0, 2));
    let failure = point(
        &captured,
        "count_tool_execution",
        &[
            ("tool.name", "search"),
            ("tool.execution_success", "false"),
            ("step.id", "step-3"),
        ],
    );
    assert_eq!(failure.value, 1.0);
    for tool in ["calculator", "search"] {
        let timed = point(
            &captured,
            "hist_tool_execution_time_ms",
            &[("tool.name", tool)],
        );
        assert_eq!(timed.count, 1);
    }
}

#[tokio::test]
async fn an_agent_step_holds_its_model_calls_and_records_the_step_and_user_message() {
    let ((), captured) = capture_async(async {
        user_message();
        let step = invoke_agent("support")
            .id("agent-1")
            .provider("openai")
            .start();
        step.instrument(async {
            let mut call = chat("openai", "gpt-4o-mini").start();
            call.usage(10, 2);
        })
        .await;
        let tool = step.in_scope(|| execute_tool("calculator").start());
        drop(tool);
    })
    .await;
    let step = captured.span("invoke_agent support");
    assert_eq!(step.span_kind, SpanKind::Internal);
    for (key, value) in [
        ("gen_ai.operation.name", "invoke_agent"),
        ("gen_ai.agent.name", "support"),
        ("gen_ai.agent.id", "agent-1"),
        ("gen_ai.provider.name", "openai"),
    ] {
        assert_eq!(attribute(&captured, step, key), value, "{key}");
    }
    assert!(captured.is_child(captured.span("chat gpt-4o-mini"), step));
    assert!(captured.is_child(captured.span("execute_tool calculator"), step));
    assert_eq!(
        point(&captured, "hist_step_execution_time_ms", &[]).count,
        1
    );
    assert_eq!(point(&captured, "count_user_message", &[]).value, 1.0);
}

#[test]
fn content_is_recorded_only_when_asked_bounded_and_redacted() {
    let _lock = CONTENT.lock().unwrap_or_else(|e| e.into_inner());
    let messages = serde_json::json!([{
        "role": "user",
        "parts": [{"type": "text", "content": "my key is api_key=sk-live-123 what is 2+2?"}]
    }]);
    let reply =
        serde_json::json!([{"role": "assistant", "parts": [{"type": "text", "content": "4"}]}]);
    let run = || {
        capture(|| {
            let mut call = chat("openai", "gpt-4o").input_messages(&messages).start();
            call.output_messages(&reply);
        })
        .1
    };
    let off = run();
    let call = off.span("chat gpt-4o");
    assert_eq!(off.attribute(call, "gen_ai.input.messages"), None);
    assert_eq!(off.attribute(call, "gen_ai.output.messages"), None);

    let _content = temporary_genai_config(GenAiConfig {
        capture_message_content: true,
    });
    let on = run();
    let call = on.span("chat gpt-4o");
    let input = attribute(&on, call, "gen_ai.input.messages");
    assert_eq!(
        input,
        r#"[{"parts":[{"content":"my key is api_key=[redacted] what is 2+2?","type":"text"}],"role":"user"}]"#
    );
    assert_eq!(
        attribute(&on, call, "gen_ai.output.messages"),
        r#"[{"parts":[{"content":"4","type":"text"}],"role":"assistant"}]"#
    );
    let _capture_lock = crate::capture::TEST_CONFIG_LOCK
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let limited = crate::capture::temporary_capture_config(crate::CaptureConfig {
        max_value_bytes: 64,
        ..crate::CaptureConfig::default()
    });
    let bounded = run();
    let input = attribute(
        &bounded,
        bounded.span("chat gpt-4o"),
        "gen_ai.input.messages",
    );
    assert!(input.contains("(truncated, original size:"), "{input}");
    drop(limited);
}
