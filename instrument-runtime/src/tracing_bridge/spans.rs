//! `tracing` spans as spans of the toolkit's traces, in both directions: a `tracing` span opened
//! inside a `#[trace_method]` call (or under a remote parent the HTTP layer extracted) is its
//! child, and while a `tracing` span is entered its span is the current OpenTelemetry context,
//! so a `#[trace_method]` call inside it is its child. `tracing::Instrument` futures enter their
//! span on every poll, so nesting holds across `.await` and `tokio::spawn`.
//!
//! Written for the toolkit rather than taken from `tracing-opentelemetry`: that layer keeps its
//! own parent bookkeeping beside the OpenTelemetry context, which is what breaks traces when the
//! two APIs mix; here the OpenTelemetry context is the only source of parents.

use std::cell::RefCell;

use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, ContextGuard, KeyValue};
use opentelemetry_semantic_conventions::attribute::{CODE_FILE_PATH, CODE_LINE_NUMBER};
use tracing_core::Subscriber;
use tracing_core::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::bridged::{Bridged, TARGET_KEY};
use super::fields::Fields;
use crate::span;
use crate::state;

thread_local! {
    /// The contexts made current by entered `tracing` spans on this thread, innermost last.
    static ENTERED: RefCell<Vec<(Id, ContextGuard)>> = const { RefCell::new(Vec::new()) };
}

/// The bridge as one layer: `tracing` spans (here) and events (`events.rs`).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Bridge;

impl<S> Layer<S> for Bridge
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        if !state::enabled() {
            return;
        }
        let explicit = attrs.parent().and_then(|parent| {
            ctx.span(parent)
                .and_then(|span| span.extensions().get::<Bridged>().map(|b| b.0.clone()))
        });
        let metadata = attrs.metadata();
        let mut attributes = Vec::with_capacity(3 + metadata.fields().len());
        attributes.push(KeyValue::new(TARGET_KEY, metadata.target()));
        if let Some(file) = metadata.file() {
            attributes.push(KeyValue::new(CODE_FILE_PATH, file));
        }
        if let Some(line) = metadata.line() {
            attributes.push(KeyValue::new(CODE_LINE_NUMBER, i64::from(line)));
        }
        let mut fields = Fields::into(attributes);
        attrs.record(&mut fields);
        let attributes = fields.attributes;
        let name = metadata.name();
        let cx = match explicit {
            Some(parent) => span::start_child(&parent, name, SpanKind::Internal, attributes),
            None if attrs.is_root() => {
                span::start_child(&Context::new(), name, SpanKind::Internal, attributes)
            }
            None => {
                let parent = span::CurrentParent::now();
                span::start_current_child(&parent, name, SpanKind::Internal, attributes)
            }
        };
        if let (Some(cx), Some(span)) = (cx, ctx.span(id)) {
            span.extensions_mut().insert(Bridged(cx));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let extensions = span.extensions();
        let Some(Bridged(cx)) = extensions.get::<Bridged>() else {
            return;
        };
        let mut fields = Fields::with_capacity(values.len());
        values.record(&mut fields);
        cx.span().set_attributes(fields.attributes);
    }

    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(cx) = span.extensions().get::<Bridged>().map(|b| b.0.clone()) else {
            return;
        };
        let guard = cx.attach();
        ENTERED.with(|entered| entered.borrow_mut().push((id.clone(), guard)));
    }

    fn on_exit(&self, id: &Id, _ctx: LayerContext<'_, S>) {
        let guard = ENTERED.with(|entered| {
            let mut entered = entered.borrow_mut();
            let position = entered
                .iter()
                .rposition(|(entered_id, _)| entered_id == id)?;
            Some(entered.remove(position))
        });
        drop(guard);
    }

    fn on_event(&self, event: &tracing_core::Event<'_>, ctx: LayerContext<'_, S>) {
        super::events::on_event(event, &ctx);
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        // The registry drops the extension with the span's slot.
        if let Some(Bridged(cx)) = span.extensions().get::<Bridged>() {
            state::run_span_end_hooks(&mut cx.span());
            cx.span().end();
        }
    }
}
