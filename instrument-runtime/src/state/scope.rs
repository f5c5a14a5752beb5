//! The request-context attribute scope as it sits in an OpenTelemetry `Context`: what spans and
//! metrics read when they start (the public API over it is `crate::context`).

use std::sync::Arc;

use arc_swap::ArcSwap;
use opentelemetry::{Context, KeyValue};

/// The attribute list of one scope, shared by everything running in it.
#[derive(Clone, Debug)]
struct AttributeScope(Arc<ArcSwap<Vec<KeyValue>>>);

impl AttributeScope {
    fn new(attributes: Vec<KeyValue>) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(attributes)))
    }

    fn snapshot(&self) -> Arc<Vec<KeyValue>> {
        self.0.load_full()
    }

    fn merge(&self, updates: Vec<KeyValue>) {
        self.0.rcu(|current| Arc::new(merged(current, &updates)));
    }
}

/// `base` with `updates` applied: an update replaces the value of an existing key, or is added.
fn merged(base: &[KeyValue], updates: &[KeyValue]) -> Vec<KeyValue> {
    let mut out = base.to_vec();
    for update in updates {
        match out.iter_mut().find(|kv| kv.key == update.key) {
            Some(existing) => existing.value = update.value.clone(),
            None => out.push(update.clone()),
        }
    }
    out
}

/// `cx` with a new scope: `cx`'s scope attributes with `attributes` applied.
pub(crate) fn with_scope(cx: &Context, attributes: impl IntoIterator<Item = KeyValue>) -> Context {
    let updates: Vec<KeyValue> = attributes.into_iter().collect();
    let base = cx
        .get::<AttributeScope>()
        .map(AttributeScope::snapshot)
        .unwrap_or_default();
    cx.with_value(AttributeScope::new(merged(&base, &updates)))
}

/// Applies `attributes` to the current scope; outside a scope, gives them back.
pub(crate) fn merge_into_current(attributes: Vec<KeyValue>) -> Result<(), Vec<KeyValue>> {
    Context::map_current(|cx| match cx.get::<AttributeScope>() {
        Some(scope) => {
            scope.merge(attributes);
            Ok(())
        }
        None => Err(attributes),
    })
}

/// The attributes of the scope in `cx`, if any.
pub(crate) fn current_attributes(cx: &Context) -> Option<Arc<Vec<KeyValue>>> {
    cx.get::<AttributeScope>().map(AttributeScope::snapshot)
}

/// Whether the current context holds no context attributes (which the metric instruments would
/// add to what they record).
pub(crate) fn current_has_no_attributes() -> bool {
    Context::map_current(current_attributes).is_none_or(|scoped| scoped.is_empty())
}
