//! Telemetry setup: one [`init`] call, or a [`Telemetry::builder`] for control.
//!
//! With an OTLP endpoint (builder or `OTEL_EXPORTER_OTLP_ENDPOINT`) spans go to the collector
//! through a batch processor; without one they are printed as a tree on stderr by the
//! [`ConsoleExporter`](crate::ConsoleExporter). The returned [`TelemetryGuard`] flushes and shuts
//! everything down when dropped.

mod env;
#[cfg(feature = "otlp")]
mod otlp;
mod resource;

use std::fmt;
use std::time::Duration;

use opentelemetry::global;
use opentelemetry::trace::{TracerProvider as _, noop::NoopTracerProvider};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanExporter,
    TracerProviderBuilder,
};

pub use env::Protocol;

use crate::capture::{CaptureConfig, set_capture_config};
use crate::console::ConsoleExporter;
use crate::diagnostics::warn;
use crate::state;
use env::EnvSettings;
use resource::ResourceInputs;

/// Instrumentation scope name of the spans this crate makes.
pub const SCOPE_NAME: &str = "instrument";
/// Default timeout of one export and of shutdown.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the console exporter receives finished spans.
const CONSOLE_EXPORT_DELAY: Duration = Duration::from_millis(200);

/// Why setup did not install telemetry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetupError {
    /// Telemetry is installed already; drop its guard first.
    AlreadyInstalled,
    /// The exporter could not be built.
    Exporter(String),
    /// Flushing or shutting down failed (for example, the collector could not be reached).
    Shutdown(String),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::AlreadyInstalled => {
                f.write_str("telemetry is already installed; drop its guard first")
            }
            SetupError::Exporter(e) => write!(f, "cannot build the span exporter: {e}"),
            SetupError::Shutdown(e) => write!(f, "telemetry shutdown failed: {e}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// Sets telemetry up from the environment and returns its guard. Never fails: a problem is
/// reported on stderr and the program runs on without telemetry.
///
/// ```no_run
/// let _telemetry = instrument_runtime::init();
/// // ... instrumented code; spans are flushed when `_telemetry` drops ...
/// ```
pub fn init() -> TelemetryGuard {
    Telemetry::builder().install().unwrap_or_else(|error| {
        warn(&format!("telemetry not installed: {error}"));
        TelemetryGuard::inert()
    })
}

/// Entry point of the setup builder.
#[derive(Debug)]
pub struct Telemetry;

impl Telemetry {
    /// A builder reading the standard environment variables, which its own settings override.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::default()
    }
}

type ExporterSetup = Box<dyn FnOnce(TracerProviderBuilder) -> TracerProviderBuilder>;

/// Configures and installs the tracer provider.
///
/// ```no_run
/// use instrument_runtime::{Protocol, Telemetry};
/// let _telemetry = Telemetry::builder()
///     .service_name("checkout")
///     .service_version(env!("CARGO_PKG_VERSION"))
///     .endpoint("http://127.0.0.1:4317")
///     .protocol(Protocol::Grpc)
///     .install()
///     .expect("telemetry");
/// ```
#[derive(Default)]
pub struct TelemetryBuilder {
    resource: ResourceInputs,
    endpoint: Option<String>,
    protocol: Option<Protocol>,
    sampler: Option<Sampler>,
    exporter: Option<ExporterSetup>,
    capture: Option<CaptureConfig>,
    export_timeout: Option<Duration>,
    ignore_env: bool,
}

impl fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("resource", &self.resource)
            .field("endpoint", &self.endpoint)
            .field("protocol", &self.protocol)
            .field("custom_exporter", &self.exporter.is_some())
            .finish_non_exhaustive()
    }
}

impl TelemetryBuilder {
    /// `service.name`; default `OTEL_SERVICE_NAME`, else the executable's name.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.resource.service_name = Some(name.into());
        self
    }

    /// `service.version`, e.g. `env!("CARGO_PKG_VERSION")`.
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.resource.service_version = Some(version.into());
        self
    }

    /// `deployment.environment.name`; `production` leaves `device.id` out of the resource.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.resource.environment = Some(environment.into());
        self
    }

    /// An extra resource attribute.
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.resource.attributes.push((key.into(), value.into()));
        self
    }

    /// The OTLP endpoint, e.g. `http://127.0.0.1:4317`; default `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The OTLP protocol; default `OTEL_EXPORTER_OTLP_PROTOCOL`, else HTTP/protobuf.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// The sampler; default `OTEL_TRACES_SAMPLER`, else parent-based always-on.
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// Timeout of one export; default 10 s.
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = Some(timeout);
        self
    }

    /// Parameter capture limits and name lists.
    pub fn capture(mut self, config: CaptureConfig) -> Self {
        self.capture = Some(config);
        self
    }

    /// Sends spans to `exporter` through a batch processor instead of OTLP or the console.
    pub fn with_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.exporter = Some(Box::new(move |b| b.with_batch_exporter(exporter)));
        self
    }

    /// Sends each span to `exporter` as it ends, on the ending thread (for tests).
    pub fn with_simple_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.exporter = Some(Box::new(move |b| b.with_simple_exporter(exporter)));
        self
    }

    /// Ignores the `OTEL_*` environment variables (for tests).
    pub fn ignore_env(mut self) -> Self {
        self.ignore_env = true;
        self
    }

    /// Installs the tracer provider and returns the guard that shuts it down.
    ///
    /// With `OTEL_SDK_DISABLED=true` nothing is installed and the guard is inert.
    pub fn install(self) -> Result<TelemetryGuard, SetupError> {
        let env = if self.ignore_env {
            EnvSettings::default()
        } else {
            EnvSettings::from_process()
        };
        if env.sdk_disabled {
            return Ok(TelemetryGuard::inert());
        }
        if let Some(config) = self.capture.clone() {
            set_capture_config(config);
        }
        let mut resource_inputs = self.resource;
        resource_inputs.service_name = resource_inputs.service_name.or(env.service_name);
        let mut attributes = env.resource_attributes;
        attributes.append(&mut resource_inputs.attributes);
        resource_inputs.attributes = attributes;

        let sampler = self
            .sampler
            .or(env.sampler)
            .unwrap_or_else(|| Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
        let mut builder = SdkTracerProvider::builder()
            .with_resource(resource::build(&resource_inputs))
            .with_sampler(sampler);

        let endpoint = match self.endpoint {
            Some(endpoint) => env::valid_endpoint("the builder's endpoint", endpoint),
            None => env.endpoint,
        };
        let protocol = self
            .protocol
            .or(env.protocol)
            .unwrap_or(Protocol::HttpProtobuf);
        let timeout = self.export_timeout.unwrap_or(DEFAULT_EXPORT_TIMEOUT);
        let mut exporter_runtime = None;
        builder = match (self.exporter, endpoint) {
            (Some(setup), _) => setup(builder),
            (None, Some(endpoint)) => {
                let (processor, runtime) = otlp_processor(&endpoint, protocol, timeout)?;
                exporter_runtime = runtime;
                builder.with_span_processor(processor)
            }
            (None, None) => builder.with_span_processor(
                BatchSpanProcessor::builder(ConsoleExporter::stderr())
                    .with_batch_config(
                        BatchConfigBuilder::default()
                            .with_scheduled_delay(CONSOLE_EXPORT_DELAY)
                            .build(),
                    )
                    .build(),
            ),
        };
        let provider = builder.build();
        if !state::install_tracer(provider.tracer(SCOPE_NAME)) {
            let _ = provider.shutdown();
            return Err(SetupError::AlreadyInstalled);
        }
        global::set_tracer_provider(provider.clone());
        Ok(TelemetryGuard {
            provider: Some(provider),
            runtime: exporter_runtime,
            timeout,
        })
    }
}

#[cfg(feature = "otlp")]
type ExporterRuntime = tokio::runtime::Runtime;
#[cfg(not(feature = "otlp"))]
type ExporterRuntime = std::convert::Infallible;

#[cfg(feature = "otlp")]
fn stop_exporter_runtime(runtime: ExporterRuntime) {
    // Never blocks, so the guard may be dropped inside the application's async runtime.
    runtime.shutdown_background();
}

#[cfg(not(feature = "otlp"))]
fn stop_exporter_runtime(runtime: ExporterRuntime) {
    match runtime {}
}

#[cfg(feature = "otlp")]
fn otlp_processor(
    endpoint: &str,
    protocol: Protocol,
    timeout: Duration,
) -> Result<(BatchSpanProcessor, Option<ExporterRuntime>), SetupError> {
    let built = otlp::build(endpoint, protocol, timeout)?;
    let processor = BatchSpanProcessor::builder(built.exporter).build();
    Ok((processor, built.runtime))
}

#[cfg(not(feature = "otlp"))]
fn otlp_processor(
    endpoint: &str,
    _protocol: Protocol,
    _timeout: Duration,
) -> Result<(BatchSpanProcessor, Option<ExporterRuntime>), SetupError> {
    Err(SetupError::Exporter(format!(
        "an OTLP endpoint ({endpoint}) is set but the `otlp` feature is off"
    )))
}

/// Keeps telemetry installed; dropping it flushes pending spans and shuts the provider down.
#[must_use = "telemetry is shut down when the guard is dropped"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    runtime: Option<ExporterRuntime>,
    timeout: Duration,
}

impl fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("installed", &self.provider.is_some())
            .finish()
    }
}

impl TelemetryGuard {
    /// A guard that owns nothing: telemetry is off.
    pub fn inert() -> Self {
        Self {
            provider: None,
            runtime: None,
            timeout: DEFAULT_EXPORT_TIMEOUT,
        }
    }

    /// Whether this guard installed telemetry.
    pub fn is_installed(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports every finished span now.
    pub fn force_flush(&self) -> Result<(), SetupError> {
        match &self.provider {
            Some(provider) => provider
                .force_flush()
                .map_err(|e| SetupError::Shutdown(e.to_string())),
            None => Ok(()),
        }
    }

    /// Flushes and shuts down now, reporting failure (a dropped guard only logs it).
    pub fn shutdown(mut self) -> Result<(), SetupError> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), SetupError> {
        let Some(provider) = self.provider.take() else {
            return Ok(());
        };
        state::uninstall_tracer();
        global::set_tracer_provider(NoopTracerProvider::new());
        let result = provider
            .shutdown_with_timeout(self.timeout)
            .map_err(|e| SetupError::Shutdown(e.to_string()));
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
