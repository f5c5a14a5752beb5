//! The sink's buffers, drains, full-buffer hand-over and record reuse.

use std::sync::atomic::AtomicUsize;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::SpanProcessor;

use super::*;

/// Counts the spans it is handed; with a sink set in `drain_again`, drains it again for every
/// span, as a processor reading the export counts does.
#[derive(Clone, Debug, Default)]
struct Counting {
    seen: Arc<AtomicUsize>,
    drain_again: Arc<OnceLock<Weak<RecordSink>>>,
}

impl SpanProcessor for Counting {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}
    fn on_end(&self, _span: SpanData) {
        if let Some(sink) = self.drain_again.get().and_then(Weak::upgrade) {
            sink.drain();
        }
        self.seen.fetch_add(1, Ordering::Relaxed);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

impl EndedSpanSink for Counting {}

fn span() -> Box<SpanRecord> {
    use opentelemetry::trace::{SpanContext, SpanKind};
    Box::new(SpanRecord::new(
        SpanContext::empty_context(),
        &SpanContext::empty_context(),
        SpanKind::Internal,
        "s".into(),
        None,
        Vec::new(),
        128,
    ))
}

fn sink(on_ending_thread: bool) -> (Arc<RecordSink>, Arc<AtomicUsize>) {
    let processor = Counting::default();
    let seen = processor.seen.clone();
    let sink = RecordSink::start(
        Box::new(processor),
        HeadSampler::default(),
        SpanLimits::default(),
        on_ending_thread,
    );
    (sink, seen)
}

#[test]
fn buffered_spans_reach_the_processor_at_a_drain_and_exited_threads_are_forgotten() {
    let (sink, seen) = sink(false);
    let worker = sink.clone();
    std::thread::spawn(move || {
        for _ in 0..10 {
            worker.hand_over(span());
        }
    })
    .join()
    .unwrap();
    sink.drain();
    assert_eq!(seen.load(Ordering::Relaxed), 10);
    assert!(lock(&sink.buffers).is_empty());
    sink.close();
}

#[test]
fn a_thread_gets_its_emptied_records_back_and_reuses_them() {
    let (sink, seen) = sink(false);
    let first = span();
    let address = std::ptr::from_ref::<SpanRecord>(&first);
    sink.hand_over(first);
    sink.drain();
    // The next hand-over takes the records the collector gave back.
    sink.hand_over(span());
    let mut reused = sink.record();
    assert_eq!(std::ptr::from_ref::<SpanRecord>(&reused), address);
    assert_eq!(reused.name, "", "emptied when its span was handed over");
    reused.name = "again".into();
    sink.hand_over(reused);
    sink.close();
    assert_eq!(seen.load(Ordering::Relaxed), 3);
}

#[test]
fn an_emptied_buffer_comes_back_with_its_room() {
    let (sink, _seen) = sink(false);
    let room = || {
        let buffers = lock(&sink.buffers);
        let slots = lock(&buffers[0].slots);
        slots.ended.capacity()
    };
    let burst = 600;
    // The collector waits while the burst is buffered, so that one drain takes it whole.
    let collector_waits = lock(&sink.draining);
    for _ in 0..burst {
        sink.hand_over(span());
    }
    drop(collector_waits);
    sink.drain();
    sink.hand_over(span());
    sink.drain();
    assert!(room() >= burst, "room for {burst}: {}", room());
    sink.close();
}

#[test]
fn a_drain_asked_for_inside_a_drain_returns_at_once() {
    let processor = Counting::default();
    let sink = RecordSink::start(
        Box::new(processor.clone()),
        HeadSampler::default(),
        SpanLimits::default(),
        false,
    );
    processor.drain_again.set(Arc::downgrade(&sink)).unwrap();
    for _ in 0..3 {
        sink.hand_over(span());
    }
    sink.drain();
    assert_eq!(processor.seen.load(Ordering::Relaxed), 3);
    sink.close();
}

#[test]
fn the_collector_empties_buffers_on_its_own() {
    let (sink, seen) = sink(false);
    sink.hand_over(span());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while seen.load(Ordering::Relaxed) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(seen.load(Ordering::Relaxed), 1);
    sink.close();
}

#[test]
fn a_full_buffer_is_handed_over_by_its_thread_which_keeps_the_records() {
    let (sink, seen) = sink(false);
    // Closed, so that its collector drains nothing more while the buffer fills.
    sink.close();
    let worker = sink.clone();
    let direct = seen.clone();
    std::thread::spawn(move || {
        for _ in 0..MAX_BUFFERED {
            worker.hand_over(span());
        }
        assert_eq!(direct.load(Ordering::Relaxed), 0, "all buffered");
        // One more: the thread hands its whole buffer over, and this span after it.
        worker.hand_over(span());
        assert_eq!(direct.load(Ordering::Relaxed), MAX_BUFFERED + 1);
        let kept = LOCAL.with(|local| local.borrow().as_ref().map(|l| l.spare.len()));
        assert_eq!(
            kept,
            Some(SPARE_RECORDS),
            "the emptied records, kept by the thread"
        );
    })
    .join()
    .unwrap();
}

#[test]
fn a_sink_on_the_ending_thread_hands_over_at_once() {
    let (sink, seen) = sink(true);
    sink.hand_over(span());
    assert_eq!(seen.load(Ordering::Relaxed), 1);
    assert!(lock(&sink.buffers).is_empty());
}
