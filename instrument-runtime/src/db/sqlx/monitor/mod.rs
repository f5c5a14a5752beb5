//! The pool-monitor side of an [`InstrumentedPool`](super::InstrumentedPool): the monitor takes
//! over sqlx's `after_connect`, `before_acquire` and `after_release` hooks (running the
//! application's own inside them) and its `test_before_acquire` ping, so that it sees every
//! connection open, every failed health check (`invalidate` with the error's type) and every
//! return (`reset`). Its checkout sees the wait and timeouts (`PoolTimedOut`); dropping the
//! checkout is the checkin. Connections sqlx closes without a hook are noticed when the pool
//! holds fewer than the monitor knows: past `max_lifetime` as `soft_invalidate`, past
//! `idle_timeout` as `close`, others (a failed ping at release) as `invalidate` with
//! `exception_type` [`RELEASE_PING_FAILED`]. [`InstrumentedConnection::detach`](super::InstrumentedConnection::detach) is `detach`
//! then `close_detached` at once.

mod generated;
mod handoff;
mod hooks;
mod ids;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::{Database, Error, Pool};

pub(crate) use generated::generate;
pub use hooks::RELEASE_PING_FAILED;
pub(crate) use hooks::UserHook;

use super::traced::query_error;
use crate::pool::{PoolMonitor, PoolStatus};
use hooks::Tracker;

/// The live state of a sqlx pool, once it is connected.
struct SqlxStatus<DB: Database> {
    pool: Arc<OnceLock<Pool<DB>>>,
    max: u32,
    min: u32,
}

impl<DB: Database> PoolStatus for SqlxStatus<DB> {
    fn size(&self) -> u32 {
        self.pool.get().map_or(0, Pool::size)
    }
    fn idle(&self) -> u32 {
        self.pool
            .get()
            .map_or(0, |pool| u32::try_from(pool.num_idle()).unwrap_or(u32::MAX))
    }
    fn max_size(&self) -> u32 {
        self.max
    }
    fn min_size(&self) -> u32 {
        self.min
    }
}

/// How the monitor of one pool is set up: its names and the application's own hooks.
pub(crate) struct MonitorSettings<DB: Database> {
    pub engine_name: String,
    pub pool_mode: String,
    pub semconv: bool,
    pub after_connect: Option<UserHook<DB, ()>>,
    pub before_acquire: Option<UserHook<DB, bool>>,
    pub after_release: Option<UserHook<DB, bool>>,
}

/// The monitor of one pool and what its hooks share. Shared by the pool's clones.
pub(crate) struct Monitoring<DB: Database> {
    monitor: PoolMonitor,
    tracker: Arc<Tracker<DB>>,
    slot: Arc<OnceLock<Pool<DB>>>,
}

/// Counts the checkouts of work that acquires from a monitored pool itself: the hook that hands
/// it a connection counts the checkout, with its wait, and the connection's return is the
/// checkin. Not generic over the driver, so that an ORM connection can hold it.
#[cfg(feature = "sea-orm")]
#[derive(Clone)]
pub(crate) struct OutOfSightCheckouts {
    key: usize,
    monitor: PoolMonitor,
    reconcile: Arc<dyn Fn() + Send + Sync>,
}

#[cfg(feature = "sea-orm")]
impl std::fmt::Debug for OutOfSightCheckouts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutOfSightCheckouts")
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "sea-orm")]
impl OutOfSightCheckouts {
    /// Runs `work`; a pool timeout (`timed_out` tells it from the output) is counted here.
    pub(crate) async fn run<T>(
        &self,
        work: impl std::future::Future<Output = T>,
        timed_out: impl FnOnce(&T) -> bool,
    ) -> T {
        (self.reconcile)();
        let started = Instant::now();
        let output = handoff::checking_out_in_hook(self.key, started, work).await;
        if timed_out(&output) {
            self.monitor.timed_out_after(started.elapsed());
        }
        output
    }
}

/// A checkout the monitor counted; dropping it is the checkin.
#[derive(Debug)]
pub(crate) struct Checkout {
    id: u64,
    monitor: PoolMonitor,
}

impl Drop for Checkout {
    fn drop(&mut self) {
        self.monitor.checkin(self.id);
    }
}

impl Checkout {
    /// The monitor's id of the checked-out connection.
    pub(super) fn id(&self) -> u64 {
        self.id
    }
}

impl<DB: Database> Monitoring<DB> {
    /// Installs the monitor's hooks on `options`.
    pub(super) fn install(
        options: PoolOptions<DB>,
        settings: MonitorSettings<DB>,
    ) -> (PoolOptions<DB>, Self) {
        let slot = Arc::new(OnceLock::new());
        let status = SqlxStatus {
            pool: slot.clone(),
            max: options.get_max_connections(),
            min: options.get_min_connections(),
        };
        let monitor = PoolMonitor::new(
            settings.engine_name,
            settings.pool_mode,
            status,
            settings.semconv,
        );
        let tracker = Arc::new(Tracker {
            ids: Default::default(),
            monitor: monitor.downgrade(),
            connected: AtomicBool::new(false),
            ping_before_acquire: options.get_test_before_acquire(),
            max_lifetime: options.get_max_lifetime(),
            idle_timeout: options.get_idle_timeout(),
            after_connect: settings.after_connect,
            before_acquire: settings.before_acquire,
            after_release: settings.after_release,
            checked_out_by_hooks: Default::default(),
        });
        let (connect, acquire, release) = (tracker.clone(), tracker.clone(), tracker.clone());
        let options = options
            .test_before_acquire(false)
            .after_connect(move |conn, meta| {
                let tracker = connect.clone();
                Box::pin(async move { tracker.after_connect(conn, meta).await })
            })
            .before_acquire(move |conn, meta| {
                let tracker = acquire.clone();
                Box::pin(async move { tracker.before_acquire(conn, meta).await })
            })
            .after_release(move |conn, meta| {
                let tracker = release.clone();
                Box::pin(async move { tracker.after_release(conn, meta).await })
            });
        let monitoring = Self {
            monitor,
            tracker,
            slot,
        };
        (options, monitoring)
    }

    /// Tells the monitor the pool is connected: its size reads from `pool` from now on.
    pub(super) fn connected(&self, pool: &Pool<DB>) {
        let _ = self.slot.set(pool.clone());
        self.tracker.connected.store(true, Ordering::Release);
    }

    /// The monitor.
    pub(super) fn monitor(&self) -> &PoolMonitor {
        &self.monitor
    }

    /// The id the monitor gives each open connection, oldest first.
    pub(super) fn connection_ids(&self) -> Vec<u64> {
        self.tracker.ids.ids()
    }

    /// What counts the checkouts of statements that take their connection from the pool out
    /// of sight (SeaORM's).
    #[cfg(feature = "sea-orm")]
    pub(crate) fn out_of_sight(self: &Arc<Self>) -> OutOfSightCheckouts
    where
        DB: Database,
    {
        let monitoring = self.clone();
        OutOfSightCheckouts {
            key: self.tracker.key(),
            monitor: self.monitor.clone(),
            reconcile: Arc::new(move || monitoring.tracker.reconcile(&monitoring.monitor)),
        }
    }

    /// Checks a connection out of `pool`, recording the wait, a timeout or a failure.
    pub(super) async fn acquire(
        &self,
        pool: &Pool<DB>,
    ) -> Result<(PoolConnection<DB>, Checkout), Error> {
        self.tracker.reconcile(&self.monitor);
        let wait = self.monitor.checkout_started();
        let (acquired, handed_out) =
            handoff::acquire_marked(self.tracker.key(), wait.started(), pool.acquire()).await;
        match acquired {
            Ok(conn) => {
                let id = handed_out.unwrap_or_else(|| {
                    let id = self.tracker.ids.register(Instant::now());
                    self.monitor.connect(id, None);
                    id
                });
                wait.checked_out(id);
                let checkout = Checkout {
                    id,
                    monitor: self.monitor.clone(),
                };
                Ok((conn, checkout))
            }
            Err(Error::PoolTimedOut) => {
                wait.timed_out();
                Err(Error::PoolTimedOut)
            }
            Err(error) => {
                wait.failed(&query_error(&error).error_type);
                Err(error)
            }
        }
    }

    /// Checks `checkout`'s connection in and closes it.
    pub(super) async fn close_connection(
        &self,
        conn: PoolConnection<DB>,
        checkout: Checkout,
    ) -> Result<(), Error> {
        let id = checkout.id;
        drop(checkout);
        let closed = conn.close().await;
        if self.tracker.ids.remove(id) {
            self.monitor.close(id);
        }
        closed
    }

    /// Checks `checkout`'s connection in and takes it out of the monitor's records as detached
    /// (`detach`, then `close_detached` at once: the pool will not see it again). Before sqlx's
    /// own `detach`, so that the pool never holds fewer connections than the monitor knows of
    /// but for this one.
    pub(super) fn detach_connection(&self, checkout: Checkout) {
        let id = checkout.id;
        drop(checkout);
        self.monitor.detach(id);
        if self.tracker.ids.remove(id) {
            self.monitor.close(id);
        }
    }

    /// The pool is about to close: its gauges keep the state read now.
    pub(super) fn closing(&self) {
        self.monitor.pool_closing();
    }

    /// Every connection the pool held counts as closed (after the pool closed).
    pub(super) fn closed(&self) {
        self.tracker.close_all(&self.monitor);
    }
}
