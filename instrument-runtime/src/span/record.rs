//! The toolkit's own spans, built without the SDK's tracer: the same ids, sampling decision,
//! limits and exported data as an SDK span, with less work on the calling thread — no
//! `SpanBuilder` to fill and take apart, no clone of the tracer, no loop over the provider's
//! processors at start (the one start-time processor step, the request-context attributes, is
//! done here), and the data handed to the provider's processors as it is when the span ends.
//!
//! A record span implements [`opentelemetry::trace::Span`], so it sits in an OpenTelemetry
//! `Context` like any span: `Context::current()` finds it (third-party instrumentation makes
//! its spans children of it), and everything that records onto the current span reaches it.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanKind, Status, TraceContextExt, TraceFlags,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    IdGenerator, RandomIdGenerator, SamplingDecision, ShouldSample, SpanData, SpanEvents, SpanLinks,
};

use crate::context;
use crate::state::RecordSink;

/// A recording span of the toolkit. Ends (and is handed to the processors) at `end` or when
/// dropped.
#[derive(Debug)]
pub(crate) struct RecordSpan {
    span_context: SpanContext,
    /// `None` once ended.
    data: Option<SpanData>,
    sink: Arc<RecordSink>,
}

/// A span just started: recording, or dropped by the sampler (then only its ids are kept).
// Returned by value and moved straight into the context's box: boxing the large variant here
// would allocate twice.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Started {
    Recording(RecordSpan),
    Dropped(SpanContext),
}

/// Starts a span named `name` as a child of `parent`, with `attributes` (which the sampler
/// sees) followed by the parent's request-context attributes. A span the sampler drops has its
/// own id and no sampled flag, as the SDK makes it.
pub(crate) fn start(
    sink: &Arc<RecordSink>,
    parent: &Context,
    name: Cow<'static, str>,
    kind: SpanKind,
    mut attributes: Vec<KeyValue>,
) -> Started {
    let parent_span = parent.span();
    let parent_context = parent_span.span_context();
    let ids = RandomIdGenerator::default();
    let trace_id = if parent_context.is_valid() {
        parent_context.trace_id()
    } else {
        ids.new_trace_id()
    };
    let span_id = ids.new_span_id();
    let sampling =
        sink.sampler
            .should_sample(Some(parent), trace_id, &name, &kind, &attributes, &[]);
    let sampled = match sampling.decision {
        SamplingDecision::Drop => {
            let span_context = SpanContext::new(
                trace_id,
                span_id,
                TraceFlags::default(),
                false,
                sampling.trace_state,
            );
            return Started::Dropped(span_context);
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
    attributes.extend(sampling.attributes);
    if let Some(scoped) = context::current_attributes(parent) {
        attributes.extend(scoped.iter().cloned());
    }
    let limit = sink.limits.max_attributes_per_span as usize;
    let dropped_attributes_count = attributes.len().saturating_sub(limit) as u32;
    attributes.truncate(limit);
    let data = SpanData {
        span_context: span_context.clone(),
        parent_span_id: parent_context.span_id(),
        parent_span_is_remote: parent_context.is_remote(),
        span_kind: kind,
        name,
        start_time: opentelemetry::time::now(),
        end_time: SystemTime::UNIX_EPOCH,
        attributes,
        dropped_attributes_count,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: sink.scope.clone(),
    };
    Started::Recording(RecordSpan {
        span_context,
        data: Some(data),
        sink: sink.clone(),
    })
}

impl RecordSpan {
    fn end_at(&mut self, timestamp: Option<SystemTime>) {
        let Some(mut data) = self.data.take() else {
            return;
        };
        if self.sink.is_closed() {
            return;
        }
        data.end_time = timestamp.unwrap_or_else(opentelemetry::time::now);
        self.sink.hand_over(data);
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
        let Some(data) = self.data.as_mut() else {
            return;
        };
        if data.events.events.len() < limits.max_events_per_span as usize {
            let limit = limits.max_attributes_per_event as usize;
            let dropped = attributes.len().saturating_sub(limit) as u32;
            attributes.truncate(limit);
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
        self.data.is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        let limit = self.sink.limits.max_attributes_per_span as usize;
        if let Some(data) = self.data.as_mut() {
            if data.attributes.len() < limit {
                data.attributes.push(attribute);
            } else {
                data.dropped_attributes_count += 1;
            }
        }
    }

    fn set_status(&mut self, status: Status) {
        if let Some(data) = self.data.as_mut() {
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
        if let Some(data) = self.data.as_mut() {
            data.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, mut attributes: Vec<KeyValue>) {
        let limits = self.sink.limits;
        let Some(data) = self.data.as_mut() else {
            return;
        };
        if data.links.links.len() < limits.max_links_per_span as usize {
            let limit = limits.max_attributes_per_link as usize;
            let dropped = attributes.len().saturating_sub(limit) as u32;
            attributes.truncate(limit);
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

impl Drop for RecordSpan {
    fn drop(&mut self) {
        self.end_at(None);
    }
}
