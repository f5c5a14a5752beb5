use instrument::metric;

#[metric(histogram = "latency", buckets = [1.0, 5.0, 5.0])]
fn repeated() {}

#[metric(histogram = "latency", buckets = [])]
fn empty() {}

#[metric(histogram = "latency", buckets = [10, 2])]
fn decreasing() {}

fn main() {}
