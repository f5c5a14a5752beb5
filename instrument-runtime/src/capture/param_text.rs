//! A captured parameter's text, without allocating where it can be avoided: borrowed from the
//! value, a scalar's digits on the stack, or an owned `String` from the general path. Whoever
//! records it (an SDK span's attribute, or the inline text of the toolkit's span record) copies
//! it once into where it is kept.

use opentelemetry::KeyValue;

use super::scalar::ScalarText;
use super::{TRUNCATED_KEY, TRUNCATED_REASON_KEY};

/// A value's text on the fast path: the value's own text, or a scalar's digits.
#[derive(Debug)]
pub enum ShortText<'a> {
    /// Text the value holds (a string with nothing that could hide a secret).
    Borrowed(&'a str),
    /// An integer's or a boolean's text.
    Scalar(ScalarText),
}

impl ShortText<'_> {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            ShortText::Borrowed(text) => text,
            ShortText::Scalar(scalar) => scalar.as_str(),
        }
    }

    /// The text's bytes, without the UTF-8 check a scalar's `as_str` makes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            ShortText::Borrowed(text) => text.as_bytes(),
            ShortText::Scalar(scalar) => scalar.as_bytes(),
        }
    }
}

/// A parameter's text as capture made it.
#[derive(Debug)]
pub(crate) enum ParamText<'a> {
    Short(ShortText<'a>),
    Owned(String),
}

impl ParamText<'_> {
    /// The text's bytes (UTF-8), without the check a scalar's `as_str` makes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            ParamText::Short(short) => short.as_bytes(),
            ParamText::Owned(text) => text.as_bytes(),
        }
    }

    /// The text as an owned `String` (copied only when it was not owned already).
    pub(crate) fn into_string(self) -> String {
        match self {
            ParamText::Short(short) => short.as_str().to_owned(),
            ParamText::Owned(text) => text,
        }
    }
}

/// What parameter capture hands to the span, in order.
#[derive(Debug)]
pub(crate) enum CapturedParam<'a> {
    /// One parameter's attribute.
    Value {
        key: &'static str,
        text: ParamText<'a>,
    },
    /// The span's parameter budget ran out: the rest are left out, and the span says so.
    Truncated { max_span_bytes: usize },
}

impl CapturedParam<'_> {
    /// The attributes this stands for.
    pub(crate) fn into_attributes(self, mut push: impl FnMut(KeyValue)) {
        match self {
            CapturedParam::Value { key, text } => push(KeyValue::new(key, text.into_string())),
            CapturedParam::Truncated { max_span_bytes } => {
                push(KeyValue::new(TRUNCATED_KEY, true));
                push(KeyValue::new(
                    TRUNCATED_REASON_KEY,
                    format!("Total size exceeded {max_span_bytes} bytes"),
                ));
            }
        }
    }
}
