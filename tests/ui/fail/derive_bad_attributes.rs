use instrument::Metrics;
use instrument::metrics::{Counter, Histogram};

#[derive(Metrics)]
#[metrics(scope = "app", prefix = "x")]
struct UnknownStructOption {
    requests: Counter<u64>,
}

#[derive(Metrics)]
struct BadFields {
    #[metric(name = "-bad")]
    requests: Counter<u64>,
    #[metric(buckets = [1.0])]
    not_a_histogram: Counter<u64>,
    #[metric(buckets = [2.0, 1.0])]
    latency: Histogram<f64>,
    #[metric(unit = "ms", color = "red")]
    unknown: Histogram<f64>,
}

fn main() {}
