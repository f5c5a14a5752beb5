//! The file exporter (feature `file`): spans, metrics and logs written as OTLP-JSON lines, one
//! export request per line, so a run can be kept, read line by line, or loaded into any tool that
//! reads OTLP/JSON. Selected with [`TelemetryBuilder::export_to_file`] or the
//! `INSTRUMENT_EXPORT_FILE` variable (a path).
//!
//! [`TelemetryBuilder::export_to_file`]: super::TelemetryBuilder::export_to_file

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// One file the three signals write their lines to.
#[derive(Clone, Debug)]
pub(crate) struct FileExporter {
    out: Arc<Mutex<BufWriter<File>>>,
    resource: Arc<Mutex<Resource>>,
}

impl FileExporter {
    /// Creates (or truncates) the file at `path`.
    pub(crate) fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            out: Arc::new(Mutex::new(BufWriter::new(File::create(path)?))),
            resource: Arc::new(Mutex::new(Resource::builder_empty().build())),
        })
    }

    /// Writes `request` as one JSON line.
    fn write_line(&self, request: &impl serde::Serialize) -> OTelSdkResult {
        let mut out = self.out.lock().map_err(|_| {
            OTelSdkError::InternalFailure("the export file lock is poisoned".into())
        })?;
        serde_json::to_writer(&mut *out, request)
            .map_err(|e| OTelSdkError::InternalFailure(format!("writing the export file: {e}")))?;
        out.write_all(b"\n")
            .and_then(|()| out.flush())
            .map_err(|e| OTelSdkError::InternalFailure(format!("writing the export file: {e}")))
    }

    fn resource(&self) -> ResourceAttributesWithSchema {
        let resource = self
            .resource
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|_| Resource::builder_empty().build());
        ResourceAttributesWithSchema::from(&resource)
    }
}

impl SpanExporter for FileExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let resource_spans = group_spans_by_resource_and_scope(batch, &self.resource());
        self.write_line(&ExportTraceServiceRequest { resource_spans })
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Ok(mut held) = self.resource.lock() {
            *held = resource.clone();
        }
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

impl PushMetricExporter for FileExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        self.write_line(&ExportMetricsServiceRequest::from(metrics))
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

#[cfg(feature = "tracing")]
impl opentelemetry_sdk::logs::LogExporter for FileExporter {
    async fn export(&self, batch: opentelemetry_sdk::logs::LogBatch<'_>) -> OTelSdkResult {
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
        use opentelemetry_proto::transform::logs::tonic::group_logs_by_resource_and_scope;
        let resource_logs = group_logs_by_resource_and_scope(&batch, &self.resource());
        self.write_line(&ExportLogsServiceRequest { resource_logs })
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Ok(mut held) = self.resource.lock() {
            *held = resource.clone();
        }
    }
}
