//! Metrics: the instrument types `#[derive(Metrics)]` sets declare, instrument sets that follow
//! the installed meter provider, `#[metric]` timing, and the console summary exporter. Each
//! integration declares its own instrument set in its module (`db`, `pool`, `http`).

pub(crate) mod bound;
mod console;
mod global;
mod instruments;
mod quantile;
mod timed;

pub use console::{ConsoleMetricExporter, render_metrics};
pub use global::{GlobalInstruments, pipeline_callback};
pub use instruments::{Counter, FromInstrument, Gauge, Histogram, UpDownCounter};
pub use opentelemetry::KeyValue;
pub use opentelemetry::metrics::{
    AsyncInstrument, Meter, ObservableGauge, ObservableUpDownCounter,
};
pub use quantile::histogram_quantile;
pub use timed::{FUNCTION_KEY, MODULE_KEY, MetricMeta, MetricSpec, RESULT_KEY, Timed, Timer, once};
