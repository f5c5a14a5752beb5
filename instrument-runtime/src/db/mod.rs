//! Database instrumentation: statement spans named by the semantic conventions, the
//! `db.client.operation.duration` metric, transactions, repeated-query (N+1) detection and
//! sync-in-async detection, for sqlx (feature `sqlx`) and diesel (feature `diesel`).
//!
//! The parts that do not depend on a driver live here: [`InstrumentationConfig`], the SQL
//! [`summarize`]r, the query and transaction spans.

mod config;
#[cfg(feature = "diesel")]
pub mod diesel;
mod metrics;
pub mod orm;
mod query;
mod repeated;
mod sanitize;
#[cfg(feature = "sea-orm")]
pub mod sea_orm;
#[cfg(feature = "sqlx")]
pub mod sqlx;
mod statements;
mod summary;
mod sync_detection;
mod target;
mod transaction;

pub(crate) use config::apply_environment;
pub use config::{
    InstrumentationConfig, instrumentation_config, is_instrumentation_active,
    set_instrumentation_config, temporary_instrumentation_config,
};
pub use metrics::DbMetrics;
pub use query::{
    AFFECTED_ROWS_KEY, PARAMETERS_KEY, QueryError, QueryOutcome, QuerySpan, RETURNED_ROWS_KEY,
    SYNC_IN_ASYNC_KEY,
};
pub use repeated::{REPEATED_COUNT_KEY, REPEATED_QUERY_EVENT};
pub use sanitize::{SqlDialect, sanitize};
pub use summary::{QuerySummary, normalize, summarize};
pub use sync_detection::sync_in_async_queries;
pub use target::DbTarget;
pub use transaction::{
    DEPTH_KEY, OUTCOME_KEY, SAVEPOINT_SPAN, STATEMENT_COUNT_KEY, TRANSACTION_SPAN, TransactionSpan,
};
