//! The response body of an instrumented request: the handler's body, or the layer's own JSON
//! error body, followed to its end so the request's span and metrics cover the whole transfer.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::completion::Completion;

pin_project! {
    /// A response body that finishes its request's telemetry when it ends or is dropped.
    pub struct InstrumentedBody<B> {
        #[pin]
        kind: BodyKind<B>,
        completion: Option<Completion>,
    }
}

pin_project! {
    #[project = BodyKindProjection]
    enum BodyKind<B> {
        Inner { #[pin] body: B },
        Full { data: Option<Bytes> },
    }
}

impl<B> InstrumentedBody<B> {
    pub(crate) fn inner(body: B, completion: Option<Completion>) -> Self {
        Self {
            kind: BodyKind::Inner { body },
            completion,
        }
    }

    pub(crate) fn full(data: Bytes, completion: Option<Completion>) -> Self {
        Self {
            kind: BodyKind::Full { data: Some(data) },
            completion,
        }
    }
}

impl<B: Body<Data = Bytes>> Body for InstrumentedBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let polled = match this.kind.project() {
            BodyKindProjection::Inner { body } => body.poll_frame(cx),
            BodyKindProjection::Full { data } => {
                Poll::Ready(data.take().map(|d| Ok(Frame::data(d))))
            }
        };
        match &polled {
            Poll::Ready(None) => finish(this.completion, None),
            Poll::Ready(Some(Err(_))) => finish(this.completion, Some("response body failed")),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            BodyKind::Inner { body } => body.is_end_stream(),
            BodyKind::Full { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            BodyKind::Inner { body } => body.size_hint(),
            BodyKind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}

fn finish(completion: &mut Option<Completion>, error: Option<&str>) {
    if let Some(mut completion) = completion.take() {
        if let Some(error) = error {
            completion.record_error("body", error.to_owned());
        }
        completion.finish();
    }
}
