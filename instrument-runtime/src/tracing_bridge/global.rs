//! The bridge's process-wide state: it is, at most, the one global `tracing` subscriber.

use std::sync::atomic::AtomicBool;

/// Whether the bridge was installed as the global subscriber, and its switch.
pub(super) struct Global {
    pub(super) installed: AtomicBool,
    /// Whether an event at `error` level marks its span as failed.
    pub(super) error_events_mark_spans: AtomicBool,
}

pub(super) static GLOBAL: Global = Global {
    installed: AtomicBool::new(false),
    error_events_mark_spans: AtomicBool::new(false),
};
