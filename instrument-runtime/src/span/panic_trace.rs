//! The stack trace of a panic in an instrumented call (`exception.stacktrace`).
//!
//! By the time the instrumented call's `catch_unwind` sees the panic, the frames of the panic
//! site are gone; so the trace is taken in a panic hook, on the panicking thread, before it
//! unwinds, and only when that thread is inside an instrumented call (a look at this thread's
//! span stack). The hook keeps the frames, unresolved, with the panic's message; the span's
//! `exception` event resolves them when the panic reaches it, and only if the message is the
//! same (a payload rethrown with `resume_unwind` from elsewhere gets no foreign trace). Nothing
//! of this runs on a call that does not panic, beyond installing the hook once.

use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::panic::PanicHookInfo;

use crate::capture::{BoundedText, with_config};

thread_local! {
    /// The last panic of this thread that started inside an instrumented call.
    static LAST: RefCell<Option<PanicTrace>> = const { RefCell::new(None) };
    /// How many instrumented calls made current in an OpenTelemetry context (rather than on the
    /// thread's span stack) are running on this thread.
    static ATTACHED: Cell<u32> = const { Cell::new(0) };
}

/// A panic's message and the stack where it happened.
struct PanicTrace {
    message: String,
    backtrace: Backtrace,
}

/// Has the toolkit's panic hook take the trace (from the first instrumented call on).
#[inline]
pub(super) fn install() {
    crate::diagnostics::on_panic(remember);
}

/// Marks this thread as inside an instrumented call made current in a context, until dropped.
#[derive(Debug)]
pub(crate) struct AttachedMark(());

impl AttachedMark {
    pub(super) fn new() -> Self {
        let _ = ATTACHED.try_with(|depth| depth.set(depth.get().saturating_add(1)));
        Self(())
    }
}

impl Drop for AttachedMark {
    fn drop(&mut self) {
        let _ = ATTACHED.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// In the panic hook: keeps the stack when the thread is inside an instrumented call. Must not
/// panic (a panic in a panic hook aborts): every thread-local is reached with `try_`.
fn remember(info: &PanicHookInfo<'_>) {
    let inside =
        super::local::has_frames() || ATTACHED.try_with(|depth| depth.get() > 0).unwrap_or(false);
    let _ = LAST.try_with(|last| {
        let Ok(mut last) = last.try_borrow_mut() else {
            return;
        };
        *last = inside.then(|| PanicTrace {
            message: payload_text(info.payload()).to_owned(),
            backtrace: Backtrace::force_capture(),
        });
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic with a non-string payload")
}

/// The stack trace of the panic with `message` on this thread, from the panic site down, bounded
/// by the capture limit (`max_value_bytes`); `None` when the hook kept none for it. The trace
/// stays for the enclosing instrumented calls the same panic unwinds through.
pub(super) fn stacktrace(message: &str) -> Option<String> {
    let text = LAST
        .try_with(|last| {
            let last = last.try_borrow().ok()?;
            let trace = last.as_ref().filter(|trace| trace.message == message)?;
            Some(trace.backtrace.to_string())
        })
        .ok()
        .flatten()?;
    let text = from_panic_site(&text);
    if text.is_empty() {
        return None;
    }
    let mut out = BoundedText::new(with_config(|config| config.max_value_bytes));
    let _ = out.write_str(text);
    Some(out.finish(Some(text.len())))
}

/// The stack of the calling thread from its first frame outside this crate down, bounded by the
/// capture limit (`max_value_bytes`): the `exception.stacktrace` of a failure that is not a panic
/// (a database error), taken where the failure is recorded. `None` when the platform gives none.
pub(crate) fn caller_stacktrace() -> Option<String> {
    let text = Backtrace::force_capture().to_string();
    let text = below_this_crate(&text);
    if text.is_empty() {
        return None;
    }
    let mut out = BoundedText::new(with_config(|config| config.max_value_bytes));
    let _ = out.write_str(text);
    Some(out.finish(Some(text.len())))
}

/// `trace` without its leading frames of the capture and of this crate.
fn below_this_crate(trace: &str) -> &str {
    let ours = |symbol: &str| {
        MACHINERY.iter().any(|m| symbol.starts_with(m))
            || symbol.starts_with("instrument_runtime::")
            || symbol.starts_with("<instrument_runtime::")
    };
    let frames = frames(trace);
    let site = frames
        .iter()
        .find(|(_, symbol)| !ours(symbol))
        .map_or(trace.len(), |(offset, _)| *offset);
    trace[site..].trim_end()
}

/// Frames where a panic enters `std`'s panic machinery: the panic site is the first frame below
/// the last of them (`core::panicking::panic_fmt` under `rust_begin_unwind`, say).
const PANIC_ENTRY: &[&str] = &[
    "rust_begin_unwind",
    "__rustc::rust_begin_unwind",
    "std::panicking::begin_panic",
    "std::panic::panic_any",
    "core::panicking::",
];

/// Frames of the panic machinery above the panic site when no entry frame was found: the
/// capture, this hook, `std`'s panic handling.
const MACHINERY: &[&str] = &[
    "std::backtrace",
    "std::panicking::",
    "std::sys::backtrace::",
    "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call",
    "instrument_runtime::span::panic_trace::",
];

/// The frames of `trace` (std's rendering: `  N: symbol` lines, each followed by its
/// `at file:line:column` lines): each frame's offset in `trace` and its symbol.
fn frames(trace: &str) -> Vec<(usize, &str)> {
    let mut frames = Vec::new();
    let mut offset = 0;
    for line in trace.split_inclusive('\n') {
        let frame = line
            .trim_start()
            .split_once(": ")
            .filter(|(index, _)| !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()));
        if let Some((_, symbol)) = frame {
            frames.push((offset, symbol));
        }
        offset += line.len();
    }
    frames
}

/// `trace` from the panic site down: without the frames of the panic machinery above it.
fn from_panic_site(trace: &str) -> &str {
    let frames = frames(trace);
    let is = |set: &[&str], symbol: &str| set.iter().any(|m| symbol.starts_with(m));
    let site = match frames.iter().position(|(_, s)| is(PANIC_ENTRY, s)) {
        Some(entry) => frames[entry..]
            .iter()
            .find(|(_, s)| !is(PANIC_ENTRY, s))
            .map_or(trace.len(), |(offset, _)| *offset),
        None => frames.iter().find(|(_, s)| !is(MACHINERY, s)).map_or_else(
            || frames.first().map_or(0, |_| trace.len()),
            |(offset, _)| *offset,
        ),
    };
    trace[site..].trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_the_panic_machinery() {
        let trace = "   0: std::backtrace::Backtrace::force_capture\n             at /rustc/x/library/std/src/backtrace.rs:1\n   1: core::bool::<impl bool>::then\n   2: std::panicking::rust_panic_with_hook\n   3: __rustc::rust_begin_unwind\n   4: core::panicking::panic_fmt\n   5: app::work\n             at src/main.rs:3:5\n   6: std::panicking::catch_unwind\n   7: main\n";
        assert_eq!(
            from_panic_site(trace),
            "   5: app::work\n             at src/main.rs:3:5\n   6: std::panicking::catch_unwind\n   7: main"
        );
        let no_entry = "   0: std::backtrace::Backtrace::force_capture\n   1: instrument_runtime::span::panic_trace::remember\n   2: app::work\n";
        assert_eq!(from_panic_site(no_entry), "   2: app::work");
    }

    #[test]
    fn a_caller_trace_starts_below_this_crate() {
        let trace = "   0: std::backtrace::Backtrace::force_capture\n   1: instrument_runtime::db::query::QuerySpan::end\n   2: <instrument_runtime::db::sqlx::traced::Traced<F> as core::future::future::Future>::poll\n   3: app::load::{{closure}}\n             at src/main.rs:9:5\n   4: main\n";
        assert_eq!(
            below_this_crate(trace),
            "   3: app::load::{{closure}}\n             at src/main.rs:9:5\n   4: main"
        );
        assert!(caller_stacktrace().is_some_and(|trace| !trace.contains("force_capture")));
    }

    #[test]
    fn keeps_a_trace_without_machinery() {
        assert_eq!(from_panic_site("   0: app::work\n"), "   0: app::work");
        assert_eq!(from_panic_site("disabled backtrace"), "disabled backtrace");
    }
}
