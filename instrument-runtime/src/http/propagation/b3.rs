//! Zipkin B3 propagation, single header (`b3`) and multiple headers (`X-B3-*`).
//!
//! Hand-written because the crate that offered it, `opentelemetry-zipkin`, is deprecated as a
//! whole (its exporter gave way to OTLP), and B3 is a few fixed fields.

use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

const SINGLE: &str = "b3";
const TRACE_ID: &str = "x-b3-traceid";
const SPAN_ID: &str = "x-b3-spanid";
const SAMPLED: &str = "x-b3-sampled";
const FLAGS: &str = "x-b3-flags";

static SINGLE_FIELDS: LazyLock<[String; 1]> = LazyLock::new(|| [SINGLE.to_owned()]);
static MULTI_FIELDS: LazyLock<[String; 4]> =
    LazyLock::new(|| [TRACE_ID, SPAN_ID, SAMPLED, FLAGS].map(str::to_owned));

/// B3 in one `b3` header or in the `X-B3-*` headers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum B3 {
    /// `b3: {trace}-{span}-{sampled}`.
    Single,
    /// `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled`.
    Multiple,
}

fn lower_hex(s: &str, lengths: &[usize]) -> bool {
    lengths.contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A trace id of 16 or 32 hex digits (a 64-bit id is left-padded).
fn trace_id(s: &str) -> Option<TraceId> {
    lower_hex(s, &[16, 32])
        .then(|| TraceId::from_hex(s).ok())
        .flatten()
        .filter(|id| *id != TraceId::INVALID)
}

fn span_id(s: &str) -> Option<SpanId> {
    lower_hex(s, &[16])
        .then(|| SpanId::from_hex(s).ok())
        .flatten()
        .filter(|id| *id != SpanId::INVALID)
}

/// The sampling decision of a B3 field: `1`/`true`/`d` (debug) sampled, `0`/`false` not.
fn sampled(s: &str) -> Option<bool> {
    match s {
        "1" | "true" | "d" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

fn remote(trace: TraceId, span: SpanId, sampled: bool) -> SpanContext {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(trace, span, flags, true, TraceState::default())
}

fn extract_single(value: &str) -> Option<SpanContext> {
    let mut parts = value.trim().split('-');
    let trace = trace_id(parts.next()?)?;
    let span = span_id(parts.next()?)?;
    let decision = match parts.next() {
        Some(field) => sampled(field)?,
        None => true,
    };
    if let Some(parent) = parts.next() {
        span_id(parent)?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(remote(trace, span, decision))
}

fn extract_multiple(extractor: &dyn Extractor) -> Option<SpanContext> {
    let trace = trace_id(extractor.get(TRACE_ID)?.trim())?;
    let span = span_id(extractor.get(SPAN_ID)?.trim())?;
    let debug = extractor.get(FLAGS).map(str::trim) == Some("1");
    let decision = match extractor.get(SAMPLED) {
        Some(field) => sampled(field.trim())?,
        None => true,
    };
    Some(remote(trace, span, decision || debug))
}

impl TextMapPropagator for B3 {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return;
        }
        let sampled = if context.is_sampled() { "1" } else { "0" };
        match self {
            B3::Single => injector.set(
                SINGLE,
                format!("{}-{}-{sampled}", context.trace_id(), context.span_id()),
            ),
            B3::Multiple => {
                injector.set(TRACE_ID, context.trace_id().to_string());
                injector.set(SPAN_ID, context.span_id().to_string());
                injector.set(SAMPLED, sampled.to_owned());
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let found = match self {
            B3::Single => extractor.get(SINGLE).and_then(extract_single),
            B3::Multiple => extract_multiple(extractor),
        };
        match found {
            Some(remote) => cx.with_remote_span_context(remote),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        match self {
            B3::Single => FieldIter::new(SINGLE_FIELDS.as_slice()),
            B3::Multiple => FieldIter::new(MULTI_FIELDS.as_slice()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn extracted(format: B3, headers: &[(&str, &str)]) -> Option<(String, String, bool)> {
        let map: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let cx = format.extract_with_context(&Context::new(), &map);
        let span = cx.span();
        let context = span.span_context();
        context.is_valid().then(|| {
            (
                context.trace_id().to_string(),
                context.span_id().to_string(),
                context.is_sampled(),
            )
        })
    }

    #[test]
    fn single_and_multiple_headers_extract_and_inject() {
        let trace = "80f198ee56343ba864fe8b2a57d3eff7";
        let span = "e457b5a2e4d86bd1";
        let single = format!("{trace}-{span}-1-05e3ac9a4f6e3b90");
        assert_eq!(
            extracted(B3::Single, &[("b3", &single)]),
            Some((trace.to_owned(), span.to_owned(), true))
        );
        assert_eq!(
            extracted(B3::Single, &[("b3", "a3ce929d0e0e4736-00f067aa0ba902b7-0")]),
            Some((
                "0000000000000000a3ce929d0e0e4736".to_owned(),
                "00f067aa0ba902b7".to_owned(),
                false
            ))
        );
        assert_eq!(
            extracted(B3::Single, &[("b3", "0")]),
            None,
            "deny alone carries no ids"
        );
        assert_eq!(
            extracted(B3::Single, &[("b3", "XYZ-00f067aa0ba902b7")]),
            None
        );
        assert_eq!(
            extracted(
                B3::Multiple,
                &[
                    ("x-b3-traceid", trace),
                    ("x-b3-spanid", span),
                    ("x-b3-sampled", "0"),
                    ("x-b3-flags", "1")
                ]
            ),
            Some((trace.to_owned(), span.to_owned(), true)),
            "debug wins over sampled=0"
        );
        let cx = B3::Single
            .extract_with_context(&Context::new(), &HashMap::from([("b3".to_owned(), single)]));
        let mut out: HashMap<String, String> = HashMap::new();
        B3::Multiple.inject_context(&cx, &mut out);
        assert_eq!(out["x-b3-traceid"], trace);
        assert_eq!(out["x-b3-spanid"], span);
        assert_eq!(out["x-b3-sampled"], "1");
    }
}
