//! SeaORM at the ORM level, as the `orm_loading` example exports it over OTLP (built by
//! `cargo test`): on SQLite and on the PostgreSQL server at 127.0.0.1:5432, the three loaders
//! with their relationship under one root span, the N+1 named by relationship on the lazy loop
//! and on nothing else, flush counts 3/2/1 and 150/0/0 with only the second marked large, and
//! the pool monitor counting SeaORM's checkouts; the original's switches from the environment.

#[allow(dead_code)]
#[path = "support/missing.rs"]
mod missing;
#[allow(dead_code)]
#[path = "support/receiver.rs"]
mod receiver;

use std::process::Command;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use opentelemetry_proto::tonic::trace::v1::Span;
use receiver::{Receiver, Wire};

const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn text(value: &Option<AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn attr(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| text(&kv.value))
}

/// The example binary `cargo test` built beside the test's binary.
fn example() -> Command {
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().and_then(|d| d.parent()).unwrap();
    let binary = profile.join("examples").join("orm_loading");
    assert!(
        binary.exists(),
        "{} is missing: `cargo test` builds the examples before running the tests",
        binary.display()
    );
    Command::new(binary)
}

/// Runs the example against `database` (with `env`), exporting to a fresh receiver.
fn run(database: Option<&str>, env: &[(&str, &str)]) -> Receiver {
    let receiver = Receiver::start(Wire::Grpc);
    let mut command = example();
    command
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env_remove("DATABASE_URL")
        .env_remove("INSTRUMENT_DB_MONITOR_JOINED_LOADING")
        .env_remove("INSTRUMENT_DB_LAZY_LOADING_ONLY");
    if let Some(database) = database {
        command.env("DATABASE_URL", database);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "the example exits 0\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    receiver
}

fn children<'a>(spans: &'a [Span], parent: &Span) -> Vec<&'a Span> {
    spans
        .iter()
        .filter(|s| s.parent_span_id == parent.span_id && s.trace_id == parent.trace_id)
        .collect()
}

/// The relation loads under `root`: (loader, is_joined, relationship, entity, rows).
fn loads(spans: &[Span], root: &Span) -> Vec<(String, String, String, String, String)> {
    children(spans, root)
        .into_iter()
        .filter(|s| s.name.starts_with("load "))
        .map(|s| {
            let a = |key| attr(&s.attributes, key).unwrap_or_default();
            assert_eq!(s.name, format!("load {}", a("db.orm.relationship.key")));
            let statements = children(spans, s);
            assert_eq!(statements.len(), 1, "one statement under {}", s.name);
            assert_eq!(statements[0].kind, 3, "the statement is a CLIENT span");
            (
                a("db.orm.loader.type"),
                a("db.orm.loader.is_joined"),
                a("db.orm.relationship.key"),
                a("db.orm.entity"),
                a("db.response.returned_rows"),
            )
        })
        .collect()
}

fn load(
    loader: &str,
    joined: &str,
    relationship: &str,
    entity: &str,
    rows: &str,
) -> (String, String, String, String, String) {
    (
        loader.into(),
        joined.into(),
        relationship.into(),
        entity.into(),
        rows.into(),
    )
}

/// The sum of `count_db_pool_connection_events` with `event` = `event` in the last export.
fn pool_events(receiver: &Receiver, event: &str) -> i64 {
    let mut last = 0;
    for request in receiver.metric_requests() {
        for scope in request
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
        {
            for metric in scope
                .metrics
                .iter()
                .filter(|m| m.name == "count_db_pool_connection_events")
            {
                if let Some(Data::Sum(sum)) = &metric.data {
                    let total: i64 = sum
                        .data_points
                        .iter()
                        .filter(|p| attr(&p.attributes, "event").as_deref() == Some(event))
                        .map(|p| match p.value {
                            Some(number_data_point::Value::AsInt(v)) => v,
                            Some(number_data_point::Value::AsDouble(v)) => v as i64,
                            None => 0,
                        })
                        .sum();
                    last = last.max(total);
                }
            }
        }
    }
    last
}

/// What the done-when of the ORM level asks of one run of the example.
fn check_the_example(receiver: &Receiver) {
    let spans = receiver.spans();
    let root = spans
        .iter()
        .find(|s| s.name == "load_and_write")
        .expect("the root span");
    let loads = loads(&spans, root);
    let lazy: Vec<_> = loads.iter().filter(|l| l.0 == "lazy").collect();
    assert_eq!(lazy.len(), 12, "one lazy load per agent: {loads:?}");
    assert!(
        lazy.iter()
            .all(|l| **l == load("lazy", "false", "agent.messages", "messages", "4"))
    );
    let others: Vec<_> = loads.iter().filter(|l| l.0 != "lazy").cloned().collect();
    assert_eq!(
        others,
        vec![
            load("selectin", "false", "agent.messages", "messages", "48"),
            load("selectin", "false", "agent.tools", "tools", "24"),
            load("joined", "true", "agent.messages", "messages", "48"),
        ]
    );

    // The N+1, named by relationship, on the lazy loop only; no statement-level report.
    let findings: Vec<_> = spans
        .iter()
        .flat_map(|s| &s.events)
        .filter(|e| e.name.contains("repeated"))
        .collect();
    assert_eq!(findings.len(), 1, "one finding: {findings:?}");
    let finding = findings[0];
    assert_eq!(finding.name, "instrument.db.orm.repeated_lazy_load");
    assert!(root.events.iter().any(|e| e == finding), "on the root");
    let a = |key| attr(&finding.attributes, key).unwrap_or_default();
    assert_eq!(a("db.orm.relationship.key"), "agent.messages");
    assert_eq!(a("db.orm.loader.type"), "lazy");
    assert_eq!(a("instrument.db.repeated_query.count"), "12");
    assert!(a("instrument.db.orm.finding").contains("select-in loader"));

    // The units of work.
    let transactions: Vec<_> = children(&spans, root)
        .into_iter()
        .filter(|s| s.name == "transaction")
        .collect();
    assert_eq!(transactions.len(), 2);
    let flush = |s: &Span| {
        ["new", "dirty", "deleted", "large"]
            .map(|k| attr(&s.attributes, &format!("db.orm.flush.{k}")).unwrap_or_default())
    };
    assert_eq!(flush(transactions[0]), ["3", "2", "1", "false"]);
    assert_eq!(flush(transactions[1]), ["150", "0", "0", "true"]);
    assert!(
        transactions[1]
            .events
            .iter()
            .any(|e| e.name == "instrument.db.orm.large_flush")
    );
    assert!(
        !transactions[0]
            .events
            .iter()
            .any(|e| e.name == "instrument.db.orm.large_flush")
    );
    for transaction in &transactions {
        assert_eq!(
            attr(&transaction.attributes, "instrument.db.transaction.outcome").as_deref(),
            Some("commit")
        );
        assert!(children(&spans, transaction).iter().all(|s| s.kind == 3));
    }

    // The pool monitor saw SeaORM's checkouts, each given back.
    let checkouts = pool_events(receiver, "checkout");
    assert!(
        checkouts > 20,
        "SeaORM's checkouts are counted: {checkouts}"
    );
    assert_eq!(pool_events(receiver, "checkin"), checkouts);
}

#[test]
fn on_sqlite_the_example_exports_loaders_the_n_plus_one_and_flushes() {
    check_the_example(&run(None, &[]));
}

#[test]
fn on_postgresql_the_example_exports_loaders_the_n_plus_one_and_flushes() {
    // The example's tables in a schema of their own, so no other test sees them.
    let prepared = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-c",
            "CREATE SCHEMA IF NOT EXISTS orm_loading",
        ])
        .output();
    if !prepared.is_ok_and(|o| o.status.success()) {
        missing::skip_unless_ci("PostgreSQL does not answer at 127.0.0.1:5432");
        return;
    }
    let url = format!("{POSTGRES_URL}?options=-c%20search_path%3Dorm_loading");
    check_the_example(&run(Some(&url), &[]));
}

#[test]
fn the_switches_come_from_the_environment() {
    let joined_off = run(None, &[("INSTRUMENT_DB_MONITOR_JOINED_LOADING", "false")]);
    let spans = joined_off.spans();
    let root = spans.iter().find(|s| s.name == "load_and_write").unwrap();
    let loaders: Vec<String> = loads(&spans, root).into_iter().map(|l| l.0).collect();
    assert_eq!(loaders.iter().filter(|l| *l == "lazy").count(), 12);
    assert_eq!(loaders.iter().filter(|l| *l == "selectin").count(), 2);
    assert_eq!(
        loaders.iter().filter(|l| *l == "joined").count(),
        0,
        "no spans for joined loads"
    );
    assert!(
        children(&spans, root)
            .iter()
            .any(|s| attr(&s.attributes, "db.query.text").is_some_and(|t| t.contains("\"A_id\""))),
        "the joined statement stays traced"
    );

    let lazy_only = run(None, &[("INSTRUMENT_DB_LAZY_LOADING_ONLY", "true")]);
    let spans = lazy_only.spans();
    let root = spans.iter().find(|s| s.name == "load_and_write").unwrap();
    let loaders: Vec<String> = loads(&spans, root).into_iter().map(|l| l.0).collect();
    assert_eq!(loaders, vec!["lazy"; 12]);
}
