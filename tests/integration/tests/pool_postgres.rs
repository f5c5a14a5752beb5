//! The pool monitor on a real PostgreSQL server (127.0.0.1:5432, user `postgres`, database
//! `test`; `INSTRUMENT_TEST_POSTGRES_URL` overrides): a backend killed with
//! `pg_terminate_backend` is invalidated with its error type and the pool recovers; counts and
//! durations after concurrent use. Each test prints why it skips when no server answers.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

#[path = "support/missing.rs"]
mod missing;
#[path = "support/pools.rs"]
mod pools;
#[path = "../../support/mod.rs"]
mod support;

use std::time::Duration;

use instrument::db::sqlx::{InstrumentedPool, PoolOptionsExt};
use pools::settle;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, Postgres};
use support::{metrics, points, pool_events, pool_sum, start};

fn url() -> String {
    std::env::var("INSTRUMENT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A monitored pool, or `None` (with the reason printed) without a server.
async fn pool(engine: &str, max: u32) -> Option<InstrumentedPool<Postgres>> {
    let connected = PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
        .instrumented(engine)
        .connect(&url())
        .await;
    match connected {
        Ok(pool) => Some(pool),
        Err(error) => {
            missing::skip_unless_ci(&format!(
                "no PostgreSQL server answers at {}: {error}",
                url()
            ));
            None
        }
    }
}

#[test]
fn a_terminated_backend_is_invalidated_and_the_pool_recovers() {
    support::run_multi_thread(async move {
        let _t = start();
        let Some(pool) = pool("pg-terminated", 2).await else {
            return;
        };
        let mut conn = pool.acquire().await.unwrap();
        let victim = conn.id().unwrap();
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        settle(&pool).await;

        let mut admin = PgConnection::connect(&url()).await.unwrap();
        let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert!(killed);
        admin.close().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;

        let mut conn = pool.acquire().await.expect("the pool recovers");
        assert_ne!(conn.id().unwrap(), victim);
        let alive: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(alive, 1);
        drop(conn);
        assert_eq!(pool.monitor().unwrap().lifecycle(victim), None);

        let all = metrics();
        assert_eq!(pool_events(&all, "pg-terminated", "invalidate"), 1.0);
        let errors: Vec<_> = points(&all, "count_db_pool_connection_errors")
            .into_iter()
            .filter(|p| p.attr("engine_name") == Some("pg-terminated"))
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let error_type = errors[0].attr("exception_type").unwrap();
        println!("a terminated backend fails its health check with {error_type}");
        assert!(
            ["57P01", "Io"].contains(&error_type),
            "admin shutdown or a broken socket, not {error_type}"
        );
        pool.close().await;
    })
}

#[test]
fn concurrent_uses_are_counted_and_timed() {
    support::run_multi_thread(async move {
        let _t = start();
        let Some(pool) = pool("pg-uses", 5).await else {
            return;
        };
        // Open the five connections one after another first: sqlx names no connection to its hooks,
        // and the monitor tells connections apart by their creation instants, which connections
        // opened at the same moment share (see docs/guide/databases.md).
        let mut held = Vec::new();
        for _ in 0..5 {
            held.push(pool.acquire().await.unwrap());
        }
        drop(held);
        settle(&pool).await;
        // The warm-up's own counts are read (and so left out of the next reading).
        assert_eq!(pool_events(&metrics(), "pg-uses", "checkout"), 5.0);
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let value: i32 = sqlx::query_scalar("SELECT 1")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    value
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 1);
        }
        settle(&pool).await;
        let all = metrics();
        assert_eq!(pool_events(&all, "pg-uses", "checkout"), 40.0);
        assert_eq!(pool_events(&all, "pg-uses", "checkin"), 40.0);
        assert_eq!(
            pool_sum(&all, "hist_db_pool_connection_duration_ms", "pg-uses", None),
            40.0
        );
        assert_eq!(
            pool.monitor().unwrap().tracked_connections(),
            pool.size() as usize
        );
        assert_eq!(pool.monitor().unwrap().checked_out(), 0);
        pool.close().await;
    })
}
