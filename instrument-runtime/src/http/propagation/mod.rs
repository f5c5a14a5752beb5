//! Trace context and baggage on HTTP headers: extracting a request's parent context, injecting
//! the current context into outgoing requests.
//!
//! `OTEL_PROPAGATORS` selects the formats (comma-separated, default `tracecontext,baggage`):
//! `tracecontext` (W3C Trace Context, parsed strictly by this crate), `baggage` (W3C Baggage,
//! the SDK's propagator), `b3` and `b3multi` (Zipkin B3 single and multiple headers), `none`. An unknown name is reported and skipped.

mod b3;
mod trace_context;

use std::sync::LazyLock;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry_sdk::propagation::BaggagePropagator;

use crate::diagnostics::warn;
use b3::B3;
use trace_context::StrictTraceContext;

static PROPAGATOR: LazyLock<TextMapCompositePropagator> =
    LazyLock::new(|| propagators(crate::environment::setting("OTEL_PROPAGATORS").as_deref()));

/// The headers the selected formats read, parsed once: a request carrying none of them (most
/// requests to a service's edge) skips the propagators.
static FIELDS: LazyLock<Vec<HeaderName>> = LazyLock::new(|| {
    PROPAGATOR
        .fields()
        .filter_map(|field| HeaderName::try_from(field).ok())
        .collect()
});

/// The propagators `OTEL_PROPAGATORS` names (`None`: the default).
fn propagators(setting: Option<&str>) -> TextMapCompositePropagator {
    let setting = setting
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("tracecontext,baggage");
    let mut chosen: Vec<Box<dyn TextMapPropagator + Send + Sync>> = Vec::new();
    for name in setting.split(',').map(|n| n.trim().to_ascii_lowercase()) {
        match name.as_str() {
            "tracecontext" => chosen.push(Box::new(StrictTraceContext)),
            "baggage" => chosen.push(Box::new(BaggagePropagator::new())),
            "b3" => chosen.push(Box::new(B3::Single)),
            "b3multi" => chosen.push(Box::new(B3::Multiple)),
            "none" => return TextMapCompositePropagator::new(Vec::new()),
            "" => {}
            other => warn(&format!(
                "OTEL_PROPAGATORS: unknown propagator {other:?} skipped (known: tracecontext, baggage, b3, b3multi, none)"
            )),
        }
    }
    TextMapCompositePropagator::new(chosen)
}

/// Reads request headers, every value of a repeated one included.
struct HeaderExtractor<'a>(&'a HeaderMap);

/// The headers the propagators read, as names the header map looks up without parsing them
/// (a lookup by text parses the name first, on every request).
static PROPAGATION_HEADERS: [HeaderName; 9] = [
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("baggage"),
    HeaderName::from_static("b3"),
    HeaderName::from_static("x-b3-traceid"),
    HeaderName::from_static("x-b3-spanid"),
    HeaderName::from_static("x-b3-parentspanid"),
    HeaderName::from_static("x-b3-sampled"),
    HeaderName::from_static("x-b3-flags"),
];

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = match PROPAGATION_HEADERS.iter().find(|name| name.as_str() == key) {
            Some(name) => self.0.get(name),
            None => self.0.get(key),
        };
        value.and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self
            .0
            .get_all(key)
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

/// Writes headers, replacing any value already there.
struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}

/// The current context with the parent and baggage that `headers` carry, in the selected
/// formats; an invalid parent is ignored (the request starts a new trace).
pub fn extract(headers: &HeaderMap) -> Context {
    if !carries_any_field(headers) {
        return crate::span::current_context();
    }
    PROPAGATOR.extract_with_context(&crate::span::current_context(), &HeaderExtractor(headers))
}

/// Whether `headers` carry a header of the selected formats: a request with fewer headers than
/// the formats have fields is walked (name comparisons), a larger one looked up (one hash per
/// field).
fn carries_any_field(headers: &HeaderMap) -> bool {
    let fields = FIELDS.as_slice();
    if headers.keys_len() < fields.len() {
        headers.keys().any(|name| fields.contains(name))
    } else {
        fields.iter().any(|field| headers.contains_key(field))
    }
}

/// Writes the current context into `headers` in the selected formats (by default
/// `traceparent`, `tracestate` and `baggage`).
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// instrument::http::inject(&mut headers); // no span current: nothing to write
/// assert!(headers.get("traceparent").is_none());
/// ```
pub fn inject(headers: &mut HeaderMap) {
    inject_context(&crate::span::current_context(), headers);
}

/// Writes `cx` into `headers` in the selected formats.
pub fn inject_context(cx: &Context, headers: &mut HeaderMap) {
    PROPAGATOR.inject_context(cx, &mut HeaderInjector(headers));
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::baggage::BaggageExt;
    use opentelemetry::trace::TraceContextExt;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn fields_are_found_in_small_and_large_header_maps() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.com"));
        assert!(!carries_any_field(&headers));
        headers.insert("traceparent", HeaderValue::from_static(PARENT));
        assert!(carries_any_field(&headers));
        for name in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            headers.insert(name, HeaderValue::from_static("x"));
        }
        assert!(carries_any_field(&headers));
        headers.remove("traceparent");
        assert!(!carries_any_field(&headers));
    }

    fn through(setting: &str, incoming: &[(&'static str, &str)]) -> HeaderMap {
        let propagator = propagators(Some(setting));
        let mut headers = HeaderMap::new();
        for (name, value) in incoming {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        let cx = propagator.extract_with_context(&Context::new(), &HeaderExtractor(&headers));
        let mut out = HeaderMap::new();
        propagator.inject_context(&cx, &mut HeaderInjector(&mut out));
        out
    }

    #[test]
    fn otel_propagators_selects_the_formats() {
        let both = through(
            "tracecontext,baggage",
            &[("traceparent", PARENT), ("baggage", "user=u1,tier=gold")],
        );
        assert_eq!(both["traceparent"], PARENT);
        let baggage = both["baggage"].to_str().unwrap();
        assert!(
            baggage.contains("user=u1") && baggage.contains("tier=gold"),
            "{baggage}"
        );

        let b3 = through("tracecontext, b3multi", &[("traceparent", PARENT)]);
        assert_eq!(b3["x-b3-traceid"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(b3["x-b3-spanid"], "00f067aa0ba902b7");
        assert!(b3.get("baggage").is_none());

        let single = through(
            "b3",
            &[("b3", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1")],
        );
        assert_eq!(
            single["b3"],
            "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"
        );
        assert!(single.get("traceparent").is_none());

        assert!(through("none", &[("traceparent", PARENT)]).is_empty());
        assert_eq!(
            through("bogus,tracecontext", &[("traceparent", PARENT)])["traceparent"],
            PARENT
        );
        assert_eq!(
            through(" ", &[("traceparent", PARENT)])["traceparent"],
            PARENT,
            "blank: the default"
        );
    }

    #[test]
    fn baggage_is_extracted() {
        let mut headers = HeaderMap::new();
        headers.insert("baggage", HeaderValue::from_static("user=u1"));
        let cx =
            propagators(None).extract_with_context(&Context::new(), &HeaderExtractor(&headers));
        assert_eq!(
            cx.baggage().get("user").map(|v| v.to_string()),
            Some("u1".to_owned())
        );
    }

    #[test]
    fn round_trips_a_traceparent() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let cx = extract(&headers);
        let remote = cx.span().span_context().clone();
        assert!(remote.is_remote());
        assert_eq!(
            format!("{:032x}", remote.trace_id()),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        let mut out = HeaderMap::new();
        inject_context(&cx, &mut out);
        assert_eq!(
            out["traceparent"],
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
    }
}
