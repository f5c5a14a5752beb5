//! The adapter for OpenAI-compatible chat completions APIs on the reqwest integration (features
//! `genai` and `reqwest`): a `reqwest-middleware` middleware that recognizes `POST
//! .../chat/completions` requests and records each as a model call, reading the request's
//! model and parameters and the reply's model, id, finish reasons and usage — from the JSON of
//! a whole reply, or from the server-sent event chunks of a streamed one — while the
//! application reads the reply as it would without it. Other requests pass through untouched.

mod body;
#[cfg(test)]
mod fake;
mod messages;
mod reply;
mod request;
mod sse;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use http::Extensions;
use reqwest::ResponseBuilderExt as _;
use reqwest_middleware::{Middleware, Next, Result};

use super::ChatCall;
use super::config::captures_content;
use crate::http::reqwest::error_type;
use body::{ObservedBody, Observer};

/// Records every chat completions request of a `reqwest_middleware::ClientWithMiddleware` as a
/// model call ([`chat`](super::chat)): the CLIENT span `chat {model}` with the request's
/// model, `max_tokens` (or `max_completion_tokens`), `temperature`, `top_p`, penalties, stop
/// sequences, seed, `n` and `stream`, `server.address` and `server.port` from the URL; the
/// reply's `model`, `id`, finish reasons and `usage` (for a streamed reply, from its chunks,
/// the usage from the last one when the request sets `stream_options.include_usage`); the time
/// to the first chunk; `error.type` for a transport failure or an error status. The call ends
/// when the application has read the reply (for a stream, at `[DONE]`), and records the GenAI
/// and original metrics. Put it before [`TracingMiddleware`](crate::http::TracingMiddleware)
/// so that the HTTP CLIENT span is the model call's child:
///
/// ```
/// use instrument::genai::OpenAiMiddleware;
///
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(OpenAiMiddleware::default()) // provider `openai`
///     .with(instrument::http::TracingMiddleware)
///     .build();
/// # drop(client);
/// ```
#[derive(Clone, Debug)]
pub struct OpenAiMiddleware {
    provider: Cow<'static, str>,
}

impl Default for OpenAiMiddleware {
    fn default() -> Self {
        Self::provider("openai")
    }
}

impl OpenAiMiddleware {
    /// The adapter for an OpenAI-compatible API of another provider (`gen_ai.provider.name`:
    /// `azure.ai.openai`, `groq`, `deepseek`, `mistral_ai`, ...).
    ///
    /// ```
    /// let groq = instrument::genai::OpenAiMiddleware::provider("groq");
    /// # drop(groq);
    /// ```
    pub fn provider(provider: impl Into<Cow<'static, str>>) -> Self {
        Self {
            provider: provider.into(),
        }
    }

    /// The model call `request` makes, if it is a chat completions request to record.
    fn start(&self, request: &reqwest::Request) -> Option<(ChatCall, bool)> {
        let recording = crate::state::enabled() || crate::state::metrics_enabled();
        if !recording
            || request.method() != http::Method::POST
            || !request.url().path().ends_with("/chat/completions")
        {
            return None;
        }
        let body = request.body()?.as_bytes()?;
        let asked = request::read(self.provider.clone(), body, request.url())?;
        Some((asked.request.start(), asked.stream))
    }
}

#[async_trait::async_trait]
impl Middleware for OpenAiMiddleware {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<reqwest::Response> {
        let Some((mut call, streamed)) = self.start(&request) else {
            return next.run(request, extensions).await;
        };
        // The rest of the chain (the HTTP CLIENT span) runs with the model call's span current.
        let response = match call.instrument(next.run(request, extensions)).await {
            Ok(response) => response,
            Err(error) => {
                call.fail(error_type(&error));
                return Err(error);
            }
        };
        let status = response.status();
        if !status.is_success() {
            call.fail(status.as_str().to_owned());
            return Ok(response);
        }
        let event_stream = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"text/event-stream"));
        let observer = Observer::new(call, streamed || event_stream, captures_content());
        Ok(observed(response, observer))
    }
}

/// `response` with its body read along by `observer`, its URL and extensions kept.
fn observed(response: reqwest::Response, observer: Observer) -> reqwest::Response {
    let url = response.url().clone();
    let (mut parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
    if let Ok(with_url) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(with_url.into_parts().0.extensions);
    }
    let body = reqwest::Body::wrap(ObservedBody::new(body, observer));
    reqwest::Response::from(http::Response::from_parts(parts, body))
}
