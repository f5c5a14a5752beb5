//! Telemetry setup: one [`init`] call, or a [`Telemetry::builder`] for control.
//!
//! With an OTLP endpoint (builder or `OTEL_EXPORTER_OTLP_ENDPOINT`) spans and metrics go to the
//! collector through a batch processor and a periodic reader; without one, spans are printed as
//! a tree on stderr by the [`ConsoleExporter`](crate::ConsoleExporter) and a summary of every
//! instrument is printed at shutdown. The returned [`TelemetryGuard`] flushes and shuts
//! everything down when dropped.

mod env;
#[cfg(feature = "tracing")]
mod logs;
mod options;
mod resource;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    MeterProviderBuilder, PeriodicReader, SdkMeterProvider, Temporality,
};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, ShouldSample, SimpleSpanProcessor,
    SpanExporter,
};

use crate::console::ConsoleExporter;
use crate::diagnostics::warn;
use crate::export::{
    self, ExporterRuntime, OtlpTarget, Protocol, SetupError, SharedProcessor, TailSampling,
    TelemetryGuard, WithContextAttributes,
};
use crate::metrics::ConsoleMetricExporter;
use crate::state;
use crate::state::{CurrentSpan, HeadSampler, RuntimeConfig};
use env::{Destination, EnvSettings};
use resource::ResourceInputs;

pub use crate::state::SCOPE_NAME;
/// Drops the SDK's own `otel.sdk.*` diagnostics (its log processors record them once bound
/// instruments are on): they are not the application's metrics and would fill the exports and
/// the console table.
fn without_sdk_self_metrics(
    instrument: &opentelemetry_sdk::metrics::Instrument,
) -> Option<opentelemetry_sdk::metrics::Stream> {
    if instrument.scope().name() != "otel.sdk" {
        return None;
    }
    opentelemetry_sdk::metrics::Stream::builder()
        .with_aggregation(opentelemetry_sdk::metrics::Aggregation::Drop)
        .build()
        .ok()
}

/// Default timeout of one export.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default interval between two metric exports to a collector (the specification's 60 s).
pub(crate) const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_secs(60);
/// How often the console exporter receives finished spans.
const CONSOLE_EXPORT_DELAY: Duration = Duration::from_millis(200);
/// The console metric summary is printed at shutdown, not periodically.
const CONSOLE_METRIC_INTERVAL: Duration = Duration::from_secs(365 * 24 * 3600);

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
        TelemetryBuilder::new()
    }
}

type SpanSetup = Box<dyn FnOnce(&export::BatchSettings, &export::Accounting) -> SpanPipeline>;

/// The span processors a setup chose, and whether spans must reach them on the thread that
/// ended them (a simple processor's promise) instead of through the collector thread.
pub(crate) struct SpanPipeline {
    processor: Box<dyn state::EndedSpanSink>,
    on_ending_thread: bool,
}

impl SpanPipeline {
    fn batched(processor: impl state::EndedSpanSink + 'static) -> Self {
        Self {
            processor: Box::new(processor),
            on_ending_thread: false,
        }
    }
}
type MetricSetup =
    Box<dyn FnOnce(MeterProviderBuilder, Duration, &export::Accounting) -> MeterProviderBuilder>;

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
pub struct TelemetryBuilder {
    resource: ResourceInputs,
    endpoint: Option<String>,
    protocol: Option<Protocol>,
    sampler: Option<HeadSampler>,
    current_span: CurrentSpan,
    tail_sampling: Option<TailSampling>,
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
    /// A builder with nothing set: the environment's settings and the defaults apply.
    pub(crate) fn new() -> Self {
        Self {
            resource: ResourceInputs::default(),
            endpoint: None,
            protocol: None,
            sampler: None,
            current_span: CurrentSpan::default(),
            tail_sampling: None,
            span_exporter: None,
            metric_exporter: None,
            metric_interval: None,
            temporality: None,
            configs: Vec::new(),
            export_timeout: None,
            shutdown_timeout: None,
            ignore_env: false,
            #[cfg(feature = "tracing")]
            log_exporter: None,
        }
    }

    /// Builds the pipeline and makes it the global default: instrumented code on every thread
    /// records into it, and its providers become OpenTelemetry's global tracer and meter
    /// providers. Returns the guard that shuts it down.
    ///
    /// With `OTEL_SDK_DISABLED=true` nothing is installed and the guard is inert.
    pub fn install(self) -> Result<TelemetryGuard, SetupError> {
        let mut guard = self.build()?;
        guard.make_global()?;
        Ok(guard)
    }

    /// Builds the pipeline without making it the global default: it records what runs on a
    /// thread while [`TelemetryGuard::set_default`] holds it there, so that tests (or tenants)
    /// each record into their own pipeline side by side. OpenTelemetry's global providers are
    /// left alone.
    ///
    /// ```
    /// use instrument::Telemetry;
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    ///
    /// #[instrument::trace_method]
    /// fn work() -> u32 { 7 }
    ///
    /// let spans = InMemorySpanExporter::default();
    /// let pipeline = Telemetry::builder()
    ///     .ignore_env()
    ///     .with_simple_exporter(spans.clone())
    ///     .build()
    ///     .expect("telemetry");
    /// {
    ///     let _default = pipeline.set_default();
    ///     assert_eq!(work(), 7);
    /// }
    /// pipeline.force_flush().unwrap();
    /// assert_eq!(spans.get_finished_spans().unwrap()[0].name, "work");
    /// ```
    pub fn build(self) -> Result<TelemetryGuard, SetupError> {
        crate::environment::set_ignored(self.ignore_env);
        let env = if self.ignore_env {
            EnvSettings::default()
        } else {
            EnvSettings::from_process()
        };
        #[cfg(feature = "file")]
        if self.span_exporter.is_none() {
            if let Some(path) = &env.export_file {
                let path = path.clone();
                return self.export_to_file(path).install_configured(env);
            }
        }
        self.install_configured(env)
    }

    /// [`TelemetryBuilder::install`] once the file variable has been looked at.
    fn install_configured(self, env: EnvSettings) -> Result<TelemetryGuard, SetupError> {
        if env.sdk_disabled {
            return Ok(TelemetryGuard::inert());
        }
        // The environment's setting first: a config given to the builder wins over it.
        #[cfg(feature = "genai")]
        if let Some(capture) = env.genai_capture_message_content {
            crate::genai::apply_environment(capture);
        }
        if env.db_monitor_joined_loading.is_some() || env.db_lazy_loading_only.is_some() {
            crate::db::apply_environment(env.db_monitor_joined_loading, env.db_lazy_loading_only);
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

        let head_sampler = self
            .sampler
            .or(env.sampler.map(HeadSampler::new))
            .unwrap_or_default();
        let sampler = head_sampler.sdk.clone();
        let extensions = state::Extensions::default();
        let accounting = export::Accounting::new(
            extensions.get_or_default::<export::ExportCounters>(),
            self.tail_sampling.or(env.tail_sampling),
        );
        let span_resource = resource.clone();
        let mut spans = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_sampler(sampler)
            .with_span_limits(env.span_limits);
        #[cfg(feature = "tracing")]
        let log_resource = resource.clone();
        let mut metrics = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_view(without_sdk_self_metrics);

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
                &env.batch,
                &accounting,
            )?)
        } else {
            None
        };
        let pipeline: Option<SpanPipeline> = match (
            self.span_exporter,
            otlp.as_mut().and_then(|o| o.spans.take()),
            traces_to,
        ) {
            (Some(setup), _, _) => Some(setup(&env.batch, &accounting)),
            (None, Some(processor), Destination::Otlp) => Some(SpanPipeline::batched(
                WithContextAttributes::new(processor, &accounting),
            )),
            (None, _, Destination::Off) => None,
            (None, _, _) => Some(SpanPipeline::batched(WithContextAttributes::new(
                BatchSpanProcessor::builder(ConsoleExporter::stderr())
                    .with_batch_config(
                        BatchConfigBuilder::default()
                            .with_scheduled_delay(CONSOLE_EXPORT_DELAY)
                            .build(),
                    )
                    .build(),
                &accounting,
            ))),
        };
        let records = pipeline.map(|mut pipeline| {
            pipeline.processor.set_resource(&span_resource);
            let sink = state::RecordSink::start(
                pipeline.processor,
                head_sampler,
                env.span_limits,
                pipeline.on_ending_thread,
            );
            spans = std::mem::take(&mut spans).with_span_processor(SharedProcessor(sink.clone()));
            sink
        });
        metrics = match (
            self.metric_exporter,
            otlp.as_mut().and_then(|o| o.metrics.take()),
            metrics_to,
        ) {
            (Some(setup), _, _) => setup(metrics, interval, &accounting),
            (None, Some(reader), Destination::Otlp) => reader(metrics, interval, &accounting),
            (None, _, Destination::Off) => metrics,
            (None, _, _) => metrics.with_reader(
                PeriodicReader::builder(ConsoleMetricExporter::stderr(temporality))
                    .with_interval(CONSOLE_METRIC_INTERVAL)
                    .build(),
            ),
        };

        let tracer_provider = spans.build();
        let meter_provider = metrics.build();
        let runtime = otlp.and_then(|o| o.runtime);
        #[cfg(feature = "tracing")]
        let logs = logs::build(logs::LogsInputs {
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
        #[allow(unused_mut, reason = "set below with the `tracing` feature")]
        let mut pipeline = state::Pipeline::new(
            Some(state::InstalledTracer::new(
                tracer_provider.tracer(SCOPE_NAME),
                records,
                self.current_span,
            )),
            Some(meter_provider.clone()),
            extensions,
        );
        #[cfg(feature = "tracing")]
        {
            pipeline.logger = logs
                .provider
                .as_ref()
                .map(|provider| opentelemetry::logs::LoggerProvider::logger(provider, SCOPE_NAME));
            pipeline.console_logs = logs.console;
        }
        let guard = TelemetryGuard {
            pipeline: Some(Arc::new(pipeline)),
            global: false,
            tracer_provider: Some(tracer_provider),
            meter_provider: Some(meter_provider),
            #[cfg(feature = "tracing")]
            logger_provider: logs.provider,
            runtime,
            timeout: self
                .shutdown_timeout
                .unwrap_or(export::DEFAULT_SHUTDOWN_TIMEOUT),
        };
        state::run_install_hooks();
        Ok(guard)
    }
}

/// OTLP pipelines not yet handed to a provider, and the runtime driving them.
struct OtlpPipelines {
    spans: Option<export::CountingProcessor>,
    metrics: Option<MetricSetup>,
    runtime: Option<ExporterRuntime>,
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
    batch: &export::BatchSettings,
    accounting: &export::Accounting,
) -> Result<OtlpPipelines, SetupError> {
    let built = export::otlp::build(target, temporality, accounting)?;
    let metric_exporter = built.metrics;
    Ok(OtlpPipelines {
        spans: Some(export::accounted_batch(
            built.spans,
            Some(export::ExportTarget {
                endpoint: target.traces_endpoint.to_owned(),
                protocol: target.protocol,
            }),
            batch,
            accounting,
        )),
        metrics: Some(Box::new(move |b, interval, accounting| {
            b.with_reader(
                PeriodicReader::builder(export::CountingMetricExporter::new(
                    metric_exporter,
                    accounting,
                ))
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
    _batch: &export::BatchSettings,
    _accounting: &export::Accounting,
) -> Result<OtlpPipelines, SetupError> {
    Err(SetupError::Exporter(format!(
        "an OTLP endpoint ({}) is set but the `otlp` feature is off",
        target.traces_endpoint
    )))
}
