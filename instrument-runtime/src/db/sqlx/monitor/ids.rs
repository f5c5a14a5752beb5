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

    /// The connection created at or just before `created`: among those created within the
    /// match window, the one `distance` rates closest (`None`: it cannot be that one), else the
    /// latest. Connections opened together are recorded microseconds apart, closer than a
    /// hook's estimate of the creation instant can tell them apart.
    pub(super) fn find_closest(
        &self,
        created: Instant,
        distance: impl Fn(u64) -> Option<Duration>,
    ) -> Option<u64> {
        let list = self.by_creation.load();
        let at = list.partition_point(|(time, _)| *time <= created);
        let mut latest = None;
        let mut best: Option<(Duration, u64)> = None;
        for (_, id) in list[..at]
            .iter()
            .rev()
            .take_while(|(time, _)| created.duration_since(*time) <= MATCH_WINDOW)
        {
            latest.get_or_insert(*id);
            if let Some(d) = distance(*id) {
                if best.is_none_or(|(closest, _)| d < closest) {
                    best = Some((d, *id));
                }
            }
        }
        best.map(|(_, id)| id).or(latest)
    }

    /// The connection whose age is `age` now (see [`find_closest`](Self::find_closest)).
    pub(super) fn find_by_age(
        &self,
        age: Duration,
        distance: impl Fn(u64) -> Option<Duration>,
    ) -> Option<u64> {
        self.find_closest(Instant::now().checked_sub(age)?, distance)
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

    fn any(_: u64) -> Option<Duration> {
        Some(Duration::ZERO)
    }

    #[test]
    fn connections_opened_together_are_told_apart_by_distance() {
        let ids = ConnectionIds::default();
        let first = Instant::now();
        let a = ids.register(first);
        ids.register(first + Duration::from_micros(10));
        let c = ids.register(first + Duration::from_micros(20));
        let estimate = first + Duration::from_micros(25);
        // The latest, unless the distance says otherwise.
        assert_eq!(ids.find_closest(estimate, any), Some(c));
        let rated = |id| (id != c).then(|| Duration::from_millis(if id == a { 1 } else { 5 }));
        assert_eq!(ids.find_closest(estimate, rated), Some(a));
        // None rated: the latest.
        assert_eq!(ids.find_closest(estimate, |_| None), Some(c));
    }

    #[test]
    fn a_connection_is_found_by_its_age() {
        let ids = ConnectionIds::default();
        let first = Instant::now();
        let a = ids.register(first);
        let b = ids.register(first + Duration::from_secs(1));
        assert_eq!(
            ids.find_closest(first + Duration::from_micros(3), any),
            Some(a)
        );
        assert_eq!(
            ids.find_closest(first + Duration::from_secs(1), any),
            Some(b)
        );
        assert_eq!(
            ids.find_closest(first + Duration::from_millis(500), any),
            None
        );
        assert_eq!(ids.find_by_age(Duration::from_secs(3600), any), None);
        assert!(ids.remove(a));
        assert!(!ids.remove(a));
        assert_eq!((ids.len(), ids.ids()), (1, vec![b]));
    }
}
