//! Reading `tracing` fields as attributes, under the parameter capture rules: a field whose
//! name looks like a secret is recorded as `[redacted]`, text is bounded by `max_value_bytes`,
//! and one span or event records at most the span byte limit.

use std::fmt;

use opentelemetry::{KeyValue, Value};
use tracing_core::field::{Field, Visit};

use crate::capture::{REDACTED, Syntax, is_secret_static, limits};
use crate::current::{bounded_value, value_len};
use crate::diagnostics::{contain, report_failure};

/// The fields of a span or event, read straight into attributes: its `message` apart, each
/// other field redacted when its name is a secret, cut at `max_value_bytes`, and no more than
/// `max_span_bytes` in all.
pub(crate) struct Fields {
    pub message: Option<String>,
    pub attributes: Vec<KeyValue>,
    max_value: usize,
    budget: usize,
}

impl Fields {
    /// Fields read into `attributes` (which may hold attributes already).
    pub(crate) fn into(attributes: Vec<KeyValue>) -> Self {
        let (max_value, budget) = limits();
        Self {
            message: None,
            attributes,
            max_value,
            budget,
        }
    }

    /// Fields read into a new list with room for `count`.
    pub(crate) fn with_capacity(count: usize) -> Self {
        Self::into(Vec::with_capacity(count))
    }

    fn push(&mut self, name: &'static str, value: Value) {
        let value = if is_secret_static(name) {
            Value::from(REDACTED)
        } else {
            bounded_value(value, self.max_value.min(self.budget))
        };
        if let Some(left) = self.budget.checked_sub(name.len() + value_len(&value)) {
            self.budget = left;
            self.attributes.push(KeyValue::new(name, value));
        } else {
            self.budget = 0;
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(crate::capture::redact_text(value).into_owned());
        } else {
            self.push(field.name(), Value::from(value.to_owned()));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field.name(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let value =
            i64::try_from(value).map_or_else(|_| Value::from(value.to_string()), Value::from);
        self.push(field.name(), value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field.name(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field.name(), Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = Some(bounded_debug(value, Syntax::Text));
        } else {
            let text = bounded_debug(value, Syntax::Debug);
            self.push(field.name(), Value::from(text));
        }
    }
}

/// `value`'s `Debug` text (a message's text with `syntax` [`Syntax::Text`]), secrets hidden and
/// cut at the capture limit while it is written; a panicking impl gives `<formatting failed>`
/// and is counted.
fn bounded_debug(value: &dyn fmt::Debug, syntax: Syntax) -> String {
    let (limit, _) = limits();
    let (written, text) = crate::capture::with_scratch(limit, |out| {
        out.set_syntax(syntax);
        contain(|| fmt::write(out, format_args!("{value:?}")))
    });
    match written {
        Ok(_) => text,
        Err(_) => {
            report_failure("a tracing field's Debug impl panicked while being recorded");
            "<formatting failed>".to_owned()
        }
    }
}
