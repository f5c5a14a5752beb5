//! Random span and trace ids from a per-thread generator (wyrand, as `fastrand` uses), seeded
//! from the standard library's per-thread random keys on a thread's first span.
//!
//! Written here for speed: the SDK's `RandomIdGenerator` (a `RefCell`ed xoshiro behind a lazily
//! initialised thread-local) cost ~70 instructions a root span, and `fastrand`'s free functions
//! (lazily initialised, ranged) ~140; this one costs ~15 (`bash benches/instructions.sh`).

use std::cell::Cell;
use std::hash::{BuildHasher, RandomState};

use opentelemetry::trace::{SpanId, TraceId};

thread_local! {
    /// The generator's state; 0 until the thread's first id.
    static STATE: Cell<u64> = const { Cell::new(0) };
}

/// A new span id, and a new trace id when `new_trace` (a root span): never the invalid 0.
#[inline]
pub(crate) fn new_ids(new_trace: bool) -> (Option<TraceId>, SpanId) {
    STATE
        .try_with(|state| ids_from(state, new_trace))
        // The thread is exiting: a generator seeded for this one call.
        .unwrap_or_else(|_| ids_from(&Cell::new(0), new_trace))
}

#[inline(always)]
fn ids_from(state: &Cell<u64>, new_trace: bool) -> (Option<TraceId>, SpanId) {
    if state.get() == 0 {
        state.set(seed());
    }
    let trace_id = new_trace.then(|| {
        let high = u128::from(next(state));
        TraceId::from((high << 64 | u128::from(next(state))).max(1))
    });
    (trace_id, SpanId::from(next(state).max(1)))
}

/// One step of wyrand.
#[inline(always)]
fn next(state: &Cell<u64>) -> u64 {
    let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
    state.set(s);
    let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
    ((t >> 64) as u64) ^ (t as u64)
}

/// A random non-zero seed: the standard library's hasher keys are random per thread (and per
/// hasher made), so hashing the thread's id with them gives a random number.
#[cold]
fn seed() -> u64 {
    RandomState::new().hash_one(std::thread::current().id()) | 1
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_valid_and_distinct_on_a_thread_and_across_threads() {
        let mut seen = HashSet::new();
        let mut traces = HashSet::new();
        for _ in 0..10_000 {
            let (trace_id, span_id) = new_ids(true);
            let trace_id = trace_id.expect("asked for");
            assert_ne!(span_id, SpanId::INVALID);
            assert_ne!(trace_id, TraceId::INVALID);
            assert!(seen.insert(span_id));
            assert!(traces.insert(trace_id));
        }
        let other: Vec<SpanId> =
            std::thread::spawn(|| (0..10_000).map(|_| new_ids(false).1).collect())
                .join()
                .unwrap();
        assert!(
            other.iter().all(|id| !seen.contains(id)),
            "another thread's ids are its own"
        );
        assert_eq!(new_ids(false).0, None, "no trace id unless asked");
    }
}
