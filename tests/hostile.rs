//! Hostile inputs into `#[trace_method]` and `#[metric]` functions and the span helpers: none may
//! crash the host or grow a span past its limits (2 MiB per value, 4 MiB of parameters per span,
//! nesting depth 64, 128 attributes per helper call).

mod support;

use std::ffi::OsString;
use std::fmt;

use instrument::capture::{MAX_ATTRIBUTES_PER_CALL, MAX_KEY_BYTES};
use instrument::{metric, set_span_attributes, trace_method};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Serialize, ser};
use support::{attr, metrics, points, span, start};

const MIB: usize = 1 << 20;

fn span_bytes(span: &opentelemetry_sdk::trace::SpanData) -> usize {
    span.attributes
        .iter()
        .map(|kv| kv.key.as_str().len() + kv.value.as_str().len())
        .sum()
}

#[trace_method]
#[metric(histogram = "hostile_duration_ms")]
fn swallow(text: &str) -> usize {
    text.len()
}

#[test]
fn a_100_megabyte_string_is_cut_to_the_value_limit() {
    let _t = start();
    let huge = "x".repeat(100 * MIB);
    assert_eq!(swallow(&huge), 100 * MIB);
    let recorded = attr(&span("swallow"), "parameter.text").unwrap();
    assert!(recorded.len() <= 2 * MIB, "{} bytes", recorded.len());
    assert!(recorded.ends_with("... (truncated, original size: 104857600 bytes)"));
    assert!(span_bytes(&span("swallow")) <= 4 * MIB + 1024);
    let all = metrics();
    assert_eq!(points(&all, "hostile_duration_ms")[0].count, 1.0);
}

#[derive(Serialize)]
struct Envelope {
    body: String,
}

#[trace_method]
fn nested_huge(envelope: &Envelope) -> usize {
    envelope.body.len()
}

#[test]
fn a_100_megabyte_string_inside_a_struct_is_cut_too() {
    let _t = start();
    let envelope = Envelope {
        body: "y".repeat(100 * MIB),
    };
    nested_huge(&envelope);
    let recorded = attr(&span("nested_huge"), "parameter.envelope").unwrap();
    assert!(recorded.len() <= 2 * MIB);
    assert!(recorded.starts_with("{\"body\":\"yyy"));
}

struct PanicsInDebug;

impl fmt::Debug for PanicsInDebug {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug of a hostile value")
    }
}

struct PanicsInSerialize;

impl Serialize for PanicsInSerialize {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("Serialize of a hostile value")
    }
}

struct FailsInSerialize;

impl Serialize for FailsInSerialize {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(ser::Error::custom("refusing to serialize"))
    }
}

#[trace_method]
#[metric(histogram = "hostile_failing_ms")]
fn failing_values(debug: &PanicsInDebug, json: &PanicsInSerialize, error: &FailsInSerialize) -> u8 {
    let _ = (debug, json, error);
    7
}

#[test]
fn panicking_and_failing_impls_are_contained() {
    let _t = start();
    let failures = instrument::export::instrumentation_failures();
    assert_eq!(
        failing_values(&PanicsInDebug, &PanicsInSerialize, &FailsInSerialize),
        7
    );
    let recorded = span("failing_values");
    assert_eq!(
        attr(&recorded, "parameter.debug").as_deref(),
        Some("<serialization failed: &PanicsInDebug>")
    );
    assert_eq!(
        attr(&recorded, "parameter.json").as_deref(),
        Some("<serialization failed: &PanicsInSerialize>")
    );
    assert_eq!(
        attr(&recorded, "parameter.error").as_deref(),
        Some("<serialization failed: &FailsInSerialize>")
    );
    assert_eq!(instrument::export::instrumentation_failures(), failures + 3);
}

/// Serializes as a list holding itself: without a depth bound, serialization never ends.
struct EndlessJson;

impl Serialize for EndlessJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(1))?;
        seq.serialize_element(self)?;
        seq.end()
    }
}

/// Formats as a list holding itself.
struct EndlessDebug;

impl fmt::Debug for EndlessDebug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entry(self).finish()
    }
}

#[trace_method]
fn endless(json: &EndlessJson, debug: &EndlessDebug) -> u8 {
    let _ = (json, debug);
    1
}

#[test]
fn values_that_recurse_without_end_are_cut_at_depth_64() {
    let _t = start();
    // A small stack: the bound must hold long before the recursion could overflow it.
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(support::in_this_pipeline(|| {
            endless(&EndlessJson, &EndlessDebug)
        }))
        .unwrap()
        .join()
        .unwrap();
    let recorded = span("endless");
    for key in ["parameter.json", "parameter.debug"] {
        let text = attr(&recorded, key).unwrap();
        assert!(text.starts_with(&"[".repeat(64)), "{key}: {text}");
        assert!(
            text.ends_with("... (truncated, nested deeper than 64)"),
            "{key}: {text}"
        );
    }
}

#[trace_method]
fn raw_inputs(path: &OsString, bytes: &[u8], text: &str) -> usize {
    path.len() + bytes.len() + text.len()
}

#[test]
fn invalid_utf8_and_control_characters_are_recorded_as_valid_text() {
    let _t = start();
    use std::os::unix::ffi::OsStringExt;
    let path = OsString::from_vec(vec![b'a', 0xff, 0xfe, b'z']);
    let bytes = [0xc3, 0x28, 0xa0, 0xa1];
    let control = "bell\u{7} escape\u{1b}[31m nul\u{0} newline\n tab\t";
    raw_inputs(&path, &bytes, control);
    let recorded = span("raw_inputs");
    // serde writes an `OsString` as its bytes (`{"Unix":[97,255,254,122]}`).
    let path_text = attr(&recorded, "parameter.path").unwrap();
    assert!(path_text.contains("97,255,254,122"), "{path_text}");
    assert_eq!(
        attr(&recorded, "parameter.bytes").as_deref(),
        Some("[195,40,160,161]")
    );
    assert_eq!(attr(&recorded, "parameter.text").as_deref(), Some(control));
}

#[trace_method]
fn annotated(count: usize) -> usize {
    let many = (0..count).map(|i| (format!("extra.{i}"), "v".repeat(64 * 1024)));
    set_span_attributes(many);
    set_span_attributes([("", "empty key"), ("", "")]);
    set_span_attributes([("k".repeat(10_000), "huge key")]);
    count
}

#[test]
fn ten_thousand_attributes_and_odd_names_stay_within_the_limits() {
    let _t = start();
    annotated(10_000);
    let recorded = span("annotated");
    let extras = recorded
        .attributes
        .iter()
        .filter(|kv| kv.key.as_str().starts_with("extra."))
        .count();
    assert!(extras <= MAX_ATTRIBUTES_PER_CALL, "{extras} attributes");
    assert!(extras >= 32, "as many as fit in 4 MiB are kept: {extras}");
    assert!(span_bytes(&recorded) <= 4 * MIB + 64 * 1024);
    assert!(
        recorded
            .attributes
            .iter()
            .all(|kv| !kv.key.as_str().is_empty())
    );
    let huge_key = recorded
        .attributes
        .iter()
        .find(|kv| kv.value.as_str() == "huge key")
        .expect("a huge key is cut, not dropped");
    assert_eq!(huge_key.key.as_str().len(), MAX_KEY_BYTES);
}
