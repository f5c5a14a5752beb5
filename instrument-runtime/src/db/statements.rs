//! What the database instrumentation derives from a statement's text — its summary (operation,
//! collection), its shape for the repeated-query detection, and the attribute values its spans
//! and measurements carry — worked out once per distinct text and kept in a small per-thread
//! cache, so a service running the same statements over and over tokenizes each once per thread
//! instead of on every execution, and its spans share their texts (copied by a count, on the
//! calling thread and when the export keeps a batch to retry) instead of owning copies.
//!
//! The cache is direct-mapped: 64 slots per thread, chosen by a hash of the text ([`slot_of`]), a
//! hit confirmed by comparing the text. Texts over 4 KiB are worked out every time and not kept.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use opentelemetry::Value;

use super::metrics::StatementDuration;
#[cfg(feature = "sea-orm")]
use super::orm::classify::{Load, classify};
use super::sanitize::{SqlDialect, sanitize};
use super::summary::{QuerySummary, normalize, summarize};
use crate::metrics::bound::kept_text;

const SLOTS: usize = 64;
const _: () = assert!(SLOTS.is_power_of_two());
/// Longer texts are not cached (they would pin that much memory per slot).
const MAX_CACHED_TEXT: usize = 4 * 1024;

/// What one statement text gives.
#[derive(Debug)]
pub(crate) struct Statement {
    /// Operation, collection and summary.
    pub(crate) summary: QuerySummary,
    /// The shape two executions with other values share.
    pub(crate) shape: String,
    /// `db.operation.name`, `db.collection.name` and `db.query.summary`, shared.
    pub(crate) values: SummaryValues,
    /// The span name (the summary), kept for the life of the process: statements have few (at
    /// most 1,024 names of at most 255 bytes are kept; past that each is copied).
    pub(crate) span_name: Option<Cow<'static, str>>,
    /// `db.query.text` as sanitized in a dialect (or not: `None`) and truncated at a length,
    /// shared; made at the first use of a dialect and length.
    text: RefCell<Option<(usize, Option<SqlDialect>, Value)>>,
    /// Its duration histogram bound to its attributes against the target it last ran on, once
    /// recorded into.
    pub(crate) duration: StatementDuration,
    /// The relation load it is, read from its text at the first ask (ORM statements).
    #[cfg(feature = "sea-orm")]
    load: std::cell::OnceCell<Option<Load>>,
}

/// A statement's summary as attribute values whose text is shared.
#[derive(Debug)]
pub(crate) struct SummaryValues {
    pub(crate) operation: Option<Value>,
    pub(crate) collection: Option<Value>,
    pub(crate) summary: Option<Value>,
}

fn shared(text: &Option<String>) -> Option<Value> {
    text.as_deref().map(|t| Value::from(Arc::<str>::from(t)))
}

impl Statement {
    fn of(sql: &str) -> Self {
        let summary = summarize(sql);
        let span_name = summary
            .summary
            .as_deref()
            .map(|name| kept_text("statement span name", name, || name.to_owned()));
        Self {
            span_name,
            values: SummaryValues {
                operation: shared(&summary.operation),
                collection: shared(&summary.collection),
                summary: shared(&summary.summary),
            },
            summary,
            shape: normalize(sql),
            text: RefCell::new(None),
            duration: StatementDuration::default(),
            #[cfg(feature = "sea-orm")]
            load: std::cell::OnceCell::new(),
        }
    }

    /// The relation load `sql` (this statement's text) is, if any, worked out once.
    #[cfg(feature = "sea-orm")]
    pub(crate) fn load(&self, sql: &str) -> Option<&Load> {
        self.load.get_or_init(|| classify(sql)).as_ref()
    }

    /// `db.query.text` of `sql` (this statement's text), sanitized in `dialect` unless it is
    /// `None`, then truncated by `truncate` at `limit`. Worked out once per dialect and limit.
    pub(crate) fn text(
        &self,
        sql: &str,
        limit: usize,
        dialect: Option<SqlDialect>,
        truncate: impl Fn(&str) -> String,
    ) -> Value {
        let mut text = self.text.borrow_mut();
        match &*text {
            Some((at, read_in, value)) if *at == limit && *read_in == dialect => value.clone(),
            _ => {
                let sanitized = match dialect {
                    Some(dialect) => sanitize(sql, dialect),
                    None => Cow::Borrowed(sql),
                };
                let value = Value::from(Arc::<str>::from(truncate(&sanitized)));
                *text = Some((limit, dialect, value.clone()));
                value
            }
        }
    }
}

type Slot = Option<(Box<str>, Rc<Statement>)>;

thread_local! {
    static CACHE: RefCell<[Slot; SLOTS]> = const { RefCell::new([const { None }; SLOTS]) };
}

/// The cache slot of `sql`: a multiply-rotate hash over the text's 8-byte words. Written here
/// rather than taken from a hashing crate: a byte-at-a-time hash (FNV, the one the default build
/// already has) spends about 700 instructions more per query on a statement's text in the
/// `db_wrapper` bench, SipHash more still, and a collision costs only a cache miss.
fn slot_of(sql: &str) -> usize {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut hash = sql.len() as u64;
    for word in sql.as_bytes().chunks(8) {
        let mut bytes = [0u8; 8];
        bytes[..word.len()].copy_from_slice(word);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(bytes)).wrapping_mul(K);
    }
    (hash >> (64 - SLOTS.trailing_zeros())) as usize
}

/// The statement `sql` is, from the thread's cache when it has seen the text.
pub(crate) fn statement(sql: &str) -> Rc<Statement> {
    if sql.len() > MAX_CACHED_TEXT {
        return Rc::new(Statement::of(sql));
    }
    let index = slot_of(sql);
    let cached = CACHE.try_with(|cache| {
        let cache = cache.borrow();
        match &cache[index] {
            Some((text, statement)) if **text == *sql => Some(Rc::clone(statement)),
            _ => None,
        }
    });
    if let Ok(Some(statement)) = cached {
        return statement;
    }
    let statement = Rc::new(Statement::of(sql));
    let _ = CACHE.try_with(|cache| {
        cache.borrow_mut()[index] = Some((sql.into(), Rc::clone(&statement)));
    });
    statement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_of_one_shape_spread_over_the_slots() {
        let slots: std::collections::HashSet<usize> =
            ["users", "posts", "agents", "steps", "tools"]
                .iter()
                .flat_map(|table| {
                    ["id", "name", "org"].map(|column| {
                        slot_of(&format!("SELECT id, name FROM {table} WHERE {column} = ?"))
                    })
                })
                .collect();
        assert!(slots.len() >= 10, "15 statements in {} slots", slots.len());
        assert!(slots.iter().all(|slot| *slot < SLOTS));
    }

    #[test]
    fn a_text_is_worked_out_once_and_other_texts_are_not_confused() {
        let first = statement("SELECT id FROM users WHERE id = ?");
        let again = statement("SELECT id FROM users WHERE id = ?");
        assert!(Rc::ptr_eq(&first, &again), "the second lookup is a hit");
        assert_eq!(first.summary.summary.as_deref(), Some("SELECT users"));
        let other = statement("DELETE FROM orders WHERE id = 1");
        assert_eq!(other.summary.summary.as_deref(), Some("DELETE orders"));
        assert_eq!(other.shape, normalize("DELETE FROM orders WHERE id = 2"));
    }

    #[test]
    fn shared_values_are_the_summary_and_the_text_follows_the_truncation_length() {
        let sql = "UPDATE accounts SET balance = 0 WHERE id = 7";
        let statement = statement(sql);
        let text = |value: Option<&Value>| value.map(|v| v.as_str().into_owned());
        assert_eq!(
            text(statement.values.operation.as_ref()).as_deref(),
            Some("UPDATE")
        );
        assert_eq!(
            text(statement.values.collection.as_ref()).as_deref(),
            Some("accounts")
        );
        assert_eq!(
            text(statement.values.summary.as_ref()).as_deref(),
            Some("UPDATE accounts")
        );
        let cut = |sql: &str| format!("{}...", &sql[..6]);
        assert_eq!(statement.text(sql, 6, None, cut).as_str(), "UPDATE...");
        assert_eq!(
            statement
                .text(sql, 6, None, |_| unreachable!("kept"))
                .as_str(),
            "UPDATE..."
        );
        assert_eq!(statement.text(sql, 100, None, str::to_owned).as_str(), sql);
        let sanitized = "UPDATE accounts SET balance = ? WHERE id = ?";
        let generic = Some(SqlDialect::Generic);
        assert_eq!(
            statement.text(sql, 100, generic, str::to_owned).as_str(),
            sanitized
        );
        assert_eq!(
            statement
                .text(sql, 100, generic, |_| unreachable!("kept"))
                .as_str(),
            sanitized
        );
    }

    #[test]
    fn long_texts_are_not_kept() {
        let long = format!("SELECT {} FROM t", "a, ".repeat(2_000) + "b");
        let first = statement(&long);
        let again = statement(&long);
        assert!(!Rc::ptr_eq(&first, &again));
        assert_eq!(first.summary.summary.as_deref(), Some("SELECT t"));
    }
}
