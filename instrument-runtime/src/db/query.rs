//! One database statement as a CLIENT span and a `db.client.operation.duration` measurement,
//! shared by the sqlx and diesel integrations.

use std::borrow::Cow;
use std::rc::Rc;
use std::time::Instant;

use opentelemetry::metrics::BoundHistogram;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    DB_COLLECTION_NAME, DB_NAMESPACE, DB_OPERATION_NAME, DB_QUERY_SUMMARY, DB_QUERY_TEXT,
    DB_RESPONSE_STATUS_CODE, DB_SYSTEM_NAME, ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_STACKTRACE,
    EXCEPTION_TYPE, SERVER_ADDRESS, SERVER_PORT,
};

use super::config::{InstrumentationConfig, instrumentation_config};
use super::metrics::{DbMetrics, bound_durations, duration_identity};
use super::sanitize::SqlDialect;
use super::statements::{Statement, statement};
use super::target::DbTarget;
use super::{repeated, sync_detection};
use crate::span;
use crate::state;

/// Attribute: rows a query returned.
pub const RETURNED_ROWS_KEY: &str = "db.response.returned_rows";
/// Attribute: rows a statement changed.
pub const AFFECTED_ROWS_KEY: &str = "instrument.db.response.affected_rows";
/// Attribute: bind values, recorded only when `record_bind_values` is on.
pub const PARAMETERS_KEY: &str = "instrument.db.query.parameters";
/// Attribute: a synchronous query made on an async runtime's worker thread.
pub const SYNC_IN_ASYNC_KEY: &str = "instrument.db.sync_in_async";

/// How a statement ended.
#[derive(Debug, Default)]
pub struct QueryOutcome {
    /// Rows returned, for queries.
    pub returned_rows: Option<u64>,
    /// Rows changed, for statements.
    pub affected_rows: Option<u64>,
    /// The failure, if any.
    pub error: Option<QueryError>,
}

/// A failed statement.
#[derive(Debug)]
pub struct QueryError {
    /// SQLSTATE (or the driver's code), when the database answered with one.
    pub code: Option<String>,
    /// `error.type`: the code, or the error's kind.
    pub error_type: String,
    /// The error text.
    pub message: String,
}

impl QueryError {
    /// An error without a database code, typed by its enum variant (`RowNotFound`,
    /// `PoolTimedOut`, ...) as its `Debug` text starts.
    pub fn from_variant(error: &(impl std::fmt::Debug + std::fmt::Display)) -> Self {
        QueryError {
            code: None,
            error_type: crate::capture::variant_name(error),
            message: error.to_string(),
        }
    }
}

/// A statement in progress.
#[derive(Debug)]
pub struct QuerySpan {
    cx: Option<Context>,
    started: Instant,
    low_cardinality: Vec<KeyValue>,
    /// The duration histogram bound to `low_cardinality`, for a statement that does not fail,
    /// when one recorded into it before (see `StatementDuration::recorded`).
    duration: Option<BoundHistogram<f64>>,
    /// Whether the statement changes rows, so that its affected-row count means something (a
    /// driver's count after a `SELECT` is the previous statement's).
    changes_rows: bool,
    finished: bool,
}

/// Most attributes a statement's measurements carry: system, namespace, operation, collection,
/// server address and port.
const LOW_CARDINALITY_ATTRIBUTES: usize = 6;
/// Attributes only its span carries: summary, text, bind values, the sync-in-async flag, and
/// room for the rows and error recorded at the end.
const SPAN_ONLY_ATTRIBUTES: usize = 6;

/// Operations whose affected-row count a driver reports for the statement itself.
const ROW_CHANGING_OPERATIONS: &[&str] =
    &["INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "UPSERT"];

/// Whether `operation` (a statement's first keyword, as the summary names it) changes rows.
fn changes_rows(operation: Option<&str>) -> bool {
    operation.is_some_and(|op| {
        ROW_CHANGING_OPERATIONS
            .iter()
            .any(|c| c.eq_ignore_ascii_case(op))
    })
}

impl QuerySpan {
    /// Starts the span of `sql` against `target`, as a child of the current context. `binds`
    /// renders the bind values, called only when they are recorded. `synchronous` marks calls
    /// that block their thread (diesel), for sync-in-async detection.
    pub fn start(
        target: &DbTarget,
        sql: &str,
        binds: impl FnOnce() -> Option<String>,
        synchronous: bool,
    ) -> Self {
        Self::start_counted(target, sql, || statement(sql), binds, synchronous, true)
    }

    /// [`QuerySpan::start`], counted for the repeated-statement finding under its parent only
    /// when `count_repeats` (a relation load's one statement is not); `statement` gives what
    /// `sql` is (a caller that looked it up already passes it on).
    pub(crate) fn start_counted(
        target: &DbTarget,
        sql: &str,
        statement: impl FnOnce() -> Rc<Statement>,
        binds: impl FnOnce() -> Option<String>,
        synchronous: bool,
        count_repeats: bool,
    ) -> Self {
        let config = instrumentation_config();
        if !config.enabled || !(state::enabled() || state::metrics_enabled()) {
            return Self {
                cx: None,
                started: Instant::now(),
                low_cardinality: Vec::new(),
                duration: None,
                changes_rows: false,
                finished: true,
            };
        }
        let statement = statement();
        let summary = &statement.summary;
        let values = &statement.values;
        let mut low_cardinality = Vec::with_capacity(LOW_CARDINALITY_ATTRIBUTES);
        low_cardinality.push(KeyValue::new(DB_SYSTEM_NAME, target.system));
        if let Some(namespace) = &target.namespace {
            low_cardinality.push(KeyValue::new(DB_NAMESPACE, namespace.clone()));
        }
        if let Some(operation) = &values.operation {
            low_cardinality.push(KeyValue::new(DB_OPERATION_NAME, operation.clone()));
        }
        if let Some(collection) = &values.collection {
            low_cardinality.push(KeyValue::new(DB_COLLECTION_NAME, collection.clone()));
        }
        if let Some(address) = &target.server_address {
            low_cardinality.push(KeyValue::new(SERVER_ADDRESS, address.clone()));
        }
        if let Some(port) = target.server_port {
            low_cardinality.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
        let parent = span::CurrentParent::now();
        let sync_in_async = synchronous && sync_detection::on_async_worker();
        if sync_in_async {
            sync_detection::report(&summary.summary, &low_cardinality);
        }
        let name = statement
            .span_name
            .clone()
            .unwrap_or(Cow::Borrowed(target.system));
        let parent_span = parent.span_context();
        let dialect = config
            .sanitize_query_text
            .then(|| SqlDialect::of_system(target.system));
        let text = || {
            statement.text(sql, config.sql_truncate_length, dialect, |sql| {
                truncate_sql(sql, &config)
            })
        };
        if count_repeats
            && config.monitor_repeated_queries
            && parent_span.is_valid()
            && !parent_span.is_remote()
        {
            repeated::record(
                parent_span.span_id(),
                statement.shape.clone(),
                &name,
                &text().as_str(),
            );
        }
        let cx = state::enabled()
            .then(|| {
                let mut attributes =
                    Vec::with_capacity(low_cardinality.len() + SPAN_ONLY_ATTRIBUTES);
                attributes.extend_from_slice(&low_cardinality);
                if let Some(text) = &values.summary {
                    attributes.push(KeyValue::new(DB_QUERY_SUMMARY, text.clone()));
                }
                attributes.push(KeyValue::new(DB_QUERY_TEXT, text()));
                if config.record_bind_values {
                    if let Some(binds) = binds() {
                        attributes.push(KeyValue::new(PARAMETERS_KEY, bounded_binds(binds)));
                    }
                }
                if sync_in_async {
                    attributes.push(KeyValue::new(SYNC_IN_ASYNC_KEY, true));
                }
                span::start_current_child(&parent, name, SpanKind::Client, attributes)
            })
            .flatten();
        let duration = state::metrics_enabled()
            .then(|| statement.duration.recorded(target, &low_cardinality))
            .flatten();
        Self {
            cx,
            started: Instant::now(),
            low_cardinality,
            duration,
            changes_rows: changes_rows(summary.operation.as_deref()),
            finished: false,
        }
    }

    /// The context holding this statement's span (for nesting transactions).
    pub fn context(&self) -> Option<&Context> {
        self.cx.as_ref()
    }

    /// Records how the statement ended, ends the span and records the duration.
    pub fn finish(mut self, outcome: QueryOutcome) {
        self.end(outcome);
    }

    fn end(&mut self, outcome: QueryOutcome) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let elapsed = self.started.elapsed();
        if let Some(cx) = &self.cx {
            let span = cx.span();
            if let Some(rows) = outcome.returned_rows {
                span.set_attribute(KeyValue::new(RETURNED_ROWS_KEY, rows as i64));
            }
            if let Some(rows) = outcome.affected_rows.filter(|_| self.changes_rows) {
                span.set_attribute(KeyValue::new(AFFECTED_ROWS_KEY, rows as i64));
            }
            if let Some(error) = &outcome.error {
                if let Some(code) = &error.code {
                    span.set_attribute(KeyValue::new(DB_RESPONSE_STATUS_CODE, code.clone()));
                }
                span.set_attribute(KeyValue::new(ERROR_TYPE, error.error_type.clone()));
                let mut exception = vec![
                    KeyValue::new(EXCEPTION_TYPE, error.error_type.clone()),
                    KeyValue::new(EXCEPTION_MESSAGE, error.message.clone()),
                ];
                // Taken only here, for a span that records it: a failed statement's caller.
                if let Some(stacktrace) =
                    span.is_recording().then(span::caller_stacktrace).flatten()
                {
                    exception.push(KeyValue::new(EXCEPTION_STACKTRACE, stacktrace));
                }
                span.add_event(crate::span::EXCEPTION_EVENT, exception);
                span.set_status(Status::error(error.message.clone()));
            }
            span.end();
        }
        if state::metrics_enabled() {
            let seconds = elapsed.as_secs_f64();
            let error_type = outcome.error.as_ref().map(|e| e.error_type.as_str());
            let attributes = || {
                let mut attributes = self.low_cardinality.clone();
                if let Some(error_type) = error_type {
                    attributes.push(KeyValue::new(ERROR_TYPE, error_type.to_owned()));
                }
                attributes
            };
            let no_context_attributes = crate::context::current_has_no_attributes();
            if let (true, None, Some(duration)) =
                (no_context_attributes, error_type, &self.duration)
            {
                duration.record(seconds);
                return;
            }
            // Bound as it records, so that no series is left bound and empty.
            let bound = no_context_attributes
                && bound_durations().record(
                    duration_identity(&self.low_cardinality, error_type),
                    || {
                        DbMetrics::global()
                            .operation_duration
                            .inner()
                            .bind(&attributes())
                    },
                    |bound| bound.record(seconds),
                );
            if !bound {
                DbMetrics::global()
                    .operation_duration
                    .record(seconds, &attributes());
            }
        }
    }
}

impl Drop for QuerySpan {
    fn drop(&mut self) {
        self.end(QueryOutcome::default());
    }
}

/// Bind values (the driver's `Debug` text) with secrets hidden (connection strings, tokens in
/// URLs), cut to the parameter capture limit (`max_value_bytes`).
fn bounded_binds(binds: String) -> String {
    let (limit, _) = crate::capture::limits();
    let mut out = crate::capture::BoundedText::new(limit);
    out.set_syntax(crate::capture::Syntax::Debug);
    out.push(binds.as_bytes());
    out.finish(Some(binds.len()))
}

/// `sql` cut to `sql_truncate_length` bytes at a character boundary, ending in `...` when cut.
pub(crate) fn truncate_sql(sql: &str, config: &InstrumentationConfig) -> String {
    if sql.len() <= config.sql_truncate_length {
        return sql.to_owned();
    }
    let cut = crate::capture::floor_char_boundary(sql.as_bytes(), config.sql_truncate_length);
    format!("{}...", &sql[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_is_truncated_at_the_limit() {
        let config = InstrumentationConfig {
            sql_truncate_length: 10,
            ..Default::default()
        };
        assert_eq!(truncate_sql("SELECT 1", &config), "SELECT 1");
        assert_eq!(
            truncate_sql("SELECT * FROM users", &config),
            "SELECT * F..."
        );
        assert_eq!(truncate_sql("SELECT ééééé", &config), "SELECT é...");
    }

    #[test]
    fn only_row_changing_statements_report_affected_rows() {
        assert!(changes_rows(Some("INSERT")));
        assert!(changes_rows(Some("delete")));
        assert!(!changes_rows(Some("SELECT")));
        assert!(!changes_rows(None));
    }
}
