//! Repeated-query (N+1) detection: counts statement shapes per parent span and, when the parent
//! ends, adds one `instrument.db.repeated_query` event per shape run at least `repeated_query_threshold`
//! times.
//!
//! Parents are the spans this crate ends (`#[trace_method]`, the HTTP server layer, database
//! transactions); their end calls [`report_on_end`], which the first tracked query registers as
//! an end-of-span hook. When no query is being tracked that call is one atomic load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, Once};

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanId;

use super::config::instrumentation_config;
use super::metrics::DbMetrics;
use super::orm;
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
    sequence: u64,
}

static TRACKED: AtomicUsize = AtomicUsize::new(0);
static TRACKER: LazyLock<Mutex<Tracker>> = LazyLock::new(Mutex::default);

static HOOK: Once = Once::new();

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
    HOOK.call_once(|| state::register_span_end_hook(report_on_end));
    let mut tracker = TRACKER.lock().unwrap_or_else(|e| e.into_inner());
    tracker.sequence += 1;
    let sequence = tracker.sequence;
    if !tracker.parents.contains_key(&parent) && tracker.parents.len() >= MAX_TRACKED_PARENTS {
        if let Some(oldest) = tracker
            .parents
            .iter()
            .min_by_key(|(_, (seq, _))| *seq)
            .map(|(id, _)| *id)
        {
            tracker.parents.remove(&oldest);
        }
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
    TRACKED.store(tracker.parents.len(), Ordering::Relaxed);
}

/// Reports the repeated shapes of `span`, which is about to end.
pub(crate) fn report_on_end(span: &mut dyn EndingSpan) {
    if TRACKED.load(Ordering::Relaxed) == 0 {
        return;
    }
    let id = span.span_context().span_id();
    let shapes = {
        let mut tracker = TRACKER.lock().unwrap_or_else(|e| e.into_inner());
        let removed = tracker.parents.remove(&id);
        TRACKED.store(tracker.parents.len(), Ordering::Relaxed);
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
                    orm::REPEATED_LAZY_LOAD_EVENT.into(),
                    vec![
                        KeyValue::new(orm::RELATIONSHIP_KEY, relationship.clone()),
                        KeyValue::new(orm::LOADER_TYPE_KEY, orm::LoaderType::Lazy.as_str()),
                        KeyValue::new(orm::ENTITY_KEY, entity),
                        KeyValue::new(REPEATED_COUNT_KEY, count),
                        KeyValue::new(orm::FINDING_KEY, suggestion),
                    ],
                );
                DbMetrics::global()
                    .repeated_queries
                    .add(1, &[KeyValue::new(orm::RELATIONSHIP_KEY, relationship)]);
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
