//! The span processor that puts the request-scoped [context](crate::context) attributes on every
//! span the installed provider starts: `#[trace_method]` spans, database statements and
//! transactions, HTTP server and client spans, and spans other libraries start through the
//! global tracer provider.

use std::time::Duration;

use opentelemetry::Context;
use opentelemetry::trace::Span as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::context::current_attributes;

/// Copies the parent context's scope attributes onto each span as it starts.
#[derive(Debug, Default)]
pub(crate) struct ContextAttributesProcessor;

impl SpanProcessor for ContextAttributesProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(scoped) = current_attributes(cx) {
            if span.is_recording() {
                span.set_attributes(scoped.iter().cloned());
            }
        }
    }

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}
