//! Runtime of the `instrument` toolkit.
//!
//! The macros of `instrument-macros` emit thin wrappers that call into this crate; everything
//! that runs lives here. The core is one-directional — `state` (process-wide cells) →
//! `capture` (parameter values) → `span` (what the expansions call) → `setup` (providers and
//! exporters, the console) — and the integrations (`http`, `db`, `pool`) import the core and
//! register hooks on it; the core never imports them.
//!
//! Users depend on the `instrument` facade crate, which re-exports this one by topic; its paths
//! (`instrument::...`) are the ones the examples here use.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod call_name;
mod capture;
mod console;
pub mod context;
mod current;
pub mod db;
mod diagnostics;
mod environment;
mod export;
#[cfg(feature = "genai")]
#[cfg_attr(docsrs, doc(cfg(feature = "genai")))]
pub mod genai;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod metrics;
pub mod pool;
mod process_wide;
mod setup;
mod span;
mod state;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod tracing_bridge;

pub use capture::{
    CaptureConfig, DEFAULT_CREDENTIAL_SCHEMES, DEFAULT_EXCLUDED, DEFAULT_MAX_SPAN_BYTES,
    DEFAULT_MAX_VALUE_BYTES, DEFAULT_NEVER_EXCLUDED, DEFAULT_SECRET_NAMES, Ids, MAX_LISTED_IDS,
    REDACTED, TRUNCATED_KEY, TRUNCATED_REASON_KEY, capture_config, find_ids, json_text,
    redact_text, redactions, set_capture_config, short_type_name, temporary_capture_config,
    write_redacted_json,
};
pub use console::{ConsoleExporter, LOG_EVENT, render_trace};
pub use current::{
    MAX_ATTRIBUTES_PER_CALL, MAX_KEY_BYTES, get_trace_id, log_event, set_span_attributes,
};
pub use diagnostics::instrumentation_failures;
pub use export::{
    DEFAULT_MAX_EXPORT_BATCH_SIZE, DEFAULT_MAX_QUEUE_SIZE, DEFAULT_SCHEDULED_DELAY,
    DEFAULT_SHUTDOWN_TIMEOUT, ExportStats, MAX_QUEUED_BYTES, Protocol, SetupError, TailSampling,
    TelemetryGuard, export_stats,
};
pub use instrument_macros::Metrics;
pub use metrics::ConsoleMetricExporter;
pub use opentelemetry::KeyValue;
pub use opentelemetry::trace::SpanKind;
pub use setup::{DEFAULT_EXPORT_TIMEOUT, SCOPE_NAME, TelemetryBuilder};
pub use span::{CANCELLED_EVENT, EXCEPTION_EVENT, current_context};
pub use state::enabled as is_enabled;
pub use state::{
    ConfigGuard, CurrentSpan, DefaultGuard, InstallHook, RuntimeConfig, meter, metrics_enabled,
    register_install_hook,
};

/// Items the macro expansions and the facade name. Not a stable API: telemetry is installed
/// through the facade's `instrument::init` and `instrument::Telemetry`, which also set up the
/// enabled integrations.
#[doc(hidden)]
pub mod __private {
    pub use crate::capture::{Capture, Param, ParamRule, ShortText, Written};
    pub use crate::metrics::{
        FromInstrument, GlobalInstruments, MetricMeta, MetricSpec, Timed, Timer, once,
        pipeline_callback,
    };
    pub use crate::setup::{Telemetry, init};
    pub use crate::span::{
        ActiveSpan, Instrumented, Outcome, ParamMeta, Returned, SpanMeta, SpanStart, Traced, armed,
        begin, once_traced, start, trace_call,
    };
    pub use crate::state::{enabled, metrics_enabled};
    pub use opentelemetry;
    pub use opentelemetry::trace::SpanKind;

    /// The traits whose methods the expansions call; imported anonymously.
    pub mod prelude {
        pub use crate::capture::{
            ViaDebug as _, ViaJson as _, ViaOpaque as _, ViaScalar as _, ViaText as _,
        };
        pub use crate::span::{
            ViaAnyError as _, ViaDebugError as _, ViaDisplayError as _, ViaPlainValue as _,
        };
    }
}
