//! The pool-agnostic monitor: receives the original's pool events, keeps per-connection
//! lifecycle records, and records the pool metrics.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use opentelemetry::{Context, KeyValue, StringValue, Value};

use super::gauges::{self, GaugedPool, Reading};
use super::lifecycle::{ConnectionLifecycle, Lifecycles};
use super::metrics::{PoolMetrics, PoolSemconvMetrics};
use crate::context::current_attributes;
use crate::state;

/// Attribute naming the pool.
pub const ENGINE_NAME_KEY: &str = "engine_name";
/// Attribute naming the pool's mode (for example `queue`).
pub const POOL_MODE_KEY: &str = "pool_mode";
/// Attribute of `count_db_pool_connection_events`: the event.
pub const EVENT_KEY: &str = "event";
/// Attribute of `count_db_pool_connection_errors`: the error type.
pub const EXCEPTION_TYPE_KEY: &str = "exception_type";
/// Attribute of the semantic-convention pool metrics: the pool name.
pub const POOL_NAME_KEY: &str = "db.client.connection.pool.name";
/// How long a connection may stay checked out before it counts as `long_held`, unless the
/// monitor is told otherwise ([`PoolMonitor::set_long_held_threshold`]).
pub const DEFAULT_LONG_HELD_THRESHOLD: Duration = Duration::from_secs(30);

/// The events a pool reports (the original's SQLAlchemy pool events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolEvent {
    /// A connection was opened.
    Connect,
    /// The pool's first connection was opened.
    FirstConnect,
    /// A connection was handed out.
    Checkout,
    /// A connection came back.
    Checkin,
    /// A connection was found broken and discarded.
    Invalidate,
    /// A connection was retired (lifetime or idle limit) and will be replaced.
    SoftInvalidate,
    /// A connection was closed.
    Close,
    /// A detached connection was closed.
    CloseDetached,
    /// A connection was taken out of the pool's management.
    Detach,
    /// A connection's state was reset on return.
    Reset,
    /// A connection stayed checked out past the monitor's long-held threshold (counted once per
    /// checkout, when the gauges are collected or at its checkin, whichever notices first).
    LongHeld,
}

impl PoolEvent {
    /// The event's name, as the `event` attribute carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolEvent::Connect => "connect",
            PoolEvent::FirstConnect => "first_connect",
            PoolEvent::Checkout => "checkout",
            PoolEvent::Checkin => "checkin",
            PoolEvent::Invalidate => "invalidate",
            PoolEvent::SoftInvalidate => "soft_invalidate",
            PoolEvent::Close => "close",
            PoolEvent::CloseDetached => "close_detached",
            PoolEvent::Detach => "detach",
            PoolEvent::Reset => "reset",
            PoolEvent::LongHeld => "long_held",
        }
    }
}

/// The live state of a pool, read when gauges are collected.
pub trait PoolStatus: Send + Sync + 'static {
    /// Connections open (idle and in use).
    fn size(&self) -> u32;
    /// Connections idle in the pool.
    fn idle(&self) -> u32;
    /// The most connections the pool opens.
    fn max_size(&self) -> u32;
    /// The fewest connections the pool keeps.
    fn min_size(&self) -> u32;
    /// The pool's base size, where it has one: connections open beyond it are overflow
    /// (`gauge_db_pool_connections_overflow`), as SQLAlchemy's `QueuePool` opens past its
    /// `pool_size` under load. `None` (the default) for a pool that has only a maximum, as
    /// sqlx's and deadpool's: their overflow reads 0.
    fn base_size(&self) -> Option<u32> {
        None
    }
}

/// Watches one pool. Cheap to clone; adapters call its event methods.
#[derive(Clone)]
pub struct PoolMonitor {
    inner: Arc<MonitorInner>,
}

pub(crate) struct MonitorInner {
    pub(crate) engine_name: String,
    pub(crate) pool_mode: String,
    /// `engine_name` and `pool_mode` as attributes whose clones share the strings.
    identity: [KeyValue; 2],
    /// `db.client.connection.pool.name`, likewise.
    pub(crate) pool_name: KeyValue,
    pub(crate) status: Box<dyn PoolStatus>,
    pub(crate) waiters: AtomicI64,
    pub(crate) semconv: bool,
    checked_out: AtomicI64,
    first_connect_seen: AtomicBool,
    lifecycles: Lifecycles,
    /// The long-held threshold in nanoseconds; 0 when off.
    long_held_after_ns: AtomicU64,
    /// Whether the one stderr warning about a long-held connection went out.
    long_held_warned: AtomicBool,
    /// The reading taken just before the pool closed.
    closed_reading: OnceLock<Reading>,
    /// The pipeline in force where the monitor was made: what it records into, from whatever
    /// thread (a pool's own connection threads included).
    pipeline: Option<Weak<state::Pipeline>>,
}

impl std::fmt::Debug for PoolMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolMonitor")
            .field("engine_name", &self.inner.engine_name)
            .field("pool_mode", &self.inner.pool_mode)
            .finish_non_exhaustive()
    }
}

impl MonitorInner {
    /// `engine_name` and `pool_mode`.
    pub(crate) fn identity(&self) -> &[KeyValue; 2] {
        &self.identity
    }

    /// The pool's state now, or as it was just before it closed.
    pub(crate) fn reading(&self) -> Reading {
        if let Some(reading) = self.closed_reading.get() {
            return *reading;
        }
        Reading {
            size: self.status.size(),
            idle: self.status.idle(),
            max: self.status.max_size(),
            min: self.status.min_size(),
            base: self.status.base_size(),
            waiters: self.waiters.load(Ordering::Relaxed),
        }
    }
}

impl MonitorInner {
    fn attributes(&self, extra: &[KeyValue]) -> Vec<KeyValue> {
        let mut attributes = Vec::with_capacity(4 + extra.len());
        attributes.extend_from_slice(self.identity());
        attributes.extend_from_slice(extra);
        if let Some(scoped) = Context::map_current(current_attributes) {
            attributes.extend(scoped.iter().cloned());
        }
        attributes
    }

    /// The pool instruments of the monitor's pipeline.
    fn metrics(&self) -> Arc<PoolMetrics> {
        match &self.pipeline {
            Some(pipeline) => state::run_in(pipeline, PoolMetrics::global),
            None => PoolMetrics::global(),
        }
    }

    /// The `db.client.connection.*` instruments of the monitor's pipeline.
    fn semconv_metrics(&self) -> Arc<PoolSemconvMetrics> {
        match &self.pipeline {
            Some(pipeline) => state::run_in(pipeline, PoolSemconvMetrics::global),
            None => PoolSemconvMetrics::global(),
        }
    }

    fn count(&self, event: PoolEvent, times: u64) {
        self.metrics().connection_events.add(
            times,
            &self.attributes(&[KeyValue::new(EVENT_KEY, event.as_str())]),
        );
    }

    fn long_held_threshold(&self) -> Option<Duration> {
        match self.long_held_after_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }

    /// Counts `times` checkouts held past the threshold, warning on stderr the first time.
    fn long_held(&self, times: u64) {
        if times == 0 {
            return;
        }
        self.count(PoolEvent::LongHeld, times);
        if !self.long_held_warned.swap(true, Ordering::Relaxed) {
            let threshold = self.long_held_threshold().unwrap_or_default();
            crate::diagnostics::warn(&format!(
                "pool `{}`: a connection was held checked out for more than {threshold:?} \
                 (counted as `long_held` in count_db_pool_connection_events; later ones are only \
                 counted)",
                self.engine_name
            ));
        }
    }

    /// Counts the connections checked out past the threshold that were not counted yet (called
    /// by the gauge callback, once per collection: one pass over the records, no thread).
    pub(crate) fn check_long_held(&self) {
        let threshold = self.long_held_after_ns.load(Ordering::Relaxed);
        if threshold == 0 || self.closed_reading.get().is_some() {
            return;
        }
        self.long_held(self.lifecycles.flag_long_held(u128::from(threshold)));
    }
}

impl GaugedPool for MonitorInner {
    fn identity(&self) -> &[KeyValue; 2] {
        MonitorInner::identity(self)
    }

    fn pool_name(&self) -> &KeyValue {
        &self.pool_name
    }

    fn semconv(&self) -> bool {
        self.semconv
    }

    fn reading(&self) -> Reading {
        MonitorInner::reading(self)
    }

    fn on_collect(&self) {
        self.check_long_held();
    }
}

impl Drop for MonitorInner {
    fn drop(&mut self) {
        gauges::retire(self);
    }
}

impl PoolMonitor {
    /// A monitor for the pool named `engine_name`, in `pool_mode`, whose live state `status`
    /// reads. With `semconv`, the `db.client.connection.*` family is recorded as well.
    pub fn new(
        engine_name: impl Into<String>,
        pool_mode: impl Into<String>,
        status: impl PoolStatus,
        semconv: bool,
    ) -> Self {
        let (engine_name, pool_mode) = (engine_name.into(), pool_mode.into());
        let shared = |key: &'static str, value: &str| {
            KeyValue::new(
                key,
                Value::String(StringValue::from(Arc::<str>::from(value))),
            )
        };
        let inner = Arc::new(MonitorInner {
            identity: [
                shared(ENGINE_NAME_KEY, &engine_name),
                shared(POOL_MODE_KEY, &pool_mode),
            ],
            pool_name: shared(POOL_NAME_KEY, &engine_name),
            engine_name,
            pool_mode,
            status: Box::new(status),
            waiters: AtomicI64::new(0),
            semconv,
            checked_out: AtomicI64::new(0),
            first_connect_seen: AtomicBool::new(false),
            lifecycles: Lifecycles::new(),
            long_held_after_ns: AtomicU64::new(DEFAULT_LONG_HELD_THRESHOLD.as_nanos() as u64),
            long_held_warned: AtomicBool::new(false),
            closed_reading: OnceLock::new(),
            pipeline: state::current_weak(),
        });
        let watched: Weak<dyn GaugedPool> = Arc::downgrade(&(inner.clone() as Arc<dyn GaugedPool>));
        gauges::watch(watched);
        // Registers the observable gauges with the provider in force.
        let _ = PoolMetrics::global();
        let _ = PoolSemconvMetrics::global();
        Self { inner }
    }

    #[cfg(feature = "sqlx")]
    /// A handle that does not keep the monitor alive (for hooks stored inside the pool).
    pub(crate) fn downgrade(&self) -> WeakPoolMonitor {
        WeakPoolMonitor(Arc::downgrade(&self.inner))
    }

    #[cfg(feature = "sqlx")]
    /// The live state of the pool.
    pub(crate) fn status(&self) -> &dyn PoolStatus {
        &*self.inner.status
    }

    /// The pool is about to close: from now on its gauges report the state read now, so a
    /// collection after the close (the one at shutdown) shows the pool as it was, not empty.
    /// Integrations whose pool wrapper has a `close` call this for you.
    pub fn pool_closing(&self) {
        let reading = self.inner.reading();
        let _ = self.inner.closed_reading.set(reading);
    }

    /// How long a connection may stay checked out before it counts as `long_held` (one
    /// `count_db_pool_connection_events` with `event` = `long_held` per such checkout, and one
    /// warning on stderr naming the pool, the first time); `None` turns the check off. Default
    /// [`DEFAULT_LONG_HELD_THRESHOLD`] (30 s). Checked at checkin and when the gauges are
    /// collected, so a connection that is never returned is noticed too.
    pub fn set_long_held_threshold(&self, threshold: Option<Duration>) {
        let ns = threshold.map_or(0, |t| {
            u64::try_from(t.as_nanos()).unwrap_or(u64::MAX).max(1)
        });
        self.inner.long_held_after_ns.store(ns, Ordering::Relaxed);
    }

    /// The long-held threshold, `None` when the check is off.
    pub fn long_held_threshold(&self) -> Option<Duration> {
        self.inner.long_held_threshold()
    }

    /// The pool's name.
    pub fn engine_name(&self) -> &str {
        &self.inner.engine_name
    }

    /// Checkouts not yet checked in.
    pub fn checked_out(&self) -> i64 {
        self.inner.checked_out.load(Ordering::Acquire)
    }

    /// Tasks waiting for a connection.
    pub fn waiters(&self) -> i64 {
        self.inner.waiters.load(Ordering::Relaxed)
    }

    /// The lifecycle record of connection `id`.
    pub fn lifecycle(&self, id: u64) -> Option<ConnectionLifecycle> {
        self.inner.lifecycles.get(id)
    }

    /// How many connections have a lifecycle record.
    pub fn tracked_connections(&self) -> usize {
        self.inner.lifecycles.len()
    }

    fn attributes(&self, extra: &[KeyValue]) -> Vec<KeyValue> {
        self.inner.attributes(extra)
    }

    fn count(&self, event: PoolEvent) {
        self.inner.count(event, 1);
    }

    /// Connection `id` was opened, taking `create_time` where the adapter could measure it.
    pub fn connect(&self, id: u64, create_time: Option<Duration>) {
        self.inner.lifecycles.created(id);
        if !self.inner.first_connect_seen.swap(true, Ordering::Relaxed) {
            self.count(PoolEvent::FirstConnect);
        }
        self.count(PoolEvent::Connect);
        if let (true, Some(create_time)) = (self.inner.semconv, create_time) {
            self.inner.semconv_metrics().create_time.record(
                create_time.as_secs_f64(),
                std::slice::from_ref(&self.inner.pool_name),
            );
        }
    }

    /// A task starts waiting for a connection; finish the wait with the returned guard.
    pub fn checkout_started(&self) -> CheckoutWait {
        self.inner.waiters.fetch_add(1, Ordering::Relaxed);
        CheckoutWait {
            monitor: self.clone(),
            started: Instant::now(),
            done: false,
        }
    }

    /// Connection `id` was handed out after a wait of `waited` that the pool measured itself
    /// (for pools that report a checkout only once it is done, as r2d2 does; the wait is not
    /// counted in the waiters gauge).
    pub fn checked_out_after(&self, id: u64, waited: Duration) {
        self.record_wait(waited);
        self.record_checkout(id);
    }

    /// A checkout gave up after `waited`, measured by the pool (see
    /// [`checked_out_after`](Self::checked_out_after)).
    pub fn timed_out_after(&self, waited: Duration) {
        self.record_wait(waited);
        self.record_timeout();
    }

    fn record_wait(&self, waited: Duration) {
        self.inner
            .metrics()
            .checkout_latency_ms
            .record(waited.as_secs_f64() * 1_000.0, &self.attributes(&[]));
        if self.inner.semconv {
            self.inner.semconv_metrics().wait_time.record(
                waited.as_secs_f64(),
                std::slice::from_ref(&self.inner.pool_name),
            );
        }
    }

    fn record_checkout(&self, id: u64) {
        self.inner.checked_out.fetch_add(1, Ordering::Relaxed);
        self.inner.lifecycles.checked_out(id);
        self.count(PoolEvent::Checkout);
    }

    fn record_timeout(&self) {
        self.inner
            .metrics()
            .checkout_timeouts
            .add(1, &self.attributes(&[]));
        if self.inner.semconv {
            self.inner
                .semconv_metrics()
                .timeouts
                .add(1, std::slice::from_ref(&self.inner.pool_name));
        }
        self.error("PoolTimedOut");
    }

    /// Connection `id` came back to the pool.
    pub fn checkin(&self, id: u64) {
        let checked_in = self.inner.lifecycles.checked_in(id);
        let metrics = self.inner.metrics();
        if let Some((used, reported)) = checked_in {
            let used = Duration::from_nanos(u64::try_from(used).unwrap_or(u64::MAX));
            if !reported && self.inner.long_held_threshold().is_some_and(|t| used > t) {
                self.inner.long_held(1);
            }
            metrics
                .connection_duration_ms
                .record(used.as_secs_f64() * 1_000.0, &self.attributes(&[]));
            if self.inner.semconv {
                self.inner.semconv_metrics().use_time.record(
                    used.as_secs_f64(),
                    std::slice::from_ref(&self.inner.pool_name),
                );
            }
        }
        self.count(PoolEvent::Checkin);
        // Last, so that whoever sees the connection back has its check-in recorded too.
        self.inner.checked_out.fetch_sub(1, Ordering::Release);
    }

    /// Connection `id` was found broken (`error_type`) and discarded.
    pub fn invalidate(&self, id: u64, error_type: &str) {
        self.inner.lifecycles.removed(id);
        self.count(PoolEvent::Invalidate);
        self.error(error_type);
    }

    /// Connection `id` was retired (lifetime or idle limit).
    pub fn soft_invalidate(&self, id: u64) {
        self.inner.lifecycles.removed(id);
        self.count(PoolEvent::SoftInvalidate);
    }

    /// Connection `id` was closed.
    pub fn close(&self, id: u64) {
        let detached = self
            .inner
            .lifecycles
            .removed(id)
            .is_some_and(|r| r.detached);
        self.count(if detached {
            PoolEvent::CloseDetached
        } else {
            PoolEvent::Close
        });
    }

    /// Retires connection `id` as `how` — a guess that the pool closed it unseen — unless it is
    /// checked out right now (then it is in use, not closed). Whether it was retired.
    #[cfg(feature = "sqlx")]
    pub(crate) fn retire_unless_checked_out(&self, id: u64, how: Retirement<'_>) -> bool {
        let Some(record) = self.inner.lifecycles.removed_unless_checked_out(id) else {
            return false;
        };
        match how {
            Retirement::Invalidate(error_type) => {
                self.count(PoolEvent::Invalidate);
                self.error(error_type);
            }
            Retirement::SoftInvalidate => self.count(PoolEvent::SoftInvalidate),
            Retirement::Close => self.count(if record.is_some_and(|r| r.detached) {
                PoolEvent::CloseDetached
            } else {
                PoolEvent::Close
            }),
        }
        true
    }

    /// Connection `id` left the pool's management.
    pub fn detach(&self, id: u64) {
        self.inner.lifecycles.detached(id);
        self.count(PoolEvent::Detach);
    }

    /// Connection `id` was reset on return.
    pub fn reset(&self, _id: u64) {
        self.count(PoolEvent::Reset);
    }

    /// Counts a pool error of `error_type`.
    pub fn error(&self, error_type: &str) {
        self.inner.metrics().connection_errors.add(
            1,
            &self.attributes(&[KeyValue::new(EXCEPTION_TYPE_KEY, error_type.to_owned())]),
        );
    }
}

#[cfg(feature = "sqlx")]
/// A monitor held by the pool's own hooks, which must not keep the pool alive through it.
#[derive(Clone, Debug)]
pub(crate) struct WeakPoolMonitor(Weak<MonitorInner>);

#[cfg(feature = "sqlx")]
impl WeakPoolMonitor {
    /// The monitor, while its pool wrapper lives.
    pub(crate) fn upgrade(&self) -> Option<PoolMonitor> {
        self.0.upgrade().map(|inner| PoolMonitor { inner })
    }
}

/// A task waiting for a connection. Dropped without an outcome, the wait counts as abandoned.
#[derive(Debug)]
pub struct CheckoutWait {
    monitor: PoolMonitor,
    started: Instant,
    done: bool,
}

impl CheckoutWait {
    #[cfg(feature = "sqlx")]
    /// When the wait began.
    pub(crate) fn started(&self) -> Instant {
        self.started
    }

    fn end(&mut self) -> Duration {
        self.done = true;
        self.monitor.inner.waiters.fetch_sub(1, Ordering::Relaxed);
        let waited = self.started.elapsed();
        self.monitor.record_wait(waited);
        waited
    }

    /// The task got connection `id`.
    pub fn checked_out(mut self, id: u64) -> Duration {
        let waited = self.end();
        self.monitor.record_checkout(id);
        waited
    }

    /// The wait timed out.
    pub fn timed_out(mut self) -> Duration {
        let waited = self.end();
        self.monitor.record_timeout();
        waited
    }

    /// The checkout failed with `error_type`.
    pub fn failed(mut self, error_type: &str) -> Duration {
        let waited = self.end();
        self.monitor.error(error_type);
        waited
    }
}

impl Drop for CheckoutWait {
    fn drop(&mut self) {
        if !self.done {
            self.end();
        }
    }
}
/// How a connection leaves the pool's records: found broken, retired, or closed.
#[cfg(feature = "sqlx")]
#[derive(Clone, Copy, Debug)]
pub(crate) enum Retirement<'a> {
    /// Found broken (`error_type`).
    Invalidate(&'a str),
    /// Past its lifetime.
    SoftInvalidate,
    /// Idle too long, or closed with the pool.
    Close,
}
