//! The built-in instruments, declared with `#[derive(Metrics)]` under the original `otel`
//! package's names, units and descriptions: endpoint metrics for the HTTP layer and pool
//! metrics for the connection-pool monitor.

use opentelemetry::metrics::{Counter, Gauge, Histogram, UpDownCounter};

use crate::Metrics;

/// Request metrics of the instrumented HTTP endpoints.
#[derive(Metrics)]
#[metrics(scope = "instrument", crate = crate)]
pub struct EndpointMetrics {
    /// Total number of requests to the instrumented endpoints.
    #[metric(name = "count_endpoint_requests", unit = "1")]
    pub requests: Counter<u64>,
    /// End-to-end duration of requests to the instrumented endpoints, in milliseconds.
    #[metric(name = "hist_endpoint_e2e_ms", unit = "ms")]
    pub e2e_ms: Histogram<f64>,
}

/// Connection-pool metrics.
#[derive(Metrics)]
#[metrics(scope = "instrument", crate = crate)]
pub struct PoolMetrics {
    /// Total number of connections in the database pool.
    #[metric(name = "gauge_db_pool_connections_total", unit = "1")]
    pub connections_total: Gauge<i64>,
    /// Number of connections currently checked out from the pool.
    #[metric(name = "gauge_db_pool_connections_checked_out", unit = "1")]
    pub connections_checked_out: Gauge<i64>,
    /// Number of available connections in the pool.
    #[metric(name = "gauge_db_pool_connections_available", unit = "1")]
    pub connections_available: Gauge<i64>,
    /// Number of overflow connections in the pool.
    #[metric(name = "gauge_db_pool_connections_overflow", unit = "1")]
    pub connections_overflow: Gauge<i64>,
    /// Duration of database connection usage, from checkout to checkin, in milliseconds.
    #[metric(name = "hist_db_pool_connection_duration_ms", unit = "ms")]
    pub connection_duration_ms: Histogram<f64>,
    /// Count of database connection pool events (connect, checkout, checkin, invalidate, ...).
    #[metric(name = "count_db_pool_connection_events", unit = "1")]
    pub connection_events: Counter<u64>,
    /// Count of database connection pool errors.
    #[metric(name = "count_db_pool_connection_errors", unit = "1")]
    pub connection_errors: Counter<u64>,
    /// Number of connections currently in use.
    #[metric(name = "db_pool_in_use", unit = "1")]
    pub in_use: Gauge<i64>,
    /// Number of tasks waiting for a connection.
    #[metric(name = "db_pool_waiters", unit = "1")]
    pub waiters: Gauge<i64>,
    /// Share of the pool's connections in use, from 0 to 1.
    #[metric(name = "db_pool_utilization_ratio", unit = "1")]
    pub utilization_ratio: Gauge<f64>,
    /// Total number of connection checkouts that timed out.
    #[metric(name = "db_pool_checkout_timeout_total", unit = "1")]
    pub checkout_timeouts: Counter<u64>,
    /// Time spent waiting for a connection, in milliseconds.
    #[metric(name = "db_checkout_latency_ms", unit = "ms")]
    pub checkout_latency_ms: Histogram<f64>,
}

/// The semantic-convention HTTP server metrics.
#[derive(Metrics)]
#[metrics(scope = "instrument", crate = crate)]
pub struct HttpServerMetrics {
    /// Duration of HTTP server requests.
    #[metric(
        name = "http.server.request.duration",
        unit = "s",
        buckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
    )]
    pub request_duration: Histogram<f64>,
    /// Number of active HTTP server requests.
    #[metric(name = "http.server.active_requests", unit = "{request}")]
    pub active_requests: UpDownCounter<i64>,
}

/// Database client metrics.
#[derive(Metrics)]
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
    #[metric(name = "db.client.query.repeated", unit = "{report}")]
    pub repeated_queries: Counter<u64>,
    /// Synchronous queries made on an async runtime's worker thread.
    #[metric(name = "db.client.operation.sync_in_async", unit = "{operation}")]
    pub sync_in_async: Counter<u64>,
}
