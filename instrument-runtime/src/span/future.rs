//! The future wrapper of instrumented `async fn`s: keeps the span current on every poll,
//! records panics, and records `cancelled` when dropped before completion.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use super::ActiveSpan;

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
}

impl<F: Future> Future for Instrumented<F> {
    type Output = (F::Output, Option<ActiveSpan>);

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(active) = this.span.as_ref() else {
            return this.inner.poll(cx).map(|output| (output, None));
        };
        let current = active.context().clone().attach();
        let polled = catch_unwind(AssertUnwindSafe(|| this.inner.poll(cx)));
        drop(current);
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready((output, this.span.take())),
            Err(payload) => {
                if let Some(span) = this.span.take() {
                    span.record_panic(payload.as_ref());
                }
                resume_unwind(payload)
            }
        }
    }
}
