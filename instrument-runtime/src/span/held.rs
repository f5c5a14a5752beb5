//! A span an integration holds itself until it ends (a GenAI operation's), rather than in an
//! OpenTelemetry context: its attributes go straight into the toolkit's record, and a context
//! holding it is made only when one is asked for (to make it current while some work runs).

use std::borrow::Cow;

use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue};

use super::local::CurrentParent;
use super::record::{self, LocalSpan, RecordSpan, Started};
use crate::state::{self, EndingSpan};

/// A started span held by its integration.
#[derive(Debug)]
pub(crate) enum HeldSpan {
    /// One of the toolkit's spans, not in any context yet.
    Local(LocalSpan),
    /// In a context: moved there when one was asked for, a span of the SDK's tracer (setup did
    /// not build the toolkit's span pipeline), or the ids of a span the sampler dropped.
    InContext(Context),
}

/// Starts a span named `name` under the current span (`parent`), with `attributes` (which the
/// sampler sees) and the parent's request-context attributes; `None` when no tracer is
/// installed.
pub(crate) fn start_held(
    parent: &CurrentParent,
    name: impl Into<Cow<'static, str>>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
) -> Option<HeldSpan> {
    let cx = &parent.cx;
    state::with_installed_tracer(|tracer| match &tracer.records {
        Some(sink) if !cx.is_telemetry_suppressed() => {
            match record::start(
                sink,
                parent.as_parent(),
                name.into(),
                kind,
                None,
                attributes,
            ) {
                Started::Recording(span) => HeldSpan::Local(span),
                Started::Dropped(span_context) => {
                    HeldSpan::InContext(cx.with_remote_span_context(span_context))
                }
            }
        }
        _ => {
            let builder = SpanBuilder::from_name(name)
                .with_kind(kind)
                .with_attributes(attributes);
            let parent = parent.as_parent().context();
            HeldSpan::InContext(parent.with_span(tracer.sdk.build_with_context(builder, &parent)))
        }
    })
}

impl HeldSpan {
    /// A context holding the span, as a child of `parent`'s (the context it started under):
    /// the span moves into it on the first call.
    pub(crate) fn context(&mut self, parent: &Context) -> Context {
        if let Self::InContext(cx) = self {
            return cx.clone();
        }
        let placeholder = Self::InContext(Context::new());
        let Self::Local(span) = std::mem::replace(self, placeholder) else {
            unreachable!("a span not in a context is local")
        };
        let cx = parent.with_span(RecordSpan::from(span));
        *self = Self::InContext(cx.clone());
        cx
    }

    /// Records onto the span with `record`, runs the end-of-span hooks, ends the span.
    pub(crate) fn end(self, record: impl FnOnce(&mut dyn EndingSpan)) {
        match self {
            Self::Local(mut span) => {
                record(&mut span);
                state::run_span_end_hooks(&mut span);
                span.end(None);
            }
            Self::InContext(cx) => {
                let mut span = cx.span();
                if span.is_recording() {
                    record(&mut span);
                }
                state::run_span_end_hooks(&mut span);
                span.end();
            }
        }
    }
}
