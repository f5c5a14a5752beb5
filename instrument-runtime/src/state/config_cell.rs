//! The cell every runtime-changeable configuration lives in: the process's value (the global
//! default pipeline's), and the value a thread's scoped pipeline was given, which wins while
//! that pipeline is in force.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock};

use arc_swap::{ArcSwap, ArcSwapOption};

use super::pipeline;

/// A configuration: read without locking, replaced whole with `set`, or replaced until a
/// [`ConfigGuard`] drops with `temporary`. Every runtime-changeable configuration lives in one of
/// these and offers the same `*_config()` / `set_*` / `temporary_*` functions. Inside a scoped
/// pipeline (`TelemetryGuard::set_default`), `set` and `temporary` change that pipeline's value
/// only, so that tests on their own pipelines change configurations side by side.
pub(crate) struct ConfigCell<T: 'static> {
    value: LazyLock<ArcSwap<T>, fn() -> ArcSwap<T>>,
    generation: AtomicU32,
}

/// One scoped pipeline's value of a configuration, once set there.
struct ScopedValue<T> {
    value: ArcSwapOption<T>,
    generation: AtomicU32,
}

impl<T> Default for ScopedValue<T> {
    fn default() -> Self {
        Self {
            value: ArcSwapOption::const_empty(),
            generation: AtomicU32::new(0),
        }
    }
}

fn default_value<T: Default>() -> ArcSwap<T> {
    ArcSwap::from_pointee(T::default())
}

/// A generation number no cell has given out: distinct across cells and pipelines, so that a
/// thread's cache of one configuration never mistakes another's value for its own; never zero.
fn next_generation() -> u32 {
    (pipeline::unique_number() as u32).max(1)
}

impl<T: Default + 'static> ConfigCell<T> {
    /// A cell holding `T::default()` until set.
    pub(crate) const fn new() -> Self {
        Self {
            value: LazyLock::new(default_value::<T> as fn() -> ArcSwap<T>),
            generation: AtomicU32::new(1),
        }
    }
}

impl<T: Send + Sync + 'static> ConfigCell<T> {
    /// The value the scoped pipeline in force was given, if any (one load outside any scope).
    #[inline]
    fn scoped(&self) -> Option<Arc<ScopedValue<T>>> {
        pipeline::with_scoped(|p| p.extension::<ScopedValue<T>>())
            .filter(|scoped| scoped.generation.load(Ordering::Acquire) != 0)
    }

    /// The configuration in force.
    pub(crate) fn get(&self) -> Arc<T> {
        match self.scoped().and_then(|scoped| scoped.value.load_full()) {
            Some(value) => value,
            None => self.value.load_full(),
        }
    }

    /// Runs `f` with the configuration in force, without taking a reference count.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        match self.scoped().and_then(|scoped| scoped.value.load_full()) {
            Some(value) => f(&value),
            None => f(&self.value.load()),
        }
    }

    /// Replaces the configuration (the scoped pipeline's, inside one).
    pub(crate) fn set(&self, value: T) {
        match pipeline::with_scoped(|p| p.extension::<ScopedValue<T>>()) {
            Some(scoped) => {
                scoped.value.store(Some(Arc::new(value)));
                scoped
                    .generation
                    .store(next_generation(), Ordering::Release);
            }
            None => {
                self.value.store(Arc::new(value));
                self.generation.store(next_generation(), Ordering::Release);
            }
        }
    }

    /// Uses `value` until the returned guard drops (also when a panic unwinds); the scoped
    /// pipeline's value only, inside one.
    pub(crate) fn temporary(&'static self, value: T) -> ConfigGuard<T> {
        let target = match pipeline::with_scoped(|p| p.extension::<ScopedValue<T>>()) {
            Some(scoped) => {
                let previous = scoped.value.swap(Some(Arc::new(value)));
                let generation = scoped.generation.swap(next_generation(), Ordering::AcqRel);
                Restore::Scoped {
                    scoped,
                    previous,
                    generation,
                }
            }
            None => {
                let previous = self.value.swap(Arc::new(value));
                self.generation.store(next_generation(), Ordering::Release);
                Restore::Process {
                    cell: self,
                    previous,
                }
            }
        };
        ConfigGuard {
            restore: Some(target),
        }
    }

    /// A number that changes whenever the configuration in force is replaced, or another
    /// pipeline's comes in force; never zero.
    #[inline]
    pub(crate) fn generation(&self) -> u32 {
        match self.scoped() {
            Some(scoped) => scoped.generation.load(Ordering::Acquire),
            None => self.generation.load(Ordering::Acquire),
        }
    }
}

/// What a [`ConfigGuard`] puts back.
enum Restore<T: 'static> {
    Process {
        cell: &'static ConfigCell<T>,
        previous: Arc<T>,
    },
    Scoped {
        scoped: Arc<ScopedValue<T>>,
        previous: Option<Arc<T>>,
        generation: u32,
    },
}

/// Restores the configuration that was in force before a `temporary_*` call when dropped.
#[must_use = "the previous configuration is restored when the guard drops"]
pub struct ConfigGuard<T: 'static> {
    restore: Option<Restore<T>>,
}

impl<T: 'static> std::fmt::Debug for ConfigGuard<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigGuard").finish_non_exhaustive()
    }
}

impl<T: 'static> Drop for ConfigGuard<T> {
    fn drop(&mut self) {
        match self.restore.take() {
            Some(Restore::Process { cell, previous }) => {
                cell.value.store(previous);
                cell.generation.store(next_generation(), Ordering::Release);
            }
            Some(Restore::Scoped {
                scoped,
                previous,
                generation,
            }) => {
                let restored = if previous.is_some() {
                    next_generation()
                } else {
                    generation
                };
                scoped.value.store(previous);
                scoped.generation.store(restored, Ordering::Release);
            }
            None => {}
        }
    }
}
