//! What the `#[trace_method]` expansion calls: start a span, run the body with it current,
//! record how the call ended, end the span.

mod future;
#[cfg(feature = "genai")]
mod held;
mod ids;
mod local;
mod meta;
mod outcome;
mod panic_trace;
mod record;

pub(crate) use panic_trace::caller_stacktrace;

use std::any::Any;
use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use opentelemetry::trace::{Span as _, SpanBuilder, Status, TraceContextExt, Tracer as _};
use opentelemetry::trace::{SpanId, SpanKind};
use opentelemetry::{Context, ContextGuard, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_STACKTRACE, EXCEPTION_TYPE,
};

use crate::capture::{self, Capture, CapturedParam, ParamSink, ParamValue};
use crate::state;
use crate::state::{CodeLocation, CurrentSpan, scope};
use record::{LocalSpan, Parent, RecordSpan, Started};

pub use future::{Instrumented, Traced, armed, begin};
#[cfg(feature = "genai")]
pub(crate) use held::{HeldSpan, start_held};
pub use local::current_context;
pub(crate) use local::{CurrentParent, with_current_span};
pub use meta::{ParamMeta, SpanMeta};
pub use outcome::{Outcome, Returned, ViaAnyError, ViaDebugError, ViaDisplayError, ViaPlainValue};

/// Name of the event recorded for an error or a panic.
pub const EXCEPTION_EVENT: &str = "exception";
/// Name of the event recorded when an instrumented future is dropped before it completes.
pub const CANCELLED_EVENT: &str = "cancelled";

/// Number of `code.*` attributes every span starts with.
const CODE_ATTRIBUTES: usize = 3;

/// A started span, made current while the instrumented body runs, then ended with how the
/// call ended.
#[derive(Debug)]
pub struct ActiveSpan(Held);

#[derive(Debug)]
enum Held {
    /// One of the toolkit's spans, made current on this thread's stack (`local.rs`).
    Local(LocalSpan),
    /// A span of the SDK's tracer (setup did not build the toolkit's span pipeline), made current
    /// in an attached OpenTelemetry context.
    Attached(Context),
}

/// A span made current by [`ActiveSpan::enter`], until [`EnteredSpan::exit`].
#[derive(Debug)]
pub(crate) enum EnteredSpan {
    Local(local::Entered),
    Attached(Context, ContextGuard, panic_trace::AttachedMark),
}

/// Starts the span of one call of the function described by `meta`, as a child of the current
/// span, and records `params` when the span is sampled. `self_type` is `type_name::<Self>()` for
/// methods named after their `Self` type.
///
/// Returns `None` when no tracer is installed.
pub fn start(
    meta: &'static SpanMeta,
    self_type: Option<&'static str>,
    params: &[&dyn Capture],
) -> Option<ActiveSpan> {
    if !meta.records() {
        return None;
    }
    start_recorded(meta, self_type, params).map(|(span, _)| span)
}

/// [`start`] for a call site known to record; with the span, the id of the current
/// OpenTelemetry context's span it started under (for entering it right away).
#[inline]
fn start_recorded(
    meta: &'static SpanMeta,
    self_type: Option<&'static str>,
    params: &[&dyn Capture],
) -> Option<(ActiveSpan, SpanId)> {
    state::with_installed_tracer(|tracer| {
        panic_trace::install();
        let current = CurrentParent::now();
        let (cx, parent) = (&current.cx, current.as_parent());
        let (name, function) = meta.names(self_type);
        let code = CodeLocation {
            function,
            file: meta.file(),
            line: meta.line(),
        };
        let held = match &tracer.records {
            Some(sink) if !cx.is_telemetry_suppressed() => {
                match record::start(sink, parent, name, meta.kind(), Some(code), Vec::new()) {
                    Started::Recording(mut span) => {
                        capture_params(meta, params, &mut span);
                        match tracer.current_span {
                            CurrentSpan::Context => {
                                Held::Attached(cx.with_span(RecordSpan::from(span)))
                            }
                            CurrentSpan::ThreadStack => Held::Local(span),
                        }
                    }
                    // Rare (a sampler other than the default dropped it): its ids are made
                    // current in a context, for its children to be dropped too.
                    Started::Dropped(span_context) => {
                        Held::Attached(cx.with_remote_span_context(span_context))
                    }
                }
            }
            _ => {
                let parent = parent.context();
                // Room for the context attributes, the parameters, a truncation flag and
                // reason, and `error.type`, so that the span's attribute list never grows.
                let scoped = scope::current_attributes(&parent).map_or(0, |a| a.len());
                let mut attributes =
                    Vec::with_capacity(CODE_ATTRIBUTES + scoped + params.len() + 3);
                attributes.extend(code.attributes());
                let builder = SpanBuilder::from_name(name)
                    .with_kind(meta.kind())
                    .with_attributes(attributes);
                let mut span = tracer.sdk.build_with_context(builder, &parent);
                if span.is_recording() {
                    capture_params(meta, params, &mut |captured: CapturedParam<'_>| {
                        captured.into_attributes(|kv| span.set_attribute(kv))
                    });
                }
                Held::Attached(parent.with_span(span))
            }
        };
        (ActiveSpan(held), current.outer)
    })
}

/// Starts a span for an integration (an HTTP request, a database statement, a `tracing` span)
/// as a child of `parent`, and returns the context holding it; `None` when no tracer is
/// installed. The toolkit's record span where setup built the span pipeline, the SDK's span
/// otherwise.
#[cfg(any(feature = "http", feature = "tracing"))]
pub(crate) fn start_child(
    parent: &Context,
    name: impl Into<Cow<'static, str>>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
) -> Option<Context> {
    let parent = Parent {
        cx: parent,
        local: None,
    };
    start_child_of(parent, name, kind, attributes)
}

/// [`start_child`] under the current span (`parent`, taken with [`CurrentParent::now`]), without
/// building a context holding the current span first.
pub(crate) fn start_current_child(
    parent: &CurrentParent,
    name: impl Into<Cow<'static, str>>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
) -> Option<Context> {
    start_child_of(parent.as_parent(), name, kind, attributes)
}

fn start_child_of(
    parent: Parent<'_>,
    name: impl Into<Cow<'static, str>>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
) -> Option<Context> {
    let cx = parent.cx;
    state::with_installed_tracer(|tracer| match &tracer.records {
        Some(sink) if !cx.is_telemetry_suppressed() => {
            match record::start(sink, parent, name.into(), kind, None, attributes) {
                Started::Recording(span) => cx.with_span(RecordSpan::from(span)),
                Started::Dropped(span_context) => cx.with_remote_span_context(span_context),
            }
        }
        _ => {
            let builder = SpanBuilder::from_name(name)
                .with_kind(kind)
                .with_attributes(attributes);
            let parent = parent.context();
            parent.with_span(tracer.sdk.build_with_context(builder, &parent))
        }
    })
}

/// Captures `params` as `meta` says, into `sink`.
fn capture_params<'a>(
    meta: &'static SpanMeta,
    params: &[&'a dyn Capture],
    sink: &mut impl ParamSink<'a>,
) {
    if params.is_empty() {
        return;
    }
    let generation = capture::generation();
    if let Some(treatments) = meta.cached_treatments(generation) {
        // The usual call: the treatments are known, and the limits are the thread's copy.
        let values = param_values(meta, params, |i| treatments.get(i));
        capture::capture_params(values, capture::limits(), sink);
        return;
    }
    capture::with_config(|config| {
        let values = param_values(meta, params, |i| meta.treatment(i, generation, config));
        let limits = (config.max_value_bytes, config.max_span_bytes);
        capture::capture_params(values, limits, sink);
    });
}

/// `params` with their keys from `meta` and the treatment `treatment` gives each index.
fn param_values<'p, 'a>(
    meta: &'static SpanMeta,
    params: &'p [&'a dyn Capture],
    treatment: impl Fn(usize) -> capture::Treatment + 'p,
) -> impl Iterator<Item = ParamValue<'a>> + 'p {
    params.iter().enumerate().map(move |(i, value)| ParamValue {
        key: meta.params()[i].key,
        treatment: treatment(i),
        value: *value,
    })
}

/// Starts the span of a synchronous call from inside the call's wrapped body, which holds the
/// parameters: the body's first step is [`SpanStart::start`] with them.
#[derive(Debug)]
pub struct SpanStart {
    meta: &'static SpanMeta,
    self_type: Option<&'static str>,
    entered: Option<EnteredSpan>,
}

impl SpanStart {
    /// Starts the span with `params` and makes it current until the body returns.
    pub fn start(&mut self, params: &[&dyn Capture]) {
        // `trace_call`, which made this, found the call site recording.
        self.entered = start_recorded(self.meta, self.self_type, params)
            .map(|(span, outer)| span.enter_under(outer));
    }
}

/// The wrapped body of a synchronous `#[trace_method]` fn, unchanged: the `FnOnce` bound makes
/// the closure `FnOnce`, so a body that mutates its captures (`&mut self`, a `mut` parameter) or
/// returns a reborrow of a captured `&mut` compiles as it does in the fn itself.
#[inline(always)]
pub fn once_traced<R, F: FnOnce(Option<&mut SpanStart>) -> R>(body: F) -> F {
    body
}

/// Runs the wrapped body of a synchronous call described by `meta` with its span current, and
/// ends the span with `outcome` of the returned value. A panic is recorded and continues
/// unwinding. The expansion calls this unless the call site is known to be off
/// ([`SpanMeta::is_off`]); otherwise it calls `body` with `None`, so the off path is the body and
/// one test of the call site's own static.
#[inline(never)]
pub fn trace_call<R>(
    meta: &'static SpanMeta,
    self_type: Option<&'static str>,
    body: impl FnOnce(Option<&mut SpanStart>) -> R,
    outcome: impl FnOnce(&R) -> Outcome,
) -> R {
    if !meta.records() {
        return body(None);
    }
    let mut start = SpanStart {
        meta,
        self_type,
        entered: None,
    };
    let returned = catch_unwind(AssertUnwindSafe(|| body(Some(&mut start))));
    let active = start.entered.and_then(EnteredSpan::exit);
    match returned {
        Ok(value) => {
            if let Some(active) = active {
                active.finish(outcome(&value));
            }
            value
        }
        Err(payload) => {
            if let Some(active) = active {
                active.record_panic(payload.as_ref());
            }
            resume_unwind(payload)
        }
    }
}

impl ActiveSpan {
    /// Makes the span current on this thread.
    pub(crate) fn enter(self) -> EnteredSpan {
        match self.0 {
            Held::Local(span) => EnteredSpan::Local(local::enter(span)),
            Held::Attached(cx) => {
                let guard = cx.clone().attach();
                EnteredSpan::Attached(cx, guard, panic_trace::AttachedMark::new())
            }
        }
    }

    /// [`ActiveSpan::enter`] right after the span started, the current OpenTelemetry context's
    /// span still `outer`.
    fn enter_under(self, outer: SpanId) -> EnteredSpan {
        match self.0 {
            Held::Local(span) => EnteredSpan::Local(local::enter_under(span, outer)),
            Held::Attached(cx) => {
                let guard = cx.clone().attach();
                EnteredSpan::Attached(cx, guard, panic_trace::AttachedMark::new())
            }
        }
    }

    /// Records how the call ended and ends the span.
    pub fn finish(self, outcome: Outcome) {
        self.end_with(|span| match outcome {
            Outcome::Returned => {}
            Outcome::Ok => span.set_status(Status::Ok),
            Outcome::Err {
                error_type,
                message,
            } => record_failure(span, error_type, message, None),
        });
    }

    pub(crate) fn record_panic(self, payload: &(dyn Any + Send)) {
        self.end_with(|span| {
            let message = panic_message(payload);
            // Resolved (symbols, files, lines) only for a span that records it.
            let stacktrace = span
                .is_recording()
                .then(|| panic_trace::stacktrace(&message))
                .flatten();
            record_failure(span, "panic", message, stacktrace);
        });
    }

    pub(crate) fn record_cancelled(self) {
        self.end_with(|span| {
            span.add_event(CANCELLED_EVENT.into(), Vec::new());
            span.set_status(Status::error("cancelled"));
        });
    }

    /// Records onto the span with `record`, runs the end-of-span hooks, ends the span.
    fn end_with(self, record: impl FnOnce(&mut dyn state::EndingSpan)) {
        match self.0 {
            Held::Local(mut span) => {
                record(&mut span);
                state::run_span_end_hooks(&mut span);
                span.end(None);
            }
            Held::Attached(cx) => {
                let mut span = cx.span();
                record(&mut span);
                state::run_span_end_hooks(&mut span);
                span.end();
            }
        }
    }
}

impl EnteredSpan {
    /// The span, no longer current (`None` if this thread's storage lost it at its end).
    pub(crate) fn exit(self) -> Option<ActiveSpan> {
        match self {
            Self::Local(entered) => entered.exit().map(|span| ActiveSpan(Held::Local(span))),
            Self::Attached(cx, guard, mark) => {
                drop(guard);
                drop(mark);
                Some(ActiveSpan(Held::Attached(cx)))
            }
        }
    }
}

/// The text of a panic payload (`panic!` with a literal or a formatted message).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic with a non-string payload".to_owned())
}

/// Records a failure: `error.type`, the `exception` event (with the stack trace of a panic),
/// the error status.
fn record_failure(
    span: &mut dyn state::EndingSpan,
    error_type: &'static str,
    message: String,
    stacktrace: Option<String>,
) {
    if !span.is_recording() {
        return;
    }
    span.set_attribute(KeyValue::new(ERROR_TYPE, error_type));
    let mut attributes = vec![
        KeyValue::new(EXCEPTION_TYPE, error_type),
        KeyValue::new(EXCEPTION_MESSAGE, message.clone()),
    ];
    if let Some(stacktrace) = stacktrace {
        attributes.push(KeyValue::new(EXCEPTION_STACKTRACE, stacktrace));
    }
    span.add_event(EXCEPTION_EVENT.into(), attributes);
    span.set_status(Status::error(message));
}
