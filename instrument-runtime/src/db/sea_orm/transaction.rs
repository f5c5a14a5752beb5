//! A SeaORM transaction as a span from `begin` to `commit` / `rollback` (or its drop, an implicit
//! rollback), carrying its unit of work: the rows its statements inserted, updated and deleted.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::TraceContextExt;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, IsolationLevel,
    QueryResult, Statement, StreamTrait, TransactionError, TransactionOptions, TransactionSession,
    TransactionTrait,
};

use super::Shared;
use super::run::{Scope, Started, TracedStream, db_error, is_pool_timeout, run, traced_stream};
use crate::db::orm::UnitOfWork;
use crate::db::transaction::TransactionSpan;

/// A transaction (or a savepoint in one) on a [`Database`](super::Database): its statements are
/// children of its span, which ends at `commit` / `rollback` with the outcome, the statement
/// count and the flush counts (`db.orm.flush.new|dirty|deleted`, `db.orm.flush.large`).
#[derive(Debug)]
pub struct Transaction {
    inner: DatabaseTransaction,
    shared: Arc<Shared>,
    cx: Context,
    flush: Flush,
}

/// The span of a transaction and what it counts, recorded when it ends.
#[derive(Debug)]
struct Flush {
    span: TransactionSpan,
    statements: AtomicU64,
    unit: UnitOfWork,
    ended: bool,
}

impl Flush {
    /// Records the counts and ends the span with `outcome`.
    fn end(&mut self, outcome: &'static str, error: Option<&DbErr>) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        self.span
            .set_statement_count(self.statements.load(Ordering::Relaxed));
        if let Some(cx) = self.span.context() {
            self.unit.record(&cx.span());
        }
        self.span.end(outcome, error.map(db_error));
    }
}

impl Drop for Flush {
    fn drop(&mut self) {
        self.end("implicit_rollback", None);
    }
}

impl Transaction {
    pub(super) fn new(
        inner: DatabaseTransaction,
        shared: Arc<Shared>,
        span: TransactionSpan,
    ) -> Self {
        let cx = span.context().cloned().unwrap_or_else(Context::current);
        Self {
            inner,
            shared,
            cx,
            flush: Flush {
                span,
                statements: AtomicU64::new(0),
                unit: UnitOfWork::default(),
                ended: false,
            },
        }
    }

    fn scope(&self) -> Scope<'_> {
        self.flush.statements.fetch_add(1, Ordering::Relaxed);
        Scope {
            shared: &self.shared,
            transaction: Some((&self.cx, &self.flush.unit)),
        }
    }

    /// Rows inserted, updated and deleted in this transaction so far.
    pub fn flush_counts(&self) -> (u64, u64, u64) {
        self.flush.unit.counts()
    }

    /// Commits, and ends the span with outcome `commit` (or `failed`).
    pub async fn commit(self) -> Result<(), DbErr> {
        let Transaction {
            inner,
            cx,
            mut flush,
            ..
        } = self;
        let result = inner.commit().with_context(cx).await;
        flush.end(
            if result.is_ok() { "commit" } else { "failed" },
            result.as_ref().err(),
        );
        result
    }

    /// Rolls back, and ends the span with outcome `rollback` (or `failed`).
    pub async fn rollback(self) -> Result<(), DbErr> {
        let Transaction {
            inner,
            cx,
            mut flush,
            ..
        } = self;
        let result = inner.rollback().with_context(cx).await;
        flush.end(
            if result.is_ok() { "rollback" } else { "failed" },
            result.as_ref().err(),
        );
        result
    }

    fn depth(&self) -> u32 {
        self.flush.span.depth()
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Transaction {
    fn get_database_backend(&self) -> DbBackend {
        ConnectionTrait::get_database_backend(&self.inner)
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        run(self.scope(), stmt, |stmt| self.inner.execute_raw(stmt)).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let scope = self.scope();
        let started = Started::begin(scope, sql, None);
        let result = started
            .around(scope, self.inner.execute_unprepared(sql))
            .await;
        started.end(scope, &result);
        result
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        run(self.scope(), stmt, |stmt| self.inner.query_one_raw(stmt)).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        run(self.scope(), stmt, |stmt| self.inner.query_all_raw(stmt)).await
    }

    fn support_returning(&self) -> bool {
        self.inner.support_returning()
    }
}

#[async_trait::async_trait]
impl TransactionSession for Transaction {
    async fn commit(self) -> Result<(), DbErr> {
        Transaction::commit(self).await
    }

    async fn rollback(self) -> Result<(), DbErr> {
        Transaction::rollback(self).await
    }
}

#[async_trait::async_trait]
impl TransactionTrait for Transaction {
    type Transaction = Transaction;

    async fn begin(&self) -> Result<Transaction, DbErr> {
        let begin = self.inner.begin();
        begun(&self.shared, Some(&self.cx), self.depth() + 1, begin).await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<Transaction, DbErr> {
        let begin = self.inner.begin_with_config(isolation_level, access_mode);
        begun(&self.shared, Some(&self.cx), self.depth() + 1, begin).await
    }

    async fn begin_with_options(&self, options: TransactionOptions) -> Result<Transaction, DbErr> {
        let begin = self.inner.begin_with_options(options);
        begun(&self.shared, Some(&self.cx), self.depth() + 1, begin).await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c Transaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let transaction = self.begin().await.map_err(TransactionError::Connection)?;
        run_in(transaction, callback).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c Transaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let transaction = self
            .begin_with_config(isolation_level, access_mode)
            .await
            .map_err(TransactionError::Connection)?;
        run_in(transaction, callback).await
    }
}

impl StreamTrait for Transaction {
    type Stream<'a> = TracedStream<<DatabaseTransaction as StreamTrait>::Stream<'a>>;

    fn get_database_backend(&self) -> DbBackend {
        ConnectionTrait::get_database_backend(&self.inner)
    }

    fn stream_raw<'a>(
        &'a self,
        stmt: Statement,
    ) -> Pin<Box<dyn Future<Output = Result<Self::Stream<'a>, DbErr>> + 'a + Send>> {
        Box::pin(traced_stream(self.scope(), &self.inner, stmt))
    }
}

/// Begins a transaction (`depth` 0) or savepoint on `begin`'s connection, its span started first
/// and current while it begins.
pub(super) async fn begun<F>(
    shared: &std::sync::Arc<Shared>,
    parent: Option<&opentelemetry::Context>,
    depth: u32,
    begin: F,
) -> Result<Transaction, DbErr>
where
    F: Future<Output = Result<DatabaseTransaction, DbErr>>,
{
    let span = {
        let _parent = parent.map(|cx| cx.clone().attach());
        if shared.traced {
            TransactionSpan::start(&shared.target, depth)
        } else {
            TransactionSpan::inactive(depth)
        }
    };
    let cx = span
        .context()
        .cloned()
        .unwrap_or_else(opentelemetry::Context::current);
    let begin = begin.with_context(cx);
    let begun = match (&shared.checkouts, parent) {
        (Some(checkouts), None) => checkouts.run(begin, is_pool_timeout).await,
        _ => begin.await,
    };
    match begun {
        Ok(inner) => Ok(Transaction::new(inner, shared.clone(), span)),
        Err(error) => {
            span.fail(&db_error(&error));
            Err(error)
        }
    }
}

/// Runs `callback` in `transaction`, then commits (`Ok`) or rolls back (`Err`), as SeaORM does.
pub(super) async fn run_in<F, T, E>(
    transaction: Transaction,
    callback: F,
) -> Result<T, TransactionError<E>>
where
    F: for<'c> FnOnce(&'c Transaction) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
        + Send,
    T: Send,
    E: std::fmt::Display + std::fmt::Debug + Send,
{
    let result = callback(&transaction)
        .await
        .map_err(TransactionError::Transaction);
    if result.is_ok() {
        transaction
            .commit()
            .await
            .map_err(TransactionError::Connection)?;
    } else {
        transaction
            .rollback()
            .await
            .map_err(TransactionError::Connection)?;
    }
    result
}
