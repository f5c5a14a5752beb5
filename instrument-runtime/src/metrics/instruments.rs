//! The instrument types a `#[derive(Metrics)]` set declares: OpenTelemetry's instruments that
//! also record the request-scoped [context](crate::context) attributes in force, as `#[metric]`
//! does. A set declared with `#[metrics(context = false)]` records only the attributes given.
//!
//! An attribute given to `add`/`record` wins over a context attribute of the same key.

use opentelemetry::metrics as otel;
use opentelemetry::{Context, KeyValue};

use crate::context::current_attributes;

/// Runs `record` with `attributes` plus, when `with_context` is on, the current scope's
/// attributes whose keys `attributes` does not already hold.
#[inline]
fn with_context_attributes(
    with_context: bool,
    attributes: &[KeyValue],
    record: impl FnOnce(&[KeyValue]),
) {
    let scoped = with_context
        .then(|| Context::map_current(current_attributes))
        .flatten()
        .filter(|scoped| !scoped.is_empty());
    match scoped {
        None => record(attributes),
        Some(scoped) => {
            let mut all = Vec::with_capacity(attributes.len() + scoped.len());
            all.extend_from_slice(attributes);
            for kv in scoped.iter() {
                if !attributes.iter().any(|given| given.key == kv.key) {
                    all.push(kv.clone());
                }
            }
            record(&all)
        }
    }
}

macro_rules! context_instrument {
    ($(#[$doc:meta])* $name:ident, $method:ident, $method_doc:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name<T> {
            inner: otel::$name<T>,
            with_context: bool,
        }

        impl<T> $name<T> {
            /// Wraps an OpenTelemetry instrument; `with_context` says whether the scope's
            /// context attributes are recorded too.
            pub fn new(inner: otel::$name<T>, with_context: bool) -> Self {
                Self { inner, with_context }
            }

            #[doc = $method_doc]
            pub fn $method(&self, value: T, attributes: &[KeyValue]) {
                with_context_attributes(self.with_context, attributes, |all| {
                    self.inner.$method(value, all)
                });
            }

            /// The OpenTelemetry instrument, which records only what it is given.
            pub fn inner(&self) -> &otel::$name<T> {
                &self.inner
            }
        }

        impl<T> FromInstrument<otel::$name<T>> for $name<T> {
            fn from_instrument(instrument: otel::$name<T>, with_context: bool) -> Self {
                Self::new(instrument, with_context)
            }
        }

        // The derive refuses this field type with its own error; the conversion exists so
        // that that error is the only one.
        impl<T> FromInstrument<otel::$name<T>> for otel::$name<T> {
            fn from_instrument(instrument: otel::$name<T>, _with_context: bool) -> Self {
                instrument
            }
        }
    };
}

context_instrument!(
    /// A monotonic counter that also records the context attributes in force.
    Counter,
    add,
    "Adds `value` with `attributes` (and the context attributes)."
);
context_instrument!(
    /// A counter that goes up and down, also recording the context attributes in force.
    UpDownCounter,
    add,
    "Adds `value` (negative to subtract) with `attributes` (and the context attributes)."
);
context_instrument!(
    /// A histogram that also records the context attributes in force.
    Histogram,
    record,
    "Records `value` with `attributes` (and the context attributes)."
);
context_instrument!(
    /// A gauge that also records the context attributes in force.
    Gauge,
    record,
    "Records `value` as the current value with `attributes` (and the context attributes)."
);

/// How `#[derive(Metrics)]` turns a built OpenTelemetry instrument into a field's type: one of
/// this module's types (recording context attributes when `with_context`), or, for the
/// observable instruments, which record in callbacks, the OpenTelemetry type itself.
pub trait FromInstrument<I> {
    /// The field's value from the built `instrument`.
    fn from_instrument(instrument: I, with_context: bool) -> Self;
}

impl<T> FromInstrument<otel::ObservableGauge<T>> for otel::ObservableGauge<T> {
    fn from_instrument(instrument: otel::ObservableGauge<T>, _with_context: bool) -> Self {
        instrument
    }
}

impl<T> FromInstrument<otel::ObservableUpDownCounter<T>> for otel::ObservableUpDownCounter<T> {
    fn from_instrument(instrument: otel::ObservableUpDownCounter<T>, _with_context: bool) -> Self {
        instrument
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context;

    fn recorded(with_context: bool, given: &[KeyValue]) -> Vec<KeyValue> {
        let mut seen = Vec::new();
        with_context_attributes(with_context, given, |all| seen = all.to_vec());
        seen
    }

    #[test]
    fn context_attributes_join_unless_turned_off_or_given() {
        let given = [
            KeyValue::new("route", "/a"),
            KeyValue::new("org", "explicit"),
        ];
        context::in_scope(
            [KeyValue::new("org", "scoped"), KeyValue::new("agent", "a1")],
            || {
                assert_eq!(
                    recorded(true, &given),
                    vec![
                        KeyValue::new("route", "/a"),
                        KeyValue::new("org", "explicit"),
                        KeyValue::new("agent", "a1"),
                    ]
                );
                assert_eq!(recorded(false, &given), given.to_vec());
            },
        );
        assert_eq!(
            recorded(true, &given),
            given.to_vec(),
            "no scope, nothing added"
        );
    }
}
