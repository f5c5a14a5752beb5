//! The builder's options: resource, endpoint and protocol, sampling, timeouts, runtime
//! configurations, and the exporters that replace OTLP or the console.

use super::*;

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

    /// The head sampler; default `OTEL_TRACES_SAMPLER`, else parent-based always-on. The SDK's
    /// standard samplers (`Sampler::AlwaysOn`, `AlwaysOff`, `TraceIdRatioBased`, `ParentBased`
    /// over each) are decided without calling them, at the default's cost; any other
    /// `ShouldSample` is called for every span, as the SDK calls it.
    pub fn sampler(mut self, sampler: impl ShouldSample + 'static) -> Self {
        self.sampler = Some(HeadSampler::new(sampler));
        self
    }

    /// Where an instrumented call's span is current while it runs: in an attached
    /// OpenTelemetry context (the default, [`CurrentSpan::Context`]), or, opting into its
    /// trade-off, on the toolkit's own thread-local stack ([`CurrentSpan::ThreadStack`]).
    pub fn current_span(mut self, current_span: CurrentSpan) -> Self {
        self.current_span = current_span;
        self
    }

    /// Tail sampling: each local trace is held until its root ends, then kept if it holds an
    /// error or its root was slow, else kept with the rule's ratio (see [`TailSampling`]); default
    /// `OTEL_TRACES_SAMPLER=instrument_keep_errors`, else none. Kept and dropped counts are in
    /// [`export_stats`](crate::export_stats).
    pub fn tail_sampling(mut self, rule: TailSampling) -> Self {
        self.tail_sampling = Some(rule);
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

    /// Sends spans to `exporter` through a batch processor instead of OTLP or the console. Each
    /// batch is given to `exporter` once, as the SDK's batch processor gives it: a failed export
    /// is counted as refused and reported, not sent again (retrying is the exporter's, which
    /// knows its transport; the toolkit's OTLP exporters keep and retry a failed batch).
    pub fn with_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.span_exporter = Some(Box::new(move |batch, accounting| {
            SpanPipeline::batched(WithContextAttributes::new(
                crate::export::accounted_batch(exporter, None, batch, accounting),
                accounting,
            ))
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
        match crate::export::FileExporter::create(path) {
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
        self.span_exporter = Some(Box::new(move |_, accounting| SpanPipeline {
            processor: Box::new(WithContextAttributes::new(
                SimpleSpanProcessor::new(exporter),
                accounting,
            )),
            on_ending_thread: true,
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
        self.metric_exporter = Some(Box::new(move |b, interval, accounting| {
            b.with_reader(
                PeriodicReader::builder(crate::export::CountingMetricExporter::new(
                    exporter, accounting,
                ))
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
}
