//! `#[must_use]` on an instrumented `async fn` still applies to the awaited value: the fn keeps
//! its `async fn` shape, and discarding what it returns is an error under `deny(unused_must_use)`.
#![deny(unused_must_use)]

use instrument::trace_method;

#[trace_method]
#[must_use]
async fn answer(question: &str) -> usize {
    question.len()
}

async fn caller() {
    answer("why").await;
}

fn main() {
    drop(caller());
}
