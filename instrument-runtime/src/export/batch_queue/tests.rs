//! The batch queue's order, batch sizes, delay, flush, shutdown and a panicking exporter.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::{SpanContext, SpanKind, Status};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

use super::*;

/// Remembers each batch's span names, in order.
#[derive(Clone, Debug, Default)]
struct Batches {
    seen: Arc<Mutex<Vec<Vec<String>>>>,
    resource: Arc<Mutex<Option<String>>>,
    shut_down: Arc<AtomicBool>,
}

impl SpanExporter for Batches {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let names = batch
            .into_iter()
            .map(|span| span.name.into_owned())
            .collect();
        self.seen.lock().unwrap().push(names);
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.shut_down.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        let name = resource
            .get(&opentelemetry::Key::from_static_str("service.name"))
            .map(|value| value.to_string());
        *self.resource.lock().unwrap() = name;
    }
}

fn span(name: &str) -> SpanData {
    SpanData {
        span_context: SpanContext::empty_context(),
        parent_span_id: opentelemetry::trace::SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: name.to_owned().into(),
        start_time: std::time::SystemTime::UNIX_EPOCH,
        end_time: std::time::SystemTime::UNIX_EPOCH,
        attributes: vec![KeyValue::new("k", "v")],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("t").build(),
    }
}

fn names(batches: &Batches) -> Vec<Vec<String>> {
    batches.seen.lock().unwrap().clone()
}

/// Waits (at most 10 s) until `exporter` was given `count` batches.
fn wait_for_batches(exporter: &Batches, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while names(exporter).len() < count && Instant::now() < deadline {
        std::thread::yield_now();
    }
}

#[test]
fn a_flush_exports_what_is_queued_in_order_in_batches_of_the_batch_size() {
    let exporter = Batches::default();
    let queue = BatchQueue::start(exporter.clone(), 2, Duration::from_secs(60)).unwrap();
    for n in 0..5 {
        assert!(queue.push(span(&n.to_string())));
    }
    queue.force_flush().unwrap();
    let all: Vec<String> = names(&exporter).concat();
    assert_eq!(all, ["0", "1", "2", "3", "4"]);
    assert!(names(&exporter).iter().all(|batch| batch.len() <= 2));
    queue.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_full_batch_is_exported_without_waiting_for_the_delay() {
    let exporter = Batches::default();
    let queue = BatchQueue::start(exporter.clone(), 3, Duration::from_secs(60)).unwrap();
    for n in 0..3 {
        assert!(queue.push(span(&n.to_string())));
    }
    wait_for_batches(&exporter, 1);
    assert_eq!(names(&exporter), [["0", "1", "2"]]);
    queue.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn spans_queued_together_fill_batches_in_order_after_those_queued_before() {
    let exporter = Batches::default();
    let queue = BatchQueue::start(exporter.clone(), 3, Duration::from_secs(60)).unwrap();
    assert!(queue.push(span("a")));
    let mut together: Vec<SpanData> = ["b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .map(|name| span(name))
        .collect();
    assert!(queue.push_all(&mut together));
    assert!(together.is_empty());
    wait_for_batches(&exporter, 2);
    assert_eq!(names(&exporter), [["a", "b", "c"], ["d", "e", "f"]]);
    queue.force_flush().unwrap();
    assert_eq!(names(&exporter)[2], ["g", "h"]);
    queue.shutdown(Duration::from_secs(5)).unwrap();
    let mut late = vec![span("late")];
    assert!(!queue.push_all(&mut late));
    assert_eq!(late.len(), 1);
}

#[test]
fn a_burst_is_exported_in_full_batches_and_the_rest_waits_for_the_delay() {
    let exporter = Batches::default();
    let queue = BatchQueue::start(exporter.clone(), 3, Duration::from_secs(60)).unwrap();
    for n in 0..7 {
        assert!(queue.push(span(&n.to_string())));
    }
    wait_for_batches(&exporter, 2);
    assert_eq!(names(&exporter), [["0", "1", "2"], ["3", "4", "5"]]);
    queue.force_flush().unwrap();
    assert_eq!(
        names(&exporter).concat(),
        ["0", "1", "2", "3", "4", "5", "6"]
    );
    queue.shutdown(Duration::from_secs(5)).unwrap();
}

/// Panics on every export.
#[derive(Debug)]
struct Panicking;

impl SpanExporter for Panicking {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        panic!("the exporter broke");
    }
}

#[test]
fn a_panic_in_the_exporter_ends_the_thread_and_flush_and_shutdown_answer_at_once() {
    let queue = BatchQueue::start(Panicking, 100, Duration::from_secs(60)).unwrap();
    assert!(queue.push(span("boom")));
    let started = Instant::now();
    assert!(matches!(
        queue.force_flush(),
        Err(OTelSdkError::AlreadyShutdown)
    ));
    assert!(matches!(
        queue.shutdown(Duration::from_secs(30)),
        Err(OTelSdkError::AlreadyShutdown)
    ));
    assert!(started.elapsed() < FLUSH_WAIT, "{:?}", started.elapsed());
    assert!(!queue.push(span("after")));
}

#[test]
fn a_partial_batch_is_exported_after_the_delay() {
    let exporter = Batches::default();
    let queue = BatchQueue::start(exporter.clone(), 100, Duration::from_millis(20)).unwrap();
    assert!(queue.push(span("late")));
    wait_for_batches(&exporter, 1);
    assert_eq!(names(&exporter), [["late"]]);
    queue.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn shutdown_exports_the_rest_shuts_the_exporter_down_and_refuses_later_spans() {
    let exporter = Batches::default();
    let queue = BatchQueue::start(exporter.clone(), 100, Duration::from_secs(60)).unwrap();
    queue.set_resource(&Resource::builder_empty().with_service_name("svc").build());
    assert!(queue.push(span("last")));
    queue.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(names(&exporter), [["last"]]);
    assert!(exporter.shut_down.load(Ordering::SeqCst));
    assert_eq!(exporter.resource.lock().unwrap().as_deref(), Some("svc"));
    assert!(!queue.push(span("after")));
    assert!(matches!(
        queue.shutdown(Duration::from_secs(1)),
        Err(OTelSdkError::AlreadyShutdown)
    ));
    assert!(matches!(
        queue.force_flush(),
        Err(OTelSdkError::AlreadyShutdown)
    ));
}
