//! `instrument::testing`: captures in tests running at the same time see only their own spans
//! and metric points; `tracing` events are captured as log lines under their span; the rendering
//! is the same on every run.

use instrument::metrics::Counter;
use instrument::testing::{capture, capture_async};
use instrument::{Metrics, metric, trace_method};

#[derive(Metrics)]
#[metrics(scope = "testing-helpers")]
struct Calls {
    /// Calls of `work`.
    #[metric(name = "count_work_calls", unit = "1")]
    calls: Counter<u64>,
}

#[trace_method]
fn work(label: &str, n: u32) -> u32 {
    Calls::global().calls.add(1, &[]);
    (0..n).map(|i| step(label, i)).sum()
}

#[trace_method]
fn step(label: &str, i: u32) -> u32 {
    let _ = label;
    i
}

#[trace_method]
async fn fetch(key: &str) -> Result<usize, String> {
    tokio::task::yield_now().await;
    if key.is_empty() {
        return Err("empty key".into());
    }
    Ok(key.len())
}

#[metric(histogram = "timed_fetch_ms")]
async fn timed_fetch(key: &str) -> usize {
    tokio::task::yield_now().await;
    key.len()
}

#[test]
fn concurrent_captures_see_only_their_own_spans_and_points() {
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            std::thread::spawn(move || {
                let label = format!("thread-{t}");
                let (sum, captured) = capture(|| work(&label, t + 3));
                (t, sum, captured)
            })
        })
        .collect();
    for thread in threads {
        let (t, sum, captured) = thread.join().unwrap();
        assert_eq!(sum, (0..t + 3).sum::<u32>());
        let work = captured.span("work");
        let steps = captured.children(work);
        assert_eq!(steps.len() as u32, t + 3, "only this capture's steps");
        assert!(
            steps
                .iter()
                .all(|s| captured.attribute(s, "parameter.label") == Some(format!("thread-{t}")))
        );
        let points = captured.metric_points("count_work_calls");
        assert_eq!(points.len(), 1, "{points:?}");
        assert_eq!(points[0].value, 1.0);
        assert!(
            points[0]
                .attributes
                .iter()
                .all(|(k, _)| k != "instrument.testing.capture")
        );
    }
}

#[test]
fn the_rendering_is_the_same_on_every_run() {
    let render = || capture(|| work("snap", 4)).1.render();
    let first = render();
    assert_eq!(first, render());
    assert_eq!(
        first,
        "trace 1\n└─ work\n   │  parameter.label=snap\n   │  parameter.n=4\n   └─ ×4 step\n"
    );
}

#[tokio::test]
async fn async_captures_follow_the_future_and_record_errors() {
    let (result, captured) = capture_async(fetch("")).await;
    assert_eq!(result, Err("empty key".into()));
    let span = captured.span("fetch");
    assert!(matches!(
        span.status,
        opentelemetry::trace::Status::Error { .. }
    ));
    assert!(captured.render().contains("└─ fetch  ERROR empty key"));
}

#[tokio::test]
async fn an_async_fn_s_future_made_before_the_capture_records_in_it() {
    // Made before the capture installs telemetry (in the binary's first capture): whether the
    // call records is decided at the first poll, as an `async fn`'s first statement would.
    let (fetched, timed) = (fetch("key"), timed_fetch("key"));
    let ((fetched, timed), captured) = capture_async(async { (fetched.await, timed.await) }).await;
    assert_eq!((fetched, timed), (Ok(3), 3));
    assert_eq!(captured.span("fetch").name, "fetch");
    let points = captured.metric_points("timed_fetch_ms");
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].count, 1);
}

#[trace_method]
fn reserve(order_id: u32) -> u32 {
    tracing::info!(items = 3, "stock reserved");
    tracing::warn!(order_id, "stock low");
    order_id
}

#[test]
fn log_lines_are_captured_under_their_span() {
    let (_, captured) = capture(|| reserve(7));
    let logs = captured.logs();
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(logs[0].span, "reserve");
    assert_eq!(
        (logs[0].level.as_str(), logs[0].message.as_str()),
        ("INFO", "stock reserved")
    );
    assert!(logs[0].attributes.contains(&("items".into(), "3".into())));
    assert_eq!(logs[1].level, "WARN");
    assert!(captured.render().contains("WARN stock low"));
}
