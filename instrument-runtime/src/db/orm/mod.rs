//! ORM-level instrumentation, the original's loader strategies and unit of work: which
//! relationship a statement loads and how (a `load {relationship}` span over its statements),
//! lazy loads repeated under one parent (the N+1, named by relationship), and the inserts,
//! updates and deletes of a transaction (its flush counts). The SeaORM integration
//! (`db::sea_orm`, feature `sea-orm`) drives it.

pub(super) mod classify;
pub(super) mod names;

use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::trace::{SpanKind, SpanRef, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::DB_SYSTEM_NAME;

pub use classify::{Load, LoaderType, classify};
pub use names::*;

use super::config::instrumentation_config;
use super::query::{QueryError, RETURNED_ROWS_KEY};
use super::repeated;
use crate::span;
use crate::state;

/// The span of one relation load, `load {relationship}`, parent of its statements.
#[derive(Debug)]
pub struct LoadSpan {
    cx: Context,
}

impl LoadSpan {
    /// Starts the span of `load` under the current context, when the settings watch its loader
    /// (`monitor_joined_loading`, `lazy_loading_only`) and tracing is on; a lazy load is also
    /// counted for the N+1 under its parent.
    pub fn start(load: &Load, system: &'static str) -> Option<Self> {
        let config = instrumentation_config();
        let watched = match load.loader {
            LoaderType::Lazy => true,
            LoaderType::Joined => config.monitor_joined_loading && !config.lazy_loading_only,
            LoaderType::SelectIn => !config.lazy_loading_only,
        };
        if !(config.enabled && watched && state::enabled()) {
            return None;
        }
        let parent = span::CurrentParent::now();
        let parent_span = parent.span_context();
        if load.loader == LoaderType::Lazy
            && config.monitor_repeated_queries
            && parent_span.is_valid()
            && !parent_span.is_remote()
        {
            repeated::record_lazy_load(parent_span.span_id(), &load.relationship, &load.entity);
        }
        let attributes = vec![
            KeyValue::new(DB_SYSTEM_NAME, system),
            KeyValue::new(LOADER_TYPE_KEY, load.loader.as_str()),
            KeyValue::new(LOADER_IS_JOINED_KEY, load.loader == LoaderType::Joined),
            KeyValue::new(RELATIONSHIP_KEY, load.relationship.clone()),
            KeyValue::new(ENTITY_KEY, load.entity.clone()),
        ];
        span::start_current_child(
            &parent,
            load.span_name.clone(),
            SpanKind::Internal,
            attributes,
        )
        .map(|cx| Self { cx })
    }

    /// The context holding the span: its statements' parent.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// Records the rows loaded (or the failure) and ends the span.
    pub fn finish(self, rows: Option<u64>, error: Option<&QueryError>) {
        let span = self.cx.span();
        if let Some(rows) = rows {
            span.set_attribute(KeyValue::new(RETURNED_ROWS_KEY, rows as i64));
        }
        if let Some(error) = error {
            span.set_status(Status::error(error.message.clone()));
        }
        span.end();
    }
}

/// The rows one transaction inserted, updated and deleted: its flush counts.
#[derive(Debug, Default)]
pub struct UnitOfWork {
    new: AtomicU64,
    dirty: AtomicU64,
    deleted: AtomicU64,
}

/// What a statement does to rows, for the unit of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowChange {
    /// `INSERT`: new rows.
    New,
    /// `UPDATE`: dirty rows.
    Dirty,
    /// `DELETE`: deleted rows.
    Deleted,
}

impl RowChange {
    /// What `sql` does to rows, by its first keyword; `None` for a statement that changes none.
    pub fn of(sql: &str) -> Option<Self> {
        let operation = sql.split_whitespace().next().unwrap_or("");
        [
            ("INSERT", RowChange::New),
            ("UPDATE", RowChange::Dirty),
            ("DELETE", RowChange::Deleted),
        ]
        .into_iter()
        .find(|(keyword, _)| operation.eq_ignore_ascii_case(keyword))
        .map(|(_, change)| change)
    }
}

impl UnitOfWork {
    /// Counts `rows` changed as `change` says.
    pub fn count(&self, change: RowChange, rows: u64) {
        let counter = match change {
            RowChange::New => &self.new,
            RowChange::Dirty => &self.dirty,
            RowChange::Deleted => &self.deleted,
        };
        counter.fetch_add(rows, Ordering::Relaxed);
    }

    /// Rows inserted, updated and deleted so far.
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.new.load(Ordering::Relaxed),
            self.dirty.load(Ordering::Relaxed),
            self.deleted.load(Ordering::Relaxed),
        )
    }

    /// Records the counts on `span`, the transaction's, and marks a flush of more rows than
    /// `large_flush_threshold` large (an attribute and an event).
    pub fn record(&self, span: &SpanRef<'_>) {
        let (new, dirty, deleted) = self.counts();
        span.set_attribute(KeyValue::new(FLUSH_NEW_KEY, new as i64));
        span.set_attribute(KeyValue::new(FLUSH_DIRTY_KEY, dirty as i64));
        span.set_attribute(KeyValue::new(FLUSH_DELETED_KEY, deleted as i64));
        let threshold = u64::from(instrumentation_config().large_flush_threshold);
        let total = new + dirty + deleted;
        let large = total > threshold;
        span.set_attribute(KeyValue::new(FLUSH_LARGE_KEY, large));
        if large {
            span.add_event(
                LARGE_FLUSH_EVENT,
                vec![
                    KeyValue::new(FLUSH_NEW_KEY, new as i64),
                    KeyValue::new(FLUSH_DIRTY_KEY, dirty as i64),
                    KeyValue::new(FLUSH_DELETED_KEY, deleted as i64),
                    KeyValue::new(
                        FINDING_KEY,
                        format!(
                            "large flush: {total} rows changed in one transaction ({new} new, \
                             {dirty} dirty, {deleted} deleted), over the threshold of {threshold}"
                        ),
                    ),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_of_work_counts_rows_by_operation() {
        let unit = UnitOfWork::default();
        for (sql, rows) in [
            ("INSERT INTO messages VALUES (?)", 3),
            ("update agents SET name = ?", 2),
            ("DELETE FROM messages WHERE id = ?", 1),
            ("SELECT 1", 7),
        ] {
            if let Some(change) = RowChange::of(sql) {
                unit.count(change, rows);
            }
        }
        assert_eq!(RowChange::of("  select 1"), None);
        assert_eq!(unit.counts(), (3, 2, 1));
    }
}
