//! Setup: installing twice is an error value, an unreachable collector never panics, and a
//! shut-down guard lets telemetry be installed again.

use std::time::{Duration, Instant};

use instrument::{Protocol, SetupError, Telemetry, trace_method};
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[trace_method]
fn work(n: u32) -> u32 {
    n + 1
}

#[test]
fn install_twice_unreachable_collector_and_reinstall() {
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let first = Telemetry::builder()
            .ignore_env()
            .endpoint("http://127.0.0.1:1")
            .protocol(protocol)
            .export_timeout(Duration::from_secs(1))
            .install()
            .expect("an unreachable collector is not a setup error");
        assert!(instrument::is_enabled());

        let second = Telemetry::builder().ignore_env().install();
        assert_eq!(second.unwrap_err(), SetupError::AlreadyInstalled);

        assert_eq!(work(1), 2, "the user's call goes on");
        let started = Instant::now();
        let _ = first.shutdown();
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "shutdown took {:?}",
            started.elapsed()
        );
        assert!(!instrument::is_enabled());
    }

    let exporter = InMemorySpanExporter::default();
    let again = Telemetry::builder()
        .ignore_env()
        .with_simple_exporter(exporter.clone())
        .install()
        .expect("installs again after shutdown");
    work(2);
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name, "work");
    drop(again);
}
