//! sqlx instrumentation on SQLite in-process: statement spans, truncation, bind values,
//! errors, transactions, repeated-query detection and the duration metric.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

#[path = "../../support/mod.rs"]
mod support;

use instrument::db::sqlx::{InstrumentedPool, PoolExt};
use instrument::db::{InstrumentationConfig, temporary_instrumentation_config};
use instrument::trace_method;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;
use sqlx::Sqlite;
use sqlx::sqlite::SqlitePoolOptions;
use support::{attr, error_description, metrics, points, spans, start};

async fn pool() -> InstrumentedPool<Sqlite> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap()
        .instrumented();
    sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, org TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    pool
}

fn by_name<'a>(all: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    all.iter().filter(|s| s.name == name).collect()
}

#[derive(sqlx::FromRow, Debug, PartialEq)]
struct User {
    id: i64,
    name: String,
}

#[trace_method(skip_all)]
async fn crud(pool: &InstrumentedPool<Sqlite>) -> Vec<User> {
    sqlx::query("INSERT INTO users (id, name, org) VALUES ($1, $2, $3)")
        .bind(1)
        .bind("secret-name")
        .bind("org-1")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE users SET org = $1 WHERE id = $2")
        .bind("org-2")
        .bind(1)
        .execute(pool)
        .await
        .unwrap();
    let users: Vec<User> = sqlx::query_as("SELECT id, name FROM users WHERE org = $1")
        .bind("org-2")
        .fetch_all(pool)
        .await
        .unwrap();
    let one: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE id = ?")
        .bind(1)
        .fetch_optional(pool)
        .await
        .unwrap();
    assert_eq!(one, Some((1,)));
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(99)
        .execute(pool)
        .await
        .unwrap();
    users
}

#[test]
fn statement_spans_are_named_and_attributed_by_the_conventions() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool().await;
        let users = crud(&pool).await;
        assert_eq!(
            users,
            vec![User {
                id: 1,
                name: "secret-name".into()
            }]
        );
        let all = spans();
        let parent = by_name(&all, "crud")[0];
        let create = by_name(&all, "CREATE TABLE users")[0];
        assert_eq!(
            attr(create, "db.operation.name").as_deref(),
            Some("CREATE TABLE")
        );
        let insert = by_name(&all, "INSERT users")[0];
        assert_eq!(insert.span_kind, SpanKind::Client);
        assert_eq!(insert.parent_span_id, parent.span_context.span_id());
        for (key, value) in [
            ("db.system.name", "sqlite"),
            ("db.namespace", ":memory:"),
            ("db.operation.name", "INSERT"),
            ("db.collection.name", "users"),
            ("db.query.summary", "INSERT users"),
            (
                "db.query.text",
                "INSERT INTO users (id, name, org) VALUES ($1, $2, $3)",
            ),
            ("instrument.db.response.affected_rows", "1"),
        ] {
            assert_eq!(attr(insert, key).as_deref(), Some(value), "{key}");
        }
        assert_eq!(
            attr(
                by_name(&all, "UPDATE users")[0],
                "instrument.db.response.affected_rows"
            )
            .as_deref(),
            Some("1")
        );
        let selects = by_name(&all, "SELECT users");
        assert_eq!(selects.len(), 2);
        assert_eq!(
            attr(selects[0], "db.response.returned_rows").as_deref(),
            Some("1")
        );
        assert_eq!(
            attr(
                by_name(&all, "DELETE users")[0],
                "instrument.db.response.affected_rows"
            )
            .as_deref(),
            Some("0")
        );
        for span in &all {
            for kv in &span.attributes {
                assert!(
                    !kv.value.as_str().contains("secret-name"),
                    "bind values are never recorded: {span:?}"
                );
            }
        }
        let durations = points(&metrics(), "db.client.operation.duration");
        let insert_point = durations
            .iter()
            .find(|p| p.attr("db.operation.name") == Some("INSERT"))
            .expect("an INSERT point");
        assert_eq!(insert_point.attr("db.collection.name"), Some("users"));
        assert_eq!(insert_point.attr("db.system.name"), Some("sqlite"));
        assert!(
            insert_point.attr("db.query.text").is_none(),
            "the metric keeps low-cardinality attributes only"
        );
    })
}

#[test]
fn query_text_is_truncated_and_binds_recorded_only_when_asked() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool().await;
        {
            let mut config = InstrumentationConfig::default();
            config.sql_truncate_length = 20;
            config.record_bind_values = true;
            let _config = temporary_instrumentation_config(config);
            sqlx::query("SELECT id, name, org FROM users WHERE name = $1 OR org = $2")
                .bind("ada")
                .bind("postgres://app:SECRET@db.internal/orders?password=SECRET")
                .fetch_all(&pool)
                .await
                .unwrap();
        }
        let all = spans();
        let select = by_name(&all, "SELECT users")[0];
        assert_eq!(
            attr(select, "db.query.text").as_deref(),
            Some("SELECT id, name, org...")
        );
        let parameters = attr(select, "instrument.db.query.parameters").unwrap();
        assert!(parameters.contains("ada"), "{parameters}");
        assert!(
            parameters.contains("postgres://app:[redacted]@db.internal/orders?password=[redacted]"),
            "a connection string bound as a value keeps no password: {parameters}"
        );
        sqlx::query("SELECT id FROM users WHERE name = $1")
            .bind("bob")
            .fetch_all(&pool)
            .await
            .unwrap();
        let all = spans();
        assert!(
            attr(all.last().unwrap(), "instrument.db.query.parameters").is_none(),
            "restored after the guard"
        );
    })
}

#[test]
fn failing_statements_are_errors_with_their_code() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool().await;
        assert!(
            sqlx::query("SELECT * FROM missing_table")
                .fetch_all(&pool)
                .await
                .is_err()
        );
        sqlx::query("INSERT INTO users (id, name) VALUES (1, 'a')")
            .execute(&pool)
            .await
            .unwrap();
        assert!(
            sqlx::query("INSERT INTO users (id, name) VALUES (2, 'a')")
                .execute(&pool)
                .await
                .is_err()
        );
        let all = spans();
        let missing = by_name(&all, "SELECT missing_table")[0];
        assert!(matches!(missing.status, Status::Error { .. }));
        assert_eq!(
            attr(missing, "db.response.status_code").as_deref(),
            Some("1")
        );
        assert_eq!(attr(missing, "error.type").as_deref(), Some("1"));
        let duplicate = by_name(&all, "INSERT users")
            .into_iter()
            .find(|s| s.status != Status::Unset)
            .unwrap();
        assert_eq!(
            attr(duplicate, "db.response.status_code").as_deref(),
            Some("2067"),
            "SQLITE_CONSTRAINT_UNIQUE"
        );
        assert!(error_description(duplicate).unwrap().contains("UNIQUE"));
        // The exception event carries the stack of the caller that ran the failing statement.
        let exception = missing
            .events
            .iter()
            .find(|e| e.name == "exception")
            .expect("an exception event");
        let stacktrace = exception
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "exception.stacktrace")
            .map(|kv| kv.value.to_string())
            .expect("exception.stacktrace");
        assert!(
            stacktrace.contains("failing_statements_are_errors_with_their_code"),
            "{stacktrace}"
        );
        assert!(!stacktrace.contains("force_capture"), "{stacktrace}");
    })
}

#[test]
fn transactions_commit_roll_back_drop_and_nest() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool().await;

        let mut tx = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO users (id, name) VALUES (1, 'kept')")
            .execute(&mut tx)
            .await
            .unwrap();
        {
            let mut savepoint = tx.begin().await.unwrap();
            sqlx::query("INSERT INTO users (id, name) VALUES (2, 'nested')")
                .execute(&mut savepoint)
                .await
                .unwrap();
            savepoint.commit().await.unwrap();
        }
        tx.commit().await.unwrap();

        let mut tx = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO users (id, name) VALUES (3, 'undone')")
            .execute(&mut tx)
            .await
            .unwrap();
        sqlx::query("INSERT INTO users (id, name) VALUES (4, 'undone')")
            .execute(&mut tx)
            .await
            .unwrap_err();
        tx.rollback().await.unwrap();

        {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("INSERT INTO users (id, name) VALUES (5, 'dropped')")
                .execute(&mut tx)
                .await
                .unwrap();
        }
        let count: (i64,) = sqlx::query_as("SELECT count(*) FROM users")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(count.0, 2, "only the committed rows remain");

        let all = spans();
        let transactions = by_name(&all, "transaction");
        assert_eq!(transactions.len(), 3);
        let outcome = |s: &SpanData| attr(s, "instrument.db.transaction.outcome").unwrap();
        let committed = transactions
            .iter()
            .find(|s| outcome(s) == "commit")
            .unwrap();
        let rolled_back = transactions
            .iter()
            .find(|s| outcome(s) == "rollback")
            .unwrap();
        let dropped = transactions
            .iter()
            .find(|s| outcome(s) == "implicit_rollback")
            .unwrap();
        assert_eq!(
            attr(committed, "instrument.db.transaction.statement_count").as_deref(),
            Some("1")
        );
        assert_eq!(
            attr(rolled_back, "instrument.db.transaction.statement_count").as_deref(),
            Some("2")
        );
        assert_eq!(
            attr(dropped, "instrument.db.transaction.statement_count").as_deref(),
            Some("1")
        );
        let savepoint = by_name(&all, "savepoint")[0];
        assert_eq!(
            savepoint.parent_span_id,
            committed.span_context.span_id(),
            "savepoints nest"
        );
        assert_eq!(
            attr(savepoint, "instrument.db.transaction.depth").as_deref(),
            Some("1")
        );
        // The literals that told the inserts apart are sanitized out of their texts: they are
        // found by their parents.
        let inserts = by_name(&all, "INSERT users");
        assert_eq!(inserts.len(), 5);
        assert!(inserts.iter().all(|s| attr(s, "db.query.text").as_deref()
            == Some("INSERT INTO users (id, name) VALUES (?, ?)")));
        let under = |parent: &SpanData| {
            inserts
                .iter()
                .filter(|s| s.parent_span_id == parent.span_context.span_id())
                .count()
        };
        assert_eq!(under(savepoint), 1, "the nested insert is the savepoint's");
        assert_eq!(under(dropped), 1, "the dropped insert is its transaction's");
    })
}

#[trace_method(skip_all)]
async fn load_each(pool: &InstrumentedPool<Sqlite>, count: i64) {
    for id in 0..count {
        sqlx::query("SELECT id, name FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .unwrap();
    }
    sqlx::query("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await
        .unwrap();
}

#[test]
fn repeated_queries_are_reported_once_per_parent_and_shape() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool().await;
        load_each(&pool, 20).await;
        load_each(&pool, 9).await;
        let all = spans();
        let parents = by_name(&all, "load_each");
        assert_eq!(parents.len(), 2);
        let events: Vec<Vec<_>> = parents
            .iter()
            .map(|p| {
                p.events
                    .iter()
                    .filter(|e| e.name == "instrument.db.repeated_query")
                    .collect()
            })
            .collect();
        assert_eq!(events[0].len(), 1, "twenty identical selects: one report");
        assert!(events[1].is_empty(), "nine: below the threshold of ten");
        let event = events[0][0];
        let value = |key: &str| {
            event
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.as_str().into_owned())
        };
        assert_eq!(
            value("instrument.db.repeated_query.count").as_deref(),
            Some("20")
        );
        assert_eq!(value("db.query.summary").as_deref(), Some("SELECT users"));
        assert_eq!(
            value("db.query.text").as_deref(),
            Some("SELECT id, name FROM users WHERE id = $1")
        );
        let reports = points(&metrics(), "instrument.db.client.query.repeated");
        assert_eq!(reports.iter().map(|p| p.count).sum::<f64>(), 1.0);
    })
}

#[test]
fn acquired_connections_are_traced_and_monitoring_can_be_switched_off() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool().await;
        let mut conn = pool.acquire().await.unwrap();
        sqlx::query("INSERT INTO users (id, name) VALUES (1, 'via conn')")
            .execute(&mut conn)
            .await
            .unwrap();
        drop(conn);
        {
            let mut off = InstrumentationConfig::default();
            off.enabled = false;
            let _off = temporary_instrumentation_config(off);
            assert!(!instrument::db::is_instrumentation_active());
            sqlx::query("SELECT * FROM users")
                .fetch_all(&pool)
                .await
                .unwrap();
        }
        assert!(instrument::db::is_instrumentation_active());
        let all = spans();
        assert_eq!(by_name(&all, "INSERT users").len(), 1);
        assert!(
            by_name(&all, "SELECT users").is_empty(),
            "disabled by configuration"
        );
    })
}

#[test]
fn a_pool_passed_to_an_instrumented_fn_is_recorded_as_one_short_line() {
    support::run_multi_thread(async move {
        let pool = pool().await;
        assert_eq!(format!("{pool:?}"), "InstrumentedPool(sqlite :memory:)");
    })
}

#[trace_method(skip_all)]
async fn look_up_each_by_literal(pool: &InstrumentedPool<Sqlite>, count: i64) {
    for id in 0..count {
        let sql = format!(
            "SELECT id, name FROM accounts WHERE name = 'hunter2' AND id = {id} AND flag = 0x1F"
        );
        // Literals spliced in on purpose: this is the text sanitizing is for.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await
            .unwrap();
    }
}

#[test]
fn literals_are_sanitized_out_of_query_texts_unless_switched_off() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool().await;
        sqlx::query("CREATE TABLE accounts (id INTEGER, name TEXT, flag INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        look_up_each_by_literal(&pool, 10).await;
        let sanitized = "SELECT id, name FROM accounts WHERE name = ? AND id = ? AND flag = ?";
        let all = spans();
        let selects = by_name(&all, "SELECT accounts");
        assert_eq!(selects.len(), 10);
        for select in &selects {
            assert_eq!(attr(select, "db.query.text").as_deref(), Some(sanitized));
        }
        for span in &all {
            let texts = span
                .attributes
                .iter()
                .chain(span.events.iter().flat_map(|e| &e.attributes))
                .map(|kv| kv.value.as_str().into_owned());
            for text in texts {
                assert!(
                    !text.contains("hunter2") && !text.contains("0x1F") && !text.contains("= 7"),
                    "no literal is recorded: {span:?}"
                );
            }
        }
        let parent = by_name(&all, "look_up_each_by_literal")[0];
        let events: Vec<_> = parent
            .events
            .iter()
            .filter(|e| e.name == "instrument.db.repeated_query")
            .collect();
        assert_eq!(
            events.len(),
            1,
            "statements differing in literals are one shape"
        );
        let value = |key: &str| {
            events[0]
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.as_str().into_owned())
        };
        assert_eq!(
            value("instrument.db.repeated_query.count").as_deref(),
            Some("10")
        );
        assert_eq!(value("db.query.text").as_deref(), Some(sanitized));

        let written = "SELECT id FROM accounts WHERE name = 'hunter2' AND id = 42 AND flag = 0x1F";
        {
            let mut config = InstrumentationConfig::default();
            config.sanitize_query_text = false;
            let _config = temporary_instrumentation_config(config);
            sqlx::query(written).fetch_all(&pool).await.unwrap();
        }
        sqlx::query(written).fetch_all(&pool).await.unwrap();
        let all = spans();
        let texts: Vec<_> = by_name(&all, "SELECT accounts")
            .iter()
            .filter_map(|s| attr(s, "db.query.text"))
            .filter(|t| t.starts_with("SELECT id FROM"))
            .collect();
        assert_eq!(
            texts,
            [
                written,
                "SELECT id FROM accounts WHERE name = ? AND id = ? AND flag = ?"
            ],
            "switched off the text is kept as written, and the same text is sanitized again after"
        );
    })
}
