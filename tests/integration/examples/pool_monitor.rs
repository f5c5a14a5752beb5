//! The pool monitor on a real sqlx SQLite pool: `cargo run --example pool_monitor --features
//! sqlx-sqlite`.
//!
//! Twenty tasks of two tenants share a pool of three connections, then three held connections
//! make a fourth checkout time out. With no collector configured, the summary of every pool
//! instrument (the gauges read while the pool is open) is printed on stderr when the telemetry
//! guard drops.

use std::time::Duration;

use instrument::db::sqlx::PoolOptionsExt;
use instrument::{KeyValue, context};
use sqlx::sqlite::SqlitePoolOptions;

#[tokio::main]
async fn main() -> Result<(), sqlx::Error> {
    let telemetry = instrument::Telemetry::builder()
        .service_name("pool_monitor")
        .install()
        .unwrap_or_else(|error| {
            eprintln!("telemetry off: {error}");
            instrument::TelemetryGuard::inert()
        });
    let pool = SqlitePoolOptions::new()
        .max_connections(3)
        .acquire_timeout(Duration::from_millis(100))
        .instrumented("main")
        .connect("sqlite::memory:")
        .await?;

    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let pool = pool.clone();
            let tenant = KeyValue::new("tenant", if n % 2 == 0 { "a" } else { "b" });
            tokio::spawn(context::scope([tenant], async move {
                let value: i64 = sqlx::query_scalar("SELECT ?")
                    .bind(n)
                    .fetch_one(&pool)
                    .await?;
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok::<_, sqlx::Error>(value)
            }))
        })
        .collect();
    for task in tasks {
        task.await.expect("the task runs")?;
    }

    let held: Vec<_> = [
        pool.acquire().await?,
        pool.acquire().await?,
        pool.acquire().await?,
    ]
    .into();
    match pool.acquire().await {
        Err(sqlx::Error::PoolTimedOut) => println!("a fourth checkout timed out after 100 ms"),
        other => println!("a fourth checkout: {other:?}"),
    }
    drop(held);

    let monitor = pool.monitor().unwrap();
    for id in pool.connection_ids() {
        let record = monitor
            .lifecycle(id)
            .expect("an open connection has a record");
        println!("connection {id}: {} checkouts", record.checkout_count);
    }
    drop(telemetry);
    pool.close().await;
    Ok(())
}
