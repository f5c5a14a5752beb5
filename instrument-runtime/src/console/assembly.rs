//! Which finished spans the console prints together, and when: spans wait per trace until the
//! part of the tree they make is whole, then print as one block.
//!
//! A group of waiting spans is whole when each span whose parent is not in the group is a root
//! of the trace (no parent), continues a span printed before, or has a remote parent with every
//! waiting span under it (a server span of a call from another process). A span whose local
//! parent has not ended yet keeps the group waiting: a span that a trace's root spawned and
//! whose children ended before the root holds the trace until it ends too, so it prints in the
//! tree. The wait is bounded: [`GRACE`] after the trace's root arrived (or, when every root of
//! the group has a remote parent, after that), the group prints as it is once more spans arrive,
//! and everything left prints at shutdown.
//!
//! A span of a printed trace that arrives later (spawned work that outlived its trace and had no
//! child end before the root) prints in a block of its own marked `(continued)`, under a line
//! naming its parent. The names of the last [`MAX_PRINTED_TRACES`] printed traces' spans are
//! kept for that.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::SpanData;

/// How long a trace whose root arrived waits for its known in-flight spans.
pub(super) const GRACE: Duration = Duration::from_secs(2);
/// Past this many spans waiting, the waiting spans are printed as they are.
const MAX_PENDING_SPANS: usize = 10_000;
/// Printed traces whose span names are kept, so late spans can be put under their parent.
const MAX_PRINTED_TRACES: usize = 1_024;

/// Spans to print as one block: the whole trace, or (with `printed` not empty) spans continuing
/// the trace's spans printed before, whose names `printed` holds.
pub(super) struct Block {
    pub spans: Vec<SpanData>,
    pub printed: HashMap<SpanId, Cow<'static, str>>,
}

/// Spans of one trace waiting to print.
#[derive(Default)]
struct Waiting {
    spans: Vec<SpanData>,
    /// Since when the group has been waiting for in-flight spans only.
    since: Option<Instant>,
}

/// The waiting spans of every trace, and the span names of the traces printed last.
#[derive(Default)]
pub(super) struct Assembly {
    waiting: HashMap<TraceId, Waiting>,
    waiting_spans: usize,
    printed: HashMap<TraceId, HashMap<SpanId, Cow<'static, str>>>,
    printed_order: VecDeque<TraceId>,
}

impl Assembly {
    /// Takes in finished spans at `now`; returns the blocks ready to print.
    pub(super) fn add(&mut self, batch: Vec<SpanData>, now: Instant) -> Vec<Block> {
        for span in batch {
            let trace_id = span.span_context.trace_id();
            self.waiting.entry(trace_id).or_default().spans.push(span);
            self.waiting_spans += 1;
        }
        if self.waiting_spans > MAX_PENDING_SPANS {
            return self.drain();
        }
        let ready: Vec<TraceId> = self
            .waiting
            .iter_mut()
            .filter_map(|(trace_id, waiting)| {
                let printed = self.printed.get(trace_id);
                match state(&waiting.spans, printed) {
                    State::Whole => Some(*trace_id),
                    State::InFlight => {
                        let since = *waiting.since.get_or_insert(now);
                        (now.duration_since(since) >= GRACE).then_some(*trace_id)
                    }
                    State::Open => None,
                }
            })
            .collect();
        ready
            .into_iter()
            .filter_map(|trace_id| self.take(trace_id))
            .collect()
    }

    /// Every waiting span, as blocks (at shutdown, or past the bound on waiting spans).
    pub(super) fn drain(&mut self) -> Vec<Block> {
        let traces: Vec<TraceId> = self.waiting.keys().copied().collect();
        traces
            .into_iter()
            .filter_map(|trace_id| self.take(trace_id))
            .collect()
    }

    /// The block of `trace_id`'s waiting spans, whose names are then kept as printed.
    fn take(&mut self, trace_id: TraceId) -> Option<Block> {
        let waiting = self.waiting.remove(&trace_id)?;
        self.waiting_spans -= waiting.spans.len();
        let printed = self.printed.get(&trace_id).cloned().unwrap_or_default();
        self.remember(trace_id, &waiting.spans);
        Some(Block {
            spans: waiting.spans,
            printed,
        })
    }

    /// Keeps the names of `spans` as printed, forgetting the oldest printed trace past the bound.
    fn remember(&mut self, trace_id: TraceId, spans: &[SpanData]) {
        let names = self.printed.entry(trace_id).or_insert_with(|| {
            self.printed_order.push_back(trace_id);
            HashMap::new()
        });
        names.extend(
            spans
                .iter()
                .map(|s| (s.span_context.span_id(), s.name.clone())),
        );
        while self.printed_order.len() > MAX_PRINTED_TRACES {
            if let Some(oldest) = self.printed_order.pop_front() {
                self.printed.remove(&oldest);
            }
        }
    }
}

/// Whether a trace's waiting spans can print.
#[derive(Debug, PartialEq)]
enum State {
    /// The tree they make is whole.
    Whole,
    /// The trace's root arrived (or every root has a remote parent), but spans still running are
    /// parents of some: they wait at most [`GRACE`].
    InFlight,
    /// The trace's root has not ended: they wait.
    Open,
}

/// The state of `spans`, spans of one trace, given the names of its spans printed before.
fn state(spans: &[SpanData], printed: Option<&HashMap<SpanId, Cow<'static, str>>>) -> State {
    let ids: HashSet<SpanId> = spans.iter().map(|s| s.span_context.span_id()).collect();
    let roots: Vec<&SpanData> = spans
        .iter()
        .filter(|s| !ids.contains(&s.parent_span_id))
        .collect();
    let anchored = |span: &SpanData| {
        span.parent_span_id == SpanId::INVALID
            || printed.is_some_and(|names| names.contains_key(&span.parent_span_id))
    };
    let whole = roots.iter().all(|root| {
        anchored(root)
            || (root.parent_span_is_remote && all_under(spans, root.span_context.span_id()))
    });
    if whole {
        State::Whole
    } else if roots.iter().any(|root| anchored(root))
        || roots.iter().all(|root| root.parent_span_is_remote)
    {
        State::InFlight
    } else {
        State::Open
    }
}

/// Whether every span of `spans` is `root` or under it (following the parents present).
fn all_under(spans: &[SpanData], root: SpanId) -> bool {
    let parents: HashMap<SpanId, SpanId> = spans
        .iter()
        .map(|s| (s.span_context.span_id(), s.parent_span_id))
        .collect();
    spans.iter().all(|span| {
        let mut at = span.span_context.span_id();
        for _ in 0..=spans.len() {
            if at == root {
                return true;
            }
            match parents.get(&at) {
                Some(parent) => at = *parent,
                None => return false,
            }
        }
        false
    })
}
