//! Shared helpers of the integration tests: each test records into a pipeline of its own (an
//! in-memory span and metric exporter, made the test thread's default), so the tests of a file
//! run side by side; span and metric lookups read the calling test's pipeline.

#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use instrument::{Telemetry, TelemetryGuard};
use opentelemetry::trace::Status;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{
    InMemoryMetricExporter, InMemoryMetricExporterBuilder, Temporality,
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

/// One test's pipeline and what its exporters hold.
struct Recorded {
    exporter: InMemorySpanExporter,
    metric_exporter: InMemoryMetricExporter,
    guard: TelemetryGuard,
}

thread_local! {
    /// The pipeline of the test running on this thread (a worker of its runtime included).
    static CURRENT: RefCell<Option<Arc<Recorded>>> = const { RefCell::new(None) };
    /// The default this thread holds for a runtime's pipeline (runtime worker threads).
    static WORKER_DEFAULT: RefCell<Option<instrument::DefaultGuard>> = const { RefCell::new(None) };
}

fn recorded() -> Arc<Recorded> {
    CURRENT
        .with(|current| current.borrow().clone())
        .expect("start() first")
}

/// A pipeline with in-memory span and metric exporters, made by `finish` (`build` or `install`).
fn recording(
    finish: impl FnOnce(instrument::TelemetryBuilder) -> Result<TelemetryGuard, instrument::SetupError>,
) -> Arc<Recorded> {
    let exporter = InMemorySpanExporter::default();
    let metric_exporter = InMemoryMetricExporterBuilder::new()
        .with_temporality(Temporality::Delta)
        .build();
    let builder = Telemetry::builder()
        .ignore_env()
        .service_name("instrument-tests")
        .with_simple_exporter(exporter.clone())
        .with_metric_exporter(metric_exporter.clone());
    Arc::new(Recorded {
        exporter,
        metric_exporter,
        guard: finish(builder).expect("a test pipeline builds"),
    })
}

fn build() -> Arc<Recorded> {
    recording(instrument::TelemetryBuilder::build)
}

/// Keeps the test's pipeline the thread's default; hold it for the whole test.
#[must_use = "the test records into its pipeline while this is held"]
pub struct Started {
    default: Option<instrument::DefaultGuard>,
    _not_send: Rc<()>,
}

/// Gives the calling test a fresh pipeline of its own (in-memory span and metric exporters)
/// and makes it the thread's default. Inside [`run_multi_thread`], it clears what the runtime's
/// pipeline recorded so far instead. Hold the returned guard for the whole test.
///
/// Metrics use delta temporality, so each [`metrics`] call sees only what was recorded since the
/// previous one.
pub fn start() -> Started {
    if let Some(running) = CURRENT.with(|current| current.borrow().clone()) {
        running.guard.force_flush().unwrap();
        running.exporter.reset();
        running.metric_exporter.reset();
        return Started {
            default: None,
            _not_send: Rc::new(()),
        };
    }
    let fresh = build();
    let default = fresh.guard.set_default();
    CURRENT.with(|current| *current.borrow_mut() = Some(fresh));
    Started {
        default: Some(default),
        _not_send: Rc::new(()),
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if self.default.is_some() {
            CURRENT.with(|current| current.borrow_mut().take());
        }
    }
}

/// `f`, made to run with the calling test's pipeline in force on whatever thread calls it (a
/// thread the test spawns).
pub fn in_this_pipeline<R>(f: impl FnOnce() -> R + Send) -> impl FnOnce() -> R + Send {
    let recorded = recorded();
    move || {
        let _default = recorded.guard.set_default();
        f()
    }
}

/// Holds the binary's global pipeline for one test ([`start_global`]).
pub struct StartedGlobal {
    _serial: MutexGuard<'static, ()>,
}

impl Drop for StartedGlobal {
    fn drop(&mut self) {
        CURRENT.with(|current| current.borrow_mut().take());
    }
}

/// For tests of what code using the OpenTelemetry API sees through its global providers (which
/// a thread's pipeline does not replace): one pipeline installed as the global default for the
/// whole test binary, cleared for each test; the tests that use it run one at a time.
pub fn start_global() -> StartedGlobal {
    static GLOBAL: OnceLock<Arc<Recorded>> = OnceLock::new();
    static SERIAL: Mutex<()> = Mutex::new(());
    let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let global = GLOBAL.get_or_init(|| recording(instrument::TelemetryBuilder::install));
    global.guard.force_flush().unwrap();
    global.exporter.reset();
    global.metric_exporter.reset();
    CURRENT.with(|current| *current.borrow_mut() = Some(global.clone()));
    StartedGlobal { _serial: serial }
}

/// Runs `test` on a multi-thread tokio runtime whose threads all record into one fresh
/// pipeline (the test's): what a `#[tokio::test(flavor = "multi_thread")]` does, with the
/// test's pipeline in force on every worker.
pub fn run_multi_thread<F: Future>(test: F) -> F::Output {
    let recorded = build();
    let for_workers = recorded.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            let default = for_workers.guard.set_default();
            WORKER_DEFAULT.with(|held| *held.borrow_mut() = Some(default));
            CURRENT.with(|current| *current.borrow_mut() = Some(for_workers.clone()));
        })
        .on_thread_stop(|| {
            CURRENT.with(|current| current.borrow_mut().take());
            WORKER_DEFAULT.with(|held| held.borrow_mut().take());
        })
        .build()
        .expect("a test runtime");
    let _default = recorded.guard.set_default();
    CURRENT.with(|current| *current.borrow_mut() = Some(recorded));
    let output = runtime.block_on(test);
    drop(runtime);
    CURRENT.with(|current| current.borrow_mut().take());
    output
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
    let installed = recorded();
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
    recorded().exporter.get_finished_spans().unwrap()
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
