//! The future an instrumented `async fn` returns: its instrumentation (a span, a timer) and its
//! body's future are made when it is first polled, as an `async fn`'s first statements run, or
//! at once when the call site records nothing, so that the off path is the body's own future
//! behind one test.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

/// What an instrumented call's future is made of: the body's own future when the call records
/// nothing, else the body in its instrumentation's wrapper.
#[derive(Debug)]
pub enum Made<F, W> {
    /// The body's future, polled as it is.
    Bare(F),
    /// The body's future in a wrapper that records the call.
    Wrapped(W),
}

pin_project! {
    /// The future `make(true)` makes, made at the first poll; or the one `make(false)` makes,
    /// made at once, when the call records nothing. Dropped before its first poll, it never calls
    /// `make(true)`.
    pub struct Deferred<C, F, W> {
        #[pin]
        state: State<C, F, W>,
    }
}

pin_project! {
    #[project = StateProjection]
    #[project_replace = StateTaken]
    enum State<C, F, W> {
        // The body's future, polled as it is.
        Bare { #[pin] body: F },
        // The body's future in its wrapper.
        Wrapped { #[pin] wrapped: W },
        // Waiting for the first poll to make the future.
        Waiting { make: C },
        // `make` panicked.
        Taken,
    }
}

impl<C, F, W> State<C, F, W>
where
    C: FnOnce(bool) -> Made<F, W>,
{
    #[inline(always)]
    fn of(made: Made<F, W>) -> Self {
        match made {
            Made::Bare(body) => Self::Bare { body },
            Made::Wrapped(wrapped) => Self::Wrapped { wrapped },
        }
    }

    /// Makes the future of a waiting call.
    fn make(mut self: Pin<&mut Self>) {
        if let StateTaken::Waiting { make } = self.as_mut().project_replace(Self::Taken) {
            self.set(Self::of(make(true)));
        }
    }
}

impl<C, F, W> Deferred<C, F, W>
where
    C: FnOnce(bool) -> Made<F, W>,
    F: Future,
    W: Future<Output = F::Output>,
{
    /// The future `make(false)` makes when `records` is false; otherwise the one `make(true)`
    /// makes, made at the first poll.
    #[inline(always)]
    pub fn new(records: bool, make: C) -> Self {
        let state = if records {
            State::Waiting { make }
        } else {
            State::of(make(false))
        };
        Self { state }
    }
}

impl<C, F, W> Future for Deferred<C, F, W>
where
    C: FnOnce(bool) -> Made<F, W>,
    F: Future,
    W: Future<Output = F::Output>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let mut state = self.project().state;
        if let StateProjection::Bare { body } = state.as_mut().project() {
            return body.poll(cx);
        }
        poll_recording(state, cx)
    }
}

/// Polls a call that records (or is waiting to know whether it does); out of line, so that the
/// body's poll is inlined in the bare arm only and the off path stays small enough to be inlined
/// where the future is polled.
#[inline(never)]
fn poll_recording<C, F, W>(
    mut state: Pin<&mut State<C, F, W>>,
    cx: &mut TaskContext<'_>,
) -> Poll<F::Output>
where
    C: FnOnce(bool) -> Made<F, W>,
    F: Future,
    W: Future<Output = F::Output>,
{
    if let StateProjection::Waiting { .. } = state.as_mut().project() {
        state.as_mut().make();
    }
    match state.project() {
        StateProjection::Bare { body } => body.poll(cx),
        StateProjection::Wrapped { wrapped } => wrapped.poll(cx),
        // What an `async fn` does when polled after it panicked (`make` did, leaving nothing).
        StateProjection::Waiting { .. } | StateProjection::Taken => {
            panic!("`async fn` resumed after panicking")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::rc::Rc;

    fn poll<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut TaskContext::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn off_the_future_is_made_at_once_and_records_nothing() {
        let made = Rc::new(Cell::new(None));
        let seen = made.clone();
        let future = Deferred::new(false, move |records| {
            seen.set(Some(records));
            Made::<_, std::future::Pending<u8>>::Bare(async { 7 })
        });
        assert_eq!(made.get(), Some(false));
        let mut future = std::pin::pin!(future);
        assert_eq!(poll(future.as_mut()), Poll::Ready(7));
    }

    #[test]
    fn on_the_future_is_made_at_the_first_poll() {
        let made = Rc::new(Cell::new(0));
        let seen = made.clone();
        let future = Deferred::new(true, move |records| {
            assert!(records);
            seen.set(seen.get() + 1);
            let mut first = true;
            Made::<std::future::Ready<&str>, _>::Wrapped(std::future::poll_fn(move |_| {
                if std::mem::take(&mut first) {
                    Poll::Pending
                } else {
                    Poll::Ready("done")
                }
            }))
        });
        assert_eq!(made.get(), 0, "nothing is made before the first poll");
        let mut future = std::pin::pin!(future);
        assert_eq!(poll(future.as_mut()), Poll::Pending);
        assert_eq!(poll(future.as_mut()), Poll::Ready("done"));
        assert_eq!(made.get(), 1, "made once");
    }

    #[test]
    fn dropped_unpolled_it_makes_nothing() {
        let made = Rc::new(Cell::new(false));
        let seen = made.clone();
        drop(Deferred::new(true, move |_| {
            seen.set(true);
            Made::<_, std::future::Ready<()>>::Bare(async {})
        }));
        assert!(!made.get());
    }

    #[test]
    fn a_panic_while_making_is_the_poll_s_and_a_later_poll_panics_as_an_async_fn_does() {
        let future = Deferred::new(
            true,
            |_| -> Made<std::future::Ready<u8>, std::future::Ready<u8>> { panic!("make failed") },
        );
        let mut future = std::pin::pin!(future);
        let first = catch_unwind(AssertUnwindSafe(|| poll(future.as_mut())));
        assert!(first.is_err());
        let again = catch_unwind(AssertUnwindSafe(|| poll(future.as_mut()))).unwrap_err();
        assert_eq!(
            again.downcast_ref::<&str>(),
            Some(&"`async fn` resumed after panicking")
        );
    }
}
