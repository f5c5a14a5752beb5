//! Sync-in-async detection: a synchronous query made on a Tokio runtime worker thread blocks
//! every task scheduled there. `tokio::runtime::worker_index()` is `Some` exactly on worker
//! threads, and `None` in `spawn_blocking` and on plain threads.

use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::KeyValue;

use super::metrics::DbMetrics;
use crate::diagnostics::RateLimit;

static WARNINGS: RateLimit = RateLimit::new();
static FLAGGED: AtomicU64 = AtomicU64::new(0);

/// Whether the calling thread is an async runtime's worker.
pub(crate) fn on_async_worker() -> bool {
    #[cfg(any(feature = "diesel", feature = "sqlx", feature = "otlp"))]
    {
        tokio::runtime::worker_index().is_some()
    }
    #[cfg(not(any(feature = "diesel", feature = "sqlx", feature = "otlp")))]
    {
        false
    }
}

/// How many synchronous queries were flagged on async workers since the process started.
pub fn sync_in_async_queries() -> u64 {
    FLAGGED.load(Ordering::Relaxed)
}

/// Counts a flagged query and warns, at most once per interval.
pub(crate) fn report(summary: &Option<String>, attributes: &[KeyValue]) {
    let total = FLAGGED.fetch_add(1, Ordering::Relaxed) + 1;
    DbMetrics::global().sync_in_async.add(1, attributes);
    if super::config::instrumentation_config().log_instrumentation_errors && WARNINGS.allow() {
        eprintln!(
            "instrument: warning: synchronous query `{}` ran on an async runtime worker thread and blocked it; \
             move it into spawn_blocking ({total} such queries so far)",
            summary.as_deref().unwrap_or("?")
        );
    }
}
