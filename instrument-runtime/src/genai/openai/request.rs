//! What a chat completions request asks for, read from its JSON body: the model, the sampling
//! parameters the conventions name, whether the reply is streamed, and (with content capture)
//! the messages.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use super::messages::input_messages;
use crate::genai::ChatRequest;
use crate::genai::config::captures_content;

#[derive(Deserialize)]
struct Body {
    model: Option<String>,
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    frequency_penalty: Option<f64>,
    presence_penalty: Option<f64>,
    stop: Option<Stop>,
    seed: Option<i64>,
    n: Option<u32>,
    stream: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Messages {
    #[serde(default)]
    messages: Vec<Value>,
}

/// A request to a chat completions endpoint, read.
#[derive(Debug)]
pub(super) struct Asked {
    pub(super) request: ChatRequest,
    pub(super) stream: bool,
}

/// The model call `body` asks `provider` for at `url`; `None` when the body is not a JSON
/// object naming a model (the request then goes on unrecorded).
pub(super) fn read(provider: Cow<'static, str>, body: &[u8], url: &reqwest::Url) -> Option<Asked> {
    let asked: Body = serde_json::from_slice(body).ok()?;
    let mut request = crate::genai::chat(provider, asked.model?);
    if let Some(host) = url.host_str() {
        let port = url.port_or_known_default().unwrap_or(443);
        request = request.server(host.to_owned(), port);
    }
    if let Some(max) = asked.max_completion_tokens.or(asked.max_tokens) {
        request = request.max_tokens(max);
    }
    if let Some(temperature) = asked.temperature {
        request = request.temperature(temperature);
    }
    if let Some(top_p) = asked.top_p {
        request = request.top_p(top_p);
    }
    if let Some(penalty) = asked.frequency_penalty {
        request = request.frequency_penalty(penalty);
    }
    if let Some(penalty) = asked.presence_penalty {
        request = request.presence_penalty(penalty);
    }
    match asked.stop {
        Some(Stop::One(stop)) => request = request.stop_sequences([stop]),
        Some(Stop::Many(stops)) => request = request.stop_sequences(stops),
        None => {}
    }
    if let Some(seed) = asked.seed {
        request = request.seed(seed);
    }
    if let Some(n) = asked.n {
        request = request.choice_count(n);
    }
    let stream = asked.stream.unwrap_or(false);
    if stream {
        request = request.stream(true);
    }
    if captures_content() {
        if let Ok(Messages { messages }) = serde_json::from_slice(body) {
            request = request.input_messages(&input_messages(&messages));
        }
    }
    Some(Asked { request, stream })
}
