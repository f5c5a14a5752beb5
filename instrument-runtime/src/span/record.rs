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

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanKind, Status, TraceContextExt, TraceFlags,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    IdGenerator, RandomIdGenerator, SamplingDecision, SamplingResult, ShouldSample,
};

use crate::context;
use crate::state::{CodeLocation, EndingSpan, RecordSink, SpanRecord, truncate_counting};

/// A span of the toolkit: recording, or dropped by the sampler (then it keeps only its ids).
/// Ends (and is handed to the sink) at `end` or when dropped.
#[derive(Debug)]
pub(crate) struct RecordSpan {
    span_context: SpanContext,
    /// `None` once ended, or when the sampler dropped the span. Boxed: the span moves into its context and the record into the
    /// thread's buffer as a pointer (the collector gives the emptied box back to this thread).
    record: Option<Box<SpanRecord>>,
    sink: Arc<RecordSink>,
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
) -> RecordSpan {
    let parent_span = parent.cx.span();
    let parent_context = parent.local.unwrap_or_else(|| parent_span.span_context());
    let ids = RandomIdGenerator::default();
    let trace_id = if parent_context.is_valid() {
        parent_context.trace_id()
    } else {
        ids.new_trace_id()
    };
    let span_id = ids.new_span_id();
    let sampling = if sink.parent_based_always_on {
        // The default sampler's decision, without its general path.
        let sampled = !parent.has_active_span() || parent_context.is_sampled();
        SamplingResult {
            decision: if sampled {
                SamplingDecision::RecordAndSample
            } else {
                SamplingDecision::Drop
            },
            attributes: Vec::new(),
            trace_state: parent_context.trace_state().clone(),
        }
    } else {
        let mut seen: Vec<KeyValue> = code.iter().flat_map(CodeLocation::attributes).collect();
        seen.extend(attributes.iter().cloned());
        sink.sampler
            .should_sample(Some(&parent.context()), trace_id, &name, &kind, &seen, &[])
    };
    let sampled = match sampling.decision {
        SamplingDecision::Drop => {
            let span_context = SpanContext::new(
                trace_id,
                span_id,
                TraceFlags::default(),
                false,
                sampling.trace_state,
            );
            return RecordSpan {
                span_context,
                record: None,
                sink: sink.clone(),
            };
        }
        SamplingDecision::RecordOnly => false,
        SamplingDecision::RecordAndSample => true,
    };
    let span_context = SpanContext::new(
        trace_id,
        span_id,
        parent_context.trace_flags().with_sampled(sampled),
        false,
        sampling.trace_state,
    );
    if !sampling.attributes.is_empty() {
        attributes.extend(sampling.attributes);
    }
    if let Some(scoped) = context::current_attributes(parent.cx) {
        attributes.extend(scoped.iter().cloned());
    }
    let mut record = sink.record();
    record.start(
        span_context.clone(),
        parent_context,
        kind,
        name,
        code,
        attributes,
        sink.limits.max_attributes_per_span as usize,
    );
    RecordSpan {
        span_context,
        record: Some(record),
        sink: sink.clone(),
    }
}

impl RecordSpan {
    /// Records a parameter's attribute (`text` is UTF-8), its text kept inline in the record
    /// where it fits.
    pub(crate) fn set_param(&mut self, key: &'static str, text: &[u8]) {
        let limit = self.sink.limits.max_attributes_per_span as usize;
        if let Some(record) = self.record.as_mut() {
            record.push_param(key, text, limit);
        }
    }

    fn end_at(&mut self, timestamp: Option<SystemTime>) {
        let Some(mut record) = self.record.take() else {
            return;
        };
        if self.sink.is_closed() {
            return;
        }
        record.end_time = timestamp.unwrap_or_else(opentelemetry::time::now);
        self.sink.hand_over(record);
    }
}

impl opentelemetry::trace::Span for RecordSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        mut attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        let limits = self.sink.limits;
        let Some(data) = self.record.as_mut() else {
            return;
        };
        if data.events.events.len() < limits.max_events_per_span as usize {
            let dropped = truncate_counting(&mut attributes, limits.max_attributes_per_event);
            data.events
                .events
                .push(Event::new(name, timestamp, attributes, dropped));
        } else {
            data.events.dropped_count += 1;
        }
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        self.record.is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        let limit = self.sink.limits.max_attributes_per_span as usize;
        if let Some(record) = self.record.as_mut() {
            record.push_attribute(attribute, limit);
        }
    }

    fn set_status(&mut self, status: Status) {
        if let Some(data) = self.record.as_mut() {
            // Ok > Error > Unset, as the SDK orders them.
            if status > data.status {
                data.status = status;
            }
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some(data) = self.record.as_mut() {
            data.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, mut attributes: Vec<KeyValue>) {
        let limits = self.sink.limits;
        let Some(data) = self.record.as_mut() else {
            return;
        };
        if data.links.links.len() < limits.max_links_per_span as usize {
            let dropped = truncate_counting(&mut attributes, limits.max_attributes_per_link);
            data.links
                .links
                .push(Link::new(span_context, attributes, dropped));
        } else {
            data.links.dropped_count += 1;
        }
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.end_at(Some(timestamp));
    }
}

impl EndingSpan for RecordSpan {
    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        self.record.is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        opentelemetry::trace::Span::set_attribute(self, attribute);
    }

    fn add_event(&mut self, name: Cow<'static, str>, attributes: Vec<KeyValue>) {
        opentelemetry::trace::Span::add_event(self, name, attributes);
    }

    fn set_status(&mut self, status: Status) {
        opentelemetry::trace::Span::set_status(self, status);
    }
}

impl Drop for RecordSpan {
    fn drop(&mut self) {
        self.end_at(None);
    }
}
