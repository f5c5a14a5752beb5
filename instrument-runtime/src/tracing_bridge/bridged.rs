//! What a bridged `tracing` span keeps: its OpenTelemetry context, in the span's extensions;
//! and the attribute naming the `tracing` target of bridged spans and events.

use opentelemetry::Context;
use tracing_subscriber::registry::LookupSpan;

/// Attribute: the `tracing` target of a bridged span or event.
pub const TARGET_KEY: &str = "instrument.tracing.target";

/// The OpenTelemetry context of a bridged `tracing` span, kept in its extensions.
pub(super) struct Bridged(pub(super) Context);

/// The OpenTelemetry context of the bridged `tracing` span `span`, if it has one.
pub(super) fn bridged_context<S>(
    span: &tracing_subscriber::registry::SpanRef<'_, S>,
) -> Option<Context>
where
    S: for<'a> LookupSpan<'a>,
{
    span.extensions().get::<Bridged>().map(|b| b.0.clone())
}
