//! Export accounting: every span that ends, every span and metric export a collector accepts or
//! refuses, counted so that nothing is dropped unseen; refused exports are reported on stderr
//! (rate-limited), and the totals of what was dropped again when telemetry shuts down.

use std::sync::atomic::{AtomicU64, Ordering};

use super::queue::{DEFAULT_MAX_QUEUE_SIZE, MAX_QUEUED_BYTES};
use crate::diagnostics::{RateLimit, warn};

/// One pipeline's export counters, shared by its processors and readers, and the rate limit of
/// its refusal reports.
#[derive(Debug, Default)]
pub(crate) struct ExportCounters {
    spans_ended: AtomicU64,
    spans_exported: AtomicU64,
    spans_refused: AtomicU64,
    spans_shed: AtomicU64,
    spans_abandoned: AtomicU64,
    metric_exports_refused: AtomicU64,
    traces_kept: AtomicU64,
    traces_sampled_out: AtomicU64,
    spans_sampled_out: AtomicU64,
    refusal_reports: RateLimit,
    pub(super) shed_reports: RateLimit,
}

/// What the export pipeline in force has done since it was built.
///
/// ```
/// let stats = instrument::export::export_stats();
/// assert!(stats.spans_exported + stats.spans_refused <= stats.spans_ended);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
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

/// The export counters of the pipeline in force on the calling thread, or of the last global
/// default once it was shut down (zeros when there was none). The spans that ended on any thread and wait for the collector thread are handed to
/// the export pipeline first, so `spans_ended` counts every span ended before the call.
pub fn export_stats() -> ExportStats {
    crate::state::hand_over_ended_spans();
    crate::state::with_current_or_last(|pipeline| {
        pipeline.with_extension(|counters: &ExportCounters| counters.stats())
    })
    .unwrap_or_default()
}

impl ExportCounters {
    /// The counters as they stand, without handing buffered spans over (for the pipeline's own
    /// reports, made on its threads).
    pub(crate) fn stats(&self) -> ExportStats {
        ExportStats {
            spans_ended: self.spans_ended.load(Ordering::Relaxed),
            spans_exported: self.spans_exported.load(Ordering::Relaxed),
            spans_refused: self.spans_refused.load(Ordering::Relaxed),
            spans_shed: self.spans_shed.load(Ordering::Relaxed),
            spans_abandoned: self.spans_abandoned.load(Ordering::Relaxed),
            metric_exports_refused: self.metric_exports_refused.load(Ordering::Relaxed),
            traces_kept: self.traces_kept.load(Ordering::Relaxed),
            traces_sampled_out: self.traces_sampled_out.load(Ordering::Relaxed),
            spans_sampled_out: self.spans_sampled_out.load(Ordering::Relaxed),
        }
    }

    /// Counts a tail-sampling decision on a local trace of `spans` spans.
    pub(crate) fn count_tail_decision(&self, keep: bool, spans: usize) {
        if keep {
            self.traces_kept.fetch_add(1, Ordering::Relaxed);
        } else {
            self.traces_sampled_out.fetch_add(1, Ordering::Relaxed);
            self.spans_sampled_out
                .fetch_add(spans as u64, Ordering::Relaxed);
        }
    }

    /// Counts a span that ended after its trace was decided.
    pub(crate) fn count_tail_late_span(&self, keep: bool) {
        if !keep {
            self.spans_sampled_out.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts spans a collector accepted.
    pub(super) fn count_exported(&self, spans: u64) {
        self.spans_exported.fetch_add(spans, Ordering::Relaxed);
    }

    /// Counts spans dropped because the collector refused them for good, or the queue was full
    /// while they waited.
    pub(super) fn count_refused(&self, spans: u64) {
        self.spans_refused.fetch_add(spans, Ordering::Relaxed);
    }

    /// Counts spans given up at shutdown with the collector unreachable.
    pub(super) fn count_abandoned(&self, spans: u64) {
        self.spans_abandoned.fetch_add(spans, Ordering::Relaxed);
    }

    /// Counts a span that ended and entered the pipeline.
    pub(super) fn count_ended(&self) {
        self.count_ended_by(1);
    }

    /// Counts `spans` that ended and entered the pipeline.
    pub(super) fn count_ended_by(&self, spans: u64) {
        self.spans_ended.fetch_add(spans, Ordering::Relaxed);
    }

    /// Counts a span shed for lack of room in the queue; the spans shed so far.
    pub(super) fn count_shed(&self) -> u64 {
        self.spans_shed.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts a refused metric export.
    pub(super) fn count_metric_export_refused(&self) {
        self.metric_exports_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Reports on stderr, at shutdown, the spans that were dropped and why.
    pub(super) fn report_drops(&self) {
        let stats = self.stats();
        if stats.spans_dropped() > 0 {
            warn(&format!(
                "{} of {} spans were dropped: {} refused by the collector, {} with no room in \
                 the queue (OTEL_BSP_MAX_QUEUE_SIZE, default {DEFAULT_MAX_QUEUE_SIZE} spans, \
                 and {} MiB), {} abandoned at shutdown with the collector unreachable, {} \
                 still in flight when shutdown gave up",
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

    /// Reports a failed export by `by` ("the collector", "the span exporter"), rate-limited,
    /// with its likely cause when one can be named.
    pub(super) fn refused(
        &self,
        by: &str,
        what: &str,
        error: &impl std::fmt::Display,
        cause: Option<String>,
    ) {
        if self.refusal_reports.allow() {
            let stats = self.stats();
            let cause = cause
                .map(|c| format!("; likely cause: {c}"))
                .unwrap_or_default();
            warn(&format!(
                "{by} refused {what}: {error}{cause} ({} spans and {} metric exports \
                 dropped so far)",
                stats.spans_refused + stats.spans_abandoned,
                stats.metric_exports_refused
            ));
        }
    }
}
