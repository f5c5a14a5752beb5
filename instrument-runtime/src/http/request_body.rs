//! The request body an instrumented server hands its handler: the body as it came, and, for
//! routes that opted in, a copy of a JSON body's first bytes whose top-level keys become
//! `http.request.body.<key>` attributes of the server span when the body ends (the original's
//! body capture, bounded and redacted like parameters).
//!
//! The copy stops at the capture limit (`max_value_bytes`): a longer body streams through
//! untouched and records nothing.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Buf;
use http::header::CONTENT_TYPE;
use http::{Method, Request};
use http_body::{Body, Frame, SizeHint};
use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;
use pin_project_lite::pin_project;

use crate::capture::{REDACTED, capture_config, is_secret_name, json_text};

/// Prefix of the attributes a captured body's keys become.
pub const REQUEST_BODY_KEY_PREFIX: &str = "http.request.body.";

pin_project! {
    /// A request body passed through unchanged; on routes that capture bodies, its JSON keys
    /// are recorded on the server span when it ends.
    pub struct RequestBody<B> {
        #[pin]
        inner: B,
        capture: Option<BodyCapture>,
    }
}

impl<B> std::fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody")
            .field("capturing", &self.capture.is_some())
            .finish_non_exhaustive()
    }
}

/// The copy of a body being captured, and the span it is for.
struct BodyCapture {
    span: Context,
    copy: Vec<u8>,
    limit: usize,
}

impl<B> RequestBody<B> {
    /// `inner`, passed through without capture.
    pub(crate) fn plain(inner: B) -> Self {
        Self {
            inner,
            capture: None,
        }
    }
}

/// Whether a request's body can be captured: a JSON `POST`, `PUT` or `PATCH`.
pub(crate) fn is_capturable<B>(request: &Request<B>) -> bool {
    matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH
    ) && request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

/// `request` with its body wrapped, captured for the server span in `span` when `capture`.
pub(crate) fn wrap<B>(
    request: Request<B>,
    capture: bool,
    span: &Context,
) -> Request<RequestBody<B>> {
    request.map(|inner| RequestBody {
        inner,
        capture: capture.then(|| BodyCapture {
            span: span.clone(),
            copy: Vec::new(),
            limit: capture_config().max_value_bytes,
        }),
    })
}

impl BodyCapture {
    /// Copies `data`, or gives up (returns `false`) past the limit.
    fn copy(&mut self, data: &impl Buf) -> bool {
        if self.copy.len() + data.remaining() > self.limit {
            return false;
        }
        let mut chunks = [std::io::IoSlice::new(&[]); 16];
        let filled = data.chunks_vectored(&mut chunks);
        let copied: usize = chunks[..filled].iter().map(|c| c.len()).sum();
        if copied < data.remaining() {
            return false;
        }
        for chunk in &chunks[..filled] {
            self.copy.extend_from_slice(chunk);
        }
        true
    }

    /// Records the top-level keys of the copied JSON object on the span.
    fn record(self) {
        let Ok(serde_json::Value::Object(object)) =
            serde_json::from_slice::<serde_json::Value>(&self.copy)
        else {
            return;
        };
        let config = capture_config();
        let attributes = crate::current::bounded(object.into_iter().map(|(key, value)| {
            // Strings are redacted with every other attribute value by `bounded`.
            let text = if is_secret_name(&key) {
                REDACTED.to_owned()
            } else {
                match value {
                    serde_json::Value::String(text) => text,
                    other => json_text(&other, config.max_value_bytes),
                }
            };
            (format!("{REQUEST_BODY_KEY_PREFIX}{key}"), text)
        }));
        let span = self.span.span();
        if span.is_recording() {
            span.set_attributes(attributes);
        }
    }
}

impl<B: Body> Body for RequestBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let polled = this.inner.as_mut().poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(capture), Some(data)) = (this.capture.as_mut(), frame.data_ref()) {
                    if !capture.copy(data) {
                        *this.capture = None;
                    } else if this.inner.is_end_stream() {
                        // Readers that stop at the end of the stream never poll its `None`.
                        if let Some(capture) = this.capture.take() {
                            capture.record();
                        }
                    }
                }
            }
            Poll::Ready(None) => {
                if let Some(capture) = this.capture.take() {
                    capture.record();
                }
            }
            Poll::Ready(Some(Err(_))) => *this.capture = None,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
