//! Failures inside instrumentation: counted, reported on stderr at most once per interval, never
//! raised into the user's program.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static FAILURES: AtomicU64 = AtomicU64::new(0);
static FAILURE_REPORTS: RateLimit = RateLimit::new();

/// Minimum number of seconds between two reports of one kind on stderr.
const REPORT_INTERVAL_SECS: u64 = 10;

/// Lets one report through per [`REPORT_INTERVAL_SECS`].
#[derive(Debug, Default)]
pub(crate) struct RateLimit {
    last_secs: AtomicU64,
}

impl RateLimit {
    pub(crate) const fn new() -> Self {
        Self {
            last_secs: AtomicU64::new(0),
        }
    }

    /// Whether a report may go out now (and, if so, the next one waits an interval).
    pub(crate) fn allow(&self) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .max(1);
        let last = self.last_secs.load(Ordering::Relaxed);
        (last == 0 || now.saturating_sub(last) >= REPORT_INTERVAL_SECS)
            && self
                .last_secs
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// How many failures inside instrumentation have been caught since the process started
/// (a panicking `Debug` impl, an exporter error at setup, ...).
///
/// ```
/// let before = instrument::export::instrumentation_failures();
/// assert!(instrument::export::instrumentation_failures() >= before);
/// ```
pub fn instrumentation_failures() -> u64 {
    FAILURES.load(Ordering::Relaxed)
}

/// Counts a failure and reports it on stderr unless another report went out recently.
pub(crate) fn report_failure(what: &str) {
    let total = FAILURES.fetch_add(1, Ordering::Relaxed) + 1;
    if FAILURE_REPORTS.allow() {
        eprintln!("instrument: warning: {what} ({total} instrumentation failures so far)");
    }
}

/// Reports a configuration or setup problem on stderr. Not rate-limited: it happens once at setup.
pub(crate) fn warn(what: &str) {
    eprintln!("instrument: warning: {what}");
}

thread_local! {
    /// How many contained calls are running on this thread.
    static CONTAINING: Cell<u32> = const { Cell::new(0) };
}

static QUIET_HOOK: Once = Once::new();

/// Runs `f` (a user's `Debug` or `Serialize` impl called by instrumentation), catching a panic.
/// A panic caught here is the caller's to count and report: the panic hook prints nothing for
/// it, while every other panic (the user's own code) reaches the hook that was installed before.
pub(crate) fn contain<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    if !std::thread::panicking() {
        QUIET_HOOK.call_once(install_quiet_hook);
    }
    CONTAINING.with(|depth| depth.set(depth.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    CONTAINING.with(|depth| depth.set(depth.get() - 1));
    result
}

/// Wraps the panic hook in force: silent inside [`contain`], the previous hook elsewhere.
fn install_quiet_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let contained = CONTAINING
            .try_with(|depth| depth.get() > 0)
            .unwrap_or(false);
        if !contained {
            previous(info);
        }
    }));
}
