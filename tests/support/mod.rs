//! Shared helpers of the integration tests: one in-memory exporter installed for the whole test
//! binary, a lock that runs tests one at a time, and span lookups.

#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard, OnceLock};

use instrument::{Telemetry, TelemetryGuard};
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

struct Installed {
    exporter: InMemorySpanExporter,
    _guard: TelemetryGuard,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::new(());

/// Installs telemetry with an in-memory exporter (once), takes the test lock and clears the
/// spans recorded so far. Hold the returned guard for the whole test.
pub fn start() -> MutexGuard<'static, ()> {
    let lock = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let installed = INSTALLED.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let guard = Telemetry::builder()
            .ignore_env()
            .service_name("instrument-tests")
            .with_simple_exporter(exporter.clone())
            .install()
            .expect("telemetry installs once per test binary");
        Installed {
            exporter,
            _guard: guard,
        }
    });
    installed.exporter.reset();
    lock
}

/// Every span finished since [`start`].
pub fn spans() -> Vec<SpanData> {
    INSTALLED
        .get()
        .expect("start() first")
        .exporter
        .get_finished_spans()
        .unwrap()
}

/// The one finished span named `name`.
pub fn span(name: &str) -> SpanData {
    let all = spans();
    let mut matching = all.iter().filter(|s| s.name == name);
    let found = matching.next().unwrap_or_else(|| {
        panic!(
            "no span named {name}; have {:?}",
            all.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    });
    assert!(matching.next().is_none(), "more than one span named {name}");
    found.clone()
}

/// The text of attribute `key` of `span`.
pub fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

/// The keys of all `parameter.*` attributes of `span`, in order.
pub fn parameter_keys(span: &SpanData) -> Vec<String> {
    span.attributes
        .iter()
        .map(|kv| kv.key.as_str().to_owned())
        .filter(|k| k.starts_with("parameter"))
        .collect()
}

/// The description of an error status, or `None` for another status.
pub fn error_description(span: &SpanData) -> Option<String> {
    match &span.status {
        Status::Error { description } => Some(description.to_string()),
        _ => None,
    }
}

/// The attributes of the first event named `name`.
pub fn event(span: &SpanData, name: &str) -> Option<Vec<(String, String)>> {
    span.events.iter().find(|e| e.name == name).map(|e| {
        e.attributes
            .iter()
            .map(|kv| (kv.key.as_str().to_owned(), kv.value.as_str().into_owned()))
            .collect()
    })
}
