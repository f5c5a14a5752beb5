//! The local default metric exporter: a summary of every instrument on stderr, printed when the
//! telemetry guard shuts down (and at every export interval, if one is set).

use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use super::quantile::histogram_quantile;

/// Prints each export as a table of instruments and their data points.
pub struct ConsoleMetricExporter {
    out: Mutex<Box<dyn Write + Send>>,
    temporality: Temporality,
}

impl fmt::Debug for ConsoleMetricExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleMetricExporter")
            .field("temporality", &self.temporality)
            .finish_non_exhaustive()
    }
}

impl ConsoleMetricExporter {
    /// An exporter printing to stderr.
    pub fn stderr(temporality: Temporality) -> Self {
        Self::to_writer(std::io::stderr(), temporality)
    }

    /// An exporter printing to `out`.
    pub fn to_writer(out: impl Write + Send + 'static, temporality: Temporality) -> Self {
        Self {
            out: Mutex::new(Box::new(out)),
            temporality,
        }
    }
}

impl PushMetricExporter for ConsoleMetricExporter {
    fn export(&self, metrics: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        let text = render_metrics(metrics);
        if !text.is_empty() {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
        std::future::ready(Ok(()))
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        self.temporality
    }
}

/// Renders every metric with data as `name (unit) kind: values {attributes}` lines.
pub fn render_metrics(metrics: &ResourceMetrics) -> String {
    let mut out = String::new();
    for scope in metrics.scope_metrics() {
        for metric in scope.metrics() {
            render_metric(&mut out, metric);
        }
    }
    if out.is_empty() {
        out
    } else {
        format!("metrics\n{out}")
    }
}

fn render_metric(out: &mut String, metric: &Metric) {
    let unit = if metric.unit().is_empty() {
        String::new()
    } else {
        format!(" ({})", metric.unit())
    };
    let head = format!("  {}{unit}", metric.name());
    match metric.data() {
        AggregatedMetrics::F64(data) => render_data(out, &head, data),
        AggregatedMetrics::U64(data) => render_data(out, &head, data),
        AggregatedMetrics::I64(data) => render_data(out, &head, data),
    }
}

fn render_data<T: fmt::Display + Copy>(out: &mut String, head: &str, data: &MetricData<T>) {
    match data {
        MetricData::Gauge(gauge) => {
            for point in gauge.data_points() {
                let _ = writeln!(
                    out,
                    "{head} gauge: {}{}",
                    point.value(),
                    attrs(point.attributes())
                );
            }
        }
        MetricData::Sum(sum) => {
            let kind = if sum.is_monotonic() {
                "counter"
            } else {
                "up-down counter"
            };
            for point in sum.data_points() {
                let _ = writeln!(
                    out,
                    "{head} {kind}: {}{}",
                    point.value(),
                    attrs(point.attributes())
                );
            }
        }
        MetricData::Histogram(histogram) => {
            for point in histogram.data_points() {
                // A series that recorded nothing has no min or max: the SDK gives such a point
                // (a series bound but not recorded into, or one that lost a race with a delta
                // collection) the ±f64::MAX it starts from.
                let (min, max) = if point.count() == 0 {
                    (None, None)
                } else {
                    (point.min(), point.max())
                };
                let range = match (min, max) {
                    (Some(min), Some(max)) => format!(" min={} max={}", number(min), number(max)),
                    _ => String::new(),
                };
                let as_f64 = |v: T| number(v).parse::<f64>().ok();
                let bounds: Vec<f64> = point.bounds().collect();
                let counts: Vec<u64> = point.bucket_counts().collect();
                let (min, max) = (min.and_then(as_f64), max.and_then(as_f64));
                let quantiles: String = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)]
                    .iter()
                    .filter_map(|(name, q)| {
                        let value = histogram_quantile(&bounds, &counts, min, max, *q)?;
                        Some(format!(" {name}≈{}", number(value)))
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "{head} histogram: count={} sum={}{range}{quantiles}{}",
                    point.count(),
                    number(point.sum()),
                    attrs(point.attributes())
                );
            }
        }
        MetricData::ExponentialHistogram(histogram) => {
            for point in histogram.data_points() {
                let _ = writeln!(
                    out,
                    "{head} exponential histogram: count={}{}",
                    point.count(),
                    attrs(point.attributes())
                );
            }
        }
    }
}

/// A value with at most six decimals, trailing zeros dropped.
fn number<T: fmt::Display>(value: T) -> String {
    let text = value.to_string();
    match text.parse::<f64>() {
        Ok(v) if text.contains('.') => {
            let fixed = format!("{v:.6}");
            fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
        _ => text,
    }
}

/// Attributes sorted by key, so equal sets read the same.
fn attrs<'a>(attributes: impl Iterator<Item = &'a KeyValue>) -> String {
    let mut parts: Vec<String> = attributes
        .map(|kv| format!("{}={}", kv.key, kv.value))
        .collect();
    parts.sort();
    if parts.is_empty() {
        String::new()
    } else {
        format!("  {{{}}}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    #[test]
    fn renders_counters_and_histograms() {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        let meter = provider.meter("test");
        meter
            .u64_counter("count_user_message")
            .with_unit("1")
            .build()
            .add(3, &[KeyValue::new("agent.id", "a1")]);
        let histogram = meter.f64_histogram("hist_ttft_ms").with_unit("ms").build();
        histogram.record(2.0, &[]);
        histogram.record(4.0, &[]);
        provider.force_flush().unwrap();
        let text = render_metrics(&exporter.get_finished_metrics().unwrap()[0]);
        assert!(
            text.contains("count_user_message (1) counter: 3  {agent.id=a1}"),
            "{text}"
        );
        assert!(
            text.contains("hist_ttft_ms (ms) histogram: count=2 sum=6 min=2 max=4 p50≈"),
            "{text}"
        );
        assert_eq!(number(0.000_123_4f64), "0.000123");
    }

    #[test]
    fn a_series_that_recorded_nothing_has_no_min_or_max() {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        let histogram = provider.meter("test").f64_histogram("hist_db_ms").build();
        let _idle = histogram.bind(&[KeyValue::new("route", "/idle")]);
        histogram.record(3.0, &[KeyValue::new("route", "/busy")]);
        provider.force_flush().unwrap();
        let metrics = &exporter.get_finished_metrics().unwrap()[0];
        let empty_points = metrics
            .scope_metrics()
            .flat_map(|scope| scope.metrics())
            .filter(|metric| match metric.data() {
                AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                    h.data_points().any(|p| p.count() == 0)
                }
                _ => false,
            })
            .count();
        assert_eq!(
            empty_points, 1,
            "the bound series exports a point of count 0"
        );
        let text = render_metrics(metrics);
        assert!(
            text.contains("hist_db_ms histogram: count=0 sum=0  {route=/idle}\n"),
            "{text}"
        );
        assert!(
            text.contains("hist_db_ms histogram: count=1 sum=3 min=3 max=3 p50≈"),
            "{text}"
        );
        assert!(!text.contains("e308") && !text.contains("79769"), "{text}");
    }
}
