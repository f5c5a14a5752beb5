//! The pool monitor on real sqlx SQLite pools: checkouts, checkins and use durations after
//! concurrent use, gauges while connections are held and after (and after the pool closed and went
//! away), a detached connection, a connection held past the long-held threshold, a pool of one
//! timing out, lifecycle records, a failed health check, lifetime reaping, and 200 tasks on a pool of five.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

#[path = "support/pools.rs"]
mod pools;
#[path = "../../support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use instrument::db::sqlx::{InstrumentedPool, PoolOptionsExt};
use pools::settle;
use sqlx::Sqlite;
use sqlx::sqlite::SqlitePoolOptions;
use support::{metrics, pool_events, pool_sum, start};

async fn pool(engine: &str, options: SqlitePoolOptions) -> InstrumentedPool<Sqlite> {
    options
        .instrumented(engine)
        .connect("sqlite::memory:")
        .await
        .expect("an in-memory SQLite pool opens")
}

async fn use_once(pool: &InstrumentedPool<Sqlite>, hold: Duration) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT 1").execute(&mut *conn).await?;
    tokio::time::sleep(hold).await;
    Ok(())
}

#[test]
fn concurrent_uses_are_counted_and_timed() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool("sqlite-uses", SqlitePoolOptions::new().max_connections(3)).await;
        // The three connections opened one after another first (see the PostgreSQL test).
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(pool.acquire().await.unwrap());
        }
        drop(held);
        settle(&pool).await;
        let opened = metrics();
        assert_eq!(pool_events(&opened, "sqlite-uses", "checkout"), 3.0);
        assert_eq!(
            pool_events(&opened, "sqlite-uses", "connect"),
            f64::from(pool.size())
        );
        assert_eq!(pool_events(&opened, "sqlite-uses", "first_connect"), 1.0);
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { use_once(&pool, Duration::from_millis(5)).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        sqlx::query("SELECT 2").execute(&pool).await.unwrap();
        settle(&pool).await;
        let all = metrics();
        assert_eq!(pool_events(&all, "sqlite-uses", "checkout"), 31.0);
        assert_eq!(pool_events(&all, "sqlite-uses", "checkin"), 31.0);
        assert_eq!(pool_events(&all, "sqlite-uses", "connect"), 0.0);
        assert_eq!(pool_events(&all, "sqlite-uses", "reset"), 31.0);
        assert_eq!(
            pool_sum(
                &all,
                "hist_db_pool_connection_duration_ms",
                "sqlite-uses",
                None
            ),
            31.0
        );
        assert_eq!(
            pool_sum(&all, "db_checkout_latency_ms", "sqlite-uses", None),
            31.0
        );
        assert_eq!(pool.monitor().unwrap().checked_out(), 0);
    })
}

#[test]
fn gauges_follow_held_and_released_connections() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool(
            "sqlite-gauges",
            SqlitePoolOptions::new()
                .max_connections(4)
                .min_connections(1),
        )
        .await;
        let first = pool.acquire().await.unwrap();
        let second = pool.acquire().await.unwrap();
        let gauge =
            |all: &[support::MetricInfo], name: &str| pool_sum(all, name, "sqlite-gauges", None);
        let all = metrics();
        // The capacity (max_connections), not the connections open.
        assert_eq!(gauge(&all, "gauge_db_pool_connections_total"), 4.0);
        assert_eq!(gauge(&all, "gauge_db_pool_connections_checked_out"), 2.0);
        assert_eq!(gauge(&all, "db_pool_in_use"), 2.0);
        assert_eq!(gauge(&all, "gauge_db_pool_connections_available"), 0.0);
        // sqlx has no base size beyond which connections overflow, only a maximum.
        assert_eq!(gauge(&all, "gauge_db_pool_connections_overflow"), 0.0);
        assert_eq!(gauge(&all, "db_pool_utilization_ratio"), 0.5);
        assert_eq!(gauge(&all, "db_pool_waiters"), 0.0);
        drop((first, second));
        settle(&pool).await;
        let all = metrics();
        assert_eq!(gauge(&all, "gauge_db_pool_connections_total"), 4.0);
        assert_eq!(gauge(&all, "gauge_db_pool_connections_checked_out"), 0.0);
        assert_eq!(gauge(&all, "gauge_db_pool_connections_available"), 2.0);
        assert_eq!(gauge(&all, "db_pool_utilization_ratio"), 0.0);
    })
}

#[test]
fn a_closed_and_dropped_pool_is_collected_as_it_was_before_the_close() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool(
            "sqlite-closed",
            SqlitePoolOptions::new()
                .max_connections(4)
                .min_connections(1),
        )
        .await;
        let held = (pool.acquire().await.unwrap(), pool.acquire().await.unwrap());
        drop(held);
        settle(&pool).await;
        pool.close().await;
        assert_eq!(pool.size(), 0, "sqlx's own count after the close");
        drop(pool);
        let all = metrics();
        let gauge = |name: &str| pool_sum(&all, name, "sqlite-closed", None);
        assert_eq!(gauge("gauge_db_pool_connections_total"), 4.0);
        assert_eq!(gauge("gauge_db_pool_connections_available"), 2.0);
        assert_eq!(gauge("gauge_db_pool_connections_checked_out"), 0.0);
        assert_eq!(gauge("gauge_db_pool_connections_overflow"), 0.0);
    })
}

#[test]
fn a_detached_connection_counts_detach_and_close_detached() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool("sqlite-detach", SqlitePoolOptions::new().max_connections(2)).await;
        let kept = pool.acquire().await.unwrap();
        let conn = pool.acquire().await.unwrap();
        let id = conn.id().unwrap();
        let mut raw = conn.detach();
        sqlx::query("SELECT 1").execute(&mut raw).await.unwrap();
        let monitor = pool.monitor().unwrap();
        assert_eq!(
            monitor.lifecycle(id),
            None,
            "the pool will not see it again"
        );
        assert_eq!(monitor.checked_out(), 1);
        assert!(!pool.connection_ids().contains(&id));
        assert_eq!(
            pool.size(),
            1,
            "sqlx's own count, without the detached connection"
        );
        drop(raw);
        drop(kept);
        // The pool opens a replacement, and nothing it holds is taken for closed.
        let again = (pool.acquire().await.unwrap(), pool.acquire().await.unwrap());
        drop(again);
        settle(&pool).await;
        let all = metrics();
        assert_eq!(pool_events(&all, "sqlite-detach", "detach"), 1.0);
        assert_eq!(pool_events(&all, "sqlite-detach", "close_detached"), 1.0);
        assert_eq!(pool_events(&all, "sqlite-detach", "checkin"), 4.0);
        assert_eq!(pool_events(&all, "sqlite-detach", "close"), 0.0);
        assert_eq!(pool_events(&all, "sqlite-detach", "invalidate"), 0.0);
        assert_eq!(pool_events(&all, "sqlite-detach", "connect"), 3.0);
        assert_eq!(pool.connection_ids().len(), 2);
    })
}

#[test]
fn a_connection_held_past_the_threshold_counts_long_held_once() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool("sqlite-long", SqlitePoolOptions::new().max_connections(2)).await;
        let monitor = pool.monitor().unwrap();
        assert_eq!(
            monitor.long_held_threshold(),
            Some(instrument::pool::DEFAULT_LONG_HELD_THRESHOLD)
        );
        monitor.set_long_held_threshold(Some(Duration::from_millis(100)));
        // Noticed by the gauge callback while still held, and not again at its checkin.
        let held = pool.acquire().await.unwrap();
        let id = held.id().unwrap();
        use_once(&pool, Duration::ZERO).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let while_held = metrics();
        assert_eq!(pool_events(&while_held, "sqlite-long", "long_held"), 1.0);
        assert!(monitor.lifecycle(id).unwrap().long_held);
        let again = metrics();
        assert_eq!(pool_events(&again, "sqlite-long", "long_held"), 0.0);
        drop(held);
        settle(&pool).await;
        // Noticed at its checkin, when no collection came first.
        use_once(&pool, Duration::from_millis(150)).await.unwrap();
        settle(&pool).await;
        let after = metrics();
        assert_eq!(pool_events(&after, "sqlite-long", "long_held"), 1.0);
        // Off: nothing is counted.
        monitor.set_long_held_threshold(None);
        use_once(&pool, Duration::from_millis(150)).await.unwrap();
        settle(&pool).await;
        let off = metrics();
        assert_eq!(pool_events(&off, "sqlite-long", "long_held"), 0.0);
        assert_eq!(pool_events(&off, "sqlite-long", "checkin"), 1.0);
    })
}

#[test]
fn a_second_acquire_on_a_pool_of_one_times_out() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool(
            "sqlite-single",
            SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_millis(200)),
        )
        .await;
        let held = pool.acquire().await.unwrap();
        let second = pool.acquire().await;
        assert!(
            matches!(second, Err(sqlx::Error::PoolTimedOut)),
            "{second:?}"
        );
        drop(held);
        let all = metrics();
        assert_eq!(
            pool_sum(
                &all,
                "db_pool_checkout_timeout_total",
                "sqlite-single",
                None
            ),
            1.0
        );
        assert_eq!(
            pool_sum(
                &all,
                "count_db_pool_connection_errors",
                "sqlite-single",
                Some(("exception_type", "PoolTimedOut"))
            ),
            1.0
        );
        let waited: f64 = support::points(&all, "db_checkout_latency_ms")
            .iter()
            .filter(|p| p.attr("engine_name") == Some("sqlite-single"))
            .map(|p| p.sum)
            .sum();
        assert!(
            waited >= 200.0,
            "the timed-out wait is recorded: {waited} ms"
        );
        assert_eq!(pool.monitor().unwrap().waiters(), 0);
    })
}

#[test]
fn lifecycle_records_match_what_happened() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool(
            "sqlite-lifecycle",
            SqlitePoolOptions::new().max_connections(2),
        )
        .await;
        let before = std::time::SystemTime::now();
        let ids = pool.connection_ids();
        assert_eq!(ids.len(), 1, "connect opens one connection");
        for _ in 0..3 {
            let conn = pool.acquire().await.unwrap();
            assert_eq!(
                conn.id().unwrap(),
                ids[0],
                "the idle connection is handed out again"
            );
            let record = pool.monitor().unwrap().lifecycle(ids[0]).unwrap();
            assert!(record.checked_out_at_ns.is_some());
            drop(conn);
            settle(&pool).await;
        }
        let record = pool.monitor().unwrap().lifecycle(ids[0]).unwrap();
        assert_eq!(record.checkout_count, 3);
        assert_eq!(record.checked_out_at_ns, None);
        assert!(record.checked_in_at.unwrap() >= before);
        assert!(record.created_at <= before);
        assert!(!record.detached);

        let first = pool.acquire().await.unwrap();
        let second = pool.acquire().await.unwrap();
        assert_ne!(
            first.id().unwrap(),
            second.id().unwrap(),
            "a second connection is opened"
        );
        assert_eq!(pool.monitor().unwrap().tracked_connections(), 2);
        let closed = second.id().unwrap();
        second.close().await.unwrap();
        assert_eq!(
            pool.monitor().unwrap().lifecycle(closed),
            None,
            "closed: record gone"
        );
        drop(first);
        settle(&pool).await;
        let all = metrics();
        assert_eq!(pool_events(&all, "sqlite-lifecycle", "close"), 1.0);
        pool.close().await;
        assert_eq!(pool.monitor().unwrap().tracked_connections(), 0);
        assert_eq!(pool_events(&metrics(), "sqlite-lifecycle", "close"), 1.0);
    })
}

#[test]
fn a_failed_health_check_invalidates_the_connection() {
    support::run_multi_thread(async move {
        let _t = start();
        let rejected = Arc::new(AtomicU64::new(0));
        let pool = {
            let rejected = rejected.clone();
            SqlitePoolOptions::new()
                .max_connections(2)
                .instrumented("sqlite-health")
                .before_acquire(move |_conn, _meta| {
                    let first = rejected.fetch_add(1, Ordering::Relaxed) == 0;
                    Box::pin(async move {
                        if first {
                            Err(sqlx::Error::Protocol("connection went bad".into()))
                        } else {
                            Ok(true)
                        }
                    })
                })
                .connect("sqlite::memory:")
                .await
                .unwrap()
        };
        let original = pool.connection_ids()[0];
        let conn = pool.acquire().await.expect("the pool recovers");
        assert_ne!(
            conn.id().unwrap(),
            original,
            "a new connection replaced the bad one"
        );
        assert_eq!(pool.monitor().unwrap().lifecycle(original), None);
        drop(conn);
        let all = metrics();
        assert_eq!(pool_events(&all, "sqlite-health", "invalidate"), 1.0);
        assert_eq!(
            pool_sum(
                &all,
                "count_db_pool_connection_errors",
                "sqlite-health",
                Some(("exception_type", "Protocol"))
            ),
            1.0
        );
        assert_eq!(pool_events(&all, "sqlite-health", "connect"), 2.0);
    })
}

#[test]
fn a_connection_reaped_for_its_age_is_soft_invalidated() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool(
            "sqlite-reaped",
            SqlitePoolOptions::new()
                .max_connections(2)
                .max_lifetime(Duration::from_millis(100)),
        )
        .await;
        let original = pool.connection_ids()[0];
        let deadline = Instant::now() + Duration::from_secs(5);
        while pool.size() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(pool.size(), 0, "sqlx's reaper closed the old connection");
        let conn = pool.acquire().await.unwrap();
        assert_ne!(conn.id().unwrap(), original);
        drop(conn);
        let all = metrics();
        assert_eq!(pool_events(&all, "sqlite-reaped", "soft_invalidate"), 1.0);
        assert_eq!(pool.monitor().unwrap().lifecycle(original), None);
    })
}

#[test]
fn two_hundred_tasks_on_a_pool_of_five_stay_consistent() {
    support::run_multi_thread(async move {
        let _t = start();
        let pool = pool(
            "sqlite-hammer",
            SqlitePoolOptions::new()
                .max_connections(5)
                .acquire_timeout(Duration::from_secs(30)),
        )
        .await;
        let uses = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(3);
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let (pool, uses) = (pool.clone(), uses.clone());
                tokio::spawn(async move {
                    while Instant::now() < deadline {
                        use_once(&pool, Duration::ZERO).await.unwrap();
                        uses.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        settle(&pool).await;
        let uses = uses.load(Ordering::Relaxed);
        let monitor = pool.monitor().unwrap();
        assert!(uses >= 200, "{uses} uses");
        assert_eq!(
            monitor.checked_out(),
            0,
            "checkouts = checkins + in use (0)"
        );
        assert_eq!(monitor.waiters(), 0);
        assert_eq!(
            monitor.tracked_connections(),
            pool.size() as usize,
            "one record per open connection, no leak"
        );
        let counted: u64 = pool
            .connection_ids()
            .iter()
            .map(|id| monitor.lifecycle(*id).unwrap().checkout_count)
            .sum();
        assert_eq!(counted, uses);
        let all = metrics();
        assert_eq!(pool_events(&all, "sqlite-hammer", "checkout"), uses as f64);
        assert_eq!(pool_events(&all, "sqlite-hammer", "checkin"), uses as f64);
    })
}
