//! The cost of redaction on a value with no secret, in one run: the same struct written by
//! `serde_json` alone, by the capture path as it was before redaction (`serde_json` into a
//! byte-bounded writer that follows bracket nesting, re-created here), through the redacting
//! serializer alone, and through today's capture (`instrument::capture::json_text`: redacting
//! serializer and the secret scan inside the bounded writer).
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

/// The capture writer before redaction: a byte limit and a bracket-nesting bound, each byte
/// looked at once.
struct BoundedBefore {
    buf: Vec<u8>,
    limit: usize,
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl std::io::Write for BoundedBefore {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        for &byte in bytes {
            if self.in_string {
                match (self.escaped, byte) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'[' | b'{' | b'(' => {
                    self.depth += 1;
                    if self.depth > 64 {
                        return Err(std::io::Error::other("too deep"));
                    }
                }
                b']' | b'}' | b')' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        if self.buf.len() + bytes.len() > self.limit {
            return Err(std::io::Error::other("limit"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[inline(never)]
fn case_capture_before_redaction(value: &Agent, out: &mut Vec<u8>) {
    let mut writer = BoundedBefore {
        buf: std::mem::take(out),
        limit: 2 << 20,
        depth: 0,
        in_string: false,
        escaped: false,
    };
    writer.buf.clear();
    serde_json::to_writer(&mut writer, value).unwrap();
    let text = String::from_utf8(writer.buf.clone()).unwrap();
    black_box(text);
    *out = writer.buf;
}

#[inline(never)]
fn case_capture_json_text(value: &Agent, out: &mut Vec<u8>) {
    out.clear();
    black_box(instrument::capture::json_text(value, 2 << 20));
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
    let before = measure(case_capture_before_redaction);
    let capture = measure(case_capture_json_text);
    println!(
        "serde_json alone {plain:.1} ns, through the redacting serializer {redacted:.1} ns: {:.3}x",
        redacted / plain
    );
    println!(
        "capture before redaction {before:.1} ns, capture today {capture:.1} ns: {:.3}x",
        capture / before
    );
}
