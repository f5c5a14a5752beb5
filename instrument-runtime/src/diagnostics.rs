//! Failures inside instrumentation: counted, reported on stderr at most once per interval, never
//! raised into the user's program; warnings about a call site, once each; and the toolkit's one
//! panic hook.

use std::cell::Cell;
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, Location, PanicHookInfo, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// What the process knows of failures inside instrumentation, and its panic hook: process-wide
/// because stderr and the panic hook are.
struct Diagnostics {
    failures: AtomicU64,
    failure_reports: RateLimit,
    /// Call sites warned about already.
    warned_at: Mutex<Option<HashSet<&'static Location<'static>>>>,
    panic_hook: Once,
    /// What the hook runs first on a panic outside [`contain`] (the stack-trace keeper).
    on_panic: OnceLock<fn(&PanicHookInfo<'_>)>,
}

static DIAGNOSTICS: Diagnostics = Diagnostics {
    failures: AtomicU64::new(0),
    failure_reports: RateLimit::new(),
    warned_at: Mutex::new(None),
    panic_hook: Once::new(),
    on_panic: OnceLock::new(),
};

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
    DIAGNOSTICS.failures.load(Ordering::Relaxed)
}

/// Counts a failure and reports it on stderr unless another report went out recently.
pub(crate) fn report_failure(what: &str) {
    let total = DIAGNOSTICS.failures.fetch_add(1, Ordering::Relaxed) + 1;
    if DIAGNOSTICS.failure_reports.allow() {
        eprintln!("instrument: warning: {what} ({total} instrumentation failures so far)");
    }
}

/// Reports a configuration or setup problem on stderr. Not rate-limited: it happens once at setup.
pub(crate) fn warn(what: &str) {
    eprintln!("instrument: warning: {what}");
}

/// Reports what `what` says about the call site `caller` on stderr, the first time only.
pub(crate) fn warn_once_at(caller: &'static Location<'static>, what: impl FnOnce() -> String) {
    let first = DIAGNOSTICS
        .warned_at
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashSet::new)
        .insert(caller);
    if first {
        warn(&what());
    }
}

thread_local! {
    /// How many contained calls are running on this thread.
    static CONTAINING: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` (a user's `Debug` or `Serialize` impl called by instrumentation), catching a panic.
/// A panic caught here is the caller's to count and report: the panic hook prints nothing for
/// it, while every other panic (the user's own code) reaches the hook that was installed before.
pub(crate) fn contain<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let _ = install_panic_hook();
    CONTAINING.with(|depth| depth.set(depth.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    CONTAINING.with(|depth| depth.set(depth.get() - 1));
    result
}

/// Has the toolkit's panic hook run `on_panic` first on every panic outside [`contain`] (once;
/// the stack-trace keeper of instrumented calls registers itself here).
#[inline]
pub(crate) fn on_panic(on_panic: fn(&PanicHookInfo<'_>)) {
    if DIAGNOSTICS.on_panic.get().is_none() {
        register_on_panic(on_panic);
    }
}

#[cold]
fn register_on_panic(on_panic: fn(&PanicHookInfo<'_>)) {
    if install_panic_hook() {
        let _ = DIAGNOSTICS.on_panic.set(on_panic);
    }
}

/// Wraps the panic hook in force, once (never while the thread panics, where setting a hook
/// would panic): silent inside [`contain`]; elsewhere the registered `on_panic`, then the
/// previous hook. Whether the hook is in place.
fn install_panic_hook() -> bool {
    if DIAGNOSTICS.panic_hook.is_completed() {
        return true;
    }
    if std::thread::panicking() {
        return false;
    }
    DIAGNOSTICS.panic_hook.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let contained = CONTAINING
                .try_with(|depth| depth.get() > 0)
                .unwrap_or(false);
            if !contained {
                if let Some(on_panic) = DIAGNOSTICS.on_panic.get() {
                    on_panic(info);
                }
                previous(info);
            }
        }));
    });
    true
}
