//! W3C trace context and baggage on HTTP headers: extracting a request's parent context,
//! injecting the current context into outgoing requests.

use std::sync::LazyLock;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

static PROPAGATOR: LazyLock<TextMapCompositePropagator> = LazyLock::new(|| {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ])
});

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}

/// The current context with the parent (`traceparent`, `tracestate`) and `baggage` that
/// `headers` carry, if any.
pub fn extract(headers: &HeaderMap) -> Context {
    PROPAGATOR.extract_with_context(&Context::current(), &HeaderExtractor(headers))
}

/// Writes the current context as `traceparent`, `tracestate` and `baggage` headers.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// instrument::http::inject(&mut headers); // no span current: nothing to write
/// assert!(headers.get("traceparent").is_none());
/// ```
pub fn inject(headers: &mut HeaderMap) {
    Context::map_current(|cx| inject_context(cx, headers));
}

/// Writes `cx` as `traceparent`, `tracestate` and `baggage` headers.
pub fn inject_context(cx: &Context, headers: &mut HeaderMap) {
    PROPAGATOR.inject_context(cx, &mut HeaderInjector(headers));
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceContextExt;

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
