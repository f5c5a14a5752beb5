//! A checked-out connection and a transaction of an [`InstrumentedPool`]: their statements are
//! traced, and giving the connection back is the monitor's checkin.

use std::fmt;
use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{Database, Error, Transaction};

use super::monitor::Checkout;
use super::{InstrumentedPool, SqlxDriver, query_error};
use crate::db::transaction::TransactionSpan;

/// A checked-out connection whose statements are traced (`&mut conn` is an executor). Dropping
/// it checks it in.
pub struct InstrumentedConnection<DB: sqlx::Database> {
    // Declared first so that the checkin is counted before the connection goes back.
    checkout: Option<Checkout>,
    conn: PoolConnection<DB>,
    pub(super) pool: InstrumentedPool<DB>,
}

impl<DB: Database> fmt::Debug for InstrumentedConnection<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedConnection")
            .field("id", &self.id())
            .field("target", &self.pool.target)
            .finish_non_exhaustive()
    }
}

impl<DB: Database> InstrumentedConnection<DB> {
    pub(super) fn new(
        conn: PoolConnection<DB>,
        checkout: Option<Checkout>,
        pool: InstrumentedPool<DB>,
    ) -> Self {
        Self {
            checkout,
            conn,
            pool,
        }
    }

    /// The monitor's id of this connection, when the pool has a monitor.
    pub fn id(&self) -> Option<u64> {
        self.checkout.as_ref().map(Checkout::id)
    }

    pub(super) fn into_parts(self) -> (PoolConnection<DB>, Option<Checkout>) {
        (self.conn, self.checkout)
    }

    pub(super) fn raw(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }
}

impl<DB: SqlxDriver> InstrumentedConnection<DB> {
    /// Starts a traced transaction on this connection.
    pub async fn begin(&mut self) -> Result<InstrumentedTransaction<'_, DB>, Error> {
        let span = transaction_span(&self.pool, 0);
        let begun = sqlx::Connection::begin(&mut *self.conn).await;
        opened(begun, &self.pool, span, None)
    }

    /// Checks the connection in and closes it, letting the pool open a replacement.
    pub async fn close(self) -> Result<(), Error> {
        let pool = self.pool.clone();
        let (conn, checkout) = self.into_parts();
        match (pool.monitoring.as_deref(), checkout) {
            (Some(monitoring), Some(checkout)) => monitoring.close_connection(conn, checkout).await,
            _ => conn.close().await,
        }
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
pub struct InstrumentedTransaction<'c, DB: sqlx::Database> {
    // Held for its drop, declared first so that the checkin is counted before the connection
    // goes back.
    _checkout: Option<Checkout>,
    tx: Option<Transaction<'c, DB>>,
    pub(super) pool: InstrumentedPool<DB>,
    pub(super) span: TransactionSpan,
}

impl<DB: Database> fmt::Debug for InstrumentedTransaction<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedTransaction")
            .field("target", &self.pool.target)
            .field("depth", &self.span.depth())
            .finish_non_exhaustive()
    }
}

/// The span of a transaction at `depth` on `pool` (inactive when the pool does not trace).
pub(super) fn transaction_span<DB: SqlxDriver>(
    pool: &InstrumentedPool<DB>,
    depth: u32,
) -> TransactionSpan {
    if pool.trace_statements {
        TransactionSpan::start(&pool.target, depth)
    } else {
        TransactionSpan::inactive(depth)
    }
}

/// The traced transaction `begun` opened, or its error recorded on `span`.
pub(super) fn opened<'c, DB: Database>(
    begun: Result<Transaction<'c, DB>, Error>,
    pool: &InstrumentedPool<DB>,
    span: TransactionSpan,
    checkout: Option<Checkout>,
) -> Result<InstrumentedTransaction<'c, DB>, Error> {
    match begun {
        Ok(tx) => Ok(InstrumentedTransaction {
            _checkout: checkout,
            tx: Some(tx),
            pool: pool.clone(),
            span,
        }),
        Err(error) => {
            span.fail(&query_error(&error));
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
            .end("commit", result.as_ref().err().map(query_error));
        result
    }

    /// Rolls back, ending the span with outcome `rollback`.
    pub async fn rollback(mut self) -> Result<(), Error> {
        let result = self.tx.take().expect(OPEN).rollback().await;
        self.span
            .end("rollback", result.as_ref().err().map(query_error));
        result
    }

    /// Starts a nested transaction (a savepoint), traced as a child span.
    pub async fn begin(&mut self) -> Result<InstrumentedTransaction<'_, DB>, Error> {
        let span = {
            let _parent = self.span.attach();
            transaction_span(&self.pool, self.span.depth() + 1)
        };
        let begun = sqlx::Connection::begin(&mut **self.tx.as_mut().expect(OPEN)).await;
        opened(begun, &self.pool, span, None)
    }

    pub(super) fn raw(&mut self) -> &mut DB::Connection {
        self.tx.as_mut().expect(OPEN)
    }
}

impl<DB: Database> Drop for InstrumentedTransaction<'_, DB> {
    fn drop(&mut self) {
        if self.tx.is_some() {
            self.span.end("implicit_rollback", None);
        }
    }
}

impl<DB: SqlxDriver> InstrumentedPool<DB> {
    /// Checks out a connection: counted by the monitor (with its wait), its statements traced.
    pub async fn acquire(&self) -> Result<InstrumentedConnection<DB>, Error> {
        let (conn, checkout) = match &self.monitoring {
            Some(monitoring) => {
                let (conn, checkout) = monitoring.acquire(&self.pool).await?;
                (conn, Some(checkout))
            }
            None => (self.pool.acquire().await?, None),
        };
        Ok(InstrumentedConnection::new(conn, checkout, self.clone()))
    }

    /// Starts a traced transaction on a checked-out connection.
    pub async fn begin(&self) -> Result<InstrumentedTransaction<'static, DB>, Error> {
        let span = transaction_span(self, 0);
        let conn = match self.acquire().await {
            Ok(conn) => conn,
            Err(error) => {
                span.fail(&query_error(&error));
                return Err(error);
            }
        };
        let (conn, checkout) = conn.into_parts();
        let begun = sqlx::Transaction::begin(conn, None).await;
        opened(begun, self, span, checkout)
    }
}

impl<DB: Database> InstrumentedConnection<DB> {
    /// Takes the connection out of the pool (sqlx's `PoolConnection::detach`), which may then
    /// open a replacement. The monitor counts the checkin, `detach`, and `close_detached` at once,
    /// since the pool will not see the connection again.
    pub fn detach(self) -> DB::Connection {
        let pool = self.pool.clone();
        let (conn, checkout) = self.into_parts();
        if let (Some(monitoring), Some(checkout)) = (pool.monitoring.as_deref(), checkout) {
            monitoring.detach_connection(checkout);
        }
        conn.detach()
    }
}
