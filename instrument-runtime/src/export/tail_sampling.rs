//! Tail sampling that keeps what matters: the spans of a local trace (the spans this process
//! made under one root whose parent is remote or absent) are held until that root ends; then the
//! whole local trace is kept if any of its spans ended in error or the root took at least the
//! slow threshold, and otherwise kept with a probability (decided from the trace id, so every
//! process of a distributed trace that uses the same ratio decides alike). Spans of the trace
//! that end later in the process follow the same decision.
//!
//! Bounds: at most 65,536 spans wait for their root (past it, the oldest waiting trace is decided
//! at once by what it holds so far), and the decisions of the last 65,536 traces are remembered
//! for their late spans. Kept and dropped counts are
//! in [`export_stats`](super::export_stats).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry_sdk::trace::SpanData;

use super::stats::ExportCounters;
use crate::diagnostics::warn;

/// Spans held at most while their local root has not ended.
pub(crate) const MAX_PENDING_SPANS: usize = 65_536;
/// Traces whose decision is remembered for spans that end after their root.
pub(crate) const MAX_DECIDED_TRACES: usize = 65_536;

/// The tail-sampling rule: keep every local trace with an error or a slow root, and the others
/// with probability `ratio`.
///
/// ```
/// use std::time::Duration;
/// use instrument::TailSampling;
///
/// let telemetry = instrument::Telemetry::builder()
///     .tail_sampling(TailSampling::keep_errors_and_slow(0.01, Duration::from_millis(500)));
/// # drop(telemetry);
/// ```
///
/// The same from the environment: `OTEL_TRACES_SAMPLER=instrument_keep_errors` with
/// `OTEL_TRACES_SAMPLER_ARG=0.01,500` (ratio, then the threshold in milliseconds).
///
/// A local trace is what this process made under one root whose parent is remote or absent;
/// its spans wait, at most 65,536 spans in all (past that the oldest waiting trace is decided
/// early on what it holds), and the last 65,536 decisions are remembered for spans that end
/// after their root. Decisions from the ratio use the trace id, so processes of one distributed
/// trace sharing a ratio agree. Kept and dropped counts are in `export_stats()`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TailSampling {
    ratio: f64,
    slow: Duration,
}

impl TailSampling {
    /// Keeps every local trace that holds an error or whose root took at least `slow_threshold`,
    /// and the rest with probability `ratio` (clamped to 0–1).
    pub fn keep_errors_and_slow(ratio: f64, slow_threshold: Duration) -> Self {
        let ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        Self {
            ratio,
            slow: slow_threshold,
        }
    }

    /// The rule `OTEL_TRACES_SAMPLER_ARG` describes (`ratio,threshold_ms`; default `0.1,1000`),
    /// with a warning for what cannot be read.
    pub(crate) fn from_env_arg(arg: Option<&str>) -> Self {
        let default = Self::keep_errors_and_slow(0.1, Duration::from_millis(1_000));
        let Some(arg) = arg else { return default };
        let mut parts = arg.split(',').map(str::trim);
        let ratio = parts.next().and_then(|r| r.parse::<f64>().ok());
        let threshold = parts.next().and_then(|t| t.parse::<u64>().ok());
        match (ratio, threshold, parts.next()) {
            (Some(ratio), Some(ms), None) if (0.0..=1.0).contains(&ratio) => {
                Self::keep_errors_and_slow(ratio, Duration::from_millis(ms))
            }
            _ => {
                warn(&format!(
                    "OTEL_TRACES_SAMPLER_ARG={arg:?} is not `ratio,threshold_ms` (a ratio between 0 \
                     and 1, then milliseconds) for instrument_keep_errors; using 0.1,1000"
                ));
                default
            }
        }
    }

    /// Whether a trace with neither error nor slow root is kept: the trace id's low 64 bits
    /// against the ratio, as the SDK's ratio sampler does.
    fn by_ratio(&self, trace_id: TraceId) -> bool {
        if self.ratio >= 1.0 {
            return true;
        }
        let bytes = trace_id.to_bytes();
        let low = u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes"));
        (low as f64) < self.ratio * (u64::MAX as f64)
    }
}

#[derive(Default)]
struct Pending {
    spans: Vec<SpanData>,
    error: bool,
}

struct Buffer {
    rule: TailSampling,
    counters: Arc<ExportCounters>,
    pending: HashMap<TraceId, Pending>,
    /// Traces by the arrival of their first waiting span (a decided trace's entry stays until
    /// it reaches the front, where it is skipped).
    order: VecDeque<TraceId>,
    pending_spans: usize,
    decided: HashMap<TraceId, bool>,
    decided_order: VecDeque<TraceId>,
}

impl Buffer {
    fn new(rule: TailSampling, counters: Arc<ExportCounters>) -> Self {
        Self {
            rule,
            counters,
            pending: HashMap::new(),
            order: VecDeque::new(),
            pending_spans: 0,
            decided: HashMap::new(),
            decided_order: VecDeque::new(),
        }
    }

    fn remember(&mut self, trace_id: TraceId, keep: bool) {
        if self.decided.insert(trace_id, keep).is_none() {
            self.decided_order.push_back(trace_id);
            if self.decided_order.len() > MAX_DECIDED_TRACES
                && let Some(oldest) = self.decided_order.pop_front()
            {
                self.decided.remove(&oldest);
            }
        }
    }

    /// Decides `trace_id` with what it holds (and `root`, when it ended): the spans to forward.
    fn decide(&mut self, trace_id: TraceId, root: Option<SpanData>) -> Vec<SpanData> {
        let mut pending = self.pending.remove(&trace_id).unwrap_or_default();
        self.pending_spans -= pending.spans.len();
        let slow = root.as_ref().is_some_and(|root| {
            root.end_time
                .duration_since(root.start_time)
                .is_ok_and(|took| took >= self.rule.slow)
        });
        let error = pending.error || root.as_ref().is_some_and(is_error);
        pending.spans.extend(root);
        let keep = error || slow || self.rule.by_ratio(trace_id);
        self.remember(trace_id, keep);
        self.counters.count_tail_decision(keep, pending.spans.len());
        if keep { pending.spans } else { Vec::new() }
    }

    /// Handles one ended span: the spans that may now be forwarded.
    fn on_end(&mut self, span: SpanData) -> Vec<SpanData> {
        let trace_id = span.span_context.trace_id();
        if let Some(&keep) = self.decided.get(&trace_id) {
            self.counters.count_tail_late_span(keep);
            return if keep { vec![span] } else { Vec::new() };
        }
        if is_local_root(&span) {
            return self.decide(trace_id, Some(span));
        }
        let pending = self.pending.entry(trace_id).or_default();
        if pending.spans.is_empty() {
            self.order.push_back(trace_id);
        }
        pending.error |= is_error(&span);
        pending.spans.push(span);
        self.pending_spans += 1;
        let mut forward = Vec::new();
        while self.pending_spans > MAX_PENDING_SPANS {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if self.pending.contains_key(&oldest) {
                forward.extend(self.decide(oldest, None));
            }
        }
        forward
    }

    /// Decides every waiting trace (at shutdown).
    fn drain(&mut self) -> Vec<SpanData> {
        let mut forward = Vec::new();
        while let Some(trace_id) = self.order.pop_front() {
            if self.pending.contains_key(&trace_id) {
                forward.extend(self.decide(trace_id, None));
            }
        }
        forward
    }
}

fn is_error(span: &SpanData) -> bool {
    matches!(span.status, Status::Error { .. })
}

fn is_local_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote
}

/// One pipeline's tail sampling: the rule in force for its spans, if any, and the spans waiting
/// for their trace's decision.
#[derive(Debug)]
pub(crate) struct TailSampler {
    buffer: Option<Mutex<Buffer>>,
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buffer")
            .field("pending_spans", &self.pending_spans)
            .finish_non_exhaustive()
    }
}

impl TailSampler {
    /// Puts `rule` in force (`None`: every span is forwarded as it ends), its decisions counted
    /// in `counters`.
    pub(crate) fn new(rule: Option<TailSampling>, counters: Arc<ExportCounters>) -> Self {
        Self {
            buffer: rule.map(|rule| Mutex::new(Buffer::new(rule, counters))),
        }
    }

    /// Passes `span` to `forward` now, later (with its trace) or never, as the rule says.
    #[inline]
    pub(crate) fn route(&self, span: SpanData, forward: impl FnMut(SpanData)) {
        let Some(buffer) = &self.buffer else {
            let mut forward = forward;
            return forward(span);
        };
        let ready = buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .on_end(span);
        ready.into_iter().for_each(forward);
    }

    /// Whether a rule is in force (spans may be held back for their trace's decision).
    pub(crate) fn is_active(&self) -> bool {
        self.buffer.is_some()
    }

    /// Decides every trace still waiting for its root and passes the kept spans to `forward`.
    pub(crate) fn drain(&self, forward: impl FnMut(SpanData)) {
        if let Some(buffer) = &self.buffer {
            let ready = buffer
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drain();
            ready.into_iter().for_each(forward);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{SpanContext, SpanKind, TraceFlags, TraceState};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span(trace: u128, id: u64, parent: u64, took_ms: u64, error: bool) -> SpanData {
        let start = SystemTime::UNIX_EPOCH;
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(trace),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "s".into(),
            start_time: start,
            end_time: start + Duration::from_millis(took_ms),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: if error {
                Status::error("boom")
            } else {
                Status::Unset
            },
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    fn rule() -> TailSampling {
        TailSampling::keep_errors_and_slow(0.0, Duration::from_millis(100))
    }

    #[test]
    fn a_trace_waits_for_its_root_and_is_kept_whole_when_a_child_failed() {
        let mut buffer = Buffer::new(rule(), Arc::default());
        assert!(buffer.on_end(span(1, 2, 1, 1, true)).is_empty());
        assert!(buffer.on_end(span(1, 3, 1, 1, false)).is_empty());
        assert_eq!(buffer.on_end(span(1, 1, 0, 5, false)).len(), 3);
        assert_eq!(buffer.pending_spans, 0);
        assert_eq!(
            buffer.on_end(span(1, 4, 1, 1, false)).len(),
            1,
            "a late span follows"
        );
    }

    #[test]
    fn fast_healthy_traces_go_and_slow_ones_stay() {
        let mut buffer = Buffer::new(rule(), Arc::default());
        assert!(buffer.on_end(span(2, 2, 1, 1, false)).is_empty());
        assert!(buffer.on_end(span(2, 1, 0, 5, false)).is_empty());
        assert!(
            buffer.on_end(span(2, 3, 1, 1, true)).is_empty(),
            "decided: dropped"
        );
        assert_eq!(
            buffer.on_end(span(3, 1, 0, 150, false)).len(),
            1,
            "slow root"
        );
    }

    #[test]
    fn the_ratio_decides_by_trace_id() {
        let all = TailSampling::keep_errors_and_slow(1.0, Duration::from_secs(60));
        assert!(all.by_ratio(TraceId::from(u128::MAX)));
        let half = TailSampling::keep_errors_and_slow(0.5, Duration::from_secs(60));
        assert!(half.by_ratio(TraceId::from(1u128)));
        assert!(!half.by_ratio(TraceId::from(u128::from(u64::MAX))));
    }

    #[test]
    fn the_waiting_spans_are_bounded() {
        let mut buffer = Buffer::new(
            TailSampling::keep_errors_and_slow(1.0, Duration::from_secs(60)),
            Arc::default(),
        );
        let mut forwarded = 0;
        for trace in 0..(MAX_PENDING_SPANS as u128 + 10) {
            forwarded += buffer.on_end(span(trace + 1, 2, 1, 1, false)).len();
        }
        assert_eq!(buffer.pending_spans, MAX_PENDING_SPANS);
        assert_eq!(forwarded, 10, "the oldest traces were decided early");
        assert_eq!(buffer.drain().len(), MAX_PENDING_SPANS);
    }

    #[test]
    fn the_environment_argument_is_read_or_reported() {
        assert_eq!(
            TailSampling::from_env_arg(Some("0.01,250")),
            TailSampling::keep_errors_and_slow(0.01, Duration::from_millis(250))
        );
        assert_eq!(
            TailSampling::from_env_arg(Some("lots")),
            TailSampling::keep_errors_and_slow(0.1, Duration::from_millis(1_000))
        );
    }
}
