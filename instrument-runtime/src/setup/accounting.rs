//! Export accounting and the queue's bounds: every span that ends, every span and metric export
//! a collector accepts or refuses, counted so that nothing is dropped unseen. A span with no room
//! in the queue — past [`DEFAULT_MAX_QUEUE_SIZE`] spans or [`MAX_QUEUED_BYTES`] bytes — is shed
//! and counted; shed spans and refused exports are reported on stderr (rate-limited), and the
//! totals again when telemetry shuts down.
//!
//! The toolkit's batch defaults come from here too: a queue of [`DEFAULT_MAX_QUEUE_SIZE`] spans
//! (the SDK's 2,048 drops most of a burst), exported in batches of
//! [`DEFAULT_MAX_EXPORT_BATCH_SIZE`] every [`DEFAULT_SCHEDULED_DELAY`] or as soon as a batch is
//! full. `OTEL_BSP_*` variables, when set, win.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{
    BatchConfig, BatchConfigBuilder, BatchSpanProcessor, Span, SpanData, SpanExporter,
    SpanProcessor,
};

use crate::diagnostics::{RateLimit, warn};

/// Spans the batch queue holds before it drops new ones: a burst of 100,000 spans fits whole
/// (a small span takes about 1 KiB, so a full queue about 128 MiB).
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 131_072;
/// Bytes of queued spans (names, attributes, events, estimated) past which new spans are shed,
/// whatever their number: 256 MiB.
pub const MAX_QUEUED_BYTES: usize = 256 << 20;
/// Spans per export request.
pub const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 2_048;
/// Longest wait before a partial batch is exported.
pub const DEFAULT_SCHEDULED_DELAY: Duration = Duration::from_secs(1);

static SPANS_ENDED: AtomicU64 = AtomicU64::new(0);
static SPANS_EXPORTED: AtomicU64 = AtomicU64::new(0);
static SPANS_REFUSED: AtomicU64 = AtomicU64::new(0);
static SPANS_SHED: AtomicU64 = AtomicU64::new(0);
static METRIC_EXPORTS_REFUSED: AtomicU64 = AtomicU64::new(0);
static REFUSAL_REPORTS: RateLimit = RateLimit::new();
static SHED_REPORTS: RateLimit = RateLimit::new();

/// What the export pipeline has done since the process started.
///
/// ```
/// let stats = instrument::export::export_stats();
/// assert!(stats.spans_exported + stats.spans_refused <= stats.spans_ended);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Spans that ended and entered a batch queue.
    pub spans_ended: u64,
    /// Spans a collector (or exporter) accepted.
    pub spans_exported: u64,
    /// Spans in exports the collector refused or that failed: dropped.
    pub spans_refused: u64,
    /// Spans dropped because the queue was full (in spans or bytes).
    pub spans_shed: u64,
    /// Metric exports the collector refused or that failed: their data points are dropped.
    pub metric_exports_refused: u64,
}

impl ExportStats {
    /// Spans neither exported, refused nor shed: still queued, or, once telemetry has shut
    /// down, abandoned because shutdown gave up.
    pub fn spans_unaccounted(&self) -> u64 {
        self.spans_ended
            .saturating_sub(self.spans_exported + self.spans_refused + self.spans_shed)
    }

    /// Spans lost so far, counting every unaccounted span as lost (exact after a flush).
    pub fn spans_dropped(&self) -> u64 {
        self.spans_refused + self.spans_shed + self.spans_unaccounted()
    }
}

/// The export counters now.
pub fn export_stats() -> ExportStats {
    ExportStats {
        spans_ended: SPANS_ENDED.load(Ordering::Relaxed),
        spans_exported: SPANS_EXPORTED.load(Ordering::Relaxed),
        spans_refused: SPANS_REFUSED.load(Ordering::Relaxed),
        spans_shed: SPANS_SHED.load(Ordering::Relaxed),
        metric_exports_refused: METRIC_EXPORTS_REFUSED.load(Ordering::Relaxed),
    }
}

/// A variable's value as a number, if set and valid.
fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// The toolkit's batch settings, where no `OTEL_BSP_*` variable says otherwise, and the queue
/// size in force.
fn batch_config() -> (BatchConfig, usize) {
    let queue = env_number("OTEL_BSP_MAX_QUEUE_SIZE")
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_QUEUE_SIZE);
    let mut config = BatchConfigBuilder::default().with_max_queue_size(queue);
    if env_number("OTEL_BSP_MAX_EXPORT_BATCH_SIZE").is_none() {
        config = config.with_max_export_batch_size(DEFAULT_MAX_EXPORT_BATCH_SIZE.min(queue));
    }
    if std::env::var_os("OTEL_BSP_SCHEDULE_DELAY").is_none() {
        config = config.with_scheduled_delay(DEFAULT_SCHEDULED_DELAY);
    }
    (config.build(), queue)
}

/// A batch processor exporting to `exporter` with the toolkit's defaults, every span counted
/// and the queue bounded in spans and bytes.
pub(crate) fn accounted_batch<E: SpanExporter + 'static>(exporter: E) -> CountingProcessor {
    let (config, max_queue) = batch_config();
    let queued = Arc::new(Queued::default());
    CountingProcessor {
        inner: BatchSpanProcessor::builder(CountingSpanExporter {
            inner: exporter,
            queued: queued.clone(),
        })
        .with_batch_config(config)
        .build(),
        max_queue,
        queued,
    }
}

/// What one pipeline holds between a span's end and its export.
#[derive(Debug, Default)]
struct Queued {
    spans: AtomicUsize,
    bytes: AtomicUsize,
}

/// An estimate of the memory a queued span holds.
fn span_bytes(span: &SpanData) -> usize {
    const FIXED: usize = 512;
    let attributes = |list: &[KeyValue]| -> usize {
        list.iter()
            .map(|kv| {
                kv.key.as_str().len()
                    + match &kv.value {
                        Value::String(s) => s.as_str().len(),
                        _ => 16,
                    }
                    + 32
            })
            .sum()
    };
    FIXED
        + span.name.len()
        + attributes(&span.attributes)
        + span
            .events
            .iter()
            .map(|e| e.name.len() + attributes(&e.attributes) + 64)
            .sum::<usize>()
}

/// Reports on stderr, at shutdown, the spans that were dropped.
pub(crate) fn report_drops() {
    let stats = export_stats();
    if stats.spans_dropped() > 0 {
        warn(&format!(
            "{} of {} spans were dropped: {} refused by the collector, {} with no room in the \
             queue (OTEL_BSP_MAX_QUEUE_SIZE, default {DEFAULT_MAX_QUEUE_SIZE} spans, and \
             {} MiB), {} still queued when shutdown gave up",
            stats.spans_dropped(),
            stats.spans_ended,
            stats.spans_refused,
            stats.spans_shed,
            MAX_QUEUED_BYTES >> 20,
            stats.spans_unaccounted(),
        ));
    }
}

fn refused(what: &str, error: &impl std::fmt::Display) {
    if REFUSAL_REPORTS.allow() {
        let stats = export_stats();
        warn(&format!(
            "the collector refused {what}: {error} ({} spans and {} metric exports dropped so far)",
            stats.spans_refused, stats.metric_exports_refused
        ));
    }
}

/// Counts every span that ends and hands it to the batch processor if the queue has room for
/// it, in spans and in bytes; sheds it otherwise.
#[derive(Debug)]
pub(crate) struct CountingProcessor {
    inner: BatchSpanProcessor,
    max_queue: usize,
    queued: Arc<Queued>,
}

impl SpanProcessor for CountingProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        SPANS_ENDED.fetch_add(1, Ordering::Relaxed);
        let bytes = span_bytes(&span);
        let queued = self.queued.spans.fetch_add(1, Ordering::Relaxed);
        let queued_bytes = self.queued.bytes.fetch_add(bytes, Ordering::Relaxed);
        if queued >= self.max_queue || queued_bytes + bytes > MAX_QUEUED_BYTES {
            self.queued.spans.fetch_sub(1, Ordering::Relaxed);
            self.queued.bytes.fetch_sub(bytes, Ordering::Relaxed);
            let shed = SPANS_SHED.fetch_add(1, Ordering::Relaxed) + 1;
            if SHED_REPORTS.allow() {
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

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts the spans of every export, accepted or refused.
#[derive(Debug)]
struct CountingSpanExporter<E> {
    inner: E,
    queued: Arc<Queued>,
}

impl<E: SpanExporter> SpanExporter for CountingSpanExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let count = spans as u64;
        let bytes: usize = batch.iter().map(span_bytes).sum();
        let result = self.inner.export(batch).await;
        self.queued.spans.fetch_sub(spans, Ordering::Relaxed);
        self.queued.bytes.fetch_sub(bytes, Ordering::Relaxed);
        match &result {
            Ok(()) => SPANS_EXPORTED.fetch_add(count, Ordering::Relaxed),
            Err(error) => {
                SPANS_REFUSED.fetch_add(count, Ordering::Relaxed);
                refused(&format!("{count} spans"), error);
                0
            }
        };
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts refused metric exports.
#[derive(Debug)]
pub(crate) struct CountingMetricExporter<E>(pub E);

impl<E: PushMetricExporter> PushMetricExporter for CountingMetricExporter<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let result = self.0.export(metrics).await;
        if let Err(error) = &result {
            METRIC_EXPORTS_REFUSED.fetch_add(1, Ordering::Relaxed);
            refused("a metric export", error);
        }
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.0.temporality()
    }
}
