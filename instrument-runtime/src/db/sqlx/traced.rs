//! Running one sqlx statement under a query span: the statement is taken apart (its SQL read
//! for the span, its arguments kept as they were) and handed to the real executor.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_core::Stream;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use sqlx::error::BoxDynError;
use sqlx::{Database, Either, Error, Execute, SqlStr};

use super::driver::SqlxDriver;
use crate::db::query::{QueryError, QueryOutcome, QuerySpan};
use crate::db::target::DbTarget;

/// A statement taken apart: what sqlx needs to run it, without the original wrapper.
pub(crate) struct Captured<DB: Database> {
    sql: SqlStr,
    arguments: Option<Result<Option<DB::Arguments>, BoxDynError>>,
    statement: Option<DB::Statement>,
    persistent: bool,
}

impl<DB: Database> Execute<'_, DB> for Captured<DB> {
    fn sql(self) -> SqlStr {
        self.sql
    }

    fn statement(&self) -> Option<&DB::Statement> {
        self.statement.as_ref()
    }

    fn take_arguments(&mut self) -> Result<Option<DB::Arguments>, BoxDynError> {
        self.arguments.take().unwrap_or(Ok(None))
    }

    fn persistent(&self) -> bool {
        self.persistent
    }
}

/// Takes `query` apart and, when `traced`, starts its span under the current context.
pub(crate) fn start<'q, DB: SqlxDriver, E: Execute<'q, DB>>(
    mut query: E,
    target: &DbTarget,
    traced: bool,
) -> (Captured<DB>, Option<QuerySpan>) {
    let statement = query.statement().cloned();
    let persistent = query.persistent();
    let arguments = query.take_arguments();
    let sql = query.sql();
    let span = traced.then(|| {
        QuerySpan::start(
            target,
            sql.as_str(),
            || arguments.as_ref().ok()?.as_ref().map(DB::binds),
            false,
        )
    });
    let captured = Captured {
        sql,
        arguments: Some(arguments),
        statement,
        persistent,
    };
    (captured, span)
}

/// One item of a `fetch_many` stream: a statement's result or a row.
pub(crate) type Step<DB> =
    Result<Either<<DB as Database>::QueryResult, <DB as Database>::Row>, Error>;

/// `error.type`, SQLSTATE and text of a sqlx error.
pub(crate) fn query_error(error: &Error) -> QueryError {
    match error {
        Error::Database(database) => {
            let code = database.code().map(|c| c.into_owned());
            QueryError {
                error_type: code.clone().unwrap_or_else(|| "database".to_owned()),
                code,
                message: database.message().to_owned(),
            }
        }
        other => QueryError::from_variant(other),
    }
}

/// `steps` (a `fetch_many` stream) ending `span` when it ends.
pub(crate) fn stream<'e, DB: SqlxDriver>(
    steps: BoxStream<'e, Step<DB>>,
    span: Option<QuerySpan>,
) -> BoxStream<'e, Step<DB>> {
    match span {
        None => steps,
        Some(span) => Box::pin(TracedStream::<'e, DB> {
            inner: steps,
            span: Some(span),
            returned: 0,
            affected: 0,
        }),
    }
}

/// `fetched` (a `fetch_optional` future) ending `span` when it completes.
pub(crate) fn optional<'e, DB: SqlxDriver>(
    fetched: BoxFuture<'e, Result<Option<DB::Row>, Error>>,
    span: Option<QuerySpan>,
) -> BoxFuture<'e, Result<Option<DB::Row>, Error>> {
    let Some(span) = span else { return fetched };
    Box::pin(async move {
        // The driver runs with the statement's span current, as under any OpenTelemetry span.
        let result = match span.context().cloned() {
            Some(cx) => fetched.with_context(cx).await,
            None => fetched.await,
        };
        span.finish(match &result {
            Ok(row) => QueryOutcome {
                returned_rows: Some(u64::from(row.is_some())),
                ..Default::default()
            },
            Err(error) => QueryOutcome {
                error: Some(query_error(error)),
                ..Default::default()
            },
        });
        result
    })
}

/// A result stream that counts rows and ends its query span when it ends.
struct TracedStream<'e, DB: Database> {
    inner: BoxStream<'e, Step<DB>>,
    span: Option<QuerySpan>,
    returned: u64,
    affected: u64,
}

impl<DB: SqlxDriver> Stream for TracedStream<'_, DB> {
    type Item = Step<DB>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let current = this
            .span
            .as_ref()
            .and_then(|span| span.context().cloned())
            .map(Context::attach);
        let polled = this.inner.as_mut().poll_next(cx);
        drop(current);
        match &polled {
            Poll::Ready(Some(Ok(Either::Left(result)))) => {
                this.affected += DB::rows_affected(result)
            }
            Poll::Ready(Some(Ok(Either::Right(_)))) => this.returned += 1,
            Poll::Ready(Some(Err(error))) => {
                if let Some(span) = this.span.take() {
                    span.finish(QueryOutcome {
                        error: Some(query_error(error)),
                        ..Default::default()
                    });
                }
            }
            Poll::Ready(None) => {
                if let Some(span) = this.span.take() {
                    span.finish(QueryOutcome {
                        returned_rows: Some(this.returned),
                        affected_rows: Some(this.affected),
                        error: None,
                    });
                }
            }
            Poll::Pending => {}
        }
        polled
    }
}
