//! `export_stats()` counts every span ended before the call, though the toolkit's spans wait in
//! their thread's buffer for the collector thread (up to 50 ms): the call hands them over first.

use instrument::{Telemetry, trace_method};
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[trace_method]
fn work(n: u32) -> u32 {
    n + 1
}

#[test]
fn spans_ended_before_the_call_are_counted() {
    let exporter = InMemorySpanExporter::default();
    let guard = Telemetry::builder()
        .ignore_env()
        .with_exporter(exporter.clone())
        .install()
        .unwrap();
    let before = instrument::export::export_stats();
    for n in 0..3 {
        work(n);
    }
    let after = instrument::export::export_stats();
    assert_eq!(after.spans_ended - before.spans_ended, 3, "{after:?}");
    guard.force_flush().unwrap();
    let flushed = instrument::export::export_stats();
    assert_eq!(flushed.spans_exported, flushed.spans_ended, "{flushed:?}");
    let names: Vec<_> = exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .map(|span| span.name)
        .collect();
    assert_eq!(names, ["work", "work", "work"]);
    drop(guard);
}
