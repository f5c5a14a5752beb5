//! The HTTP server instruments: the original's endpoint metrics and the semantic-convention
//! `http.server.*` family.

use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundCounter, BoundHistogram, BoundUpDownCounter};

use crate::metrics::bound::BoundSets;
use crate::metrics::{Counter, Histogram, UpDownCounter};
use crate::state;
use instrument_macros::Metrics;

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

/// The server instruments bound to the attribute sets of requests recorded without context
/// attributes, so such a request skips the SDK's per-call attribute lookup. One per pipeline,
/// bound to its meter provider's instruments.
#[derive(Default)]
pub(crate) struct BoundServerMetrics {
    active: BoundSets<BoundUpDownCounter<i64>>,
    durations: BoundSets<BoundHistogram<f64>>,
    endpoint: BoundSets<(BoundCounter<u64>, BoundHistogram<f64>)>,
}

impl BoundServerMetrics {
    /// The bound instruments of the pipeline in force (a fresh, empty table without one).
    pub(crate) fn global() -> Arc<Self> {
        state::with_current(|pipeline| pipeline.extension::<Self>()).unwrap_or_default()
    }

    /// Adds `delta` to `http.server.active_requests` for `(method, scheme)`, whose attributes
    /// `attributes` gives; `false` when it could not be bound.
    pub(crate) fn add_active(
        &self,
        delta: i64,
        method: &str,
        scheme: &str,
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) -> bool {
        self.active.record(
            (method, scheme),
            || {
                HttpServerMetrics::global()
                    .active_requests
                    .inner()
                    .bind(&attributes())
            },
            |bound| bound.add(delta),
        )
    }

    /// Records `seconds` into `http.server.request.duration` for the set identified by
    /// `parts`, whose attributes `attributes` gives; `false` when it could not be bound.
    pub(crate) fn record_duration(
        &self,
        seconds: f64,
        parts: (&str, &str, Option<&str>, Option<i64>),
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) -> bool {
        self.durations.record(
            parts,
            || {
                HttpServerMetrics::global()
                    .request_duration
                    .inner()
                    .bind(&attributes())
            },
            |bound| bound.record(seconds),
        )
    }

    /// Counts one request into `count_endpoint_requests` and records `ms` into
    /// `hist_endpoint_e2e_ms` for the set identified by `parts` (route, method, status), whose
    /// attributes `attributes` gives; `false` when it could not be bound.
    pub(crate) fn record_endpoint(
        &self,
        ms: f64,
        parts: (&str, &str, i64),
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) -> bool {
        self.endpoint.record(
            parts,
            || {
                let metrics = EndpointMetrics::global();
                let attributes = attributes();
                (
                    metrics.requests.inner().bind(&attributes),
                    metrics.e2e_ms.inner().bind(&attributes),
                )
            },
            |(requests, e2e_ms)| {
                requests.add(1);
                e2e_ms.record(ms);
            },
        )
    }
}
