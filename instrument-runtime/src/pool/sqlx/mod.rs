//! The pool monitor on a sqlx pool (feature `sqlx`).
//!
//! One call on the pool's options adopts it: `options.monitored("main").connect(url)` gives a
//! [`MonitoredPool`], used where the pool was (`fetch_all(&pool)`, `pool.acquire()`). The monitor
//! takes over sqlx's `after_connect`, `before_acquire` and `after_release` hooks (give the
//! application's own hooks to [`MonitoredPoolOptions`], which runs them inside its own) and its
//! `test_before_acquire` ping, so that it sees every connection open, every failed health check
//! (`invalidate` with the error's type) and every return (`reset`). Its `acquire` sees every
//! checkout, the wait and timeouts (`PoolTimedOut`); dropping the connection is the checkin.
//! Connections sqlx closes without a hook are noticed when the pool holds fewer than the monitor
//! knows: past `max_lifetime` as `soft_invalidate`, past `idle_timeout` as `close`, others (a
//! failed ping at release) as `invalidate` with `exception_type` [`RELEASE_PING_FAILED`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), sqlx::Error> {
//! use instrument_runtime::pool::sqlx::PoolOptionsExt;
//! let pool = sqlx::sqlite::SqlitePoolOptions::new()
//!     .max_connections(5)
//!     .monitored("main")
//!     .connect("sqlite::memory:")
//!     .await?;
//! let mut conn = pool.acquire().await?;
//! sqlx::query("SELECT 1").execute(&mut *conn).await?;
//! drop(conn);
//! sqlx::query("SELECT 2").execute(&pool).await?;
//! # Ok(()) }
//! ```

mod generated;
mod handoff;
mod hooks;
mod ids;

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::StreamExt;
use sqlx::pool::{PoolConnection, PoolConnectionMetadata, PoolOptions};
use sqlx::{Connection, Database, Either, Error, Execute, Executor, Pool, SqlStr};

pub use hooks::RELEASE_PING_FAILED;

use super::{PoolMonitor, PoolStatus};
use crate::db::sqlx::query_error;
use hooks::{Tracker, UserHook};

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

/// Adopting the monitor in one call: `options.monitored("main")`.
pub trait PoolOptionsExt<DB: Database> {
    /// These options, for a pool watched by a monitor named `engine_name`.
    fn monitored(self, engine_name: impl Into<String>) -> MonitoredPoolOptions<DB>;
}

impl<DB: Database> PoolOptionsExt<DB> for PoolOptions<DB> {
    fn monitored(self, engine_name: impl Into<String>) -> MonitoredPoolOptions<DB> {
        MonitoredPoolOptions {
            options: self,
            engine_name: engine_name.into(),
            pool_mode: "queue".to_owned(),
            semconv: false,
            after_connect: None,
            before_acquire: None,
            after_release: None,
        }
    }
}

/// sqlx pool options with a monitor; `connect` gives a [`MonitoredPool`].
pub struct MonitoredPoolOptions<DB: Database> {
    options: PoolOptions<DB>,
    engine_name: String,
    pool_mode: String,
    semconv: bool,
    after_connect: Option<UserHook<DB, ()>>,
    before_acquire: Option<UserHook<DB, bool>>,
    after_release: Option<UserHook<DB, bool>>,
}

impl<DB: Database> fmt::Debug for MonitoredPoolOptions<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitoredPoolOptions")
            .field("options", &self.options)
            .field("engine_name", &self.engine_name)
            .field("pool_mode", &self.pool_mode)
            .field("semconv", &self.semconv)
            .finish_non_exhaustive()
    }
}

impl<DB: Database> MonitoredPoolOptions<DB> {
    /// The `pool_mode` attribute (default `queue`).
    pub fn pool_mode(mut self, pool_mode: impl Into<String>) -> Self {
        self.pool_mode = pool_mode.into();
        self
    }

    /// Whether to record the semantic-convention `db.client.connection.*` family as well.
    pub fn semconv(mut self, semconv: bool) -> Self {
        self.semconv = semconv;
        self
    }

    /// The application's `after_connect` hook, run by the monitor's.
    pub fn after_connect<F>(mut self, hook: F) -> Self
    where
        F: for<'c> Fn(
                &'c mut DB::Connection,
                PoolConnectionMetadata,
            ) -> BoxFuture<'c, Result<(), Error>>
            + Send
            + Sync
            + 'static,
    {
        self.after_connect = Some(Arc::new(hook));
        self
    }

    /// The application's `before_acquire` hook, run by the monitor's.
    pub fn before_acquire<F>(mut self, hook: F) -> Self
    where
        F: for<'c> Fn(
                &'c mut DB::Connection,
                PoolConnectionMetadata,
            ) -> BoxFuture<'c, Result<bool, Error>>
            + Send
            + Sync
            + 'static,
    {
        self.before_acquire = Some(Arc::new(hook));
        self
    }

    /// The application's `after_release` hook, run by the monitor's.
    pub fn after_release<F>(mut self, hook: F) -> Self
    where
        F: for<'c> Fn(
                &'c mut DB::Connection,
                PoolConnectionMetadata,
            ) -> BoxFuture<'c, Result<bool, Error>>
            + Send
            + Sync
            + 'static,
    {
        self.after_release = Some(Arc::new(hook));
        self
    }

    /// Connects to `url`, opening the pool's first connections.
    pub async fn connect(self, url: &str) -> Result<MonitoredPool<DB>, Error> {
        self.connect_with(url.parse()?).await
    }

    /// Connects with `connect_options`, opening the pool's first connections.
    pub async fn connect_with(
        self,
        connect_options: <DB::Connection as Connection>::Options,
    ) -> Result<MonitoredPool<DB>, Error> {
        let (options, parts) = self.install();
        let pool = options.connect_with(connect_options).await?;
        Ok(parts.finish(pool))
    }

    /// A pool that opens connections when first used.
    pub fn connect_lazy_with(
        self,
        connect_options: <DB::Connection as Connection>::Options,
    ) -> MonitoredPool<DB> {
        let (options, parts) = self.install();
        parts.finish(options.connect_lazy_with(connect_options))
    }

    fn install(self) -> (PoolOptions<DB>, Parts<DB>) {
        let slot = Arc::new(OnceLock::new());
        let status = SqlxStatus {
            pool: slot.clone(),
            max: self.options.get_max_connections(),
            min: self.options.get_min_connections(),
        };
        let monitor = PoolMonitor::new(self.engine_name, self.pool_mode, status, self.semconv);
        let tracker = Arc::new(Tracker {
            ids: Default::default(),
            monitor: monitor.downgrade(),
            connected: AtomicBool::new(false),
            ping_before_acquire: self.options.get_test_before_acquire(),
            max_lifetime: self.options.get_max_lifetime(),
            idle_timeout: self.options.get_idle_timeout(),
            after_connect: self.after_connect,
            before_acquire: self.before_acquire,
            after_release: self.after_release,
        });
        let (connect, acquire, release) = (tracker.clone(), tracker.clone(), tracker.clone());
        let options = self
            .options
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
        let parts = Parts {
            slot,
            monitor,
            tracker,
        };
        (options, parts)
    }
}

/// The monitor's side of a pool being connected.
struct Parts<DB: Database> {
    slot: Arc<OnceLock<Pool<DB>>>,
    monitor: PoolMonitor,
    tracker: Arc<Tracker<DB>>,
}

impl<DB: Database> Parts<DB> {
    fn finish(self, pool: Pool<DB>) -> MonitoredPool<DB> {
        let _ = self.slot.set(pool.clone());
        self.tracker.connected.store(true, Ordering::Release);
        MonitoredPool {
            pool,
            monitor: self.monitor,
            tracker: self.tracker,
        }
    }
}

/// A sqlx pool watched by a [`PoolMonitor`]. Cheap to clone; `&pool` is an executor, and its
/// [`acquire`](Self::acquire) is the monitored checkout.
pub struct MonitoredPool<DB: Database> {
    pool: Pool<DB>,
    monitor: PoolMonitor,
    tracker: Arc<Tracker<DB>>,
}

impl<DB: Database> Clone for MonitoredPool<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            monitor: self.monitor.clone(),
            tracker: self.tracker.clone(),
        }
    }
}

impl<DB: Database> fmt::Debug for MonitoredPool<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitoredPool")
            .field("monitor", &self.monitor)
            .finish_non_exhaustive()
    }
}

impl<DB: Database> MonitoredPool<DB> {
    /// The monitor (its lifecycle records, checkouts, waiters).
    pub fn monitor(&self) -> &PoolMonitor {
        &self.monitor
    }

    /// The sqlx pool; connections taken from it directly are not counted as checkouts.
    pub fn inner(&self) -> &Pool<DB> {
        &self.pool
    }

    /// The id the monitor gives each open connection, oldest first.
    pub fn connection_ids(&self) -> Vec<u64> {
        self.tracker.ids.ids()
    }

    /// Checks a connection out, recording the wait, a timeout or a failure.
    pub async fn acquire(&self) -> Result<MonitoredConnection<DB>, Error> {
        self.tracker.reconcile(&self.monitor);
        let wait = self.monitor.checkout_started();
        let (acquired, handed_out) =
            handoff::acquire_marked(self.tracker.key(), wait.started(), self.pool.acquire()).await;
        match acquired {
            Ok(conn) => {
                let id = handed_out.unwrap_or_else(|| {
                    let id = self.tracker.ids.register(Instant::now());
                    self.monitor.connect(id, None);
                    id
                });
                wait.checked_out(id);
                Ok(MonitoredConnection {
                    conn: Some(conn),
                    id,
                    monitor: self.monitor.clone(),
                    tracker: self.tracker.clone(),
                })
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

    /// Closes the pool; every connection it held counts as closed.
    pub async fn close(&self) {
        self.pool.close().await;
        self.tracker.close_all(&self.monitor);
    }
}

impl<DB: Database> Deref for MonitoredPool<DB> {
    type Target = Pool<DB>;

    fn deref(&self) -> &Pool<DB> {
        &self.pool
    }
}

/// A checked-out connection; dropping it checks it in. `&mut *conn` is an executor.
pub struct MonitoredConnection<DB: Database> {
    conn: Option<PoolConnection<DB>>,
    id: u64,
    monitor: PoolMonitor,
    tracker: Arc<Tracker<DB>>,
}

impl<DB: Database> fmt::Debug for MonitoredConnection<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitoredConnection")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

const HELD: &str = "a monitored connection holds its connection until dropped or closed";

impl<DB: Database> MonitoredConnection<DB> {
    /// The monitor's id of this connection.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Checks the connection in and closes it, letting the pool open a replacement.
    pub async fn close(mut self) -> Result<(), Error> {
        let conn = self.conn.take().expect(HELD);
        self.monitor.checkin(self.id);
        let closed = conn.close().await;
        if self.tracker.ids.remove(self.id) {
            self.monitor.close(self.id);
        }
        closed
    }
}

impl<DB: Database> Deref for MonitoredConnection<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        self.conn.as_ref().expect(HELD)
    }
}

impl<DB: Database> DerefMut for MonitoredConnection<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.conn.as_mut().expect(HELD)
    }
}

impl<DB: Database> Drop for MonitoredConnection<DB> {
    fn drop(&mut self) {
        if self.conn.is_some() {
            self.monitor.checkin(self.id);
        }
    }
}

impl<'p, DB> Executor<'p> for &'p MonitoredPool<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        generated::generate(move |sender| async move {
            let mut conn = match self.acquire().await {
                Ok(conn) => conn,
                Err(error) => {
                    let _ = sender.send(Err(error)).await;
                    return;
                }
            };
            let mut steps = (&mut *conn).fetch_many(query);
            while let Some(step) = steps.next().await {
                if sender.send(step).await.is_err() {
                    return;
                }
            }
        })
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        Box::pin(async move { (&mut *self.acquire().await?).fetch_optional(query).await })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, Error>>
    where
        'p: 'e,
    {
        Box::pin(async move {
            (&mut *self.acquire().await?)
                .prepare_with(sql, parameters)
                .await
        })
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<DB>, Error>>
    where
        'p: 'e,
    {
        Box::pin(async move { (&mut *self.acquire().await?).describe(sql).await })
    }
}
