//! One-line OpenTelemetry instrumentation for Rust.
//!
//! Put [`trace_method`] on a function or an `impl` block and call [`init`] in `main`: every call
//! becomes a span with its parameters recorded (bounded in bytes, large or secret values
//! excluded or redacted), exported over OTLP or printed as a span tree when no collector is set.
//!
//! ```no_run
//! use instrument::trace_method;
//!
//! #[trace_method]
//! fn checkout(order_id: &str, items: u32) -> Result<u32, String> {
//!     if items == 0 {
//!         return Err(format!("order {order_id} is empty"));
//!     }
//!     Ok(items * 100)
//! }
//!
//! let _telemetry = instrument::init();
//! let _ = checkout("o-1", 3);
//! ```
//!
//! The everyday items are at the root: the macros, [`init`] and the [`Telemetry`] builder,
//! helpers on the current span ([`get_trace_id`], [`set_span_attributes`], [`log_event`],
//! [`current_context`] for OpenTelemetry code). The
//! rest is grouped by topic: [`capture`] (what parameters record), [`context`] (request-scoped
//! attributes), [`metrics`] (instrument types and sets), [`export`] (exporters and export
//! statistics), and the integrations [`http`], [`db`], [`pool`] and `genai` (LLM calls), each
//! behind its cargo feature.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

pub use instrument_macros::{Metrics, metric, trace_method};
pub use instrument_runtime::{
    ConfigGuard, CurrentSpan, DefaultGuard, KeyValue, Protocol, RuntimeConfig, SetupError,
    SpanKind, TailSampling, TelemetryBuilder, TelemetryGuard, current_context, get_trace_id,
    is_enabled, log_event, metrics_enabled, set_span_attributes,
};

/// Installs telemetry configured from the standard `OTEL_*` variables and returns the guard
/// that flushes and shuts it down when dropped: OTLP when an endpoint is set, else the console.
/// With the `tracing` feature it also installs the `tracing` bridge as the global subscriber.
///
/// ```no_run
/// let _telemetry = instrument::init();
/// ```
pub fn init() -> TelemetryGuard {
    prepare_integrations();
    instrument_runtime::__private::init()
}

/// Setup in code: `Telemetry::builder()` overrides what `init()` reads from the environment.
///
/// ```no_run
/// use instrument::{Protocol, Telemetry};
///
/// let _telemetry = Telemetry::builder()
///     .service_name("agent-server")
///     .endpoint("http://127.0.0.1:4317")
///     .protocol(Protocol::Grpc)
///     .install()
///     .expect("telemetry");
/// ```
#[derive(Debug)]
pub struct Telemetry;

impl Telemetry {
    /// A builder starting from the environment's settings.
    pub fn builder() -> TelemetryBuilder {
        prepare_integrations();
        instrument_runtime::__private::Telemetry::builder()
    }
}

/// Registers what the enabled integrations do once telemetry is installed.
fn prepare_integrations() {
    #[cfg(feature = "tracing")]
    instrument_runtime::register_install_hook(instrument_runtime::tracing_bridge::install);
}

#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub use instrument_runtime::tracing_bridge as tracing;

/// Parameter capture: limits, exclusion and secret lists, and how excluded values keep their
/// ids. The configuration is installed with `Telemetry::builder().config(..)` or changed at run
/// time with [`set_capture_config`](capture::set_capture_config) and
/// [`temporary_capture_config`](capture::temporary_capture_config).
///
/// ```
/// use instrument::capture::{CaptureConfig, capture_config, temporary_capture_config};
///
/// let mut limits = CaptureConfig::default();
/// limits.max_value_bytes = 64;
/// let _limits = temporary_capture_config(limits);
/// assert_eq!(capture_config().max_value_bytes, 64);
/// ```
pub mod capture {
    pub use instrument_runtime::{
        CaptureConfig, DEFAULT_CREDENTIAL_SCHEMES, DEFAULT_EXCLUDED, DEFAULT_MAX_SPAN_BYTES,
        DEFAULT_MAX_VALUE_BYTES, DEFAULT_NEVER_EXCLUDED, DEFAULT_SECRET_NAMES, Ids,
        MAX_ATTRIBUTES_PER_CALL, MAX_KEY_BYTES, MAX_LISTED_IDS, REDACTED, TRUNCATED_KEY,
        TRUNCATED_REASON_KEY, capture_config, find_ids, json_text, redact_text, redactions,
        set_capture_config, short_type_name, temporary_capture_config, write_redacted_json,
    };
}

pub use instrument_runtime::context;

/// Metrics: the instrument types a [`Metrics`] set declares (they record the
/// request's [`context`] attributes too), process-wide instrument sets, the meter
/// of the installed provider, and the console summary exporter.
///
/// ```
/// use instrument::Metrics;
/// use instrument::metrics::{Counter, Histogram};
///
/// #[derive(Metrics)]
/// #[metrics(scope = "agent")]
/// struct AgentMetrics {
///     /// Time to first token.
///     #[metric(name = "hist_ttft_ms", unit = "ms")]
///     ttft: Histogram<f64>,
///     /// User messages received.
///     #[metric(name = "count_user_message", unit = "1")]
///     user_messages: Counter<u64>,
/// }
///
/// AgentMetrics::global().user_messages.add(1, &[]);
/// AgentMetrics::global().ttft.record(120.0, &[]);
/// ```
pub mod metrics {
    pub use instrument_runtime::meter;
    pub use instrument_runtime::metrics::{
        AsyncInstrument, ConsoleMetricExporter, Counter, FUNCTION_KEY, Gauge, GlobalInstruments,
        Histogram, KeyValue, MODULE_KEY, Meter, ObservableGauge, ObservableUpDownCounter,
        RESULT_KEY, UpDownCounter, histogram_quantile, render_metrics,
    };
}

/// Where spans and metrics go: the console exporters (used when no OTLP endpoint is set), the
/// batch defaults, and the export accounting.
pub mod export {
    pub use instrument_runtime::{CANCELLED_EVENT, EXCEPTION_EVENT};
    pub use instrument_runtime::{
        ConsoleExporter, DEFAULT_EXPORT_TIMEOUT, DEFAULT_MAX_EXPORT_BATCH_SIZE,
        DEFAULT_MAX_QUEUE_SIZE, DEFAULT_SCHEDULED_DELAY, DEFAULT_SHUTDOWN_TIMEOUT, ExportStats,
        LOG_EVENT, MAX_QUEUED_BYTES, SCOPE_NAME, export_stats, instrumentation_failures,
        render_trace,
    };
}

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use instrument_runtime::http;

#[cfg(feature = "genai")]
#[cfg_attr(docsrs, doc(cfg(feature = "genai")))]
pub use instrument_runtime::genai;

pub use instrument_runtime::{db, pool};

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub use instrument_runtime::testing;

/// Items the macro expansions name. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use instrument_runtime::__private::*;
}
