//! `Executor` for `&InstrumentedPool`, `&mut InstrumentedConnection` and
//! `&mut InstrumentedTransaction`: each statement's span starts where it is called (under the
//! caller's context) and ends with its result. On a monitored pool, `&pool` checks a connection
//! out for the statement, so the monitor counts every statement that needed one.

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::StreamExt;
use sqlx::{Either, Error, Execute, Executor, SqlStr};

use super::connection::{InstrumentedConnection, InstrumentedTransaction};
use super::monitor::generate;
use super::{InstrumentedPool, SqlxDriver, traced};

impl<'p, DB> Executor<'p> for &'p InstrumentedPool<DB>
where
    DB: SqlxDriver,
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
        let (query, span) = traced::start(query, &self.target, self.trace_statements);
        if self.monitoring.is_none() {
            return traced::stream::<DB>(self.pool.fetch_many(query), span);
        }
        let steps = generate(move |sender| async move {
            let mut conn = match self.acquire().await {
                Ok(conn) => conn,
                Err(error) => {
                    let _ = sender.send(Err(error)).await;
                    return;
                }
            };
            let mut steps = conn.raw().fetch_many(query);
            while let Some(step) = steps.next().await {
                if sender.send(step).await.is_err() {
                    return;
                }
            }
        });
        traced::stream::<DB>(steps, span)
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let (query, span) = traced::start(query, &self.target, self.trace_statements);
        if self.monitoring.is_none() {
            return traced::optional::<DB>(self.pool.fetch_optional(query), span);
        }
        let fetched =
            Box::pin(async move { self.acquire().await?.raw().fetch_optional(query).await });
        traced::optional::<DB>(fetched, span)
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
            self.acquire()
                .await?
                .raw()
                .prepare_with(sql, parameters)
                .await
        })
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<DB>, Error>>
    where
        'p: 'e,
    {
        Box::pin(async move { self.acquire().await?.raw().describe(sql).await })
    }
}

/// The `Executor` methods of a traced executor borrowing a connection: `$raw` gives the
/// connection, with `$this` bound to `self`; statements start with `$parent` current.
macro_rules! connection_executor_methods {
    (|$this:ident| raw: $raw:expr, parent: $parent:expr) => {
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
            let (query, span) = {
                let _parent = $parent;
                traced::start(query, &$this.pool.target, $this.pool.trace_statements)
            };
            traced::stream::<DB>($raw.fetch_many(query), span)
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
            let (query, span) = {
                let _parent = $parent;
                traced::start(query, &$this.pool.target, $this.pool.trace_statements)
            };
            traced::optional::<DB>($raw.fetch_optional(query), span)
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
            $raw.prepare_with(sql, parameters)
        }

        fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<DB>, Error>>
        where
            'x: 'e,
        {
            let $this = self;
            $raw.describe(sql)
        }
    };
}

impl<'x, DB> Executor<'x> for &'x mut InstrumentedConnection<DB>
where
    DB: SqlxDriver,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    connection_executor_methods!(|this| raw: this.raw(), parent: ());
}

impl<'x, DB> Executor<'x> for &'x mut InstrumentedTransaction<'_, DB>
where
    DB: SqlxDriver,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    connection_executor_methods!(|this| raw: this.raw(), parent: this.span.statement());
}
