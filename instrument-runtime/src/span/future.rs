//! The future wrapper of instrumented `async fn`s: keeps the span current on every poll,
//! records panics, and records `cancelled` when dropped before completion.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use super::{ActiveSpan, EnteredSpan};

pin_project! {
    /// Polls `inner` with the span current. Its output hands the span back so the caller can
    /// record how the call ended; dropping it unfinished records `cancelled`.
    pub struct Instrumented<F> {
        #[pin]
        inner: F,
        span: Option<ActiveSpan>,
    }

    impl<F> PinnedDrop for Instrumented<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(span) = this.project().span.take() {
                span.record_cancelled();
            }
        }
    }
}

impl<F> Instrumented<F> {
    /// Wraps `inner`; with no span it only forwards polls.
    pub fn new(span: Option<ActiveSpan>, inner: F) -> Self {
        Self { inner, span }
    }

    /// `inner` itself, for the call that records nothing (`span` is `None`): the expansion hands
    /// its span over here, so that the caller's state does not keep it across the await.
    #[inline(always)]
    pub fn bare(span: Option<ActiveSpan>, inner: F) -> F {
        drop(span);
        inner
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = (F::Output, Option<ActiveSpan>);

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.span.is_none() {
            // Off: the body's own poll, inlined where the caller's is.
            return this.inner.poll(cx).map(|output| (output, None));
        }
        poll_recording(this.inner, this.span, cx)
    }
}

/// Polls `inner` with `span` current; out of line, so that the off path stays small.
#[inline(never)]
fn poll_recording<F: Future>(
    inner: Pin<&mut F>,
    span: &mut Option<ActiveSpan>,
    cx: &mut TaskContext<'_>,
) -> Poll<(F::Output, Option<ActiveSpan>)> {
    let entered = span.take().map(ActiveSpan::enter);
    let polled = catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
    *span = entered.and_then(EnteredSpan::exit);
    match polled {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(output)) => Poll::Ready((output, span.take())),
        Err(payload) => {
            if let Some(span) = span.take() {
                span.record_panic(payload.as_ref());
            }
            resume_unwind(payload)
        }
    }
}
