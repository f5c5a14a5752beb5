//! A database transaction as a span from `begin` to `commit`/`rollback`, with its statement
//! count and outcome; nested transactions (savepoints) are child spans.

use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, ContextGuard, KeyValue};
use opentelemetry_semantic_conventions::attribute::{DB_NAMESPACE, DB_SYSTEM_NAME, ERROR_TYPE};

use super::config::instrumentation_config;
use super::query::QueryError;
use super::repeated;
use super::target::DbTarget;
use crate::span;
use crate::state;

/// Name of a transaction's span (lowercase, so it never reads as a statement summary).
pub const TRANSACTION_SPAN: &str = "transaction";
/// Name of a nested transaction's (savepoint's) span.
pub const SAVEPOINT_SPAN: &str = "savepoint";
/// Attribute: how the transaction ended (`commit`, `rollback`, `implicit_rollback`, `failed`).
pub const OUTCOME_KEY: &str = "instrument.db.transaction.outcome";
/// Attribute: statements executed in the transaction (not counting nested ones).
pub const STATEMENT_COUNT_KEY: &str = "instrument.db.transaction.statement_count";
/// Attribute: nesting depth, 0 for the outermost transaction.
pub const DEPTH_KEY: &str = "instrument.db.transaction.depth";

/// The span of one transaction.
#[derive(Debug)]
pub struct TransactionSpan {
    cx: Option<Context>,
    depth: u32,
    statements: u64,
    ended: bool,
}

impl TransactionSpan {
    /// Starts a transaction span at `depth` under the current context.
    pub fn start(target: &DbTarget, depth: u32) -> Self {
        let active = instrumentation_config().enabled && state::enabled();
        let cx = active
            .then(|| {
                let mut attributes = vec![
                    KeyValue::new(DB_SYSTEM_NAME, target.system),
                    KeyValue::new(DEPTH_KEY, i64::from(depth)),
                ];
                if let Some(namespace) = &target.namespace {
                    attributes.push(KeyValue::new(DB_NAMESPACE, namespace.clone()));
                }
                let name = if depth == 0 {
                    TRANSACTION_SPAN
                } else {
                    SAVEPOINT_SPAN
                };
                span::start_current_child(
                    &span::CurrentParent::now(),
                    name,
                    SpanKind::Client,
                    attributes,
                )
            })
            .flatten();
        Self {
            cx,
            depth,
            statements: 0,
            ended: false,
        }
    }

    /// A transaction at `depth` that records nothing (its pool does not trace statements).
    pub fn inactive(depth: u32) -> Self {
        Self {
            cx: None,
            depth,
            statements: 0,
            ended: false,
        }
    }

    /// Nesting depth.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The context holding the span, when it records.
    pub fn context(&self) -> Option<&Context> {
        self.cx.as_ref()
    }

    /// Sets the statements counted elsewhere (a connection shared across tasks counts them).
    #[cfg(feature = "sea-orm")]
    pub(crate) fn set_statement_count(&mut self, statements: u64) {
        self.statements = statements;
    }

    /// Makes this transaction the current context while a statement or savepoint starts.
    pub fn attach(&self) -> Option<ContextGuard> {
        self.cx.clone().map(Context::attach)
    }

    /// Counts a statement and makes the transaction current while it starts.
    pub fn statement(&mut self) -> Option<ContextGuard> {
        self.statements += 1;
        self.attach()
    }

    /// Records a failure to begin and ends the span.
    pub fn fail(mut self, error: &QueryError) {
        self.end("failed", Some(error_clone(error)));
    }

    /// Ends the span with `outcome` (and the error, if ending failed).
    pub fn end(&mut self, outcome: &'static str, error: Option<QueryError>) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let Some(cx) = &self.cx else { return };
        let span = cx.span();
        span.set_attribute(KeyValue::new(OUTCOME_KEY, outcome));
        span.set_attribute(KeyValue::new(STATEMENT_COUNT_KEY, self.statements as i64));
        if let Some(error) = error {
            span.set_attribute(KeyValue::new(ERROR_TYPE, error.error_type));
            span.set_status(Status::error(error.message));
        }
        repeated::report_on_end(&mut cx.span());
        span.end();
    }
}

fn error_clone(error: &QueryError) -> QueryError {
    QueryError {
        code: error.code.clone(),
        error_type: error.error_type.clone(),
        message: error.message.clone(),
    }
}

impl Drop for TransactionSpan {
    fn drop(&mut self) {
        self.end("implicit_rollback", None);
    }
}
