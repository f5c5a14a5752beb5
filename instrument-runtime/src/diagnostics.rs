//! Failures inside instrumentation: counted, reported on stderr at most once per interval, never
//! raised into the user's program.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static FAILURES: AtomicU64 = AtomicU64::new(0);
static LAST_REPORT_SECS: AtomicU64 = AtomicU64::new(0);

/// Minimum number of seconds between two failure reports on stderr.
const REPORT_INTERVAL_SECS: u64 = 10;

/// How many failures inside instrumentation have been caught since the process started
/// (a panicking `Debug` impl, an exporter error at setup, ...).
///
/// ```
/// let before = instrument_runtime::instrumentation_failures();
/// assert!(instrument_runtime::instrumentation_failures() >= before);
/// ```
pub fn instrumentation_failures() -> u64 {
    FAILURES.load(Ordering::Relaxed)
}

/// Counts a failure and reports it on stderr unless another report went out recently.
pub(crate) fn report_failure(what: &str) {
    let total = FAILURES.fetch_add(1, Ordering::Relaxed) + 1;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let last = LAST_REPORT_SECS.load(Ordering::Relaxed);
    if (last == 0 || now.saturating_sub(last) >= REPORT_INTERVAL_SECS)
        && LAST_REPORT_SECS
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        eprintln!("instrument: warning: {what} ({total} instrumentation failures so far)");
    }
}

/// Reports a configuration or setup problem on stderr. Not rate-limited: it happens once at setup.
pub(crate) fn warn(what: &str) {
    eprintln!("instrument: warning: {what}");
}
