use instrument::trace_method;

#[trace_method(nmae = "typo")]
fn work(x: u32) -> u32 {
    x
}

fn main() {}
