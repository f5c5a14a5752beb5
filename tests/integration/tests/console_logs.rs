//! `tracing` logs on the console and as log records: a log outside any span prints on stderr as a
//! line of its own when it happens, a log inside a span prints under it in the tree, and the
//! OpenTelemetry crates' own events (targets starting with `opentelemetry`) are neither printed
//! nor exported as the service's logs. The console runs in a child process, to read its stderr.

use std::process::Command;

use instrument::{Telemetry, trace_method};
use opentelemetry_sdk::logs::InMemoryLogExporter;

#[trace_method]
fn reserve(order_id: &str) {
    tracing::warn!(order_id, "stock is low");
}

/// Emits the OpenTelemetry SDK's kind of event: its target is the SDK crate's.
fn sdk_event() {
    tracing::info!(target: "opentelemetry_sdk", "Global meter provider is set");
    tracing::warn!(target: "opentelemetry-otlp", "metrics export failed");
}

/// In the child: console output (no endpoint), a startup log, a span with a log, SDK events.
#[test]
fn child_process() {
    if std::env::var_os("CONSOLE_LOGS_CHILD").is_none() {
        return;
    }
    let telemetry = Telemetry::builder()
        .ignore_env()
        .service_name("console-logs")
        .install()
        .unwrap();
    tracing::info!(port = 8283, "listening on 127.0.0.1:8283");
    sdk_event();
    reserve("o-9");
    telemetry.shutdown().unwrap();
}

/// Whether `line` starts with an RFC 3339 UTC time to the millisecond and a space.
fn starts_with_timestamp(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 25
        && bytes[..24].iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            19 => *b == b'.',
            23 => *b == b'Z',
            _ => b.is_ascii_digit(),
        })
        && bytes[24] == b' '
}

#[test]
fn logs_outside_any_span_print_on_the_console_and_sdk_events_do_not() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process", "--nocapture"])
        .env("CONSOLE_LOGS_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let startup = lines
        .iter()
        .position(|l| l.ends_with(" INFO console_logs: listening on 127.0.0.1:8283  port=8283"))
        .unwrap_or_else(|| panic!("the startup log printed: {stderr}"));
    assert!(starts_with_timestamp(lines[startup]), "{stderr}");
    let trace = lines
        .iter()
        .position(|l| l.starts_with("trace "))
        .unwrap_or_else(|| panic!("the trace printed: {stderr}"));
    assert!(
        startup < trace,
        "printed when it happened, before the trace: {stderr}"
    );
    assert!(lines[trace + 1].starts_with("└─ reserve  "), "{stderr}");
    assert!(
        lines[trace + 1..]
            .iter()
            .any(|l| l.trim_start() == "WARN stock is low  order_id=o-9"),
        "the log in the span prints under it: {stderr}"
    );
    assert_eq!(
        stderr.matches("stock is low").count(),
        1,
        "and only there: {stderr}"
    );
    assert!(
        !stderr.contains("Global meter provider is set") && !stderr.contains("export failed"),
        "{stderr}"
    );
}

#[test]
fn sdk_events_are_not_the_services_log_records() {
    let logs = InMemoryLogExporter::default();
    let telemetry = Telemetry::builder()
        .ignore_env()
        .service_name("console-logs")
        .with_simple_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
        .with_metric_exporter(opentelemetry_sdk::metrics::InMemoryMetricExporter::default())
        .with_log_exporter(logs.clone())
        .install()
        .unwrap();
    sdk_event();
    tracing::info!("order placed");
    telemetry.force_flush().unwrap();
    let bodies: Vec<String> = logs
        .get_emitted_logs()
        .unwrap()
        .iter()
        .map(|log| format!("{:?}", log.record.body()))
        .collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(bodies[0].contains("order placed"), "{bodies:?}");
    telemetry.shutdown().unwrap();
}
