//! A local OpenAI-style server (axum) for the adapter's tests, and a client through the adapter
//! and the HTTP client middleware.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post as route_post};
use serde_json::{Value, json};

use super::OpenAiMiddleware;
use crate::http::TracingMiddleware;

/// A reply as OpenAI's API gives it: whole, or as server-sent event chunks with the usage in
/// the last one when `stream_options.include_usage` is set; `429` for the model `busy`.
async fn complete(body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap();
    if request["model"] == "busy" {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "{\"error\":{\"type\":\"rate_limit\"}}",
        )
            .into_response();
    }
    let model = format!("{}-2024-07-18", request["model"].as_str().unwrap());
    if request["stream"] != true {
        let reply = json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "The answer is 4."}}],
            "usage": {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51}
        });
        return (
            [(header::CONTENT_TYPE, "application/json")],
            reply.to_string(),
        )
            .into_response();
    }
    let chunk = |choices: Value, usage: Value| {
        let chunk = json!({"id": "chatcmpl-2", "object": "chat.completion.chunk",
                           "model": model, "choices": choices, "usage": usage});
        format!("data: {chunk}\n\n")
    };
    let mut events = chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
        Value::Null,
    );
    for word in ["Once ", "upon ", "a time."] {
        events += &chunk(
            json!([{"index": 0, "delta": {"content": word}}]),
            Value::Null,
        );
    }
    events += &chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        Value::Null,
    );
    if request["stream_options"]["include_usage"] == true {
        events += &chunk(
            json!([]),
            json!({"prompt_tokens": 12, "completion_tokens": 5}),
        );
    }
    events += "data: [DONE]\n\n";
    ([(header::CONTENT_TYPE, "text/event-stream")], events).into_response()
}

pub(super) async fn server() -> SocketAddr {
    let app = Router::new()
        .route("/v1/chat/completions", route_post(complete))
        .route("/v1/models", get(|| async { "[]" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

pub(super) fn client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(OpenAiMiddleware::default())
        .with(TracingMiddleware)
        .build()
}

/// Posts `body` to the chat completions endpoint; the status and the reply's text as read.
pub(super) async fn post(address: SocketAddr, body: Value) -> (u16, String) {
    let response = client()
        .post(format!("http://{address}/v1/chat/completions"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.url().path(),
        "/v1/chat/completions",
        "the URL is kept"
    );
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}
