//! The `tracing` bridge: `tracing` spans and `#[trace_method]` spans nest both ways in one
//! trace, `tracing` events arrive as log records with the trace and span ids of where they
//! happened, fields follow the capture rules, and a remote parent from the HTTP layer is the
//! parent of both kinds.

// Each test holds the serial lock for its whole run, across awaits, on purpose: the exporters
// are shared by the test binary.
#![allow(clippy::await_holding_lock)]

use std::sync::{Mutex, MutexGuard, OnceLock};

use instrument::{Telemetry, TelemetryGuard, trace_method};
use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLogRecord};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use tracing::Instrument as _;

struct Installed {
    spans: InMemorySpanExporter,
    logs: InMemoryLogExporter,
    guard: TelemetryGuard,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::new(());

fn start() -> MutexGuard<'static, ()> {
    let lock = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let installed = INSTALLED.get_or_init(|| {
        // SAFETY: set once, before any thread of this test binary reads the environment.
        unsafe { std::env::set_var("RUST_LOG", "info,sqlx=debug") };
        let spans = InMemorySpanExporter::default();
        let logs = InMemoryLogExporter::default();
        let guard = Telemetry::builder()
            .ignore_env()
            .service_name("tracing-bridge-tests")
            .with_simple_exporter(spans.clone())
            .with_log_exporter(logs.clone())
            .with_metric_exporter(opentelemetry_sdk::metrics::InMemoryMetricExporter::default())
            .install()
            .unwrap();
        Installed { spans, logs, guard }
    });
    installed.guard.force_flush().unwrap();
    installed.spans.reset();
    installed.logs.reset();
    lock
}

fn finished() -> (Vec<SpanData>, Vec<SdkLogRecord>) {
    let installed = INSTALLED.get().unwrap();
    installed.guard.force_flush().unwrap();
    let spans = installed.spans.get_finished_spans().unwrap();
    let logs = installed
        .logs
        .get_emitted_logs()
        .unwrap()
        .into_iter()
        .map(|l| l.record)
        .collect();
    (spans, logs)
}

fn span<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "no span {name}: {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn body(record: &SdkLogRecord) -> String {
    match record.body() {
        Some(AnyValue::String(s)) => s.to_string(),
        other => format!("{other:?}"),
    }
}

fn log_attr(record: &SdkLogRecord, key: &str) -> Option<String> {
    record
        .attributes_iter()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, v)| match v {
            AnyValue::String(s) => s.to_string(),
            AnyValue::Int(i) => i.to_string(),
            other => format!("{other:?}"),
        })
}

fn log<'a>(logs: &'a [SdkLogRecord], text: &str) -> &'a SdkLogRecord {
    logs.iter()
        .find(|r| body(r) == text)
        .unwrap_or_else(|| panic!("no log {text:?}"))
}

#[trace_method]
fn handle(order_id: &str) -> u32 {
    let span = tracing::info_span!(
        "load_order",
        order_id,
        attempt = 2_u32,
        api_key = "sk-SECRET"
    );
    let _entered = span.enter();
    tracing::info!(items = 3, "order loaded");
    tracing::warn!(token = "SECRET-TOKEN", "slow storage");
    inner_step(order_id.len() as u32)
}

#[trace_method]
fn inner_step(n: u32) -> u32 {
    tracing::error!("failed once, retried");
    n + 1
}

#[test]
fn spans_nest_both_ways_and_events_become_log_records() {
    let _t = start();
    assert_eq!(handle("o-17"), 5);
    let (spans, logs) = finished();
    let outer = span(&spans, "handle");
    let bridged = span(&spans, "load_order");
    let inner = span(&spans, "inner_step");
    let trace = outer.span_context.trace_id();
    assert!(
        spans.iter().all(|s| s.span_context.trace_id() == trace),
        "one trace"
    );
    assert_eq!(
        bridged.parent_span_id,
        outer.span_context.span_id(),
        "tracing span under #[trace_method]"
    );
    assert_eq!(
        inner.parent_span_id,
        bridged.span_context.span_id(),
        "#[trace_method] under tracing span"
    );
    assert_eq!(attr(bridged, "order_id").as_deref(), Some("o-17"));
    assert_eq!(attr(bridged, "attempt").as_deref(), Some("2"));
    assert_eq!(attr(bridged, "api_key").as_deref(), Some("[redacted]"));
    assert_eq!(
        attr(bridged, "instrument.tracing.target").as_deref(),
        Some("tracing_bridge")
    );

    let loaded = log(&logs, "order loaded");
    assert_eq!(loaded.severity_number(), Some(Severity::Info));
    assert_eq!(loaded.severity_text(), Some("INFO"));
    assert_eq!(log_attr(loaded, "items").as_deref(), Some("3"));
    let context = loaded
        .trace_context()
        .expect("a log inside a span carries its ids");
    assert_eq!(context.trace_id, trace);
    assert_eq!(context.span_id, bridged.span_context.span_id());
    let slow = log(&logs, "slow storage");
    assert_eq!(slow.severity_number(), Some(Severity::Warn));
    assert_eq!(log_attr(slow, "token").as_deref(), Some("[redacted]"));
    let failed = log(&logs, "failed once, retried");
    assert_eq!(
        failed.trace_context().unwrap().span_id,
        inner.span_context.span_id()
    );
    assert_eq!(
        inner.status,
        opentelemetry::trace::Status::Unset,
        "an error event leaves the status alone"
    );
    assert!(
        logs.iter()
            .all(|r| format!("{r:?}").find("SECRET").is_none())
    );
}

#[trace_method]
async fn traced_outer() -> u32 {
    let work = async {
        tokio::task::yield_now().await;
        tracing::info!("inside the instrumented future");
        traced_leaf().await
    }
    .instrument(tracing::info_span!("async_work"));
    let spawned = tokio::spawn(
        async {
            tokio::task::yield_now().await;
            traced_leaf().await
        }
        .instrument(tracing::info_span!("spawned_work")),
    );
    work.await + spawned.await.unwrap()
}

#[trace_method]
async fn traced_leaf() -> u32 {
    tokio::task::yield_now().await;
    1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_nesting_holds_across_await_and_spawn() {
    let _t = start();
    assert_eq!(traced_outer().await, 2);
    let (spans, logs) = finished();
    let outer = span(&spans, "traced_outer");
    let work = span(&spans, "async_work");
    let spawned = span(&spans, "spawned_work");
    assert_eq!(work.parent_span_id, outer.span_context.span_id());
    assert_eq!(spawned.parent_span_id, outer.span_context.span_id());
    let leaves: Vec<&SpanData> = spans.iter().filter(|s| s.name == "traced_leaf").collect();
    assert_eq!(leaves.len(), 2);
    for parent in [work.span_context.span_id(), spawned.span_context.span_id()] {
        assert_eq!(
            leaves.iter().filter(|l| l.parent_span_id == parent).count(),
            1
        );
    }
    let inside = log(&logs, "inside the instrumented future");
    assert_eq!(
        inside.trace_context().unwrap().span_id,
        work.span_context.span_id()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tasks_never_cross_traces() {
    let _t = start();
    let tasks = (0..1_000u32).map(|i| {
        tokio::spawn(async move {
            let span = tracing::info_span!("task", i);
            async move {
                tokio::task::yield_now().await;
                tracing::info!(i, "step");
                traced_leaf().await
            }
            .instrument(span)
            .await
        })
    });
    for task in tasks {
        task.await.unwrap();
    }
    let (spans, logs) = finished();
    let roots: Vec<&SpanData> = spans.iter().filter(|s| s.name == "task").collect();
    assert_eq!(roots.len(), 1_000);
    let trace_of_task = |i: &str| {
        roots
            .iter()
            .find(|s| attr(s, "i").as_deref() == Some(i))
            .unwrap()
            .span_context
            .trace_id()
    };
    let steps: Vec<&SdkLogRecord> = logs.iter().filter(|r| body(r) == "step").collect();
    assert_eq!(steps.len(), 1_000);
    for record in steps {
        let i = log_attr(record, "i").unwrap();
        assert_eq!(
            record.trace_context().unwrap().trace_id,
            trace_of_task(&i),
            "task {i}"
        );
    }
    let leaves = spans.iter().filter(|s| s.name == "traced_leaf").count();
    assert_eq!(leaves, 1_000);
}

/// sqlx's SQLite worker logs on its own thread, inside the `tracing` span current where the
/// query was made (it carries `tracing`'s span there, not OpenTelemetry's context), so the
/// query runs in one.
#[trace_method]
async fn query_through_sqlx() -> i64 {
    use sqlx::Connection as _;
    async {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT 41 + 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        n
    }
    .instrument(tracing::info_span!("query"))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlx_events_land_in_the_callers_trace() {
    let _t = start();
    assert_eq!(query_through_sqlx().await, 42);
    let (spans, logs) = finished();
    let caller = span(&spans, "query_through_sqlx");
    let from_sqlx: Vec<&SdkLogRecord> = logs
        .iter()
        .filter(|r| r.target().is_some_and(|t| t.starts_with("sqlx")))
        .collect();
    assert!(!from_sqlx.is_empty(), "sqlx logs its statements");
    for record in from_sqlx {
        assert_eq!(
            record.trace_context().map(|c| c.trace_id),
            Some(caller.span_context.trace_id())
        );
    }
}

#[trace_method]
fn uses_the_log_crate() {
    log::warn!(target: "legacy", "from the log crate");
}

#[test]
fn log_crate_records_are_bridged() {
    let _t = start();
    uses_the_log_crate();
    let (spans, logs) = finished();
    let caller = span(&spans, "uses_the_log_crate");
    let record = log(&logs, "from the log crate");
    assert_eq!(record.severity_number(), Some(Severity::Warn));
    assert_eq!(
        record.trace_context().unwrap().span_id,
        caller.span_context.span_id()
    );
}

#[trace_method]
fn lookup(agent_id: &str) -> usize {
    tracing::info!(agent_id, "looking up");
    agent_id.len()
}

async fn handler() -> String {
    let span = tracing::info_span!("handler_work");
    span.in_scope(|| {
        tracing::info!("handling");
        lookup("a1").to_string()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_parent_is_the_parent_of_both_kinds() {
    let _t = start();
    let app = axum::Router::new()
        .route("/work", axum::routing::get(handler))
        .layer(instrument::http::HttpLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let remote_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = reqwest::Client::new()
        .get(format!("http://{address}/work"))
        .header(
            "traceparent",
            format!("00-{remote_trace}-00f067aa0ba902b7-01"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "2");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (spans, logs) = finished();
    let server = span(&spans, "GET /work");
    assert_eq!(
        format!("{:016x}", server.parent_span_id),
        "00f067aa0ba902b7"
    );
    let work = span(&spans, "handler_work");
    let traced = span(&spans, "lookup");
    assert_eq!(work.parent_span_id, server.span_context.span_id());
    assert_eq!(traced.parent_span_id, work.span_context.span_id());
    for s in [server, work, traced] {
        assert_eq!(
            format!("{:032x}", s.span_context.trace_id()),
            remote_trace,
            "{}",
            s.name
        );
    }
    for text in ["handling", "looking up"] {
        let record = log(&logs, text);
        assert_eq!(
            format!("{:032x}", record.trace_context().unwrap().trace_id),
            remote_trace
        );
    }
}

#[trace_method]
fn fails_loudly() {
    tracing::error!("gave up");
}

#[test]
fn error_events_mark_their_span_only_when_asked() {
    let _t = start();
    instrument::tracing::error_events_mark_spans(true);
    fails_loudly();
    instrument::tracing::error_events_mark_spans(false);
    let (spans, _) = finished();
    let failed = span(&spans, "fails_loudly");
    assert_eq!(
        failed.status,
        opentelemetry::trace::Status::error("gave up")
    );
}
