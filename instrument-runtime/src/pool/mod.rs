//! The connection-pool monitor: the original's pool events, gauges read from the pool's live
//! state, checkout wait and use durations, per-connection lifecycle records; and, behind a
//! switch, the semantic-convention `db.client.connection.*` family.
//!
//! [`PoolMonitor`] is pool-agnostic: an adapter reports events and gives it a [`PoolStatus`].
//!
//! ```
//! use instrument::pool::{PoolMonitor, PoolStatus};
//!
//! struct Fixed;
//! impl PoolStatus for Fixed {
//!     fn size(&self) -> u32 { 2 }
//!     fn idle(&self) -> u32 { 1 }
//!     fn max_size(&self) -> u32 { 4 }
//!     fn min_size(&self) -> u32 { 1 }
//! }
//!
//! let monitor = PoolMonitor::new("main", "queue", Fixed, false);
//! monitor.connect(1, Some(std::time::Duration::from_millis(3)));
//! let wait = monitor.checkout_started();
//! wait.checked_out(1);
//! monitor.checkin(1);
//! assert_eq!(monitor.lifecycle(1).unwrap().checkout_count, 1);
//! ```

#[cfg(feature = "deadpool")]
pub mod deadpool;
pub(crate) mod gauges;
mod lifecycle;
mod metrics;
pub(crate) mod monitor;
#[cfg(feature = "r2d2")]
pub mod r2d2;

pub use lifecycle::ConnectionLifecycle;
pub use metrics::{PoolMetrics, PoolSemconvMetrics};
pub use monitor::{
    CheckoutWait, DEFAULT_LONG_HELD_THRESHOLD, ENGINE_NAME_KEY, EVENT_KEY, EXCEPTION_TYPE_KEY,
    POOL_MODE_KEY, POOL_NAME_KEY, PoolEvent, PoolMonitor, PoolStatus,
};
