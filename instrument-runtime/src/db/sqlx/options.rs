//! Building an [`InstrumentedPool`] from sqlx's pool options: `options.instrumented("main")`.

use std::fmt;
use std::sync::Arc;

use futures_core::future::BoxFuture;
use sqlx::pool::{PoolConnectionMetadata, PoolOptions};
use sqlx::{Connection, Database, Error};

use super::monitor::{MonitorSettings, Monitoring};
use super::{InstrumentedPool, SqlxDriver};

/// Adopting the toolkit on a sqlx pool in one call: `options.instrumented("main")`.
pub trait PoolOptionsExt<DB: Database> {
    /// These options, for a pool named `pool_name` (the monitor's `engine_name`) whose
    /// statements are traced and whose connections are monitored.
    fn instrumented(self, pool_name: impl Into<String>) -> InstrumentedPoolOptions<DB>;
}

impl<DB: Database> PoolOptionsExt<DB> for PoolOptions<DB> {
    fn instrumented(self, pool_name: impl Into<String>) -> InstrumentedPoolOptions<DB> {
        InstrumentedPoolOptions {
            options: self,
            trace_statements: true,
            monitor_pool: true,
            settings: MonitorSettings {
                engine_name: pool_name.into(),
                pool_mode: "queue".to_owned(),
                semconv: false,
                after_connect: None,
                before_acquire: None,
                after_release: None,
            },
        }
    }
}

/// sqlx pool options with the toolkit's switches; `connect` gives an [`InstrumentedPool`].
pub struct InstrumentedPoolOptions<DB: Database> {
    options: PoolOptions<DB>,
    trace_statements: bool,
    monitor_pool: bool,
    settings: MonitorSettings<DB>,
}

impl<DB: Database> fmt::Debug for InstrumentedPoolOptions<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedPoolOptions")
            .field("options", &self.options)
            .field("trace_statements", &self.trace_statements)
            .field("monitor_pool", &self.monitor_pool)
            .field("pool_name", &self.settings.engine_name)
            .field("pool_mode", &self.settings.pool_mode)
            .field("semconv", &self.settings.semconv)
            .finish_non_exhaustive()
    }
}

impl<DB: SqlxDriver> InstrumentedPoolOptions<DB> {
    /// Whether statements become spans and `db.client.operation.duration` measurements
    /// (default on).
    pub fn trace_statements(mut self, on: bool) -> Self {
        self.trace_statements = on;
        self
    }

    /// Whether a pool monitor watches the connections (default on).
    pub fn monitor_pool(mut self, on: bool) -> Self {
        self.monitor_pool = on;
        self
    }

    /// The monitor's `pool_mode` attribute (default `queue`).
    pub fn pool_mode(mut self, pool_mode: impl Into<String>) -> Self {
        self.settings.pool_mode = pool_mode.into();
        self
    }

    /// Whether the monitor records the semantic-convention `db.client.connection.*` family as
    /// well.
    pub fn semconv(mut self, semconv: bool) -> Self {
        self.settings.semconv = semconv;
        self
    }

    /// The application's `after_connect` hook, run inside the monitor's.
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
        self.settings.after_connect = Some(Arc::new(hook));
        self
    }

    /// The application's `before_acquire` hook, run inside the monitor's.
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
        self.settings.before_acquire = Some(Arc::new(hook));
        self
    }

    /// The application's `after_release` hook, run inside the monitor's.
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
        self.settings.after_release = Some(Arc::new(hook));
        self
    }

    /// Connects to `url`, opening the pool's first connections.
    pub async fn connect(self, url: &str) -> Result<InstrumentedPool<DB>, Error> {
        self.connect_with(url.parse()?).await
    }

    /// Connects with `connect_options`, opening the pool's first connections.
    pub async fn connect_with(
        self,
        connect_options: <DB::Connection as Connection>::Options,
    ) -> Result<InstrumentedPool<DB>, Error> {
        let trace_statements = self.trace_statements;
        let (options, monitoring) = self.install();
        let pool = options.connect_with(connect_options).await?;
        Ok(InstrumentedPool::assemble(
            pool,
            trace_statements,
            monitoring,
        ))
    }

    /// A pool that opens connections when first used.
    pub fn connect_lazy_with(
        self,
        connect_options: <DB::Connection as Connection>::Options,
    ) -> InstrumentedPool<DB> {
        let trace_statements = self.trace_statements;
        let (options, monitoring) = self.install();
        InstrumentedPool::assemble(
            options.connect_lazy_with(connect_options),
            trace_statements,
            monitoring,
        )
    }

    fn install(self) -> (PoolOptions<DB>, Option<Monitoring<DB>>) {
        if self.monitor_pool {
            let (options, monitoring) = Monitoring::install(self.options, self.settings);
            return (options, Some(monitoring));
        }
        let MonitorSettings {
            after_connect,
            before_acquire,
            after_release,
            ..
        } = self.settings;
        let mut options = self.options;
        if let Some(hook) = after_connect {
            options = options.after_connect(move |conn, meta| hook(conn, meta));
        }
        if let Some(hook) = before_acquire {
            options = options.before_acquire(move |conn, meta| hook(conn, meta));
        }
        if let Some(hook) = after_release {
            options = options.after_release(move |conn, meta| hook(conn, meta));
        }
        (options, None)
    }
}
