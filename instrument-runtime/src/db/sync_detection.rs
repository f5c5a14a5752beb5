//! Sync-in-async detection: a synchronous query made on a Tokio runtime worker thread blocks
//! every task scheduled there. `tokio::runtime::worker_index()` is `Some` exactly on worker
//! threads, and `None` in `spawn_blocking` and on plain threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::KeyValue;

use super::metrics::DbMetrics;
use crate::diagnostics::RateLimit;
use crate::state;

/// One pipeline's count of flagged queries, and the rate limit of its warnings.
#[derive(Debug, Default)]
struct Flagged {
    queries: AtomicU64,
    warnings: RateLimit,
}

/// The flagged queries of the pipeline in force (of the last global default once it was shut
/// down).
fn flagged() -> Option<Arc<Flagged>> {
    state::with_current_or_last(|pipeline| pipeline.extension::<Flagged>())
}

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

/// How many synchronous queries the pipeline in force flagged on async workers so far.
pub fn sync_in_async_queries() -> u64 {
    flagged().map_or(0, |flagged| flagged.queries.load(Ordering::Relaxed))
}

/// Counts a flagged query and warns, at most once per interval.
pub(crate) fn report(summary: &Option<String>, attributes: &[KeyValue]) {
    let Some(flagged) = flagged() else {
        return;
    };
    let total = flagged.queries.fetch_add(1, Ordering::Relaxed) + 1;
    DbMetrics::global().sync_in_async.add(1, attributes);
    if super::config::instrumentation_config().log_instrumentation_errors
        && flagged.warnings.allow()
    {
        eprintln!(
            "instrument: warning: synchronous query `{}` ran on an async runtime worker thread and blocked it; \
             move it into spawn_blocking ({total} such queries so far)",
            summary.as_deref().unwrap_or("?")
        );
    }
}
