//! The guard setup returns: keeps telemetry installed, flushes and shuts it down when dropped.

use std::fmt;
use std::time::Duration;

use opentelemetry::global;
use opentelemetry::metrics::NoopMeterProvider;
use opentelemetry::trace::noop::NoopTracerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::{DEFAULT_SHUTDOWN_TIMEOUT, ExporterRuntime, SetupError, stop_exporter_runtime};
use crate::diagnostics::warn;
use crate::state;

/// Keeps telemetry installed; dropping it flushes pending spans and metrics and shuts the
/// providers down.
#[must_use = "telemetry is shut down when the guard is dropped"]
pub struct TelemetryGuard {
    pub(super) tracer_provider: Option<SdkTracerProvider>,
    pub(super) meter_provider: Option<SdkMeterProvider>,
    #[cfg(feature = "tracing")]
    pub(super) logger_provider: Option<opentelemetry_sdk::logs::SdkLoggerProvider>,
    pub(super) runtime: Option<ExporterRuntime>,
    pub(super) timeout: Duration,
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
        if let Some(provider) = self.tracer_provider.take() {
            state::uninstall_tracer();
            global::set_tracer_provider(NoopTracerProvider::new());
            if let Err(e) = provider.shutdown_with_timeout(self.timeout) {
                result = Err(SetupError::Shutdown(e.to_string()));
            }
            super::accounting::report_drops();
            super::tail_sampling::install(None);
        }
        if let Some(provider) = self.meter_provider.take() {
            state::uninstall_meter_provider();
            global::set_meter_provider(NoopMeterProvider::new());
            if let Err(e) = provider.shutdown_with_timeout(self.timeout) {
                result = result.and(Err(SetupError::Shutdown(e.to_string())));
            }
        }
        #[cfg(feature = "tracing")]
        if let Some(provider) = self.logger_provider.take() {
            if let Err(e) = super::logs::shutdown(provider, self.timeout) {
                result = result.and(Err(SetupError::Shutdown(e)));
            }
        }
        if let Some(runtime) = self.runtime.take() {
            stop_exporter_runtime(runtime);
        }
        result
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown_inner() {
            warn(&error.to_string());
        }
    }
}
