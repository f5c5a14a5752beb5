//! The pool monitor on a deadpool managed pool (feature `deadpool`).
//!
//! [`MonitoredPool::builder`] wraps the application's [`Manager`]: each connection becomes a
//! [`Tracked`] value carrying the monitor's id, so every hook knows which connection it sees.
//! `create` is timed and `post_create` counts `connect`; `pre_recycle` retires connections past
//! the optional `max_lifetime` (`soft_invalidate`) or `idle_timeout` (`close`); a failed
//! `recycle` is `invalidate` with the error's type; `post_recycle` counts `reset`; a connection
//! deadpool drops (resize, retain, a failed hook, the pool itself) is `close`, or
//! `close_detached` after [`MonitoredObject::take`]. [`MonitoredPool::get`] records every
//! checkout, its wait and timeouts; dropping the object is the checkin. Gauges read deadpool's
//! `Status`.
//!
//! ```no_run
//! use deadpool::managed::{Manager, Metrics, RecycleResult};
//! use instrument::pool::deadpool::MonitoredPool;
//!
//! struct Numbers;
//! impl Manager for Numbers {
//!     type Type = u32;
//!     type Error = std::io::Error;
//!     async fn create(&self) -> Result<u32, std::io::Error> { Ok(7) }
//!     async fn recycle(&self, _: &mut u32, _: &Metrics) -> RecycleResult<std::io::Error> { Ok(()) }
//! }
//!
//! # async fn demo() {
//! let pool = MonitoredPool::builder(Numbers, "numbers").max_size(4).build().unwrap();
//! let number = pool.get().await.unwrap();
//! assert_eq!(**number, 7);
//! # }
//! ```

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use deadpool::managed::{
    BuildError, Hook, HookError, Manager, Metrics, Object, Pool, PoolBuilder, PoolError,
    RecycleError, RecycleResult, WeakPool,
};

use super::{PoolMonitor, PoolStatus};
use crate::capture::variant_name;

/// A connection of a monitored deadpool pool: the application's value and the monitor's id.
#[derive(Debug)]
pub struct Tracked<T> {
    value: T,
    id: u64,
    create_time: Duration,
}

impl<T> Tracked<T> {
    /// The monitor's id of this connection.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The application's connection.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for Tracked<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

/// The application's manager, wrapped so the monitor sees connections open, fail and leave.
pub struct MonitoredManager<M> {
    inner: M,
    monitor: PoolMonitor,
    next_id: std::sync::atomic::AtomicU64,
}

impl<M> fmt::Debug for MonitoredManager<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitoredManager")
            .field("monitor", &self.monitor)
            .finish_non_exhaustive()
    }
}

/// `exception_type` of a failed recycle: deadpool's message, or the backend error's variant.
fn recycle_error_type<E: fmt::Debug>(error: &RecycleError<E>) -> String {
    match error {
        RecycleError::Message(_) => "RecycleError".to_owned(),
        RecycleError::Backend(backend) => variant_name(backend),
    }
}

impl<M> Manager for MonitoredManager<M>
where
    M: Manager,
    M::Error: fmt::Debug,
{
    type Type = Tracked<M::Type>;
    type Error = M::Error;

    async fn create(&self) -> Result<Tracked<M::Type>, M::Error> {
        let started = Instant::now();
        let value = self.inner.create().await?;
        Ok(Tracked {
            value,
            id: self
                .next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            create_time: started.elapsed(),
        })
    }

    async fn recycle(
        &self,
        conn: &mut Tracked<M::Type>,
        metrics: &Metrics,
    ) -> RecycleResult<M::Error> {
        let recycled = self.inner.recycle(&mut conn.value, metrics).await;
        if let Err(error) = &recycled {
            self.monitor.invalidate(conn.id, &recycle_error_type(error));
        }
        recycled
    }

    fn detach(&self, conn: &mut Tracked<M::Type>) {
        self.inner.detach(&mut conn.value);
        if self.monitor.lifecycle(conn.id).is_some() {
            self.monitor.close(conn.id);
        }
    }
}

/// deadpool's live `Status`, once the pool is built.
struct DeadpoolStatus<M: Manager> {
    pool: Arc<OnceLock<WeakPool<M>>>,
}

impl<M: Manager> DeadpoolStatus<M> {
    fn read(&self) -> Option<deadpool::Status> {
        Some(self.pool.get()?.upgrade()?.status())
    }
}

fn saturating_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

impl<M: Manager + 'static> PoolStatus for DeadpoolStatus<M> {
    fn size(&self) -> u32 {
        self.read().map_or(0, |s| saturating_u32(s.size))
    }
    fn idle(&self) -> u32 {
        self.read().map_or(0, |s| saturating_u32(s.available))
    }
    fn max_size(&self) -> u32 {
        self.read().map_or(0, |s| saturating_u32(s.max_size))
    }
    fn min_size(&self) -> u32 {
        0
    }
}

/// Builds a [`MonitoredPool`]: deadpool's builder plus the monitor's settings.
pub struct MonitoredPoolBuilder<M: Manager + 'static>
where
    M::Error: fmt::Debug,
{
    builder: PoolBuilder<MonitoredManager<M>>,
    monitor: PoolMonitor,
    slot: Arc<OnceLock<WeakPool<MonitoredManager<M>>>>,
    max_lifetime: Option<Duration>,
    idle_timeout: Option<Duration>,
}

impl<M: Manager + 'static> fmt::Debug for MonitoredPoolBuilder<M>
where
    M::Error: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitoredPoolBuilder")
            .field("monitor", &self.monitor)
            .field("max_lifetime", &self.max_lifetime)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl<M: Manager + 'static> MonitoredPoolBuilder<M>
where
    M::Error: fmt::Debug,
{
    /// deadpool's `max_size`.
    pub fn max_size(mut self, max_size: usize) -> Self {
        self.builder = self.builder.max_size(max_size);
        self
    }

    /// deadpool's wait timeout (a timed-out `get` counts in `db_pool_checkout_timeout_total`).
    pub fn wait_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.builder = self.builder.wait_timeout(timeout);
        self
    }

    /// Retires connections older than `lifetime` when they are next recycled.
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = Some(lifetime);
        self
    }

    /// Closes connections idle longer than `timeout` when they are next recycled.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// How long a connection may stay checked out before it counts as `long_held`; `None` turns
    /// the check off (default 30 s, see [`PoolMonitor::set_long_held_threshold`]).
    pub fn long_held_threshold(self, threshold: Option<Duration>) -> Self {
        self.monitor.set_long_held_threshold(threshold);
        self
    }

    /// Any other deadpool setting or hook: `configure(|b| b.queue_mode(QueueMode::Lifo))`.
    pub fn configure(
        mut self,
        configure: impl FnOnce(PoolBuilder<MonitoredManager<M>>) -> PoolBuilder<MonitoredManager<M>>,
    ) -> Self {
        self.builder = configure(self.builder);
        self
    }

    /// Builds the pool, with the monitor's hooks installed.
    pub fn build(self) -> Result<MonitoredPool<M>, BuildError> {
        let (connected, retiring, recycled) = (
            self.monitor.clone(),
            self.monitor.clone(),
            self.monitor.clone(),
        );
        let (max_lifetime, idle_timeout) = (self.max_lifetime, self.idle_timeout);
        let pool = self
            .builder
            .runtime(deadpool::Runtime::Tokio1)
            .post_create(Hook::sync_fn(move |conn: &mut Tracked<M::Type>, _| {
                connected.connect(conn.id, Some(conn.create_time));
                Ok(())
            }))
            .pre_recycle(Hook::sync_fn(
                move |conn: &mut Tracked<M::Type>, metrics| {
                    if max_lifetime.is_some_and(|max| metrics.age() > max) {
                        retiring.soft_invalidate(conn.id);
                        return Err(HookError::message("past max_lifetime"));
                    }
                    if idle_timeout.is_some_and(|max| metrics.last_used() > max) {
                        retiring.close(conn.id);
                        return Err(HookError::message("past idle_timeout"));
                    }
                    Ok(())
                },
            ))
            .post_recycle(Hook::sync_fn(move |conn: &mut Tracked<M::Type>, _| {
                recycled.reset(conn.id);
                Ok(())
            }))
            .build()?;
        let _ = self.slot.set(pool.weak());
        Ok(MonitoredPool {
            pool,
            monitor: self.monitor,
        })
    }
}

/// A deadpool pool watched by a [`PoolMonitor`]. Cheap to clone.
pub struct MonitoredPool<M: Manager + 'static>
where
    M::Error: fmt::Debug,
{
    pool: Pool<MonitoredManager<M>>,
    monitor: PoolMonitor,
}

impl<M: Manager + 'static> Clone for MonitoredPool<M>
where
    M::Error: fmt::Debug,
{
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            monitor: self.monitor.clone(),
        }
    }
}

impl<M: Manager + 'static> fmt::Debug for MonitoredPool<M>
where
    M::Error: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitoredPool")
            .field("monitor", &self.monitor)
            .finish_non_exhaustive()
    }
}

impl<M: Manager + 'static> MonitoredPool<M>
where
    M::Error: fmt::Debug,
{
    /// A builder for a pool of `manager`'s connections, watched by a monitor named
    /// `engine_name` (pool mode `queue`, without the semantic-convention family).
    pub fn builder(manager: M, engine_name: impl Into<String>) -> MonitoredPoolBuilder<M> {
        Self::builder_with(manager, engine_name, "queue", false)
    }

    /// [`builder`](Self::builder) with the `pool_mode` attribute and the semantic-convention
    /// `db.client.connection.*` family switched by `semconv`.
    pub fn builder_with(
        manager: M,
        engine_name: impl Into<String>,
        pool_mode: impl Into<String>,
        semconv: bool,
    ) -> MonitoredPoolBuilder<M> {
        let slot = Arc::new(OnceLock::new());
        let status = DeadpoolStatus { pool: slot.clone() };
        let monitor = PoolMonitor::new(engine_name, pool_mode, status, semconv);
        let manager = MonitoredManager {
            inner: manager,
            monitor: monitor.clone(),
            next_id: Default::default(),
        };
        MonitoredPoolBuilder {
            builder: Pool::builder(manager),
            monitor,
            slot,
            max_lifetime: None,
            idle_timeout: None,
        }
    }

    /// The monitor.
    pub fn monitor(&self) -> &PoolMonitor {
        &self.monitor
    }

    /// The deadpool pool; objects taken from it directly are not counted as checkouts.
    pub fn inner(&self) -> &Pool<MonitoredManager<M>> {
        &self.pool
    }

    /// Closes the pool; its gauges keep reporting the state read just before the close.
    pub fn close(&self) {
        self.monitor.pool_closing();
        self.pool.close();
    }

    /// deadpool's status.
    pub fn status(&self) -> deadpool::Status {
        self.pool.status()
    }

    /// Checks a connection out, recording the wait, a timeout or a failure.
    pub async fn get(&self) -> Result<MonitoredObject<M>, PoolError<M::Error>> {
        let wait = self.monitor.checkout_started();
        match self.pool.get().await {
            Ok(object) => {
                wait.checked_out(object.id);
                Ok(MonitoredObject {
                    object: Some(object),
                    monitor: self.monitor.clone(),
                })
            }
            Err(PoolError::Timeout(kind)) => {
                wait.timed_out();
                Err(PoolError::Timeout(kind))
            }
            Err(error) => {
                wait.failed(&variant_name(&error));
                Err(error)
            }
        }
    }
}

/// A checked-out connection; dropping it checks it in.
pub struct MonitoredObject<M: Manager + 'static>
where
    M::Error: fmt::Debug,
{
    object: Option<Object<MonitoredManager<M>>>,
    monitor: PoolMonitor,
}

impl<M: Manager + 'static> fmt::Debug for MonitoredObject<M>
where
    M::Error: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitoredObject")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

const HELD: &str = "a monitored object holds its connection until dropped or taken";

impl<M: Manager + 'static> MonitoredObject<M>
where
    M::Error: fmt::Debug,
{
    /// The monitor's id of this connection.
    pub fn id(&self) -> u64 {
        self.object.as_ref().expect(HELD).id
    }

    /// Takes the connection out of the pool (`detach`); it counts as `close_detached` at once,
    /// since the pool will not see it again.
    pub fn take(mut self) -> M::Type {
        let object = self.object.take().expect(HELD);
        let id = object.id;
        self.monitor.checkin(id);
        self.monitor.detach(id);
        Object::take(object).into_inner()
    }
}

impl<M: Manager + 'static> Deref for MonitoredObject<M>
where
    M::Error: fmt::Debug,
{
    type Target = Tracked<M::Type>;

    fn deref(&self) -> &Tracked<M::Type> {
        self.object.as_ref().expect(HELD)
    }
}

impl<M: Manager + 'static> DerefMut for MonitoredObject<M>
where
    M::Error: fmt::Debug,
{
    fn deref_mut(&mut self) -> &mut Tracked<M::Type> {
        self.object.as_mut().expect(HELD)
    }
}

impl<M: Manager + 'static> Drop for MonitoredObject<M>
where
    M::Error: fmt::Debug,
{
    fn drop(&mut self) {
        if let Some(object) = &self.object {
            self.monitor.checkin(object.id);
        }
    }
}
