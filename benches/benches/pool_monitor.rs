//! Added cost per checkout of the pool monitor, against the same pool unmonitored, in one run:
//! `cargo bench --bench pool_monitor --features sqlx-sqlite,deadpool`.
//!
//! Two pools: sqlx on SQLite in memory (a checkout and its return include sqlx's release task
//! and ping), and deadpool with a manager of plain numbers (the pool's own bookkeeping only,
//! where the monitor's share shows most). Telemetry is installed with discarding exporters, so
//! the monitor records every event and duration.

use std::time::Instant;

use deadpool::managed::{Manager, Metrics, Pool, RecycleResult};
use instrument::Telemetry;
use instrument::db::sqlx::PoolOptionsExt;
use instrument::pool::deadpool::MonitoredPool as MonitoredDeadpool;
use sqlx::sqlite::SqlitePoolOptions;

#[path = "support/discard.rs"]
mod discard;
use discard::Discard;

const ROUNDS: usize = 5;
const SQLX_CHECKOUTS: u32 = 20_000;
const DEADPOOL_CHECKOUTS: u32 = 200_000;

struct Numbers;

impl Manager for Numbers {
    type Type = u32;
    type Error = std::io::Error;

    async fn create(&self) -> Result<u32, std::io::Error> {
        Ok(7)
    }

    async fn recycle(&self, _: &mut u32, _: &Metrics) -> RecycleResult<std::io::Error> {
        Ok(())
    }
}

/// Nanoseconds per checkout and return of `checkouts` runs of `checkout`.
async fn per_checkout<F: Future<Output = ()>>(
    checkouts: u32,
    mut checkout: impl FnMut() -> F,
) -> f64 {
    let started = Instant::now();
    for _ in 0..checkouts {
        checkout().await;
    }
    started.elapsed().as_secs_f64() * 1e9 / f64::from(checkouts)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(pool: &str, bare: Vec<f64>, monitored: Vec<f64>) {
    let (bare, monitored) = (median(bare), median(monitored));
    println!(
        "{pool:<9} unmonitored {bare:>9.0} ns/checkout   monitored {monitored:>9.0} ns/checkout   \
         ratio {:.2}x   added {:.0} ns",
        monitored / bare,
        monitored - bare
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let guard = Telemetry::builder()
        .ignore_env()
        .service_name("pool-bench")
        .with_exporter(Discard)
        .with_metric_exporter(Discard)
        .install()
        .unwrap();

    let bare = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let monitored = SqlitePoolOptions::new()
        .max_connections(1)
        .instrumented("bench")
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let (mut plain, mut watched) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        plain.push(
            per_checkout(SQLX_CHECKOUTS, || async {
                drop(bare.acquire().await.unwrap());
            })
            .await,
        );
        watched.push(
            per_checkout(SQLX_CHECKOUTS, || async {
                drop(monitored.acquire().await.unwrap());
            })
            .await,
        );
    }
    report("sqlx", plain, watched);

    let bare: Pool<Numbers> = Pool::builder(Numbers).max_size(4).build().unwrap();
    let monitored = MonitoredDeadpool::builder(Numbers, "bench")
        .max_size(4)
        .build()
        .unwrap();
    let (mut plain, mut watched) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        plain.push(
            per_checkout(DEADPOOL_CHECKOUTS, || async {
                drop(bare.get().await.unwrap());
            })
            .await,
        );
        watched.push(
            per_checkout(DEADPOOL_CHECKOUTS, || async {
                drop(monitored.get().await.unwrap());
            })
            .await,
        );
    }
    report("deadpool", plain, watched);
    let _ = guard.shutdown();
}
