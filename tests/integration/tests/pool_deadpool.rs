//! The pool monitor on deadpool pools of real database connections (sqlx SQLite connections, and
//! PostgreSQL connections where a server answers): counts and durations, gauges, a pool of one
//! timing out, lifecycle records, retirement by age, a failed recycle, and a terminated backend.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

#[path = "support/missing.rs"]
mod missing;
#[path = "../../support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use deadpool::managed::{Manager, Metrics, PoolError, RecycleError, RecycleResult};
use instrument::pool::deadpool::MonitoredPool;
use sqlx::{Connection, PgConnection, SqliteConnection};
use support::{metrics, points, pool_events, pool_sum, start};

/// Opens sqlx connections to `url`; recycling pings them, and fails while `broken` is set.
struct Connections<C> {
    url: String,
    broken: Arc<AtomicBool>,
    _connection: std::marker::PhantomData<fn() -> C>,
}

impl<C> Connections<C> {
    fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            broken: Arc::new(AtomicBool::new(false)),
            _connection: std::marker::PhantomData,
        }
    }
}

impl<C: Connection + Send> Manager for Connections<C> {
    type Type = C;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<C, sqlx::Error> {
        C::connect(&self.url).await
    }

    async fn recycle(&self, conn: &mut C, _: &Metrics) -> RecycleResult<sqlx::Error> {
        if self.broken.load(Ordering::Relaxed) {
            return Err(RecycleError::message("marked broken"));
        }
        conn.ping().await.map_err(RecycleError::Backend)
    }
}

fn sqlite(engine: &str, max: usize) -> MonitoredPool<Connections<SqliteConnection>> {
    MonitoredPool::builder(Connections::new("sqlite::memory:"), engine)
        .max_size(max)
        .build()
        .unwrap()
}

#[test]
fn concurrent_uses_are_counted_timed_and_gauged() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = sqlite("dp-uses", 3);
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let mut conn = pool.get().await.unwrap();
                    sqlx::query("SELECT 1").execute(&mut **conn).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(2)).await;
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let held = pool.get().await.unwrap();
        let all = metrics();
        assert_eq!(pool_events(&all, "dp-uses", "checkout"), 31.0);
        assert_eq!(pool_events(&all, "dp-uses", "checkin"), 30.0);
        assert_eq!(pool_events(&all, "dp-uses", "connect"), 3.0);
        assert_eq!(pool_events(&all, "dp-uses", "reset"), 31.0 - 3.0);
        assert_eq!(
            pool_sum(&all, "hist_db_pool_connection_duration_ms", "dp-uses", None),
            30.0
        );
        assert_eq!(
            pool_sum(&all, "gauge_db_pool_connections_total", "dp-uses", None),
            3.0
        );
        assert_eq!(
            pool_sum(
                &all,
                "gauge_db_pool_connections_checked_out",
                "dp-uses",
                None
            ),
            1.0
        );
        assert_eq!(
            pool_sum(&all, "gauge_db_pool_connections_available", "dp-uses", None),
            2.0
        );
        drop(held);
        let all = metrics();
        assert_eq!(
            pool_sum(
                &all,
                "gauge_db_pool_connections_checked_out",
                "dp-uses",
                None
            ),
            0.0
        );
        assert_eq!(pool.monitor().checked_out(), 0);
        assert_eq!(pool.monitor().tracked_connections(), 3);
    })
}

#[test]
fn capacity_overflow_and_long_held_connections() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = MonitoredPool::builder(
            Connections::<SqliteConnection>::new("sqlite::memory:"),
            "dp-long",
        )
        .max_size(4)
        .long_held_threshold(Some(Duration::from_millis(100)))
        .build()
        .unwrap();
        assert_eq!(
            pool.monitor().long_held_threshold(),
            Some(Duration::from_millis(100))
        );
        let held = pool.get().await.unwrap();
        let all = metrics();
        let gauge = |all: &[support::MetricInfo], name: &str| pool_sum(all, name, "dp-long", None);
        // The capacity (max_size) with one connection open; deadpool has no base size.
        assert_eq!(gauge(&all, "gauge_db_pool_connections_total"), 4.0);
        assert_eq!(gauge(&all, "gauge_db_pool_connections_overflow"), 0.0);
        assert_eq!(pool_events(&all, "dp-long", "long_held"), 0.0);
        tokio::time::sleep(Duration::from_millis(150)).await;
        // Noticed by the gauge callback while held, not again at the checkin.
        assert_eq!(pool_events(&metrics(), "dp-long", "long_held"), 1.0);
        drop(held);
        assert_eq!(pool_events(&metrics(), "dp-long", "long_held"), 0.0);
        // Noticed at the checkin when no collection came first.
        let held = pool.get().await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        drop(held);
        let all = metrics();
        assert_eq!(pool_events(&all, "dp-long", "long_held"), 1.0);
        assert_eq!(pool_events(&all, "dp-long", "checkin"), 1.0);
    })
}

#[test]
fn a_second_get_on_a_pool_of_one_times_out() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = MonitoredPool::builder(
            Connections::<SqliteConnection>::new("sqlite::memory:"),
            "dp-single",
        )
        .max_size(1)
        .wait_timeout(Some(Duration::from_millis(150)))
        .build()
        .unwrap();
        let held = pool.get().await.unwrap();
        assert!(matches!(pool.get().await, Err(PoolError::Timeout(_))));
        drop(held);
        let all = metrics();
        assert_eq!(
            pool_sum(&all, "db_pool_checkout_timeout_total", "dp-single", None),
            1.0
        );
        let waited: f64 = points(&all, "db_checkout_latency_ms")
            .iter()
            .filter(|p| p.attr("engine_name") == Some("dp-single"))
            .map(|p| p.sum)
            .sum();
        assert!(waited >= 150.0, "{waited} ms");
    })
}

#[test]
fn lifecycle_records_retirement_and_failed_recycles() {
    support::run_multi_thread(async move {
        let _t = start();
        let manager = Connections::<SqliteConnection>::new("sqlite::memory:");
        let broken = manager.broken.clone();
        let pool = MonitoredPool::builder(manager, "dp-lifecycle")
            .max_size(2)
            .max_lifetime(Duration::from_millis(200))
            .build()
            .unwrap();
        let first = pool.get().await.unwrap().id();
        for _ in 0..2 {
            assert_eq!(pool.get().await.unwrap().id(), first);
        }
        let record = pool.monitor().lifecycle(first).unwrap();
        assert_eq!(record.checkout_count, 3);
        assert!(record.checked_in_at.is_some() && record.checked_out_at_ns.is_none());

        tokio::time::sleep(Duration::from_millis(250)).await;
        let second = pool.get().await.unwrap().id();
        assert_ne!(second, first, "the old connection was retired");
        assert_eq!(pool.monitor().lifecycle(first), None);

        broken.store(true, Ordering::Relaxed);
        let third = pool.get().await.unwrap().id();
        broken.store(false, Ordering::Relaxed);
        assert_ne!(
            third, second,
            "the connection that failed recycling was replaced"
        );
        assert_eq!(pool.monitor().lifecycle(second), None);

        let taken = pool.get().await.unwrap();
        assert_eq!(taken.id(), third);
        let raw = taken.take();
        raw.close().await.unwrap();
        assert_eq!(pool.monitor().tracked_connections(), 0);

        let all = metrics();
        assert_eq!(pool_events(&all, "dp-lifecycle", "soft_invalidate"), 1.0);
        assert_eq!(pool_events(&all, "dp-lifecycle", "invalidate"), 1.0);
        assert_eq!(pool_events(&all, "dp-lifecycle", "detach"), 1.0);
        assert_eq!(pool_events(&all, "dp-lifecycle", "close_detached"), 1.0);
        assert_eq!(
            pool_sum(
                &all,
                "count_db_pool_connection_errors",
                "dp-lifecycle",
                Some(("exception_type", "RecycleError"))
            ),
            1.0
        );
    })
}

#[test]
fn two_hundred_tasks_on_a_pool_of_five_stay_consistent() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = sqlite("dp-hammer", 5);
        let uses = Arc::new(AtomicU64::new(0));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let (pool, uses) = (pool.clone(), uses.clone());
                tokio::spawn(async move {
                    while tokio::time::Instant::now() < deadline {
                        let mut conn = pool.get().await.unwrap();
                        sqlx::query("SELECT 1").execute(&mut **conn).await.unwrap();
                        uses.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let uses = uses.load(Ordering::Relaxed);
        let monitor = pool.monitor();
        assert_eq!(monitor.checked_out(), 0);
        assert_eq!(monitor.waiters(), 0);
        assert_eq!(monitor.tracked_connections(), pool.status().size);
        let all = metrics();
        assert_eq!(pool_events(&all, "dp-hammer", "checkout"), uses as f64);
        assert_eq!(pool_events(&all, "dp-hammer", "checkin"), uses as f64);
    })
}

#[test]
fn a_terminated_postgres_backend_fails_recycling_and_the_pool_recovers() {
    support::run_multi_thread(async move {
        let _t = start();
        let url = std::env::var("INSTRUMENT_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let mut admin = match PgConnection::connect(&url).await {
            Ok(admin) => admin,
            Err(error) => {
                missing::skip_unless_ci(&format!("no PostgreSQL server answers at {url}: {error}"));
                return;
            }
        };
        let pool = MonitoredPool::builder(Connections::<PgConnection>::new(&url), "dp-pg")
            .max_size(2)
            .build()
            .unwrap();
        let (victim, pid) = {
            let mut conn = pool.get().await.unwrap();
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            (conn.id(), pid)
        };
        let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert!(killed);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut conn = pool.get().await.expect("the pool recovers");
        assert_ne!(conn.id(), victim);
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(one, 1);
        let all = metrics();
        assert_eq!(pool_events(&all, "dp-pg", "invalidate"), 1.0);
        let error_type = points(&all, "count_db_pool_connection_errors")
            .into_iter()
            .find(|p| p.attr("engine_name") == Some("dp-pg"))
            .and_then(|p| p.attr("exception_type").map(str::to_owned))
            .expect("the failed recycle is counted with its type");
        println!("a terminated backend fails recycling with {error_type}");
        assert!(
            ["Database", "Io"].contains(&error_type.as_str()),
            "{error_type}"
        );
    })
}
