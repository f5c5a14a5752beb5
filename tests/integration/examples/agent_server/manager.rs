//! The agent manager: the original service's step → LLM call → tool call chain, each method a
//! span (`#[trace_method]`). The library records the GenAI side: a step is an `invoke_agent`
//! span, each LLM call a `chat {model}` CLIENT span read from the request and the reply by the
//! client's `OpenAiMiddleware`, a tool an `execute_tool {tool}` span; with them the GenAI
//! metrics (`gen_ai.client.operation.duration`, `gen_ai.client.token.usage`) and the original's
//! agent metrics (`hist_step_execution_time_ms`, `hist_llm_execution_time_ms`, `hist_ttft_ms`,
//! `hist_tool_execution_time_ms`, `count_tool_execution`, `count_user_message`).

use instrument::db::sqlx::InstrumentedPool;
use instrument::genai;
use instrument::http::HttpError;
use instrument::trace_method;
use reqwest_middleware::ClientWithMiddleware;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Sqlite;

use crate::store;

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

/// What one LLM call returned: its text, or the tool it asks for (call id, name, arguments).
#[derive(Debug)]
pub struct Completion {
    pub content: Option<String>,
    pub tool_call: Option<(String, String, String)>,
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

    /// Handles one user message: loads the agent and its history, runs a step (its LLM reply
    /// streamed when `stream`), saves both.
    pub async fn send_message(
        &self,
        agent_id: &str,
        text: &str,
        api_key: &str,
        stream: bool,
    ) -> Result<String, HttpError> {
        genai::user_message();
        let agent_state = self.get_agent(agent_id).await?;
        let mut messages = store::messages(&self.pool, agent_id).await?;
        messages.push(Message {
            id: "message-new".into(),
            role: "user".into(),
            text: text.to_owned(),
        });
        let reply = self.step(&agent_state, &messages, api_key, stream).await?;
        store::save_exchange(&self.pool, agent_id, text, &reply).await?;
        Ok(reply)
    }

    /// One agent step, an `invoke_agent` span: an LLM call, and the tool it asks for followed
    /// by a second call.
    async fn step(
        &self,
        agent_state: &AgentState,
        messages: &[Message],
        api_key: &str,
        stream: bool,
    ) -> Result<String, HttpError> {
        let mut invocation = genai::invoke_agent(agent_state.name.clone())
            .id(agent_state.id.clone())
            .provider("openai")
            .start();
        let mut conversation: Vec<Value> = messages
            .iter()
            .map(|m| json!({"role": m.role, "content": m.text}))
            .collect();
        conversation.insert(0, json!({"role": "system", "content": agent_state.system}));
        let reply = invocation
            .instrument(async {
                let first = self
                    .call_llm(api_key, &self.settings, &conversation, stream)
                    .await?;
                let Some((call_id, tool, arguments)) = first.tool_call else {
                    return Ok(first.content.unwrap_or_default());
                };
                let result = self.execute_tool(&call_id, &tool, &arguments).await;
                conversation
                    .push(json!({"role": "tool", "tool_call_id": call_id, "content": result}));
                let second = self
                    .call_llm(api_key, &self.settings, &conversation, stream)
                    .await?;
                Ok::<_, HttpError>(second.content.unwrap_or_default())
            })
            .await;
        if reply.is_err() {
            invocation.fail("HttpError");
        }
        reply
    }

    /// One call to the LLM through the client's `OpenAiMiddleware` (the `chat {model}` span,
    /// whose HTTP CLIENT span propagates `traceparent` to the fake server): a JSON reply, or
    /// with `stream` a server-sent event stream read chunk by chunk.
    async fn call_llm(
        &self,
        api_key: &str,
        settings: &LlmSettings,
        conversation: &[Value],
        stream: bool,
    ) -> Result<Completion, HttpError> {
        let bad_gateway = |e: reqwest_middleware::Error| {
            HttpError::new(http::StatusCode::BAD_GATEWAY, e.to_string())
        };
        let mut request = json!({
            "model": settings.model,
            "temperature": settings.temperature,
            "max_tokens": 256,
            "messages": conversation,
        });
        if stream {
            request["stream"] = json!(true);
            request["stream_options"] = json!({"include_usage": true});
        }
        let mut response = self
            .llm
            .post(&self.llm_url)
            .bearer_auth(api_key)
            .json(&request)
            .send()
            .await
            .map_err(bad_gateway)?;
        if !stream {
            let reply: Value = response.json().await.map_err(|e| bad_gateway(e.into()))?;
            return Ok(Completion::from_message(&reply["choices"][0]["message"]));
        }
        let mut events = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| bad_gateway(e.into()))? {
            events.extend_from_slice(&chunk);
        }
        let content: String = String::from_utf8_lossy(&events)
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .filter_map(|data| serde_json::from_str::<Value>(data).ok())
            .filter_map(|chunk| {
                chunk["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        Ok(Completion {
            content: Some(content),
            tool_call: None,
        })
    }

    /// Runs a tool in its `execute_tool` span: the calculator adds the numbers it is given.
    async fn execute_tool(&self, call_id: &str, tool: &str, arguments: &str) -> String {
        let execution = genai::execute_tool(tool.to_owned())
            .call_id(call_id.to_owned())
            .tool_type("function")
            .start();
        execution.in_scope(|| {
            tracing::info!(tool, "executing a tool");
            let sum: i64 = arguments
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<i64>().ok())
                .sum();
            sum.to_string()
        })
    }
}

impl Completion {
    /// The content and first tool call of a reply's message.
    fn from_message(message: &Value) -> Self {
        let tool_call = message["tool_calls"][0].as_object().map(|call| {
            let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
            let function = &call["function"];
            (
                text(&call["id"]),
                text(&function["name"]),
                text(&function["arguments"]),
            )
        });
        Self {
            content: message["content"].as_str().map(str::to_owned),
            tool_call,
        }
    }
}
