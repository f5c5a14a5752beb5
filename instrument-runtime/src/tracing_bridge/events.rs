//! `tracing` events as OpenTelemetry log records: severity from the level, the `message` as
//! body, the other fields as attributes (bounded and redacted), and the trace and span ids of
//! the current context (the SDK's logger reads them). `log` crate records arrive as events too.
//! With the console exporter, an event inside a span is printed under it in the tree (as a span
//! event), and an event outside any recorded span (a startup line, say) is printed on stderr as a
//! line of its own when it happens. An event at `error` level does not change its span's status.
//!
//! The OpenTelemetry crates' own events (targets starting with `opentelemetry`: "Global tracer
//! provider is set", an exporter's complaint) are not the service's logs: the bridge leaves them
//! out of log records and the console. Other layers of the subscriber (a `fmt` layer) still see
//! them.

use std::sync::atomic::Ordering;
use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, Severity};
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue, Value};
use tracing_core::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::LookupSpan;

use super::bridged::{TARGET_KEY, bridged_context};
use super::fields::Fields;
use super::global::GLOBAL;
use crate::console::names::{LOG_EVENT, LOG_LEVEL_KEY, LOG_MESSAGE_KEY};
use crate::span;
use crate::state::{self, EndingSpan};

/// How the targets of the OpenTelemetry crates' own events begin (`opentelemetry`,
/// `opentelemetry_sdk`, `opentelemetry-otlp`, ...).
const OPENTELEMETRY_TARGETS: &str = "opentelemetry";

/// Whether an event at `error` level marks its span as failed (status ERROR with the event's
/// message). Off by default: a span that logged an error and recovered did not fail.
pub fn error_events_mark_spans(on: bool) {
    GLOBAL.error_events_mark_spans.store(on, Ordering::Relaxed);
}

/// A span attribute value as a log attribute value.
fn any_value(value: &Value) -> AnyValue {
    match value {
        Value::Bool(b) => AnyValue::Boolean(*b),
        Value::I64(i) => AnyValue::Int(*i),
        Value::F64(f) => AnyValue::Double(*f),
        other => AnyValue::from(other.to_string()),
    }
}

fn severity(level: &Level) -> (Severity, &'static str) {
    match *level {
        Level::TRACE => (Severity::Trace, "TRACE"),
        Level::DEBUG => (Severity::Debug, "DEBUG"),
        Level::INFO => (Severity::Info, "INFO"),
        Level::WARN => (Severity::Warn, "WARN"),
        Level::ERROR => (Severity::Error, "ERROR"),
    }
}

/// Runs `record` on the span an event happened in: the current span when there is one (the
/// innermost, whichever API opened it), else the span of the event's `tracing` parent — the
/// span a library entered on another thread (sqlx's SQLite worker enters its caller's span) —
/// or no span (an invalid one).
fn with_event_span<S>(
    event: &Event<'_>,
    ctx: &LayerContext<'_, S>,
    record: impl FnOnce(&mut dyn EndingSpan),
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut record = Some(record);
    span::with_current_span(|span| {
        if span.span_context().is_valid()
            && let Some(record) = record.take()
        {
            record(span);
        }
    });
    if let Some(record) = record {
        let cx = ctx
            .event_span(event)
            .and_then(|span| bridged_context(&span))
            .unwrap_or_default();
        record(&mut cx.span());
    }
}

/// Bridges one `tracing` event: a log record, and on the console a line under its span or of its
/// own.
pub(super) fn on_event<S>(event: &Event<'_>, ctx: &LayerContext<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let metadata = event.metadata();
    if metadata.target().starts_with(OPENTELEMETRY_TARGETS) {
        return;
    }
    let console = state::console_logs();
    let logging = state::with_logger(|_| ()).is_some();
    if !console && !logging {
        return;
    }
    let mut fields = Fields::with_capacity(metadata.fields().len());
    event.record(&mut fields);
    let message = fields.message.take().unwrap_or_default();
    let attributes = fields.attributes;
    with_event_span(event, ctx, |span| {
        if *metadata.level() == Level::ERROR
            && GLOBAL.error_events_mark_spans.load(Ordering::Relaxed)
        {
            span.set_status(Status::error(message.clone()));
        }
        emit(span, metadata, message, attributes, logging, console);
    });
}

/// The log record of an event in `span` (when `logging`), and on the console its span event, or
/// a line of its own when `span` is not recorded (no span at all, or one sampled out).
fn emit(
    span: &mut dyn EndingSpan,
    metadata: &'static Metadata<'static>,
    message: String,
    attributes: Vec<KeyValue>,
    logging: bool,
    console: bool,
) {
    let (severity, severity_text) = severity(metadata.level());
    let now = SystemTime::now();
    if logging {
        state::with_logger(|logger| {
            let mut record = logger.create_log_record();
            record.set_timestamp(now);
            record.set_observed_timestamp(now);
            record.set_severity_number(severity);
            record.set_severity_text(severity_text);
            record.set_target(metadata.target().to_owned());
            record.set_body(AnyValue::from(message.clone()));
            let context = span.span_context();
            if context.is_valid() {
                record.set_trace_context(
                    context.trace_id(),
                    context.span_id(),
                    Some(context.trace_flags()),
                );
            }
            record.add_attributes(
                attributes
                    .iter()
                    .map(|kv| (kv.key.clone(), any_value(&kv.value))),
            );
            // The request's context attributes, as its spans carry them (an event's own field
            // of the same key wins).
            if let Some(scoped) = Context::map_current(crate::context::current_attributes) {
                record.add_attributes(
                    scoped
                        .iter()
                        .filter(|kv| attributes.iter().all(|own| own.key != kv.key))
                        .map(|kv| (kv.key.clone(), any_value(&kv.value))),
                );
            }
            logger.emit(record);
        });
    }
    if console && !span.is_recording() {
        crate::console::print_log_line(
            now,
            severity_text,
            metadata.target(),
            &message,
            &attributes,
        );
    } else if console {
        let mut event_attributes = vec![
            KeyValue::new(LOG_LEVEL_KEY, severity_text),
            KeyValue::new(LOG_MESSAGE_KEY, message),
            KeyValue::new(TARGET_KEY, metadata.target()),
        ];
        event_attributes.extend(attributes);
        span.add_event(LOG_EVENT.into(), event_attributes);
    }
}
