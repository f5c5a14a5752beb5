//! Process-wide instrumentation state: the "is anything recording" flags, the installed tracer
//! and meter provider, the hooks integrations register on the span lifecycle, and the cell type
//! every runtime-changeable configuration lives in.
//!
//! The flags are the only thing the generated code reads on the off path: one relaxed atomic
//! load.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwapOption;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Meter, MeterProvider as _, NoopMeterProvider};
use opentelemetry::trace::{SpanContext, SpanRef, Status};
use opentelemetry_sdk::trace::SdkTracer;

pub(crate) mod clock;
mod config_cell;
mod ended_spans;
mod extensions;
mod inline_params;
mod pipeline;
mod record_sink;
mod sampling;
pub(crate) mod scope;
mod span_record;
mod switches;

pub(crate) use config_cell::ConfigCell;
pub use config_cell::ConfigGuard;
pub(crate) use ended_spans::EndedSpanSink;
pub(crate) use extensions::{Extensions, PreHashed};
pub(crate) use inline_params::INLINE_INTEGER_BYTES;
pub use pipeline::DefaultGuard;
#[cfg(test)]
pub(crate) use pipeline::own_pipeline;
pub(crate) use pipeline::{
    Pipeline, current_weak, run_in, set_global, set_scoped, unset_global, with_current,
    with_current_or_last, with_scoped,
};
pub(crate) use record_sink::RecordSink;
pub(crate) use sampling::HeadSampler;
pub(crate) use span_record::{CodeLocation, SpanRecord};
pub(crate) use switches::CallSiteSwitch;
pub use switches::{enabled, metrics_enabled};

/// The instrumentation scope (meter and tracer name) of everything the toolkit records.
pub const SCOPE_NAME: &str = "instrument";

/// The functions integrations register on the span lifecycle and on setup: code, the same for
/// every pipeline, so kept for the process.
struct Hooks {
    span_end: ArcSwapOption<Vec<SpanEndHook>>,
    /// Whether any end-of-span hook is registered: the one load every span end pays.
    any_span_end: AtomicBool,
    install: ArcSwapOption<Vec<InstallHook>>,
}

static HOOKS: Hooks = Hooks {
    span_end: ArcSwapOption::const_empty(),
    any_span_end: AtomicBool::new(false),
    install: ArcSwapOption::const_empty(),
};

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
    HOOKS.span_end.rcu(|hooks| {
        let mut updated: Vec<SpanEndHook> = hooks.as_deref().cloned().unwrap_or_default();
        if !updated.iter().any(|h| std::ptr::fn_addr_eq(*h, hook)) {
            updated.push(hook);
        }
        Some(Arc::new(updated))
    });
    HOOKS.any_span_end.store(true, Ordering::Release);
}

/// Runs the registered end-of-span hooks on `span`: one load where there are none.
#[inline(always)]
pub(crate) fn run_span_end_hooks(span: &mut dyn EndingSpan) {
    if HOOKS.any_span_end.load(Ordering::Acquire) {
        run_registered_hooks(span);
    }
}

#[inline(never)]
fn run_registered_hooks(span: &mut dyn EndingSpan) {
    if let Some(hooks) = &*HOOKS.span_end.load() {
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

impl InstalledTracer {
    /// The tracer the macros record into, with the sink of the toolkit's own spans when setup
    /// built the provider's processors.
    pub(crate) fn new(
        sdk: SdkTracer,
        records: Option<Arc<RecordSink>>,
        current_span: CurrentSpan,
    ) -> Self {
        if records.is_some() {
            clock::calibrate();
        }
        Self {
            sdk,
            records,
            current_span,
        }
    }
}

/// Runs `f` with the tracer of the pipeline in force and the sink of the toolkit's own spans,
/// if any.
#[inline]
pub(crate) fn with_installed_tracer<R>(f: impl FnOnce(&InstalledTracer) -> R) -> Option<R> {
    pipeline::with_current(|p| p.tracer.as_ref().map(f)).flatten()
}

/// Hands the toolkit's ended spans, waiting in the threads' buffers for the collector thread,
/// to the processors of the pipeline in force now.
pub(crate) fn hand_over_ended_spans() {
    with_installed_tracer(|installed| {
        if let Some(records) = &installed.records {
            records.drain();
        }
    });
}

/// A meter of the pipeline in force, or a no-op meter when there is none.
pub fn meter(scope: &'static str) -> Meter {
    pipeline::with_current(|p| p.meter_provider.as_ref().map(|m| m.meter(scope)))
        .flatten()
        .unwrap_or_else(|| NoopMeterProvider::new().meter(scope))
}

/// Names the pipeline in force (zero when there is none), so lazily created instruments know
/// to be created again from its meter provider.
pub(crate) fn meter_generation() -> u64 {
    pipeline::with_current(|p| p.id).unwrap_or(0)
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

/// Registers `hook` to run after every successful setup (once per function).
pub fn register_install_hook(hook: InstallHook) {
    HOOKS.install.rcu(|hooks| {
        let mut updated: Vec<InstallHook> = hooks.as_deref().cloned().unwrap_or_default();
        if !updated.iter().any(|h| std::ptr::fn_addr_eq(*h, hook)) {
            updated.push(hook);
        }
        Some(Arc::new(updated))
    });
}

/// Runs the registered install hooks.
pub(crate) fn run_install_hooks() {
    if let Some(hooks) = &*HOOKS.install.load() {
        for hook in hooks.iter() {
            hook();
        }
    }
}

/// Runs `f` with the logger of the pipeline in force, if any.
#[cfg(feature = "tracing")]
pub(crate) fn with_logger<R>(
    f: impl FnOnce(&opentelemetry_sdk::logs::SdkLogger) -> R,
) -> Option<R> {
    pipeline::with_current(|p| p.logger.as_ref().map(f)).flatten()
}

/// Whether log records print under their span in the console tree.
#[cfg(feature = "tracing")]
pub(crate) fn console_logs() -> bool {
    pipeline::with_current(|p| p.console_logs).unwrap_or(false)
}
