//! Process-wide instrumentation state: the "is anything recording" flag and the installed tracer.
//!
//! The flag is the only thing the generated code reads on the off path: one relaxed atomic load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwapOption;
use opentelemetry_sdk::trace::SdkTracer;

static ENABLED: AtomicBool = AtomicBool::new(false);
static TRACER: ArcSwapOption<SdkTracer> = ArcSwapOption::const_empty();

/// Whether a tracer is installed and recording. The off path of every instrumented call.
#[inline(always)]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Installs `tracer` as the one the macros record into. Returns `false` when one is installed already.
pub(crate) fn install_tracer(tracer: SdkTracer) -> bool {
    let previous = TRACER.compare_and_swap(&None::<Arc<SdkTracer>>, Some(Arc::new(tracer)));
    if previous.is_some() {
        return false;
    }
    ENABLED.store(true, Ordering::Release);
    true
}

/// Removes the installed tracer; instrumented calls go back to the off path.
pub(crate) fn uninstall_tracer() {
    ENABLED.store(false, Ordering::Release);
    TRACER.store(None);
}

/// Runs `f` with the installed tracer, if any.
#[inline]
pub(crate) fn with_tracer<R>(f: impl FnOnce(&SdkTracer) -> R) -> Option<R> {
    let guard = TRACER.load();
    guard.as_deref().map(f)
}
