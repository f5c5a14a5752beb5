//! The instruments GenAI operations record into: the semantic conventions' client metrics and
//! the original's agent metrics, all with the request-context attributes of the operation's
//! context; and what each operation records into them (`recorder.rs`).

mod recorder;
#[cfg(test)]
mod tests;

use std::time::Duration;

use opentelemetry::{KeyValue, StringValue};

use super::names::{
    ERROR_TYPE, MODEL_NAME_KEY, OPERATION_NAME, PROVIDER_NAME, REQUEST_MODEL, RESPONSE_MODEL,
    SERVER_ADDRESS, SERVER_PORT, TOKEN_TYPE,
};
use crate::metrics::{Counter, Histogram};
use instrument_macros::Metrics;

pub(crate) use recorder::Recorder;

/// The GenAI instruments: the semantic conventions' client metrics (bucket boundaries as the
/// conventions give them) and the original's agent metrics under their original names, units
/// and descriptions. Recorded by [`chat`](super::chat), [`execute_tool`](super::execute_tool),
/// [`invoke_agent`](super::invoke_agent) and [`user_message`](super::user_message); declared
/// here so that an application can read their names and record more points of its own.
///
/// ```
/// let metrics = instrument::genai::GenAiMetrics::global();
/// metrics.user_messages.add(1, &[]);
/// ```
#[derive(Debug, Metrics)]
#[metrics(scope = "instrument", crate = crate)]
pub struct GenAiMetrics {
    /// GenAI operation duration.
    #[metric(
        name = "gen_ai.client.operation.duration",
        unit = "s",
        buckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
    )]
    pub operation_duration: Histogram<f64>,
    /// Number of input and output tokens used.
    #[metric(
        name = "gen_ai.client.token.usage",
        unit = "{token}",
        buckets = [1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0, 67108864.0]
    )]
    pub token_usage: Histogram<u64>,
    /// Time to receive the first chunk, measured from when the client issues the generation
    /// request to when the first chunk is received in the response stream.
    #[metric(
        name = "gen_ai.client.operation.time_to_first_chunk",
        unit = "s",
        buckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
    )]
    pub time_to_first_chunk: Histogram<f64>,
    /// Histogram for LLM execution time (ms)
    #[metric(name = "hist_llm_execution_time_ms", unit = "ms")]
    pub llm_execution_time: Histogram<f64>,
    /// Histogram for the Time to First Token (ms)
    #[metric(name = "hist_ttft_ms", unit = "ms")]
    pub ttft: Histogram<f64>,
    /// Histogram for tool execution time (ms)
    #[metric(name = "hist_tool_execution_time_ms", unit = "ms")]
    pub tool_execution_time: Histogram<f64>,
    /// Histogram for step execution time (ms)
    #[metric(name = "hist_step_execution_time_ms", unit = "ms")]
    pub step_execution_time: Histogram<f64>,
    /// Counts the number of tools executed.
    #[metric(name = "count_tool_execution", unit = "1")]
    pub tool_executions: Counter<u64>,
    /// Counts the number of messages sent by the user
    #[metric(name = "count_user_message", unit = "1")]
    pub user_messages: Counter<u64>,
}

/// What a finished model call records.
pub(crate) struct ChatPoints<'a> {
    pub(crate) provider: &'a StringValue,
    pub(crate) request_model: &'a StringValue,
    pub(crate) response_model: Option<&'a StringValue>,
    pub(crate) server: Option<&'a (StringValue, i64)>,
    pub(crate) error: Option<&'a str>,
    pub(crate) duration: Duration,
    pub(crate) first_chunk: Option<Duration>,
    pub(crate) usage: Option<(u64, u64)>,
}

impl ChatPoints<'_> {
    /// The semantic-convention attributes of the client metrics (`error.type` when asked).
    pub(super) fn attributes(&self, with_error: bool) -> Vec<KeyValue> {
        let mut attributes = Vec::with_capacity(7);
        attributes.push(KeyValue::new(OPERATION_NAME, super::names::CHAT));
        attributes.push(KeyValue::new(PROVIDER_NAME, self.provider.clone()));
        attributes.push(KeyValue::new(REQUEST_MODEL, self.request_model.clone()));
        if let Some(model) = self.response_model {
            attributes.push(KeyValue::new(RESPONSE_MODEL, model.clone()));
        }
        if let Some((address, port)) = self.server {
            attributes.push(KeyValue::new(SERVER_ADDRESS, address.clone()));
            attributes.push(KeyValue::new(SERVER_PORT, *port));
        }
        if let (true, Some(error)) = (with_error, self.error) {
            attributes.push(KeyValue::new(ERROR_TYPE, error.to_owned()));
        }
        attributes
    }

    /// What identifies the attribute set of the client metrics (without `error.type`).
    pub(super) fn identity(&self) -> (&str, &str, Option<&str>, Option<(&str, i64)>) {
        (
            self.provider.as_str(),
            self.request_model.as_str(),
            self.response_model.map(StringValue::as_str),
            self.server.map(|(address, port)| (address.as_str(), *port)),
        )
    }

    /// The attributes of a `gen_ai.client.token.usage` point of `token_type`.
    pub(super) fn typed(&self, token_type: &'static str) -> Vec<KeyValue> {
        let mut attributes = self.attributes(false);
        attributes.push(KeyValue::new(TOKEN_TYPE, token_type));
        attributes
    }

    pub(super) fn model_name(&self) -> [KeyValue; 1] {
        [KeyValue::new(MODEL_NAME_KEY, self.request_model.clone())]
    }
}

/// What a finished tool execution records.
pub(crate) struct ToolPoints<'a> {
    pub(crate) name: &'a StringValue,
    pub(crate) success: bool,
    /// The step id, recorded on a failed execution as the original does.
    pub(crate) step_id: Option<&'a StringValue>,
    pub(crate) duration: Duration,
}

pub(super) fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
