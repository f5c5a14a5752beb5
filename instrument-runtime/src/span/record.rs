//! The toolkit's own spans, built without the SDK's tracer: the same ids, sampling decision,
//! limits and exported data as an SDK span, with less work on the calling thread — no
//! `SpanBuilder` to fill and take apart, no clone of the tracer, no loop over the provider's
//! processors at start (the one start-time processor step, the request-context attributes, is
//! done here), and the data handed to the provider's processors as it is when the span ends.
//!
//! A record span implements [`opentelemetry::trace::Span`]: an integration's span (an HTTP
//! request, a statement, a `tracing` span) sits in an OpenTelemetry `Context` like any span. An
//! instrumented call's span is made current on the thread's own stack instead (`local.rs`),
//! and is put in a context only when one is asked for.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceContextExt, TraceFlags};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SamplingDecision;

use super::ids;
use crate::capture::{CapturedParam, ParamSink};
use crate::state::clock::Moment;
use crate::state::scope;
use crate::state::{CodeLocation, EndingSpan, RecordSink, SpanRecord};

/// A recording span of the toolkit, started by [`start`]: its record (which holds its ids) and
/// where the record goes when the span ends. Two pointers, so that an instrumented call keeps
/// it current, and an instrumented `async fn`'s future carries it, at little cost.
#[derive(Debug)]
pub(crate) struct LocalSpan {
    record: Box<SpanRecord>,
    sink: Arc<RecordSink>,
}

/// A span just started: recording, or dropped by the sampler (then only its ids are kept).
#[derive(Debug)]
pub(crate) enum Started {
    Recording(LocalSpan),
    Dropped(SpanContext),
}

/// A span of the toolkit held in an OpenTelemetry context (an integration's span). Ends (and is
/// handed to the sink) at `end` or when dropped.
#[derive(Debug)]
pub(crate) struct RecordSpan {
    span_context: SpanContext,
    /// `None` once ended.
    span: Option<LocalSpan>,
}

impl From<LocalSpan> for RecordSpan {
    fn from(span: LocalSpan) -> Self {
        Self {
            span_context: span.record.span_context.clone(),
            span: Some(span),
        }
    }
}

/// The parent of a span: a context, whose span the toolkit's current span replaces when that
/// one is the innermost (see `local.rs`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Parent<'a> {
    pub(crate) cx: &'a Context,
    pub(crate) local: Option<&'a SpanContext>,
}

impl Parent<'_> {
    fn has_active_span(&self) -> bool {
        self.local.is_some() || self.cx.has_active_span()
    }

    /// The parent as one OpenTelemetry context (what the SDK's sampler is given).
    pub(crate) fn context(&self) -> Context {
        match self.local {
            Some(span_context) => self.cx.with_remote_span_context(span_context.clone()),
            None => self.cx.clone(),
        }
    }
}

/// Starts a span named `name` as a child of `parent`, with its `code.*` attributes and
/// `attributes` (which the sampler sees) followed by the parent's request-context attributes. A
/// span the sampler drops has its own id and no sampled flag, as the SDK makes it, and records
/// nothing.
pub(crate) fn start(
    sink: &Arc<RecordSink>,
    parent: Parent<'_>,
    name: Cow<'static, str>,
    kind: SpanKind,
    code: Option<CodeLocation>,
    mut attributes: Vec<KeyValue>,
) -> Started {
    let parent_span = parent.cx.span();
    let parent_context = parent.local.unwrap_or_else(|| parent_span.span_context());
    let (new_trace_id, span_id) = ids::new_ids(!parent_context.is_valid());
    let trace_id = new_trace_id.unwrap_or_else(|| parent_context.trace_id());
    let (sampled, trace_state) = if let Some(standard) = &sink.sampler.standard {
        // A standard sampler's decision, without its general path: sampled or dropped, the
        // parent's trace state kept.
        let sampled = standard
            .sampled(parent.has_active_span(), parent_context, trace_id)
            .then_some(true);
        (sampled, parent_context.trace_state().clone())
    } else {
        let mut seen: Vec<KeyValue> = code.iter().flat_map(CodeLocation::attributes).collect();
        seen.extend(attributes.iter().cloned());
        let sampling = sink.sampler.sdk.should_sample(
            Some(&parent.context()),
            trace_id,
            &name,
            &kind,
            &seen,
            &[],
        );
        attributes.extend(sampling.attributes);
        let sampled = match sampling.decision {
            SamplingDecision::Drop => None,
            SamplingDecision::RecordOnly => Some(false),
            SamplingDecision::RecordAndSample => Some(true),
        };
        (sampled, sampling.trace_state)
    };
    let Some(sampled) = sampled else {
        let span_context =
            SpanContext::new(trace_id, span_id, TraceFlags::default(), false, trace_state);
        return Started::Dropped(span_context);
    };
    let span_context = SpanContext::new(
        trace_id,
        span_id,
        parent_context.trace_flags().with_sampled(sampled),
        false,
        trace_state,
    );
    if let Some(scoped) = scope::current_attributes(parent.cx) {
        attributes.extend(scoped.iter().cloned());
    }
    let mut record = sink.record();
    record.start(
        span_context,
        parent_context,
        kind,
        name,
        code,
        attributes,
        sink.limits.max_attributes_per_span as usize,
    );
    Started::Recording(LocalSpan {
        record,
        sink: sink.clone(),
    })
}

impl LocalSpan {
    /// The span's ids.
    pub(crate) fn span_context(&self) -> &SpanContext {
        &self.record.span_context
    }

    /// Records a parameter's attribute (`text` is UTF-8), its text kept inline in the record
    /// where it fits.
    pub(crate) fn set_param(&mut self, key: &'static str, text: &[u8]) {
        let limit = self.attribute_limit();
        self.record.push_param(key, text, limit);
    }

    /// Adds an attribute, within the span's limit.
    pub(crate) fn set_attribute(&mut self, attribute: KeyValue) {
        let limit = self.attribute_limit();
        self.record.push_attribute(attribute, limit);
    }

    /// The most attributes the span keeps.
    fn attribute_limit(&self) -> usize {
        self.sink.limits.max_attributes_per_span as usize
    }

    /// Ends the span at `timestamp` (now when `None`) and hands it to the sink.
    pub(crate) fn end(self, timestamp: Option<SystemTime>) {
        let Self { mut record, sink } = self;
        if sink.is_closed() {
            return;
        }
        record.end_time = timestamp.map_or_else(Moment::now, Moment::Wall);
        sink.hand_over(record);
    }
}

/// Parameters go into the record: short texts written straight into its inline text.
impl<'a> ParamSink<'a> for LocalSpan {
    fn room(&mut self) -> Option<&mut [u8]> {
        let limit = self.attribute_limit();
        self.record.param_room(limit)
    }

    fn commit(&mut self, key: &'static str, len: usize) {
        self.record.commit_param(key, len);
    }

    fn commit_integer(&mut self, key: &'static str, signed: bool) {
        self.record.commit_integer_param(key, signed);
    }

    fn record(&mut self, captured: CapturedParam<'a>) {
        match captured {
            CapturedParam::Value { key, text } => self.set_param(key, text.as_bytes()),
            truncated => truncated.into_attributes(|kv| self.set_attribute(kv)),
        }
    }
}

impl EndingSpan for LocalSpan {
    fn span_context(&self) -> &SpanContext {
        &self.record.span_context
    }

    fn is_recording(&self) -> bool {
        true
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        LocalSpan::set_attribute(self, attribute);
    }

    fn add_event(&mut self, name: Cow<'static, str>, attributes: Vec<KeyValue>) {
        let limits = self.sink.limits;
        let now = opentelemetry::time::now();
        self.record.add_event(name, now, attributes, &limits);
    }

    fn set_status(&mut self, status: Status) {
        self.record.set_status(status);
    }
}

impl opentelemetry::trace::Span for RecordSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        if let Some(span) = self.span.as_mut() {
            let limits = span.sink.limits;
            span.record
                .add_event(name.into(), timestamp, attributes, &limits);
        }
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        self.span.is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        if let Some(span) = self.span.as_mut() {
            span.set_attribute(attribute);
        }
    }

    fn set_status(&mut self, status: Status) {
        if let Some(span) = self.span.as_mut() {
            span.record.set_status(status);
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some(span) = self.span.as_mut() {
            span.record.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        if let Some(span) = self.span.as_mut() {
            let limits = span.sink.limits;
            span.record.add_link(span_context, attributes, &limits);
        }
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        if let Some(span) = self.span.take() {
            span.end(Some(timestamp));
        }
    }
}

impl Drop for RecordSpan {
    fn drop(&mut self) {
        if let Some(span) = self.span.take() {
            span.end(None);
        }
    }
}
