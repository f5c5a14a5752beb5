//! LLM calls as telemetry (feature `genai`): the OpenTelemetry GenAI semantic conventions'
//! spans and client metrics, and the original's agent metrics, recorded by the same calls.
//!
//! - [`chat`]: a model call, the CLIENT span `chat {model}` with the provider, models, request
//!   parameters, response id, finish reasons and token usage; `gen_ai.client.operation.duration`,
//!   `gen_ai.client.token.usage` (`input` and `output`), for a streamed reply the time to its
//!   first chunk; the original's `hist_llm_execution_time_ms` and `hist_ttft_ms`.
//! - [`execute_tool`]: a tool execution, the span `execute_tool {tool}`; the original's
//!   `hist_tool_execution_time_ms` and `count_tool_execution`.
//! - [`invoke_agent`]: an agent invocation or step, the span `invoke_agent {name}`; the
//!   original's `hist_step_execution_time_ms`.
//! - [`user_message`]: the original's `count_user_message`.
//! - [`OpenAiMiddleware`] (with the `reqwest` feature): all of a model call read from an
//!   OpenAI-compatible chat completions request and its reply, streamed or not.
//!
//! Each operation starts as a child of the current span (a `#[trace_method]` call's, an HTTP
//! request's, any OpenTelemetry span) and ends when its guard drops, in sync and async code
//! alike; `in_scope` and `instrument` make its span current for the work it covers. Every
//! metric carries the request-context attributes of where the operation started. Prompt and
//! completion content is recorded only when asked ([`GenAiConfig`]).
//!
//! ```
//! use instrument::genai;
//!
//! #[instrument::trace_method]
//! async fn step(question: &str) -> String {
//!     genai::user_message();
//!     let mut call = genai::chat("openai", "gpt-4o").max_tokens(256).start();
//!     call.response("gpt-4o-2024-08-06", "chatcmpl-1").usage(42, 9);
//!     drop(call);
//!     let tool = genai::execute_tool("calculator").call_id("call-1").start();
//!     let answer = tool.instrument(async { question.len().to_string() }).await;
//!     drop(tool);
//!     answer
//! }
//! # let _ = step("2+2");
//! ```

mod agent;
mod call;
mod chat;
mod config;
mod metrics;
mod names;
#[cfg(feature = "reqwest")]
mod openai;
mod operation;
mod span_names;
#[cfg(test)]
mod tests;
mod tool;

pub use agent::{AgentInvocation, AgentRequest, invoke_agent, user_message};
pub use call::ChatCall;
pub use chat::{ChatRequest, chat};
pub(crate) use config::apply_environment;
pub use config::{
    CAPTURE_MESSAGE_CONTENT_VARIABLE, GenAiConfig, genai_config, set_genai_config,
    temporary_genai_config,
};
pub use metrics::GenAiMetrics;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use openai::OpenAiMiddleware;
pub use operation::InScope;
pub use tool::{ToolCall, ToolRequest, execute_tool};
