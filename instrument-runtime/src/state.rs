//! Process-wide instrumentation state: the "is anything recording" flags, the installed tracer
//! and meter provider.
//!
//! The flags are the only thing the generated code reads on the off path: one relaxed atomic
//! load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arc_swap::ArcSwapOption;
use opentelemetry::metrics::{Meter, MeterProvider as _, NoopMeterProvider};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracer;

static ENABLED: AtomicBool = AtomicBool::new(false);
static TRACER: ArcSwapOption<SdkTracer> = ArcSwapOption::const_empty();
static METRICS_ENABLED: AtomicBool = AtomicBool::new(false);
static METER_PROVIDER: ArcSwapOption<SdkMeterProvider> = ArcSwapOption::const_empty();
static METER_GENERATION: AtomicU64 = AtomicU64::new(1);

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

/// Whether a meter provider is installed. The off path of every `#[metric]` call.
#[inline(always)]
pub fn metrics_enabled() -> bool {
    METRICS_ENABLED.load(Ordering::Relaxed)
}

/// Installs the meter provider instruments are created from. Returns `false` when one is
/// installed already.
pub(crate) fn install_meter_provider(provider: SdkMeterProvider) -> bool {
    let previous =
        METER_PROVIDER.compare_and_swap(&None::<Arc<SdkMeterProvider>>, Some(Arc::new(provider)));
    if previous.is_some() {
        return false;
    }
    METER_GENERATION.fetch_add(1, Ordering::AcqRel);
    METRICS_ENABLED.store(true, Ordering::Release);
    true
}

/// Removes the installed meter provider; instruments made from it stop recording.
pub(crate) fn uninstall_meter_provider() {
    METRICS_ENABLED.store(false, Ordering::Release);
    METER_PROVIDER.store(None);
    METER_GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// A meter of the installed provider, or a no-op meter when none is installed.
pub fn meter(scope: &'static str) -> Meter {
    match &*METER_PROVIDER.load() {
        Some(provider) => provider.meter(scope),
        None => NoopMeterProvider::new().meter(scope),
    }
}

/// Changes whenever a meter provider is installed or removed, so lazily created instruments
/// know to be created again from the provider in force.
pub(crate) fn meter_generation() -> u64 {
    METER_GENERATION.load(Ordering::Acquire)
}
