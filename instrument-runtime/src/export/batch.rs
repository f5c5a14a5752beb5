//! The batch processor the toolkit puts in front of an exporter: every span counted as it ends,
//! shed when the queue has no room — past [`DEFAULT_MAX_QUEUE_SIZE`] spans or
//! [`MAX_QUEUED_BYTES`] bytes — and reported (rate-limited); failed batches kept and retried.
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
use opentelemetry_sdk::trace::{
    BatchConfig, BatchConfigBuilder, BatchSpanProcessor, Span, SpanData, SpanExporter,
    SpanProcessor,
};

use super::accounting::Accounting;
use super::delivery::{DeliveringExporter, OTLP_DELIVERIES};
use super::queue::{DEFAULT_MAX_QUEUE_SIZE, InFlight, MAX_QUEUED_BYTES, Pipeline, span_bytes};
use super::stats::ExportCounters;
use super::target::ExportTarget;
use crate::diagnostics::warn;

/// Spans per export request.
pub const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 2_048;
/// Longest wait before a partial batch is exported.
pub const DEFAULT_SCHEDULED_DELAY: Duration = Duration::from_secs(1);
/// Longest wait of a flush for the batches being delivered (the batch processor's own wait).
const FLUSH_WAIT: Duration = Duration::from_secs(5);

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

/// The batch processor's settings, every one set (so the SDK reads no variable of its own), and
/// the queue size in force.
fn batch_config(settings: &BatchSettings) -> (BatchConfig, usize) {
    let queue = settings
        .max_queue_size
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_QUEUE_SIZE);
    let batch = settings
        .max_export_batch_size
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_EXPORT_BATCH_SIZE)
        .min(queue);
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(queue)
        .with_max_export_batch_size(batch)
        .with_scheduled_delay(settings.scheduled_delay.unwrap_or(DEFAULT_SCHEDULED_DELAY))
        .build();
    (config, queue)
}

/// A batch processor exporting to `exporter` (which sends to `target`, when known) with the
/// toolkit's defaults, every span counted, failed batches kept and retried while the queue has
/// room, and the queue bounded in spans and bytes. An OTLP exporter (one with a `target`) gets
/// [`OTLP_DELIVERIES`] batches at once; any other, one at a time.
pub(crate) fn accounted_batch<E: SpanExporter + 'static>(
    exporter: E,
    target: Option<ExportTarget>,
    settings: &BatchSettings,
    accounting: &Accounting,
) -> CountingProcessor {
    let (config, max_queue) = batch_config(settings);
    let deliveries = if target.is_some() { OTLP_DELIVERIES } else { 1 };
    let pipeline = Arc::new(Pipeline {
        max_queue,
        target,
        in_flight: InFlight::new(deliveries),
        ..Pipeline::default()
    });
    CountingProcessor {
        inner: BatchSpanProcessor::builder(DeliveringExporter::new(
            exporter,
            pipeline.clone(),
            accounting,
        ))
        .with_batch_config(config)
        .build(),
        pipeline,
        counters: accounting.counters.clone(),
    }
}

/// Counts every span that ends and hands it to the batch processor if the queue has room for
/// it, in spans and in bytes; sheds it otherwise.
#[derive(Debug)]
pub(crate) struct CountingProcessor {
    inner: BatchSpanProcessor,
    pipeline: Arc<Pipeline>,
    counters: Arc<ExportCounters>,
}

impl SpanProcessor for CountingProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

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
        self.inner.on_end(span);
    }

    /// Exports what is queued and waits for the batches in flight (at most `FLUSH_WAIT` for
    /// them, as the batch processor waits for its own part).
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()?;
        if self.pipeline.in_flight.wait_idle(FLUSH_WAIT) {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(FLUSH_WAIT))
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.pipeline.shutting_down.store(true, Ordering::Relaxed);
        let started = Instant::now();
        let result = self.inner.shutdown_with_timeout(timeout);
        self.pipeline
            .in_flight
            .wait_idle(timeout.saturating_sub(started.elapsed()));
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

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
            self.counters.refused("a metric export", error, None);
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
