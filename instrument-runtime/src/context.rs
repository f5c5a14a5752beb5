//! Request-scoped attributes: key-values that every span started by `#[trace_method]` and every
//! metric recorded by `#[metric]` or the built-in registry carries while they are in scope.
//!
//! A scope lives in the OpenTelemetry [`Context`], so it follows a task across `.await` (the
//! scoped future makes it current on every poll) and is not seen by other tasks. `HttpLayer`
//! opens one for every request. A spawned task or thread gets the current span and a copy of
//! the attributes when asked: `tokio::spawn(task.with_current_attributes())`
//! ([`ContextAttributesExt`]), `spawn_blocking(context::bind(|| ..))` and
//! `std::thread::spawn(context::bind(|| ..))` ([`bind`]).
//!
//! Outside any scope, [`add_attribute`] and [`set_attributes`] lose nothing silently: the
//! attributes go on the current span, if there is one, and the first such call from each call
//! site prints a warning naming it (what later spans, metrics and logs would have carried is
//! missing).
//! Updates are copy-on-write: [`set_attributes`] replaces the scope's list with an updated copy,
//! so a snapshot taken earlier (or a child scope) never changes under its reader.
//!
//! ```
//! use instrument::context;
//! use instrument::KeyValue;
//!
//! context::in_scope([KeyValue::new("organization.id", "org-1")], || {
//!     context::add_attribute("agent.id", "agent-7");
//!     assert_eq!(context::attributes().len(), 2);
//! });
//! assert!(context::attributes().is_empty());
//! ```

use std::future::Future;
use std::panic::Location;

use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::{Context, Key, KeyValue, Value};

use crate::state::scope;
pub(crate) use crate::state::scope::{current_attributes, current_has_no_attributes, with_scope};

/// A context holding a new scope: the current scope's attributes with `attributes` applied.
fn context_with_scope(attributes: impl IntoIterator<Item = KeyValue>) -> Context {
    with_scope(&crate::span::current_context(), attributes)
}

/// Runs `future` in a new scope holding the current scope's attributes plus `attributes`.
pub fn scope<F: Future>(
    attributes: impl IntoIterator<Item = KeyValue>,
    future: F,
) -> WithContext<F> {
    future.with_context(context_with_scope(attributes))
}

/// Runs `f` in a new scope holding the current scope's attributes plus `attributes`.
pub fn in_scope<R>(attributes: impl IntoIterator<Item = KeyValue>, f: impl FnOnce() -> R) -> R {
    let _current = context_with_scope(attributes).attach();
    f()
}

/// Sets attributes in the current scope (replacing the values of keys it has). Returns `false`
/// outside a scope: the attributes then go on the current span only (none is dropped silently:
/// the first such call from each call site prints a warning naming it).
#[track_caller]
pub fn set_attributes(attributes: impl IntoIterator<Item = KeyValue>) -> bool {
    match scope::merge_into_current(attributes.into_iter().collect()) {
        Ok(()) => true,
        Err(unscoped) => {
            outside_scope(unscoped, Location::caller());
            false
        }
    }
}

/// Sets one attribute in the current scope; outside a scope, as [`set_attributes`] says.
#[track_caller]
pub fn add_attribute(key: impl Into<Key>, value: impl Into<Value>) -> bool {
    set_attributes([KeyValue::new(key, value)])
}

/// Attributes set outside any scope: put on the current span, and the call site warned about
/// once.
fn outside_scope(attributes: Vec<KeyValue>, caller: &'static Location<'static>) {
    let keys: Vec<String> = attributes.iter().map(|kv| kv.key.to_string()).collect();
    let on_span = crate::span::with_current_span(|span| {
        let recording = span.is_recording();
        for attribute in attributes {
            span.set_attribute(attribute);
        }
        recording
    })
    .unwrap_or(false);
    crate::diagnostics::warn_once_at(caller, || {
        let kept = if on_span {
            "they were set on the current span only"
        } else {
            "there is no recording span either, so they are lost"
        };
        format!(
            "context attributes {keys:?} set at {caller} outside any scope: {kept}; later spans, \
             metrics and logs do not carry them (open a scope with `instrument::context::scope` \
             or `in_scope`; `HttpLayer` opens one per request)"
        )
    });
}

/// `f`, to run on another thread (`std::thread::spawn`, `tokio::task::spawn_blocking`) under
/// the current context: its span is the parent of what `f` starts, and `f` has a copy of the
/// current scope's attributes (what it sets stays its own).
///
/// ```
/// use instrument::{KeyValue, context};
///
/// context::in_scope([KeyValue::new("organization.id", "org-1")], || {
///     let worker = std::thread::spawn(context::bind(|| context::attributes().len()));
///     assert_eq!(worker.join().unwrap(), 1);
/// });
/// ```
pub fn bind<R>(f: impl FnOnce() -> R) -> impl FnOnce() -> R {
    let cx = context_with_scope([]);
    move || {
        let _current = cx.attach();
        f()
    }
}

/// The attributes of the current scope (empty outside any scope).
pub fn attributes() -> Vec<KeyValue> {
    Context::map_current(|cx| {
        current_attributes(cx)
            .map(|a| a.to_vec())
            .unwrap_or_default()
    })
}

/// Carrying the current context into another task.
pub trait ContextAttributesExt: Future + Sized {
    /// Runs this future with the current context (its span and a copy of its attributes), for
    /// handing to `tokio::spawn` and the like. The copy is the task's own: what it sets does not
    /// reach the spawning task, and the other way round.
    fn with_current_attributes(self) -> WithContext<Self> {
        self.with_context(context_with_scope([]))
    }
}

impl<F: Future> ContextAttributesExt for F {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_copy_on_write() {
        in_scope([KeyValue::new("a", 1)], || {
            let before = attributes();
            in_scope([KeyValue::new("b", 2)], || {
                assert!(add_attribute("a", 10));
                assert_eq!(
                    attributes(),
                    vec![KeyValue::new("a", 10), KeyValue::new("b", 2)]
                );
            });
            assert_eq!(
                attributes(),
                before,
                "the child's update stays in the child"
            );
            assert!(set_attributes([KeyValue::new("c", "x")]));
            assert_eq!(before.len(), 1, "a snapshot never changes");
            assert_eq!(attributes().len(), 2);
        });
        assert!(attributes().is_empty());
        assert!(!add_attribute("outside", true));
    }

    #[test]
    fn a_bound_closure_runs_under_the_scope_it_was_made_in() {
        let bound = in_scope([KeyValue::new("org", "o-1")], || bind(attributes));
        assert!(attributes().is_empty());
        let seen = std::thread::spawn(bound).join().expect("the thread ran");
        assert_eq!(seen, vec![KeyValue::new("org", "o-1")]);
    }
}
