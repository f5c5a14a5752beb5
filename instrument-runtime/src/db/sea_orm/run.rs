//! One SeaORM statement under its spans: the relation load it is (if any), the statement's own
//! span as the load's child, the pool checkout it makes, and the rows it changed counted into
//! its transaction's unit of work.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_util::Stream;
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use sea_orm::{ConnAcquireErr, DbErr, ExecResult, QueryResult, RuntimeErr, Statement, StreamTrait};

use super::Shared;
use crate::db::orm::{LoadSpan, RowChange, UnitOfWork};
use crate::db::query::{QueryError, QueryOutcome, QuerySpan};
use crate::db::sqlx::query_error;
use crate::db::statements::statement;

/// Where a statement runs: on the connection (it checks out from the pool) or in a transaction
/// (on the transaction's connection, under its span, counted into its unit of work).
#[derive(Clone, Copy)]
pub(super) struct Scope<'a> {
    pub shared: &'a Shared,
    pub transaction: Option<(&'a Context, &'a UnitOfWork)>,
}

/// What a statement's result says of its rows.
pub(super) trait Rows {
    /// Rows returned (queries) and rows changed (statements).
    fn rows(&self) -> (Option<u64>, Option<u64>);
}

impl Rows for ExecResult {
    fn rows(&self) -> (Option<u64>, Option<u64>) {
        (None, Some(self.rows_affected()))
    }
}

impl Rows for Option<QueryResult> {
    fn rows(&self) -> (Option<u64>, Option<u64>) {
        (Some(u64::from(self.is_some())), None)
    }
}

impl Rows for Vec<QueryResult> {
    fn rows(&self) -> (Option<u64>, Option<u64>) {
        (Some(self.len() as u64), None)
    }
}

/// The spans of a statement, started.
pub(super) struct Started {
    /// What the statement does to rows, in a transaction (for its unit of work).
    change: Option<RowChange>,
    load: Option<LoadSpan>,
    query: Option<QuerySpan>,
    cx: Context,
}

impl Started {
    /// Starts the spans of `sql` (with `values` as its binds) in `scope`.
    pub(super) fn begin(scope: Scope<'_>, sql: &str, values: Option<&sea_orm::Values>) -> Self {
        let _transaction = scope.transaction.map(|(cx, _)| cx.clone().attach());
        let change = scope.transaction.and_then(|_| RowChange::of(sql));
        if !scope.shared.traced {
            return Self {
                change,
                load: None,
                query: None,
                cx: Context::current(),
            };
        }
        let target = &scope.shared.target;
        let statement = statement(sql);
        let load = statement
            .load(sql)
            .and_then(|load| LoadSpan::start(load, target.system));
        let _load = load.as_ref().map(|load| load.context().clone().attach());
        // A load's one statement is not counted under it: the load itself is.
        let query = QuerySpan::start_counted(
            target,
            sql,
            move || statement,
            || values.map(|values| format!("{:?}", values.0)),
            false,
            load.is_none(),
        );
        let cx = query.context().cloned().unwrap_or_else(Context::current);
        Self {
            change,
            load,
            query: Some(query),
            cx,
        }
    }

    /// Runs `work` (the statement) with its span current and, outside a transaction, its pool
    /// checkout counted.
    pub(super) async fn around<T>(
        &self,
        scope: Scope<'_>,
        work: impl Future<Output = Result<T, DbErr>>,
    ) -> Result<T, DbErr> {
        let work = work.with_context(self.cx.clone());
        match (&scope.shared.checkouts, scope.transaction) {
            (Some(checkouts), None) => checkouts.run(work, is_pool_timeout).await,
            _ => work.await,
        }
    }

    /// Records how the statement ended (its rows, or its error) and ends its spans.
    pub(super) fn end<T: Rows>(self, scope: Scope<'_>, result: &Result<T, DbErr>) {
        match result {
            Ok(rows) => {
                let (returned, affected) = rows.rows();
                if let (Some((_, unit)), Some(change)) = (scope.transaction, self.change) {
                    unit.count(change, affected.or(returned).unwrap_or(0));
                }
                self.finish(returned, affected, None);
            }
            Err(error) => self.fail(error),
        }
    }

    /// Records the statement's failure and ends its spans.
    pub(super) fn fail(self, error: &DbErr) {
        self.finish(None, None, Some(db_error(error)));
    }

    fn finish(self, returned: Option<u64>, affected: Option<u64>, error: Option<QueryError>) {
        if let Some(load) = self.load {
            load.finish(returned, error.as_ref());
        }
        if let Some(query) = self.query {
            query.finish(QueryOutcome {
                returned_rows: returned,
                affected_rows: affected,
                error,
            });
        }
    }
}

impl Started {
    /// Ends the spans of a stream's statement that gave `rows`.
    pub(super) fn end_stream(self, rows: u64) {
        self.finish(Some(rows), None, None);
    }
}

/// Runs `stmt` with `exec` in `scope`, traced.
pub(super) async fn run<T: Rows, F>(
    scope: Scope<'_>,
    stmt: Statement,
    exec: impl FnOnce(Statement) -> F,
) -> Result<T, DbErr>
where
    F: Future<Output = Result<T, DbErr>>,
{
    let started = Started::begin(scope, &stmt.sql, stmt.values.as_ref());
    let result = started.around(scope, exec(stmt)).await;
    started.end(scope, &result);
    result
}

/// A SeaORM stream whose statement's span ends when the stream ends or is dropped, with the
/// rows it gave.
pub struct TracedStream<S> {
    inner: Pin<Box<S>>,
    finish: Option<Box<dyn FnOnce(u64) + Send>>,
    rows: u64,
}

impl<S> TracedStream<S> {
    pub(super) fn new(inner: S, finish: Box<dyn FnOnce(u64) + Send>) -> Self {
        Self {
            inner: Box::pin(inner),
            finish: Some(finish),
            rows: 0,
        }
    }

    fn finish(&mut self) {
        if let Some(finish) = self.finish.take() {
            finish(self.rows);
        }
    }
}

impl<S> std::fmt::Debug for TracedStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedStream")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<S: Stream<Item = Result<QueryResult, DbErr>>> Stream for TracedStream<S> {
    type Item = Result<QueryResult, DbErr>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(_))) => self.rows += 1,
            Poll::Ready(None) => self.finish(),
            _ => {}
        }
        polled
    }
}

impl<S> Drop for TracedStream<S> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Whether `result` is the pool's acquire timeout, as SeaORM reports it.
pub(super) fn is_pool_timeout<T>(result: &Result<T, DbErr>) -> bool {
    matches!(
        result,
        Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
    )
}

/// `error.type`, code and text of a SeaORM error: sqlx's when it wraps one.
pub(super) fn db_error(error: &DbErr) -> QueryError {
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(sqlx))
        | DbErr::Exec(RuntimeErr::SqlxError(sqlx))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => query_error(sqlx),
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => QueryError {
            code: None,
            error_type: "PoolTimedOut".to_owned(),
            message: error.to_string(),
        },
        other => QueryError::from_variant(other),
    }
}

/// A stream of `stmt` on `inner` in `scope`, its statement's span ending with the stream.
pub(super) async fn traced_stream<'a, C: StreamTrait>(
    scope: Scope<'_>,
    inner: &'a C,
    stmt: Statement,
) -> Result<TracedStream<C::Stream<'a>>, DbErr> {
    let started = Started::begin(scope, &stmt.sql, stmt.values.as_ref());
    match started.around(scope, inner.stream_raw(stmt)).await {
        Ok(stream) => Ok(TracedStream::new(
            stream,
            Box::new(move |rows| started.end_stream(rows)),
        )),
        Err(error) => {
            started.fail(&error);
            Err(error)
        }
    }
}
