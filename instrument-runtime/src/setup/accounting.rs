//! Export accounting: every span that ends, every span and metric export a collector accepts or
//! refuses, counted so that nothing is dropped unseen. A refused export is reported on stderr
//! (rate-limited); the spans the queue had no room for are reported when telemetry shuts down.
//!
//! The toolkit's batch defaults come from here too: a queue of [`DEFAULT_MAX_QUEUE_SIZE`] spans
//! (the SDK's 2,048 drops most of a burst), exported in batches of
//! [`DEFAULT_MAX_EXPORT_BATCH_SIZE`] every [`DEFAULT_SCHEDULED_DELAY`] or as soon as a batch is
//! full. `OTEL_BSP_*` variables, when set, win.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::Context;
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
/// Spans per export request.
pub const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 2_048;
/// Longest wait before a partial batch is exported.
pub const DEFAULT_SCHEDULED_DELAY: Duration = Duration::from_secs(1);

static SPANS_ENDED: AtomicU64 = AtomicU64::new(0);
static SPANS_EXPORTED: AtomicU64 = AtomicU64::new(0);
static SPANS_REFUSED: AtomicU64 = AtomicU64::new(0);
static METRIC_EXPORTS_REFUSED: AtomicU64 = AtomicU64::new(0);
static REFUSAL_REPORTS: RateLimit = RateLimit::new();

/// What the export pipeline has done since the process started.
///
/// ```
/// let stats = instrument_runtime::export_stats();
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
    /// Metric exports the collector refused or that failed: their data points are dropped.
    pub metric_exports_refused: u64,
}

impl ExportStats {
    /// Spans neither exported nor refused: still queued, or, once telemetry is flushed or shut
    /// down, dropped because the queue was full.
    pub fn spans_unaccounted(&self) -> u64 {
        self.spans_ended
            .saturating_sub(self.spans_exported + self.spans_refused)
    }

    /// Spans lost so far, counting every unaccounted span as lost (exact after a flush).
    pub fn spans_dropped(&self) -> u64 {
        self.spans_refused + self.spans_unaccounted()
    }
}

/// The export counters now.
pub fn export_stats() -> ExportStats {
    ExportStats {
        spans_ended: SPANS_ENDED.load(Ordering::Relaxed),
        spans_exported: SPANS_EXPORTED.load(Ordering::Relaxed),
        spans_refused: SPANS_REFUSED.load(Ordering::Relaxed),
        metric_exports_refused: METRIC_EXPORTS_REFUSED.load(Ordering::Relaxed),
    }
}

/// The toolkit's batch settings, where no `OTEL_BSP_*` variable says otherwise.
fn batch_config() -> BatchConfig {
    let set = |name: &str| std::env::var_os(name).is_some();
    let mut config = BatchConfigBuilder::default();
    if !set("OTEL_BSP_MAX_QUEUE_SIZE") {
        config = config.with_max_queue_size(DEFAULT_MAX_QUEUE_SIZE);
    }
    if !set("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") {
        config = config.with_max_export_batch_size(DEFAULT_MAX_EXPORT_BATCH_SIZE);
    }
    if !set("OTEL_BSP_SCHEDULE_DELAY") {
        config = config.with_scheduled_delay(DEFAULT_SCHEDULED_DELAY);
    }
    config.build()
}

/// A batch processor exporting to `exporter` with the toolkit's defaults, every span counted.
pub(crate) fn accounted_batch<E: SpanExporter + 'static>(exporter: E) -> CountingProcessor {
    CountingProcessor(
        BatchSpanProcessor::builder(CountingSpanExporter(exporter))
            .with_batch_config(batch_config())
            .build(),
    )
}

/// Reports on stderr, at shutdown, the spans that were dropped.
pub(crate) fn report_drops() {
    let stats = export_stats();
    if stats.spans_dropped() > 0 {
        warn(&format!(
            "{} of {} spans were dropped: {} refused by the collector, {} never exported (no \
             room in the queue, OTEL_BSP_MAX_QUEUE_SIZE, default {DEFAULT_MAX_QUEUE_SIZE}; or \
             still queued when shutdown gave up)",
            stats.spans_dropped(),
            stats.spans_ended,
            stats.spans_refused,
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

/// Counts every span that ends, then hands it to the batch processor.
#[derive(Debug)]
pub(crate) struct CountingProcessor(BatchSpanProcessor);

impl SpanProcessor for CountingProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.0.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        SPANS_ENDED.fetch_add(1, Ordering::Relaxed);
        self.0.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

/// Counts the spans of every export, accepted or refused.
#[derive(Debug)]
struct CountingSpanExporter<E>(E);

impl<E: SpanExporter> SpanExporter for CountingSpanExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len() as u64;
        let result = self.0.export(batch).await;
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
        self.0.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
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
