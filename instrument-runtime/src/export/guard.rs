//! The guard setup returns: keeps telemetry installed, flushes and shuts it down when dropped.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::global;
use opentelemetry::metrics::NoopMeterProvider;
use opentelemetry::trace::noop::NoopTracerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::error::SetupError;
use super::stats::{ExportCounters, ExportStats};
use crate::diagnostics::warn;
use crate::state;

/// Default bound on shutdown: the queue is drained and exported within it, or given up.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// The runtime driving the gRPC exporters, owned by the guard.
#[cfg(feature = "otlp")]
pub(crate) type ExporterRuntime = tokio::runtime::Runtime;
#[cfg(not(feature = "otlp"))]
pub(crate) type ExporterRuntime = std::convert::Infallible;

#[cfg(feature = "otlp")]
pub(crate) fn stop_exporter_runtime(runtime: ExporterRuntime) {
    // Never blocks, so the guard may be dropped inside the application's async runtime.
    runtime.shutdown_background();
}

#[cfg(not(feature = "otlp"))]
pub(crate) fn stop_exporter_runtime(runtime: ExporterRuntime) {
    match runtime {}
}

/// Keeps telemetry installed; dropping it flushes pending spans and metrics and shuts the
/// providers down.
#[must_use = "telemetry is shut down when the guard is dropped"]
pub struct TelemetryGuard {
    /// What the macros and integrations find when this pipeline is in force.
    pub(crate) pipeline: Option<Arc<state::Pipeline>>,
    /// Whether the pipeline is the global default (and its providers OpenTelemetry's).
    pub(crate) global: bool,
    pub(crate) tracer_provider: Option<SdkTracerProvider>,
    pub(crate) meter_provider: Option<SdkMeterProvider>,
    #[cfg(feature = "tracing")]
    pub(crate) logger_provider: Option<opentelemetry_sdk::logs::SdkLoggerProvider>,
    pub(crate) runtime: Option<ExporterRuntime>,
    pub(crate) timeout: Duration,
}

impl fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("tracing", &self.tracer_provider.is_some())
            .field("metrics", &self.meter_provider.is_some())
            .finish()
    }
}

impl TelemetryGuard {
    /// A guard that owns nothing: telemetry is off.
    pub fn inert() -> Self {
        Self {
            pipeline: None,
            global: false,
            tracer_provider: None,
            meter_provider: None,
            #[cfg(feature = "tracing")]
            logger_provider: None,
            runtime: None,
            timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }

    /// Whether this guard installed telemetry.
    pub fn is_installed(&self) -> bool {
        self.tracer_provider.is_some()
    }

    /// What this pipeline's export has done so far (see [`export_stats`](crate::export_stats)).
    pub fn export_stats(&self) -> ExportStats {
        let Some(pipeline) = &self.pipeline else {
            return ExportStats::default();
        };
        if let Some(records) = pipeline.tracer.as_ref().and_then(|t| t.records.as_ref()) {
            records.drain();
        }
        pipeline.extension::<ExportCounters>().stats()
    }

    /// Makes this pipeline the calling thread's until the returned guard drops (then the one in
    /// force before is again): instrumented code running on this thread, including the tasks
    /// a current-thread async runtime polls here, records into it instead of the global default.
    /// An inert guard's pipeline records nothing.
    pub fn set_default(&self) -> state::DefaultGuard {
        let pipeline = self.pipeline.clone().unwrap_or_else(|| {
            Arc::new(state::Pipeline::new(
                None,
                None,
                state::Extensions::default(),
            ))
        });
        state::set_scoped(pipeline)
    }

    /// Runs `f` with this pipeline as the calling thread's (see [`set_default`](Self::set_default)).
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _default = self.set_default();
        f()
    }

    /// Makes the pipeline the global default and its providers OpenTelemetry's global ones.
    pub(crate) fn make_global(&mut self) -> Result<(), SetupError> {
        let Some(pipeline) = &self.pipeline else {
            return Ok(());
        };
        if !state::set_global(pipeline) {
            return Err(SetupError::AlreadyInstalled);
        }
        self.global = true;
        if let Some(provider) = &self.tracer_provider {
            global::set_tracer_provider(provider.clone());
        }
        if let Some(provider) = &self.meter_provider {
            global::set_meter_provider(provider.clone());
        }
        Ok(())
    }

    /// Exports every finished span and the current metrics now.
    pub fn force_flush(&self) -> Result<(), SetupError> {
        let failed =
            |e: opentelemetry_sdk::error::OTelSdkError| SetupError::Shutdown(e.to_string());
        if let Some(provider) = &self.tracer_provider {
            provider.force_flush().map_err(failed)?;
        }
        if let Some(provider) = &self.meter_provider {
            provider.force_flush().map_err(failed)?;
        }
        #[cfg(feature = "tracing")]
        if let Some(provider) = &self.logger_provider {
            provider.force_flush().map_err(failed)?;
        }
        Ok(())
    }

    /// Flushes and shuts down now, reporting failure (a dropped guard only logs it).
    pub fn shutdown(mut self) -> Result<(), SetupError> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), SetupError> {
        let mut result = Ok(());
        let counters = self
            .pipeline
            .as_ref()
            .map(|p| p.extension::<ExportCounters>());
        if let Some(pipeline) = self.pipeline.take() {
            if self.global {
                state::unset_global(&pipeline);
                global::set_tracer_provider(NoopTracerProvider::new());
                global::set_meter_provider(NoopMeterProvider::new());
            }
        }
        let refused_metric_exports = || {
            counters
                .as_ref()
                .map_or(0, |c| c.stats().metric_exports_refused)
        };
        if let Some(provider) = self.tracer_provider.take() {
            if let Err(e) = provider.shutdown_with_timeout(self.timeout) {
                result = Err(SetupError::Shutdown(shutdown_failure(
                    "span",
                    &e.to_string(),
                    false,
                )));
            }
            if let Some(counters) = &counters {
                counters.report_drops();
            }
        }
        if let Some(provider) = self.meter_provider.take() {
            let refused_before = refused_metric_exports();
            if let Err(e) = provider.shutdown_with_timeout(self.timeout) {
                let export_failed = refused_metric_exports() > refused_before;
                result = result.and(Err(SetupError::Shutdown(shutdown_failure(
                    "metric",
                    &e.to_string(),
                    export_failed,
                ))));
            }
        }
        #[cfg(feature = "tracing")]
        if let Some(provider) = self.logger_provider.take() {
            if let Err(e) = provider.shutdown_with_timeout(self.timeout) {
                result = result.and(Err(SetupError::Shutdown(shutdown_failure(
                    "log",
                    &e.to_string(),
                    false,
                ))));
            }
        }
        if let Some(runtime) = self.runtime.take() {
            stop_exporter_runtime(runtime);
        }
        result
    }
}

/// What failed when the `signal` ("span", "metric", "log") provider did not shut down, in the
/// toolkit's words: the SDK's `error` nests its processors' and readers' errors in their debug
/// form (`Operation failed: [InternalFailure("Failed to shutdown")]`, a periodic reader whose
/// last export failed), which names neither the signal nor what went wrong. `export_failed`
/// says the last export was counted as failed meanwhile, and so reported as it failed.
fn shutdown_failure(signal: &str, error: &str, export_failed: bool) -> String {
    if error.contains("Timeout(") || error.contains("timed out") {
        return format!("the last {signal} export did not finish in time: what it held is dropped");
    }
    if export_failed {
        return format!("the last {signal} export failed: what it held is dropped");
    }
    match sdk_reason(error) {
        Some(reason) => format!("the {signal} exporter did not shut down cleanly: {reason}"),
        None => format!("the {signal} exporter's last export or its shutdown failed"),
    }
}

/// The innermost reason an SDK error gives, without its wrapping (`Operation failed: `,
/// `Shutdown errors: [InternalFailure("..")]`); `None` when it says nothing more than that
/// shutting down failed.
fn sdk_reason(error: &str) -> Option<&str> {
    let inner = match error.rfind("InternalFailure(") {
        Some(at) => &error[at + "InternalFailure(".len()..],
        None => error.strip_prefix("Operation failed: ").unwrap_or(error),
    };
    let reason = inner.trim_matches(|c: char| c.is_whitespace() || "\\\"()[]".contains(c));
    (!reason.is_empty() && reason != "Failed to shutdown").then_some(reason)
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown_inner() {
            warn(&error.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_sdk::error::OTelSdkError;

    use super::*;

    /// The text of an SDK provider error wrapping `inner` as the SDK does: in debug form, in a
    /// list, with `prefix`.
    fn wrapped(prefix: &str, inner: OTelSdkError) -> String {
        OTelSdkError::InternalFailure(format!("{prefix}{:?}", vec![inner])).to_string()
    }

    #[test]
    fn shutdown_failures_are_said_in_the_toolkits_words() {
        let reader_failed = wrapped(
            "",
            OTelSdkError::InternalFailure("Failed to shutdown".into()),
        );
        assert_eq!(
            reader_failed,
            r#"Operation failed: [InternalFailure("Failed to shutdown")]"#
        );
        for (signal, error, export_failed, expected) in [
            (
                "metric",
                reader_failed.clone(),
                true,
                "the last metric export failed: what it held is dropped",
            ),
            (
                "metric",
                reader_failed,
                false,
                "the metric exporter's last export or its shutdown failed",
            ),
            (
                "metric",
                wrapped("", OTelSdkError::Timeout(Duration::from_secs(5))),
                false,
                "the last metric export did not finish in time: what it held is dropped",
            ),
            (
                "span",
                OTelSdkError::Timeout(Duration::from_secs(30)).to_string(),
                false,
                "the last span export did not finish in time: what it held is dropped",
            ),
            (
                "span",
                wrapped(
                    "Shutdown errors: ",
                    OTelSdkError::InternalFailure("the worker thread is gone".into()),
                ),
                false,
                "the span exporter did not shut down cleanly: the worker thread is gone",
            ),
            (
                "log",
                OTelSdkError::AlreadyShutdown.to_string(),
                false,
                "the log exporter did not shut down cleanly: Shutdown already invoked",
            ),
        ] {
            let said = shutdown_failure(signal, &error, export_failed);
            assert_eq!(said, expected, "{error}");
            assert!(!said.contains("InternalFailure"), "{said}");
        }
    }
}
