use instrument::metric;

#[metric(histogram = "latency", bucket = [1.0])]
fn typo() {}

fn main() {}
