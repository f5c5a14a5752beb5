//! A histogram series that recorded nothing (here: bound and never recorded into, under the
//! default cumulative temporality) reaches the collector over OTLP/HTTP and OTLP/gRPC as a point
//! of count 0 with no min or max, instead of the SDK's `f64::MAX` / `-f64::MAX` starting values.

#[path = "support/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use instrument::{Protocol, Telemetry};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::HistogramDataPoint;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use receiver::{Receiver, Wire};

/// Every histogram point of `name` the receiver holds.
fn histogram_points(receiver: &Receiver, name: &str) -> Vec<HistogramDataPoint> {
    receiver
        .metric_requests()
        .iter()
        .flat_map(|request| &request.resource_metrics)
        .flat_map(|resource| &resource.scope_metrics)
        .flat_map(|scope| &scope.metrics)
        .filter(|metric| metric.name == name)
        .flat_map(|metric| match &metric.data {
            Some(Data::Histogram(histogram)) => histogram.data_points.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// The value of the attribute `route` of `point`.
fn route(point: &HistogramDataPoint) -> String {
    point
        .attributes
        .iter()
        .find(|kv| kv.key == "route")
        .map(|kv| format!("{:?}", kv.value))
        .unwrap_or_default()
}

/// The tests install the process's global providers: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn empty_histogram_points_arrive_without_min_and_max_over_http() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    empty_points_arrive_clear(Wire::Http, Protocol::HttpProtobuf);
}

#[test]
fn empty_histogram_points_arrive_without_min_and_max_over_grpc() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    empty_points_arrive_clear(Wire::Grpc, Protocol::Grpc);
}

fn empty_points_arrive_clear(wire: Wire, protocol: Protocol) {
    let receiver = Receiver::start(wire);
    let telemetry = Telemetry::builder()
        .ignore_env()
        .service_name("empty-histograms")
        .endpoint(receiver.endpoint())
        .protocol(protocol)
        .install()
        .unwrap();
    let histogram = opentelemetry::global::meter("orders")
        .f64_histogram("order_db_ms")
        .build();
    let _idle = histogram.bind(&[KeyValue::new("route", "/idle")]);
    histogram.record(3.0, &[KeyValue::new("route", "/busy")]);
    telemetry.shutdown().unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    let points = loop {
        let points = histogram_points(&receiver, "order_db_ms");
        if points.len() >= 2 || Instant::now() > deadline {
            break points;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let empty: Vec<&HistogramDataPoint> = points.iter().filter(|p| p.count == 0).collect();
    let used: Vec<&HistogramDataPoint> = points.iter().filter(|p| p.count > 0).collect();
    assert_eq!(empty.len(), 1, "the bound series arrived: {points:?}");
    assert!(route(empty[0]).contains("/idle"), "{points:?}");
    assert_eq!((empty[0].min, empty[0].max), (None, None), "{points:?}");
    assert_eq!(used.len(), 1, "{points:?}");
    assert_eq!((used[0].min, used[0].max), (Some(3.0), Some(3.0)));
    assert_eq!(used[0].sum, Some(3.0));

    let all_empty_points_clear = receiver
        .metric_requests()
        .iter()
        .flat_map(|request| &request.resource_metrics)
        .flat_map(|resource| &resource.scope_metrics)
        .flat_map(|scope| &scope.metrics)
        .filter_map(|metric| match &metric.data {
            Some(Data::Histogram(histogram)) => Some(&histogram.data_points),
            _ => None,
        })
        .flatten()
        .filter(|point| point.count == 0)
        .all(|point| point.min.is_none() && point.max.is_none());
    assert!(
        all_empty_points_clear,
        "no point of count 0 carries a min or max"
    );
}
