//! Whether instrumented calls record: the global switch, and a copy of it in each call site's
//! own static ([`CallSiteSwitch`]) that the call site's off path reads. A static of the calling
//! crate is read and compared in one instruction; the global switch, a static of this crate, takes
//! two in a position-independent executable (its address comes from the GOT first). A call site
//! registers its switch the first time it runs (an intrusive list, so nothing is allocated);
//! turning telemetry on or off sets every registered switch.

use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering};
use std::sync::{Mutex, PoisonError};

/// The global switches and the call sites' copies of the span switch.
struct Switches {
    /// Whether instrumented calls may record spans.
    spans: AtomicBool,
    /// Whether `#[metric]` calls and integrations may record measurements.
    metrics: AtomicBool,
    /// The registered call-site switches, newest first.
    registered: AtomicPtr<CallSiteSwitch>,
    /// Held while the switches are turned and the registered ones follow, and while a call
    /// site's switch registers, so that every switch ends up as the global one.
    turning: Mutex<()>,
}

static SWITCHES: Switches = Switches {
    spans: AtomicBool::new(false),
    metrics: AtomicBool::new(false),
    registered: AtomicPtr::new(ptr::null_mut()),
    turning: Mutex::new(()),
};

const UNKNOWN: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

/// Whether a tracer is installed and recording (the global default's, or one of a thread's
/// scoped override).
#[inline(always)]
pub fn enabled() -> bool {
    SWITCHES.spans.load(Ordering::Relaxed)
}

/// Whether a meter provider is installed. The off path of every `#[metric]` call.
#[inline(always)]
pub fn metrics_enabled() -> bool {
    SWITCHES.metrics.load(Ordering::Relaxed)
}

/// Sets the span and metric switches to what `decide` says, for every call site; `decide` runs
/// while no other thread turns them.
pub(crate) fn refresh(decide: impl FnOnce() -> (bool, bool)) {
    let _turning = SWITCHES
        .turning
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let (on, metrics) = decide();
    SWITCHES.metrics.store(metrics, Ordering::Release);
    SWITCHES.spans.store(on, Ordering::Release);
    let state = if on { ON } else { OFF };
    let mut next = SWITCHES.registered.load(Ordering::Acquire);
    // SAFETY: only `&'static` switches are registered, and never removed.
    while let Some(switch) = unsafe { next.as_ref() } {
        switch.state.store(state, Ordering::Release);
        next = switch.next.load(Ordering::Acquire);
    }
}

/// One call site's copy of the global switch.
#[derive(Debug)]
pub(crate) struct CallSiteSwitch {
    state: AtomicU8,
    registered: AtomicBool,
    next: AtomicPtr<CallSiteSwitch>,
}

impl Default for CallSiteSwitch {
    fn default() -> Self {
        Self::new()
    }
}

impl CallSiteSwitch {
    /// A switch not registered yet (its call site has not run).
    pub(crate) const fn new() -> Self {
        Self {
            state: AtomicU8::new(UNKNOWN),
            registered: AtomicBool::new(false),
            next: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Whether the call site is known not to record: the off path's one test.
    #[inline(always)]
    pub(crate) fn is_off(&self) -> bool {
        self.state.load(Ordering::Relaxed) == OFF
    }

    /// Whether the call site records now, registering its switch on its first run.
    #[inline]
    pub(crate) fn records(&'static self) -> bool {
        match self.state.load(Ordering::Relaxed) {
            ON => true,
            OFF => false,
            _ => self.register(),
        }
    }

    #[cold]
    fn register(&'static self) -> bool {
        let _turning = SWITCHES
            .turning
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !self.registered.swap(true, Ordering::AcqRel) {
            self.next.store(
                SWITCHES.registered.load(Ordering::Acquire),
                Ordering::Release,
            );
            SWITCHES
                .registered
                .store(ptr::from_ref(self).cast_mut(), Ordering::Release);
        }
        let on = SWITCHES.spans.load(Ordering::Acquire);
        self.state
            .store(if on { ON } else { OFF }, Ordering::Release);
        on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_switch_is_unknown_until_its_call_site_runs_then_the_global_one() {
        static SITE: CallSiteSwitch = CallSiteSwitch::new();
        assert!(!SITE.is_off(), "unknown: the call site takes the slow path");
        let on = SITE.records();
        assert_eq!(on, enabled());
        assert_eq!(SITE.is_off(), !on);
    }

    #[test]
    fn registering_twice_keeps_the_list_whole() {
        static TWICE: CallSiteSwitch = CallSiteSwitch::new();
        TWICE.register();
        TWICE.state.store(UNKNOWN, Ordering::Relaxed);
        TWICE.register();
        let mut seen = 0;
        let mut next = SWITCHES.registered.load(Ordering::Acquire);
        // SAFETY: registered switches are statics.
        while let Some(switch) = unsafe { next.as_ref() } {
            seen += usize::from(ptr::eq(switch, &TWICE));
            next = switch.next.load(Ordering::Acquire);
        }
        assert_eq!(seen, 1);
    }
}
