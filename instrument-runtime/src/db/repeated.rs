//! Repeated-query (N+1) detection: counts statement shapes per parent span and, when the parent
//! ends, adds one `instrument.db.repeated_query` event per shape run at least `repeated_query_threshold`
//! times.
//!
//! Parents are the spans this crate ends (`#[trace_method]`, the HTTP server layer, database
//! transactions); their end calls [`report_on_end`], which the first tracked query registers as
//! an end-of-span hook. When no query is being tracked that call is one atomic load.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, Once};

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanId;

use super::config::instrumentation_config;
use super::metrics::DbMetrics;
use super::orm::classify::LoaderType;
use super::orm::names::{
    ENTITY_KEY, FINDING_KEY, LOADER_TYPE_KEY, RELATIONSHIP_KEY, REPEATED_LAZY_LOAD_EVENT,
};
use crate::state::{self, EndingSpan};

/// Name of the event added to a parent span.
pub const REPEATED_QUERY_EVENT: &str = "instrument.db.repeated_query";
/// Attribute of the event: how many times the shape ran.
pub const REPEATED_COUNT_KEY: &str = "instrument.db.repeated_query.count";
/// Parents tracked at most; past it the oldest is forgotten (its parent is not one of ours).
const MAX_TRACKED_PARENTS: usize = 10_000;

struct ShapeCount {
    count: u32,
    finding: Finding,
}

/// What was repeated.
enum Finding {
    /// A statement shape, with its summary and its first text.
    Statement { summary: String, first_text: String },
    /// Lazy loads of one relationship, with the loaded entity.
    LazyLoad {
        relationship: String,
        entity: String,
    },
}

#[derive(Default)]
struct Tracker {
    parents: HashMap<SpanId, (u64, HashMap<String, ShapeCount>)>,
    /// Parents in the order they were first seen, with their sequence number: the oldest is
    /// forgotten first. Entries of parents already reported are skipped when reached.
    order: VecDeque<(u64, SpanId)>,
    sequence: u64,
}

impl Tracker {
    /// Forgets the oldest parent still tracked.
    fn forget_oldest(&mut self) {
        while let Some((sequence, parent)) = self.order.pop_front() {
            if self
                .parents
                .get(&parent)
                .is_some_and(|(s, _)| *s == sequence)
            {
                self.parents.remove(&parent);
                return;
            }
        }
    }

    /// Drops the order's entries of parents already reported once they outnumber the tracked.
    fn compact(&mut self) {
        if self.order.len() > 2 * MAX_TRACKED_PARENTS {
            let parents = &self.parents;
            self.order.retain(|(sequence, parent)| {
                parents.get(parent).is_some_and(|(s, _)| s == sequence)
            });
        }
    }
}

/// The shapes counted under the parents not ended yet. Process-wide: parents are named by their
/// span ids, unique whatever pipeline recorded them, and the end-of-span hook that reports them
/// is code registered once for every pipeline.
struct Repeated {
    /// Parents tracked: the one load a span end pays while none is.
    tracked: AtomicUsize,
    tracker: LazyLock<Mutex<Tracker>>,
    hook: Once,
}

static REPEATED: Repeated = Repeated {
    tracked: AtomicUsize::new(0),
    tracker: LazyLock::new(Mutex::default),
    hook: Once::new(),
};

/// Counts one execution of `shape` under `parent`.
pub(crate) fn record(parent: SpanId, shape: String, summary: &str, text: &str) {
    count(parent, shape, || Finding::Statement {
        summary: summary.to_owned(),
        first_text: text.to_owned(),
    });
}

/// Counts one lazy load of `relationship` (loading `entity`) under `parent`.
pub(crate) fn record_lazy_load(parent: SpanId, relationship: &str, entity: &str) {
    // No statement's shape starts with a NUL.
    count(parent, format!("\0lazy {relationship}"), || {
        Finding::LazyLoad {
            relationship: relationship.to_owned(),
            entity: entity.to_owned(),
        }
    });
}

fn count(parent: SpanId, shape: String, finding: impl FnOnce() -> Finding) {
    REPEATED
        .hook
        .call_once(|| state::register_span_end_hook(report_on_end));
    let mut tracker = REPEATED.tracker.lock().unwrap_or_else(|e| e.into_inner());
    tracker.sequence += 1;
    let sequence = tracker.sequence;
    if !tracker.parents.contains_key(&parent) {
        if tracker.parents.len() >= MAX_TRACKED_PARENTS {
            tracker.forget_oldest();
        }
        tracker.order.push_back((sequence, parent));
        tracker.compact();
    }
    let (_, shapes) = tracker
        .parents
        .entry(parent)
        .or_insert_with(|| (sequence, HashMap::new()));
    let entry = shapes.entry(shape).or_insert_with(|| ShapeCount {
        count: 0,
        finding: finding(),
    });
    entry.count = entry.count.saturating_add(1);
    REPEATED
        .tracked
        .store(tracker.parents.len(), Ordering::Relaxed);
}

/// Reports the repeated shapes of `span`, which is about to end.
pub(crate) fn report_on_end(span: &mut dyn EndingSpan) {
    if REPEATED.tracked.load(Ordering::Relaxed) == 0 {
        return;
    }
    let id = span.span_context().span_id();
    let shapes = {
        let mut tracker = REPEATED.tracker.lock().unwrap_or_else(|e| e.into_inner());
        let removed = tracker.parents.remove(&id);
        REPEATED
            .tracked
            .store(tracker.parents.len(), Ordering::Relaxed);
        match removed {
            Some((_, shapes)) => shapes,
            None => return,
        }
    };
    let threshold = instrumentation_config().repeated_query_threshold.max(1);
    for shape in shapes.into_values().filter(|s| s.count >= threshold) {
        let count = i64::from(shape.count);
        match shape.finding {
            Finding::Statement {
                summary,
                first_text,
            } => {
                span.add_event(
                    REPEATED_QUERY_EVENT.into(),
                    vec![
                        KeyValue::new("db.query.summary", summary.clone()),
                        KeyValue::new(REPEATED_COUNT_KEY, count),
                        KeyValue::new("db.query.text", first_text),
                    ],
                );
                DbMetrics::global()
                    .repeated_queries
                    .add(1, &[KeyValue::new("db.query.summary", summary)]);
            }
            Finding::LazyLoad {
                relationship,
                entity,
            } => {
                let suggestion = lazy_load_finding(&relationship, shape.count);
                span.add_event(
                    REPEATED_LAZY_LOAD_EVENT.into(),
                    vec![
                        KeyValue::new(RELATIONSHIP_KEY, relationship.clone()),
                        KeyValue::new(LOADER_TYPE_KEY, LoaderType::Lazy.as_str()),
                        KeyValue::new(ENTITY_KEY, entity),
                        KeyValue::new(REPEATED_COUNT_KEY, count),
                        KeyValue::new(FINDING_KEY, suggestion),
                    ],
                );
                DbMetrics::global()
                    .repeated_queries
                    .add(1, &[KeyValue::new(RELATIONSHIP_KEY, relationship)]);
            }
        }
    }
}

/// The finding of `count` lazy loads of `relationship` under one parent, in words.
pub(crate) fn lazy_load_finding(relationship: &str, count: u32) -> String {
    format!(
        "N+1: {relationship} loaded lazily {count} times under one parent; load it for all \
         parents in one statement with the select-in loader (LoaderTrait::load_many / load_one)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> SpanId {
        SpanId::from_bytes(n.to_be_bytes())
    }

    #[test]
    fn the_oldest_parent_still_tracked_is_forgotten_first() {
        let mut tracker = Tracker::default();
        for n in 1..=3 {
            tracker.parents.insert(id(n), (n, HashMap::new()));
            tracker.order.push_back((n, id(n)));
        }
        // Parent 1 was reported (removed): the next forgotten is 2.
        tracker.parents.remove(&id(1));
        tracker.forget_oldest();
        assert!(!tracker.parents.contains_key(&id(2)));
        assert!(tracker.parents.contains_key(&id(3)));
        assert_eq!(tracker.order.len(), 1);
    }

    #[test]
    fn reported_parents_leave_the_order_when_it_grows() {
        let mut tracker = Tracker::default();
        for n in 0..=(2 * MAX_TRACKED_PARENTS as u64) {
            tracker.order.push_back((n, id(n + 1)));
        }
        tracker.parents.insert(id(5), (4, HashMap::new()));
        tracker.compact();
        assert_eq!(tracker.order, VecDeque::from([(4, id(5))]));
    }
}
