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
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
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
        let mut request = ExportMetricsServiceRequest::from(metrics);
        without_empty_min_max(&mut request);
        self.write_line(&request)
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

/// Removes `min` and `max` from the histogram points of count 0: the SDK gives a series that
/// recorded nothing the `f64::MAX` and `-f64::MAX` its aggregation starts from.
fn without_empty_min_max(request: &mut ExportMetricsServiceRequest) {
    let metrics = request
        .resource_metrics
        .iter_mut()
        .flat_map(|resource| resource.scope_metrics.iter_mut())
        .flat_map(|scope| scope.metrics.iter_mut());
    for metric in metrics {
        match &mut metric.data {
            Some(Data::Histogram(histogram)) => {
                for point in histogram.data_points.iter_mut().filter(|p| p.count == 0) {
                    (point.min, point.max) = (None, None);
                }
            }
            Some(Data::ExponentialHistogram(histogram)) => {
                for point in histogram.data_points.iter_mut().filter(|p| p.count == 0) {
                    (point.min, point.max) = (None, None);
                }
            }
            _ => {}
        }
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

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    use super::*;

    #[test]
    fn empty_histogram_points_are_written_without_min_and_max() {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        let histogram = provider.meter("test").f64_histogram("hist_db_ms").build();
        let _idle = histogram.bind(&[KeyValue::new("route", "/idle")]);
        histogram.record(3.0, &[KeyValue::new("route", "/busy")]);
        provider.force_flush().unwrap();
        let path = std::env::temp_dir().join(format!(
            "instrument-empty-histograms-{}.jsonl",
            std::process::id()
        ));
        let file = FileExporter::create(&path).unwrap();
        let metrics = &exporter.get_finished_metrics().unwrap()[0];
        futures_executor::block_on(PushMetricExporter::export(&file, metrics)).unwrap();
        let line = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let request: ExportMetricsServiceRequest = serde_json::from_str(&line).unwrap();
        let Some(Data::Histogram(histogram)) =
            &request.resource_metrics[0].scope_metrics[0].metrics[0].data
        else {
            panic!("a histogram: {line}");
        };
        let (empty, used): (Vec<_>, Vec<_>) =
            histogram.data_points.iter().partition(|p| p.count == 0);
        assert_eq!((empty.len(), used.len()), (1, 1), "{line}");
        assert_eq!((empty[0].min, empty[0].max), (None, None), "{line}");
        assert_eq!((used[0].min, used[0].max), (Some(3.0), Some(3.0)), "{line}");
    }
}
