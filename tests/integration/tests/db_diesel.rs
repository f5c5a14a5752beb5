//! diesel instrumentation through its `Instrumentation` hook: queries without their bind
//! suffix, transactions at every depth, connection establishment, and sync-in-async detection.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

#[path = "../../support/mod.rs"]
mod support;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use instrument::db::diesel::DieselInstrumentation;
use opentelemetry_sdk::trace::SpanData;
use support::{attr, spans, start};

fn connect() -> SqliteConnection {
    instrument::db::diesel::install_default().unwrap();
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    conn.batch_execute("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)")
        .unwrap();
    conn
}

fn by_name<'a>(all: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    all.iter().filter(|s| s.name == name).collect()
}

fn insert(conn: &mut SqliteConnection, id: i64, body: &str) -> QueryResult<usize> {
    diesel::sql_query("INSERT INTO notes (id, body) VALUES (?, ?)")
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(body)
        .execute(conn)
}

#[test]
fn queries_transactions_and_connections_are_traced() {
    let _t = start();
    let mut conn = connect();
    insert(&mut conn, 1, "diesel-secret").unwrap();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        insert(conn, 2, "in tx")?;
        let nested: QueryResult<()> = conn.transaction(|conn| {
            insert(conn, 3, "nested")?;
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(nested.is_err());
        Ok(())
    })
    .unwrap();
    assert!(insert(&mut conn, 1, "duplicate").is_err());

    let all = spans();
    let connect = by_name(&all, "CONNECT");
    assert_eq!(connect.len(), 1);
    assert_eq!(
        attr(connect[0], "db.namespace").as_deref(),
        Some(":memory:")
    );
    let inserts = by_name(&all, "INSERT notes");
    assert_eq!(inserts.len(), 4);
    assert_eq!(
        attr(inserts[0], "db.query.text").as_deref(),
        Some("INSERT INTO notes (id, body) VALUES (?, ?)"),
        "the binds suffix is stripped"
    );
    assert!(
        all.iter()
            .flat_map(|s| &s.attributes)
            .all(|kv| !kv.value.as_str().contains("diesel-secret"))
    );
    let outer = by_name(&all, "transaction")[0];
    assert_eq!(
        attr(outer, "instrument.db.transaction.outcome").as_deref(),
        Some("commit")
    );
    let savepoint = by_name(&all, "savepoint")[0];
    assert_eq!(
        attr(savepoint, "instrument.db.transaction.outcome").as_deref(),
        Some("rollback")
    );
    assert_eq!(savepoint.parent_span_id, outer.span_context.span_id());
    let nested_insert = inserts
        .iter()
        .find(|s| s.parent_span_id == savepoint.span_context.span_id());
    assert!(
        nested_insert.is_some(),
        "the nested insert is a child of the savepoint"
    );
    let failed = inserts
        .iter()
        .find(|s| attr(s, "error.type").is_some())
        .expect("the duplicate insert failed");
    assert_eq!(
        attr(failed, "error.type").as_deref(),
        Some("UniqueViolation")
    );
}

#[test]
fn per_connection_instrumentation_without_passwords() {
    let _t = start();
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    conn.set_instrumentation(DieselInstrumentation::new(
        "postgres://app:hunter2@db.internal:6543/orders",
    ));
    conn.batch_execute("SELECT 1").unwrap();
    let all = spans();
    let select = all
        .iter()
        .find(|s| s.name == "SELECT")
        .expect("a SELECT span");
    assert_eq!(
        attr(select, "server.address").as_deref(),
        Some("db.internal")
    );
    assert!(
        select
            .attributes
            .iter()
            .all(|kv| !kv.value.as_str().contains("hunter2"))
    );
}

#[test]
fn sync_queries_on_async_workers_are_flagged_but_not_in_spawn_blocking() {
    support::run_multi_thread(async move {
        let _t = start();
        let before = instrument::db::sync_in_async_queries();
        tokio::spawn(async {
            let mut conn = connect();
            insert(&mut conn, 10, "on a worker").unwrap();
        })
        .await
        .unwrap();
        let flagged = instrument::db::sync_in_async_queries() - before;
        assert!(
            flagged >= 2,
            "connect, create and insert ran on a worker: {flagged}"
        );
        let all = spans();
        let insert_span = by_name(&all, "INSERT notes")[0];
        assert_eq!(
            attr(insert_span, "instrument.db.sync_in_async").as_deref(),
            Some("true")
        );

        let _t = {
            drop(_t);
            start()
        };
        let before = instrument::db::sync_in_async_queries();
        tokio::task::spawn_blocking(|| {
            let mut conn = connect();
            insert(&mut conn, 11, "in spawn_blocking").unwrap();
        })
        .await
        .unwrap();
        std::thread::spawn(|| {
            let mut conn = connect();
            insert(&mut conn, 12, "on a plain thread").unwrap();
        })
        .join()
        .unwrap();
        assert_eq!(
            instrument::db::sync_in_async_queries(),
            before,
            "nothing flagged"
        );
        assert!(
            spans()
                .iter()
                .all(|s| attr(s, "instrument.db.sync_in_async").is_none())
        );
    })
}

#[test]
fn literals_are_sanitized_out_of_query_texts() {
    let _t = start();
    let mut conn = connect();
    diesel::sql_query("INSERT INTO notes (id, body) VALUES (7, 'hunter2')")
        .execute(&mut conn)
        .unwrap();
    let all = spans();
    let inserts = by_name(&all, "INSERT notes");
    assert_eq!(inserts.len(), 1);
    assert_eq!(
        attr(inserts[0], "db.query.text").as_deref(),
        Some("INSERT INTO notes (id, body) VALUES (?, ?)")
    );
    assert!(
        all.iter()
            .flat_map(|s| &s.attributes)
            .all(|kv| !kv.value.as_str().contains("hunter2"))
    );
}
