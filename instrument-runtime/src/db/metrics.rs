//! The database client instruments: `db.client.operation.duration` and the detections' counters.

use crate::Metrics;
use crate::metrics::{Counter, Histogram};

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
