//! `tracing` spans and events over real OTLP: spans and log records reach the test receiver over
//! gRPC and HTTP, in one trace, the log records carrying the trace and span ids, severity, body
//! and redacted attributes. Each wire runs in a child process (one setup per process).

#[path = "support/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use std::process::Command;
use std::time::Duration;

use instrument::{Protocol, Telemetry, trace_method};
use receiver::{Receiver, Wire};

#[trace_method]
fn checkout(order_id: &str) {
    let span = tracing::info_span!("reserve", order_id);
    let _entered = span.enter();
    tracing::warn!(password = "hunter2", attempt = 3, "stock is low");
}

/// In the child: export to the receiver the parent named, then exit.
fn child(endpoint: &str, wire: &str) {
    let protocol = if wire == "grpc" {
        Protocol::Grpc
    } else {
        Protocol::HttpProtobuf
    };
    let telemetry = Telemetry::builder()
        .ignore_env()
        .endpoint(endpoint)
        .protocol(protocol)
        .install()
        .unwrap();
    checkout("o-9");
    telemetry.shutdown().unwrap();
}

fn run(wire: Wire, name: &str) {
    let receiver = Receiver::start(wire);
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process", "--nocapture"])
        .env("BRIDGE_CHILD_ENDPOINT", receiver.endpoint())
        .env("BRIDGE_CHILD_WIRE", name)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        receiver.wait_for_spans(2, Duration::from_secs(10)),
        "{name}: spans arrived"
    );
    let spans = receiver.spans();
    let outer = spans.iter().find(|s| s.name == "checkout").unwrap();
    let bridged = spans.iter().find(|s| s.name == "reserve").unwrap();
    assert_eq!(bridged.parent_span_id, outer.span_id, "{name}");
    assert_eq!(bridged.trace_id, outer.trace_id);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let records = loop {
        let records = receiver.log_records();
        if !records.is_empty() || std::time::Instant::now() > deadline {
            break records;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let record = records
        .iter()
        .find(|r| format!("{:?}", r.body).contains("stock is low"))
        .unwrap_or_else(|| panic!("{name}: the log record arrived: {records:?}"));
    assert_eq!(record.trace_id, outer.trace_id, "{name}");
    assert_eq!(record.span_id, bridged.span_id, "{name}");
    assert_eq!(record.severity_text, "WARN");
    let attributes = format!("{:?}", record.attributes);
    assert!(
        attributes.contains("[redacted]") && !attributes.contains("hunter2"),
        "{attributes}"
    );
}

#[test]
fn child_process() {
    if let (Ok(endpoint), Ok(wire)) = (
        std::env::var("BRIDGE_CHILD_ENDPOINT"),
        std::env::var("BRIDGE_CHILD_WIRE"),
    ) {
        child(&endpoint, &wire);
    }
}

#[test]
fn spans_and_logs_over_grpc() {
    run(Wire::Grpc, "grpc");
}

#[test]
fn spans_and_logs_over_http() {
    run(Wire::Http, "http");
}
