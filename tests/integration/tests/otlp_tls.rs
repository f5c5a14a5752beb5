//! OTLP export over TLS to a receiver that demands an `authorization` header, with a private CA
//! made in the test (rcgen): with the CA and the header, spans and metrics arrive over gRPC and
//! HTTP; without the header, the error names the status and the variable to set; with the wrong
//! CA, the error names TLS; `OTEL_EXPORTER_OTLP_COMPRESSION=gzip` compresses. Everything is
//! configured as a deployment would: through the
//! `OTEL_EXPORTER_OTLP_*` variables.
//!
//! Telemetry is installed once per process, so the exporting side runs in a child process (this
//! test binary, re-run with `child_export` selected) and the parent holds the receiver.

#[allow(dead_code)]
#[path = "support/receiver.rs"]
mod receiver;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use instrument::{Telemetry, trace_method};
use receiver::tls::TestPki;
use receiver::{Receiver, Security, Wire};

const CHILD: &str = "INSTRUMENT_TLS_CHILD";
const TOKEN: &str = "Bearer test-token-5f2c";

#[trace_method]
fn secured_work(n: u32) -> u32 {
    n + 1
}

/// Exports 20 spans and a counter with what the environment says, then shuts down.
#[test]
#[ignore = "run in a child process by its parent test"]
fn child_export() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let guard = Telemetry::builder()
        .service_name("tls-test")
        .metric_export_interval(Duration::from_secs(3600))
        .install()
        .unwrap();
    for n in 0..20 {
        secured_work(n);
    }
    opentelemetry::global::meter("tls-test")
        .u64_counter("tls_test_calls")
        .build()
        .add(1, &[]);
    guard.force_flush().ok();
    let _ = guard.shutdown();
}

/// Writes `pem` to a file of its own and returns its path.
fn pem_file(name: &str, pem: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("instrument-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

/// Runs the exporting child against `receiver` with `ca` trusted and `headers` set; its stderr.
fn export_to(receiver: &Receiver, protocol: &str, ca: &PathBuf, headers: Option<&str>) -> String {
    export_with(receiver, protocol, ca, headers, &[])
}

/// [`export_to`] with `extra` variables set.
fn export_with(
    receiver: &Receiver,
    protocol: &str,
    ca: &PathBuf,
    headers: Option<&str>,
    extra: &[(&str, &str)],
) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["child_export", "--exact", "--ignored", "--nocapture"])
        .env(CHILD, "1")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", ca)
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "3000")
        .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
        .envs(extra.iter().copied());
    if let Some(headers) = headers {
        command.env("OTEL_EXPORTER_OTLP_HEADERS", headers);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(
        !stderr.contains("test-token"),
        "header values are never echoed: {stderr}"
    );
    stderr
}

fn secure(wire: Wire, pki: &Arc<TestPki>) -> Receiver {
    Receiver::start_secure(
        wire,
        Security {
            pki: pki.clone(),
            authorization: TOKEN.to_owned(),
        },
    )
}

/// The header as `OTEL_EXPORTER_OTLP_HEADERS` carries it: percent-encoded.
const HEADERS: &str = "authorization=Bearer%20test-token-5f2c";

fn delivers(wire: Wire, protocol: &str) {
    let pki = Arc::new(TestPki::new());
    let ca = pem_file(&format!("ca-{protocol}.pem").replace('/', "-"), &pki.ca_pem);
    let receiver = secure(wire, &pki);
    let stderr = export_to(&receiver, protocol, &ca, Some(HEADERS));
    assert_eq!(
        receiver.span_count(),
        20,
        "spans arrive over TLS with the header: {stderr}"
    );
    assert!(
        receiver
            .spans()
            .iter()
            .all(|span| span.name == "secured_work")
    );
    assert!(
        !receiver.metric_requests().is_empty(),
        "metrics arrive too: {stderr}"
    );
    assert!(!stderr.contains("refused"), "{stderr}");
}

#[test]
fn grpc_over_tls_with_the_header_delivers_spans_and_metrics() {
    delivers(Wire::Grpc, "grpc");
}

#[test]
fn http_over_tls_with_the_header_delivers_spans_and_metrics() {
    delivers(Wire::Http, "http/protobuf");
}

#[test]
fn without_the_header_the_error_names_the_status_and_the_variable() {
    let pki = Arc::new(TestPki::new());
    let ca = pem_file("ca-noheader.pem", &pki.ca_pem);
    for (wire, protocol, status) in [
        (Wire::Grpc, "grpc", "Unauthenticated"),
        (Wire::Http, "http/protobuf", "401"),
    ] {
        let receiver = secure(wire, &pki);
        let stderr = export_to(&receiver, protocol, &ca, None);
        assert_eq!(receiver.span_count(), 0);
        assert!(stderr.contains(status), "{protocol}: {stderr}");
        assert!(
            stderr.contains("OTEL_EXPORTER_OTLP_HEADERS"),
            "{protocol}: {stderr}"
        );
    }
}

#[test]
fn with_the_wrong_ca_the_error_names_tls() {
    let pki = Arc::new(TestPki::new());
    let other = TestPki::new();
    let wrong_ca = pem_file("ca-wrong.pem", &other.ca_pem);
    for (wire, protocol) in [(Wire::Grpc, "grpc"), (Wire::Http, "http/protobuf")] {
        let receiver = secure(wire, &pki);
        let stderr = export_to(&receiver, protocol, &wrong_ca, Some(HEADERS));
        assert_eq!(receiver.span_count(), 0);
        assert!(
            stderr.contains("likely cause: TLS failed"),
            "{protocol}: {stderr}"
        );
    }
}

#[test]
fn gzip_compression_follows_the_environment() {
    let pki = Arc::new(TestPki::new());
    let ca = pem_file("ca-gzip.pem", &pki.ca_pem);
    for (wire, protocol) in [(Wire::Grpc, "grpc"), (Wire::Http, "http/protobuf")] {
        let receiver = secure(wire, &pki);
        let stderr = export_with(
            &receiver,
            protocol,
            &ca,
            Some(HEADERS),
            &[("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")],
        );
        assert_eq!(receiver.span_count(), 20, "{protocol}: {stderr}");
        assert!(
            receiver.gzip_requests() >= 2,
            "{protocol}: spans and metrics arrive compressed"
        );
    }
}
