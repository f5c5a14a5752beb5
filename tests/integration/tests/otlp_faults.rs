//! End to end through the test OTLP receiver, with the collector misbehaving: absent at start,
//! killed and restarted, slow, refusing; a burst flushed at shutdown; shutdown with the collector
//! down; OTLP/HTTP with protobuf and JSON bodies.
//!
//! Telemetry is installed once per process, so each scenario runs in a child process (this test
//! binary, re-run with one `child_*` test selected); the parent checks its exit and its stderr.

#[allow(dead_code)]
#[path = "support/receiver.rs"]
mod receiver;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use instrument::export::export_stats;
use instrument::{Protocol, Telemetry, TelemetryGuard, trace_method};
use receiver::{Receiver, Wire};

const CHILD: &str = "INSTRUMENT_FAULT_CHILD";

/// Runs scenario `name` in a child process; its output, after checking it succeeded.
fn run_child(name: &str) -> Output {
    run_child_with(name, &[])
}

/// Runs scenario `name` in a child process with environment `vars` added.
fn run_child_with(name: &str, vars: &[(&str, &str)]) -> Output {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    output
}

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

fn install(endpoint: &str, protocol: Protocol) -> TelemetryGuard {
    Telemetry::builder()
        .ignore_env()
        .service_name("fault-tests")
        .endpoint(endpoint)
        .protocol(protocol)
        .export_timeout(Duration::from_secs(2))
        .metric_export_interval(Duration::from_secs(3600))
        .install()
        .expect("telemetry installs")
}

#[trace_method]
fn work(batch: &str, n: u32) -> u32 {
    n + batch.len() as u32
}

fn make_spans(batch: &str, count: u32) {
    for n in 0..count {
        std::hint::black_box(work(batch, n));
    }
}

fn names_in(receiver: &Receiver, batch: &str) -> usize {
    receiver
        .spans()
        .iter()
        .filter(|span| {
            span.attributes
                .iter()
                .any(|kv| kv.key == "parameter.batch" && format!("{:?}", kv.value).contains(batch))
        })
        .count()
}

/// Field `field` (`VmRSS`, `VmHWM`) of this process's status, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn resident_kib() -> u64 {
    status_kib("VmRSS")
}

/// Makes `per_second` spans a second, in batches every 10 ms, for `duration`; runs `at` with
/// the time since the start after each batch. Returns how many spans were made.
fn steady_spans(
    name: &str,
    per_second: u32,
    duration: Duration,
    mut at: impl FnMut(Duration),
) -> u32 {
    let started = Instant::now();
    let mut made = 0;
    while started.elapsed() < duration {
        make_spans(name, per_second / 100);
        made += per_second / 100;
        at(started.elapsed());
        std::thread::sleep(Duration::from_millis(10));
    }
    made
}

#[test]
fn no_collector_at_start() {
    let output = run_child("child_no_collector_at_start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("likely cause: nothing listens at http://127.0.0.1:"),
        "the first failure names its cause: {stderr}"
    );
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_no_collector_at_start() {
    if !is_child() {
        return;
    }
    let port = Receiver::free_port();
    let guard = install(&format!("http://127.0.0.1:{port}"), Protocol::Grpc);
    let mut receiver = None;
    let made = steady_spans("steady", 1_000, Duration::from_secs(12), |elapsed| {
        if receiver.is_none() && elapsed >= Duration::from_secs(10) {
            receiver = Some(Receiver::start_on(Wire::Grpc, port));
        }
    });
    let receiver = receiver.unwrap();
    guard.shutdown().unwrap();
    let stats = export_stats();
    println!("collector started 10 s late at 1,000 spans/s: {stats:?}");
    assert_eq!(stats.spans_ended, u64::from(made));
    assert_eq!(stats.spans_dropped(), 0, "{stats:?}");
    assert_eq!(names_in(&receiver, "steady"), made as usize);
}

#[test]
fn collector_killed_and_restarted() {
    let output = run_child("child_collector_killed_and_restarted");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings = stderr.matches("the collector refused").count();
    assert!(
        (1..=3).contains(&warnings),
        "rate-limited warnings: {stderr}"
    );
    assert!(
        stderr.contains("likely cause: the collector at http://127.0.0.1:")
            || stderr.contains("likely cause: nothing listens at http://127.0.0.1:"),
        "the first failure names its cause: {stderr}"
    );
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_collector_killed_and_restarted() {
    if !is_child() {
        return;
    }
    let mut receiver = Receiver::start(Wire::Grpc);
    let guard = install(&receiver.endpoint(), Protocol::Grpc);
    let (mut stopped, mut restarted) = (false, false);
    let made = steady_spans("steady", 1_000, Duration::from_secs(13), |elapsed| {
        if !stopped && elapsed >= Duration::from_secs(2) {
            receiver.stop();
            stopped = true;
        }
        if !restarted && elapsed >= Duration::from_secs(12) {
            receiver.restart();
            restarted = true;
        }
    });
    guard.shutdown().unwrap();
    let stats = export_stats();
    println!("collector down 10 s of 13 at 1,000 spans/s: {stats:?}");
    assert_eq!(stats.spans_dropped(), 0, "{stats:?}");
    assert_eq!(names_in(&receiver, "steady"), made as usize);
}

#[test]
fn slow_collector() {
    run_child("child_slow_collector");
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_slow_collector() {
    if !is_child() {
        return;
    }
    let receiver = Receiver::start(Wire::Grpc);
    receiver.delay_each(Duration::from_secs(2));
    let guard = install(&receiver.endpoint(), Protocol::Grpc);
    let resident_before = resident_kib();
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    let mut calls = 0u32;
    while started.elapsed() < Duration::from_secs(3) {
        let call = Instant::now();
        std::hint::black_box(work("slow", calls));
        slowest = slowest.max(call.elapsed());
        calls += 1;
        if calls % 1000 == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let grown_kib = resident_kib().saturating_sub(resident_before);
    println!(
        "slow collector: {calls} calls, slowest {slowest:?}, resident memory grew {grown_kib} KiB"
    );
    assert!(
        slowest < Duration::from_millis(100),
        "a call never waits for an export (2 s each): slowest {slowest:?}"
    );
    assert!(
        grown_kib < 256 * 1024,
        "memory stays bounded: grew {grown_kib} KiB"
    );
    guard.shutdown().ok();
}

#[test]
fn refusing_collector() {
    let output = run_child("child_refusing_collector");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("the collector refused").count(),
        1,
        "refusals are reported, rate-limited: {stderr}"
    );
    assert!(
        !stderr.contains("spans were dropped"),
        "refused batches were kept and sent again: {stderr}"
    );
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_refusing_collector() {
    if !is_child() {
        return;
    }
    let receiver = Receiver::start(Wire::Grpc);
    receiver.refuse_next(3);
    let guard = install(&receiver.endpoint(), Protocol::Grpc);
    for batch in ["one", "two", "three", "four", "five"] {
        make_spans(batch, 100);
        guard.force_flush().ok();
    }
    let stats = export_stats();
    assert_eq!(stats.spans_refused, 0, "{stats:?}");
    assert_eq!(stats.spans_exported, 500);
    assert_eq!(receiver.span_count(), 500);
    assert_eq!(receiver.refused(), 3);
    // One request per flush, or more when the schedule delay came due while a batch was being
    // made (it then goes out in two parts): a machine under load makes that happen.
    let accepted = receiver.attempts() - receiver.refused();
    assert!(
        accepted >= 5,
        "the first batch is sent again after each refusal, then each flush sends its batch: \
         {accepted} requests accepted after 3 refused"
    );

    opentelemetry::global::meter("fault-tests")
        .u64_counter("fault_test_calls")
        .build()
        .add(1, &[]);
    receiver.refuse_next(4);
    guard.force_flush().ok();
    assert_eq!(export_stats().metric_exports_refused, 1);
    guard.force_flush().unwrap();
    let exported = receiver.metric_requests();
    assert_eq!(exported.len(), 1, "the next export carries the counter");
    drop(guard);
}

#[test]
fn zero_spans_lost_at_shutdown() {
    run_child("child_zero_spans_lost_at_shutdown");
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_zero_spans_lost_at_shutdown() {
    if !is_child() {
        return;
    }
    let receiver = Receiver::start(Wire::Grpc);
    receiver.count_only();
    let guard = install(&receiver.endpoint(), Protocol::Grpc);
    let started = Instant::now();
    make_spans("burst", 100_000);
    let made_in = started.elapsed();
    guard.shutdown().unwrap();
    let stats = export_stats();
    println!("burst of 100000 spans made in {made_in:?}; {stats:?}");
    assert_eq!(stats.spans_dropped(), 0);
    assert_eq!(receiver.span_count(), 100_000);
}

#[test]
fn shutdown_with_the_collector_down_is_bounded() {
    run_child("child_shutdown_with_the_collector_down_is_bounded");
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_shutdown_with_the_collector_down_is_bounded() {
    if !is_child() {
        return;
    }
    let port = Receiver::free_port();
    let guard = Telemetry::builder()
        .ignore_env()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .protocol(Protocol::Grpc)
        .export_timeout(Duration::from_secs(2))
        .shutdown_timeout(Duration::from_secs(3))
        .install()
        .unwrap();
    make_spans("lost", 1_000);
    let started = Instant::now();
    let _ = guard.shutdown();
    let took = started.elapsed();
    println!("shutdown with the collector down took {took:?}");
    assert!(
        took < Duration::from_secs(5),
        "no retry loop at shutdown: {took:?}"
    );
    let stats = export_stats();
    assert_eq!(stats.spans_abandoned, 1_000, "{stats:?}");
    assert_eq!(stats.spans_dropped(), 1_000);
}

#[test]
fn bad_environment_values_warn_and_the_program_runs_on() {
    let output = run_child_with(
        "child_bad_environment_values_warn_and_the_program_runs_on",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "-5"),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for variable in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_TRACES_SAMPLER",
        "OTEL_METRIC_EXPORT_INTERVAL",
    ] {
        assert!(
            stderr.contains(variable),
            "no warning names {variable}: {stderr}"
        );
    }
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_bad_environment_values_warn_and_the_program_runs_on() {
    if !is_child() {
        return;
    }
    let guard = instrument::init();
    assert!(guard.is_installed(), "falls back to the console exporter");
    make_spans("despite-bad-env", 3);
    assert_eq!(work("still", 1), 6);
    drop(guard);
}

#[test]
fn otlp_http_protobuf_and_json() {
    run_child("child_otlp_http_protobuf_and_json");
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_otlp_http_protobuf_and_json() {
    if !is_child() {
        return;
    }
    let receiver = Receiver::start(Wire::Http);
    let guard = install(&receiver.endpoint(), Protocol::HttpProtobuf);
    make_spans("protobuf", 10);
    guard.force_flush().unwrap();
    assert!(receiver.wait_for_spans(10, Duration::from_secs(10)));
    assert_eq!(names_in(&receiver, "protobuf"), 10);
    assert_eq!(receiver.spans()[0].name, "work");

    let json = r#"{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"scope":{"name":"by-hand"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"posted-as-json","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[],"status":{}}]}]}]}"#;
    let status = post_json(&receiver.endpoint(), json);
    assert_eq!(status, 200);
    assert_eq!(receiver.span_count(), 11);
    assert_eq!(receiver.span_names().last().unwrap(), "posted-as-json");
    guard.shutdown().unwrap();
}

/// Posts `json` to the receiver's `/v1/traces`; the HTTP status.
fn post_json(endpoint: &str, json: &str) -> u16 {
    use std::io::{Read, Write};
    let address = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /v1/traces HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

fn peak_resident_kib() -> u64 {
    status_kib("VmHWM")
}

#[test]
fn a_million_spans_at_full_speed_stay_within_the_memory_bound() {
    run_child("child_a_million_spans_at_full_speed_stay_within_the_memory_bound");
}

#[test]
#[ignore = "run in a child process by its parent test"]
fn child_a_million_spans_at_full_speed_stay_within_the_memory_bound() {
    if !is_child() {
        return;
    }
    let receiver = Receiver::start(Wire::Grpc);
    receiver.count_only();
    let guard = install(&receiver.endpoint(), Protocol::Grpc);
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = peak_resident_kib();
    make_spans("million", 1_000_000);
    let peak = peak_resident_kib();
    guard.shutdown().unwrap();
    let stats = export_stats();
    let grown_mib = peak.saturating_sub(before) / 1024;
    println!(
        "1,000,000 spans: peak resident memory grew {grown_mib} MiB; {} exported, {} shed",
        stats.spans_exported, stats.spans_shed
    );
    assert_eq!(stats.spans_exported + stats.spans_shed, 1_000_000);
    assert_eq!(receiver.span_count() as u64, stats.spans_exported);
    // The queue holds at most 131,072 spans and 256 MiB of them.
    assert!(grown_mib < 400, "peak grew {grown_mib} MiB");
}
