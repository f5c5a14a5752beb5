//! The adapter against a local OpenAI-style server (`fake.rs`): a whole reply, a streamed one, an
//! error status, a transport failure and content capture, each read by the application as it
//! would read it without the adapter; what the model call's span and metrics hold.

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;
use serde_json::{Value, json};

use super::fake::{client, post, server};
use crate::genai::tests::CONTENT;
use crate::genai::{GenAiConfig, temporary_genai_config};
use crate::testing::{Captured, capture_async};

fn attribute(captured: &Captured, span: &SpanData, key: &str) -> String {
    captured
        .attribute(span, key)
        .unwrap_or_else(|| panic!("{key} on {}: {:?}", span.name, span.attributes))
}

fn point_value(captured: &Captured, name: &str, pair: (&str, &str)) -> (f64, u64) {
    let pair = (pair.0.to_owned(), pair.1.to_owned());
    let points: Vec<_> = captured
        .metric_points(name)
        .into_iter()
        .filter(|p| p.attributes.contains(&pair))
        .collect();
    assert_eq!(points.len(), 1, "{name} {pair:?}: {points:?}");
    (points[0].value, points[0].count)
}

#[tokio::test]
async fn a_whole_reply_is_read_for_model_id_finish_reasons_and_usage() {
    let address = server().await;
    let ((status, text, models), captured) = capture_async(async {
        let (status, text) = post(
            address,
            json!({"model": "gpt-4o-mini", "max_tokens": 64, "temperature": 0.2, "n": 1,
                   "messages": [{"role": "user", "content": "What is 2+2?"}]}),
        )
        .await;
        let models = client()
            .get(format!("http://{address}/v1/models"))
            .send()
            .await
            .unwrap();
        (status, text, models.text().await.unwrap())
    })
    .await;
    assert_eq!(status, 200);
    let reply: Value = serde_json::from_str(&text).expect("the application reads the JSON whole");
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        "The answer is 4."
    );
    assert_eq!(models, "[]");

    let call = captured.span("chat gpt-4o-mini");
    assert_eq!(call.span_kind, SpanKind::Client);
    let http = captured.span("POST");
    assert!(
        captured.is_child(http, call),
        "the HTTP span is the call's child"
    );
    assert_eq!(
        captured.spans_named("GET").len(),
        1,
        "another request: no model call"
    );
    assert_eq!(captured.spans_named("chat gpt-4o-mini").len(), 1);
    for (key, value) in [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "openai"),
        ("gen_ai.request.model", "gpt-4o-mini"),
        ("gen_ai.request.max_tokens", "64"),
        ("gen_ai.request.temperature", "0.2"),
        ("server.address", "127.0.0.1"),
        ("server.port", &address.port().to_string()),
        ("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
        ("gen_ai.response.id", "chatcmpl-1"),
        ("gen_ai.response.finish_reasons", "[\"stop\"]"),
        ("gen_ai.usage.input_tokens", "42"),
        ("gen_ai.usage.output_tokens", "9"),
    ] {
        assert_eq!(attribute(&captured, call, key), value, "{key}");
    }
    for absent in [
        "gen_ai.request.choice.count",
        "gen_ai.request.stream",
        "gen_ai.response.time_to_first_chunk",
        "gen_ai.input.messages",
    ] {
        assert_eq!(captured.attribute(call, absent), None, "{absent}");
    }
    let usage = "gen_ai.client.token.usage";
    assert_eq!(
        point_value(&captured, usage, ("gen_ai.token.type", "input")),
        (42.0, 1)
    );
    assert_eq!(
        point_value(&captured, usage, ("gen_ai.token.type", "output")),
        (9.0, 1)
    );
    let model = ("gen_ai.response.model", "gpt-4o-mini-2024-07-18");
    assert_eq!(
        point_value(&captured, "gen_ai.client.operation.duration", model).1,
        1
    );
    let model_name = ("model.name", "gpt-4o-mini");
    assert_eq!(
        point_value(&captured, "hist_llm_execution_time_ms", model_name).1,
        1
    );
    assert!(
        captured.metric_points("hist_ttft_ms").is_empty(),
        "not streamed"
    );
}

#[tokio::test]
async fn a_streamed_reply_ends_the_call_at_its_last_chunk_with_the_usage_of_that_chunk() {
    let address = server().await;
    let ((status, text), captured) = capture_async(post(
        address,
        json!({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
               "messages": [{"role": "user", "content": "Tell me a story"}]}),
    ))
    .await;
    assert_eq!(status, 200);
    assert!(
        text.starts_with("data: {") && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    assert_eq!(
        text.matches("data: ").count(),
        7,
        "every event reaches the application"
    );

    let call = captured.span("chat gpt-4o");
    for (key, value) in [
        ("gen_ai.request.stream", "true"),
        ("gen_ai.response.model", "gpt-4o-2024-07-18"),
        ("gen_ai.response.id", "chatcmpl-2"),
        ("gen_ai.response.finish_reasons", "[\"stop\"]"),
        ("gen_ai.usage.input_tokens", "12"),
        ("gen_ai.usage.output_tokens", "5"),
    ] {
        assert_eq!(attribute(&captured, call, key), value, "{key}");
    }
    let first: f64 = attribute(&captured, call, "gen_ai.response.time_to_first_chunk")
        .parse()
        .unwrap();
    let whole = (call.end_time.duration_since(call.start_time))
        .unwrap()
        .as_secs_f64();
    assert!(first > 0.0 && first <= whole, "{first} within {whole}");
    let usage = "gen_ai.client.token.usage";
    assert_eq!(
        point_value(&captured, usage, ("gen_ai.token.type", "output")),
        (5.0, 1)
    );
    let model = ("gen_ai.request.model", "gpt-4o");
    let chunk = "gen_ai.client.operation.time_to_first_chunk";
    assert_eq!(point_value(&captured, chunk, model).1, 1);
    assert_eq!(
        point_value(&captured, "hist_ttft_ms", ("model.name", "gpt-4o")).1,
        1
    );
}

#[tokio::test]
async fn an_error_status_fails_the_call_and_the_reply_reaches_the_application() {
    let address = server().await;
    let ((status, text), captured) =
        capture_async(post(address, json!({"model": "busy", "messages": []}))).await;
    assert_eq!(status, 429);
    assert!(text.contains("rate_limit"));
    let call = captured.span("chat busy");
    assert_eq!(attribute(&captured, call, "error.type"), "429");
    assert!(matches!(call.status, Status::Error { .. }));
    let failed = ("error.type", "429");
    assert_eq!(
        point_value(&captured, "gen_ai.client.operation.duration", failed).1,
        1
    );
    assert!(
        captured
            .metric_points("gen_ai.client.token.usage")
            .is_empty()
    );
}

// The lock orders this test with the other content-capture test for its whole run; nothing
// else on this test's own runtime takes it.
#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn with_content_capture_the_messages_of_both_kinds_of_reply_are_recorded() {
    let _lock = CONTENT.lock().unwrap_or_else(|e| e.into_inner());
    let _content = temporary_genai_config(GenAiConfig {
        capture_message_content: true,
    });
    let address = server().await;
    let messages = json!([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "token: sk-live-9 — what is 2+2?"}
    ]);
    let (_, whole) = capture_async(post(
        address,
        json!({"model": "gpt-4o-mini", "messages": messages}),
    ))
    .await;
    let (_, streamed) = capture_async(post(
        address,
        json!({"model": "gpt-4o", "stream": true, "messages": messages}),
    ))
    .await;
    let call = whole.span("chat gpt-4o-mini");
    assert_eq!(
        attribute(&whole, call, "gen_ai.input.messages"),
        r#"[{"parts":[{"content":"Be brief.","type":"text"}],"role":"system"},{"parts":[{"content":"token: [redacted] — what is 2+2?","type":"text"}],"role":"user"}]"#
    );
    assert_eq!(
        attribute(&whole, call, "gen_ai.output.messages"),
        r#"[{"finish_reason":"stop","parts":[{"content":"The answer is 4.","type":"text"}],"role":"assistant"}]"#
    );
    let call = streamed.span("chat gpt-4o");
    assert_eq!(
        attribute(&streamed, call, "gen_ai.output.messages"),
        r#"[{"finish_reason":"stop","parts":[{"content":"Once upon a time.","type":"text"}],"role":"assistant"}]"#
    );
    assert_eq!(
        streamed.attribute(call, "gen_ai.usage.input_tokens"),
        None,
        "no `include_usage`: no usage, none guessed"
    );
}

#[tokio::test]
async fn a_transport_failure_is_the_error_type_of_the_call() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let (result, captured) = capture_async(
        client()
            .post(format!("http://{address}/v1/chat/completions"))
            .body(json!({"model": "gpt-4o"}).to_string())
            .send(),
    )
    .await;
    assert!(result.is_err(), "nothing listens");
    let call = captured.span("chat gpt-4o");
    assert_eq!(attribute(&captured, call, "error.type"), "connect");
    let failed = ("error.type", "connect");
    assert_eq!(
        point_value(&captured, "gen_ai.client.operation.duration", failed).1,
        1
    );
}
