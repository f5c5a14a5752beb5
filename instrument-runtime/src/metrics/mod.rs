//! Metrics: instrument sets that follow the installed meter provider, `#[metric]` timing, the
//! built-in registry, and the console summary exporter.

mod console;
mod global;
mod registry;
mod timed;

pub use console::{ConsoleMetricExporter, render_metrics};
pub use global::GlobalInstruments;
pub use registry::{
    DbMetrics, EndpointMetrics, HttpServerMetrics, PoolMetrics, PoolSemconvMetrics,
};
pub use timed::{FUNCTION_KEY, MODULE_KEY, MetricMeta, MetricSpec, RESULT_KEY, Timed, Timer};

/// Compiles only when given a `Result`: what `#[metric(err)]` asserts of the return value.
pub fn assert_returns_result<T, E>(_returned: &Result<T, E>) {}
