//! Telemetry setup: one [`init`] call, or a [`Telemetry::builder`] for control.
//!
//! With an OTLP endpoint (builder or `OTEL_EXPORTER_OTLP_ENDPOINT`) spans and metrics go to the
//! collector through a batch processor and a periodic reader; without one, spans are printed as
//! a tree on stderr by the [`ConsoleExporter`](crate::ConsoleExporter) and a summary of every
//! instrument is printed at shutdown. The returned [`TelemetryGuard`] flushes and shuts
//! everything down when dropped.

mod accounting;
mod context_attributes;
mod delivery;
mod diagnose;
mod env;
#[cfg(feature = "file")]
mod file;
mod guard;
#[cfg(feature = "tracing")]
mod logs;
#[cfg(feature = "otlp")]
mod otlp;
mod resource;
#[cfg(feature = "tls")]
mod tls;

use std::fmt;
use std::time::Duration;

use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    MeterProviderBuilder, PeriodicReader, SdkMeterProvider, Temporality,
};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SimpleSpanProcessor,
    SpanExporter, TracerProviderBuilder,
};

pub use accounting::{
    DEFAULT_MAX_EXPORT_BATCH_SIZE, DEFAULT_MAX_QUEUE_SIZE, DEFAULT_SCHEDULED_DELAY, ExportStats,
    MAX_QUEUED_BYTES, export_stats,
};
pub use env::Protocol;
pub use guard::TelemetryGuard;

use crate::console::ConsoleExporter;
use crate::diagnostics::warn;
use crate::metrics::ConsoleMetricExporter;
use crate::state;
use crate::state::RuntimeConfig;
use context_attributes::WithContextAttributes;
use env::{Destination, EnvSettings};
use resource::ResourceInputs;

pub use crate::state::SCOPE_NAME;
/// Default timeout of one export.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default bound on shutdown: the queue is drained and exported within it, or given up.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// Default interval between two metric exports to a collector (the specification's 60 s).
pub(crate) const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_secs(60);
/// How often the console exporter receives finished spans.
const CONSOLE_EXPORT_DELAY: Duration = Duration::from_millis(200);
/// The console metric summary is printed at shutdown, not periodically.
const CONSOLE_METRIC_INTERVAL: Duration = Duration::from_secs(365 * 24 * 3600);

/// Why setup did not install telemetry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetupError {
    /// Telemetry is installed already; drop its guard first.
    AlreadyInstalled,
    /// An exporter could not be built.
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
            SetupError::Exporter(e) => write!(f, "cannot build the exporter: {e}"),
            SetupError::Shutdown(e) => write!(f, "telemetry shutdown failed: {e}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// Sets telemetry up from the environment and returns its guard. Never fails: a problem is
/// reported on stderr and the program runs on without telemetry.
///
/// ```no_run
/// let _telemetry = instrument::init();
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

type SpanSetup = Box<dyn FnOnce(TracerProviderBuilder) -> TracerProviderBuilder>;
type MetricSetup = Box<dyn FnOnce(MeterProviderBuilder, Duration) -> MeterProviderBuilder>;

/// Configures and installs the tracer and meter providers.
///
/// ```no_run
/// use instrument::{Protocol, Telemetry};
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
    span_exporter: Option<SpanSetup>,
    metric_exporter: Option<MetricSetup>,
    metric_interval: Option<Duration>,
    temporality: Option<Temporality>,
    configs: Vec<Box<dyn FnOnce() + Send>>,
    export_timeout: Option<Duration>,
    shutdown_timeout: Option<Duration>,

    ignore_env: bool,
    #[cfg(feature = "tracing")]
    log_exporter: Option<LogSetup>,
}

/// How a custom log exporter becomes the logger provider.
#[cfg(feature = "tracing")]
type LogSetup =
    Box<dyn FnOnce(opentelemetry_sdk::Resource) -> opentelemetry_sdk::logs::SdkLoggerProvider>;

impl fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("resource", &self.resource)
            .field("endpoint", &self.endpoint)
            .field("protocol", &self.protocol)
            .field("custom_span_exporter", &self.span_exporter.is_some())
            .field("custom_metric_exporter", &self.metric_exporter.is_some())
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

    /// How long shutdown may take to drain and export what is queued; default 30 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Interval between metric exports; default `OTEL_METRIC_EXPORT_INTERVAL`, else 60 s.
    pub fn metric_export_interval(mut self, interval: Duration) -> Self {
        self.metric_interval = Some(interval);
        self
    }

    /// Metric temporality; default `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, else
    /// cumulative (the standard; the original package forced delta).
    pub fn temporality(mut self, temporality: Temporality) -> Self {
        self.temporality = Some(temporality);
        self
    }

    /// A runtime configuration to install with the providers: the parameter capture limits and
    /// name lists ([`CaptureConfig`](crate::CaptureConfig)), the database instrumentation settings, ... Each can be
    /// changed later with its `set_*` function, or for a scope with its `temporary_*` function.
    pub fn config(mut self, config: impl RuntimeConfig) -> Self {
        self.configs.push(Box::new(move || config.install()));
        self
    }

    /// Sends spans to `exporter` through a batch processor instead of OTLP or the console.
    pub fn with_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.span_exporter = Some(Box::new(move |b| {
            b.with_span_processor(WithContextAttributes(accounting::accounted_batch(
                exporter, None,
            )))
        }));
        self
    }

    /// Writes spans, metrics and (with the `tracing` feature) logs to the file at `path` as
    /// OTLP-JSON lines, one export request per line, instead of OTLP or the console (feature
    /// `file`; the `INSTRUMENT_EXPORT_FILE` variable does the same). A file that cannot be
    /// created is reported and the default exporters are used.
    #[cfg(feature = "file")]
    pub fn export_to_file(self, path: impl AsRef<std::path::Path>) -> Self {
        let path = path.as_ref();
        match file::FileExporter::create(path) {
            Ok(exporter) => {
                let builder = self
                    .with_exporter(exporter.clone())
                    .with_metric_exporter(exporter.clone());
                #[cfg(feature = "tracing")]
                let builder = builder.with_log_exporter(exporter);
                builder
            }
            Err(error) => {
                warn(&format!(
                    "cannot create the export file {}: {error}; using the default exporters",
                    path.display()
                ));
                self
            }
        }
    }

    /// Sends each span to `exporter` as it ends, on the ending thread (for tests).
    pub fn with_simple_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.span_exporter = Some(Box::new(move |b| {
            b.with_span_processor(WithContextAttributes(SimpleSpanProcessor::new(exporter)))
        }));
        self
    }

    /// Sends log records (from the `tracing` bridge) to `exporter` through a batch processor
    /// instead of OTLP or the console (`force_flush` on the guard exports what is queued).
    #[cfg(feature = "tracing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
    pub fn with_log_exporter<E>(mut self, exporter: E) -> Self
    where
        E: opentelemetry_sdk::logs::LogExporter + 'static,
    {
        self.log_exporter = Some(Box::new(move |resource| {
            opentelemetry_sdk::logs::SdkLoggerProvider::builder()
                .with_resource(resource)
                .with_batch_exporter(exporter)
                .build()
        }));
        self
    }

    /// Sends metrics to `exporter` through a periodic reader instead of OTLP or the console.
    pub fn with_metric_exporter<E: PushMetricExporter>(mut self, exporter: E) -> Self {
        self.metric_exporter = Some(Box::new(move |b, interval| {
            b.with_reader(
                PeriodicReader::builder(accounting::CountingMetricExporter(exporter))
                    .with_interval(interval)
                    .build(),
            )
        }));
        self
    }

    /// Ignores the `OTEL_*` environment variables (for tests).
    pub fn ignore_env(mut self) -> Self {
        self.ignore_env = true;
        self
    }

    /// Installs the tracer and meter providers and returns the guard that shuts them down.
    ///
    /// With `OTEL_SDK_DISABLED=true` nothing is installed and the guard is inert.
    pub fn install(self) -> Result<TelemetryGuard, SetupError> {
        #[cfg(feature = "file")]
        if !self.ignore_env && self.span_exporter.is_none() {
            if let Some(path) = std::env::var_os("INSTRUMENT_EXPORT_FILE") {
                return self.export_to_file(path).install_configured();
            }
        }
        self.install_configured()
    }

    /// [`TelemetryBuilder::install`] once the file variable has been looked at.
    fn install_configured(self) -> Result<TelemetryGuard, SetupError> {
        let env = if self.ignore_env {
            EnvSettings::default()
        } else {
            EnvSettings::from_process()
        };
        if env.sdk_disabled {
            return Ok(TelemetryGuard::inert());
        }
        for install in self.configs {
            install();
        }

        let mut resource_inputs = self.resource;
        resource_inputs.service_name = resource_inputs.service_name.or(env.service_name);
        let mut attributes = env.resource_attributes;
        attributes.append(&mut resource_inputs.attributes);
        resource_inputs.attributes = attributes;
        let resource = resource::build(&resource_inputs);

        let sampler = self
            .sampler
            .or(env.sampler)
            .unwrap_or_else(|| Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
        let mut spans = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_sampler(sampler);
        #[cfg(feature = "tracing")]
        let log_resource = resource.clone();
        let mut metrics = SdkMeterProvider::builder().with_resource(resource);

        let endpoint = match self.endpoint {
            Some(endpoint) => env::valid_endpoint("the builder's endpoint", endpoint),
            None => env.endpoint,
        };
        let protocol = self
            .protocol
            .or(env.protocol)
            .unwrap_or(Protocol::HttpProtobuf);
        let timeout = self
            .export_timeout
            .or(env.timeout)
            .unwrap_or(DEFAULT_EXPORT_TIMEOUT);
        let interval = self
            .metric_interval
            .or(env.metric_interval)
            .unwrap_or(DEFAULT_METRIC_EXPORT_INTERVAL);
        let temporality = self
            .temporality
            .or(env.temporality)
            .unwrap_or(Temporality::Cumulative);

        let traces_to = env::destination(
            "OTEL_TRACES_EXPORTER",
            env.traces_exporter.as_deref(),
            endpoint.is_some(),
        );
        let metrics_to = env::destination(
            "OTEL_METRICS_EXPORTER",
            env.metrics_exporter.as_deref(),
            endpoint.is_some() || env.metrics_endpoint.is_some(),
        );
        let wants_otlp = (traces_to == Destination::Otlp && self.span_exporter.is_none())
            || (metrics_to == Destination::Otlp && self.metric_exporter.is_none());
        let traces_endpoint = endpoint
            .clone()
            .unwrap_or_else(|| default_endpoint(protocol).to_owned());
        let mut otlp = if wants_otlp {
            let metrics_endpoint = env.metrics_endpoint.as_deref().unwrap_or(&traces_endpoint);
            Some(otlp_exporters(
                &OtlpTarget {
                    traces_endpoint: &traces_endpoint,
                    metrics_endpoint,
                    protocol,
                    timeout,
                    read_env: !self.ignore_env,
                },
                temporality,
            )?)
        } else {
            None
        };
        spans = match (
            self.span_exporter,
            otlp.as_mut().and_then(|o| o.spans.take()),
            traces_to,
        ) {
            (Some(setup), _, _) => setup(spans),
            (None, Some(processor), Destination::Otlp) => {
                spans.with_span_processor(WithContextAttributes(processor))
            }
            (None, _, Destination::Off) => spans,
            (None, _, _) => spans.with_span_processor(WithContextAttributes(
                BatchSpanProcessor::builder(ConsoleExporter::stderr())
                    .with_batch_config(
                        BatchConfigBuilder::default()
                            .with_scheduled_delay(CONSOLE_EXPORT_DELAY)
                            .build(),
                    )
                    .build(),
            )),
        };
        metrics = match (
            self.metric_exporter,
            otlp.as_mut().and_then(|o| o.metrics.take()),
            metrics_to,
        ) {
            (Some(setup), _, _) => setup(metrics, interval),
            (None, Some(reader), Destination::Otlp) => reader(metrics, interval),
            (None, _, Destination::Off) => metrics,
            (None, _, _) => metrics.with_reader(
                PeriodicReader::builder(ConsoleMetricExporter::stderr(temporality))
                    .with_interval(CONSOLE_METRIC_INTERVAL)
                    .build(),
            ),
        };

        let tracer_provider = spans.build();
        let meter_provider = metrics.build();
        if !state::install_tracer(tracer_provider.tracer(SCOPE_NAME)) {
            let _ = tracer_provider.shutdown();
            let _ = meter_provider.shutdown();
            return Err(SetupError::AlreadyInstalled);
        }
        state::install_meter_provider(meter_provider.clone());
        global::set_tracer_provider(tracer_provider.clone());
        global::set_meter_provider(meter_provider.clone());
        let runtime = otlp.and_then(|o| o.runtime);
        #[cfg(feature = "tracing")]
        let logger_provider = logs::build(logs::LogsInputs {
            ignore_env: self.ignore_env,
            endpoint: endpoint.as_deref(),
            #[cfg(feature = "otlp")]
            protocol,
            #[cfg(feature = "otlp")]
            timeout,
            resource: log_resource,
            #[cfg(feature = "otlp")]
            runtime: runtime.as_ref(),
            custom: self.log_exporter,
        });
        let guard = TelemetryGuard {
            tracer_provider: Some(tracer_provider),
            meter_provider: Some(meter_provider),
            #[cfg(feature = "tracing")]
            logger_provider,
            runtime,
            timeout: self.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
        };
        state::run_install_hooks();
        Ok(guard)
    }
}

/// OTLP pipelines not yet handed to a provider, and the runtime driving them.
struct OtlpPipelines {
    spans: Option<accounting::CountingProcessor>,
    metrics: Option<MetricSetup>,
    runtime: Option<ExporterRuntime>,
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

/// Where and how the OTLP exporters send.
// Read by the OTLP exporters only: without the `otlp` feature, setup says it is off.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(crate) struct OtlpTarget<'a> {
    /// Base endpoint of spans (and of logs, unless they have their own).
    pub traces_endpoint: &'a str,
    /// Base endpoint of metrics (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else the traces one).
    pub metrics_endpoint: &'a str,
    pub protocol: Protocol,
    pub timeout: Duration,
    /// Whether the environment may add to the transport (certificate files).
    pub read_env: bool,
}

/// The OTLP endpoint the specification names when none is set: `localhost` on the protocol's
/// conventional port.
fn default_endpoint(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "http://localhost:4317",
        Protocol::HttpProtobuf => "http://localhost:4318",
    }
}

#[cfg(feature = "otlp")]
fn otlp_exporters(
    target: &OtlpTarget<'_>,
    temporality: Temporality,
) -> Result<OtlpPipelines, SetupError> {
    let built = otlp::build(target, temporality)?;
    let metric_exporter = built.metrics;
    Ok(OtlpPipelines {
        spans: Some(accounting::accounted_batch(
            built.spans,
            Some(accounting::ExportTarget {
                endpoint: target.traces_endpoint.to_owned(),
                protocol: target.protocol,
            }),
        )),
        metrics: Some(Box::new(move |b, interval| {
            b.with_reader(
                PeriodicReader::builder(accounting::CountingMetricExporter(metric_exporter))
                    .with_interval(interval)
                    .build(),
            )
        })),
        runtime: built.runtime,
    })
}

#[cfg(not(feature = "otlp"))]
fn otlp_exporters(
    target: &OtlpTarget<'_>,
    _temporality: Temporality,
) -> Result<OtlpPipelines, SetupError> {
    Err(SetupError::Exporter(format!(
        "an OTLP endpoint ({}) is set but the `otlp` feature is off",
        target.traces_endpoint
    )))
}
