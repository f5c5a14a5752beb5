//! The HTTP server instruments: the original's endpoint metrics and the semantic-convention
//! `http.server.*` family.

use crate::Metrics;
use crate::metrics::{Counter, Histogram, UpDownCounter};

/// Request metrics of the instrumented HTTP endpoints.
#[derive(Debug, Metrics)]
#[metrics(scope = "instrument", crate = crate)]
pub struct EndpointMetrics {
    /// Total number of requests to the instrumented endpoints.
    #[metric(name = "count_endpoint_requests", unit = "1")]
    pub requests: Counter<u64>,
    /// End-to-end duration of requests to the instrumented endpoints, in milliseconds.
    #[metric(name = "hist_endpoint_e2e_ms", unit = "ms")]
    pub e2e_ms: Histogram<f64>,
}

/// The semantic-convention HTTP server metrics.
#[derive(Debug, Metrics)]
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
