//! The agent manager: the original service's step → LLM call → tool call chain, each method a
//! span (`#[trace_method]`), durations recorded into the original's histograms.

use std::time::Instant;

use instrument::db::sqlx::InstrumentedPool;
use instrument::http::HttpError;
use instrument::metrics::{Counter, Histogram};
use instrument::{KeyValue, Metrics, metric, trace_method};
use reqwest_middleware::ClientWithMiddleware;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Sqlite;

use crate::store;

/// The original registry's agent metrics, under their original names.
#[derive(Metrics)]
#[metrics(scope = "agent")]
pub struct AgentMetrics {
    /// Time to first token of a streamed reply, in milliseconds.
    #[metric(name = "hist_ttft_ms", unit = "ms")]
    pub ttft: Histogram<f64>,
    /// User messages received.
    #[metric(name = "count_user_message", unit = "1")]
    pub user_messages: Counter<u64>,
    /// Output tokens per LLM call.
    #[metric(name = "hist_message_output_tokens", unit = "1")]
    pub output_tokens: Histogram<u64>,
}

/// An agent as stored.
#[derive(Debug, Clone, Serialize)]
pub struct AgentState {
    pub id: String,
    pub name: String,
    pub model: String,
    pub system: String,
}

/// One message of an agent's history.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: String,
    pub role: String,
    pub text: String,
}

/// How the agent reaches its LLM; `auth.token` is a secret at any depth.
#[derive(Debug, Serialize)]
pub struct LlmSettings {
    pub model: String,
    pub temperature: f64,
    pub auth: LlmAuth,
}

/// The LLM credentials.
#[derive(Debug, Serialize)]
pub struct LlmAuth {
    pub token: String,
    pub organization: String,
}

/// What one LLM call returned.
#[derive(Debug)]
pub struct Completion {
    pub content: Option<String>,
    pub tool_call: Option<(String, String)>,
}

/// Runs agent steps against the store and the LLM.
pub struct AgentManager {
    pub pool: InstrumentedPool<Sqlite>,
    pub llm: ClientWithMiddleware,
    pub llm_url: String,
    pub settings: LlmSettings,
}

#[trace_method]
impl AgentManager {
    /// The agent `agent_id`, or a 404.
    pub async fn get_agent(&self, agent_id: &str) -> Result<AgentState, HttpError> {
        store::agent(&self.pool, agent_id).await?.ok_or_else(|| {
            HttpError::new(http::StatusCode::NOT_FOUND, format!("no agent {agent_id}"))
        })
    }

    /// Handles one user message: loads the agent and its history, runs a step, saves both.
    pub async fn send_message(
        &self,
        agent_id: &str,
        text: &str,
        api_key: &str,
    ) -> Result<String, HttpError> {
        AgentMetrics::global().user_messages.add(1, &[]);
        let agent_state = self.get_agent(agent_id).await?;
        let mut messages = store::messages(&self.pool, agent_id).await?;
        messages.push(Message {
            id: "message-new".into(),
            role: "user".into(),
            text: text.to_owned(),
        });
        let reply = self.step(&agent_state, &messages, api_key).await?;
        store::save_exchange(&self.pool, agent_id, text, &reply).await?;
        Ok(reply)
    }

    /// One agent step: an LLM call, and the tool it asks for followed by a second call.
    #[metric(histogram = "hist_step_execution_time_ms")]
    async fn step(
        &self,
        agent_state: &AgentState,
        messages: &[Message],
        api_key: &str,
    ) -> Result<String, HttpError> {
        let mut conversation: Vec<Value> = messages
            .iter()
            .map(|m| json!({"role": m.role, "content": m.text}))
            .collect();
        conversation.insert(0, json!({"role": "system", "content": agent_state.system}));
        let first = self
            .call_llm(api_key, &self.settings, &conversation)
            .await?;
        let Some((tool, arguments)) = first.tool_call else {
            return Ok(first.content.unwrap_or_default());
        };
        let result = self.execute_tool(&tool, &arguments).await;
        conversation.push(json!({"role": "tool", "content": result}));
        let second = self
            .call_llm(api_key, &self.settings, &conversation)
            .await?;
        Ok(second.content.unwrap_or_default())
    }

    /// One call to the LLM: a CLIENT span with `traceparent` propagated to the fake server.
    #[metric(histogram = "hist_llm_execution_time_ms")]
    async fn call_llm(
        &self,
        api_key: &str,
        settings: &LlmSettings,
        conversation: &[Value],
    ) -> Result<Completion, HttpError> {
        let started = Instant::now();
        let response: Value = self
            .llm
            .post(&self.llm_url)
            .bearer_auth(api_key)
            .json(&json!({"model": settings.model, "messages": conversation}))
            .send()
            .await
            .map_err(|e| HttpError::new(http::StatusCode::BAD_GATEWAY, e.to_string()))?
            .json()
            .await
            .map_err(|e| HttpError::new(http::StatusCode::BAD_GATEWAY, e.to_string()))?;
        let model = KeyValue::new("model", settings.model.clone());
        let metrics = AgentMetrics::global();
        metrics.ttft.record(
            started.elapsed().as_secs_f64() * 1_000.0,
            std::slice::from_ref(&model),
        );
        let tokens = response["usage"]["completion_tokens"].as_u64().unwrap_or(0);
        metrics.output_tokens.record(tokens, &[model]);
        let message = &response["choices"][0]["message"];
        let tool_call = message["tool_calls"][0]["function"]
            .as_object()
            .map(|call| {
                let text = |key: &str| call[key].as_str().unwrap_or_default().to_owned();
                (text("name"), text("arguments"))
            });
        Ok(Completion {
            content: message["content"].as_str().map(str::to_owned),
            tool_call,
        })
    }

    /// Runs a tool: the calculator adds the numbers it is given.
    #[metric(
        histogram = "hist_tool_execution_time_ms",
        counter = "count_tool_execution"
    )]
    async fn execute_tool(&self, tool: &str, arguments: &str) -> String {
        tracing::info!(tool, "executing a tool");
        let sum: i64 = arguments
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse::<i64>().ok())
            .sum();
        sum.to_string()
    }
}
