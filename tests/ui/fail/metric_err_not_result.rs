use instrument::metric;

#[metric(histogram = "latency", err)]
fn plain() -> u32 {
    1
}

fn main() {}
