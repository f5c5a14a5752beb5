//! The provider's span processors, shared with the toolkit's own spans: the provider holds a
//! [`SharedProcessor`] and the installed tracer the same [`RecordSink`], so spans started
//! through the SDK's tracer and the toolkit's record spans go down one pipeline, and the
//! provider's flush and shutdown reach both.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::state::RecordSink;

/// The processor the provider holds: the sink's processors, with the spans buffered in the
/// sink handed over first at a flush, and the sink closed at shutdown.
#[derive(Debug)]
pub(crate) struct SharedProcessor(pub(crate) Arc<RecordSink>);

impl SpanProcessor for SharedProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.0.processor.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.0.processor.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.drain();
        self.0.processor.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.close();
        self.0.processor.shutdown_with_timeout(timeout)
    }

    /// The sink's processors had the resource set before they were shared.
    fn set_resource(&mut self, _resource: &Resource) {}
}
