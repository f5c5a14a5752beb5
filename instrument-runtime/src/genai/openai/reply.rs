//! What a chat completions reply says, read from its JSON: a whole completion, or the chunks of
//! a streamed one (`choices[].delta`, the usage in the last chunk when the request asked for
//! `stream_options.include_usage`). Fields the reply lacks are left out, never guessed.

use serde::Deserialize;
use serde_json::Value;

use super::messages::output_message;
use crate::capture;
use crate::genai::ChatCall;

#[derive(Deserialize)]
struct Completion {
    id: Option<String>,
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: usize,
    finish_reason: Option<String>,
    /// A whole completion's message.
    message: Option<Value>,
    /// A streamed chunk's piece of the message.
    delta: Option<Delta>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

/// What has been read of a reply so far.
#[derive(Debug, Default)]
pub(super) struct Reply {
    id: Option<String>,
    model: Option<String>,
    /// Each choice's finish reason, by choice index.
    finish_reasons: Vec<(usize, String)>,
    usage: Option<(u64, u64)>,
    /// Whether content is recorded (read once, when the reply starts).
    capture: bool,
    /// A whole completion's messages, in the conventions' shape (content capture).
    messages: Vec<Value>,
    /// A streamed reply's text of each choice, bounded by the capture limit (content capture).
    texts: Vec<(usize, String)>,
}

impl Reply {
    /// A reply to read, its content kept when `capture` is on.
    pub(super) fn new(capture: bool) -> Self {
        Self {
            capture,
            ..Self::default()
        }
    }

    /// Reads a whole (not streamed) completion; JSON that is not one is ignored.
    pub(super) fn read_completion(&mut self, json: &[u8]) {
        if let Ok(completion) = serde_json::from_slice::<Completion>(json) {
            self.read(completion);
        }
    }

    /// Reads one chunk of a streamed completion; JSON that is not one is ignored.
    pub(super) fn read_chunk(&mut self, json: &str) {
        if let Ok(chunk) = serde_json::from_str::<Completion>(json) {
            self.read(chunk);
        }
    }

    fn read(&mut self, completion: Completion) {
        self.id = self.id.take().or(completion.id);
        self.model = self.model.take().or(completion.model);
        if let Some(usage) = completion.usage {
            let (input, output) = self.usage.unwrap_or_default();
            self.usage = Some((
                usage.prompt_tokens.unwrap_or(input),
                usage.completion_tokens.unwrap_or(output),
            ));
        }
        for choice in completion.choices {
            if let Some(reason) = &choice.finish_reason {
                self.finish_reasons
                    .retain(|(index, _)| *index != choice.index);
                self.finish_reasons.push((choice.index, reason.clone()));
            }
            if !self.capture {
                continue;
            }
            if let Some(message) = &choice.message {
                let reason = choice.finish_reason.as_deref();
                self.messages.push(output_message(message, reason));
            }
            if let Some(text) = choice.delta.and_then(|delta| delta.content) {
                self.append_text(choice.index, &text);
            }
        }
    }

    /// Adds a streamed piece of text to its choice's, up to the capture limit.
    fn append_text(&mut self, index: usize, text: &str) {
        let limit = capture::limits().0;
        let position = match self.texts.iter().position(|(i, _)| *i == index) {
            Some(position) => position,
            None => {
                self.texts.push((index, String::new()));
                self.texts.len() - 1
            }
        };
        let kept = &mut self.texts[position].1;
        let room = limit.saturating_sub(kept.len());
        let cut = capture::floor_char_boundary(text.as_bytes(), room);
        kept.push_str(&text[..cut]);
    }

    /// Records what was read on `call`.
    pub(super) fn record(self, call: &mut ChatCall) {
        let Self {
            id,
            model,
            mut finish_reasons,
            usage,
            capture,
            mut messages,
            mut texts,
        } = self;
        finish_reasons.sort_by_key(|(index, _)| *index);
        if capture && messages.is_empty() {
            texts.sort_by_key(|(index, _)| *index);
            messages = texts
                .iter()
                .map(|(index, text)| {
                    let reason = finish_reasons.iter().find(|(i, _)| i == index);
                    let message = serde_json::json!({"role": "assistant", "content": text});
                    output_message(&message, reason.map(|(_, reason)| reason.as_str()))
                })
                .collect();
        }
        if let Some(model) = model {
            call.response_model(model);
        }
        if let Some(id) = id {
            call.response_id(id);
        }
        if !finish_reasons.is_empty() {
            call.finish_reasons(finish_reasons.into_iter().map(|(_, reason)| reason));
        }
        if let Some((input, output)) = usage {
            call.usage(input, output);
        }
        if !messages.is_empty() {
            call.output_messages(&messages);
        }
    }
}
