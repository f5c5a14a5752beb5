//! Route patterns matched against `"{METHOD} {route}"`, with each decision remembered: a request
//! whose method and route (or path) were seen before costs one hash and one atomic load instead
//! of formatting the line and running the regexes.
//!
//! The memory is a fixed table of 256 slots, each holding a 64-bit fingerprint of the line (from
//! a per-process random hash seed) and the decision; a new line takes its slot over. Hand-written
//! rather than a map crate: it must be lock-free and allocation-free on the request path.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use regex::Regex;

const SLOTS: usize = 256;

/// Compiled patterns and the decisions made with them.
#[derive(Clone, Debug)]
pub(crate) struct RoutePatterns {
    regexes: Vec<Regex>,
    decided: Arc<Decisions>,
}

struct Decisions {
    seed: foldhash::fast::RandomState,
    slots: Box<[AtomicU64]>,
}

impl std::fmt::Debug for Decisions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Decisions")
    }
}

impl RoutePatterns {
    /// `regexes`, with no decision made yet.
    pub(crate) fn new(regexes: Vec<Regex>) -> Self {
        Self {
            regexes,
            decided: Arc::new(Decisions {
                seed: foldhash::fast::RandomState::default(),
                slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            }),
        }
    }

    /// Whether a pattern matches `"{method} {route}"`.
    pub(crate) fn matches(&self, method: &str, route: &str) -> bool {
        if self.regexes.is_empty() {
            return false;
        }
        let hash = self.decided.seed.hash_one((method, route));
        // The low bit holds the decision; a fingerprint is never 0 (an empty slot).
        let fingerprint = (hash & !1).max(2);
        let slot = &self.decided.slots[(hash >> 56) as usize % SLOTS];
        let seen = slot.load(Ordering::Relaxed);
        if seen & !1 == fingerprint {
            return seen & 1 == 1;
        }
        let line = format!("{method} {route}");
        let matched = self.regexes.iter().any(|r| r.is_match(&line));
        slot.store(fingerprint | u64::from(matched), Ordering::Relaxed);
        matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(list: &[&str]) -> RoutePatterns {
        RoutePatterns::new(list.iter().map(|p| Regex::new(p).unwrap()).collect())
    }

    #[test]
    fn decisions_are_the_regexes_and_stay_right_when_remembered() {
        let health = patterns(&["^GET /v1/health$"]);
        for _ in 0..3 {
            assert!(health.matches("GET", "/v1/health"));
            assert!(!health.matches("POST", "/v1/health"));
            assert!(!health.matches("GET", "/v1/health/deep"));
        }
        for i in 0..2_000 {
            assert!(!health.matches("GET", &format!("/v1/agents/{i}")));
        }
        assert!(
            health.matches("GET", "/v1/health"),
            "after slots were taken over"
        );
        assert!(!patterns(&[]).matches("GET", "/v1/health"));
    }
}
