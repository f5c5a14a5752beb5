//! The batch processor the toolkit puts in front of an exporter: every span counted as it ends,
//! shed when the queue has no room — past [`DEFAULT_MAX_QUEUE_SIZE`] spans or
//! [`MAX_QUEUED_BYTES`] bytes — and reported (rate-limited), queued in the
//! [batch queue](super::batch_queue) and delivered; batches an OTLP collector failed to take are
//! kept and retried.
//!
//! The toolkit's batch defaults come from here too: a queue of [`DEFAULT_MAX_QUEUE_SIZE`] spans
//! (the SDK's 2,048 drops most of a burst), exported in batches of
//! [`DEFAULT_MAX_EXPORT_BATCH_SIZE`] every [`DEFAULT_SCHEDULED_DELAY`] or as soon as a batch is
//! full. `OTEL_BSP_*` variables, when set (and not ignored), win.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use super::accounting::Accounting;
use super::batch_queue::{BatchQueue, FLUSH_WAIT};
use super::delivery::{DeliveringExporter, OTLP_DELIVERIES};
use super::queue::{DEFAULT_MAX_QUEUE_SIZE, InFlight, MAX_QUEUED_BYTES, Pipeline, span_bytes};
use super::stats::ExportCounters;
use super::target::ExportTarget;
use crate::diagnostics::warn;
use crate::state::EndedSpanSink;

/// Spans per export request.
pub const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 2_048;
/// Longest wait before a partial batch is exported.
pub const DEFAULT_SCHEDULED_DELAY: Duration = Duration::from_secs(1);

/// What `OTEL_BSP_*` set of the batch processor's settings, each `None` where unset (or
/// ignored); the toolkit's defaults fill the rest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BatchSettings {
    /// `OTEL_BSP_MAX_QUEUE_SIZE`.
    pub max_queue_size: Option<usize>,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
    pub max_export_batch_size: Option<usize>,
    /// `OTEL_BSP_SCHEDULE_DELAY`, in milliseconds.
    pub scheduled_delay: Option<Duration>,
}

/// The batch settings in force: the queue size, the batch size (at most the queue's) and the
/// delay, each from `settings` where set there, else the toolkit's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BatchConfig {
    max_queue: usize,
    batch_size: usize,
    delay: Duration,
}

fn batch_config(settings: &BatchSettings) -> BatchConfig {
    let max_queue = settings
        .max_queue_size
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_QUEUE_SIZE);
    let batch_size = settings
        .max_export_batch_size
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_EXPORT_BATCH_SIZE)
        .min(max_queue);
    BatchConfig {
        max_queue,
        batch_size,
        delay: settings.scheduled_delay.unwrap_or(DEFAULT_SCHEDULED_DELAY),
    }
}

/// A batch processor exporting to `exporter` (which sends to `target`, when known) with the
/// toolkit's defaults, every span counted and the queue bounded in spans and bytes. An OTLP
/// exporter (one with a `target`) gets [`OTLP_DELIVERIES`] batches at once, and a batch the
/// collector failed to take is kept and sent again while the queue has room; any other exporter
/// gets one batch at a time, once (a failure is counted and reported), as the SDK's batch
/// processor exports.
pub(crate) fn accounted_batch<E: SpanExporter + 'static>(
    exporter: E,
    target: Option<ExportTarget>,
    settings: &BatchSettings,
    accounting: &Accounting,
) -> CountingProcessor {
    let config = batch_config(settings);
    let deliveries = if target.is_some() { OTLP_DELIVERIES } else { 1 };
    let pipeline = Arc::new(Pipeline {
        max_queue: config.max_queue,
        target,
        in_flight: InFlight::new(deliveries),
        ..Pipeline::default()
    });
    let delivering = DeliveringExporter::new(exporter, pipeline.clone(), accounting);
    let queue = match BatchQueue::start(delivering, config.batch_size, config.delay) {
        Ok(queue) => Some(queue),
        Err(error) => {
            warn(&format!(
                "cannot start the span export thread ({error}): spans are counted and dropped"
            ));
            None
        }
    };
    CountingProcessor {
        queue,
        pipeline,
        counters: accounting.counters.clone(),
    }
}

/// Counts every span that ends and hands it to the batch processor if the queue has room for
/// it, in spans and in bytes; sheds it otherwise.
#[derive(Debug)]
pub(crate) struct CountingProcessor {
    queue: Option<BatchQueue>,
    pipeline: Arc<Pipeline>,
    counters: Arc<ExportCounters>,
}

impl SpanProcessor for CountingProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        self.counters.count_ended();
        let bytes = span_bytes(&span);
        let queued = self.pipeline.spans.fetch_add(1, Ordering::Relaxed);
        let queued_bytes = self.pipeline.bytes.fetch_add(bytes, Ordering::Relaxed);
        if queued >= self.pipeline.max_queue || queued_bytes + bytes > MAX_QUEUED_BYTES {
            self.pipeline.release(1, bytes);
            let shed = self.counters.count_shed();
            if self.counters.shed_reports.allow() {
                warn(&format!(
                    "the span queue is full ({queued} spans, {} MiB): dropping spans ({shed} so \
                     far); the collector is slower than the spans are made",
                    queued_bytes >> 20
                ));
            }
            return;
        }
        let queued = self.queue.as_ref().is_some_and(|queue| queue.push(span));
        if !queued {
            // After shutdown, or with no export thread.
            self.pipeline.release(1, bytes);
            self.counters.count_abandoned(1);
        }
    }

    /// Exports what is queued and waits for the batches in flight (at most `FLUSH_WAIT` for
    /// them, as the batch processor waits for its own part).
    fn force_flush(&self) -> OTelSdkResult {
        if let Some(queue) = &self.queue {
            queue.force_flush()?;
        }
        if self.pipeline.in_flight.wait_idle(FLUSH_WAIT) {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(FLUSH_WAIT))
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.pipeline.shutting_down.store(true, Ordering::Relaxed);
        let started = Instant::now();
        let result = match &self.queue {
            Some(queue) => queue.shutdown(timeout),
            None => Ok(()),
        };
        self.pipeline
            .in_flight
            .wait_idle(timeout.saturating_sub(started.elapsed()));
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Some(queue) = &self.queue {
            queue.set_resource(resource);
        }
    }
}

/// The spans of one drain are counted and queued together when the queue has room for all of
/// them; otherwise each is taken or shed on its own, as [`SpanProcessor::on_end`] does.
impl EndedSpanSink for CountingProcessor {
    fn on_end_all(&self, spans: &mut Vec<SpanData>) {
        let count = spans.len();
        if count == 0 {
            return;
        }
        let bytes: usize = spans.iter().map(span_bytes).sum();
        let pipeline = &self.pipeline;
        let fits = |queued: usize, queued_bytes: usize| {
            queued + count <= pipeline.max_queue && queued_bytes + bytes <= MAX_QUEUED_BYTES
        };
        // Looked at before taking room for all of them, so that a pass that does not fit never
        // makes the queue look fuller than it is to the other threads.
        let room = fits(
            pipeline.spans.load(Ordering::Relaxed),
            pipeline.bytes.load(Ordering::Relaxed),
        ) && {
            let queued = pipeline.spans.fetch_add(count, Ordering::Relaxed);
            let queued_bytes = pipeline.bytes.fetch_add(bytes, Ordering::Relaxed);
            fits(queued, queued_bytes) || {
                pipeline.release(count, bytes);
                false
            }
        };
        if !room {
            for span in spans.drain(..) {
                self.on_end(span);
            }
            return;
        }
        self.counters.count_ended_by(count as u64);
        let queued = self
            .queue
            .as_ref()
            .is_some_and(|queue| queue.push_all(spans));
        if !queued {
            // After shutdown, or with no export thread.
            spans.clear();
            self.pipeline.release(count, bytes);
            self.counters.count_abandoned(count as u64);
        }
    }
}

/// Spans handed over each on their own: the SDK's processors (the console's batch processor,
/// the tests' simple processor).
impl<E: SpanExporter> EndedSpanSink for opentelemetry_sdk::trace::SimpleSpanProcessor<E> {}
impl EndedSpanSink for opentelemetry_sdk::trace::BatchSpanProcessor {}

/// Counts refused metric exports.
#[derive(Debug)]
pub(crate) struct CountingMetricExporter<E> {
    inner: E,
    counters: Arc<ExportCounters>,
}

impl<E> CountingMetricExporter<E> {
    /// `inner`, its refusals counted in `accounting`.
    pub(crate) fn new(inner: E, accounting: &Accounting) -> Self {
        Self {
            inner,
            counters: accounting.counters.clone(),
        }
    }
}

impl<E: PushMetricExporter> PushMetricExporter for CountingMetricExporter<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let result = self.inner.export(metrics).await;
        if let Err(error) = &result {
            self.counters.count_metric_export_refused();
            self.counters
                .refused("the collector", "a metric export", error, None);
        }
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    /// Tells the test each batch it is given, then waits for the test's word before taking the
    /// next: the queue stays as full as the test left it.
    #[derive(Debug)]
    struct Held {
        given: SyncSender<Vec<String>>,
        go: Mutex<Receiver<()>>,
    }

    impl SpanExporter for Held {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let names = batch.into_iter().map(|s| s.name.into_owned()).collect();
            let _ = self.given.send(names);
            let _ = self.go.lock().unwrap().recv();
            Ok(())
        }
    }

    fn span(name: &str) -> SpanData {
        SpanData {
            span_context: SpanContext::empty_context(),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: name.to_owned().into(),
            start_time: std::time::SystemTime::UNIX_EPOCH,
            end_time: std::time::SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    fn spans(names: &[&str]) -> Vec<SpanData> {
        names.iter().map(|name| span(name)).collect()
    }

    #[test]
    fn spans_handed_over_together_are_queued_together_or_each_taken_or_shed_when_room_is_short() {
        let (given, batches) = sync_channel(8);
        let (go, wait) = sync_channel(8);
        let exporter = Held {
            given,
            go: Mutex::new(wait),
        };
        let settings = BatchSettings {
            max_queue_size: Some(4),
            max_export_batch_size: Some(2),
            scheduled_delay: Some(Duration::from_secs(60)),
        };
        let accounting = Accounting::new(Arc::default(), None);
        let processor = accounted_batch(exporter, None, &settings, &accounting);

        let mut first = spans(&["a", "b", "c"]);
        processor.on_end_all(&mut first);
        assert!(first.is_empty());
        assert_eq!(
            batches.recv_timeout(Duration::from_secs(10)).unwrap(),
            ["a", "b"]
        );
        // "a" and "b" are being exported, "c" waits: room for one more of the next three.
        let mut second = spans(&["d", "e", "f"]);
        processor.on_end_all(&mut second);
        assert!(second.is_empty());
        let stats = accounting.counters.stats();
        assert_eq!((stats.spans_ended, stats.spans_shed), (6, 2));

        go.send(()).unwrap();
        assert_eq!(
            batches.recv_timeout(Duration::from_secs(10)).unwrap(),
            ["c", "d"]
        );
        go.send(()).unwrap();
        processor.force_flush().unwrap();
        assert_eq!(accounting.counters.stats().spans_exported, 4);
        processor
            .shutdown_with_timeout(Duration::from_secs(5))
            .unwrap();

        // After shutdown the queue takes nothing: the spans are counted as abandoned and their
        // room given back.
        let mut late = spans(&["g", "h"]);
        processor.on_end_all(&mut late);
        assert!(late.is_empty());
        let stats = accounting.counters.stats();
        assert_eq!((stats.spans_ended, stats.spans_abandoned), (8, 2));
        assert_eq!(processor.pipeline.spans.load(Ordering::Relaxed), 0);
    }
}
