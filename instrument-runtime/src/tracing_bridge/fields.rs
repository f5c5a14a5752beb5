//! Reading `tracing` fields as attributes, under the parameter capture rules: a field whose
//! name looks like a secret is recorded as `[redacted]`, text is bounded by `max_value_bytes`,
//! and one span or event records at most the span byte limit.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use opentelemetry::{KeyValue, Value};
use tracing_core::field::{Field, Visit};

use crate::capture::{REDACTED, capture_config};

/// The fields of a span or event: its `message` apart, the others as values.
#[derive(Default)]
pub(crate) struct Fields {
    pub message: Option<String>,
    values: Vec<(&'static str, Value)>,
}

impl Fields {
    /// The fields as bounded, redacted attributes.
    pub(crate) fn attributes(self) -> Vec<KeyValue> {
        crate::current::bounded(self.values.into_iter().map(|(name, value)| {
            if is_secret(name) {
                (name, Value::from(REDACTED))
            } else {
                (name, value)
            }
        }))
    }
}

thread_local! {
    /// Whether each field name is a secret, under the capture configuration of a generation.
    /// Field names are `'static` strings of their callsites: the address names the field.
    static SECRET_NAMES: RefCell<(u32, HashMap<usize, bool>)> = RefCell::new((0, HashMap::new()));
}

/// Whether the field `name` holds a secret, decided once per name and configuration (the
/// whole-word match over the secret list costs thousands of instructions).
fn is_secret(name: &'static str) -> bool {
    let generation = crate::capture::generation();
    SECRET_NAMES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != generation {
            *cache = (generation, HashMap::new());
        }
        *cache
            .1
            .entry(name.as_ptr() as usize)
            .or_insert_with(|| crate::capture::with_config(|config| config.is_secret(name)))
    })
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.values
                .push((field.name(), Value::from(value.to_owned())));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.values.push((field.name(), Value::from(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let value =
            i64::try_from(value).map_or_else(|_| Value::from(value.to_string()), Value::from);
        self.values.push((field.name(), value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.values.push((field.name(), Value::from(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.values.push((field.name(), Value::from(value)));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = bounded_debug(value);
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.values.push((field.name(), Value::from(text)));
        }
    }
}

/// `value`'s `Debug` text, cut at the capture limit while it is written.
fn bounded_debug(value: &dyn fmt::Debug) -> String {
    let limit = capture_config().max_value_bytes;
    let mut out = crate::capture::BoundedText::new(limit);
    let _ = fmt::write(&mut out, format_args!("{value:?}"));
    out.finish(None)
}
