//! Putting the request-scoped [context](crate::context) attributes on every span the installed
//! provider starts: `#[trace_method]` spans, database statements and transactions, HTTP server
//! and client spans, and spans other libraries start through the global tracer provider.
//!
//! It wraps the one exporting processor instead of being a processor of its own: the SDK clones
//! each ended span's data for every processor but the last, which for a second processor costs
//! more than the whole span start.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry::trace::Span as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use super::accounting::Accounting;
use super::tail_sampling::TailSampler;
use crate::context::current_attributes;
use crate::state::EndedSpanSink;

/// `P`, with the parent context's scope attributes copied onto each span as it starts, and each
/// ended span passed on through the [tail sampling](super::tail_sampling) in force, if any.
#[derive(Debug)]
pub(crate) struct WithContextAttributes<P> {
    inner: P,
    tail: Arc<TailSampler>,
}

impl<P> WithContextAttributes<P> {
    /// `inner`, behind the tail sampling of `accounting`.
    pub(crate) fn new(inner: P, accounting: &Accounting) -> Self {
        Self {
            inner,
            tail: accounting.tail.clone(),
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for WithContextAttributes<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(scoped) = current_attributes(cx) {
            if span.is_recording() {
                span.set_attributes(scoped.iter().cloned());
            }
        }
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.tail.route(span, |span| self.inner.on_end(span));
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.tail.drain(|span| self.inner.on_end(span));
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The spans of one drain reach `P` together; under a tail-sampling rule each is routed on its
/// own, as [`SpanProcessor::on_end`] routes it.
impl<P: EndedSpanSink> EndedSpanSink for WithContextAttributes<P> {
    fn on_end_all(&self, spans: &mut Vec<SpanData>) {
        if self.tail.is_active() {
            for span in spans.drain(..) {
                self.on_end(span);
            }
        } else {
            self.inner.on_end_all(spans);
        }
    }
}
