//! A model call in progress: what the reply says (model, id, finish reasons, token usage), its
//! first token, its failure; recorded on the span and into the metrics when it ends.

use std::borrow::Cow;
use std::future::Future;

use opentelemetry::{Array, KeyValue, StringValue, Value};
use serde::Serialize;

use super::config::content_text;
use super::metrics::{ChatPoints, Recorder};
use super::names::{
    OUTPUT_MESSAGES, RESPONSE_FINISH_REASONS, RESPONSE_ID, RESPONSE_MODEL,
    RESPONSE_TIME_TO_FIRST_CHUNK, USAGE_INPUT_TOKENS, USAGE_OUTPUT_TOKENS,
};
use super::operation::{InScope, Operation, in_scope, text_value};

/// A started model call ([`chat`](super::chat)); ends when dropped, recording its span and
/// metrics. Each method records one fact of the reply and returns the call, for chaining.
/// With no telemetry installed, every method does nothing.
///
/// ```
/// let mut call = instrument::genai::chat("openai", "gpt-4o").stream(true).start();
/// call.first_token(); // at the first chunk of the streamed reply
/// call.response("gpt-4o-2024-08-06", "chatcmpl-7")
///     .finish_reasons(["stop"])
///     .usage(120, 48);
/// drop(call); // at the last chunk: the span ends, the metrics are recorded
/// ```
#[must_use = "the call ends (and is recorded) when dropped"]
#[derive(Debug)]
pub struct ChatCall {
    state: Option<ChatState>,
}

/// What a recording model call holds.
#[derive(Debug)]
pub(crate) struct ChatState {
    operation: Operation,
    provider: StringValue,
    request_model: StringValue,
    server: Option<(StringValue, i64)>,
    response_model: Option<StringValue>,
    response_id: Option<StringValue>,
    finish_reasons: Vec<StringValue>,
    usage: Option<(u64, u64)>,
    first_chunk: Option<std::time::Duration>,
    output: Option<String>,
}

impl ChatState {
    pub(crate) fn new(
        operation: Operation,
        provider: StringValue,
        request_model: StringValue,
        server: Option<(StringValue, i64)>,
    ) -> Self {
        Self {
            operation,
            provider,
            request_model,
            server,
            response_model: None,
            response_id: None,
            finish_reasons: Vec::new(),
            usage: None,
            first_chunk: None,
            output: None,
        }
    }

    fn end(self) {
        let Self {
            operation,
            provider,
            request_model,
            server,
            response_model,
            response_id,
            finish_reasons,
            usage,
            first_chunk,
            output,
        } = self;
        let ended = operation.end(|span| {
            if let Some(model) = &response_model {
                span.set_attribute(KeyValue::new(RESPONSE_MODEL, model.clone()));
            }
            if let Some(id) = response_id {
                span.set_attribute(KeyValue::new(RESPONSE_ID, id));
            }
            if !finish_reasons.is_empty() {
                let reasons = Value::Array(Array::String(finish_reasons));
                span.set_attribute(KeyValue::new(RESPONSE_FINISH_REASONS, reasons));
            }
            if let Some((input, output)) = usage {
                span.set_attribute(KeyValue::new(USAGE_INPUT_TOKENS, saturating_i64(input)));
                span.set_attribute(KeyValue::new(USAGE_OUTPUT_TOKENS, saturating_i64(output)));
            }
            if let Some(first) = first_chunk {
                let seconds = first.as_secs_f64();
                span.set_attribute(KeyValue::new(RESPONSE_TIME_TO_FIRST_CHUNK, seconds));
            }
            if let Some(output) = output {
                span.set_attribute(KeyValue::new(OUTPUT_MESSAGES, output));
            }
        });
        if !crate::state::metrics_enabled() {
            return;
        }
        Recorder::global(&ended.cx, |recorder| {
            recorder.chat(&ChatPoints {
                provider: &provider,
                request_model: &request_model,
                response_model: response_model.as_ref(),
                server: server.as_ref(),
                error: ended.error.as_deref(),
                duration: ended.duration,
                first_chunk,
                usage,
            });
        });
    }
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl ChatCall {
    pub(crate) fn new(state: Option<ChatState>) -> Self {
        Self { state }
    }

    fn with(&mut self, f: impl FnOnce(&mut ChatState)) -> &mut Self {
        if let Some(state) = self.state.as_mut() {
            f(state);
        }
        self
    }

    /// `gen_ai.response.model` and `gen_ai.response.id` of the reply.
    ///
    /// ```
    /// let mut call = instrument::genai::chat("openai", "gpt-4o").start();
    /// call.response("gpt-4o-2024-08-06", "chatcmpl-1");
    /// ```
    pub fn response(
        &mut self,
        model: impl Into<Cow<'static, str>>,
        id: impl Into<Cow<'static, str>>,
    ) -> &mut Self {
        self.response_model(model).response_id(id)
    }

    /// `gen_ai.response.model`: the model that answered (also on the metrics).
    ///
    /// ```
    /// let mut call = instrument::genai::chat("openai", "gpt-4o").start();
    /// call.response_model("gpt-4o-2024-08-06");
    /// ```
    pub fn response_model(&mut self, model: impl Into<Cow<'static, str>>) -> &mut Self {
        self.with(|state| state.response_model = Some(text_value(model)))
    }

    /// `gen_ai.response.id`.
    ///
    /// ```
    /// let mut call = instrument::genai::chat("openai", "gpt-4o").start();
    /// call.response_id("chatcmpl-1");
    /// ```
    pub fn response_id(&mut self, id: impl Into<Cow<'static, str>>) -> &mut Self {
        self.with(|state| state.response_id = Some(text_value(id)))
    }

    /// `gen_ai.response.finish_reasons`, one per choice.
    ///
    /// ```
    /// let mut call = instrument::genai::chat("openai", "gpt-4o").start();
    /// call.finish_reasons(["stop", "length"]);
    /// ```
    pub fn finish_reasons<S: Into<Cow<'static, str>>>(
        &mut self,
        reasons: impl IntoIterator<Item = S>,
    ) -> &mut Self {
        self.with(|state| state.finish_reasons = reasons.into_iter().map(text_value).collect())
    }

    /// The tokens the call used: `gen_ai.usage.input_tokens` and `gen_ai.usage.output_tokens`
    /// on the span, and a `gen_ai.client.token.usage` point of each `gen_ai.token.type`
    /// (`input`, `output`).
    ///
    /// ```
    /// let mut call = instrument::genai::chat("openai", "gpt-4o").start();
    /// call.usage(42, 9);
    /// ```
    pub fn usage(&mut self, input_tokens: u64, output_tokens: u64) -> &mut Self {
        self.with(|state| state.usage = Some((input_tokens, output_tokens)))
    }

    /// Marks the first token (chunk) of a streamed reply, the first time it is called:
    /// `gen_ai.response.time_to_first_chunk` on the span, and
    /// `gen_ai.client.operation.time_to_first_chunk` and the original's `hist_ttft_ms`.
    ///
    /// ```
    /// let mut call = instrument::genai::chat("openai", "gpt-4o").stream(true).start();
    /// call.first_token();
    /// ```
    pub fn first_token(&mut self) -> &mut Self {
        self.with(|state| {
            if state.first_chunk.is_none() {
                state.first_chunk = Some(state.operation.elapsed());
            }
        })
    }

    /// `gen_ai.output.messages`, when content capture is on
    /// ([`GenAiConfig`](super::GenAiConfig)); otherwise `messages` is not serialized.
    ///
    /// ```
    /// let mut call = instrument::genai::chat("openai", "gpt-4o").start();
    /// call.output_messages(&serde_json::json!([{
    ///     "role": "assistant",
    ///     "parts": [{"type": "text", "content": "4"}],
    ///     "finish_reason": "stop"
    /// }]));
    /// ```
    pub fn output_messages<T: Serialize + ?Sized>(&mut self, messages: &T) -> &mut Self {
        self.with(|state| state.output = content_text(messages))
    }

    /// Records that the call failed: `error.type` (a low-cardinality class: the provider's
    /// error code, `timeout`, an HTTP status) on the span and on
    /// `gen_ai.client.operation.duration`, and status ERROR.
    ///
    /// ```
    /// let mut call = instrument::genai::chat("openai", "gpt-4o").start();
    /// call.fail("rate_limit_exceeded");
    /// ```
    pub fn fail(&mut self, error_type: impl Into<Cow<'static, str>>) -> &mut Self {
        self.with(|state| state.operation.fail(error_type.into()))
    }

    /// Runs `f` with the call's span current: spans started inside (an HTTP client's) are its
    /// children.
    ///
    /// ```
    /// let call = instrument::genai::chat("openai", "gpt-4o").start();
    /// let status = call.in_scope(|| 200);
    /// # assert_eq!(status, 200);
    /// ```
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        in_scope(self.state.as_ref().map(|state| &state.operation), f)
    }

    /// `future`, run with the call's span current on every poll: the HTTP client's spans made
    /// inside are its children. The call does not end when the future does.
    ///
    /// ```
    /// # async fn run() {
    /// let mut call = instrument::genai::chat("openai", "gpt-4o").start();
    /// let reply = call.instrument(async { "4" }).await;
    /// call.usage(12, 1);
    /// # assert_eq!(reply, "4");
    /// # }
    /// ```
    pub fn instrument<F: Future>(&self, future: F) -> InScope<F> {
        InScope::new(self.state.as_ref().map(|state| &state.operation), future)
    }
}

impl Drop for ChatCall {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            state.end();
        }
    }
}
