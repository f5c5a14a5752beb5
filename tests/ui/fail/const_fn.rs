use instrument::trace_method;

#[trace_method]
const fn answer() -> u32 {
    42
}

fn main() {}
