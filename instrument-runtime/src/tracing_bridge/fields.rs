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

    /// Records a number or boolean: only the secret rule and the budget apply.
    fn push(&mut self, name: &'static str, value: Value) {
        if is_secret_static(name) {
            return self.push_redacted(name);
        }
        self.keep(name, value, 8);
    }

    /// Records text: a secret name hides it whole; otherwise it is cut at the value limit and
    /// secrets inside it are hidden, copied once.
    fn push_text(&mut self, name: &'static str, text: &str) {
        if is_secret_static(name) {
            return self.push_redacted(name);
        }
        let max = self.max_value.min(self.budget);
        let value = if text.len() <= max {
            Value::from(crate::capture::redact_text(text).into_owned())
        } else {
            bounded_value(Value::from(text.to_owned()), max)
        };
        let len = value_len(&value);
        self.keep(name, value, len);
    }

    fn push_redacted(&mut self, name: &'static str) {
        self.keep(name, Value::from(REDACTED), REDACTED.len());
    }

    fn keep(&mut self, name: &'static str, value: Value, len: usize) {
        if let Some(left) = self.budget.checked_sub(name.len() + len) {
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
            self.push_text(field.name(), value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field.name(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(value) => self.push(field.name(), Value::from(value)),
            Err(_) => self.push_text(field.name(), &value.to_string()),
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field.name(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field.name(), Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = Some(bounded_debug(value, Syntax::Text, self.max_value));
        } else {
            if is_secret_static(field.name()) {
                return self.push_redacted(field.name());
            }
            let text = bounded_debug(value, Syntax::Debug, self.max_value.min(self.budget));
            let len = text.len();
            self.keep(field.name(), Value::from(text), len);
        }
    }
}

/// `value`'s `Debug` text (a message's text with `syntax` [`Syntax::Text`]), secrets hidden and
/// cut at `limit` bytes while it is written; a panicking impl gives `<formatting failed>` and is
/// counted.
fn bounded_debug(value: &dyn fmt::Debug, syntax: Syntax, limit: usize) -> String {
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
