//! Trace ids in text logs, for services that keep `tracing_subscriber::fmt`: a formatter that
//! starts every line written inside a span with its `trace_id` and `span_id`.

use std::fmt;

use tracing_core::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Wraps a `tracing_subscriber::fmt` event format: lines inside a span start with
/// `trace_id=<32 hex> span_id=<16 hex>`.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// let subscriber = tracing_subscriber::registry()
///     .with(instrument::tracing::layer())
///     .with(tracing_subscriber::fmt::layer().event_format(instrument::tracing::WithTraceIds::default()));
/// # drop(subscriber);
/// ```
#[derive(Debug, Clone)]
pub struct WithTraceIds<F = Format<Full>> {
    inner: F,
}

impl Default for WithTraceIds {
    fn default() -> Self {
        Self {
            inner: Format::default(),
        }
    }
}

impl<F> WithTraceIds<F> {
    /// Wraps `inner`, an event format of `tracing_subscriber::fmt`.
    pub fn new(inner: F) -> Self {
        Self { inner }
    }
}

impl<S, N, F> FormatEvent<S, N> for WithTraceIds<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ids = crate::span::with_current_span(|span| {
            let context = span.span_context();
            context
                .is_valid()
                .then(|| (context.trace_id(), context.span_id()))
        })
        .flatten();
        if let Some((trace_id, span_id)) = ids {
            write!(writer, "trace_id={trace_id} span_id={span_id} ")?;
        }
        self.inner.format_event(ctx, writer, event)
    }
}
