//! A call site keeps whether telemetry is on in its own static (its switch): set the first time
//! it runs and every time telemetry is installed or shut down. Calls made before telemetry is
//! installed, while it is, after it was shut down and once it is installed again, sync and
//! async.

use instrument::{Telemetry, TelemetryGuard, trace_method};
use opentelemetry::Value;
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[trace_method]
fn sync_call(n: i64) -> i64 {
    n + 1
}

#[trace_method]
async fn async_call(n: i64) -> i64 {
    n + 1
}

/// Waits for `go` before it returns.
#[trace_method(exclude = [go])]
async fn waiting_call(n: i64, go: tokio::sync::oneshot::Receiver<()>) -> i64 {
    let _ = go.await;
    n + 1
}

/// Polls `future` once, with a waker that does nothing.
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
    future.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

/// Telemetry exporting every span to `exporter` as it ends.
fn install(exporter: &InMemorySpanExporter) -> TelemetryGuard {
    Telemetry::builder()
        .ignore_env()
        .service_name("switches")
        .with_simple_exporter(exporter.clone())
        .install()
        .unwrap()
}

/// `(name, parameter.n)` of each span exported so far.
fn recorded(exporter: &InMemorySpanExporter) -> Vec<(String, String)> {
    let mut spans: Vec<_> = exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .map(|span| {
            let n = span
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == "parameter.n")
                .map(|kv| kv.value.clone());
            let n = match n {
                Some(Value::String(text)) => text.to_string(),
                other => format!("{other:?}"),
            };
            (span.name.to_string(), n)
        })
        .collect();
    spans.sort();
    spans
}

#[tokio::test]
async fn call_sites_follow_telemetry_being_installed_and_shut_down() {
    // Before telemetry: both call sites run, register as off, record nothing.
    assert_eq!(sync_call(1), 2);
    assert_eq!(async_call(1).await, 2);
    assert!(!instrument::is_enabled());

    let exporter = InMemorySpanExporter::default();
    let guard = install(&exporter);
    assert_eq!(sync_call(2), 3);
    assert_eq!(async_call(2).await, 3);
    let while_on = recorded(&exporter);
    assert_eq!(
        while_on,
        [
            ("async_call".to_owned(), "2".to_owned()),
            ("sync_call".to_owned(), "2".to_owned()),
        ],
        "the installed telemetry turned the call sites that ran before it on"
    );

    guard.shutdown().unwrap();
    assert!(!instrument::is_enabled());
    assert_eq!(sync_call(3), 4);
    assert_eq!(async_call(3).await, 4);

    // Installed again: the call sites, off since the shutdown, record again.
    let again = InMemorySpanExporter::default();
    let guard = install(&again);
    assert_eq!(sync_call(4), 5);
    assert_eq!(async_call(4).await, 5);
    assert_eq!(
        recorded(&again),
        [
            ("async_call".to_owned(), "4".to_owned()),
            ("sync_call".to_owned(), "4".to_owned()),
        ],
        "nothing from the calls made while off, both calls made after"
    );
    drop(guard);

    // A future's first poll decides, as an `async fn`'s first statement would: first polled
    // while off, it records nothing when telemetry is installed before it ends; made while off
    // and first polled once telemetry is installed, it records.
    let (go, wait) = tokio::sync::oneshot::channel();
    let mut first_polled_off = std::pin::pin!(waiting_call(5, wait));
    assert!(poll_once(first_polled_off.as_mut()).is_pending());
    let made_off = async_call(6);
    let last = InMemorySpanExporter::default();
    let guard = install(&last);
    go.send(()).unwrap();
    assert_eq!(first_polled_off.await, 6);
    assert_eq!(made_off.await, 7);
    assert_eq!(
        recorded(&last),
        [("async_call".to_owned(), "6".to_owned())],
        "the future first polled while off stays unrecorded"
    );
    drop(guard);
}
