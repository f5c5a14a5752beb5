use instrument::trace_method;

#[trace_method(kind = "sever")]
fn handle() {}

fn main() {}
