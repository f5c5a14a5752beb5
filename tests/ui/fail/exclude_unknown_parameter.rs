use instrument::trace_method;

#[trace_method(exclude = [messages, mesages])]
fn step(agent_id: &str, messages: &[String]) -> usize {
    agent_id.len() + messages.len()
}

fn main() {}
