//! Waiting for an instrumented sqlx pool to be at rest, shared by the pool tests.

use std::time::{Duration, Instant};

use instrument::db::sqlx::{InstrumentedPool, SqlxDriver};

/// Waits until sqlx has put every connection back in the idle queue (it does so in a task) and
/// the monitor has checked each in (its hook runs just after).
pub async fn settle<DB: SqlxDriver>(pool: &InstrumentedPool<DB>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let back = || {
        pool.num_idle() as u32 == pool.size()
            && pool
                .monitor()
                .is_none_or(|monitor| monitor.checked_out() == 0)
    };
    while !back() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
