//! sqlx instrumentation (feature `sqlx`, drivers `sqlx-sqlite`, `sqlx-postgres`): one pool type,
//! [`InstrumentedPool`], that traces statements and monitors the pool, each switchable.
//!
//! Build it from the pool's options — `options.instrumented("main").connect(url)` — and use it
//! where the pool was: `sqlx::query(..).fetch_all(&pool)`, `query_as`, `begin()` (then
//! `&mut tx`), `acquire()` (then `&mut conn`). Every statement becomes a CLIENT span and a
//! `db.client.operation.duration` measurement; a transaction is a span from `begin` to
//! `commit`/`rollback`, savepoints nest, and a transaction dropped without either is recorded
//! as an implicit rollback. Every path that takes a connection (`&pool` as an executor,
//! `acquire()`, `begin()`) is one checkout for the pool monitor, and giving the connection back
//! is its checkin. The pool is `Clone` for every driver (cheap, like `sqlx::Pool`), so it can be
//! axum state.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sqlx::Error> {
//! use instrument::db::sqlx::PoolOptionsExt;
//!
//! let pool = sqlx::sqlite::SqlitePoolOptions::new()
//!     .max_connections(5)
//!     .instrumented("main")
//!     .connect("sqlite::memory:")
//!     .await?;
//! let rows = sqlx::query("SELECT 1").fetch_all(&pool).await?;
//! let mut tx = pool.begin().await?;
//! sqlx::query("SELECT 2").execute(&mut tx).await?;
//! tx.commit().await?;
//! # drop(rows); Ok(()) }
//! ```

mod connection;
mod driver;
mod executor;
mod monitor;
mod options;
mod traced;

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use sqlx::Pool;

pub use connection::{InstrumentedConnection, InstrumentedTransaction};
pub use driver::SqlxDriver;
pub use monitor::RELEASE_PING_FAILED;
pub use options::{InstrumentedPoolOptions, PoolOptionsExt};
pub(crate) use traced::query_error;

use super::target::DbTarget;
use crate::pool::PoolMonitor;
use monitor::Monitoring;
#[cfg(feature = "sea-orm")]
pub(crate) use monitor::OutOfSightCheckouts;

/// A sqlx pool whose statements are traced and whose connections a [`PoolMonitor`] watches.
/// Cheap to clone, like the pool, for every driver.
pub struct InstrumentedPool<DB: sqlx::Database> {
    pool: Pool<DB>,
    target: Arc<DbTarget>,
    trace_statements: bool,
    monitoring: Option<Arc<Monitoring<DB>>>,
}

impl<DB: sqlx::Database> Clone for InstrumentedPool<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            target: self.target.clone(),
            trace_statements: self.trace_statements,
            monitoring: self.monitoring.clone(),
        }
    }
}

/// One short line (`InstrumentedPool(sqlite app.db)`): a pool is a common parameter of an
/// instrumented fn, and its parameter value should name the database, not dump the wrapper.
impl<DB: sqlx::Database> fmt::Debug for InstrumentedPool<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstrumentedPool({}", self.target.system)?;
        if let Some(namespace) = &self.target.namespace {
            write!(f, " {namespace}")?;
        }
        if let Some(address) = &self.target.server_address {
            write!(f, " at {address}")?;
        }
        write!(f, ")")
    }
}

impl<DB: SqlxDriver> InstrumentedPool<DB> {
    /// Wraps a pool that exists already: its statements are traced, but it has no monitor (the
    /// monitor's hooks go in before the pool connects: use
    /// [`PoolOptionsExt::instrumented`] for both).
    pub fn new(pool: Pool<DB>) -> Self {
        Self::assemble(pool, true, None)
    }

    fn assemble(
        pool: Pool<DB>,
        trace_statements: bool,
        monitoring: Option<Monitoring<DB>>,
    ) -> Self {
        let target = Arc::new(DB::target(&pool.connect_options()));
        if let Some(monitoring) = &monitoring {
            monitoring.connected(&pool);
        }
        Self {
            pool,
            target,
            trace_statements,
            monitoring: monitoring.map(Arc::new),
        }
    }

    /// The database the pool talks to, as the spans name it.
    pub fn target(&self) -> &DbTarget {
        &self.target
    }

    /// Whether statements are traced.
    pub fn traces_statements(&self) -> bool {
        self.trace_statements
    }

    /// The pool monitor, when the pool has one.
    pub fn monitor(&self) -> Option<&PoolMonitor> {
        self.monitoring.as_deref().map(Monitoring::monitor)
    }

    /// The id the monitor gives each open connection, oldest first (empty without a monitor).
    pub fn connection_ids(&self) -> Vec<u64> {
        self.monitoring
            .as_deref()
            .map(Monitoring::connection_ids)
            .unwrap_or_default()
    }

    /// The wrapped pool: what runs on it directly is neither traced nor counted.
    pub fn inner(&self) -> &Pool<DB> {
        &self.pool
    }

    /// What counts the checkouts of work that acquires from the wrapped pool itself (a SeaORM
    /// connection over it), when the pool has a monitor.
    #[cfg(feature = "sea-orm")]
    pub(crate) fn out_of_sight_checkouts(&self) -> Option<OutOfSightCheckouts> {
        self.monitoring.as_ref().map(Monitoring::out_of_sight)
    }

    /// Closes the pool; with a monitor, every connection it held counts as closed.
    pub async fn close(&self) {
        if let Some(monitoring) = &self.monitoring {
            monitoring.closing();
        }
        self.pool.close().await;
        if let Some(monitoring) = &self.monitoring {
            monitoring.closed();
        }
    }
}

impl<DB: sqlx::Database> Deref for InstrumentedPool<DB> {
    type Target = Pool<DB>;

    fn deref(&self) -> &Pool<DB> {
        &self.pool
    }
}

/// Wrapping a pool that exists already in one call: `pool.instrumented()` (traced, without a
/// monitor; see [`PoolOptionsExt`] for both).
pub trait PoolExt<DB: SqlxDriver> {
    /// This pool, its statements traced.
    fn instrumented(self) -> InstrumentedPool<DB>;
}

impl<DB: SqlxDriver> PoolExt<DB> for Pool<DB> {
    fn instrumented(self) -> InstrumentedPool<DB> {
        InstrumentedPool::new(self)
    }
}
