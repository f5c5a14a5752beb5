//! Parameter capture as the original `otel` package tested it, plus exact limits, ids, and
//! bounded serialization of huge values.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use instrument::capture::DEFAULT_MAX_VALUE_BYTES;
use instrument::trace_method;
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use support::{attr, parameter_keys, span, start};

#[derive(Serialize, Clone)]
struct Message {
    id: String,
    role: String,
    content: String,
}

#[derive(Serialize)]
struct AgentState {
    id: String,
    name: String,
    memory: String,
}

fn message(i: usize) -> Message {
    Message {
        id: format!("message-{i}"),
        role: "user".into(),
        content: "hello ".repeat(100),
    }
}

fn agent_state() -> AgentState {
    AgentState {
        id: "agent-123".into(),
        name: "ada".into(),
        memory: "m".repeat(100_000),
    }
}

#[trace_method]
fn step(agent_id: &str, messages: &[Message], agent_state: &AgentState) -> usize {
    agent_id.len() + messages.len() + agent_state.name.len()
}

#[trace_method]
fn store(content: &str, label: &str) -> usize {
    content.len() + label.len()
}

#[trace_method]
fn run_tool(source_code: &str, tool_name: &str) -> usize {
    source_code.len() + tool_name.len()
}

#[trace_method]
fn echo(value: &str) -> usize {
    value.len()
}

#[trace_method]
fn four_big(messages: &[Message], content: &str, memory: &str, embeddings: &Vec<f32>) -> usize {
    messages.len() + content.len() + memory.len() + embeddings.len()
}

#[trace_method(include = [messages], exclude = [note])]
fn overridden(messages: &[Message], note: &Message, request_data: &str) -> usize {
    messages.len() + note.id.len() + request_data.len()
}

#[trace_method]
fn two_values(first: &str, second: &str) -> usize {
    first.len() + second.len()
}

/// A value whose `Serialize` always fails.
struct Failing;
impl Serialize for Failing {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("cannot serialize this"))
    }
}

/// A value whose `Serialize` panics.
struct Panicking;
impl Serialize for Panicking {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serialize panicked")
    }
}

#[trace_method]
fn bad_values(failing: &Failing, panicking: &Panicking, fine: u8) -> u8 {
    let _ = (failing, panicking);
    fine
}

/// Pretends to be `total` bytes of JSON, in 1 KiB chunks, counting the bytes asked of it.
struct CountingHuge {
    total: usize,
    asked: Arc<AtomicUsize>,
}

impl Serialize for CountingHuge {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let chunk = "x".repeat(1024);
        let mut seq = serializer.serialize_seq(Some(self.total / 1024))?;
        for _ in 0..self.total / 1024 {
            self.asked.fetch_add(chunk.len(), Ordering::Relaxed);
            seq.serialize_element(&chunk)?;
        }
        seq.end()
    }
}

#[trace_method]
fn huge(payload: &CountingHuge) -> usize {
    payload.total
}

#[test]
fn messages_and_agent_state_are_excluded_with_their_ids() {
    let _t = start();
    let messages: Vec<Message> = (1..=12).map(message).collect();
    step("agent-123", &messages, &agent_state());
    let s = span("step");
    assert_eq!(attr(&s, "parameter.agent_id").as_deref(), Some("agent-123"));
    assert_eq!(
        attr(&s, "parameter.messages").as_deref(),
        Some(
            "<&[Message] (excluded, ids=[message-1,message-2,message-3,message-4,message-5] (12 total))>"
        )
    );
    assert_eq!(
        attr(&s, "parameter.agent_state").as_deref(),
        Some("<&AgentState (excluded, id=agent-123)>")
    );
}

#[test]
fn five_megabyte_content_is_excluded_to_a_short_placeholder() {
    let _t = start();
    let content = "c".repeat(5 * 1024 * 1024);
    store(&content, "doc");
    let s = span("store");
    let value = attr(&s, "parameter.content").unwrap();
    assert!(value.len() < 200, "{} chars", value.len());
    assert_eq!(value, "<&str (excluded)>");
    assert_eq!(attr(&s, "parameter.label").as_deref(), Some("doc"));
}

#[test]
fn source_code_is_excluded() {
    let _t = start();
    run_tool("def f(): pass\n".repeat(1000).as_str(), "f");
    let s = span("run_tool");
    assert_eq!(
        attr(&s, "parameter.source_code").as_deref(),
        Some("<&str (excluded)>")
    );
    assert_eq!(attr(&s, "parameter.tool_name").as_deref(), Some("f"));
}

#[test]
fn small_values_are_kept_whole() {
    let _t = start();
    echo("small value");
    assert_eq!(
        attr(&span("echo"), "parameter.value").as_deref(),
        Some("small value")
    );
}

#[test]
fn value_at_the_limit_is_kept_and_one_byte_over_is_cut_at_a_char_boundary() {
    let _t = start();
    let exact = "a".repeat(DEFAULT_MAX_VALUE_BYTES);
    echo(&exact);
    assert_eq!(
        attr(&span("echo"), "parameter.value").map(|v| v.len()),
        Some(DEFAULT_MAX_VALUE_BYTES)
    );

    let _t2 = {
        drop(_t);
        start()
    };
    // Two-byte characters, one byte over the limit: the cut must not split a character.
    let over = "é".repeat(DEFAULT_MAX_VALUE_BYTES / 2) + "z";
    assert_eq!(over.len(), DEFAULT_MAX_VALUE_BYTES + 1);
    echo(&over);
    let value = attr(&span("echo"), "parameter.value").unwrap();
    let marker = format!("... (truncated, original size: {} bytes)", over.len());
    assert!(value.ends_with(&marker), "{}", &value[value.len() - 80..]);
    assert!(value.len() <= DEFAULT_MAX_VALUE_BYTES);
    assert!(value.trim_end_matches(&marker).chars().all(|c| c == 'é'));
}

#[test]
fn over_limit_value_is_truncated_with_marker() {
    let _t = start();
    let big = "b".repeat(3 * 1024 * 1024);
    echo(&big);
    let value = attr(&span("echo"), "parameter.value").unwrap();
    assert!(value.ends_with("... (truncated, original size: 3145728 bytes)"));
    assert!(value.len() <= DEFAULT_MAX_VALUE_BYTES);
}

#[test]
fn span_total_stays_small_with_four_big_excluded_args() {
    let _t = start();
    let messages: Vec<Message> = (0..2000).map(message).collect();
    let big = "x".repeat(3 * 1024 * 1024);
    let embeddings = vec![0.5f32; 1_000_000];
    four_big(&messages, &big, &big, &embeddings);
    let s = span("four_big");
    let total: usize = s
        .attributes
        .iter()
        .filter(|kv| kv.key.as_str().starts_with("parameter"))
        .map(|kv| kv.key.as_str().len() + kv.value.as_str().len())
        .sum();
    assert!(total < 1000, "parameters take {total} bytes");
    assert_eq!(
        attr(&s, "parameter.embeddings").as_deref(),
        Some("<&Vec<f32> (excluded, 1000000 total)>")
    );
}

#[test]
fn span_total_limit_drops_the_rest_and_says_why() {
    let _t = start();
    let big = "y".repeat(DEFAULT_MAX_VALUE_BYTES); // two of these plus keys pass 4 MiB
    two_values(&big, &big);
    let s = span("two_values");
    assert_eq!(
        parameter_keys(&s),
        [
            "parameter.first",
            "parameters.truncated",
            "parameters.truncated_reason"
        ]
    );
    assert_eq!(attr(&s, "parameters.truncated").as_deref(), Some("true"));
    assert_eq!(
        attr(&s, "parameters.truncated_reason").as_deref(),
        Some("Total size exceeded 4194304 bytes")
    );
}

#[test]
fn include_takes_back_a_default_exclusion_and_request_data_is_kept() {
    let _t = start();
    let messages = vec![Message {
        id: "m1".into(),
        role: "user".into(),
        content: "hi".into(),
    }];
    overridden(&messages, &messages[0], "payload");
    let s = span("overridden");
    assert_eq!(
        attr(&s, "parameter.messages").as_deref(),
        Some(r#"[{"id":"m1","role":"user","content":"hi"}]"#)
    );
    assert_eq!(
        attr(&s, "parameter.note").as_deref(),
        Some("<&Message (excluded, id=m1)>")
    );
    assert_eq!(
        attr(&s, "parameter.request_data").as_deref(),
        Some("payload")
    );
}

#[test]
fn failing_and_panicking_serialization_is_contained() {
    let _t = start();
    let failures_before = instrument::export::instrumentation_failures();
    assert_eq!(bad_values(&Failing, &Panicking, 9), 9);
    let s = span("bad_values");
    assert_eq!(
        attr(&s, "parameter.failing").as_deref(),
        Some("<serialization failed: &Failing>")
    );
    assert_eq!(
        attr(&s, "parameter.panicking").as_deref(),
        Some("<serialization failed: &Panicking>")
    );
    assert_eq!(attr(&s, "parameter.fine").as_deref(), Some("9"));
    assert!(instrument::export::instrumentation_failures() >= failures_before + 2);
}

#[test]
fn capturing_a_hundred_megabytes_stops_near_the_limit() {
    let _t = start();
    let asked = Arc::new(AtomicUsize::new(0));
    let payload = CountingHuge {
        total: 100 * 1024 * 1024,
        asked: asked.clone(),
    };
    huge(&payload);
    let asked = asked.load(Ordering::Relaxed);
    assert!(
        asked < DEFAULT_MAX_VALUE_BYTES + 64 * 1024,
        "serialization was asked for {asked} bytes"
    );
    let value = attr(&span("huge"), "parameter.payload").unwrap();
    assert!(value.len() <= DEFAULT_MAX_VALUE_BYTES);
    assert!(
        value.contains("(truncated, original size: at least "),
        "{}",
        &value[value.len() - 80..]
    );
}

#[derive(serde::Serialize)]
struct AuthSettings {
    token: String,
    scheme: String,
}

#[derive(serde::Serialize)]
struct ModelSettings {
    model: String,
    max_tokens: u32,
    password: String,
    auth: AuthSettings,
}

#[trace_method]
fn configure(settings: &ModelSettings, headers: &std::collections::BTreeMap<&str, &str>) -> usize {
    settings.model.len() + headers.len()
}

#[test]
fn secrets_nested_in_serialized_parameters_are_redacted() {
    let _t = start();
    let settings = ModelSettings {
        model: "gpt".into(),
        max_tokens: 64,
        password: "SECRET-1".into(),
        auth: AuthSettings {
            token: "SECRET-2".into(),
            scheme: "bearer".into(),
        },
    };
    let headers =
        std::collections::BTreeMap::from([("Authorization", "SECRET-3"), ("accept", "json")]);
    configure(&settings, &headers);
    let recorded = span("configure");
    assert_eq!(
        attr(&recorded, "parameter.settings").as_deref(),
        Some(
            r#"{"model":"gpt","max_tokens":64,"password":"[redacted]","auth":{"token":"[redacted]","scheme":"bearer"}}"#
        )
    );
    assert_eq!(
        attr(&recorded, "parameter.headers").as_deref(),
        Some(r#"{"Authorization":"[redacted]","accept":"json"}"#)
    );
}
