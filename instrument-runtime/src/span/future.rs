//! The future wrapper of instrumented `async fn`s: keeps the span current on every poll,
//! records panics, and records `cancelled` when dropped before completion.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use super::{ActiveSpan, EnteredSpan, Outcome};

pin_project! {
    /// Polls `inner` with the span current and ends the span with `outcome` of its output;
    /// dropping it unfinished records `cancelled`. With no span it only forwards polls.
    pub struct Instrumented<F, O> {
        #[pin]
        inner: F,
        span: Option<ActiveSpan>,
        outcome: O,
    }

    impl<F, O> PinnedDrop for Instrumented<F, O> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(span) = this.project().span.take() {
                span.record_cancelled();
            }
        }
    }
}

impl<F: Future, O: Fn(&F::Output) -> Outcome> Instrumented<F, O> {
    /// Wraps `inner`, which `span` (if any) follows; `outcome` says how a returned value ended
    /// the call.
    #[inline(always)]
    pub fn new(span: Option<ActiveSpan>, inner: F, outcome: O) -> Self {
        Self {
            inner,
            span,
            outcome,
        }
    }
}

impl<F> Instrumented<F, ()> {
    /// `inner` itself, for the call that records nothing (`span` is `None`): the expansion
    /// hands its span over here, so that the caller's state does not keep it across the await.
    #[inline(always)]
    pub fn bare(span: Option<ActiveSpan>, inner: F) -> F {
        drop(span);
        inner
    }
}

impl<F: Future, O: Fn(&F::Output) -> Outcome> Future for Instrumented<F, O> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.span.is_none() {
            // Off: the body's own poll, inlined where the caller's is.
            return this.inner.poll(cx);
        }
        poll_recording(this.inner, this.span, this.outcome, cx)
    }
}

/// Polls `inner` with `span` current, and ends the span when `inner` is ready; out of line, so
/// that the off path stays small.
#[inline(never)]
fn poll_recording<F: Future>(
    inner: Pin<&mut F>,
    span: &mut Option<ActiveSpan>,
    outcome: &impl Fn(&F::Output) -> Outcome,
    cx: &mut TaskContext<'_>,
) -> Poll<F::Output> {
    let entered = span.take().map(ActiveSpan::enter);
    let polled = catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
    *span = entered.and_then(EnteredSpan::exit);
    match polled {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(output)) => {
            if let Some(span) = span.take() {
                span.finish(outcome(&output));
            }
            Poll::Ready(output)
        }
        Err(payload) => {
            if let Some(span) = span.take() {
                span.record_panic(payload.as_ref());
            }
            resume_unwind(payload)
        }
    }
}
