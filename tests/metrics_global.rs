//! A `global()` instrument set touched before setup records into the provider installed later
//! (the original registry stayed a no-op forever in that case).

use instrument::metrics::Counter;
use instrument::{Metrics, Telemetry};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};

#[derive(Metrics)]
struct EarlyMetrics {
    /// Calls made.
    #[metric(name = "early_calls")]
    calls: Counter<u64>,
}

fn exported_total(exporter: &InMemoryMetricExporter) -> u64 {
    let mut total = 0;
    for rm in exporter.get_finished_metrics().unwrap() {
        for metric in rm
            .scope_metrics()
            .flat_map(|s| s.metrics())
            .filter(|m| m.name() == "early_calls")
        {
            if let AggregatedMetrics::U64(MetricData::Sum(sum)) = metric.data() {
                total = sum.data_points().map(|p| p.value()).sum();
            }
        }
    }
    total
}

#[test]
fn global_created_before_setup_records_after_setup() {
    let before = EarlyMetrics::global();
    before.calls.add(100, &[]); // no provider yet: goes nowhere

    let exporter = InMemoryMetricExporter::default();
    let guard = Telemetry::builder()
        .ignore_env()
        .with_simple_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
        .with_metric_exporter(exporter.clone())
        .install()
        .unwrap();
    EarlyMetrics::global().calls.add(2, &[]);
    EarlyMetrics::global().calls.add(3, &[]);
    guard.force_flush().unwrap();
    assert_eq!(exported_total(&exporter), 5);

    drop(guard);
    EarlyMetrics::global().calls.add(7, &[]); // after shutdown: a no-op again, and no panic
}
