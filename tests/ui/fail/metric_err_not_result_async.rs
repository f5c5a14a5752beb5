use instrument::metric;

#[metric(histogram = "latency", err)]
async fn plain() -> u32 {
    1
}

fn main() {}
