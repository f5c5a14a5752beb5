//! A stand-in for a third-party library instrumented with the OpenTelemetry API only: it knows
//! nothing of `instrument` and finds the current span the way every such library does, through
//! `opentelemetry::Context::current()` (which is what `tracer.in_span`, `get_active_span` and the
//! global propagator read).
//!
//! The acceptance test `tests/integration/tests/otel_citizen.rs` calls it from inside
//! `#[instrument::trace_method]` functions: whatever it sees there is what any library sees.

#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId, Tracer as _, get_active_span};
use opentelemetry::{Context, Key, KeyValue, Value, global};

/// The name of the library's tracer (its instrumentation scope).
pub const TRACER_NAME: &str = "otel-only-lib";

/// What the library saw of a span it started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanIds {
    /// The child span's trace id.
    pub trace_id: TraceId,
    /// The child span's own id.
    pub span_id: SpanId,
    /// Whether the child is sampled.
    pub sampled: bool,
    /// The trace id of `Context::current()`'s span just before the child started (its parent),
    /// `TraceId::INVALID` when there was none.
    pub parent_trace_id: TraceId,
    /// The span id of `Context::current()`'s span just before the child started (its parent),
    /// `SpanId::INVALID` when there was none.
    pub parent_span_id: SpanId,
}

/// Starts and ends a span named `name` from the global tracer, as a child of whatever
/// `Context::current()` holds, and tells its ids and its parent's.
pub fn child_span(name: impl Into<Cow<'static, str>>) -> SpanIds {
    let (parent_trace_id, parent_span_id) = current_ids();
    global::tracer(TRACER_NAME).in_span(name, |cx| {
        let span = cx.span();
        let child = span.span_context();
        SpanIds {
            trace_id: child.trace_id(),
            span_id: child.span_id(),
            sampled: child.is_sampled(),
            parent_trace_id,
            parent_span_id,
        }
    })
}

/// Sets an attribute on the active span (`opentelemetry::trace::get_active_span`), as libraries
/// do to annotate the span their caller is in.
pub fn tag_active(key: impl Into<Key>, value: impl Into<Value>) {
    let attribute = KeyValue::new(key, value);
    get_active_span(|span| span.set_attribute(attribute));
}

/// The `traceparent` header the globally installed propagator
/// (`opentelemetry::global::set_text_map_propagator`) writes for `Context::current()`, or `None`
/// when it writes none (no valid current span, or the default no-op propagator).
pub fn inject() -> Option<String> {
    global::get_text_map_propagator(|propagator| inject_with(propagator))
}

/// The `traceparent` header `propagator` writes for `Context::current()`, or `None`.
pub fn inject_with(propagator: &dyn TextMapPropagator) -> Option<String> {
    let mut headers = HashMap::new();
    propagator.inject_context(&Context::current(), &mut headers);
    headers.remove("traceparent")
}

/// The trace and span ids of `Context::current()`'s span (both invalid when there is none).
pub fn current_ids() -> (TraceId, SpanId) {
    let cx = Context::current();
    let span = cx.span();
    let span_context = span.span_context();
    (span_context.trace_id(), span_context.span_id())
}

/// Whether `Context::current()` holds a span with a valid span context.
pub fn has_current_span() -> bool {
    Context::current().span().span_context().is_valid()
}
