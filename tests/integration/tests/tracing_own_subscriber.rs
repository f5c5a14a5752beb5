//! An application that sets its own global `tracing` subscriber first: setup does not panic,
//! leaves it in place, and the toolkit's `layer()` added to it bridges spans and events;
//! `WithTraceIds` prints the ids on `fmt` lines.

use std::io::Write;
use std::sync::{Arc, Mutex};

use instrument::{Telemetry, trace_method};
use opentelemetry_sdk::logs::InMemoryLogExporter;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The `fmt` layer's output.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[trace_method]
fn work() {
    tracing::info!(step = 1, "working");
}

#[test]
fn the_applications_subscriber_stays_and_the_layer_bridges() {
    let lines = Captured::default();
    let writer = lines.clone();
    tracing_subscriber::registry()
        .with(instrument::tracing::layer())
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .event_format(instrument::tracing::WithTraceIds::default()),
        )
        .init();
    let spans = InMemorySpanExporter::default();
    let logs = InMemoryLogExporter::default();
    let guard = Telemetry::builder()
        .ignore_env()
        .with_simple_exporter(spans.clone())
        .with_log_exporter(logs.clone())
        .with_metric_exporter(opentelemetry_sdk::metrics::InMemoryMetricExporter::default())
        .install()
        .expect("setup succeeds beside the application's subscriber");
    work();
    guard.force_flush().unwrap();
    let finished = spans.get_finished_spans().unwrap();
    let traced = finished.iter().find(|s| s.name == "work").unwrap();
    let emitted = logs.get_emitted_logs().unwrap();
    let record = &emitted
        .iter()
        .find(|l| format!("{:?}", l.record.body()).contains("working"))
        .expect("the event arrived as a log record")
        .record;
    assert_eq!(
        record.trace_context().unwrap().span_id,
        traced.span_context.span_id()
    );
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let expected = format!(
        "trace_id={:032x} span_id={:016x} ",
        traced.span_context.trace_id(),
        traced.span_context.span_id()
    );
    assert!(text.starts_with(&expected), "{text}");
    assert!(text.contains("working"), "{text}");
}
