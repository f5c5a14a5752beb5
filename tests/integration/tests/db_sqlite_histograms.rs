//! The sqlx SQLite integration leaves no histogram series that recorded nothing: under
//! cumulative temporality (the OTLP exporters' default, unlike the delta of the other suites'
//! in-memory exporter) such a series is exported at every collection, as a point of count 0.
//! Statements that fail, and statements run under context attributes, record into other series
//! than a plain successful one: neither may leave that one bound and empty.

use instrument::db::sqlx::{InstrumentedPool, PoolExt};
use instrument::{KeyValue, Telemetry, context};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporterBuilder, Temporality};
use sqlx::Sqlite;
use sqlx::sqlite::SqlitePoolOptions;

/// Histogram points of every exported metric: its name, attributes and count.
fn histogram_points(exported: &[ResourceMetrics]) -> Vec<(String, Vec<String>, u64)> {
    fn attributes<'a>(kvs: impl Iterator<Item = &'a KeyValue>) -> Vec<String> {
        kvs.map(|kv| format!("{}={}", kv.key, kv.value)).collect()
    }
    fn points<T>(name: &str, data: &MetricData<T>, out: &mut Vec<(String, Vec<String>, u64)>) {
        match data {
            MetricData::Histogram(h) => out.extend(
                h.data_points()
                    .map(|p| (name.to_owned(), attributes(p.attributes()), p.count())),
            ),
            MetricData::ExponentialHistogram(h) => out.extend(h.data_points().map(|p| {
                (
                    name.to_owned(),
                    attributes(p.attributes()),
                    p.count() as u64,
                )
            })),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for metric in exported
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
    {
        match metric.data() {
            AggregatedMetrics::F64(data) => points(metric.name(), data, &mut out),
            AggregatedMetrics::U64(data) => points(metric.name(), data, &mut out),
            AggregatedMetrics::I64(data) => points(metric.name(), data, &mut out),
        }
    }
    out
}

/// Statements that succeed, fail, run in transactions and under context attributes.
async fn workload(pool: &InstrumentedPool<Sqlite>) {
    sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT)")
        .execute(pool)
        .await
        .unwrap();
    for id in 1..=3 {
        sqlx::query("INSERT INTO users (id, name) VALUES ($1, $2)")
            .bind(id)
            .bind(format!("user-{id}"))
            .execute(pool)
            .await
            .unwrap();
    }
    // The same text failing, then a text that only ever fails.
    for _ in 0..2 {
        sqlx::query("INSERT INTO users (id, name) VALUES ($1, $2)")
            .bind(9)
            .bind("user-1")
            .execute(pool)
            .await
            .unwrap_err();
        sqlx::query("SELECT * FROM missing_table")
            .fetch_all(pool)
            .await
            .unwrap_err();
    }
    // A text that only ever runs under context attributes.
    context::scope([KeyValue::new("organization.id", "org-1")], async {
        for _ in 0..2 {
            sqlx::query("SELECT name FROM orgs WHERE id = $1")
                .bind(1)
                .fetch_optional(pool)
                .await
                .unwrap();
        }
    })
    .await;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("UPDATE users SET name = $1 WHERE id = $2")
        .bind("renamed")
        .bind(2)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let count: (i64,) = sqlx::query_as("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(count.0, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_histogram_point_of_count_zero_after_sqlite_statements() {
    let exporter = InMemoryMetricExporterBuilder::new()
        .with_temporality(Temporality::Cumulative)
        .build();
    let telemetry = Telemetry::builder()
        .ignore_env()
        .service_name("db-sqlite-histograms")
        .with_metric_exporter(exporter.clone())
        .install()
        .unwrap();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap()
        .instrumented();
    // Twice: statements cached by a thread with their bound duration run a second time.
    workload(&pool).await;
    for drop in ["DROP TABLE users", "DROP TABLE orgs"] {
        sqlx::query(drop).execute(&pool).await.unwrap();
    }
    workload(&pool).await;
    telemetry.force_flush().unwrap();

    let points = histogram_points(&exporter.get_finished_metrics().unwrap());
    let durations: Vec<_> = points
        .iter()
        .filter(|(name, ..)| name == "db.client.operation.duration")
        .collect();
    let has = |attribute: &str| {
        durations
            .iter()
            .any(|(_, a, _)| a.iter().any(|a| a == attribute))
    };
    assert!(
        has("error.type=1"),
        "the failed statements recorded: {durations:?}"
    );
    assert!(
        has("organization.id=org-1"),
        "the scoped statements recorded: {durations:?}"
    );
    let empty: Vec<_> = points.iter().filter(|(.., count)| *count == 0).collect();
    assert!(empty.is_empty(), "histogram points of count 0: {empty:?}");
    telemetry.shutdown().unwrap();
}
