//! `#[metric]`, `#[derive(Metrics)]` and request context attributes, checked with the SDK's
//! in-memory metric exporter.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

mod support;

use std::collections::HashSet;
use std::time::Duration;

use instrument::context::{self, ContextAttributesExt};
use instrument::metrics::{
    AsyncInstrument, Counter, Gauge, Histogram, ObservableGauge, UpDownCounter,
};
use instrument::{KeyValue, Metrics, metric, trace_method};
use support::{attr, metrics, points, span, spans, start};

#[metric(histogram = "test_sync_ms", counter = "test_sync_calls", buckets = [1.0, 10.0, 100.0], description = "sync calls")]
fn sync_work(n: u64) -> u64 {
    n * 2
}

#[metric(histogram = "test_default_ms", counter = "test_default_calls")]
fn undescribed() {}

#[metric(histogram = "test_async_ms", unit = "ms")]
async fn async_work(n: u64) -> u64 {
    tokio::task::yield_now().await;
    n + 1
}

#[metric(histogram = "test_result_ms", err)]
fn fallible(fail: bool) -> std::io::Result<u8> {
    if fail {
        return Err(std::io::Error::other("nope"));
    }
    Ok(1)
}

#[metric(counter = "test_cancel_calls")]
async fn never_finishes() {
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

#[trace_method]
#[metric(histogram = "test_stacked_a_ms")]
fn stacked_span_outside(x: u32) -> Result<u32, String> {
    Ok(x)
}

#[metric(histogram = "test_stacked_b_ms")]
#[trace_method]
async fn stacked_metric_outside(x: u32) -> u32 {
    tokio::task::yield_now().await;
    x
}

struct Tool;

#[metric(histogram = "test_tool_ms")]
impl Tool {
    fn run(&self, input: &str) -> usize {
        input.len()
    }
}

#[derive(Metrics)]
#[metrics(scope = "app")]
struct AppMetrics {
    /// Requests handled.
    requests: Counter<u64>,
    /// Time to first token.
    #[metric(name = "hist_ttft_ms", unit = "ms", buckets = [50.0, 100.0, 500.0])]
    ttft: Histogram<f64>,
    #[metric(description = "Items waiting", unit = "1")]
    queue: UpDownCounter<i64>,
    /// Tokens in the last reply.
    last_tokens: Gauge<u64>,
    /// Cost so far.
    #[metric(unit = "USD")]
    spent: Counter<f64>,
    /// Queue depth, read when metrics are collected.
    #[metric(callback = observe_depth)]
    depth: ObservableGauge<i64>,
}

fn observe_depth(observer: &dyn AsyncInstrument<i64>) {
    observer.observe(7, &[KeyValue::new("queue", "main")]);
}

#[test]
fn names_units_descriptions_and_buckets_are_as_declared() {
    let _t = start();
    sync_work(1);
    undescribed();
    let app = AppMetrics::global();
    app.requests.add(1, &[]);
    app.ttft.record(70.0, &[]);
    app.queue.add(3, &[]);
    app.last_tokens.record(42, &[]);
    app.spent.add(0.25, &[]);
    let all = metrics();
    let find = |name: &str| {
        all.iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(
        (
            find("test_sync_ms").unit.as_str(),
            find("test_sync_ms").description.as_str()
        ),
        ("ms", "sync calls")
    );
    assert_eq!(
        points(&all, "test_sync_ms")[0].bounds,
        vec![1.0, 10.0, 100.0]
    );
    assert_eq!(find("test_sync_calls").unit, "1");
    assert_eq!(find("test_sync_calls").description, "sync calls");
    assert_eq!(
        find("test_default_ms").description,
        "Duration of `undescribed` calls"
    );
    assert_eq!(
        find("test_default_calls").description,
        "Calls of `undescribed`"
    );
    assert_eq!(find("app.requests").description, "Requests handled.");
    assert_eq!(
        (
            find("hist_ttft_ms").unit.as_str(),
            find("hist_ttft_ms").description.as_str()
        ),
        ("ms", "Time to first token.")
    );
    assert_eq!(
        points(&all, "hist_ttft_ms")[0].bounds,
        vec![50.0, 100.0, 500.0]
    );
    assert_eq!(find("app.queue").description, "Items waiting");
    assert_eq!(points(&all, "app.queue")[0].count, 3.0);
    assert_eq!(points(&all, "app.last_tokens")[0].count, 42.0);
    assert_eq!(points(&all, "app.spent")[0].count, 0.25);
    let depth = points(&all, "app.depth");
    assert_eq!(
        (depth[0].count, depth[0].attr("queue")),
        (7.0, Some("main"))
    );
}

#[test]
fn counts_and_sums_after_n_calls() {
    support::run_multi_thread(async move {
        let _t = start();
        for i in 0..25 {
            assert_eq!(sync_work(i), i * 2);
            assert_eq!(async_work(i).await, i + 1);
        }
        let all = metrics();
        let sync = points(&all, "test_sync_ms");
        assert_eq!(sync.len(), 1);
        assert_eq!(sync[0].count, 25.0);
        assert!(sync[0].sum >= 0.0);
        assert_eq!(sync[0].attr("function"), Some("sync_work"));
        assert_eq!(sync[0].attr("module"), Some("metrics"));
        assert_eq!(sync[0].attr("result"), None, "not a Result");
        assert_eq!(points(&all, "test_sync_calls")[0].count, 25.0);
        assert_eq!(points(&all, "test_async_ms")[0].count, 25.0);
    })
}

#[test]
fn result_is_ok_error_or_cancelled() {
    support::run_multi_thread(async move {
        let _t = start();
        fallible(false).unwrap();
        fallible(false).unwrap();
        fallible(true).unwrap_err();
        assert!(
            tokio::time::timeout(Duration::from_millis(10), never_finishes())
                .await
                .is_err()
        );
        let all = metrics();
        let results: Vec<_> = points(&all, "test_result_ms")
            .into_iter()
            .map(|p| (p.attr("result").unwrap().to_owned(), p.count))
            .collect();
        assert!(results.contains(&("ok".into(), 2.0)), "{results:?}");
        assert!(results.contains(&("error".into(), 1.0)), "{results:?}");
        let cancelled = points(&all, "test_cancel_calls");
        assert_eq!(cancelled.len(), 1);
        assert_eq!(cancelled[0].attr("result"), Some("cancelled"));
    })
}

#[test]
fn context_attributes_inside_a_scope_only() {
    support::run_multi_thread(async move {
        let _t = start();
        sync_work(1);
        context::scope([KeyValue::new("organization.id", "org-1")], async {
            context::add_attribute("agent.id", "agent-9");
            async_work(1).await;
            sync_work(2);
        })
        .await;
        let all = metrics();
        let sync = points(&all, "test_sync_ms");
        assert_eq!(sync.len(), 2);
        let inside = sync
            .iter()
            .find(|p| p.attr("organization.id").is_some())
            .expect("a point from inside the scope");
        assert_eq!(inside.attr("agent.id"), Some("agent-9"));
        let outside = sync
            .iter()
            .find(|p| p.attr("organization.id").is_none())
            .expect("a point from outside");
        assert_eq!(outside.attr("agent.id"), None);
        assert_eq!(
            points(&all, "test_async_ms")[0].attr("agent.id"),
            Some("agent-9")
        );
    })
}

#[trace_method]
async fn scoped_task(task: u64) -> Vec<KeyValue> {
    tokio::task::yield_now().await;
    async_work(task).await;
    tokio::task::yield_now().await;
    context::attributes()
}

#[test]
fn ten_thousand_scoped_tasks_never_see_each_other() {
    support::run_multi_thread(async move {
        let _t = start();
        let tasks: Vec<_> = (0..10_000u64)
            .map(|task| {
                tokio::spawn(context::scope(
                    [KeyValue::new("task.id", task as i64)],
                    scoped_task(task),
                ))
            })
            .collect();
        for (task, handle) in tasks.into_iter().enumerate() {
            assert_eq!(
                handle.await.unwrap(),
                vec![KeyValue::new("task.id", task as i64)]
            );
        }
        let all = spans();
        assert_eq!(all.len(), 10_000);
        for s in &all {
            assert_eq!(
                attr(s, "task.id"),
                attr(s, "parameter.task"),
                "a span carries its own task's attributes"
            );
        }
        let seen: HashSet<_> = all.iter().map(|s| attr(s, "task.id").unwrap()).collect();
        assert_eq!(seen.len(), 10_000);
        assert_eq!(
            points(&metrics(), "test_async_ms")
                .iter()
                .map(|p| p.count)
                .sum::<f64>(),
            10_000.0
        );
    })
}

#[test]
fn spawned_tasks_get_attributes_only_when_asked() {
    support::run_multi_thread(async move {
        let _t = start();
        context::scope([KeyValue::new("request.id", "r-1")], async {
            let plain = tokio::spawn(async { context::attributes() }).await.unwrap();
            assert!(plain.is_empty(), "not carried by default");
            let carried = tokio::spawn(
                async {
                    context::add_attribute("child", true);
                    context::attributes()
                }
                .with_current_attributes(),
            )
            .await
            .unwrap();
            assert_eq!(
                carried,
                vec![
                    KeyValue::new("request.id", "r-1"),
                    KeyValue::new("child", true)
                ]
            );
            assert_eq!(
                context::attributes(),
                vec![KeyValue::new("request.id", "r-1")],
                "the copy is the child's own"
            );
        })
        .await;
    })
}

#[test]
fn stacked_with_trace_method_in_either_order() {
    support::run_multi_thread(async move {
        let _t = start();
        context::scope([KeyValue::new("organization.id", "org-2")], async {
            stacked_span_outside(3).unwrap();
            stacked_metric_outside(4).await;
        })
        .await;
        let a = span("stacked_span_outside");
        assert_eq!(attr(&a, "parameter.x").as_deref(), Some("3"));
        assert_eq!(attr(&a, "organization.id").as_deref(), Some("org-2"));
        assert_eq!(
            attr(&span("stacked_metric_outside"), "parameter.x").as_deref(),
            Some("4")
        );
        let all = metrics();
        let a = points(&all, "test_stacked_a_ms");
        assert_eq!((a[0].count, a[0].attr("result")), (1.0, Some("ok")));
        assert_eq!(a[0].attr("organization.id"), Some("org-2"));
        assert_eq!(points(&all, "test_stacked_b_ms")[0].count, 1.0);
    })
}

#[test]
fn impl_blocks_and_methods_are_named_after_their_type() {
    let _t = start();
    Tool.run("abc");
    let all = metrics();
    assert_eq!(
        points(&all, "test_tool_ms")[0].attr("function"),
        Some("Tool.run")
    );
}

/// A pool of five connections, two idle, at most ten, at least one.
struct FixedPool;

impl instrument::pool::PoolStatus for FixedPool {
    fn size(&self) -> u32 {
        5
    }
    fn idle(&self) -> u32 {
        2
    }
    fn max_size(&self) -> u32 {
        10
    }
    fn min_size(&self) -> u32 {
        1
    }
}

#[test]
fn built_in_registry_has_the_original_names() {
    let _t = start();
    let monitor = instrument::pool::PoolMonitor::new("main", "queue", FixedPool, true);
    monitor.checkout_started().timed_out();
    let all = metrics();
    for name in [
        "gauge_db_pool_connections_total",
        "db_checkout_latency_ms",
        "db_pool_checkout_timeout_total",
    ] {
        assert_eq!(points(&all, name).len(), 1, "{name}");
    }
    let gauge = |name: &str| {
        let point = points(&all, name)
            .into_iter()
            .find(|p| p.attr("engine_name") == Some("main"))
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(point.attr("pool_mode"), Some("queue"));
        point.count
    };
    // Total is the capacity; overflow is 0 for a pool without a base size.
    assert_eq!(gauge("gauge_db_pool_connections_total"), 10.0);
    assert_eq!(gauge("gauge_db_pool_connections_checked_out"), 3.0);
    assert_eq!(gauge("gauge_db_pool_connections_available"), 2.0);
    assert_eq!(gauge("gauge_db_pool_connections_overflow"), 0.0);
    assert_eq!(gauge("db_pool_in_use"), 3.0);
    assert_eq!(gauge("db_pool_waiters"), 0.0);
    assert_eq!(gauge("db_pool_utilization_ratio"), 0.3);
    let used = points(&all, "db.client.connection.count")
        .into_iter()
        .find(|p| p.attr("db.client.connection.state") == Some("used"))
        .expect("the semantic-convention family is on for this monitor");
    assert_eq!(
        (used.count, used.attr("db.client.connection.pool.name")),
        (3.0, Some("main"))
    );
    assert_eq!(points(&all, "db.client.connection.timeouts")[0].count, 1.0);
    assert_eq!(
        points(&all, "count_db_pool_connection_errors")[0].attr("exception_type"),
        Some("PoolTimedOut")
    );
    drop(monitor);
}
