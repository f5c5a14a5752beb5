//! The original application, re-created as a runnable service: an axum server whose handlers call
//! an agent manager (`#[trace_method]`), which runs a step → LLM call → tool call chain against a
//! fake OpenAI-style server (recorded as GenAI `invoke_agent`, `chat` and `execute_tool` spans
//! with their metrics) and keeps its history in SQLite through the one traced-and-monitored sqlx
//! pool.
//!
//! `cargo run -p instrument-integration --example agent_server -- --demo` starts it, drives a
//! scripted set of requests against itself, prints what happened and exits; without `--demo` it
//! serves on
//! `127.0.0.1:8283` until Ctrl-C. With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans, metrics and logs
//! go over OTLP; otherwise the console prints each trace as a tree.

mod demo;
mod llm;
mod manager;
mod store;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use instrument::db::sqlx::InstrumentedPool;
use instrument::genai::OpenAiMiddleware;
use instrument::http::TracingMiddleware;
use instrument::http::{HttpConfig, HttpError, HttpLayer};
use serde::{Deserialize, Serialize};
use sqlx::Sqlite;

use manager::{AgentManager, LlmAuth, LlmSettings};

/// What every handler gets: the pool and the manager that uses it.
#[derive(Clone)]
struct AppState {
    pool: InstrumentedPool<Sqlite>,
    manager: Arc<AgentManager>,
}

/// A user message, as the API receives it (its keys are captured on the server span; the
/// `api_key` is recorded `[redacted]`).
#[derive(Deserialize)]
struct MessageRequest {
    message: String,
    api_key: Option<String>,
}

/// The reply of `GET /v1/agents/{agent_id}`.
#[derive(Serialize)]
struct AgentView {
    id: String,
    name: String,
    model: String,
    messages: i64,
}

async fn get_agent(
    State(state): State<AppState>,
    Path(agent_id): Path<String>,
) -> Result<Json<AgentView>, HttpError> {
    let agent = state.manager.get_agent(&agent_id).await?;
    let (messages,): (i64,) = sqlx::query_as("SELECT count(*) FROM messages WHERE agent_id = ?")
        .bind(&agent_id)
        .fetch_one(&state.pool)
        .await?;
    tracing::info!(agent_id = %agent.id, messages, "agent looked up");
    Ok(Json(AgentView {
        id: agent.id,
        name: agent.name,
        model: agent.model,
        messages,
    }))
}

async fn send_message(
    State(state): State<AppState>,
    Path(agent_id): Path<String>,
    Json(request): Json<MessageRequest>,
) -> Result<Json<serde_json::Value>, HttpError> {
    tracing::info!(agent_id = %agent_id, "message received");
    let api_key = request.api_key.as_deref().unwrap_or("sk-demo-default");
    let reply = state
        .manager
        .send_message(&agent_id, &request.message, api_key, false)
        .await?;
    Ok(Json(serde_json::json!({ "reply": reply })))
}

async fn stream_message(
    State(state): State<AppState>,
    Path(agent_id): Path<String>,
    Json(request): Json<MessageRequest>,
) -> Result<Response, HttpError> {
    let api_key = request.api_key.as_deref().unwrap_or("sk-demo-default");
    let reply = state
        .manager
        .send_message(&agent_id, &request.message, api_key, true)
        .await?;
    if reply.len() > 30 {
        tracing::warn!(bytes = reply.len(), "a long reply, streamed in pieces");
    }
    let chunks: Vec<Result<String, std::io::Error>> = reply
        .split_inclusive(' ')
        .map(|word| Ok(format!("data: {word}\n\n")))
        .collect();
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(axum::body::Body::from_stream(futures_util::stream::iter(
            chunks,
        )))
        .map_err(|e| HttpError::internal(e.to_string()))
}

/// The service's routes behind the toolkit's HTTP layer: `GET /v1/health` is not traced, the
/// message endpoint's JSON keys are captured, and every response names its trace.
fn app(state: AppState) -> Router {
    let config = HttpConfig::default()
        .capture_request_body(["^POST /v1/agents/\\{agent_id\\}/messages$"])
        .and_then(|config| config.trace_id_header("x-trace-id"))
        .expect("valid settings");
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/agents/{agent_id}", get(get_agent))
        .route("/v1/agents/{agent_id}/messages", post(send_message))
        .route(
            "/v1/agents/{agent_id}/messages/stream",
            post(stream_message),
        )
        .with_state(state)
        .layer(HttpLayer::with_config(config))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = std::env::args().any(|arg| arg == "--demo");
    let telemetry = instrument::init();
    let llm_address = llm::start().await?;
    let pool = store::open().await?;
    let manager = AgentManager {
        pool: pool.clone(),
        // A `chat {model}` span per LLM call, read from the request and the reply, with the
        // HTTP CLIENT span under it.
        llm: reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(OpenAiMiddleware::default())
            .with(TracingMiddleware)
            .build(),
        llm_url: format!("http://{llm_address}/v1/chat/completions"),
        settings: LlmSettings {
            model: "gpt-4o-mini".into(),
            temperature: 0.2,
            auth: LlmAuth {
                token: "sk-llm-provider-secret".into(),
                organization: "org-demo".into(),
            },
        },
    };
    let closing_pool = pool.clone();
    let state = AppState {
        pool,
        manager: Arc::new(manager),
    };
    let bind = if demo {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:8283"
    };
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app(state)).await });
    if demo {
        demo::run(address).await?;
    } else {
        println!("agent server on http://{address}; Ctrl-C stops it");
        tokio::signal::ctrl_c().await?;
    }
    server.abort();
    // The pool's gauges keep the state read just before the close, for the table at exit.
    closing_pool.close().await;
    drop(closing_pool);
    let _ = std::fs::remove_file(store::database_file());
    drop(telemetry);
    Ok(())
}
