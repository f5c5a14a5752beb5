//! The monitor's sqlx hooks (`after_connect`, `before_acquire`, `after_release`), which run the
//! application's own hooks of the same names inside them, and the reconciliation that notices
//! connections sqlx closed without a hook (reaped for age or idleness, closed on a failed ping at
//! release, closed with the pool).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures_core::future::BoxFuture;
use sqlx::pool::PoolConnectionMetadata;
use sqlx::{Connection, Database, Error};

use super::handoff;
use super::ids::ConnectionIds;
use crate::db::sqlx::traced::query_error;
use crate::pool::monitor::{PoolMonitor, Retirement, WeakPoolMonitor};

/// `exception_type` of a connection sqlx closed after it failed the ping at release (sqlx does
/// not say why).
pub const RELEASE_PING_FAILED: &str = "ReleasePingFailed";

/// An application hook sqlx calls with a connection: `after_connect` answers `()`, the other
/// two whether to keep the connection.
pub(crate) type UserHook<DB, T> = Arc<
    dyn for<'c> Fn(
            &'c mut <DB as Database>::Connection,
            PoolConnectionMetadata,
        ) -> BoxFuture<'c, Result<T, Error>>
        + Send
        + Sync,
>;

/// What the hooks of one monitored pool share.
pub(crate) struct Tracker<DB: Database> {
    pub ids: ConnectionIds,
    pub monitor: WeakPoolMonitor,
    /// Whether sqlx finished connecting the pool (before, its size reads as zero).
    pub connected: AtomicBool,
    /// Whether to ping an idle connection before handing it out (sqlx's `test_before_acquire`,
    /// which the monitor takes over so that it sees the failure).
    pub ping_before_acquire: bool,
    pub max_lifetime: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub after_connect: Option<UserHook<DB, ()>>,
    pub before_acquire: Option<UserHook<DB, bool>>,
    pub after_release: Option<UserHook<DB, bool>>,
    /// Connections whose checkout a hook counted, to be checked in when they come back.
    pub checked_out_by_hooks: HeldIds,
}

/// Ids of connections out of the pool, checked out by a hook.
#[derive(Debug, Default)]
pub(crate) struct HeldIds(std::sync::Mutex<Vec<u64>>);

impl HeldIds {
    fn put(&self, id: u64) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(id);
    }

    /// Whether `id` was held, forgetting it.
    fn take(&self, id: u64) -> bool {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let before = held.len();
        held.retain(|held| *held != id);
        held.len() != before
    }
}

impl<DB: Database> Tracker<DB> {
    /// The address naming this pool in the acquire handoff.
    pub(super) fn key(&self) -> usize {
        self as *const Self as usize
    }

    fn remove(&self, monitor: Option<&PoolMonitor>, id: Option<u64>, how: Retirement<'_>) {
        let Some(id) = id.filter(|id| self.ids.remove(*id)) else {
            return;
        };
        if let Some(monitor) = monitor {
            match how {
                Retirement::Invalidate(error_type) => monitor.invalidate(id, error_type),
                Retirement::SoftInvalidate => monitor.soft_invalidate(id),
                Retirement::Close => monitor.close(id),
            }
        }
    }

    fn invalidate(&self, monitor: Option<&PoolMonitor>, id: Option<u64>, error: &Error) {
        let error_type = query_error(error).error_type;
        self.remove(monitor, id, Retirement::Invalidate(&error_type));
    }

    /// Counts the checkout of `id` when the acquire that took it is not ours (`started` is when
    /// it began): its return to the pool is the checkin.
    fn checked_out_here(&self, monitor: Option<&PoolMonitor>, id: u64, started: Option<Instant>) {
        if let (Some(monitor), Some(started)) = (monitor, started) {
            monitor.checked_out_after(id, started.elapsed());
            self.checked_out_by_hooks.put(id);
        }
    }

    /// A connection was opened.
    pub(super) async fn after_connect(
        &self,
        conn: &mut DB::Connection,
        meta: PoolConnectionMetadata,
    ) -> Result<(), Error> {
        if let Some(hook) = &self.after_connect {
            hook(conn, meta).await?;
        }
        let id = self.ids.allocate();
        let monitor = self.monitor.upgrade();
        if let Some(monitor) = &monitor {
            let create_time = handoff::acquire_started(self.key()).map(|s| s.elapsed());
            monitor.connect(id, create_time);
        }
        let checkout = handoff::hand_out(self.key(), id);
        // Last, so that the instant is as close as it can be to the one sqlx stamps next.
        self.ids.insert(id, Instant::now());
        self.checked_out_here(monitor.as_ref(), id, checkout);
        if let Some(monitor) = &monitor {
            self.reconcile(monitor);
        }
        Ok(())
    }

    /// Runs the application's keep-or-close `hook`, if any: a connection it rejects is closed,
    /// one it fails on is invalidated with the error's type.
    async fn keep(
        &self,
        hook: &Option<UserHook<DB, bool>>,
        conn: &mut DB::Connection,
        meta: PoolConnectionMetadata,
        monitor: Option<&PoolMonitor>,
        id: Option<u64>,
    ) -> Result<bool, Error> {
        let Some(hook) = hook else {
            return Ok(true);
        };
        match hook(conn, meta).await {
            Ok(true) => Ok(true),
            Ok(false) => {
                self.remove(monitor, id, Retirement::Close);
                Ok(false)
            }
            Err(error) => {
                self.invalidate(monitor, id, &error);
                Err(error)
            }
        }
    }

    /// An idle connection is about to be handed out.
    pub(super) async fn before_acquire(
        &self,
        conn: &mut DB::Connection,
        meta: PoolConnectionMetadata,
    ) -> Result<bool, Error> {
        let monitor = self.monitor.upgrade();
        // The connection being acquired is idle: of connections opened together, one checked
        // out cannot be it.
        let id = self.ids.find_by_age(meta.age, |id| {
            let in_use = monitor
                .as_ref()
                .and_then(|monitor| monitor.lifecycle(id))
                .is_some_and(|record| record.checked_out_at_ns.is_some());
            (!in_use).then_some(Duration::ZERO)
        });
        if self.ping_before_acquire
            && let Err(error) = conn.ping().await
        {
            self.invalidate(monitor.as_ref(), id, &error);
            return Err(error);
        }
        if !self
            .keep(&self.before_acquire, conn, meta, monitor.as_ref(), id)
            .await?
        {
            return Ok(false);
        }
        if let Some(id) = id {
            let checkout = handoff::hand_out(self.key(), id);
            self.checked_out_here(monitor.as_ref(), id, checkout);
        }
        Ok(true)
    }

    /// A connection came back and is about to be pinged and put back in the idle queue.
    pub(super) async fn after_release(
        &self,
        conn: &mut DB::Connection,
        meta: PoolConnectionMetadata,
    ) -> Result<bool, Error> {
        let id = self.ids.find_by_age(meta.age, |_| Some(Duration::ZERO));
        let monitor = self.monitor.upgrade();
        if !self
            .keep(&self.after_release, conn, meta, monitor.as_ref(), id)
            .await?
        {
            return Ok(false);
        }
        if let (Some(monitor), Some(id)) = (&monitor, id) {
            if self.checked_out_by_hooks.take(id) {
                monitor.checkin(id);
            }
            monitor.reset(id);
        }
        Ok(true)
    }

    /// Accounts for connections sqlx closed without a hook: while more connections are known than
    /// the pool holds, the idle ones it would have closed go first — past `max_lifetime` as
    /// `soft_invalidate`, past `idle_timeout` as `close` — then the most recently returned, which
    /// failed its ping at release, as `invalidate`.
    pub(super) fn reconcile(&self, monitor: &PoolMonitor) {
        if !self.connected.load(Ordering::Acquire) {
            return;
        }
        let held = monitor.status().size() as usize;
        let mut excess = self.ids.len().saturating_sub(held);
        if excess == 0 {
            return;
        }
        let now = SystemTime::now();
        let mut idle: Vec<(u64, Duration, Duration)> = self
            .ids
            .ids()
            .into_iter()
            .filter_map(|id| {
                let record = monitor.lifecycle(id)?;
                if record.checked_out_at_ns.is_some() {
                    return None;
                }
                let age = now.duration_since(record.created_at).unwrap_or_default();
                let idle_for = now
                    .duration_since(record.checked_in_at.unwrap_or(record.created_at))
                    .unwrap_or_default();
                Some((id, age, idle_for))
            })
            .collect();
        let past = |limit: Option<Duration>, value: Duration| limit.is_some_and(|l| value > l);
        let mut removed = Vec::new();
        for (id, age, idle_for) in &idle {
            if excess == 0 {
                break;
            }
            let how = if past(self.max_lifetime, *age) {
                Retirement::SoftInvalidate
            } else if past(self.idle_timeout, *idle_for) {
                Retirement::Close
            } else {
                continue;
            };
            if self.retire_guessed(monitor, *id, how) {
                removed.push(*id);
                excess -= 1;
            }
        }
        idle.retain(|(id, ..)| !removed.contains(id));
        idle.sort_by_key(|(_, _, idle_for)| *idle_for);
        for (id, ..) in idle.into_iter().take(excess) {
            self.retire_guessed(monitor, id, Retirement::Invalidate(RELEASE_PING_FAILED));
        }
    }

    /// Retires `id` as `how` when reconciliation guesses sqlx closed it, unless it was checked
    /// out meanwhile (the guess then was wrong: it is in use). Whether it was retired.
    fn retire_guessed(&self, monitor: &PoolMonitor, id: u64, how: Retirement<'_>) -> bool {
        monitor.retire_unless_checked_out(id, how) && self.ids.remove(id)
    }

    /// Every known connection closed with the pool.
    pub(super) fn close_all(&self, monitor: &PoolMonitor) {
        for id in self.ids.ids() {
            self.remove(Some(monitor), Some(id), Retirement::Close);
        }
    }
}
