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
use crate::state::{self, EndingSpan};

/// Name of the event added to a parent span.
pub const REPEATED_QUERY_EVENT: &str = "instrument.db.repeated_query";
/// Attribute of the event: how many times the shape ran.
pub const REPEATED_COUNT_KEY: &str = "instrument.db.repeated_query.count";
/// Parents tracked at most; past it the oldest is forgotten (its parent is not one of ours).
const MAX_TRACKED_PARENTS: usize = 10_000;

#[derive(Default)]
struct ShapeCount {
    count: u32,
    summary: String,
    first_text: String,
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
        summary: summary.to_owned(),
        first_text: text.to_owned(),
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
        span.add_event(
            REPEATED_QUERY_EVENT.into(),
            vec![
                KeyValue::new("db.query.summary", shape.summary.clone()),
                KeyValue::new(REPEATED_COUNT_KEY, i64::from(shape.count)),
                KeyValue::new("db.query.text", shape.first_text),
            ],
        );
        DbMetrics::global()
            .repeated_queries
            .add(1, &[KeyValue::new("db.query.summary", shape.summary)]);
    }
}
