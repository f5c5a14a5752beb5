//! Metrics: instrument sets that follow the installed meter provider, `#[metric]` timing, the
//! built-in registry, and the console summary exporter.

mod console;
mod global;
mod instruments;
mod registry;
mod timed;

pub use console::{ConsoleMetricExporter, render_metrics};
pub use global::GlobalInstruments;
pub use instruments::{Counter, FromInstrument, Gauge, Histogram, UpDownCounter};
pub use opentelemetry::KeyValue;
pub use opentelemetry::metrics::{Meter, ObservableGauge};
pub use registry::{
    DbMetrics, EndpointMetrics, HttpServerMetrics, PoolMetrics, PoolSemconvMetrics,
};
pub use timed::{FUNCTION_KEY, MODULE_KEY, MetricMeta, MetricSpec, RESULT_KEY, Timed, Timer};
