use instrument::Metrics;
use instrument::metrics::Counter;
use opentelemetry::metrics as otel;
use opentelemetry::metrics::Histogram;

// Qualified paths: refused by the derive, naming the type to use.
#[derive(Metrics)]
struct Qualified {
    requests: opentelemetry::metrics::Counter<u64>,
    latency: instrument::__private::opentelemetry::metrics::Histogram<f64>,
    active: ::opentelemetry::metrics::UpDownCounter<i64>,
    ok: Counter<u64>,
}

// Imported or aliased: the path does not show it; the type check does.
#[derive(Metrics)]
struct Imported {
    latency: Histogram<f64>,
    level: otel::Gauge<u64>,
    ok: Counter<u64>,
}

fn main() {}
