//! sqlx instrumentation (feature `sqlx`, drivers `sqlx-sqlite`, `sqlx-postgres`).
//!
//! Wrap a pool once — `InstrumentedPool::new(pool)` or `pool.instrumented()` — and use it where
//! the pool was used: `sqlx::query(..).fetch_all(&pool)`, `query_as`, `begin()` (then `&mut tx`),
//! `acquire()` (then `&mut conn`). Every statement becomes a CLIENT span and a
//! `db.client.operation.duration` measurement; a transaction is a span from `begin` to
//! `commit`/`rollback`, savepoints nest, and a transaction dropped without either is recorded as
//! an implicit rollback.

mod driver;
mod traced;

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use sqlx::pool::PoolConnection;
use sqlx::{Database, Either, Error, Execute, Executor, Pool, SqlStr, Transaction};

pub use driver::SqlxDriver;
pub(crate) use traced::query_error;

use super::query::DbTarget;
use super::transaction::TransactionSpan;

/// A sqlx pool whose statements are traced. Cheap to clone, like the pool.
///
/// ```no_run
/// # async fn demo(pool: sqlx::SqlitePool) -> Result<(), sqlx::Error> {
/// use instrument_runtime::db::sqlx::PoolExt;
/// let pool = pool.instrumented();
/// let rows = sqlx::query("SELECT id FROM users WHERE org = ?").bind("org-1").fetch_all(&pool).await?;
/// let mut tx = pool.begin().await?;
/// sqlx::query("UPDATE users SET seen = 1").execute(&mut tx).await?;
/// tx.commit().await?;
/// # drop(rows); Ok(()) }
/// ```
#[derive(Clone)]
pub struct InstrumentedPool<DB: Database> {
    pool: Pool<DB>,
    target: Arc<DbTarget>,
}

impl<DB: Database> fmt::Debug for InstrumentedPool<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedPool")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl<DB: SqlxDriver> InstrumentedPool<DB> {
    /// Wraps `pool`.
    pub fn new(pool: Pool<DB>) -> Self {
        let target = Arc::new(DB::target(&pool.connect_options()));
        Self { pool, target }
    }

    /// The database the pool talks to, as the spans name it.
    pub fn target(&self) -> &DbTarget {
        &self.target
    }

    /// The wrapped pool (its statements are not traced).
    pub fn inner(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Starts a traced transaction.
    pub async fn begin(&self) -> Result<InstrumentedTransaction<'static, DB>, Error> {
        let span = TransactionSpan::start(&self.target, 0);
        opened(self.pool.begin().await, &self.target, span)
    }

    /// Checks out a connection whose statements are traced.
    pub async fn acquire(&self) -> Result<InstrumentedConnection<DB>, Error> {
        Ok(InstrumentedConnection {
            conn: self.pool.acquire().await?,
            target: self.target.clone(),
        })
    }
}

impl<DB: Database> Deref for InstrumentedPool<DB> {
    type Target = Pool<DB>;

    fn deref(&self) -> &Pool<DB> {
        &self.pool
    }
}

/// Adopting the wrapper in one call: `pool.instrumented()`.
pub trait PoolExt<DB: SqlxDriver> {
    /// This pool, traced.
    fn instrumented(self) -> InstrumentedPool<DB>;
}

impl<DB: SqlxDriver> PoolExt<DB> for Pool<DB> {
    fn instrumented(self) -> InstrumentedPool<DB> {
        InstrumentedPool::new(self)
    }
}

/// A pooled connection whose statements are traced (`&mut conn` is an executor).
pub struct InstrumentedConnection<DB: Database> {
    conn: PoolConnection<DB>,
    target: Arc<DbTarget>,
}

impl<DB: Database> fmt::Debug for InstrumentedConnection<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedConnection")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl<DB: SqlxDriver> InstrumentedConnection<DB> {
    /// Starts a traced transaction on this connection.
    pub async fn begin(&mut self) -> Result<InstrumentedTransaction<'_, DB>, Error> {
        let span = TransactionSpan::start(&self.target, 0);
        opened(
            sqlx::Connection::begin(&mut *self.conn).await,
            &self.target,
            span,
        )
    }

    /// The pooled connection, no longer traced.
    pub fn into_inner(self) -> PoolConnection<DB> {
        self.conn
    }
}

impl<DB: Database> Deref for InstrumentedConnection<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        &self.conn
    }
}

impl<DB: Database> DerefMut for InstrumentedConnection<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }
}

/// A traced transaction (`&mut tx` is an executor). Ends with [`commit`](Self::commit) or
/// [`rollback`](Self::rollback); dropped without either, it is rolled back by sqlx and recorded
/// as `implicit_rollback`.
pub struct InstrumentedTransaction<'c, DB: Database> {
    tx: Option<Transaction<'c, DB>>,
    target: Arc<DbTarget>,
    span: TransactionSpan,
}

impl<DB: Database> fmt::Debug for InstrumentedTransaction<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedTransaction")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// The traced transaction `begun` opened, or its error recorded on `span`.
fn opened<'c, DB: Database>(
    begun: Result<Transaction<'c, DB>, Error>,
    target: &Arc<DbTarget>,
    span: TransactionSpan,
) -> Result<InstrumentedTransaction<'c, DB>, Error> {
    match begun {
        Ok(tx) => Ok(InstrumentedTransaction {
            tx: Some(tx),
            target: target.clone(),
            span,
        }),
        Err(error) => {
            span.fail(&traced::query_error(&error));
            Err(error)
        }
    }
}

const OPEN: &str = "a transaction stays open until commit or rollback consumes it";

impl<'c, DB: SqlxDriver> InstrumentedTransaction<'c, DB> {
    /// Commits, ending the span with outcome `commit`.
    pub async fn commit(mut self) -> Result<(), Error> {
        let result = self.tx.take().expect(OPEN).commit().await;
        self.span
            .end("commit", result.as_ref().err().map(traced::query_error));
        result
    }

    /// Rolls back, ending the span with outcome `rollback`.
    pub async fn rollback(mut self) -> Result<(), Error> {
        let result = self.tx.take().expect(OPEN).rollback().await;
        self.span
            .end("rollback", result.as_ref().err().map(traced::query_error));
        result
    }

    /// Starts a nested transaction (a savepoint), traced as a child span.
    pub async fn begin(&mut self) -> Result<InstrumentedTransaction<'_, DB>, Error> {
        let span = {
            let _parent = self.span.attach();
            TransactionSpan::start(&self.target, self.span.depth() + 1)
        };
        opened(
            sqlx::Connection::begin(&mut **self.tx.as_mut().expect(OPEN)).await,
            &self.target,
            span,
        )
    }
}

impl<DB: Database> Drop for InstrumentedTransaction<'_, DB> {
    fn drop(&mut self) {
        if self.tx.is_some() {
            self.span.end("implicit_rollback", None);
        }
    }
}

/// The `Executor` methods of a traced executor: `$executor` gives the real executor and
/// `$target` the database, with `$this` bound to `self`; statements run with `$parent` current.
macro_rules! traced_executor_methods {
    (|$this:ident| executor: $executor:expr, target: $target:expr, parent: $parent:expr) => {
        type Database = DB;

        fn fetch_many<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, Error>>
        where
            'x: 'e,
            E: 'q + Execute<'q, DB>,
        {
            let $this = self;
            let _parent = $parent;
            let target = $target;
            traced::fetch_many($executor, &target, query)
        }

        fn fetch_optional<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxFuture<'e, Result<Option<DB::Row>, Error>>
        where
            'x: 'e,
            E: 'q + Execute<'q, DB>,
        {
            let $this = self;
            let _parent = $parent;
            let target = $target;
            traced::fetch_optional($executor, &target, query)
        }

        fn prepare_with<'e>(
            self,
            sql: SqlStr,
            parameters: &'e [DB::TypeInfo],
        ) -> BoxFuture<'e, Result<DB::Statement, Error>>
        where
            'x: 'e,
        {
            let $this = self;
            $executor.prepare_with(sql, parameters)
        }

        fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<DB>, Error>>
        where
            'x: 'e,
        {
            let $this = self;
            $executor.describe(sql)
        }
    };
}

impl<'x, DB> Executor<'x> for &'x InstrumentedPool<DB>
where
    DB: SqlxDriver,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    traced_executor_methods!(|this| executor: &this.pool, target: this.target.clone(), parent: ());
}

impl<'x, DB> Executor<'x> for &'x mut InstrumentedConnection<DB>
where
    DB: SqlxDriver,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    traced_executor_methods!(|this| executor: &mut *this.conn, target: this.target.clone(), parent: ());
}

impl<'x, DB> Executor<'x> for &'x mut InstrumentedTransaction<'_, DB>
where
    DB: SqlxDriver,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    traced_executor_methods!(
        |this| executor: &mut **this.tx.as_mut().expect(OPEN),
        target: this.target.clone(),
        parent: this.span.statement()
    );
}
