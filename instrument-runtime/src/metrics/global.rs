//! Process-wide instrument sets that follow the installed meter provider.
//!
//! Instruments are bound to the provider that made them. An instrument created before setup
//! would stay a no-op forever (the original registry's flaw), so the cell re-creates its value
//! whenever the installed provider changes.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use opentelemetry::metrics::Meter;

use crate::state;

/// A lazily created value, made again from the meter in force whenever a meter provider is
/// installed or removed. The `global()` of `#[derive(Metrics)]` is one of these.
pub struct GlobalInstruments<T> {
    cell: ArcSwapOption<Versioned<T>>,
}

struct Versioned<T> {
    generation: u64,
    value: Arc<T>,
}

impl<T> GlobalInstruments<T> {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        Self {
            cell: ArcSwapOption::const_empty(),
        }
    }

    /// The value for the provider in force, made with `make` from a meter of `scope` when the
    /// provider changed since the last call.
    pub fn get(&self, scope: &'static str, make: impl FnOnce(&Meter) -> T) -> Arc<T> {
        let generation = state::meter_generation();
        if let Some(current) = &*self.cell.load() {
            if current.generation == generation {
                return current.value.clone();
            }
        }
        let value = Arc::new(make(&state::meter(scope)));
        self.cell.store(Some(Arc::new(Versioned {
            generation,
            value: value.clone(),
        })));
        value
    }

    /// Runs `f` on the value [`get`](Self::get) gives, without taking a reference count of it
    /// when the provider has not changed.
    #[cfg(feature = "genai")]
    pub(crate) fn with<R>(
        &self,
        scope: &'static str,
        make: impl FnOnce(&Meter) -> T,
        f: impl FnOnce(&T) -> R,
    ) -> R {
        let current = self.cell.load();
        match &*current {
            Some(current) if current.generation == state::meter_generation() => f(&current.value),
            _ => {
                drop(current);
                f(&self.get(scope, make))
            }
        }
    }
}

impl<T> Default for GlobalInstruments<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for GlobalInstruments<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalInstruments").finish_non_exhaustive()
    }
}
