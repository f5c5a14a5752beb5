//! The database client instruments: `db.client.operation.duration` and the detections' counters.

use std::sync::Arc;

use opentelemetry::metrics::BoundHistogram;

use crate::Metrics;
use crate::metrics::bound::BoundSets;
use crate::metrics::{Counter, GlobalInstruments, Histogram};
use crate::setup::SCOPE_NAME;

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
/// context attributes. Made again with the instruments whenever the meter provider changes.
pub(crate) fn bound_durations() -> Arc<BoundSets<BoundHistogram<f64>>> {
    static BOUND: GlobalInstruments<BoundSets<BoundHistogram<f64>>> = GlobalInstruments::new();
    BOUND.get(SCOPE_NAME, |_| BoundSets::default())
}
