//! The pipeline the macros and integrations record into, and how they find it: one global
//! default (what `install()` sets) and a per-thread scoped override (what
//! `TelemetryGuard::set_default` sets), as `tracing`'s dispatcher does with `with_default`.
//!
//! The lookup is the hot path's: while no scope is open anywhere, two loads (the count of open
//! scopes and the global pointer) and a test; inside a scope, one thread-local load more.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use opentelemetry_sdk::metrics::SdkMeterProvider;

use super::InstalledTracer;
use super::extensions::Extensions;
use super::switches;

/// Everything one installed telemetry setup records into: the tracer and the sink of the
/// toolkit's own spans, the meter and logger providers, and the per-pipeline state of the export
/// accounting and the integrations (kept as extensions, so that this layer does not name them).
#[derive(Debug)]
pub(crate) struct Pipeline {
    /// Unique for the life of the process; never zero. Instruments made from this pipeline's
    /// meter provider are cached under it.
    pub(crate) id: u64,
    pub(crate) tracer: Option<InstalledTracer>,
    pub(crate) meter_provider: Option<SdkMeterProvider>,
    #[cfg(feature = "tracing")]
    pub(crate) logger: Option<opentelemetry_sdk::logs::SdkLogger>,
    /// Whether log records print under their span in the console tree.
    #[cfg(feature = "tracing")]
    pub(crate) console_logs: bool,
    /// Whether it is or was the global default: then it keeps the process's configuration,
    /// pools and counts rather than its own, also while it shuts down.
    process_wide: AtomicBool,
    extensions: Extensions,
}

/// A number no one was given before: pipeline ids, configuration generations, sink ids.
pub(crate) fn unique_number() -> u64 {
    DISPATCH.next_number.fetch_add(1, Ordering::Relaxed)
}

impl Pipeline {
    /// A pipeline recording into `tracer` and `meter_provider`, with `extensions` made while
    /// its processors were built.
    pub(crate) fn new(
        tracer: Option<InstalledTracer>,
        meter_provider: Option<SdkMeterProvider>,
        extensions: Extensions,
    ) -> Self {
        Self {
            id: unique_number(),
            tracer,
            meter_provider,
            #[cfg(feature = "tracing")]
            logger: None,
            #[cfg(feature = "tracing")]
            console_logs: false,
            process_wide: AtomicBool::new(false),
            extensions,
        }
    }

    /// This pipeline's `T`, made with `T::default()` on first use.
    pub(crate) fn extension<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        self.extensions.get_or_default()
    }

    /// Runs `f` with this pipeline's `T` (made on first use), without taking a reference count
    /// of it once it is made.
    #[inline]
    pub(crate) fn with_extension<T: Default + Send + Sync + 'static, R>(
        &self,
        f: impl FnOnce(&T) -> R,
    ) -> R {
        match self.extensions.find::<T>() {
            Some(found) => f(found),
            None => f(&self.extension::<T>()),
        }
    }
}

/// How the pipeline in force is found, and the numbers handed out once each.
struct Dispatch {
    /// Scoped overrides open on any thread: while none is, no thread-local is read.
    scopes: AtomicUsize,
    /// The global default pipeline. A pipeline that stops being the default is never freed: a
    /// call on another thread may still be reading it (its providers are shut down by its
    /// guard, so what stays is a small shell).
    global: AtomicPtr<Pipeline>,
    /// The last pipeline that was the global default (kept, like every one), whose counts stay
    /// readable after it was shut down.
    last_global: AtomicPtr<Pipeline>,
    /// The next [`unique_number`]. Starts at 2, so that none is 0 ("none") or 1 (a
    /// configuration cell's first generation).
    next_number: AtomicU64,
}

static DISPATCH: Dispatch = Dispatch {
    scopes: AtomicUsize::new(0),
    global: AtomicPtr::new(ptr::null_mut()),
    last_global: AtomicPtr::new(ptr::null_mut()),
    next_number: AtomicU64::new(2),
};

thread_local! {
    /// The calling thread's scoped override, kept alive by the [`DefaultGuard`] that set it.
    static SCOPED: Cell<*const Pipeline> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with the pipeline in force on the calling thread: its scoped override, else the
/// global default; `None` when there is neither.
#[inline(always)]
pub(crate) fn with_current<R>(f: impl FnOnce(&Pipeline) -> R) -> Option<R> {
    let current = current();
    // SAFETY: the global pointer comes from `Arc::into_raw` and is never freed; a scoped one is
    // kept alive by its `DefaultGuard`, which lives on this thread and cannot drop while `f` runs.
    unsafe { current.as_ref() }.map(f)
}

/// Runs `f` with the pipeline in force, or else the last global default (after its shutdown).
pub(crate) fn with_current_or_last<R>(f: impl FnOnce(&Pipeline) -> R) -> Option<R> {
    let current = current();
    let pipeline = if current.is_null() {
        DISPATCH.last_global.load(Ordering::Acquire)
    } else {
        current
    };
    // SAFETY: as in `with_current` (a global default, the last one included, is never freed).
    unsafe { pipeline.as_ref() }.map(f)
}

/// Runs `f` with the calling thread's scoped pipeline, if one is in force and was never the
/// global default (one load when no scope is open anywhere).
#[inline(always)]
pub(crate) fn with_scoped<R>(f: impl FnOnce(&Pipeline) -> R) -> Option<R> {
    if DISPATCH.scopes.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let scoped = SCOPED.try_with(Cell::get).unwrap_or(ptr::null());
    // SAFETY: as in `with_current`.
    unsafe { scoped.as_ref() }
        .filter(|p| !p.process_wide.load(Ordering::Acquire))
        .map(f)
}

/// The pipeline in force on the calling thread: its scoped override, else the global default
/// (null for neither). Valid as long as `with_current` says.
#[inline(always)]
fn current() -> *const Pipeline {
    if DISPATCH.scopes.load(Ordering::Relaxed) == 0 {
        DISPATCH.global.load(Ordering::Acquire)
    } else {
        scoped_or_global()
    }
}

#[inline(never)]
fn scoped_or_global() -> *const Pipeline {
    let scoped = SCOPED.try_with(Cell::get).unwrap_or(ptr::null());
    if scoped.is_null() {
        DISPATCH.global.load(Ordering::Acquire)
    } else {
        scoped
    }
}

/// The pipeline in force on the calling thread, held weakly (so that what a pipeline's own
/// provider keeps, such as an instrument's callback, does not keep the pipeline alive).
pub(crate) fn current_weak() -> Option<Weak<Pipeline>> {
    let current = current();
    if current.is_null() {
        return None;
    }
    // SAFETY: `current` came from an `Arc` that is alive (as in `with_current`); one strong
    // count is added before the `Arc` made from it is dropped again.
    let pipeline = unsafe {
        Arc::increment_strong_count(current);
        Arc::from_raw(current)
    };
    Some(Arc::downgrade(&pipeline))
}

/// Runs `f` with `pipeline` in force on the calling thread, if it is still alive (its own
/// scope, unless it is the global default already).
pub(crate) fn run_in<R>(pipeline: &Weak<Pipeline>, f: impl FnOnce() -> R) -> R {
    match pipeline.upgrade() {
        Some(pipeline)
            if !ptr::eq(
                Arc::as_ptr(&pipeline),
                DISPATCH.global.load(Ordering::Acquire),
            ) =>
        {
            let _scope = set_scoped(pipeline);
            f()
        }
        _ => f(),
    }
}

/// Makes `pipeline` the global default. `false` when another is the default already.
pub(crate) fn set_global(pipeline: &Arc<Pipeline>) -> bool {
    let raw = Arc::into_raw(pipeline.clone()).cast_mut();
    pipeline.process_wide.store(true, Ordering::Release);
    if DISPATCH
        .global
        .compare_exchange(ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        // SAFETY: `raw` came from `Arc::into_raw` just above and was not published.
        drop(unsafe { Arc::from_raw(raw) });
        pipeline.process_wide.store(false, Ordering::Release);
        return false;
    }
    DISPATCH.last_global.store(raw, Ordering::Release);
    refresh_switches();
    true
}

/// Stops `pipeline` being the global default, if it is.
pub(crate) fn unset_global(pipeline: &Arc<Pipeline>) {
    let raw = Arc::as_ptr(pipeline).cast_mut();
    if DISPATCH
        .global
        .compare_exchange(raw, ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        refresh_switches();
    }
}

/// Whether the global default records spans (metrics): what the switches follow while no scope
/// is open.
fn global_records() -> (bool, bool) {
    // SAFETY: as in `with_current`.
    match unsafe { DISPATCH.global.load(Ordering::Acquire).as_ref() } {
        Some(global) => (global.tracer.is_some(), global.meter_provider.is_some()),
        None => (false, false),
    }
}

/// Sets the call sites' switches: on while a scope is open anywhere (its thread decides per
/// call), else as the global default records.
fn refresh_switches() {
    switches::refresh(|| {
        if DISPATCH.scopes.load(Ordering::Acquire) > 0 {
            (true, true)
        } else {
            global_records()
        }
    });
}

/// Makes `pipeline` the calling thread's pipeline until the guard drops.
pub(crate) fn set_scoped(pipeline: Arc<Pipeline>) -> DefaultGuard {
    let previous = SCOPED
        .try_with(|scoped| scoped.replace(Arc::as_ptr(&pipeline)))
        .unwrap_or(ptr::null());
    if DISPATCH.scopes.fetch_add(1, Ordering::AcqRel) == 0 {
        refresh_switches();
    }
    DefaultGuard {
        _pipeline: pipeline,
        previous,
        not_send: PhantomData,
    }
}

/// Keeps a pipeline the calling thread's default until dropped, then restores the one before.
#[must_use = "the pipeline stops being the thread's default when the guard drops"]
#[derive(Debug)]
pub struct DefaultGuard {
    _pipeline: Arc<Pipeline>,
    previous: *const Pipeline,
    /// Dropped on the thread whose default it set.
    not_send: PhantomData<*const ()>,
}

impl Drop for DefaultGuard {
    fn drop(&mut self) {
        let previous = self.previous;
        let _ = SCOPED.try_with(|scoped| scoped.set(previous));
        if DISPATCH.scopes.fetch_sub(1, Ordering::AcqRel) == 1 {
            refresh_switches();
        }
    }
}

/// A pipeline of its own (recording nothing) made the calling thread's, for unit tests of what
/// keeps per-pipeline state.
#[cfg(test)]
pub(crate) fn own_pipeline() -> DefaultGuard {
    set_scoped(Arc::new(Pipeline::new(None, None, Extensions::default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_overrides_the_default_on_its_thread_only_and_restores_the_one_before() {
        let outer = Arc::new(Pipeline::new(None, None, Extensions::default()));
        let inner = Arc::new(Pipeline::new(None, None, Extensions::default()));
        let id = || with_current(|p| p.id);
        let global = id();
        {
            let _outer = set_scoped(outer.clone());
            assert_eq!(id(), Some(outer.id));
            {
                let _inner = set_scoped(inner.clone());
                assert_eq!(id(), Some(inner.id));
                let elsewhere = std::thread::spawn(move || with_current(|p| p.id))
                    .join()
                    .unwrap();
                assert_ne!(elsewhere, Some(inner.id));
            }
            assert_eq!(id(), Some(outer.id));
        }
        assert_eq!(id(), global);
    }

    #[test]
    fn extensions_are_made_once_per_pipeline() {
        let pipeline = Pipeline::new(None, None, Extensions::default());
        let first = pipeline.extension::<AtomicU64>();
        first.store(7, Ordering::Relaxed);
        assert_eq!(pipeline.extension::<AtomicU64>().load(Ordering::Relaxed), 7);
        let other = Pipeline::new(None, None, Extensions::default());
        assert_eq!(other.extension::<AtomicU64>().load(Ordering::Relaxed), 0);
    }
}
