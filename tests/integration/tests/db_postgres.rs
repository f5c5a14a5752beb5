//! sqlx instrumentation on a real PostgreSQL server (127.0.0.1:5432, user `postgres`, database
//! `test`; `INSTRUMENT_TEST_POSTGRES_URL` overrides). Each test prints why it skips when no
//! server answers.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

#[path = "support/missing.rs"]
mod missing;
#[path = "../../support/mod.rs"]
mod support;

use instrument::db::sqlx::{InstrumentedPool, PoolExt};
use instrument::trace_method;
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::SpanData;
use sqlx::Postgres;
use sqlx::postgres::PgPoolOptions;
use support::{attr, metrics, points, spans, start};

fn url() -> String {
    std::env::var("INSTRUMENT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A pool and a table of this test's own, or `None` (with the reason printed) without a server.
async fn pool(table: &str) -> Option<InstrumentedPool<Postgres>> {
    let options = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(3));
    let pool = match options.connect(&url()).await {
        Ok(pool) => pool.instrumented(),
        Err(error) => {
            missing::skip_unless_ci(&format!(
                "no PostgreSQL server answers at {}: {error}",
                url()
            ));
            return None;
        }
    };
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(pool.inner())
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY, name TEXT NOT NULL)"
    )))
    .execute(pool.inner())
    .await
    .unwrap();
    Some(pool)
}

async fn drop_table(pool: &InstrumentedPool<Postgres>, table: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(pool.inner())
        .await
        .unwrap();
}

fn table(test: &str) -> String {
    format!("instrument_{test}_{}", std::process::id())
}

fn by_name<'a>(all: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    all.iter().filter(|s| s.name == name).collect()
}

#[test]
fn postgres_statement_spans_errors_and_metrics() {
    support::run_multi_thread(async move {
        let _t = start();
        let table = table("statements");
        let Some(pool) = pool(&table).await else {
            return;
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} (id, name) VALUES ($1, $2)"
        )))
        .bind(1i64)
        .bind("pg-secret")
        .execute(&pool)
        .await
        .unwrap();
        let rows: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, name FROM {table} WHERE id = $1"
        )))
        .bind(1i64)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(rows, vec![(1, "pg-secret".to_owned())]);
        let error = sqlx::query("SELECT * FROM instrument_no_such_table")
            .fetch_all(&pool)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("does not exist"));
        let all = spans();
        let insert = by_name(&all, &format!("INSERT {table}"))[0];
        for (key, value) in [
            ("db.system.name", "postgresql"),
            ("db.namespace", "test"),
            ("server.address", "127.0.0.1"),
            ("server.port", "5432"),
            ("db.operation.name", "INSERT"),
            ("instrument.db.response.affected_rows", "1"),
        ] {
            assert_eq!(attr(insert, key).as_deref(), Some(value), "{key}");
        }
        assert_eq!(attr(insert, "db.collection.name"), Some(table.clone()));
        let select = by_name(&all, &format!("SELECT {table}"))[0];
        assert_eq!(
            attr(select, "db.response.returned_rows").as_deref(),
            Some("1")
        );
        let failed = by_name(&all, "SELECT instrument_no_such_table")[0];
        assert!(matches!(failed.status, Status::Error { .. }));
        assert_eq!(
            attr(failed, "db.response.status_code").as_deref(),
            Some("42P01"),
            "SQLSTATE undefined_table"
        );
        assert_eq!(attr(failed, "error.type").as_deref(), Some("42P01"));
        assert!(
            all.iter()
                .flat_map(|s| &s.attributes)
                .all(|kv| !kv.value.as_str().contains("pg-secret"))
        );
        let durations = points(&metrics(), "db.client.operation.duration");
        assert!(
            durations
                .iter()
                .any(|p| p.attr("db.system.name") == Some("postgresql")
                    && p.attr("error.type") == Some("42P01"))
        );
        drop_table(&pool, &table).await;
    })
}

#[test]
fn postgres_transactions_roll_back_drop_and_nest() {
    support::run_multi_thread(async move {
        let _t = start();
        let table = table("transactions");
        let Some(pool) = pool(&table).await else {
            return;
        };
        let insert = format!("INSERT INTO {table} (id, name) VALUES ($1, 'x')");
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
            .bind(1i64)
            .execute(&mut tx)
            .await
            .unwrap();
        {
            let mut savepoint = tx.begin().await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
                .bind(2i64)
                .execute(&mut savepoint)
                .await
                .unwrap();
            savepoint.rollback().await.unwrap();
        }
        tx.commit().await.unwrap();
        {
            let mut dropped = pool.begin().await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
                .bind(3i64)
                .execute(&mut dropped)
                .await
                .unwrap();
        }
        let count: (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(count.0, 1);
        let all = spans();
        let outcomes: Vec<String> = by_name(&all, "transaction")
            .iter()
            .map(|s| attr(s, "instrument.db.transaction.outcome").unwrap())
            .collect();
        assert_eq!(outcomes.len(), 2);
        assert!(
            outcomes.contains(&"commit".to_owned())
                && outcomes.contains(&"implicit_rollback".to_owned()),
            "{outcomes:?}"
        );
        let savepoint = by_name(&all, "savepoint")[0];
        assert_eq!(
            attr(savepoint, "instrument.db.transaction.outcome").as_deref(),
            Some("rollback")
        );
        drop_table(&pool, &table).await;
    })
}

#[trace_method(skip_all)]
async fn load_each(pool: &InstrumentedPool<Postgres>, table: &str, count: i64) {
    for id in 0..count {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM {table} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(pool)
        .await
        .unwrap();
    }
}

#[test]
fn postgres_repeated_queries() {
    support::run_multi_thread(async move {
        let _t = start();
        let table = table("repeated");
        let Some(pool) = pool(&table).await else {
            return;
        };
        load_each(&pool, &table, 20).await;
        load_each(&pool, &table, 9).await;
        let all = spans();
        let parents = by_name(&all, "load_each");
        let reports: Vec<usize> = parents
            .iter()
            .map(|p| {
                p.events
                    .iter()
                    .filter(|e| e.name == "instrument.db.repeated_query")
                    .count()
            })
            .collect();
        assert_eq!(reports, vec![1, 0]);
        let count = parents[0].events[0]
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "instrument.db.repeated_query.count")
            .unwrap();
        assert_eq!(count.value.as_str(), "20");
        drop_table(&pool, &table).await;
    })
}

#[test]
fn postgres_literals_are_sanitized_in_its_dialect() {
    support::run_multi_thread(async move {
        let _t = start();
        let table = table("sanitized");
        let Some(pool) = pool(&table).await else {
            return;
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {table} WHERE name = $$hunter2$$ OR name = E'it\\'s hunter2' \
             OR id IN (1, -2, 3.5e1) OR id = $1"
        )))
        .bind(7i64)
        .fetch_all(&pool)
        .await
        .unwrap();
        drop_table(&pool, &table).await;
        let all = spans();
        let select = by_name(&all, &format!("SELECT {table}"))[0];
        assert_eq!(
            attr(select, "db.query.text"),
            Some(format!(
                "SELECT id FROM {table} WHERE name = ? OR name = ? OR id IN (?) OR id = $1"
            ))
        );
    })
}
