//! Process-wide instrumentation state: the "is anything recording" flags, the installed tracer
//! and meter provider, the hooks integrations register on the span lifecycle, and the cell type
//! every runtime-changeable configuration lives in.
//!
//! The flags are the only thing the generated code reads on the off path: one relaxed atomic
//! load.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use arc_swap::{ArcSwap, ArcSwapOption};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Meter, MeterProvider as _, NoopMeterProvider};
use opentelemetry::trace::{SpanContext, SpanRef, Status};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracer;

pub(crate) mod clock;
mod inline_params;
mod record_sink;
mod sampling;
pub(crate) mod scope;
mod span_record;
mod switches;

pub(crate) use inline_params::INLINE_INTEGER_BYTES;
pub(crate) use record_sink::RecordSink;
pub(crate) use sampling::HeadSampler;
pub(crate) use span_record::{CodeLocation, SpanRecord};
pub(crate) use switches::CallSiteSwitch;
pub use switches::enabled;

/// The instrumentation scope (meter and tracer name) of everything the toolkit records.
pub const SCOPE_NAME: &str = "instrument";

static TRACER: ArcSwapOption<InstalledTracer> = ArcSwapOption::const_empty();
static METRICS_ENABLED: AtomicBool = AtomicBool::new(false);
static METER_PROVIDER: ArcSwapOption<SdkMeterProvider> = ArcSwapOption::const_empty();
static METER_GENERATION: AtomicU64 = AtomicU64::new(1);
static SPAN_END_HOOKS: ArcSwapOption<Vec<SpanEndHook>> = ArcSwapOption::const_empty();
/// Whether any end-of-span hook is registered: the one load every span end pays.
static HAS_SPAN_END_HOOKS: AtomicBool = AtomicBool::new(false);

/// What the end of a span records on it (how the call ended, an end-of-span hook's events),
/// whether the span is the toolkit's own or one held in an OpenTelemetry context.
pub(crate) trait EndingSpan {
    /// The span's ids.
    fn span_context(&self) -> &SpanContext;
    /// Whether the span records what is set on it.
    fn is_recording(&self) -> bool;
    /// Sets an attribute.
    fn set_attribute(&mut self, attribute: KeyValue);
    /// Adds an event.
    fn add_event(&mut self, name: Cow<'static, str>, attributes: Vec<KeyValue>);
    /// Sets the status (`Ok` over `Error` over `Unset`, as the SDK orders them).
    fn set_status(&mut self, status: Status);
}

impl EndingSpan for SpanRef<'_> {
    fn span_context(&self) -> &SpanContext {
        SpanRef::span_context(self)
    }

    fn is_recording(&self) -> bool {
        SpanRef::is_recording(self)
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        SpanRef::set_attribute(self, attribute);
    }

    fn add_event(&mut self, name: Cow<'static, str>, attributes: Vec<KeyValue>) {
        SpanRef::add_event(self, name, attributes);
    }

    fn set_status(&mut self, status: Status) {
        SpanRef::set_status(self, status);
    }
}

/// A function an integration registers to run when a span the toolkit started is about to end.
pub(crate) type SpanEndHook = fn(&mut dyn EndingSpan);

/// Registers `hook` to run at the end of every span the toolkit ends (once per function).
pub(crate) fn register_span_end_hook(hook: SpanEndHook) {
    SPAN_END_HOOKS.rcu(|hooks| {
        let mut updated: Vec<SpanEndHook> = hooks.as_deref().cloned().unwrap_or_default();
        if !updated.iter().any(|h| std::ptr::fn_addr_eq(*h, hook)) {
            updated.push(hook);
        }
        Some(Arc::new(updated))
    });
    HAS_SPAN_END_HOOKS.store(true, Ordering::Release);
}

/// Runs the registered end-of-span hooks on `span`: one load where there are none.
#[inline(always)]
pub(crate) fn run_span_end_hooks(span: &mut dyn EndingSpan) {
    if HAS_SPAN_END_HOOKS.load(Ordering::Acquire) {
        run_registered_hooks(span);
    }
}

#[inline(never)]
fn run_registered_hooks(span: &mut dyn EndingSpan) {
    if let Some(hooks) = &*SPAN_END_HOOKS.load() {
        for hook in hooks.iter() {
            hook(span);
        }
    }
}

/// The installed tracer: the SDK's, for spans built through it, and where the toolkit's own
/// spans go when it built the provider's processors.
#[derive(Debug)]
pub(crate) struct InstalledTracer {
    pub(crate) sdk: SdkTracer,
    pub(crate) records: Option<Arc<RecordSink>>,
    /// Where an instrumented call's span is made current.
    pub(crate) current_span: CurrentSpan,
}

/// Where the span of an instrumented call (`#[trace_method]`) is made current while the call
/// runs; set with `TelemetryBuilder::current_span`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CurrentSpan {
    /// In an attached `opentelemetry::Context` (the default): the span is the span of
    /// `Context::current()` on the thread or task running the call, as if OpenTelemetry code had
    /// made it. Third-party instrumentation started inside the call is its child, tags it with
    /// `get_active_span`, and propagates its ids.
    #[default]
    Context,
    /// On the toolkit's own thread-local stack, with no context allocated, attached and
    /// detached per call (~170 fewer instructions a call on this project's benches). The
    /// trade-off: OpenTelemetry code sees the span only through
    /// `instrument::current_context()`; `Context::current()` alone does not hold it, so
    /// third-party spans started inside the call get the wrong parent unless the caller attaches
    /// `current_context()` first.
    ThreadStack,
}

/// Installs `tracer` as the one the macros record into, with the sink of the toolkit's own
/// spans when setup built the provider's processors. Returns `false` when one is installed
/// already.
pub(crate) fn install_tracer(
    tracer: SdkTracer,
    records: Option<Arc<RecordSink>>,
    current_span: CurrentSpan,
) -> bool {
    if records.is_some() {
        clock::calibrate();
    }
    let installed = InstalledTracer {
        sdk: tracer,
        records,
        current_span,
    };
    let previous =
        TRACER.compare_and_swap(&None::<Arc<InstalledTracer>>, Some(Arc::new(installed)));
    if previous.is_some() {
        return false;
    }
    switches::set_enabled(true);
    true
}

/// Removes the installed tracer; instrumented calls go back to the off path.
pub(crate) fn uninstall_tracer() {
    switches::set_enabled(false);
    TRACER.store(None);
}

/// Runs `f` with the installed tracer and the sink of the toolkit's own spans, if any.
#[inline]
pub(crate) fn with_installed_tracer<R>(f: impl FnOnce(&InstalledTracer) -> R) -> Option<R> {
    let guard = TRACER.load();
    guard.as_deref().map(f)
}

/// Hands the toolkit's ended spans, waiting in the threads' buffers for the collector thread,
/// to the installed provider's processors now.
pub(crate) fn hand_over_ended_spans() {
    with_installed_tracer(|installed| {
        if let Some(records) = &installed.records {
            records.drain();
        }
    });
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

/// A process-wide configuration: read without locking, replaced whole with `set`, or replaced
/// until a [`ConfigGuard`] drops with `temporary`. Every runtime-changeable configuration lives
/// in one of these and offers the same `*_config()` / `set_*` / `temporary_*` functions.
pub(crate) struct ConfigCell<T: 'static> {
    value: LazyLock<ArcSwap<T>, fn() -> ArcSwap<T>>,
    generation: AtomicU32,
}

fn default_value<T: Default>() -> ArcSwap<T> {
    ArcSwap::from_pointee(T::default())
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

impl<T: 'static> ConfigCell<T> {
    /// The configuration in force.
    pub(crate) fn get(&self) -> Arc<T> {
        self.value.load_full()
    }

    /// Runs `f` with the configuration in force, without taking a reference count.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.value.load())
    }

    /// Replaces the configuration.
    pub(crate) fn set(&self, value: T) {
        self.value.store(Arc::new(value));
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Uses `value` until the returned guard drops (also when a panic unwinds).
    pub(crate) fn temporary(&'static self, value: T) -> ConfigGuard<T> {
        let previous = self.value.swap(Arc::new(value));
        self.generation.fetch_add(1, Ordering::Release);
        ConfigGuard {
            cell: self,
            previous: Some(previous),
        }
    }

    /// A number that changes whenever the configuration is replaced; never zero.
    #[inline]
    pub(crate) fn generation(&self) -> u32 {
        self.generation.load(Ordering::Acquire)
    }
}

/// Restores the configuration that was in force before a `temporary_*` call when dropped.
#[must_use = "the previous configuration is restored when the guard drops"]
pub struct ConfigGuard<T: 'static> {
    cell: &'static ConfigCell<T>,
    previous: Option<Arc<T>>,
}

impl<T: 'static> std::fmt::Debug for ConfigGuard<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigGuard").finish_non_exhaustive()
    }
}

impl<T: 'static> Drop for ConfigGuard<T> {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            self.cell.value.store(previous);
            self.cell.generation.fetch_add(1, Ordering::Release);
        }
    }
}

/// A configuration the setup builder can install: [`CaptureConfig`](crate::CaptureConfig),
/// the database [`InstrumentationConfig`](crate::db::InstrumentationConfig), ... Pass it to
/// `Telemetry::builder().config(..)`.
pub trait RuntimeConfig: Send + 'static {
    /// Makes this the configuration in force (what its `set_*` function does).
    fn install(self);
}

/// A function an integration registers to run once telemetry is installed (the `tracing`
/// bridge installs its subscriber this way). Registered by the facade before setup runs.
pub type InstallHook = fn();

static INSTALL_HOOKS: ArcSwapOption<Vec<InstallHook>> = ArcSwapOption::const_empty();

/// Registers `hook` to run after every successful setup (once per function).
pub fn register_install_hook(hook: InstallHook) {
    INSTALL_HOOKS.rcu(|hooks| {
        let mut updated: Vec<InstallHook> = hooks.as_deref().cloned().unwrap_or_default();
        if !updated.iter().any(|h| std::ptr::fn_addr_eq(*h, hook)) {
            updated.push(hook);
        }
        Some(Arc::new(updated))
    });
}

/// Runs the registered install hooks.
pub(crate) fn run_install_hooks() {
    if let Some(hooks) = &*INSTALL_HOOKS.load() {
        for hook in hooks.iter() {
            hook();
        }
    }
}

#[cfg(feature = "tracing")]
mod logs {
    use std::sync::atomic::{AtomicBool, Ordering};

    use arc_swap::ArcSwapOption;
    use opentelemetry::logs::LoggerProvider as _;
    use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};

    static LOGGER: ArcSwapOption<SdkLogger> = ArcSwapOption::const_empty();
    static CONSOLE_LOGS: AtomicBool = AtomicBool::new(false);

    /// Installs the provider log records are emitted into.
    pub(crate) fn install_logger_provider(provider: SdkLoggerProvider) {
        LOGGER.store(Some(std::sync::Arc::new(
            provider.logger(super::SCOPE_NAME),
        )));
    }

    /// Removes the installed logger.
    pub(crate) fn uninstall_logger_provider() {
        LOGGER.store(None);
    }

    /// Runs `f` with the installed logger, if any.
    pub(crate) fn with_logger<R>(f: impl FnOnce(&SdkLogger) -> R) -> Option<R> {
        LOGGER.load().as_deref().map(f)
    }

    /// Sets whether log records print under their span in the console tree.
    pub(crate) fn set_console_logs(on: bool) {
        CONSOLE_LOGS.store(on, Ordering::Release);
    }

    /// Whether log records print under their span in the console tree.
    pub(crate) fn console_logs() -> bool {
        CONSOLE_LOGS.load(Ordering::Acquire)
    }
}

#[cfg(feature = "tracing")]
pub(crate) use logs::{
    console_logs, install_logger_provider, set_console_logs, uninstall_logger_provider, with_logger,
};
