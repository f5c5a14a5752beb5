//! A small fake OpenAI-style LLM server on 127.0.0.1, with the toolkit's HTTP layer: its SERVER
//! span continues the `traceparent` the agent's client sends, so the LLM's side of the call is
//! in the same trace.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::routing::post;
use instrument::http::HttpLayer;
use serde::Deserialize;
use serde_json::{Value, json};

/// One chat message of a completion request.
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
/// tool result with a plain reply.
async fn complete(Json(request): Json<ChatRequest>) -> Json<Value> {
    tracing::info!(model = %request.model, messages = request.messages.len(), "fake LLM answering");
    let last = request.messages.last();
    let after_tool = last.is_some_and(|m| m.role == "tool");
    let message = match last {
        Some(m) if !after_tool && m.content.contains('+') => json!({
            "role": "assistant",
            "content": null,
            "tool_calls": [{
                "id": "call-1",
                "type": "function",
                "function": {"name": "calculator", "arguments": m.content.clone()}
            }]
        }),
        Some(m) if after_tool => {
            json!({"role": "assistant", "content": format!("The answer is {}.", m.content)})
        }
        _ => json!({"role": "assistant", "content": "Once upon a time, a span met its parent."}),
    };
    Json(json!({
        "id": "chatcmpl-demo",
        "object": "chat.completion",
        "model": request.model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51}
    }))
}
