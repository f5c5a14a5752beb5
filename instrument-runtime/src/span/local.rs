//! The toolkit's current span, kept on a thread-local stack instead of in an OpenTelemetry
//! `Context`: making an instrumented call's span current is a push and a pop, with no context
//! to allocate, attach, detach and drop. An OpenTelemetry `Context` holding the span is made
//! only when something asks for one ([`current_context`]: propagation, the HTTP client, the
//! `tracing` bridge, third-party OpenTelemetry instrumentation, a spawned task).
//!
//! The stack and the OpenTelemetry context are two stacks of one thread. A frame remembers the
//! span of the context that was current when it was entered: while that is still the context's
//! span, the frame is the innermost; once code attaches a context with another span (a
//! third-party span, a `tracing` span entered inside the call), that context is.

use std::cell::RefCell;

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt};

use super::record::{LocalSpan, Parent};
use crate::state::EndingSpan;

thread_local! {
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// Whether this thread has a span on its stack (for the panic hook: never panics).
pub(super) fn has_frames() -> bool {
    FRAMES
        .try_with(|frames| frames.try_borrow().is_ok_and(|frames| !frames.is_empty()))
        .unwrap_or(false)
}

/// A current span and the span of the context that was current when it was entered.
#[derive(Debug)]
struct Frame {
    span: LocalSpan,
    outer: SpanId,
}

/// A span made current by [`enter`]; [`Entered::exit`] takes it back.
#[derive(Debug)]
pub(crate) enum Entered {
    /// On the stack at this depth.
    Pushed(usize),
    /// Kept aside: the thread's stack was in use or gone (a thread ending), so the span ran
    /// without being current.
    Held(LocalSpan),
}

/// The span id of the current OpenTelemetry context (invalid when it holds none).
fn context_span_id(cx: &Context) -> SpanId {
    cx.span().span_context().span_id()
}

/// Makes `span` the current span of this thread until [`Entered::exit`].
pub(crate) fn enter(span: LocalSpan) -> Entered {
    enter_under(span, Context::map_current(context_span_id))
}

/// [`enter`] where the span of the current OpenTelemetry context is known to be `outer` (a span
/// entered right after it started, under the [`CurrentParent`] it started from).
pub(crate) fn enter_under(span: LocalSpan, outer: SpanId) -> Entered {
    let mut frame = Some(Frame { span, outer });
    let depth = FRAMES
        .try_with(|frames| {
            let mut frames = frames.try_borrow_mut().ok()?;
            frames.push(frame.take()?);
            Some(frames.len() - 1)
        })
        .ok()
        .flatten();
    match frame {
        Some(frame) => Entered::Held(frame.span),
        None => Entered::Pushed(depth.unwrap_or(usize::MAX)),
    }
}

impl Entered {
    /// The span entered, no longer current. `None` only if the stack lost it (its thread's
    /// storage is being torn down).
    pub(crate) fn exit(self) -> Option<LocalSpan> {
        match self {
            Self::Held(span) => Some(span),
            Self::Pushed(depth) => FRAMES
                .try_with(|frames| {
                    let mut frames = frames.try_borrow_mut().ok()?;
                    if frames.len() <= depth {
                        return None;
                    }
                    // Frames above ours were left by calls that unwound past their exit.
                    frames.truncate(depth + 1);
                    frames.pop().map(|frame| frame.span)
                })
                .ok()
                .flatten(),
        }
    }
}

/// Runs `f` on the innermost frame of this thread, if it is the current span: no context with
/// another span was attached since it was entered (a context made from the frame's own span by
/// [`current_context`], attached with request-context attributes or by a library, still counts
/// as the frame's).
fn with_innermost<R>(cx: &Context, f: impl FnOnce(&mut LocalSpan) -> R) -> Option<R> {
    with_innermost_under(context_span_id(cx), f)
}

/// [`with_innermost`] for a context whose span's id is `id`.
fn with_innermost_under<R>(id: SpanId, f: impl FnOnce(&mut LocalSpan) -> R) -> Option<R> {
    FRAMES
        .try_with(|frames| {
            let mut frames = frames.try_borrow_mut().ok()?;
            let frame = frames
                .last_mut()
                .filter(|frame| frame.outer == id || frame.span.span_context().span_id() == id)?;
            Some(f(&mut frame.span))
        })
        .ok()
        .flatten()
}

/// Runs `f` on the current span: the toolkit's innermost span, or the current context's. `f`
/// runs outside the OpenTelemetry context's borrow, so that it may attach contexts (the SDK's
/// log processors do). `None` never happens in practice (it would mean `f` was neither run nor
/// kept).
pub(crate) fn with_current_span<R>(f: impl FnOnce(&mut dyn EndingSpan) -> R) -> Option<R> {
    let cx = Context::current();
    let mut f = Some(f);
    let local = with_innermost(&cx, |span| f.take().map(|f| f(span))).flatten();
    match f {
        Some(f) => Some(f(&mut cx.span())),
        None => local,
    }
}

/// The parent of a span started now: the current OpenTelemetry context, and the span context of
/// the toolkit's current span when that one is the current span.
#[derive(Debug)]
pub(crate) struct CurrentParent {
    pub(crate) cx: Context,
    pub(crate) local: Option<SpanContext>,
    /// The id of the span of `cx` (invalid when it holds none).
    pub(crate) outer: SpanId,
}

impl CurrentParent {
    /// The parent of a span started now on this thread.
    pub(crate) fn now() -> Self {
        let cx = Context::current();
        let outer = context_span_id(&cx);
        let local = with_innermost_under(outer, |span| span.span_context().clone());
        Self { cx, local, outer }
    }

    /// The parent span's ids (invalid when there is none).
    pub(crate) fn span_context(&self) -> SpanContext {
        match &self.local {
            Some(span_context) => span_context.clone(),
            None => self.cx.span().span_context().clone(),
        }
    }

    /// As the parent argument of [`record::start`](super::record::start).
    pub(crate) fn as_parent(&self) -> Parent<'_> {
        Parent {
            cx: &self.cx,
            local: self.local.as_ref(),
        }
    }
}

/// The current context as OpenTelemetry code expects it: the current OpenTelemetry context, with
/// the toolkit's current span as its span when that is the innermost. Third-party
/// instrumentation that calls `opentelemetry::Context::current()` inside an instrumented call
/// runs under this context to make its spans children of the call's span:
///
/// ```
/// use opentelemetry::trace::{TraceContextExt, Tracer};
///
/// #[instrument::trace_method]
/// fn handle(order: u32) -> u32 {
///     // Attached, the call's span is the parent of spans that libraries start from
///     // `Context::current()`.
///     let _current = instrument::current_context().attach();
///     let tracer = opentelemetry::global::tracer("third-party");
///     tracer.in_span("lookup", |_cx| order + 1)
/// }
/// # assert_eq!(handle(1), 2);
/// ```
///
/// A task spawned from an instrumented call takes it along the same way:
/// `tokio::spawn(task.with_context(instrument::current_context()))` (with
/// `opentelemetry::context::FutureExt`).
///
/// The span in the context records nothing itself (attributes and events for the call's span go
/// through [`set_span_attributes`](crate::set_span_attributes) and
/// [`log_event`](crate::log_event)); it is the parent of the spans started under it.
pub fn current_context() -> Context {
    CurrentParent::now().as_parent().context()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use opentelemetry::trace::{SpanKind, TraceFlags, TraceId, TraceState};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor, SpanLimits};

    use super::*;
    use crate::span::record::{self, Started};
    use crate::state::{HeadSampler, RecordSink};

    fn sink() -> Arc<RecordSink> {
        let processor = SimpleSpanProcessor::new(InMemorySpanExporter::default());
        RecordSink::start(
            Box::new(processor),
            HeadSampler::default(),
            SpanLimits::default(),
            true,
        )
    }

    fn root(sink: &Arc<RecordSink>, name: &'static str) -> LocalSpan {
        let parent = Parent {
            cx: &Context::new(),
            local: None,
        };
        match record::start(
            sink,
            parent,
            name.into(),
            SpanKind::Internal,
            None,
            Vec::new(),
        ) {
            Started::Recording(span) => span,
            Started::Dropped(_) => panic!("the default sampler records a root span"),
        }
    }

    fn depth() -> usize {
        FRAMES.with(|frames| frames.borrow().len())
    }

    fn current_span_id() -> SpanId {
        current_context().span().span_context().span_id()
    }

    #[test]
    fn an_entered_span_is_the_parent_until_it_exits() {
        let sink = sink();
        let outer = root(&sink, "outer");
        let outer_id = outer.span_context().span_id();
        let entered = enter(outer);
        assert_eq!(current_span_id(), outer_id);
        assert_eq!(
            CurrentParent::now().local.map(|sc| sc.span_id()),
            Some(outer_id)
        );
        let exited = entered.exit().expect("the span comes back");
        assert_eq!(exited.span_context().span_id(), outer_id);
        assert_eq!(depth(), 0);
        assert!(!current_context().has_active_span());
    }

    #[test]
    fn a_context_attached_inside_is_current_until_it_is_detached() {
        let sink = sink();
        let outer = root(&sink, "outer");
        let outer_id = outer.span_context().span_id();
        let entered = enter(outer);
        let library = SpanContext::new(
            TraceId::from(7),
            SpanId::from(9),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        {
            let _attached = Context::current()
                .with_remote_span_context(library.clone())
                .attach();
            assert_eq!(current_span_id(), library.span_id());
            assert_eq!(
                CurrentParent::now().local,
                None,
                "the library's context is the innermost"
            );
            let seen = with_current_span(|span| span.span_context().span_id());
            assert_eq!(seen, Some(library.span_id()));
        }
        assert_eq!(current_span_id(), outer_id);
        drop(entered.exit());
    }

    #[test]
    fn exiting_a_frame_drops_frames_left_above_it() {
        let sink = sink();
        let outer = enter(root(&sink, "outer"));
        let inner = enter(root(&sink, "inner"));
        assert_eq!(depth(), 2);
        let outer = outer.exit().expect("the outer span comes back");
        assert_eq!(depth(), 0);
        assert!(inner.exit().is_none(), "the inner frame is gone");
        drop(outer);
    }
}
