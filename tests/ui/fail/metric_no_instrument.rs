use instrument::metric;

#[metric(unit = "ms")]
fn nothing_named() {}

fn main() {}
