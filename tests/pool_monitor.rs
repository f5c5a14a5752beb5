//! The pool-agnostic monitor under a simulated pool (a semaphore of connection ids): counts stay
//! consistent under 200 concurrent tasks, lifecycle records neither leak nor go missing, and
//! timeouts, invalidations and durations are recorded.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

mod support;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use instrument::pool::{PoolMonitor, PoolStatus};
use support::{metrics, points, start};
use tokio::sync::Semaphore;

/// A pool of `size` connections handed out by a semaphore.
struct SimulatedPool {
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<u64>>,
    in_use: Arc<AtomicU32>,
}

/// The live state the monitor reads.
struct Status {
    size: u32,
    in_use: Arc<AtomicU32>,
}

impl PoolStatus for Status {
    fn size(&self) -> u32 {
        self.size
    }
    fn idle(&self) -> u32 {
        self.size - self.in_use.load(Ordering::Relaxed)
    }
    fn max_size(&self) -> u32 {
        self.size
    }
    fn min_size(&self) -> u32 {
        1
    }
}

fn pool(name: &str, size: u32) -> (Arc<SimulatedPool>, PoolMonitor) {
    let in_use = Arc::new(AtomicU32::new(0));
    let monitor = PoolMonitor::new(
        name,
        "queue",
        Status {
            size,
            in_use: in_use.clone(),
        },
        false,
    );
    for id in 0..u64::from(size) {
        monitor.connect(id, Some(Duration::from_millis(1)));
    }
    let pool = SimulatedPool {
        permits: Arc::new(Semaphore::new(size as usize)),
        idle: Mutex::new((0..u64::from(size)).collect()),
        in_use,
    };
    (Arc::new(pool), monitor)
}

/// Checks a connection out (or times out), uses it for `hold`, checks it in.
async fn use_connection(
    pool: &SimulatedPool,
    monitor: &PoolMonitor,
    hold: Duration,
    timeout: Duration,
) -> bool {
    let wait = monitor.checkout_started();
    let permit = match tokio::time::timeout(timeout, pool.permits.acquire()).await {
        Ok(permit) => permit.unwrap(),
        Err(_) => {
            wait.timed_out();
            return false;
        }
    };
    let id = pool
        .idle
        .lock()
        .unwrap()
        .pop()
        .expect("a permit means an idle connection");
    pool.in_use.fetch_add(1, Ordering::Relaxed);
    wait.checked_out(id);
    tokio::time::sleep(hold).await;
    pool.in_use.fetch_sub(1, Ordering::Relaxed);
    // Checked in before it is idle again, as a pool does, so the next checkout is a new one.
    monitor.checkin(id);
    pool.idle.lock().unwrap().push(id);
    drop(permit);
    true
}

#[test]
fn two_hundred_tasks_hammering_a_pool_of_five_stay_consistent() {
    support::run_multi_thread(async move {
        let _t = start();
        let (pool, monitor) = pool("hammer", 5);
        let checkouts = Arc::new(AtomicU64::new(0));
        let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let (pool, monitor, checkouts) = (pool.clone(), monitor.clone(), checkouts.clone());
                tokio::spawn(async move {
                    while tokio::time::Instant::now() < deadline {
                        if use_connection(
                            &pool,
                            &monitor,
                            Duration::from_micros(200),
                            Duration::from_secs(5),
                        )
                        .await
                        {
                            checkouts.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let checkouts = checkouts.load(Ordering::Relaxed);
        assert!(checkouts > 500, "{checkouts} checkouts");
        assert_eq!(
            monitor.checked_out(),
            0,
            "checkouts = checkins + in use (0)"
        );
        assert_eq!(monitor.waiters(), 0);
        assert_eq!(
            monitor.tracked_connections(),
            5,
            "one record per connection, no leak"
        );
        let total_checkouts: u64 = (0..5)
            .map(|id| monitor.lifecycle(id).unwrap().checkout_count)
            .sum();
        assert_eq!(total_checkouts, checkouts);

        let all = metrics();
        let events = points(&all, "count_db_pool_connection_events");
        let count = |event: &str| {
            events
                .iter()
                .filter(|p| {
                    p.attr("engine_name") == Some("hammer") && p.attr("event") == Some(event)
                })
                .map(|p| p.count)
                .sum::<f64>()
        };
        assert_eq!(count("checkout"), checkouts as f64);
        assert_eq!(count("checkin"), checkouts as f64);
        assert_eq!(count("connect"), 5.0);
        assert_eq!(count("first_connect"), 1.0);
        let durations = points(&all, "hist_db_pool_connection_duration_ms");
        let used: f64 = durations
            .iter()
            .filter(|p| p.attr("engine_name") == Some("hammer"))
            .map(|p| p.count)
            .sum();
        assert_eq!(used, checkouts as f64);
    })
}

#[test]
fn a_second_checkout_of_a_pool_of_one_times_out() {
    support::run_multi_thread(async move {
        let _t = start();
        let (pool, monitor) = pool("single", 1);
        let holder = {
            let (pool, monitor) = (pool.clone(), monitor.clone());
            tokio::spawn(async move {
                use_connection(
                    &pool,
                    &monitor,
                    Duration::from_millis(300),
                    Duration::from_secs(1),
                )
                .await
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while monitor.checked_out() < 1 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert_eq!(monitor.checked_out(), 1);
        assert!(
            !use_connection(&pool, &monitor, Duration::ZERO, Duration::from_millis(100)).await,
            "timed out"
        );
        assert!(holder.await.unwrap());
        let all = metrics();
        let timeouts = points(&all, "db_pool_checkout_timeout_total");
        assert_eq!(
            timeouts
                .iter()
                .filter(|p| p.attr("engine_name") == Some("single"))
                .map(|p| p.count)
                .sum::<f64>(),
            1.0
        );
        let latency = points(&all, "db_checkout_latency_ms")
            .into_iter()
            .filter(|p| p.attr("engine_name") == Some("single"))
            .map(|p| p.sum)
            .sum::<f64>();
        assert!(
            latency >= 100.0,
            "the timed-out wait is recorded: {latency} ms"
        );
        let errors = points(&all, "count_db_pool_connection_errors");
        assert!(
            errors
                .iter()
                .any(|p| p.attr("engine_name") == Some("single")
                    && p.attr("exception_type") == Some("PoolTimedOut"))
        );
    })
}

#[test]
fn invalidated_and_closed_connections_leave_the_records() {
    support::run_multi_thread(async move {
        let _t = start();
        let (_pool, monitor) = pool("events", 3);
        monitor.invalidate(0, "Io");
        monitor.soft_invalidate(1);
        monitor.detach(2);
        monitor.close(2);
        monitor.reset(2);
        assert_eq!(monitor.tracked_connections(), 0);
        let all = metrics();
        let events: Vec<String> = points(&all, "count_db_pool_connection_events")
            .iter()
            .filter(|p| p.attr("engine_name") == Some("events"))
            .map(|p| p.attr("event").unwrap().to_owned())
            .collect();
        for event in [
            "invalidate",
            "soft_invalidate",
            "detach",
            "close_detached",
            "reset",
        ] {
            assert!(events.iter().any(|e| e == event), "{event} in {events:?}");
        }
        let errors = points(&all, "count_db_pool_connection_errors");
        assert!(
            errors
                .iter()
                .any(|p| p.attr("engine_name") == Some("events")
                    && p.attr("exception_type") == Some("Io"))
        );
    })
}

/// A pool with a base size (SQLAlchemy's `pool_size`) that opens past it under load.
struct Overflowing;

impl PoolStatus for Overflowing {
    fn size(&self) -> u32 {
        7
    }
    fn idle(&self) -> u32 {
        1
    }
    fn max_size(&self) -> u32 {
        10
    }
    fn min_size(&self) -> u32 {
        0
    }
    fn base_size(&self) -> Option<u32> {
        Some(5)
    }
}

#[test]
fn total_is_the_capacity_and_overflow_counts_past_the_base_size() {
    support::run_multi_thread(async move {
        let _t = start();
        let with_base = PoolMonitor::new("with-base", "queue", Overflowing, false);
        let (_pool, without_base) = pool("without-base", 3);
        let all = metrics();
        let gauge = |name: &str, engine: &str| {
            points(&all, name)
                .iter()
                .filter(|p| p.attr("engine_name") == Some(engine))
                .map(|p| p.count)
                .sum::<f64>()
        };
        assert_eq!(gauge("gauge_db_pool_connections_total", "with-base"), 10.0);
        assert_eq!(
            gauge("gauge_db_pool_connections_overflow", "with-base"),
            2.0
        );
        assert_eq!(
            gauge("gauge_db_pool_connections_checked_out", "with-base"),
            6.0
        );
        assert_eq!(
            gauge("gauge_db_pool_connections_total", "without-base"),
            3.0
        );
        assert_eq!(
            gauge("gauge_db_pool_connections_overflow", "without-base"),
            0.0
        );
        drop((with_base, without_base));
    })
}

#[test]
fn a_long_held_checkout_is_counted_once() {
    support::run_multi_thread(async move {
        let _t = start();
        let (_pool, monitor) = pool("long-held", 2);
        monitor.set_long_held_threshold(Some(Duration::from_millis(20)));
        monitor.checkout_started().checked_out(0);
        monitor.checkout_started().checked_out(1);
        tokio::time::sleep(Duration::from_millis(40)).await;
        let long_held = |all: &[support::MetricInfo]| {
            points(all, "count_db_pool_connection_events")
                .iter()
                .filter(|p| {
                    p.attr("engine_name") == Some("long-held")
                        && p.attr("event") == Some("long_held")
                })
                .map(|p| p.count)
                .sum::<f64>()
        };
        assert_eq!(long_held(&metrics()), 2.0, "both, noticed by the gauges");
        monitor.checkin(0);
        monitor.checkin(1);
        assert_eq!(long_held(&metrics()), 0.0, "not again at the checkin");
        monitor.checkout_started().checked_out(0);
        monitor.checkin(0);
        assert_eq!(long_held(&metrics()), 0.0, "a short checkout is not");
    })
}
