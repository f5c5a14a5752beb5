//! Metric series: each metric's attribute sets, numbers as points over time (bounded), histograms
//! as their latest buckets with p50/p95/p99 estimated from them.

use std::collections::{BTreeMap, VecDeque};

use instrument_runtime::metrics::histogram_quantile;
use opentelemetry_proto::tonic::metrics::v1::{
    HistogramDataPoint, Metric, NumberDataPoint, metric::Data, number_data_point,
};
use serde::Serialize;

use super::model::{Attribute, attributes};

/// Points kept per number series; older ones go first.
pub const POINTS_PER_SERIES: usize = 360;
/// Series kept across all metrics; new ones past it are counted, not kept.
pub const MAX_SERIES: usize = 5_000;

/// A histogram's latest state.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HistogramState {
    /// When it was read, in nanoseconds since the Unix epoch.
    pub time_ns: u64,
    /// The buckets' upper bounds (the last bucket has none).
    pub bounds: Vec<f64>,
    /// The count in each bucket.
    pub counts: Vec<u64>,
    /// Values recorded.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
    /// Estimated from the buckets.
    pub p50: Option<f64>,
    /// Estimated from the buckets.
    pub p95: Option<f64>,
    /// Estimated from the buckets.
    pub p99: Option<f64>,
}

/// One attribute set of a metric.
#[derive(Clone, Debug, Serialize)]
pub struct Series {
    /// The set.
    pub attributes: Vec<Attribute>,
    /// Numbers: `[time_ns, value]`, oldest first.
    pub points: VecDeque<(u64, f64)>,
    /// Histograms: the latest state.
    pub histogram: Option<HistogramState>,
}

/// One metric of one service.
#[derive(Clone, Debug, Serialize)]
pub struct MetricEntry {
    /// The sending service.
    pub service: String,
    /// The metric's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its unit.
    pub unit: String,
    /// `sum`, `gauge`, `histogram`, or the kind the viewer does not draw.
    pub kind: &'static str,
    /// Its attribute sets, by their text.
    pub series: BTreeMap<String, Series>,
}

/// Every metric, by service and name.
#[derive(Default)]
pub struct MetricStore {
    metrics: BTreeMap<(String, String), MetricEntry>,
    series: usize,
    /// Series refused past [`MAX_SERIES`].
    pub refused_series: u64,
}

impl MetricStore {
    /// Adds the points of `metric`, sent by `service`.
    pub fn add(&mut self, service: &str, metric: Metric) {
        let kind = match &metric.data {
            Some(Data::Sum(_)) => "sum",
            Some(Data::Gauge(_)) => "gauge",
            Some(Data::Histogram(_)) => "histogram",
            Some(Data::ExponentialHistogram(_)) => "exponential_histogram",
            Some(Data::Summary(_)) => "summary",
            None => return,
        };
        let key = (service.to_owned(), metric.name.clone());
        let entry = self.metrics.entry(key).or_insert_with(|| MetricEntry {
            service: service.to_owned(),
            name: metric.name.clone(),
            description: metric.description.clone(),
            unit: metric.unit.clone(),
            kind,
            series: BTreeMap::new(),
        });
        let budget = &mut Budget {
            series: &mut self.series,
            refused: &mut self.refused_series,
        };
        match metric.data {
            Some(Data::Sum(sum)) => add_numbers(entry, &sum.data_points, budget),
            Some(Data::Gauge(gauge)) => add_numbers(entry, &gauge.data_points, budget),
            Some(Data::Histogram(histogram)) => {
                for point in &histogram.data_points {
                    if let Some(series) = series_of(entry, &point.attributes, budget) {
                        series.histogram = Some(histogram_state(point));
                    }
                }
            }
            _ => {}
        }
    }

    /// Every metric, by service and name.
    pub fn all(&self) -> impl Iterator<Item = &MetricEntry> {
        self.metrics.values()
    }

    /// Series kept.
    pub fn series(&self) -> usize {
        self.series
    }
}

struct Budget<'a> {
    series: &'a mut usize,
    refused: &'a mut u64,
}

fn series_of<'a>(
    entry: &'a mut MetricEntry,
    point_attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    budget: &mut Budget<'_>,
) -> Option<&'a mut Series> {
    let mut attributes = attributes(point_attributes);
    attributes.sort();
    let key = attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    if !entry.series.contains_key(&key) {
        if *budget.series >= MAX_SERIES {
            *budget.refused += 1;
            return None;
        }
        *budget.series += 1;
    }
    Some(entry.series.entry(key).or_insert_with(|| Series {
        attributes,
        points: VecDeque::new(),
        histogram: None,
    }))
}

fn add_numbers(entry: &mut MetricEntry, points: &[NumberDataPoint], budget: &mut Budget<'_>) {
    for point in points {
        let value = match point.value {
            Some(number_data_point::Value::AsInt(i)) => i as f64,
            Some(number_data_point::Value::AsDouble(d)) => d,
            None => continue,
        };
        if let Some(series) = series_of(entry, &point.attributes, budget) {
            if series.points.len() == POINTS_PER_SERIES {
                series.points.pop_front();
            }
            series.points.push_back((point.time_unix_nano, value));
        }
    }
}

fn histogram_state(point: &HistogramDataPoint) -> HistogramState {
    let quantile = |q| {
        histogram_quantile(
            &point.explicit_bounds,
            &point.bucket_counts,
            point.min,
            point.max,
            q,
        )
    };
    HistogramState {
        time_ns: point.time_unix_nano,
        bounds: point.explicit_bounds.clone(),
        counts: point.bucket_counts.clone(),
        count: point.count,
        sum: point.sum.unwrap_or_default(),
        p50: quantile(0.5),
        p95: quantile(0.95),
        p99: quantile(0.99),
    }
}
