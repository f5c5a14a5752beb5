//! Naming sqlx connections. sqlx hands its hooks a connection and its age but no id, so each
//! connection is keyed by its creation instant (the moment `after_connect` finished, just before
//! sqlx stamps the connection), and a hook finds it again as `now − age`.
//!
//! The list is read on every checkout and checkin and written only when a connection opens or
//! closes, so it is a copy-on-write snapshot: readers take no lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

/// How far a hook's estimate of a creation instant may trail the recorded one (the estimate is
/// `now − age`, read a moment after sqlx computed the age; a descheduled thread widens it).
const MATCH_WINDOW: Duration = Duration::from_millis(50);

/// The open connections of one pool, by creation instant.
#[derive(Debug, Default)]
pub(crate) struct ConnectionIds {
    by_creation: ArcSwap<Vec<(Instant, u64)>>,
    next: AtomicU64,
}

impl ConnectionIds {
    /// A new connection's id, not yet known by its creation instant.
    pub(super) fn allocate(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Names the connection created at `created`.
    pub(super) fn register(&self, created: Instant) -> u64 {
        let id = self.allocate();
        self.insert(id, created);
        id
    }

    /// Knows connection `id` by its creation instant `created`.
    pub(super) fn insert(&self, id: u64, created: Instant) {
        self.by_creation.rcu(|list| {
            let mut list = Vec::clone(list);
            let at = list.partition_point(|(time, _)| *time <= created);
            list.insert(at, (created, id));
            list
        });
    }

    /// The connection created at or just before `created`.
    pub(super) fn find(&self, created: Instant) -> Option<u64> {
        let list = self.by_creation.load();
        let at = list.partition_point(|(time, _)| *time <= created);
        let (time, id) = *list.get(at.checked_sub(1)?)?;
        (created.duration_since(time) <= MATCH_WINDOW).then_some(id)
    }

    /// The connection whose age is `age` now.
    pub(super) fn find_by_age(&self, age: Duration) -> Option<u64> {
        self.find(Instant::now().checked_sub(age)?)
    }

    /// Forgets connection `id`; whether it was known.
    pub(super) fn remove(&self, id: u64) -> bool {
        let mut found = false;
        self.by_creation.rcu(|list| {
            let mut list = Vec::clone(list);
            let before = list.len();
            list.retain(|(_, known)| *known != id);
            found = list.len() != before;
            list
        });
        found
    }

    /// How many connections are known.
    pub(super) fn len(&self) -> usize {
        self.by_creation.load().len()
    }

    /// The known connections, oldest first.
    pub(super) fn ids(&self) -> Vec<u64> {
        self.by_creation.load().iter().map(|(_, id)| *id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_found_by_its_age() {
        let ids = ConnectionIds::default();
        let first = Instant::now();
        let a = ids.register(first);
        let b = ids.register(first + Duration::from_secs(1));
        assert_eq!(ids.find(first + Duration::from_micros(3)), Some(a));
        assert_eq!(ids.find(first + Duration::from_secs(1)), Some(b));
        assert_eq!(ids.find(first + Duration::from_millis(500)), None);
        assert_eq!(ids.find_by_age(Duration::from_secs(3600)), None);
        assert!(ids.remove(a));
        assert!(!ids.remove(a));
        assert_eq!((ids.len(), ids.ids()), (1, vec![b]));
    }
}
