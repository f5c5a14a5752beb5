//! Overhead per query of `InstrumentedPool` against bare sqlx, on SQLite in memory, in one run:
//! `cargo bench -p instrument-benches --bench db_wrapper`.
//!
//! With `DB_WRAPPER_CASE=bare` or `=instrumented` it runs only that case's queries, telemetry
//! installed, once: `benches/instructions.sh db_wrapper` counts the instructions of every thread
//! (SQLite runs on sqlx's worker thread, spans are exported by the collector) per query.

use std::time::{Duration, Instant};

use instrument::db::sqlx::PoolExt;
use instrument::{Telemetry, TelemetryGuard};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{Executor, Sqlite};

#[path = "support/discard.rs"]
mod discard;
use discard::Discard;

/// Queries per round: `OVERHEAD_CALLS` (for an instruction profile), or 20,000.
fn queries() -> i64 {
    std::env::var("OVERHEAD_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

const ROUNDS: usize = 5;

/// Microseconds per `SELECT ... WHERE id = ?` through `executor`.
async fn round<'e, E>(executor: E) -> f64
where
    E: Executor<'e, Database = Sqlite> + Copy,
{
    let started = Instant::now();
    let queries = queries();
    for id in 0..queries {
        let row: Option<(i64, String)> = sqlx::query_as("SELECT id, name FROM users WHERE id = ?")
            .bind(id % 100)
            .fetch_optional(executor)
            .await
            .unwrap();
        std::hint::black_box(row);
    }
    started.elapsed().as_secs_f64() * 1e6 / queries as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Installs telemetry exporting spans and metrics to a discarding exporter.
fn install_discarding() -> TelemetryGuard {
    Telemetry::builder()
        .ignore_env()
        .service_name("db-bench")
        .with_exporter(Discard)
        .with_metric_exporter(Discard)
        .install()
        .unwrap()
}

/// Runs `case`'s queries once with telemetry installed, for an instruction count.
async fn only(case: &str, pool: &sqlx::SqlitePool) {
    let traced = pool.clone().instrumented();
    let guard = install_discarding();
    match case {
        "bare" => round(pool).await,
        "instrumented" => round(&traced).await,
        other => panic!("DB_WRAPPER_CASE is bare or instrumented, not {other}"),
    };
    let _ = guard.shutdown();
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        .execute(&pool)
        .await
        .unwrap();
    for id in 0..100 {
        sqlx::query("INSERT INTO users (id, name) VALUES (?, ?)")
            .bind(id)
            .bind(format!("user {id}"))
            .execute(&pool)
            .await
            .unwrap();
    }
    if let Ok(case) = std::env::var("DB_WRAPPER_CASE") {
        only(&case, &pool).await;
        return;
    }
    let traced = pool.clone().instrumented();

    let (mut bare, mut off) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        bare.push(round(&pool).await);
        off.push(round(&traced).await);
    }
    let guard = install_discarding();
    let (mut bare_on, mut on) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        bare_on.push(round(&pool).await);
        on.push(round(&traced).await);
    }
    let _ = guard.shutdown();
    tokio::time::sleep(Duration::from_millis(10)).await;

    let (bare, off, bare_on, on) = (median(bare), median(off), median(bare_on), median(on));
    println!(
        "{:<44} {:>10} {:>10}",
        "case (SQLite in memory, fetch_optional)", "µs/query", "vs bare"
    );
    println!("{:<44} {:>10.2} {:>9.2}x", "bare sqlx pool", bare, 1.0);
    println!(
        "{:<44} {:>10.2} {:>9.2}x",
        "InstrumentedPool, telemetry not installed",
        off,
        off / bare
    );
    println!(
        "{:<44} {:>10.2} {:>9.2}x",
        "bare sqlx pool (telemetry installed)",
        bare_on,
        bare_on / bare
    );
    println!(
        "{:<44} {:>10.2} {:>9.2}x",
        "InstrumentedPool, span + metric per query",
        on,
        on / bare_on
    );
}
