//! A model call as the conventions describe it: what is known before the call (provider,
//! model, request parameters, server), given to [`chat`]'s builder and recorded when the span
//! starts, where a sampler can see it.

use std::borrow::Cow;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use serde::Serialize;

use super::call::{ChatCall, ChatState};
use super::config::content_text;
use super::names::{
    CHAT, INPUT_MESSAGES, OPERATION_NAME, PROVIDER_NAME, REQUEST_CHOICE_COUNT,
    REQUEST_FREQUENCY_PENALTY, REQUEST_MAX_TOKENS, REQUEST_MODEL, REQUEST_PRESENCE_PENALTY,
    REQUEST_SEED, REQUEST_STOP_SEQUENCES, REQUEST_STREAM, REQUEST_TEMPERATURE, REQUEST_TOP_K,
    REQUEST_TOP_P, SERVER_ADDRESS, SERVER_PORT,
};
use super::operation::{Operation, text_value};
use super::span_names::span_name;

/// Starts describing a model call to `model` of `provider` (`gen_ai.provider.name`: `openai`,
/// `anthropic`, `aws.bedrock`, `gcp.gemini`, ... as the conventions list them); [`start`]
/// begins it.
///
/// The call is a CLIENT span `chat {model}`, a child of the current span (a `#[trace_method]`
/// call's, or any OpenTelemetry span), with `gen_ai.operation.name = chat`; when it ends, the
/// metrics `gen_ai.client.operation.duration`, `gen_ai.client.token.usage` (when the usage is
/// given), `gen_ai.client.operation.time_to_first_chunk` and the original's
/// `hist_llm_execution_time_ms` and `hist_ttft_ms` (when a first token is marked) are recorded
/// with the request-context attributes.
///
/// ```
/// use instrument::genai;
///
/// #[instrument::trace_method]
/// fn answer(question: &str) -> String {
///     let mut call = genai::chat("openai", "gpt-4o")
///         .max_tokens(256)
///         .temperature(0.2)
///         .server("api.openai.com", 443)
///         .start();
///     let reply = format!("an answer to {question}"); // the request, made by any client
///     call.response("gpt-4o-2024-08-06", "chatcmpl-1")
///         .finish_reasons(["stop"])
///         .usage(42, 9);
///     reply
/// } // `call` ends here, as a child of `answer`
/// # answer("2+2");
/// ```
///
/// [`start`]: ChatRequest::start
pub fn chat(
    provider: impl Into<Cow<'static, str>>,
    model: impl Into<Cow<'static, str>>,
) -> ChatRequest {
    let (provider, model) = (text_value(provider), text_value(model));
    // Room for the request's, the response's and the request context's attributes: the span
    // record adopts this list.
    let mut attributes = Vec::with_capacity(16);
    attributes.push(KeyValue::new(OPERATION_NAME, CHAT));
    attributes.push(KeyValue::new(PROVIDER_NAME, provider.clone()));
    attributes.push(KeyValue::new(REQUEST_MODEL, model.clone()));
    ChatRequest {
        provider,
        model,
        attributes,
        server: None,
    }
}

/// A model call about to start: its request parameters, each recorded when given. Made by
/// [`chat`].
///
/// ```
/// let call = instrument::genai::chat("anthropic", "claude-sonnet-4").top_p(0.9).start();
/// # drop(call);
/// ```
#[must_use = "a model call is recorded once started"]
#[derive(Clone, Debug)]
pub struct ChatRequest {
    provider: StringValue,
    model: StringValue,
    /// The span's attributes at its start.
    attributes: Vec<KeyValue>,
    server: Option<(StringValue, i64)>,
}

impl ChatRequest {
    fn parameter(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.attributes.push(KeyValue::new(key, value));
        self
    }

    /// `gen_ai.request.max_tokens`.
    ///
    /// ```
    /// let request = instrument::genai::chat("openai", "gpt-4o").max_tokens(256);
    /// # drop(request);
    /// ```
    pub fn max_tokens(self, max_tokens: u32) -> Self {
        self.parameter(REQUEST_MAX_TOKENS, i64::from(max_tokens))
    }

    /// `gen_ai.request.temperature`.
    ///
    /// ```
    /// let request = instrument::genai::chat("openai", "gpt-4o").temperature(0.2);
    /// # drop(request);
    /// ```
    pub fn temperature(self, temperature: f64) -> Self {
        self.parameter(REQUEST_TEMPERATURE, temperature)
    }

    /// `gen_ai.request.top_p`.
    ///
    /// ```
    /// let request = instrument::genai::chat("openai", "gpt-4o").top_p(0.9);
    /// # drop(request);
    /// ```
    pub fn top_p(self, top_p: f64) -> Self {
        self.parameter(REQUEST_TOP_P, top_p)
    }

    /// `gen_ai.request.top_k`.
    ///
    /// ```
    /// let request = instrument::genai::chat("gcp.gemini", "gemini-2.5-pro").top_k(40.0);
    /// # drop(request);
    /// ```
    pub fn top_k(self, top_k: f64) -> Self {
        self.parameter(REQUEST_TOP_K, top_k)
    }

    /// `gen_ai.request.frequency_penalty`.
    ///
    /// ```
    /// let request = instrument::genai::chat("openai", "gpt-4o").frequency_penalty(0.1);
    /// # drop(request);
    /// ```
    pub fn frequency_penalty(self, penalty: f64) -> Self {
        self.parameter(REQUEST_FREQUENCY_PENALTY, penalty)
    }

    /// `gen_ai.request.presence_penalty`.
    ///
    /// ```
    /// let request = instrument::genai::chat("openai", "gpt-4o").presence_penalty(0.1);
    /// # drop(request);
    /// ```
    pub fn presence_penalty(self, penalty: f64) -> Self {
        self.parameter(REQUEST_PRESENCE_PENALTY, penalty)
    }

    /// `gen_ai.request.stop_sequences`.
    ///
    /// ```
    /// let request = instrument::genai::chat("openai", "gpt-4o").stop_sequences(["\n\n"]);
    /// # drop(request);
    /// ```
    pub fn stop_sequences<S: Into<Cow<'static, str>>>(
        self,
        sequences: impl IntoIterator<Item = S>,
    ) -> Self {
        let sequences: Vec<StringValue> = sequences.into_iter().map(text_value).collect();
        self.parameter(
            REQUEST_STOP_SEQUENCES,
            Value::Array(Array::String(sequences)),
        )
    }

    /// `gen_ai.request.seed`.
    ///
    /// ```
    /// let request = instrument::genai::chat("openai", "gpt-4o").seed(7);
    /// # drop(request);
    /// ```
    pub fn seed(self, seed: i64) -> Self {
        self.parameter(REQUEST_SEED, seed)
    }

    /// `gen_ai.request.choice.count`, recorded when it is not 1 (as the conventions ask).
    ///
    /// ```
    /// let request = instrument::genai::chat("openai", "gpt-4o").choice_count(3);
    /// # drop(request);
    /// ```
    pub fn choice_count(self, count: u32) -> Self {
        if count == 1 {
            return self;
        }
        self.parameter(REQUEST_CHOICE_COUNT, i64::from(count))
    }

    /// `gen_ai.request.stream`: the reply is streamed (mark its first chunk with
    /// [`ChatCall::first_token`]).
    ///
    /// ```
    /// let request = instrument::genai::chat("openai", "gpt-4o").stream(true);
    /// # drop(request);
    /// ```
    pub fn stream(self, stream: bool) -> Self {
        self.parameter(REQUEST_STREAM, stream)
    }

    /// `server.address` and `server.port` of the model's API, on the span and the metrics.
    ///
    /// ```
    /// let request = instrument::genai::chat("openai", "gpt-4o").server("api.openai.com", 443);
    /// # drop(request);
    /// ```
    pub fn server(mut self, address: impl Into<Cow<'static, str>>, port: u16) -> Self {
        let (address, port) = (text_value(address), i64::from(port));
        self.attributes
            .push(KeyValue::new(SERVER_ADDRESS, address.clone()));
        self.attributes.push(KeyValue::new(SERVER_PORT, port));
        self.server = Some((address, port));
        self
    }

    /// `gen_ai.input.messages`, when content capture is on ([`GenAiConfig`]); otherwise
    /// `messages` is not even serialized. Give them in the conventions' shape (`role` and
    /// `parts`), as the OpenAI adapter does.
    ///
    /// ```
    /// let messages = serde_json::json!([
    ///     {"role": "user", "parts": [{"type": "text", "content": "What is 2+2?"}]}
    /// ]);
    /// let request = instrument::genai::chat("openai", "gpt-4o").input_messages(&messages);
    /// # drop(request);
    /// ```
    ///
    /// [`GenAiConfig`]: super::GenAiConfig
    pub fn input_messages<T: Serialize + ?Sized>(mut self, messages: &T) -> Self {
        if let Some(text) = content_text(messages) {
            self.attributes.push(KeyValue::new(INPUT_MESSAGES, text));
        }
        self
    }

    /// Starts the call: its span begins as a child of the current span. It ends when the
    /// returned [`ChatCall`] drops.
    ///
    /// ```
    /// let call = instrument::genai::chat("openai", "gpt-4o").start();
    /// drop(call); // ends it
    /// ```
    pub fn start(self) -> ChatCall {
        let Self {
            provider,
            model,
            attributes,
            server,
        } = self;
        let operation =
            Operation::start(|| span_name(CHAT, &model), SpanKind::Client, || attributes);
        ChatCall::new(operation.map(|operation| ChatState::new(operation, provider, model, server)))
    }
}
