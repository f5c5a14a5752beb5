use instrument::trace_method;

#[trace_method(name = "first", name = "second")]
fn work(x: u32) -> u32 {
    x
}

fn main() {}
