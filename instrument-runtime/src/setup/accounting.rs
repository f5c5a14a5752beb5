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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{
    BatchConfig, BatchConfigBuilder, BatchSpanProcessor, Span, SpanData, SpanExporter,
    SpanProcessor,
};

use super::delivery::{DeliveringExporter, InFlight, OTLP_DELIVERIES};
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
/// Longest wait of a flush for the batches being delivered (the batch processor's own wait).
const FLUSH_WAIT: Duration = Duration::from_secs(5);

static SPANS_ENDED: AtomicU64 = AtomicU64::new(0);
static SPANS_EXPORTED: AtomicU64 = AtomicU64::new(0);
static SPANS_REFUSED: AtomicU64 = AtomicU64::new(0);
static SPANS_SHED: AtomicU64 = AtomicU64::new(0);
static SPANS_ABANDONED: AtomicU64 = AtomicU64::new(0);
static METRIC_EXPORTS_REFUSED: AtomicU64 = AtomicU64::new(0);
static TRACES_KEPT: AtomicU64 = AtomicU64::new(0);
static TRACES_SAMPLED_OUT: AtomicU64 = AtomicU64::new(0);
static SPANS_SAMPLED_OUT: AtomicU64 = AtomicU64::new(0);
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
    /// Spans given up at shutdown because the collector could not be reached.
    pub spans_abandoned: u64,
    /// Metric exports the collector refused or that failed: their data points are dropped.
    pub metric_exports_refused: u64,
    /// Tail sampling: local traces kept (with an error, a slow root, or by the ratio).
    pub traces_kept: u64,
    /// Tail sampling: local traces left out.
    pub traces_sampled_out: u64,
    /// Tail sampling: the spans of the traces left out (never queued, not counted as dropped).
    pub spans_sampled_out: u64,
}

impl ExportStats {
    /// Spans neither exported, refused, shed nor abandoned: still queued or in flight (after a
    /// shutdown that timed out, the batch the exporter was still sending).
    pub fn spans_unaccounted(&self) -> u64 {
        self.spans_ended.saturating_sub(
            self.spans_exported + self.spans_refused + self.spans_shed + self.spans_abandoned,
        )
    }

    /// Spans lost so far, counting every unaccounted span as lost (exact after a flush).
    pub fn spans_dropped(&self) -> u64 {
        self.spans_refused + self.spans_shed + self.spans_abandoned + self.spans_unaccounted()
    }
}

/// The export counters now. The spans that ended on any thread and wait for the collector thread
/// are handed to the export pipeline first, so `spans_ended` counts every span ended before the
/// call.
pub fn export_stats() -> ExportStats {
    crate::state::hand_over_ended_spans();
    counters()
}

/// The export counters as they stand, without handing buffered spans over (for the pipeline's
/// own reports, made on its threads).
fn counters() -> ExportStats {
    ExportStats {
        spans_ended: SPANS_ENDED.load(Ordering::Relaxed),
        spans_exported: SPANS_EXPORTED.load(Ordering::Relaxed),
        spans_refused: SPANS_REFUSED.load(Ordering::Relaxed),
        spans_shed: SPANS_SHED.load(Ordering::Relaxed),
        spans_abandoned: SPANS_ABANDONED.load(Ordering::Relaxed),
        metric_exports_refused: METRIC_EXPORTS_REFUSED.load(Ordering::Relaxed),
        traces_kept: TRACES_KEPT.load(Ordering::Relaxed),
        traces_sampled_out: TRACES_SAMPLED_OUT.load(Ordering::Relaxed),
        spans_sampled_out: SPANS_SAMPLED_OUT.load(Ordering::Relaxed),
    }
}

/// Counts a tail-sampling decision on a local trace of `spans` spans.
pub(crate) fn count_tail_decision(keep: bool, spans: usize) {
    if keep {
        TRACES_KEPT.fetch_add(1, Ordering::Relaxed);
    } else {
        TRACES_SAMPLED_OUT.fetch_add(1, Ordering::Relaxed);
        SPANS_SAMPLED_OUT.fetch_add(spans as u64, Ordering::Relaxed);
    }
}

/// Counts a span that ended after its trace was decided.
pub(crate) fn count_tail_late_span(keep: bool) {
    if !keep {
        SPANS_SAMPLED_OUT.fetch_add(1, Ordering::Relaxed);
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

/// A batch processor exporting to `exporter` (which sends to `target`, when known) with the
/// toolkit's defaults, every span counted, failed batches kept and retried while the queue has
/// room, and the queue bounded in spans and bytes. An OTLP exporter (one with a `target`) gets
/// [`OTLP_DELIVERIES`] batches at once; any other, one at a time.
pub(crate) fn accounted_batch<E: SpanExporter + 'static>(
    exporter: E,
    target: Option<ExportTarget>,
) -> CountingProcessor {
    let (config, max_queue) = batch_config();
    let deliveries = if target.is_some() { OTLP_DELIVERIES } else { 1 };
    let pipeline = Arc::new(Pipeline {
        max_queue,
        target,
        in_flight: InFlight::new(deliveries),
        ..Pipeline::default()
    });
    CountingProcessor {
        inner: BatchSpanProcessor::builder(DeliveringExporter::new(exporter, pipeline.clone()))
            .with_batch_config(config)
            .build(),
        pipeline,
    }
}

/// Where spans are sent, for naming the likely cause of a failure.
#[derive(Clone, Debug)]
pub(crate) struct ExportTarget {
    pub endpoint: String,
    pub protocol: super::Protocol,
}

/// What one pipeline holds between a span's end and its export, and its state.
#[derive(Debug, Default)]
pub(super) struct Pipeline {
    spans: AtomicUsize,
    bytes: AtomicUsize,
    pub(super) max_queue: usize,
    pub(super) target: Option<ExportTarget>,
    /// Set when telemetry starts shutting down: failed batches are no longer retried.
    pub(super) shutting_down: AtomicBool,
    /// Set by a failed export, cleared by a delivered one.
    pub(super) collector_down: AtomicBool,
    /// Set by the first delivered export.
    pub(super) delivered: AtomicBool,
    /// The batches being delivered.
    pub(super) in_flight: InFlight,
}

impl Pipeline {
    /// Spans queued or in flight.
    pub(super) fn queued_spans(&self) -> usize {
        self.spans.load(Ordering::Relaxed)
    }

    /// Forgets a batch that was delivered or given up.
    pub(super) fn release(&self, spans: usize, bytes: usize) {
        self.spans.fetch_sub(spans, Ordering::Relaxed);
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// Counts spans a collector accepted.
pub(super) fn count_exported(spans: u64) {
    SPANS_EXPORTED.fetch_add(spans, Ordering::Relaxed);
}

/// Counts spans dropped because the collector refused them for good, or the queue was full
/// while they waited.
pub(super) fn count_refused(spans: u64) {
    SPANS_REFUSED.fetch_add(spans, Ordering::Relaxed);
}

/// Counts spans given up at shutdown with the collector unreachable.
pub(super) fn count_abandoned(spans: u64) {
    SPANS_ABANDONED.fetch_add(spans, Ordering::Relaxed);
}

/// An estimate of the memory a queued span holds.
pub(super) fn span_bytes(span: &SpanData) -> usize {
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

/// Reports on stderr, at shutdown, the spans that were dropped and why.
pub(crate) fn report_drops() {
    let stats = counters();
    if stats.spans_dropped() > 0 {
        warn(&format!(
            "{} of {} spans were dropped: {} refused by the collector, {} with no room in the \
             queue (OTEL_BSP_MAX_QUEUE_SIZE, default {DEFAULT_MAX_QUEUE_SIZE} spans, and \
             {} MiB), {} abandoned at shutdown with the collector unreachable, {} still in \
             flight when shutdown gave up",
            stats.spans_dropped(),
            stats.spans_ended,
            stats.spans_refused,
            stats.spans_shed,
            MAX_QUEUED_BYTES >> 20,
            stats.spans_abandoned,
            stats.spans_unaccounted(),
        ));
    }
}

/// Reports a failed export (rate-limited), with its likely cause when one can be named.
pub(super) fn refused(what: &str, error: &impl std::fmt::Display, cause: Option<String>) {
    if REFUSAL_REPORTS.allow() {
        let stats = counters();
        let cause = cause
            .map(|c| format!("; likely cause: {c}"))
            .unwrap_or_default();
        warn(&format!(
            "the collector refused {what}: {error}{cause} ({} spans and {} metric exports \
             dropped so far)",
            stats.spans_refused + stats.spans_abandoned,
            stats.metric_exports_refused
        ));
    }
}

/// Counts every span that ends and hands it to the batch processor if the queue has room for
/// it, in spans and in bytes; sheds it otherwise.
#[derive(Debug)]
pub(crate) struct CountingProcessor {
    inner: BatchSpanProcessor,
    pipeline: Arc<Pipeline>,
}

impl SpanProcessor for CountingProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        SPANS_ENDED.fetch_add(1, Ordering::Relaxed);
        let bytes = span_bytes(&span);
        let queued = self.pipeline.spans.fetch_add(1, Ordering::Relaxed);
        let queued_bytes = self.pipeline.bytes.fetch_add(bytes, Ordering::Relaxed);
        if queued >= self.pipeline.max_queue || queued_bytes + bytes > MAX_QUEUED_BYTES {
            self.pipeline.release(1, bytes);
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
pub(crate) struct CountingMetricExporter<E>(pub E);

impl<E: PushMetricExporter> PushMetricExporter for CountingMetricExporter<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let result = self.0.export(metrics).await;
        if let Err(error) = &result {
            METRIC_EXPORTS_REFUSED.fetch_add(1, Ordering::Relaxed);
            refused("a metric export", error, None);
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
