use instrument::trace_method;

#[trace_method(exclude = [messages], include = [messages])]
fn step(messages: &[String]) -> usize {
    messages.len()
}

#[trace_method(skip_all, exclude = [messages])]
fn other(messages: &[String]) -> usize {
    messages.len()
}

fn main() {}
