//! Shared helpers of the integration tests: one in-memory exporter installed for the whole test
//! binary, a lock that runs tests one at a time, and span lookups.

#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard, OnceLock};

use instrument::{Telemetry, TelemetryGuard};
use opentelemetry::trace::Status;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{
    InMemoryMetricExporter, InMemoryMetricExporterBuilder, Temporality,
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

struct Installed {
    exporter: InMemorySpanExporter,
    metric_exporter: InMemoryMetricExporter,
    guard: TelemetryGuard,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::new(());

/// Installs telemetry with in-memory span and metric exporters (once), takes the test lock and
/// clears what was recorded so far. Hold the returned guard for the whole test.
///
/// Metrics use delta temporality, so each [`metrics`] call sees only what was recorded since the
/// previous one.
pub fn start() -> MutexGuard<'static, ()> {
    let lock = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let installed = INSTALLED.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let metric_exporter = InMemoryMetricExporterBuilder::new()
            .with_temporality(Temporality::Delta)
            .build();
        let guard = Telemetry::builder()
            .ignore_env()
            .service_name("instrument-tests")
            .with_simple_exporter(exporter.clone())
            .with_metric_exporter(metric_exporter.clone())
            .install()
            .expect("telemetry installs once per test binary");
        Installed {
            exporter,
            metric_exporter,
            guard,
        }
    });
    installed.guard.force_flush().unwrap();
    installed.exporter.reset();
    installed.metric_exporter.reset();
    lock
}

/// One data point of a metric: its attributes (sorted by key) and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub attributes: Vec<(String, String)>,
    /// Counter or gauge value, or histogram count.
    pub count: f64,
    /// Histogram sum (zero for counters and gauges).
    pub sum: f64,
    /// Histogram bucket bounds.
    pub bounds: Vec<f64>,
}

impl Point {
    /// The value of attribute `key`.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One exported metric: its identity and data points.
#[derive(Debug, Clone)]
pub struct MetricInfo {
    pub name: String,
    pub unit: String,
    pub description: String,
    pub points: Vec<Point>,
}

/// Flushes metrics and returns every metric exported since the last call.
pub fn metrics() -> Vec<MetricInfo> {
    let installed = INSTALLED.get().expect("start() first");
    installed.guard.force_flush().unwrap();
    let exported = installed.metric_exporter.get_finished_metrics().unwrap();
    installed.metric_exporter.reset();
    let mut out = Vec::new();
    for metric in exported
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
    {
        let mut points = Vec::new();
        match metric.data() {
            AggregatedMetrics::F64(data) => collect_points(data, &mut points, |v| v),
            AggregatedMetrics::U64(data) => collect_points(data, &mut points, |v| v as f64),
            AggregatedMetrics::I64(data) => collect_points(data, &mut points, |v| v as f64),
        }
        out.push(MetricInfo {
            name: metric.name().to_owned(),
            unit: metric.unit().to_owned(),
            description: metric.description().to_owned(),
            points,
        });
    }
    out
}

/// The data points of metric `name` among `metrics`.
pub fn points(metrics: &[MetricInfo], name: &str) -> Vec<Point> {
    metrics
        .iter()
        .filter(|m| m.name == name)
        .flat_map(|m| m.points.clone())
        .collect()
}

fn sorted<'a>(attrs: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> Vec<(String, String)> {
    let mut v: Vec<_> = attrs
        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
        .collect();
    v.sort();
    v
}

fn collect_points<T: Copy>(data: &MetricData<T>, out: &mut Vec<Point>, to_f64: impl Fn(T) -> f64) {
    let point = |attributes, count, sum, bounds| Point {
        attributes,
        count,
        sum,
        bounds,
    };
    match data {
        MetricData::Sum(sum) => out.extend(
            sum.data_points()
                .map(|p| point(sorted(p.attributes()), to_f64(p.value()), 0.0, Vec::new())),
        ),
        MetricData::Gauge(gauge) => out.extend(
            gauge
                .data_points()
                .map(|p| point(sorted(p.attributes()), to_f64(p.value()), 0.0, Vec::new())),
        ),
        MetricData::Histogram(h) => out.extend(h.data_points().map(|p| {
            point(
                sorted(p.attributes()),
                p.count() as f64,
                to_f64(p.sum()),
                p.bounds().collect(),
            )
        })),
        MetricData::ExponentialHistogram(_) => {}
    }
}

/// Every span finished since [`start`].
pub fn spans() -> Vec<SpanData> {
    INSTALLED
        .get()
        .expect("start() first")
        .exporter
        .get_finished_spans()
        .unwrap()
}

/// Waits (up to 5 s) until at least `count` spans have finished, and returns them. A server
/// span ends when its response body has been sent, which a client may see slightly earlier.
pub fn wait_for_spans(count: usize) -> Vec<SpanData> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let all = spans();
        if all.len() >= count || std::time::Instant::now() > deadline {
            return all;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The one finished span named `name`.
pub fn span(name: &str) -> SpanData {
    let all = spans();
    let mut matching = all.iter().filter(|s| s.name == name);
    let found = matching.next().unwrap_or_else(|| {
        panic!(
            "no span named {name}; have {:?}",
            all.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    });
    assert!(matching.next().is_none(), "more than one span named {name}");
    found.clone()
}

/// The text of attribute `key` of `span`.
pub fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

/// The keys of all `parameter.*` attributes of `span`, in order.
pub fn parameter_keys(span: &SpanData) -> Vec<String> {
    span.attributes
        .iter()
        .map(|kv| kv.key.as_str().to_owned())
        .filter(|k| k.starts_with("parameter"))
        .collect()
}

/// The description of an error status, or `None` for another status.
pub fn error_description(span: &SpanData) -> Option<String> {
    match &span.status {
        Status::Error { description } => Some(description.to_string()),
        _ => None,
    }
}

/// The attributes of the first event named `name`.
pub fn event(span: &SpanData, name: &str) -> Option<Vec<(String, String)>> {
    span.events.iter().find(|e| e.name == name).map(|e| {
        e.attributes
            .iter()
            .map(|kv| (kv.key.as_str().to_owned(), kv.value.as_str().into_owned()))
            .collect()
    })
}

/// The sum of metric `name`'s points of pool `engine` (counts for histograms) that carry
/// attribute `with`, if given.
pub fn pool_sum(
    metrics: &[MetricInfo],
    name: &str,
    engine: &str,
    with: Option<(&str, &str)>,
) -> f64 {
    points(metrics, name)
        .iter()
        .filter(|p| p.attr("engine_name") == Some(engine))
        .filter(|p| with.is_none_or(|(key, value)| p.attr(key) == Some(value)))
        .map(|p| p.count)
        .sum()
}

/// How many `event`s pool `engine` counted.
pub fn pool_events(metrics: &[MetricInfo], engine: &str, event: &str) -> f64 {
    pool_sum(
        metrics,
        "count_db_pool_connection_events",
        engine,
        Some(("event", event)),
    )
}
