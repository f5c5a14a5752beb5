//! The cost of redaction on a value with no secret: the same struct written by `serde_json`
//! alone and through the capture's redacting writer, in one run.
//! `bash benches/instructions.sh redaction` counts instructions.

use std::hint::black_box;
use std::time::Instant;

use serde::Serialize;

#[derive(Serialize)]
struct Agent {
    id: String,
    name: String,
    model: String,
    max_tokens: u32,
    tools: Vec<String>,
    metadata: Metadata,
}

#[derive(Serialize)]
struct Metadata {
    created_by: String,
    region: String,
    tags: Vec<String>,
}

fn agent() -> Agent {
    Agent {
        id: "agent-7".into(),
        name: "support".into(),
        model: "gpt-4o".into(),
        max_tokens: 512,
        tools: vec!["search".into(), "calculator".into()],
        metadata: Metadata {
            created_by: "user-1".into(),
            region: "eu".into(),
            tags: vec!["a".into(), "b".into()],
        },
    }
}

#[inline(never)]
fn case_plain_json(value: &Agent, out: &mut Vec<u8>) {
    out.clear();
    serde_json::to_writer(&mut *out, value).unwrap();
}

#[inline(never)]
fn case_redacted_json(value: &Agent, out: &mut Vec<u8>) {
    out.clear();
    instrument::capture::write_redacted_json(&mut *out, value).unwrap();
}

fn calls() -> u64 {
    std::env::var("OVERHEAD_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

fn measure(case: fn(&Agent, &mut Vec<u8>)) -> f64 {
    let value = agent();
    let mut out = Vec::with_capacity(512);
    let started = Instant::now();
    for _ in 0..calls() {
        case(black_box(&value), &mut out);
        black_box(&out);
    }
    started.elapsed().as_nanos() as f64 / calls() as f64
}

fn main() {
    let plain = measure(case_plain_json);
    let redacted = measure(case_redacted_json);
    println!(
        "serde_json alone {plain:.1} ns, through the redacting writer {redacted:.1} ns: {:.3}x",
        redacted / plain
    );
}
