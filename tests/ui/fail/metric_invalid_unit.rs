use instrument::metric;

#[metric(histogram = "latency", unit = "µs")]
fn first() {}

fn main() {}
