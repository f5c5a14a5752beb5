//! Every attribute name the module records. The `gen_ai.*` names are the
//! `opentelemetry-semantic-conventions` 0.33 constants (behind its `semconv_experimental`
//! feature), which the crate marks deprecated because the GenAI conventions moved to their own
//! repository (`open-telemetry/semantic-conventions-genai`), where the names are unchanged; the
//! values (`chat`, `input`, ...) are the conventions' well-known values. The metric names,
//! literals in the `#[derive(Metrics)]` of `metrics.rs`, are checked against the crate's
//! constants by its tests. The original's attribute names are those of its call sites.
#![allow(deprecated)]

use opentelemetry_semantic_conventions::attribute;

pub(crate) use attribute::{ERROR_TYPE, SERVER_ADDRESS, SERVER_PORT};

pub(crate) const OPERATION_NAME: &str = attribute::GEN_AI_OPERATION_NAME;
pub(crate) const PROVIDER_NAME: &str = attribute::GEN_AI_PROVIDER_NAME;
pub(crate) const REQUEST_MODEL: &str = attribute::GEN_AI_REQUEST_MODEL;
pub(crate) const REQUEST_MAX_TOKENS: &str = attribute::GEN_AI_REQUEST_MAX_TOKENS;
pub(crate) const REQUEST_TEMPERATURE: &str = attribute::GEN_AI_REQUEST_TEMPERATURE;
pub(crate) const REQUEST_TOP_P: &str = attribute::GEN_AI_REQUEST_TOP_P;
pub(crate) const REQUEST_TOP_K: &str = attribute::GEN_AI_REQUEST_TOP_K;
pub(crate) const REQUEST_FREQUENCY_PENALTY: &str = attribute::GEN_AI_REQUEST_FREQUENCY_PENALTY;
pub(crate) const REQUEST_PRESENCE_PENALTY: &str = attribute::GEN_AI_REQUEST_PRESENCE_PENALTY;
pub(crate) const REQUEST_STOP_SEQUENCES: &str = attribute::GEN_AI_REQUEST_STOP_SEQUENCES;
pub(crate) const REQUEST_SEED: &str = attribute::GEN_AI_REQUEST_SEED;
pub(crate) const REQUEST_CHOICE_COUNT: &str = attribute::GEN_AI_REQUEST_CHOICE_COUNT;
pub(crate) const REQUEST_STREAM: &str = attribute::GEN_AI_REQUEST_STREAM;
pub(crate) const RESPONSE_MODEL: &str = attribute::GEN_AI_RESPONSE_MODEL;
pub(crate) const RESPONSE_ID: &str = attribute::GEN_AI_RESPONSE_ID;
pub(crate) const RESPONSE_FINISH_REASONS: &str = attribute::GEN_AI_RESPONSE_FINISH_REASONS;
pub(crate) const RESPONSE_TIME_TO_FIRST_CHUNK: &str =
    attribute::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK;
pub(crate) const USAGE_INPUT_TOKENS: &str = attribute::GEN_AI_USAGE_INPUT_TOKENS;
pub(crate) const USAGE_OUTPUT_TOKENS: &str = attribute::GEN_AI_USAGE_OUTPUT_TOKENS;
pub(crate) const TOKEN_TYPE: &str = attribute::GEN_AI_TOKEN_TYPE;
pub(crate) const INPUT_MESSAGES: &str = attribute::GEN_AI_INPUT_MESSAGES;
pub(crate) const OUTPUT_MESSAGES: &str = attribute::GEN_AI_OUTPUT_MESSAGES;
pub(crate) const TOOL_NAME: &str = attribute::GEN_AI_TOOL_NAME;
pub(crate) const TOOL_CALL_ID: &str = attribute::GEN_AI_TOOL_CALL_ID;
pub(crate) const TOOL_TYPE: &str = attribute::GEN_AI_TOOL_TYPE;
pub(crate) const AGENT_ID: &str = attribute::GEN_AI_AGENT_ID;
pub(crate) const AGENT_NAME: &str = attribute::GEN_AI_AGENT_NAME;

/// The `gen_ai.operation.name` of a model call.
pub(crate) const CHAT: &str = "chat";
/// The `gen_ai.operation.name` of a tool execution.
pub(crate) const EXECUTE_TOOL: &str = "execute_tool";
/// The `gen_ai.operation.name` of an agent invocation.
pub(crate) const INVOKE_AGENT: &str = "invoke_agent";
/// The `gen_ai.token.type` of prompt tokens.
pub(crate) const TOKEN_INPUT: &str = "input";
/// The `gen_ai.token.type` of completion tokens.
pub(crate) const TOKEN_OUTPUT: &str = "output";
/// The semantic conventions' `error.type` when no better class is known.
#[cfg(feature = "reqwest")]
pub(crate) const OTHER_ERROR: &str = "_OTHER";

/// The original's attribute naming the model on its LLM and time-to-first-token histograms.
pub(crate) const MODEL_NAME_KEY: &str = "model.name";
/// The original's attribute naming the tool on its tool metrics.
pub(crate) const TOOL_NAME_KEY: &str = "tool.name";
/// The original's attribute saying whether a tool execution succeeded (`count_tool_execution`).
pub(crate) const TOOL_SUCCESS_KEY: &str = "tool.execution_success";
/// The original's attribute naming the step of a failed tool execution (`count_tool_execution`).
pub(crate) const STEP_ID_KEY: &str = "step.id";
