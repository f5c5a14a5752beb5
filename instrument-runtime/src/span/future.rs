//! The future wrappers of instrumented `async fn`s: keep the span current on every poll, record
//! panics, and record `cancelled` when dropped before completion. [`Traced`] wraps the body's
//! own future, which starts the span itself at the first poll; [`Instrumented`] wraps a body
//! whose span was started before it (the shape kept where the fn must stay an `async fn`).

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use super::{ActiveSpan, EnteredSpan, Outcome, SpanMeta};
use crate::capture::Capture;

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
    finish_poll(polled, span, outcome)
}

pin_project! {
    /// The future of an instrumented `async fn` (the macro's usual shape): the body's own future,
    /// made at the call, whose first statement starts the span at the first poll
    /// ([`armed`], [`begin`]). Off at the first poll, every poll is the body's
    /// own behind one test; on, the span is current on every poll and ends with `outcome` of
    /// the output; dropping it unfinished records `cancelled`.
    pub struct Traced<F, S, O> {
        #[pin]
        inner: F,
        site: S,
        state: State,
        outcome: O,
    }

    impl<F, S, O> PinnedDrop for Traced<F, S, O> {
        fn drop(this: Pin<&mut Self>) {
            let state = this.project().state;
            // Tested before it is replaced: off, dropping the future tests one byte.
            if matches!(state, State::Recording(_))
                && let State::Recording(span) = std::mem::replace(state, State::Off)
            {
                span.record_cancelled();
            }
        }
    }
}

/// Where a [`Traced`] future stands: one field whose tag is its own byte (`repr(u8)`, no niche
/// in the span to decode), so that the off path sets and tests one byte.
#[derive(Debug)]
#[repr(u8)]
enum State {
    /// Not polled yet.
    First,
    /// Records nothing: the call site was off at the first poll, no span started, or the span
    /// ended.
    Off,
    /// Its span is current on every poll.
    Recording(ActiveSpan),
}

thread_local! {
    /// Set by a [`Traced`] future around its first poll, for the body's first statement, which
    /// clears it: the span is to be started.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    /// The span the body's first statement started and made current, handed to the [`Traced`]
    /// future polling it (saved and put back around a nested first poll).
    static HANDED: Cell<Option<EnteredSpan>> = const { Cell::new(None) };
}

impl<F, S, O> Traced<F, S, O>
where
    F: Future,
    S: Fn() -> &'static SpanMeta,
    O: Fn(&F::Output) -> Outcome,
{
    /// Wraps the body's future `inner` of the call site `site` returns (a closure naming the
    /// site's static, so that the future does not carry its address); `outcome` says how a
    /// returned value ended the call.
    #[inline(always)]
    pub fn new(site: S, inner: F, outcome: O) -> Self {
        Self {
            inner,
            site,
            state: State::First,
            outcome,
        }
    }
}

impl<F, S, O> Future for Traced<F, S, O>
where
    F: Future,
    S: Fn() -> &'static SpanMeta,
    O: Fn(&F::Output) -> Outcome,
{
    type Output = F::Output;

    /// Inlined where the future is polled: off, that is the body's own poll behind a test of
    /// the state (and, at the first poll, of the call site's switch).
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let bare = match this.state {
            State::Recording(_) => false,
            State::First => {
                // Off at the first poll: off for good, as the body's first statement decides.
                let off = (this.site)().is_off();
                if off {
                    *this.state = State::Off;
                }
                off
            }
            State::Off => true,
        };
        if bare {
            return this.inner.poll(cx);
        }
        poll_armed(this.inner, this.state, this.outcome, cx)
    }
}

/// A poll of a [`Traced`] future that is first (its call site on) or recording: the recording
/// span is taken out of the state for [`poll_recording`] and put back while the body has not
/// ended. Out of line, so that the off path stays small.
#[inline(never)]
fn poll_armed<F: Future>(
    inner: Pin<&mut F>,
    state: &mut State,
    outcome: &impl Fn(&F::Output) -> Outcome,
    cx: &mut TaskContext<'_>,
) -> Poll<F::Output> {
    let mut span = match std::mem::replace(state, State::Off) {
        State::First => return poll_first(inner, state, outcome, cx),
        State::Recording(span) => Some(span),
        State::Off => None,
    };
    let polled = poll_recording(inner, &mut span, outcome, cx);
    if let Some(span) = span {
        *state = State::Recording(span);
    }
    polled
}

/// Whether the body's first statement is to start the span (see [`Traced`]); clears the mark.
#[inline(always)]
pub fn armed() -> bool {
    ARMED
        .try_with(|armed| {
            let set = armed.get();
            if set {
                armed.set(false);
            }
            set
        })
        .unwrap_or(false)
}

/// Hands the span the body's first statement started, made current, to the [`Traced`] future
/// polling the body.
fn hand_over(entered: Option<EnteredSpan>) {
    let mut entered = entered;
    let _ = HANDED.try_with(|handed| handed.set(entered.take()));
    // The thread is exiting (its thread-locals are being destroyed): the span stops being
    // current here, as nothing could take it over.
    if let Some(entered) = entered {
        drop(entered.exit());
    }
}

/// Starts the span of an instrumented `async fn`'s call from the first statement of its body, at
/// the future's first poll (when [`armed`]), and makes it current: the [`Traced`] future polling
/// the body takes it over when the poll returns.
#[inline(never)]
pub fn begin(meta: &'static SpanMeta, self_type: Option<&'static str>, params: &[&dyn Capture]) {
    if !meta.records() {
        return;
    }
    let entered =
        super::start_recorded(meta, self_type, params).map(|(span, outer)| span.enter_under(outer));
    hand_over(entered);
}

/// The first poll of a [`Traced`] future whose call site records (its state `Off` until the span
/// the body started is taken): arms the body's first statement, polls, and takes the span it
/// started (current until now).
fn poll_first<F: Future>(
    inner: Pin<&mut F>,
    state: &mut State,
    outcome: &impl Fn(&F::Output) -> Outcome,
    cx: &mut TaskContext<'_>,
) -> Poll<F::Output> {
    let outer = HANDED.try_with(Cell::take).ok().flatten();
    let _ = ARMED.try_with(|armed| armed.set(true));
    let polled = catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
    let _ = ARMED.try_with(|armed| armed.set(false));
    let entered = HANDED
        .try_with(|handed| handed.replace(outer))
        .ok()
        .flatten();
    let mut span = entered.and_then(EnteredSpan::exit);
    let polled = finish_poll(polled, &mut span, outcome);
    if let Some(span) = span {
        *state = State::Recording(span);
    }
    polled
}

/// Ends `span` with the poll's output or panic, if the poll ended the body.
fn finish_poll<T>(
    polled: std::thread::Result<Poll<T>>,
    span: &mut Option<ActiveSpan>,
    outcome: &impl Fn(&T) -> Outcome,
) -> Poll<T> {
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
