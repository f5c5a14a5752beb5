//! A panicking `Debug` or `Serialize` impl met by parameter capture is contained, counted and
//! reported once by the toolkit's own warning: the panic hook prints nothing for it. A panic in
//! the user's own code still reaches the hook as before. Runs in a child process to read its
//! stderr.

use std::fmt;
use std::process::Command;

use instrument::{Telemetry, trace_method};

struct Explosive;

impl fmt::Debug for Explosive {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug impl exploded")
    }
}

#[trace_method]
fn takes(value: &Explosive) -> u32 {
    let _ = value;
    7
}

#[trace_method]
fn user_code_panics() {
    panic!("the user's own panic");
}

#[test]
fn child_process() {
    if std::env::var_os("QUIET_PANICS_CHILD").is_none() {
        return;
    }
    let _telemetry = Telemetry::builder()
        .ignore_env()
        .with_simple_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
        .with_metric_exporter(opentelemetry_sdk::metrics::InMemoryMetricExporter::default())
        .install()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(takes(&Explosive), 7);
    }
    let _ = std::panic::catch_unwind(user_code_panics);
}

#[test]
fn contained_panics_print_nothing_but_the_users_do() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("QUIET_PANICS_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("Debug impl exploded"), "{stderr}");
    assert_eq!(
        stderr.matches("instrument: warning").count(),
        1,
        "one rate-limited report for three failures: {stderr}"
    );
    assert!(stderr.contains("the user's own panic"), "{stderr}");
}
