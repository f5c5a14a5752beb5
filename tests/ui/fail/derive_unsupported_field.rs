use instrument::Metrics;
use instrument::metrics::{Counter, Histogram};

#[derive(Metrics)]
struct AppMetrics {
    requests: Counter<u64>,
    latency: Histogram<i64>,
    label: String,
}

fn main() {}
