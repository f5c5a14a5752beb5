//! The reply's body as the application reads it, read along by the adapter: a streamed reply's
//! events as they arrive (the first marks the first token, `[DONE]` or the end of the body ends
//! the call), a whole reply gathered up to [`MAX_REPLY_BYTES`] and read at its end. The
//! application gets every byte unchanged; the call ends with what was read if the body is
//! dropped first.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::reply::Reply;
use super::sse::EventStream;
use crate::genai::ChatCall;
use crate::genai::names::OTHER_ERROR;

/// Longest whole reply read; a longer one is passed on unread (the call records no reply).
pub(super) const MAX_REPLY_BYTES: usize = 4 << 20;

/// How the reply is read.
#[derive(Debug)]
enum Reading {
    /// A whole JSON completion, gathered (`None` once it outgrew [`MAX_REPLY_BYTES`]).
    Whole(Option<Vec<Bytes>>, usize),
    /// Server-sent event chunks.
    Stream(EventStream),
}

/// A model call and what its reply said so far.
#[derive(Debug)]
pub(super) struct Observer {
    /// `None` once the call has ended.
    call: Option<ChatCall>,
    reading: Reading,
    reply: Reply,
}

impl Observer {
    /// Reads the reply of `call`, streamed (server-sent events) or whole.
    pub(super) fn new(call: ChatCall, streamed: bool, capture: bool) -> Self {
        let reading = if streamed {
            Reading::Stream(EventStream::default())
        } else {
            Reading::Whole(Some(Vec::new()), 0)
        };
        Self {
            call: Some(call),
            reading,
            reply: Reply::new(capture),
        }
    }

    fn data(&mut self, data: &Bytes) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        let mut done = false;
        match &mut self.reading {
            Reading::Whole(chunks, len) => {
                *len += data.len();
                match chunks {
                    Some(kept) if *len <= MAX_REPLY_BYTES => kept.push(data.clone()),
                    _ => *chunks = None,
                }
            }
            Reading::Stream(events) => {
                let reply = &mut self.reply;
                events.feed(data, &mut |event| {
                    call.first_token();
                    if event.trim() == "[DONE]" {
                        done = true;
                    } else {
                        reply.read_chunk(event);
                    }
                });
            }
        }
        if done {
            self.end();
        }
    }

    /// Ends the call with what the reply said.
    fn end(&mut self) {
        let Some(mut call) = self.call.take() else {
            return;
        };
        let mut reply = std::mem::take(&mut self.reply);
        match &mut self.reading {
            Reading::Whole(Some(chunks), _) => reply.read_completion(&chunks.concat()),
            Reading::Whole(None, _) => {}
            Reading::Stream(events) => events.finish(&mut |event| {
                if event.trim() != "[DONE]" {
                    reply.read_chunk(event);
                }
            }),
        }
        reply.record(&mut call);
    }

    /// Ends the call as failed while its body was read.
    fn failed(&mut self, error_type: &'static str) {
        if let Some(call) = self.call.as_mut() {
            call.fail(error_type);
        }
        self.end();
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.end();
    }
}

pin_project! {
    /// A reply body read along by its [`Observer`].
    pub(super) struct ObservedBody<B> {
        #[pin]
        inner: B,
        observer: Observer,
    }
}

impl<B> ObservedBody<B> {
    pub(super) fn new(inner: B, observer: Observer) -> Self {
        Self { inner, observer }
    }
}

impl<B: Body<Data = Bytes, Error = reqwest::Error>> Body for ObservedBody<B> {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.observer.data(data);
                }
            }
            Poll::Ready(Some(Err(error))) => {
                this.observer.failed(if error.is_timeout() {
                    "timeout"
                } else {
                    OTHER_ERROR
                });
            }
            Poll::Ready(None) => this.observer.end(),
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
