//! The connection-pool instruments, with the original's names, and the semantic-convention
//! `db.client.connection.*` family.

use crate::metrics::{Counter, Histogram, ObservableGauge, ObservableUpDownCounter};
use instrument_macros::Metrics;

/// Connection-pool metrics, with the original's names. The gauges are observed from every
/// [`PoolMonitor`](super::PoolMonitor)'s live pool state (a closed pool's, as it was just
/// before it closed). Pool-wide: a checkout made
/// inside a request does not carry the request's context attributes.
#[derive(Debug, Metrics)]
#[metrics(scope = "instrument", crate = crate, context = false)]
pub struct PoolMetrics {
    /// Total pool capacity: the most connections the pool opens.
    #[metric(name = "gauge_db_pool_connections_total", unit = "1", callback = super::gauges::observe_total)]
    pub connections_total: ObservableGauge<i64>,
    /// Number of connections currently checked out from the pool.
    #[metric(name = "gauge_db_pool_connections_checked_out", unit = "1", callback = super::gauges::observe_checked_out)]
    pub connections_checked_out: ObservableGauge<i64>,
    /// Number of available connections in the pool.
    #[metric(name = "gauge_db_pool_connections_available", unit = "1", callback = super::gauges::observe_available)]
    pub connections_available: ObservableGauge<i64>,
    /// Number of overflow connections: open beyond the pool's base size (0 for a pool that has
    /// only a maximum).
    #[metric(name = "gauge_db_pool_connections_overflow", unit = "1", callback = super::gauges::observe_overflow)]
    pub connections_overflow: ObservableGauge<i64>,
    /// Duration of database connection usage, from checkout to checkin, in milliseconds.
    #[metric(name = "hist_db_pool_connection_duration_ms", unit = "ms")]
    pub connection_duration_ms: Histogram<f64>,
    /// Count of database connection pool events (connect, checkout, checkin, invalidate,
    /// long_held, ...).
    #[metric(name = "count_db_pool_connection_events", unit = "1")]
    pub connection_events: Counter<u64>,
    /// Count of database connection pool errors.
    #[metric(name = "count_db_pool_connection_errors", unit = "1")]
    pub connection_errors: Counter<u64>,
    /// Number of connections currently in use.
    #[metric(name = "db_pool_in_use", unit = "1", callback = super::gauges::observe_in_use)]
    pub in_use: ObservableGauge<i64>,
    /// Number of tasks waiting for a connection.
    #[metric(name = "db_pool_waiters", unit = "1", callback = super::gauges::observe_waiters)]
    pub waiters: ObservableGauge<i64>,
    /// Share of the pool's maximum connections in use, from 0 to 1.
    #[metric(name = "db_pool_utilization_ratio", unit = "1", callback = super::gauges::observe_utilization)]
    pub utilization_ratio: ObservableGauge<f64>,
    /// Total number of connection checkouts that timed out.
    #[metric(name = "db_pool_checkout_timeout_total", unit = "1")]
    pub checkout_timeouts: Counter<u64>,
    /// Time spent waiting for a connection, in milliseconds.
    #[metric(name = "db_checkout_latency_ms", unit = "ms")]
    pub checkout_latency_ms: Histogram<f64>,
}

/// The semantic-convention connection-pool metrics, for monitors created with the switch on.
#[derive(Debug, Metrics)]
#[metrics(scope = "instrument", crate = crate, context = false)]
pub struct PoolSemconvMetrics {
    /// Connections in the pool, by state (`idle`, `used`).
    #[metric(name = "db.client.connection.count", unit = "{connection}", callback = super::gauges::observe_connection_count)]
    pub count: ObservableUpDownCounter<i64>,
    /// The most connections the pool opens.
    #[metric(name = "db.client.connection.max", unit = "{connection}", callback = super::gauges::observe_max)]
    pub max: ObservableUpDownCounter<i64>,
    /// The fewest idle connections the pool keeps.
    #[metric(name = "db.client.connection.idle.min", unit = "{connection}", callback = super::gauges::observe_idle_min)]
    pub idle_min: ObservableUpDownCounter<i64>,
    /// Requests waiting for a connection.
    #[metric(name = "db.client.connection.pending_requests", unit = "{request}", callback = super::gauges::observe_pending)]
    pub pending_requests: ObservableUpDownCounter<i64>,
    /// Connection requests that timed out.
    #[metric(name = "db.client.connection.timeouts", unit = "{timeout}")]
    pub timeouts: Counter<u64>,
    /// Time to open a connection.
    #[metric(name = "db.client.connection.create_time", unit = "s")]
    pub create_time: Histogram<f64>,
    /// Time waiting for a connection.
    #[metric(name = "db.client.connection.wait_time", unit = "s")]
    pub wait_time: Histogram<f64>,
    /// Time between checkout and checkin.
    #[metric(name = "db.client.connection.use_time", unit = "s")]
    pub use_time: Histogram<f64>,
}
