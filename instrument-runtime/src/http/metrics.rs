//! The HTTP server instruments: the original's endpoint metrics and the semantic-convention
//! `http.server.*` family.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, RwLock};

use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundHistogram, BoundUpDownCounter};

use crate::Metrics;
use crate::metrics::{Counter, GlobalInstruments, Histogram, UpDownCounter};
use crate::setup::SCOPE_NAME;

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
/// attributes, so such a request skips the SDK's per-call attribute lookup: the set is found by a
/// hash of its parts (method, scheme, route, status) under a read lock. At most
/// [`MAX_BOUND_SETS`] sets per instrument are bound; past that, requests take the per-call path.
/// Made again with the instruments whenever the meter provider changes.
pub(crate) struct BoundServerMetrics {
    seed: foldhash::fast::RandomState,
    active: RwLock<HashMap<u64, BoundUpDownCounter<i64>>>,
    durations: RwLock<HashMap<u64, BoundHistogram<f64>>>,
}

/// Attribute sets bound per instrument at most.
pub(crate) const MAX_BOUND_SETS: usize = 1_024;

static BOUND: GlobalInstruments<BoundServerMetrics> = GlobalInstruments::new();

/// Runs `record` on the instrument bound for `key` (binding it with `bind` the first time);
/// `false` when the table is full.
fn with_bound<B>(
    table: &RwLock<HashMap<u64, B>>,
    key: u64,
    bind: impl FnOnce() -> B,
    record: impl FnOnce(&B),
) -> bool {
    if let Some(bound) = table.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        record(bound);
        return true;
    }
    let mut table = table.write().unwrap_or_else(|e| e.into_inner());
    if table.len() >= MAX_BOUND_SETS && !table.contains_key(&key) {
        return false;
    }
    record(table.entry(key).or_insert_with(bind));
    true
}

impl BoundServerMetrics {
    /// The bound instruments of the provider in force.
    pub(crate) fn global() -> Arc<Self> {
        BOUND.get(SCOPE_NAME, |_| Self {
            seed: foldhash::fast::RandomState::default(),
            active: RwLock::new(HashMap::new()),
            durations: RwLock::new(HashMap::new()),
        })
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
        let key = self.seed.hash_one((method, scheme));
        with_bound(
            &self.active,
            key,
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
        let key = self.seed.hash_one(parts);
        with_bound(
            &self.durations,
            key,
            || {
                HttpServerMetrics::global()
                    .request_duration
                    .inner()
                    .bind(&attributes())
            },
            |bound| bound.record(seconds),
        )
    }
}
