//! Instrument sets expand without a warning (this file is compiled under `deny(warnings)`):
//! every field kind, an observable gauge named by its OpenTelemetry path (the same type as
//! `instrument::metrics::ObservableGauge`), a set without context attributes, a renamed facade.
#![deny(warnings)]

use instrument::Metrics;
use instrument::metrics::{
    AsyncInstrument, Counter, Gauge, Histogram, ObservableUpDownCounter, UpDownCounter,
};

fn observe(observer: &dyn AsyncInstrument<i64>) {
    observer.observe(1, &[]);
}

/// Every kind.
#[derive(Metrics)]
#[metrics(scope = "pass")]
pub struct Every {
    /// Requests.
    pub requests: Counter<u64>,
    /// Active requests.
    pub active: UpDownCounter<i64>,
    /// Latency.
    #[metric(unit = "ms", buckets = [1.0, 10.0])]
    pub latency: instrument::metrics::Histogram<f64>,
    /// Level.
    pub level: Gauge<f64>,
    /// Queued.
    #[metric(callback = observe)]
    pub queued: opentelemetry::metrics::ObservableGauge<i64>,
    /// Pending.
    #[metric(callback = observe)]
    pub pending: ObservableUpDownCounter<i64>,
}

/// No context attributes, and the facade renamed.
mod renamed {
    use instrument as telemetry;

    /// Jobs.
    #[derive(telemetry::Metrics)]
    #[metrics(crate = telemetry, context = false)]
    pub struct Jobs {
        /// Done.
        pub done: telemetry::metrics::Counter<u64>,
        /// Durations.
        pub durations: super::Histogram<u64>,
    }
}

fn main() {
    Every::global().requests.add(1, &[]);
    Every::global().active.add(1, &[]);
    Every::global().latency.record(1.0, &[]);
    Every::global().level.record(1.0, &[]);
    renamed::Jobs::global().done.add(1, &[]);
    renamed::Jobs::global().durations.record(1, &[]);
}
