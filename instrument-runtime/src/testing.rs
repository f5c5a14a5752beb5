//! Test helpers (feature `testing`): capture the spans, log lines and metric points one piece of
//! code produces inside a `#[test]`, while other tests of the same binary run beside it, and look
//! them up or render them as deterministic text for snapshot tests.
//!
//! The first capture installs telemetry for the test binary: spans go to a router that hands
//! each capture the spans of its own trace (every capture runs under a fresh root), metrics to
//! an in-memory exporter whose points are handed out by the capture id each point carries as a
//! context attribute. A test that captures must not install telemetry itself.
//!
//! ```
//! use instrument::testing::capture;
//!
//! #[instrument::trace_method]
//! fn parse(input: &str) -> usize { helper(input) }
//! #[instrument::trace_method]
//! fn helper(input: &str) -> usize { input.len() }
//!
//! let (len, captured) = capture(|| parse("hello"));
//! assert_eq!(len, 5);
//! let parse = captured.span("parse");
//! assert!(captured.is_child(captured.span("helper"), parse));
//! assert_eq!(captured.attribute(parse, "parameter.input").as_deref(), Some("hello"));
//! assert_eq!(captured.render(), "trace 1\n└─ parse\n   │  parameter.input=hello\n   └─ helper\n         parameter.input=hello\n");
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use opentelemetry::trace::{FutureExt, TraceContextExt, TraceId, Tracer as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{
    InMemoryMetricExporter, InMemoryMetricExporterBuilder, Temporality,
};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::export::TelemetryGuard;
use crate::setup::Telemetry;

/// The context attribute that marks what a capture recorded.
pub const CAPTURE_KEY: &str = "instrument.testing.capture";
/// The name of the root span each capture runs under (left out of [`Captured::spans`]).
const ROOT_NAME: &str = "instrument.testing.capture";

/// Spans by the trace of the capture they belong to.
#[derive(Debug, Default)]
struct Router {
    open: Mutex<HashMap<TraceId, Vec<SpanData>>>,
}

/// The router's exporter end.
#[derive(Debug, Clone, Copy)]
struct RouterExporter(&'static Router);

impl SpanExporter for RouterExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        if let Ok(mut open) = self.0.open.lock() {
            for span in batch {
                if let Some(spans) = open.get_mut(&span.span_context.trace_id()) {
                    spans.push(span);
                }
            }
        }
        std::future::ready(Ok(()))
    }
}

struct Installed {
    router: &'static Router,
    metrics: InMemoryMetricExporter,
    /// Metric points handed out by capture id, as flushes bring them in.
    points: Mutex<HashMap<String, Vec<MetricPoint>>>,
    guard: TelemetryGuard,
    /// The id of the next capture.
    next_capture: AtomicU64,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

fn installed() -> &'static Installed {
    INSTALLED.get_or_init(|| {
        let router: &'static Router = Box::leak(Box::default());
        let metrics = InMemoryMetricExporterBuilder::new()
            .with_temporality(Temporality::Delta)
            .build();
        // What the facade's builder registers: with the `tracing` feature, the bridge, so that
        // `tracing` events and spans in captured code are captured too.
        #[cfg(feature = "tracing")]
        crate::state::register_install_hook(crate::tracing_bridge::install);
        let guard = Telemetry::builder()
            .ignore_env()
            .service_name("instrument-testing")
            .with_simple_exporter(RouterExporter(router))
            .with_metric_exporter(metrics.clone())
            .metric_export_interval(Duration::from_secs(3600))
            .install()
            .expect("instrument::testing installs telemetry for the test binary; tests that capture must not install it themselves");
        Installed {
            router,
            metrics,
            points: Mutex::new(HashMap::new()),
            guard,
            next_capture: AtomicU64::new(1),
        }
    })
}

/// One metric data point a capture recorded: counters and gauges give `value`; histograms give
/// their `count` and `sum` (as `value`).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricPoint {
    /// The metric's name.
    pub name: String,
    /// The point's attributes, sorted by key, the capture's own left out.
    pub attributes: Vec<(String, String)>,
    /// The counter or gauge value, or the histogram's sum.
    pub value: f64,
    /// Measurements in a histogram point (1 for counters and gauges).
    pub count: u64,
}

/// One log line a capture recorded under a span: a `tracing` event (feature `tracing`) while
/// no OTLP logs endpoint is configured, as the console prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// The span it was recorded in.
    pub span: String,
    /// The severity (`INFO`, `WARN`, ...).
    pub level: String,
    /// The message.
    pub message: String,
    /// The event's other fields, in the order recorded.
    pub attributes: Vec<(String, String)>,
}

/// What one capture recorded.
#[derive(Debug)]
pub struct Captured {
    spans: Vec<SpanData>,
    points: Vec<MetricPoint>,
}

/// Runs `f` and returns what it recorded.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Captured) {
    let run = Run::start();
    let result = {
        let _attached = run.context.clone().attach();
        f()
    };
    (result, run.finish())
}

/// Runs `future` to its end and returns what it recorded (the capture's context is carried
/// across `.await`).
pub async fn capture_async<F: Future>(future: F) -> (F::Output, Captured) {
    let run = Run::start();
    let result = future.with_context(run.context.clone()).await;
    (result, run.finish())
}

/// One capture in progress.
struct Run {
    id: String,
    trace_id: TraceId,
    context: Context,
}

impl Run {
    fn start() -> Self {
        let installed = installed();
        let id = installed
            .next_capture
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        let tracer = opentelemetry::global::tracer("instrument.testing");
        let root = tracer.start_with_context(ROOT_NAME, &Context::new());
        let context = Context::new().with_span(root);
        let trace_id = context.span().span_context().trace_id();
        if let Ok(mut open) = installed.router.open.lock() {
            open.insert(trace_id, Vec::new());
        }
        let context =
            crate::context::with_scope(&context, [KeyValue::new(CAPTURE_KEY, id.clone())]);
        Self {
            id,
            trace_id,
            context,
        }
    }

    fn finish(self) -> Captured {
        let installed = installed();
        self.context.span().end();
        let _ = installed.guard.force_flush();
        let spans = installed
            .router
            .open
            .lock()
            .ok()
            .and_then(|mut open| open.remove(&self.trace_id))
            .unwrap_or_default()
            .into_iter()
            .filter(|span| span.name != ROOT_NAME)
            .map(without_capture_key)
            .collect();
        let points = take_points(installed, &self.id);
        Captured { spans, points }
    }
}

/// `span` without the capture's context attribute.
fn without_capture_key(mut span: SpanData) -> SpanData {
    span.attributes.retain(|kv| kv.key.as_str() != CAPTURE_KEY);
    span
}

/// Sorts the points exported so far to their captures and takes those of capture `id`.
fn take_points(installed: &Installed, id: &str) -> Vec<MetricPoint> {
    // The store's lock is held while the exporter is read and reset, so two captures finishing
    // at once never both sort the same export.
    let Ok(mut store) = installed.points.lock() else {
        return Vec::new();
    };
    let exported = installed.metrics.get_finished_metrics().unwrap_or_default();
    installed.metrics.reset();
    for metric in exported
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
    {
        let mut found = Vec::new();
        match metric.data() {
            AggregatedMetrics::F64(data) => points_of(data, &mut found, |v| v),
            AggregatedMetrics::U64(data) => points_of(data, &mut found, |v| v as f64),
            AggregatedMetrics::I64(data) => points_of(data, &mut found, |v| v as f64),
        }
        for (owner, mut point) in found {
            point.name = metric.name().to_owned();
            store.entry(owner).or_default().push(point);
        }
    }
    store.remove(id).unwrap_or_default()
}

/// The points of `data` that carry a capture id, with that id.
fn points_of<T: Copy>(
    data: &MetricData<T>,
    out: &mut Vec<(String, MetricPoint)>,
    to_f64: impl Fn(T) -> f64,
) {
    let mut push = |attributes: Vec<&KeyValue>, value: f64, count: u64| {
        let owner = attributes
            .iter()
            .find(|kv| kv.key.as_str() == CAPTURE_KEY)
            .map(|kv| kv.value.to_string());
        let Some(owner) = owner else { return };
        let mut attributes: Vec<(String, String)> = attributes
            .into_iter()
            .filter(|kv| kv.key.as_str() != CAPTURE_KEY)
            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect();
        attributes.sort();
        out.push((
            owner,
            MetricPoint {
                name: String::new(),
                attributes,
                value,
                count,
            },
        ));
    };
    match data {
        MetricData::Sum(sum) => {
            for p in sum.data_points() {
                push(p.attributes().collect(), to_f64(p.value()), 1);
            }
        }
        MetricData::Gauge(gauge) => {
            for p in gauge.data_points() {
                push(p.attributes().collect(), to_f64(p.value()), 1);
            }
        }
        MetricData::Histogram(histogram) => {
            for p in histogram.data_points() {
                push(p.attributes().collect(), to_f64(p.sum()), p.count());
            }
        }
        MetricData::ExponentialHistogram(_) => {}
    }
}

impl Captured {
    /// Every span the capture recorded, in the order they ended.
    pub fn spans(&self) -> &[SpanData] {
        &self.spans
    }

    /// The spans named `name`.
    pub fn spans_named(&self, name: &str) -> Vec<&SpanData> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }

    /// The one span named `name`; panics, listing the names recorded, when there is none or more
    /// than one.
    pub fn span(&self, name: &str) -> &SpanData {
        match self.spans_named(name).as_slice() {
            [span] => span,
            found => panic!(
                "{} spans named {name:?}; recorded: {:?}",
                found.len(),
                self.spans
                    .iter()
                    .map(|s| s.name.as_ref())
                    .collect::<Vec<_>>()
            ),
        }
    }

    /// Whether `child` is a direct child of `parent`.
    pub fn is_child(&self, child: &SpanData, parent: &SpanData) -> bool {
        child.parent_span_id == parent.span_context.span_id()
    }

    /// The direct children of `parent`, in the order they started.
    pub fn children(&self, parent: &SpanData) -> Vec<&SpanData> {
        let mut children: Vec<&SpanData> = self
            .spans
            .iter()
            .filter(|s| self.is_child(s, parent))
            .collect();
        children.sort_by_key(|s| s.start_time);
        children
    }

    /// The text of attribute `key` of `span`.
    pub fn attribute(&self, span: &SpanData, key: &str) -> Option<String> {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| match &kv.value {
                Value::String(s) => s.as_str().to_owned(),
                other => other.to_string(),
            })
    }

    /// The log lines the capture recorded, span by span in the order the spans ended.
    pub fn logs(&self) -> Vec<LogLine> {
        use crate::console::names::{LOG_EVENT, LOG_LEVEL_KEY, LOG_MESSAGE_KEY};
        let text = |value: &Value| match value {
            Value::String(s) => s.as_str().to_owned(),
            other => other.to_string(),
        };
        self.spans
            .iter()
            .flat_map(|span| span.events.iter().map(move |event| (span, event)))
            .filter(|(_, event)| event.name == LOG_EVENT)
            .map(|(span, event)| {
                let field = |key: &str| {
                    event
                        .attributes
                        .iter()
                        .find(|kv| kv.key.as_str() == key)
                        .map(|kv| text(&kv.value))
                        .unwrap_or_default()
                };
                LogLine {
                    span: span.name.to_string(),
                    level: field(LOG_LEVEL_KEY),
                    message: field(LOG_MESSAGE_KEY),
                    attributes: event
                        .attributes
                        .iter()
                        .filter(|kv| {
                            !matches!(kv.key.as_str(), LOG_LEVEL_KEY | LOG_MESSAGE_KEY)
                                && !kv.key.as_str().starts_with("instrument.")
                        })
                        .map(|kv| (kv.key.to_string(), text(&kv.value)))
                        .collect(),
                }
            })
            .collect()
    }

    /// The metric points named `name` the capture recorded.
    pub fn metric_points(&self, name: &str) -> Vec<&MetricPoint> {
        self.points.iter().filter(|p| p.name == name).collect()
    }

    /// The spans as the console tree, with ids and times left out so that the text is the same
    /// on every run (for snapshot tests).
    pub fn render(&self) -> String {
        crate::console::render_normalized(&self.spans)
    }
}
