//! The pool monitor on r2d2 pools of diesel connections (`diesel::r2d2::ConnectionManager`), on
//! SQLite and on the PostgreSQL server at 127.0.0.1:5432: counts, gauges, durations, a pool of
//! one timing out, request-context attributes, lifecycle records, and `try_get`.

#[allow(dead_code)]
#[path = "support/missing.rs"]
mod missing;
#[path = "../../support/mod.rs"]
mod support;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::ConnectionManager;
use diesel::{Connection, PgConnection, SqliteConnection};
use instrument::pool::r2d2::MonitoredPool;
use opentelemetry::KeyValue;
use support::{metrics, points, pool_events, pool_sum, start};

fn sqlite(engine: &str, max: u32) -> MonitoredPool<ConnectionManager<SqliteConnection>> {
    MonitoredPool::new(
        r2d2_builder().max_size(max),
        ConnectionManager::new(":memory:"),
        engine,
    )
    .unwrap()
}

fn r2d2_builder<M: diesel::r2d2::ManageConnection>() -> diesel::r2d2::Builder<M> {
    diesel::r2d2::Pool::builder()
}

fn select_one<C: SimpleConnection>(conn: &mut C) {
    conn.batch_execute("SELECT 1").unwrap();
}

#[test]
fn concurrent_uses_are_counted_timed_and_gauged() {
    let _t = start();
    let pool = sqlite("r2-uses", 3);
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(support::in_this_pipeline(|| {
                for _ in 0..5 {
                    let mut conn = pool.get().unwrap();
                    select_one(&mut *conn);
                    std::thread::sleep(Duration::from_millis(2));
                }
            }));
        }
    });
    let held = pool.get().unwrap();
    let all = metrics();
    assert_eq!(pool_events(&all, "r2-uses", "checkout"), 31.0);
    assert_eq!(pool_events(&all, "r2-uses", "checkin"), 30.0);
    // r2d2 opens `max_size` connections when no `min_idle` is set.
    assert_eq!(pool_events(&all, "r2-uses", "connect"), 3.0);
    assert_eq!(pool_events(&all, "r2-uses", "first_connect"), 1.0);
    assert_eq!(
        pool_sum(&all, "hist_db_pool_connection_duration_ms", "r2-uses", None),
        30.0
    );
    assert_eq!(
        pool_sum(&all, "db_checkout_latency_ms", "r2-uses", None),
        31.0
    );
    let used: f64 = points(&all, "hist_db_pool_connection_duration_ms")
        .iter()
        .filter(|p| p.attr("engine_name") == Some("r2-uses"))
        .map(|p| p.sum)
        .sum();
    assert!(used >= 30.0 * 2.0, "{used} ms");
    let gauge = |name: &str| pool_sum(&all, name, "r2-uses", None);
    assert_eq!(gauge("gauge_db_pool_connections_total"), 3.0);
    assert_eq!(gauge("gauge_db_pool_connections_checked_out"), 1.0);
    assert_eq!(gauge("gauge_db_pool_connections_available"), 2.0);
    assert_eq!(gauge("gauge_db_pool_connections_overflow"), 0.0);
    assert_eq!(gauge("db_pool_waiters"), 0.0);
    drop(held);
    let all = metrics();
    assert_eq!(
        pool_sum(
            &all,
            "gauge_db_pool_connections_checked_out",
            "r2-uses",
            None
        ),
        0.0
    );
    assert_eq!(pool.monitor().checked_out(), 0);
    assert_eq!(pool.monitor().tracked_connections(), 3);
    assert_eq!(pool.state().connections, 3);
}

#[test]
fn capacity_is_max_size_with_fewer_connections_open() {
    let _t = start();
    let pool = MonitoredPool::new(
        r2d2_builder().max_size(4).min_idle(Some(0)),
        ConnectionManager::<SqliteConnection>::new(":memory:"),
        "r2-capacity",
    )
    .unwrap();
    let held = pool.get().unwrap();
    let all = metrics();
    let gauge = |name: &str| pool_sum(&all, name, "r2-capacity", None);
    assert_eq!(gauge("gauge_db_pool_connections_total"), 4.0);
    assert_eq!(gauge("gauge_db_pool_connections_checked_out"), 1.0);
    assert_eq!(gauge("gauge_db_pool_connections_overflow"), 0.0);
    assert_eq!(pool_events(&all, "r2-capacity", "connect"), 1.0);
    drop(held);
}

#[test]
fn a_second_get_on_a_pool_of_one_times_out() {
    let _t = start();
    let pool = MonitoredPool::new(
        r2d2_builder()
            .max_size(1)
            .connection_timeout(Duration::from_millis(150)),
        ConnectionManager::<SqliteConnection>::new(":memory:"),
        "r2-single",
    )
    .unwrap();
    let held = pool.get().unwrap();
    assert!(pool.get().is_err());
    drop(held);
    let all = metrics();
    assert_eq!(
        pool_sum(&all, "db_pool_checkout_timeout_total", "r2-single", None),
        1.0
    );
    assert_eq!(
        pool_sum(
            &all,
            "count_db_pool_connection_errors",
            "r2-single",
            Some(("exception_type", "PoolTimedOut"))
        ),
        1.0
    );
    let waited: f64 = points(&all, "db_checkout_latency_ms")
        .iter()
        .filter(|p| p.attr("engine_name") == Some("r2-single"))
        .map(|p| p.sum)
        .sum();
    assert!(waited >= 150.0, "{waited} ms");
}

#[test]
fn checkouts_carry_the_request_context_and_try_get_is_counted_at_checkin() {
    let _t = start();
    let pool = sqlite("r2-context", 2);
    instrument::context::in_scope([KeyValue::new("tenant", "acme")], || {
        let mut conn = pool.get().unwrap();
        select_one(&mut *conn);
    });
    let all = metrics();
    assert_eq!(
        pool_sum(
            &all,
            "count_db_pool_connection_events",
            "r2-context",
            Some(("tenant", "acme"))
        ),
        2.0,
        "the checkout and the checkin"
    );
    assert_eq!(
        pool_sum(
            &all,
            "db_checkout_latency_ms",
            "r2-context",
            Some(("tenant", "acme"))
        ),
        1.0
    );

    let conn = pool.try_get().expect("an idle connection");
    assert_eq!(
        pool.monitor().checked_out(),
        0,
        "r2d2 does not report try_get"
    );
    drop(conn);
    let all = metrics();
    assert_eq!(pool_events(&all, "r2-context", "checkout"), 1.0);
    assert_eq!(pool_events(&all, "r2-context", "checkin"), 1.0);
    assert_eq!(pool.monitor().checked_out(), 0);
    assert_eq!(
        pool_sum(
            &all,
            "gauge_db_pool_connections_available",
            "r2-context",
            None
        ),
        2.0
    );
}

const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[test]
fn on_postgresql_uses_are_counted_timed_gauged_and_carry_the_context() {
    let _t = start();
    if let Err(error) = PgConnection::establish(POSTGRES_URL) {
        missing::skip_unless_ci(&format!(
            "PostgreSQL does not answer at {POSTGRES_URL}: {error}"
        ));
        return;
    }
    let pool = MonitoredPool::new(
        r2d2_builder().max_size(3),
        ConnectionManager::<PgConnection>::new(POSTGRES_URL),
        "r2-postgres",
    )
    .unwrap();
    std::thread::scope(|s| {
        for n in 0..4 {
            let pool = &pool;
            s.spawn(support::in_this_pipeline(move || {
                let tenant = if n % 2 == 0 { "a" } else { "b" };
                instrument::context::in_scope([KeyValue::new("tenant", tenant)], || {
                    for _ in 0..3 {
                        let mut conn = pool.get().unwrap();
                        conn.batch_execute("SELECT pg_sleep(0.002)").unwrap();
                    }
                });
            }));
        }
    });
    let held = pool.get().unwrap();
    let all = metrics();
    assert_eq!(pool_events(&all, "r2-postgres", "checkout"), 13.0);
    assert_eq!(pool_events(&all, "r2-postgres", "checkin"), 12.0);
    assert_eq!(pool_events(&all, "r2-postgres", "connect"), 3.0);
    for tenant in ["a", "b"] {
        assert_eq!(
            pool_sum(
                &all,
                "count_db_pool_connection_events",
                "r2-postgres",
                Some(("tenant", tenant))
            ),
            12.0,
            "six checkouts and six checkins of tenant {tenant}"
        );
    }
    let used: f64 = points(&all, "hist_db_pool_connection_duration_ms")
        .iter()
        .filter(|p| p.attr("engine_name") == Some("r2-postgres"))
        .map(|p| p.sum)
        .sum();
    assert!(used >= 12.0 * 2.0, "{used} ms");
    let gauge = |name: &str| pool_sum(&all, name, "r2-postgres", None);
    assert_eq!(gauge("gauge_db_pool_connections_total"), 3.0);
    assert_eq!(gauge("gauge_db_pool_connections_checked_out"), 1.0);
    assert_eq!(gauge("gauge_db_pool_connections_available"), 2.0);
    drop(held);
    assert_eq!(pool.monitor().checked_out(), 0);
    assert_eq!(pool.monitor().tracked_connections(), 3);
}
