//! W3C Trace Context (`traceparent`, `tracestate`), parsed exactly as the recommendation's
//! grammar says (§3.2–3.3, Level 1, with Level 2's random flag).
//!
//! The SDK's `TraceContextPropagator` is not used: it parses fields with `from_str_radix`, so it
//! accepts wrong lengths and upper case, and it reads only the first of repeated headers.
//!
//! - `traceparent`: version, trace id, parent id and flags of exactly 2, 32, 16 and 2 lowercase
//!   hex digits; version `ff` is invalid; version `00` is exactly 55 characters; a higher version
//!   is read by the version-00 rules on its first 55 characters, followed by nothing or `-`;
//!   all-zero ids are invalid; two `traceparent` headers are invalid. Of the flags, `sampled`
//!   (bit 0) and `random` (bit 1) are kept.
//! - `tracestate`: the members of every `tracestate` header, in order; a member is
//!   `key=value` with a simple key (`lcalpha 0*255(lcalpha / digit / _ - * /)`) or a vendor key
//!   (`tenant@system`), and a value of 1 to 256 printable characters without `,` or `=` that
//!   does not end in a space. Invalid members and repeated keys are dropped without
//!   invalidating `traceparent`; at most 32 members are kept. Without a valid `traceparent`,
//!   `tracestate` is ignored.

use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

/// Header name of the parent.
pub(crate) const TRACEPARENT: &str = "traceparent";
/// Header name of the vendor state.
pub(crate) const TRACESTATE: &str = "tracestate";
/// Most `tracestate` members kept.
pub(crate) const MAX_TRACESTATE_MEMBERS: usize = 32;
/// The flags this implementation understands: sampled and random.
const KNOWN_FLAGS: u8 = 0b11;

/// The header names, for `fields()`.
static FIELDS: LazyLock<[String; 2]> =
    LazyLock::new(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]);

/// The strict W3C Trace Context propagator.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StrictTraceContext;

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The span context a `traceparent` value names, if it is valid.
pub(crate) fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    let value = value.trim_matches([' ', '\t']);
    let version = value.get(..2)?;
    if !is_lower_hex(version) || version == "ff" || value.get(2..3)? != "-" {
        return None;
    }
    let fixed = value.get(..55)?;
    match (version, value.len()) {
        ("00", 55) => {}
        ("00", _) => return None,
        (_, 55) => {}
        (_, _) if value.as_bytes()[55] == b'-' => {}
        _ => return None,
    }
    let mut fields = fixed.split('-');
    let (_, trace_id, parent_id, flags) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    if trace_id.len() != 32 || parent_id.len() != 16 || flags.len() != 2 {
        return None;
    }
    if !is_lower_hex(trace_id) || !is_lower_hex(parent_id) || !is_lower_hex(flags) {
        return None;
    }
    let trace_id = TraceId::from_hex(trace_id).ok()?;
    let span_id = SpanId::from_hex(parent_id).ok()?;
    if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
        return None;
    }
    let flags = u8::from_str_radix(flags, 16).ok()? & KNOWN_FLAGS;
    Some((trace_id, span_id, TraceFlags::new(flags)))
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'*' | b'/')
}

/// Whether `key` is a `tracestate` key: simple, or `tenant@system`.
pub(crate) fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    match key.split_once('@') {
        None => {
            !bytes.is_empty()
                && bytes.len() <= 256
                && bytes[0].is_ascii_lowercase()
                && bytes.iter().all(|b| is_key_char(*b))
        }
        Some((tenant, system)) => {
            let (t, s) = (tenant.as_bytes(), system.as_bytes());
            !t.is_empty()
                && t.len() <= 241
                && (t[0].is_ascii_lowercase() || t[0].is_ascii_digit())
                && t.iter().all(|b| is_key_char(*b))
                && !s.is_empty()
                && s.len() <= 14
                && s[0].is_ascii_lowercase()
                && s.iter().all(|b| is_key_char(*b))
        }
    }
}

/// Whether `value` is a `tracestate` value.
pub(crate) fn is_valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 256
        && bytes.last() != Some(&b' ')
        && bytes
            .iter()
            .all(|b| matches!(b, 0x20..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e))
}

/// The valid members of the `tracestate` header values, combined in order: invalid members and
/// repeated keys dropped, at most [`MAX_TRACESTATE_MEMBERS`] kept.
pub(crate) fn parse_tracestate<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, String)> {
    let mut members: Vec<(String, String)> = Vec::new();
    for member in values.into_iter().flat_map(|v| v.split(',')) {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        let Some((key, value)) = member.split_once('=') else {
            continue;
        };
        if !is_valid_key(key) || !is_valid_value(value) || members.iter().any(|(k, _)| k == key) {
            continue;
        }
        members.push((key.to_owned(), value.to_owned()));
        if members.len() == MAX_TRACESTATE_MEMBERS {
            break;
        }
    }
    members
}

/// The one `traceparent` value among `values`: two are as invalid as a malformed one.
fn single(values: Option<Vec<&str>>) -> Option<&str> {
    match values.as_deref() {
        Some([one]) => Some(one),
        _ => None,
    }
}

impl TextMapPropagator for StrictTraceContext {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        if !span_context.is_valid() {
            return;
        }
        let flags = span_context.trace_flags().to_u8() & KNOWN_FLAGS;
        injector.set(
            TRACEPARENT,
            format!(
                "00-{}-{}-{flags:02x}",
                span_context.trace_id(),
                span_context.span_id()
            ),
        );
        let state = span_context.trace_state().header();
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some((trace_id, span_id, flags)) =
            single(extractor.get_all(TRACEPARENT)).and_then(parse_traceparent)
        else {
            return cx.clone();
        };
        let members = parse_tracestate(extractor.get_all(TRACESTATE).unwrap_or_default());
        let state = TraceState::from_key_value(members).unwrap_or_default();
        let remote = SpanContext::new(trace_id, span_id, flags, true, state);
        cx.with_remote_span_context(remote)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(FIELDS.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::super::{HeaderExtractor, HeaderInjector};
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT: &str = "00f067aa0ba902b7";

    fn valid(flags: &str) -> String {
        format!("00-{TRACE}-{PARENT}-{flags}")
    }

    /// Extracts from the given `traceparent` and `tracestate` header values; returns what a
    /// re-injection writes (`traceparent`, `tracestate`), or `None` for a new trace.
    fn round_trip(parents: &[&str], states: &[&str]) -> Option<(String, Option<String>)> {
        let mut headers = HeaderMap::new();
        for value in parents {
            headers.append(TRACEPARENT, HeaderValue::from_str(value).unwrap());
        }
        for value in states {
            headers.append(TRACESTATE, HeaderValue::from_str(value).unwrap());
        }
        let cx =
            StrictTraceContext.extract_with_context(&Context::new(), &HeaderExtractor(&headers));
        let mut out = HeaderMap::new();
        StrictTraceContext.inject_context(&cx, &mut HeaderInjector(&mut out));
        let text = |name: &str| out.get(name).map(|v| v.to_str().unwrap().to_owned());
        text(TRACEPARENT).map(|parent| (parent, text(TRACESTATE)))
    }

    #[test]
    fn traceparent_cases() {
        let long_parent = format!("00-{TRACE}-{PARENT}0-01");
        let cases: Vec<(&str, Vec<String>, Option<String>)> = vec![
            (
                "the spec's example, sampled",
                vec![valid("01")],
                Some(valid("01")),
            ),
            ("not sampled", vec![valid("00")], Some(valid("00"))),
            (
                "random flag (Level 2) is kept",
                vec![valid("02")],
                Some(valid("02")),
            ),
            ("sampled and random", vec![valid("03")], Some(valid("03"))),
            (
                "unknown flags are dropped",
                vec![valid("ff")],
                Some(valid("03")),
            ),
            (
                "unknown flag bits only",
                vec![valid("08")],
                Some(valid("00")),
            ),
            (
                "15-digit parent id",
                vec![format!("00-{TRACE}-00f067aa0ba902b-01")],
                None,
            ),
            ("17-digit parent id", vec![long_parent], None),
            (
                "31-digit trace id",
                vec![format!("00-{}-{PARENT}-01", &TRACE[1..])],
                None,
            ),
            (
                "33-digit trace id",
                vec![format!("00-{TRACE}0-{PARENT}-01")],
                None,
            ),
            (
                "3-digit flags",
                vec![format!("00-{TRACE}-{PARENT}-001")],
                None,
            ),
            (
                "1-digit flags",
                vec![format!("00-{TRACE}-{PARENT}-1")],
                None,
            ),
            (
                "0-digit version",
                vec![format!("-{TRACE}-{PARENT}-01")],
                None,
            ),
            (
                "1-digit version",
                vec![format!("0-{TRACE}-{PARENT}-01")],
                None,
            ),
            (
                "3-digit version",
                vec![format!("000-{TRACE}-{PARENT}-01")],
                None,
            ),
            (
                "4-digit version",
                vec![format!("0000-{TRACE}-{PARENT}-01")],
                None,
            ),
            ("version ff", vec![format!("ff-{TRACE}-{PARENT}-01")], None),
            (
                "upper-case version",
                vec![format!("0A-{TRACE}-{PARENT}-01")],
                None,
            ),
            (
                "higher version, exact length",
                vec![format!("cc-{TRACE}-{PARENT}-01")],
                Some(valid("01")),
            ),
            (
                "higher version with more fields",
                vec![format!(
                    "cc-{TRACE}-{PARENT}-01-what-the-future-will-be-like"
                )],
                Some(valid("01")),
            ),
            (
                "higher version, no dash after flags",
                vec![format!("cc-{TRACE}-{PARENT}-01x")],
                None,
            ),
            (
                "version 00 with more fields",
                vec![format!("00-{TRACE}-{PARENT}-01-extra")],
                None,
            ),
            (
                "upper-case trace id",
                vec![format!("00-{}-{PARENT}-01", TRACE.to_uppercase())],
                None,
            ),
            (
                "upper-case parent id",
                vec![format!("00-{TRACE}-{}-01", PARENT.to_uppercase())],
                None,
            ),
            (
                "upper-case flags",
                vec![format!("00-{TRACE}-{PARENT}-0A")],
                None,
            ),
            (
                "all-zero trace id",
                vec![format!("00-{}-{PARENT}-01", "0".repeat(32))],
                None,
            ),
            (
                "all-zero parent id",
                vec![format!("00-{TRACE}-{}-01", "0".repeat(16))],
                None,
            ),
            (
                "non-hex trace id",
                vec![format!("00-{}g-{PARENT}-01", &TRACE[1..])],
                None,
            ),
            (
                "wrong separator",
                vec![format!("00_{TRACE}_{PARENT}_01")],
                None,
            ),
            (
                "surrounding whitespace",
                vec![format!(" \t{} \t", valid("01"))],
                Some(valid("01")),
            ),
            ("empty value", vec![String::new()], None),
            (
                "two valid traceparent headers",
                vec![valid("01"), valid("00")],
                None,
            ),
            (
                "a valid and an invalid traceparent",
                vec![valid("01"), "garbage".to_owned()],
                None,
            ),
        ];
        for (name, parents, expected) in cases {
            let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
            let got = round_trip(&parents, &[]).map(|(parent, _)| parent);
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn tracestate_cases() {
        let members = |n: usize| {
            (0..n)
                .map(|i| format!("k{i}=v{i}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let long_key = format!("a{}", "b".repeat(256));
        let long_value = "v".repeat(257);
        let max_value = "v".repeat(256);
        let cases: Vec<(&str, Vec<String>, Option<String>)> = vec![
            ("one member", vec!["foo=1".into()], Some("foo=1".into())),
            (
                "members across headers, in order",
                vec!["foo=1".into(), "bar=2".into()],
                Some("foo=1,bar=2".into()),
            ),
            (
                "an empty header in the middle",
                vec!["foo=1".into(), "".into(), "bar=2".into()],
                Some("foo=1,bar=2".into()),
            ),
            (
                "malformed vendor key dropped",
                vec!["foo@@bar=1,baz=2".into()],
                Some("baz=2".into()),
            ),
            (
                "empty value dropped",
                vec!["foo=,bar=2".into()],
                Some("bar=2".into()),
            ),
            (
                "no equals sign dropped",
                vec!["foo,bar=2".into()],
                Some("bar=2".into()),
            ),
            ("32 members kept", vec![members(32)], Some(members(32))),
            (
                "33 members: the first 32",
                vec![members(33)],
                Some(members(32)),
            ),
            (
                "33 members across headers",
                vec![
                    members(20),
                    (20..33)
                        .map(|i| format!("k{i}=v{i}"))
                        .collect::<Vec<_>>()
                        .join(","),
                ],
                Some(members(32)),
            ),
            (
                "repeated key: the first",
                vec!["foo=1,foo=2".into()],
                Some("foo=1".into()),
            ),
            (
                "vendor key",
                vec!["tenant@vendor=v".into()],
                Some("tenant@vendor=v".into()),
            ),
            (
                "tenant starting with a digit",
                vec!["1tenant@vendor=x".into()],
                Some("1tenant@vendor=x".into()),
            ),
            (
                "simple key starting with a digit dropped",
                vec!["1foo=1,ok=2".into()],
                Some("ok=2".into()),
            ),
            (
                "upper-case key dropped",
                vec!["Foo=1,ok=2".into()],
                Some("ok=2".into()),
            ),
            (
                "key characters",
                vec!["a_b-c*d/e=1".into()],
                Some("a_b-c*d/e=1".into()),
            ),
            (
                "key too long dropped",
                vec![format!("{long_key}=1,ok=2")],
                Some("ok=2".into()),
            ),
            (
                "value of 256 characters",
                vec![format!("foo={max_value}")],
                Some(format!("foo={max_value}")),
            ),
            (
                "value too long dropped",
                vec![format!("foo={long_value},ok=2")],
                Some("ok=2".into()),
            ),
            (
                "equals sign in a value dropped",
                vec!["foo=a=b,ok=2".into()],
                Some("ok=2".into()),
            ),
            (
                "spaces inside a value kept",
                vec!["foo=a b".into()],
                Some("foo=a b".into()),
            ),
            (
                "whitespace around members",
                vec!["foo=1 ,\tbar=2 ".into()],
                Some("foo=1,bar=2".into()),
            ),
            ("only invalid members", vec!["FOO=1,=2".into()], None),
        ];
        for (name, states, expected) in cases {
            let states: Vec<&str> = states.iter().map(String::as_str).collect();
            let got = round_trip(&[&valid("01")], &states);
            assert_eq!(
                got.as_ref().map(|(p, _)| p.as_str()),
                Some(valid("01").as_str()),
                "{name}: traceparent stays valid"
            );
            assert_eq!(got.and_then(|(_, state)| state), expected, "{name}");
        }
    }

    #[test]
    fn tracestate_needs_a_valid_traceparent() {
        assert_eq!(round_trip(&["garbage"], &["foo=1"]), None);
        assert_eq!(round_trip(&[], &["foo=1"]), None);
    }

    #[test]
    fn nothing_is_injected_without_a_valid_span() {
        let mut out = HeaderMap::new();
        StrictTraceContext.inject_context(&Context::new(), &mut HeaderInjector(&mut out));
        assert!(out.is_empty());
    }
}
