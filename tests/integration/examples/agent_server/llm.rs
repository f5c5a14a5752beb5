//! A small fake OpenAI-style LLM server on 127.0.0.1, with the toolkit's HTTP layer: its SERVER
//! span continues the `traceparent` the agent's client sends, so the LLM's side of the call is
//! in the same trace. It answers chat completions as OpenAI's API does: a JSON completion with
//! its `usage`, or with `stream: true` server-sent event chunks ending in `data: [DONE]`, the
//! usage in a last chunk when `stream_options.include_usage` is set.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, body::Body};
use instrument::http::HttpLayer;
use serde::Deserialize;
use serde_json::{Value, json};

/// One chat message of a completion request (a tool's result included).
#[derive(Debug, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

/// A completion request.
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<Value>,
}

/// Starts the fake LLM; its address.
pub async fn start() -> std::io::Result<SocketAddr> {
    let app = Router::new()
        .route("/v1/chat/completions", post(complete))
        .layer(HttpLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(address)
}

/// Answers a question about arithmetic with a `calculator` tool call, and anything after a
/// tool result with a plain reply; the usage counts about four characters of the prompt per
/// token and a token per word of the reply.
async fn complete(Json(request): Json<ChatRequest>) -> Response {
    static COMPLETIONS: AtomicU64 = AtomicU64::new(1);
    tracing::info!(model = %request.model, messages = request.messages.len(), "fake LLM answering");
    let id = format!(
        "chatcmpl-demo-{}",
        COMPLETIONS.fetch_add(1, Ordering::Relaxed)
    );
    let model = format!("{}-2024-07-18", request.model);
    let last = request.messages.last();
    let after_tool = last.is_some_and(|m| m.role == "tool");
    let (message, finish_reason) = match last {
        Some(m) if !after_tool && m.content.contains('+') => (
            json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": "call-1",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": m.content.clone()}
                }]
            }),
            "tool_calls",
        ),
        Some(m) if after_tool => (
            json!({"role": "assistant", "content": format!("The answer is {}.", m.content)}),
            "stop",
        ),
        _ => (
            json!({"role": "assistant", "content": "Once upon a time, a span met its parent."}),
            "stop",
        ),
    };
    let prompt: usize = request.messages.iter().map(|m| m.content.len()).sum();
    let completion = message["content"]
        .as_str()
        .map_or(1, |text| text.split_whitespace().count());
    let usage = json!({
        "prompt_tokens": prompt / 4 + 1,
        "completion_tokens": completion,
        "total_tokens": prompt / 4 + 1 + completion
    });
    if !request.stream {
        return Json(json!({
            "id": id,
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": usage
        }))
        .into_response();
    }
    let chunk = |choices: Value, usage: Value| {
        let chunk = json!({
            "id": id, "object": "chat.completion.chunk", "model": model,
            "choices": choices, "usage": usage
        });
        Ok::<_, std::io::Error>(format!("data: {chunk}\n\n"))
    };
    let mut events = vec![chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
        Value::Null,
    )];
    let content = message["content"].as_str().unwrap_or_default();
    for word in content.split_inclusive(' ') {
        events.push(chunk(
            json!([{"index": 0, "delta": {"content": word}}]),
            Value::Null,
        ));
    }
    events.push(chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": finish_reason}]),
        Value::Null,
    ));
    if request
        .stream_options
        .is_some_and(|o| o["include_usage"] == true)
    {
        events.push(chunk(json!([]), usage));
    }
    events.push(Ok("data: [DONE]\n\n".to_owned()));
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(futures_util::stream::iter(events)),
    )
        .into_response()
}
