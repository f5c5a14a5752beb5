//! The pool monitor on an r2d2 pool (feature `r2d2`), diesel's `r2d2` pools among them.
//!
//! [`MonitoredPool::new`] builds the pool from the application's [`Builder`] with the monitor
//! as r2d2's event handler ([`HandleEvent`]), so the pool keeps its own type (a
//! `diesel::r2d2::Pool<ConnectionManager<_>>` stays one) and every checkout goes through r2d2
//! unchanged: an acquired connection counts `connect`, a checkout counts `checkout` with the
//! wait r2d2 measured, a timed-out `get` counts in `db_pool_checkout_timeout_total`, a checkin
//! counts `checkin` with the time the connection was out, and a released connection counts
//! `soft_invalidate` when it reached the pool's `max_lifetime`, otherwise `close` (r2d2 does not
//! say whether it was idle too long or found broken). The gauges count r2d2's events: the open
//! connections, those checked out, the capacity (`max_size`), no overflow; r2d2 reports no
//! waiting callers, so `waiters` reads 0. Events run on the thread that checks out or in, so a
//! checkout carries the request-context attributes in force there.
//!
//! r2d2 has one event handler per pool: the monitor replaces any set on the builder. A
//! connection taken with `try_get` (which r2d2 does not report) is counted at its checkin, with
//! no wait and no use time.
//!
//! ```
//! use instrument::pool::r2d2::MonitoredPool;
//!
//! #[derive(Debug)]
//! struct Numbers;
//! impl r2d2::ManageConnection for Numbers {
//!     type Connection = u32;
//!     type Error = std::io::Error;
//!     fn connect(&self) -> Result<u32, std::io::Error> { Ok(7) }
//!     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
//!     fn has_broken(&self, _: &mut u32) -> bool { false }
//! }
//!
//! let pool = MonitoredPool::new(r2d2::Pool::builder().max_size(4), Numbers, "numbers").unwrap();
//! let number = pool.get().unwrap();
//! assert_eq!(*number, 7);
//! assert_eq!(pool.monitor().checked_out(), 1);
//! ```

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use r2d2::event::{AcquireEvent, CheckinEvent, CheckoutEvent, ReleaseEvent, TimeoutEvent};
use r2d2::{Builder, HandleEvent, ManageConnection, Pool};

use super::{PoolMonitor, PoolStatus};

/// The pool's state as r2d2's events tell it, and its settings once it is built.
#[derive(Debug, Default)]
struct Counts {
    open: AtomicI64,
    out: AtomicI64,
    max_size: AtomicU32,
    min_idle: AtomicU32,
    /// The pool's `max_lifetime` in nanoseconds; 0 when it has none.
    max_lifetime_ns: AtomicU64,
}

fn clamp_u32(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// The gauges' view of the pool, read from [`Counts`].
struct R2d2Status(Arc<Counts>);

impl PoolStatus for R2d2Status {
    fn size(&self) -> u32 {
        clamp_u32(self.0.open.load(Ordering::Relaxed))
    }
    fn idle(&self) -> u32 {
        let open = self.0.open.load(Ordering::Relaxed);
        clamp_u32(open - self.0.out.load(Ordering::Relaxed))
    }
    fn max_size(&self) -> u32 {
        self.0.max_size.load(Ordering::Relaxed)
    }
    fn min_size(&self) -> u32 {
        self.0.min_idle.load(Ordering::Relaxed)
    }
}

/// The monitor as r2d2's event handler.
#[derive(Debug)]
struct Events {
    monitor: PoolMonitor,
    counts: Arc<Counts>,
}

impl HandleEvent for Events {
    fn handle_acquire(&self, event: AcquireEvent) {
        self.counts.open.fetch_add(1, Ordering::Relaxed);
        self.monitor.connect(event.connection_id(), None);
    }

    fn handle_release(&self, event: ReleaseEvent) {
        self.counts.open.fetch_sub(1, Ordering::Relaxed);
        let max_lifetime = self.counts.max_lifetime_ns.load(Ordering::Relaxed);
        if max_lifetime != 0 && event.age() >= Duration::from_nanos(max_lifetime) {
            self.monitor.soft_invalidate(event.connection_id());
        } else {
            self.monitor.close(event.connection_id());
        }
    }

    fn handle_checkout(&self, event: CheckoutEvent) {
        self.counts.out.fetch_add(1, Ordering::Relaxed);
        self.monitor
            .checked_out_after(event.connection_id(), event.duration());
    }

    fn handle_timeout(&self, event: TimeoutEvent) {
        self.monitor.timed_out_after(event.timeout());
    }

    fn handle_checkin(&self, event: CheckinEvent) {
        let id = event.connection_id();
        let unseen = self
            .monitor
            .lifecycle(id)
            .is_some_and(|record| record.checked_out_at_ns.is_none());
        if unseen {
            // Taken with `try_get`, which r2d2 does not report.
            self.monitor.checked_out_after(id, Duration::ZERO);
        } else {
            self.counts.out.fetch_sub(1, Ordering::Relaxed);
        }
        self.monitor.checkin(id);
    }
}

/// An r2d2 pool watched by a [`PoolMonitor`]; it dereferences to the [`Pool`], so `get`,
/// `state` and the rest are r2d2's own. Cheap to clone.
pub struct MonitoredPool<M: ManageConnection> {
    pool: Pool<M>,
    monitor: PoolMonitor,
}

impl<M: ManageConnection> Clone for MonitoredPool<M> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            monitor: self.monitor.clone(),
        }
    }
}

impl<M: ManageConnection> fmt::Debug for MonitoredPool<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitoredPool")
            .field("monitor", &self.monitor)
            .finish_non_exhaustive()
    }
}

impl<M: ManageConnection> MonitoredPool<M> {
    /// Builds `builder`'s pool of `manager`'s connections (r2d2's [`Builder::build`], which waits
    /// for the initial connections), watched by a monitor named `engine_name` (pool mode
    /// `queue`, without the semantic-convention family).
    pub fn new(
        builder: Builder<M>,
        manager: M,
        engine_name: impl Into<String>,
    ) -> Result<Self, r2d2::Error> {
        Self::new_with(builder, manager, engine_name, "queue", false)
    }

    /// [`new`](Self::new) with the `pool_mode` attribute and the semantic-convention
    /// `db.client.connection.*` family switched by `semconv`.
    pub fn new_with(
        builder: Builder<M>,
        manager: M,
        engine_name: impl Into<String>,
        pool_mode: impl Into<String>,
        semconv: bool,
    ) -> Result<Self, r2d2::Error> {
        let counts = Arc::new(Counts::default());
        let monitor = PoolMonitor::new(engine_name, pool_mode, R2d2Status(counts.clone()), semconv);
        let events = Events {
            monitor: monitor.clone(),
            counts: counts.clone(),
        };
        let pool = builder.event_handler(Box::new(events)).build(manager)?;
        counts.max_size.store(pool.max_size(), Ordering::Relaxed);
        // Without `min_idle`, r2d2 keeps `max_size` connections open.
        let min_idle = pool.min_idle().unwrap_or(pool.max_size());
        counts.min_idle.store(min_idle, Ordering::Relaxed);
        let max_lifetime = pool.max_lifetime().map_or(0, |lifetime| {
            u64::try_from(lifetime.as_nanos())
                .unwrap_or(u64::MAX)
                .max(1)
        });
        counts
            .max_lifetime_ns
            .store(max_lifetime, Ordering::Relaxed);
        Ok(Self { pool, monitor })
    }

    /// The monitor.
    pub fn monitor(&self) -> &PoolMonitor {
        &self.monitor
    }

    /// The r2d2 pool (checkouts from it, or from a clone, are counted too).
    pub fn inner(&self) -> &Pool<M> {
        &self.pool
    }

    /// The r2d2 pool, for code that wants to own one.
    pub fn into_inner(self) -> Pool<M> {
        self.pool
    }
}

impl<M: ManageConnection> Deref for MonitoredPool<M> {
    type Target = Pool<M>;

    fn deref(&self) -> &Pool<M> {
        &self.pool
    }
}
