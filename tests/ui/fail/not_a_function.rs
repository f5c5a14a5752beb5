use instrument::trace_method;

#[trace_method]
struct Agent {
    name: String,
}

fn main() {}
