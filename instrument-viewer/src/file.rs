//! Loading OTLP-JSON lines files (each line one trace, metrics or logs export request, as the
//! toolkit's file exporter and the OpenTelemetry Collector's file exporter write them).

use std::io::BufRead;
use std::path::Path;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::store::Store;

/// What a file held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Trace export lines.
    pub trace_lines: usize,
    /// Metrics export lines.
    pub metric_lines: usize,
    /// Logs export lines.
    pub log_lines: usize,
    /// Lines that were none of these (skipped).
    pub skipped_lines: usize,
}

/// Loads every line of `path` into `store`; a line that is not an OTLP export is skipped and
/// counted.
pub fn load(path: &Path, store: &Store) -> std::io::Result<Loaded> {
    let file = std::fs::File::open(path)?;
    let mut loaded = Loaded::default();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
            loaded.skipped_lines += 1;
            continue;
        };
        let has = |key: &str| value.get(key).is_some();
        if has("resourceSpans") {
            match serde_json::from_value::<ExportTraceServiceRequest>(value) {
                Ok(request) => {
                    store.add_traces(request);
                    loaded.trace_lines += 1;
                }
                Err(_) => loaded.skipped_lines += 1,
            }
        } else if has("resourceMetrics") {
            match serde_json::from_value::<ExportMetricsServiceRequest>(value) {
                Ok(request) => {
                    store.add_metrics(request);
                    loaded.metric_lines += 1;
                }
                Err(_) => loaded.skipped_lines += 1,
            }
        } else if has("resourceLogs") {
            match serde_json::from_value::<ExportLogsServiceRequest>(value) {
                Ok(request) => {
                    store.add_logs(request);
                    loaded.log_lines += 1;
                }
                Err(_) => loaded.skipped_lines += 1,
            }
        } else {
            loaded.skipped_lines += 1;
        }
    }
    Ok(loaded)
}
