//! Helpers on the current span: its trace id, extra attributes, events.

use opentelemetry::{Key, KeyValue, Value};

use std::borrow::Cow;

use crate::capture::{self, BoundedText};
use crate::span;

/// Longest attribute key kept by [`set_span_attributes`] and [`log_event`], in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// Most attributes one [`set_span_attributes`] or [`log_event`] call keeps (the SDK's default limit
/// of attributes per span); the rest are dropped.
pub const MAX_ATTRIBUTES_PER_CALL: usize = 128;

/// The trace id of the current span as 32 lowercase hex digits, or `None` outside a span.
///
/// ```
/// assert_eq!(instrument::get_trace_id(), None);
/// ```
pub fn get_trace_id() -> Option<String> {
    span::with_current_span(|span| {
        let span_context = span.span_context();
        span_context
            .is_valid()
            .then(|| format!("{:032x}", span_context.trace_id()))
    })
    .flatten()
}

/// Sets attributes on the current span. String values are bounded like parameters; empty keys
/// are skipped and long keys cut; one call keeps at most [`MAX_ATTRIBUTES_PER_CALL`] attributes
/// and the span byte limit of parameters in all. Does nothing outside a recording span.
///
/// ```
/// instrument::set_span_attributes([("order.id", "o-17"), ("order.items", "3")]);
/// ```
pub fn set_span_attributes<K, V>(attributes: impl IntoIterator<Item = (K, V)>)
where
    K: Into<Key>,
    V: Into<Value>,
{
    span::with_current_span(|span| {
        if span.is_recording() {
            for attribute in bounded(attributes) {
                span.set_attribute(attribute);
            }
        }
    });
}

/// Adds an event with attributes to the current span. Does nothing outside a recording span.
///
/// ```
/// instrument::log_event("cache.miss", [("cache.key", "user:42")]);
/// ```
pub fn log_event<K, V>(name: impl Into<String>, attributes: impl IntoIterator<Item = (K, V)>)
where
    K: Into<Key>,
    V: Into<Value>,
{
    span::with_current_span(|span| {
        if span.is_recording() {
            span.add_event(name.into().into(), bounded(attributes));
        }
    });
}

pub(crate) fn bounded<K: Into<Key>, V: Into<Value>>(
    attributes: impl IntoIterator<Item = (K, V)>,
) -> Vec<KeyValue> {
    let (max_value, mut budget) = capture::limits();
    attributes
        .into_iter()
        .filter_map(|(key, value)| {
            let key = bounded_key(key.into())?;
            let value = bounded_value(value.into(), max_value.min(budget));
            let size = key.as_str().len() + value_len(&value);
            budget = budget.checked_sub(size)?;
            Some(KeyValue::new(key, value))
        })
        .take(MAX_ATTRIBUTES_PER_CALL)
        .collect()
}

/// The bytes of a value's text (strings) or its fixed size (numbers, booleans, arrays).
pub(crate) fn value_len(value: &Value) -> usize {
    match value {
        Value::String(s) => s.as_str().len(),
        Value::Array(array) => format!("{array}").len(),
        _ => 8,
    }
}

fn bounded_key(key: Key) -> Option<Key> {
    let text = key.as_str();
    if text.is_empty() {
        return None;
    }
    if text.len() <= MAX_KEY_BYTES {
        return Some(key);
    }
    let cut = capture::floor_char_boundary(text.as_bytes(), MAX_KEY_BYTES);
    Some(Key::new(text[..cut].to_owned()))
}

/// `value` with the secrets inside its text hidden and its text cut at `max` bytes.
pub(crate) fn bounded_value(value: Value, max: usize) -> Value {
    let Value::String(s) = value else {
        return value;
    };
    let text = s.as_str();
    if text.len() <= max {
        return match capture::redact_text(text) {
            Cow::Borrowed(_) => Value::String(s),
            Cow::Owned(redacted) => Value::from(redacted),
        };
    }
    let mut out = BoundedText::new(max);
    out.push(text.as_bytes());
    Value::from(out.finish(Some(text.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_and_empty_ones_dropped() {
        let huge = "k".repeat(10_000);
        let attrs = bounded(
            [("", "a"), (huge.as_str(), "b"), ("ok", "c")]
                .map(|(k, v)| (Key::new(k.to_owned()), v)),
        );
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[0].key.as_str().len(), MAX_KEY_BYTES);
        assert_eq!(attrs[1].key.as_str(), "ok");
    }

    #[test]
    fn long_values_are_cut() {
        let value = bounded_value(Value::from("x".repeat(500)), 100);
        let text = value.as_str();
        assert!(text.len() <= 100);
        assert!(text.ends_with("(truncated, original size: 500 bytes)"));
    }
}
