//! The `tracing` bridge (feature `tracing`): one trace for the whole service.
//!
//! - `tracing` spans (the application's `info_span!`, sqlx's, hyper's) join the toolkit's traces
//!   in both directions, with their fields as attributes under the capture rules;
//! - `tracing` events, and `log` records, become OpenTelemetry log records carrying the current
//!   trace and span ids, exported over OTLP logs (`OTEL_LOGS_EXPORTER`,
//!   `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`), or printed under their span on the console (outside any
//!   span, on a line of their own); the OpenTelemetry crates' own events are left out;
//! - [`WithTraceIds`] prints `trace_id`/`span_id` on `tracing_subscriber::fmt` lines.
//!
//! `instrument::init()` installs a global subscriber with the bridge and an `EnvFilter` from
//! `RUST_LOG` (default `info`). When the application sets its own global subscriber, setup says
//! so once, and the application adds [`layer()`] to its registry:
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt as _;
//! use tracing_subscriber::util::SubscriberInitExt as _;
//!
//! let _ = tracing_subscriber::registry()
//!     .with(tracing_subscriber::EnvFilter::new("info"))
//!     .with(instrument::tracing::layer())
//!     .with(tracing_subscriber::fmt::layer())
//!     .try_init();
//! let _telemetry = instrument::init(); // says the global subscriber is taken, once
//! ```

mod bridged;
mod events;
mod fields;
mod global;
mod spans;
mod text;

use std::sync::atomic::Ordering;

use tracing_core::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;

pub use bridged::TARGET_KEY;
pub use events::error_events_mark_spans;
pub use text::WithTraceIds;

use crate::diagnostics::warn;

/// The bridge as a `tracing_subscriber` layer, for an application that builds its own
/// subscriber: `tracing_subscriber::registry().with(instrument::tracing::layer())`.
pub fn layer<S>() -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    spans::Bridge
}

/// Sets the registry with `filter` and the bridge as the global subscriber; `false` when one is
/// set already.
fn set_global<F>(filter: F) -> bool
where
    F: Layer<tracing_subscriber::Registry> + Send + Sync + 'static,
{
    let subscriber = tracing_subscriber::registry().with(filter).with(layer());
    ::tracing::subscriber::set_global_default(subscriber).is_ok()
}

/// Installs the bridge as the global `tracing` subscriber (with `RUST_LOG` filtering, default
/// `info`) and routes `log` records into it. Done by `instrument::init()` and the builder when
/// the feature is on; when the application already set a global subscriber, it says so once and
/// leaves it (add [`layer()`] to it instead).
pub fn install() {
    if global::GLOBAL.installed.swap(true, Ordering::AcqRel) {
        return;
    }
    let directives =
        crate::environment::preference("RUST_LOG").unwrap_or_else(|| "info".to_owned());
    let installed = match directives.parse::<Targets>() {
        // Plain `target=level` directives: the static filter, which costs nothing per span.
        Ok(targets) => set_global(targets),
        // Span and field directives need `EnvFilter`'s per-span matching.
        Err(_) => set_global(EnvFilter::try_new(&directives).unwrap_or_else(|error| {
            warn(&format!("RUST_LOG: {error}; using `info`"));
            EnvFilter::new("info")
        })),
    };
    if !installed {
        warn(
            "a global `tracing` subscriber is already set: add `instrument::tracing::layer()` to it \
             so that tracing spans and logs join the toolkit's traces",
        );
        return;
    }
    let _ = tracing_log::LogTracer::init();
}
