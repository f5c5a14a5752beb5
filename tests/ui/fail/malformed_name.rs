use instrument::trace_method;

#[trace_method(name = 42)]
fn work() {}

#[trace_method(name = "")]
fn empty() {}

#[trace_method(name = "line\nbreak")]
fn control() {}

fn main() {}
