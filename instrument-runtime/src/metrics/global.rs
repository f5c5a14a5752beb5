//! Process-wide instrument sets that follow the installed meter provider.
//!
//! Instruments are bound to the provider that made them. An instrument created before setup
//! would stay a no-op forever (the original registry's flaw), so the cell re-creates its value
//! whenever the installed provider changes.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use opentelemetry::metrics::{AsyncInstrument, Meter};

use crate::state;

/// `callback`, made to run with the pipeline in force now (the one whose meter the observable
/// instrument is being made from) in force while it runs: a callback runs on the thread that
/// collects, where the measurements it records into other instruments must reach the same
/// pipeline. What `#[derive(Metrics)]` wraps each `callback = ..` in.
pub fn pipeline_callback<T>(
    callback: impl Fn(&dyn AsyncInstrument<T>) + Send + Sync + 'static,
) -> impl Fn(&dyn AsyncInstrument<T>) + Send + Sync + 'static {
    let pipeline = state::current_weak();
    move |observer| match &pipeline {
        Some(pipeline) => state::run_in(pipeline, || callback(observer)),
        None => callback(observer),
    }
}

/// Pipelines whose values one cell keeps at most; the least recently made go first.
const KEPT_PIPELINES: usize = 16;

/// A lazily created value, made from the meter of the pipeline in force the first time it is
/// asked for there, and kept per pipeline: pipelines side by side (tests on their own, a metric
/// reader's callback running on its pipeline's thread) each find their own without making it
/// again. The `global()` of `#[derive(Metrics)]` is one of these.
pub struct GlobalInstruments<T> {
    /// Newest first.
    cell: ArcSwapOption<Vec<Versioned<T>>>,
}

struct Versioned<T> {
    generation: u64,
    value: Arc<T>,
}

impl<T> Clone for Versioned<T> {
    fn clone(&self) -> Self {
        Self {
            generation: self.generation,
            value: self.value.clone(),
        }
    }
}

impl<T> GlobalInstruments<T> {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        Self {
            cell: ArcSwapOption::const_empty(),
        }
    }

    /// The value for the pipeline in force, made with `make` from a meter of `scope` the first
    /// time it is asked for there.
    pub fn get(&self, scope: &'static str, make: impl FnOnce(&Meter) -> T) -> Arc<T> {
        let generation = state::meter_generation();
        if let Some(found) = self.find(generation) {
            return found;
        }
        let value = Arc::new(make(&state::meter(scope)));
        let made = Versioned {
            generation,
            value: value.clone(),
        };
        self.cell.rcu(|kept| {
            let mut list = Vec::with_capacity(KEPT_PIPELINES);
            list.push(made.clone());
            list.extend(
                kept.iter()
                    .flat_map(|kept| kept.iter())
                    .filter(|kept| kept.generation != generation)
                    .take(KEPT_PIPELINES - 1)
                    .cloned(),
            );
            Some(Arc::new(list))
        });
        value
    }

    #[inline]
    fn find(&self, generation: u64) -> Option<Arc<T>> {
        let kept = self.cell.load();
        let kept = kept.as_deref()?;
        match kept.first() {
            Some(newest) if newest.generation == generation => Some(newest.value.clone()),
            _ => kept
                .iter()
                .find(|v| v.generation == generation)
                .map(|v| v.value.clone()),
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
