use instrument::trace_method;

#[trace_method(include = [content])]
fn store(body: &str) -> usize {
    body.len()
}

fn main() {}
