use instrument::metric;

#[metric(histogram = "9_starts_with_digit")]
fn first() {}

#[metric(counter = "has space")]
fn second() {}

fn main() {}
