//! `export_stats()` counts every span ended before the call, though the toolkit's spans wait in
//! their thread's buffer for the collector thread (up to 50 ms): the call hands them over first.
//! An exporter of the user's is given each batch once, and what it refuses is counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use instrument::{Telemetry, trace_method};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData, SpanExporter};

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

/// Refuses every batch, counting the spans it was handed.
#[derive(Clone, Debug, Default)]
struct Refusing {
    spans: Arc<AtomicUsize>,
}

impl SpanExporter for Refusing {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.spans.fetch_add(batch.len(), Ordering::SeqCst);
        Err(OTelSdkError::InternalFailure("the disk is full".into()))
    }
}

#[test]
fn an_exporter_of_the_users_gets_each_batch_once_and_its_refusals_are_counted() {
    let exporter = Refusing::default();
    let guard = Telemetry::builder()
        .ignore_env()
        .with_exporter(exporter.clone())
        .build()
        .unwrap();
    let _default = guard.set_default();
    for n in 0..5 {
        work(n);
    }
    // The flush waits for the deliveries in flight, retries included: each span handed once.
    guard.force_flush().unwrap();
    let stats = guard.export_stats();
    assert_eq!(exporter.spans.load(Ordering::SeqCst), 5, "{stats:?}");
    assert_eq!(
        (stats.spans_ended, stats.spans_refused, stats.spans_exported),
        (5, 5, 0),
        "{stats:?}"
    );
    assert_eq!(stats.spans_unaccounted(), 0, "{stats:?}");
    // At shutdown, after a refusal, the exporter is still handed what is left.
    for n in 0..3 {
        work(n);
    }
    drop(_default);
    guard.shutdown().unwrap();
    assert_eq!(exporter.spans.load(Ordering::SeqCst), 8);
}

/// Panics on every batch.
#[derive(Debug)]
struct Panicking;

impl SpanExporter for Panicking {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        panic!("the exporter broke");
    }
}

#[test]
fn a_panic_in_an_exporter_of_the_users_counts_its_batch_as_refused_and_export_goes_on() {
    let guard = Telemetry::builder()
        .ignore_env()
        .with_exporter(Panicking)
        .build()
        .unwrap();
    let _default = guard.set_default();
    for round in 0..2 {
        for n in 0..3 {
            work(n);
        }
        guard.force_flush().unwrap();
        let stats = guard.export_stats();
        assert_eq!(
            (stats.spans_ended, stats.spans_refused),
            (3 * (round + 1), 3 * (round + 1)),
            "{stats:?}"
        );
        assert_eq!(stats.spans_unaccounted(), 0, "{stats:?}");
    }
}
