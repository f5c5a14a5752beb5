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
    seed: fnv::FnvBuildHasher,
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
                seed: fnv::FnvBuildHasher::default(),
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

    /// The first pattern matching `"{method} {path}"` made low-cardinality: `path` with the text
    /// of each named group (`(?P<agent_id>[^/]+)`) put back as `{agent_id}`, and whether the
    /// pattern has a named group at all. `None` when no pattern matches.
    pub(crate) fn normalized(&self, method: &str, path: &str) -> Option<(String, bool)> {
        if !self.matches(method, path) {
            return None;
        }
        let line = format!("{method} {path}");
        let (regex, captures) = self
            .regexes
            .iter()
            .find_map(|r| r.captures(&line).map(|c| (r, c)))?;
        let offset = method.len() + 1;
        let mut groups: Vec<(usize, usize, &str)> = regex
            .capture_names()
            .enumerate()
            .filter_map(|(index, name)| {
                let (found, name) = (captures.get(index)?, name?);
                // Only what lies in the path (not in the method) is put back.
                (found.start() >= offset).then_some((found.start(), found.end(), name))
            })
            .collect();
        let named = regex.capture_names().any(|name| name.is_some());
        // Outermost first: a group inside another is replaced with it.
        groups.sort_by_key(|(start, end, _)| (*start, std::cmp::Reverse(*end)));
        let mut out = String::with_capacity(path.len());
        let mut at = offset;
        for (start, end, name) in groups {
            if start < at {
                continue;
            }
            out.push_str(&line[at..start]);
            out.push('{');
            out.push_str(name);
            out.push('}');
            at = end;
        }
        out.push_str(&line[at..]);
        Some((out, named))
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

    #[test]
    fn named_groups_are_put_back_as_their_names() {
        let agents = patterns(&[
            "^POST /v1/agents/(?P<agent_id>[^/]+)/messages$",
            "^GET /v1/(?P<kind>(?P<inner>[a-z]+)s)/(?P<id>[^/]+)$",
            "^PUT /v1/jobs/",
        ]);
        for _ in 0..2 {
            assert_eq!(
                agents.normalized("POST", "/v1/agents/a-123/messages"),
                Some(("/v1/agents/{agent_id}/messages".to_owned(), true))
            );
        }
        assert_eq!(
            agents.normalized("POST", "/v1/agents/{agent_id}/messages"),
            Some(("/v1/agents/{agent_id}/messages".to_owned(), true)),
            "a template is its own normal form"
        );
        assert_eq!(
            agents.normalized("GET", "/v1/tools/t-9"),
            Some(("/v1/{kind}/{id}".to_owned(), true)),
            "the outer group wins"
        );
        assert_eq!(
            agents.normalized("PUT", "/v1/jobs/j-1/run"),
            Some(("/v1/jobs/j-1/run".to_owned(), false)),
            "no named group: the path as it is"
        );
        assert_eq!(agents.normalized("GET", "/v1/agents/a-123/messages"), None);
        assert_eq!(agents.normalized("POST", "/v1/agents/a/b/messages"), None);
    }
}
