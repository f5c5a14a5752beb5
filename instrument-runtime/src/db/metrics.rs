//! The database client instruments: `db.client.operation.duration` and the detections' counters.

use std::cell::RefCell;
use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::metrics::BoundHistogram;

use super::target::DbTarget;

use crate::metrics::bound::BoundSets;
use crate::metrics::{Counter, Histogram};
use crate::state;
use instrument_macros::Metrics;

/// Database client metrics.
#[derive(Debug, Metrics)]
#[metrics(scope = "instrument", crate = crate)]
pub struct DbMetrics {
    /// Duration of database client operations.
    #[metric(
        name = "db.client.operation.duration",
        unit = "s",
        buckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0]
    )]
    pub operation_duration: Histogram<f64>,
    /// Statement shapes executed repeatedly under one parent span (N+1 queries).
    #[metric(name = "instrument.db.client.query.repeated", unit = "{report}")]
    pub repeated_queries: Counter<u64>,
    /// Synchronous queries made on an async runtime's worker thread.
    #[metric(
        name = "instrument.db.client.operation.sync_in_async",
        unit = "{operation}"
    )]
    pub sync_in_async: Counter<u64>,
}

/// `db.client.operation.duration` bound per attribute set, for statements recorded without
/// context attributes: one table per pipeline, bound to its meter provider's instruments (a
/// fresh, empty one without a pipeline).
pub(crate) fn bound_durations() -> Arc<BoundSets<BoundHistogram<f64>>> {
    state::with_current(|pipeline| pipeline.extension::<BoundSets<BoundHistogram<f64>>>())
        .unwrap_or_default()
}

/// A statement's `db.client.operation.duration` bound to its attribute set against one target
/// (the set of a statement that did not fail), kept with the statement in the thread's statement
/// cache once a statement recorded into it: a repeated statement records without hashing its
/// attributes to find the bound instrument.
#[derive(Default)]
pub(crate) struct StatementDuration(RefCell<Option<BoundFor>>);

/// A bound duration and what it was bound for: a target (its shared texts kept, so that their
/// addresses identify it) and the bound sets of the meter provider in force.
struct BoundFor {
    system: &'static str,
    namespace: Option<Arc<str>>,
    server_address: Option<Arc<str>>,
    server_port: Option<u16>,
    sets: Arc<BoundSets<BoundHistogram<f64>>>,
    histogram: BoundHistogram<f64>,
}

impl BoundFor {
    fn is_for(&self, target: &DbTarget, sets: &Arc<BoundSets<BoundHistogram<f64>>>) -> bool {
        fn same(a: &Option<Arc<str>>, b: &Option<Arc<str>>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
        }
        std::ptr::eq(self.system, target.system)
            && same(&self.namespace, &target.namespace)
            && same(&self.server_address, &target.server_address)
            && self.server_port == target.server_port
            && Arc::ptr_eq(&self.sets, sets)
    }
}

impl StatementDuration {
    /// The duration histogram bound to `attributes`, this statement's low-cardinality
    /// attributes against `target`, once a statement recorded into it; `None` before (the
    /// statement's end binds it as it records) and when the bound sets are full.
    ///
    /// Binds nothing itself: a statement that fails, or runs under context attributes, records
    /// into another series, and would leave this one bound and empty, exported at every
    /// collection under cumulative temporality as a point of count 0. Until the set is bound,
    /// each call looks it up by a hash (a statement whose end looks up or records its own set
    /// anyway); then it is kept and found without one.
    pub(crate) fn recorded(
        &self,
        target: &DbTarget,
        attributes: &[KeyValue],
    ) -> Option<BoundHistogram<f64>> {
        let sets = bound_durations();
        let mut cached = self.0.borrow_mut();
        if let Some(bound) = cached.as_ref().filter(|b| b.is_for(target, &sets)) {
            return Some(bound.histogram.clone());
        }
        let histogram = sets.bound(duration_identity(attributes, None))?;
        *cached = Some(BoundFor {
            system: target.system,
            namespace: target.namespace.clone(),
            server_address: target.server_address.clone(),
            server_port: target.server_port,
            sets,
            histogram: histogram.clone(),
        });
        Some(histogram)
    }
}

impl std::fmt::Debug for StatementDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatementDuration").finish_non_exhaustive()
    }
}

/// What identifies a duration's attribute set among the bound ones: the statement's
/// low-cardinality attributes and the error type, if it failed.
pub(crate) fn duration_identity<'a>(
    attributes: &'a [KeyValue],
    error_type: Option<&'a str>,
) -> (&'a [KeyValue], Option<&'a str>) {
    (attributes, error_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(namespace: &str) -> DbTarget {
        DbTarget {
            system: "sqlite",
            namespace: Some(namespace.into()),
            server_address: None,
            server_port: None,
        }
    }

    fn cached_for(duration: &StatementDuration, target: &DbTarget) -> bool {
        let sets = bound_durations();
        duration
            .0
            .borrow()
            .as_ref()
            .is_some_and(|bound| bound.is_for(target, &sets))
    }

    /// Binds the duration of `attributes` the way a statement's end does: as it records.
    fn record(attributes: &[KeyValue]) {
        let recorded = bound_durations().record(
            duration_identity(attributes, None),
            || {
                DbMetrics::global()
                    .operation_duration
                    .inner()
                    .bind(attributes)
            },
            |bound| bound.record(0.001),
        );
        assert!(recorded);
    }

    #[test]
    fn a_statement_binds_nothing_and_keeps_its_duration_once_recorded() {
        let _pipeline = state::own_pipeline();
        let duration = StatementDuration::default();
        let (first, second) = (target("app.db"), target("app.db"));
        // Its own set: the bound sets are shared by the tests of this binary.
        let attributes = [
            KeyValue::new("db.system.name", "sqlite"),
            KeyValue::new("db.collection.name", "keeps_its_duration"),
        ];
        assert!(duration.recorded(&first, &attributes).is_none());
        assert!(
            bound_durations()
                .bound(duration_identity(&attributes, None))
                .is_none(),
            "looking the set up bound nothing"
        );
        assert!(!cached_for(&duration, &first));
        record(&attributes);
        assert!(duration.recorded(&first, &attributes).is_some());
        assert!(cached_for(&duration, &first));
        assert!(
            !cached_for(&duration, &second),
            "another target is told by its own texts, not by equal ones"
        );
        assert!(duration.recorded(&second, &attributes).is_some());
        assert!(cached_for(&duration, &second));
    }
}
