//! Per-connection lifecycle records, sharded by connection id so concurrent checkouts of
//! different connections never wait on one lock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

const SHARDS: usize = 16;

/// What a pool monitor knows of one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionLifecycle {
    /// When the connection was opened.
    pub created_at: SystemTime,
    /// Nanoseconds since the monitor started at the current checkout, if checked out.
    pub checked_out_at_ns: Option<u128>,
    /// When the connection was last returned to the pool.
    pub checked_in_at: Option<SystemTime>,
    /// How many times the connection was checked out.
    pub checkout_count: u64,
    /// Whether the connection was detached from the pool.
    pub detached: bool,
    /// Whether the current (or, once checked in, the last) checkout was reported as held past
    /// the monitor's long-held threshold (`long_held`).
    pub long_held: bool,
}

/// The lifecycle records of one pool.
pub(crate) struct Lifecycles {
    epoch: Instant,
    shards: Vec<Mutex<HashMap<u64, ConnectionLifecycle>>>,
}

impl Lifecycles {
    pub(super) fn new() -> Self {
        Self {
            epoch: Instant::now(),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, id: u64) -> std::sync::MutexGuard<'_, HashMap<u64, ConnectionLifecycle>> {
        self.shards[(id as usize) % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Nanoseconds since the records started.
    pub(super) fn now_ns(&self) -> u128 {
        self.epoch.elapsed().as_nanos()
    }

    pub(super) fn created(&self, id: u64) {
        self.shard(id).insert(
            id,
            ConnectionLifecycle {
                created_at: SystemTime::now(),
                checked_out_at_ns: None,
                checked_in_at: None,
                checkout_count: 0,
                detached: false,
                long_held: false,
            },
        );
    }

    /// Marks a checkout.
    pub(super) fn checked_out(&self, id: u64) {
        let now = self.now_ns();
        let mut shard = self.shard(id);
        let record = shard.entry(id).or_insert_with(|| ConnectionLifecycle {
            created_at: SystemTime::now(),
            checked_out_at_ns: None,
            checked_in_at: None,
            checkout_count: 0,
            detached: false,
            long_held: false,
        });
        record.checked_out_at_ns = Some(now);
        record.checkout_count += 1;
        record.long_held = false;
    }

    /// Marks a checkin; returns how long the connection was out, in nanoseconds, and whether
    /// that checkout was already reported as held too long.
    pub(super) fn checked_in(&self, id: u64) -> Option<(u128, bool)> {
        let now = self.now_ns();
        let mut shard = self.shard(id);
        let record = shard.get_mut(&id)?;
        record.checked_in_at = Some(SystemTime::now());
        let out = record.checked_out_at_ns.take()?;
        Some((now.saturating_sub(out), record.long_held))
    }

    /// Flags every connection checked out for longer than `threshold_ns` and not flagged yet;
    /// returns how many it flagged. One pass over the records, a shard lock at a time.
    pub(super) fn flag_long_held(&self, threshold_ns: u128) -> u64 {
        let now = self.now_ns();
        let mut flagged = 0;
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for record in shard.values_mut() {
                if let Some(out) = record.checked_out_at_ns
                    && !record.long_held
                    && now.saturating_sub(out) > threshold_ns
                {
                    record.long_held = true;
                    flagged += 1;
                }
            }
        }
        flagged
    }

    pub(super) fn detached(&self, id: u64) {
        if let Some(record) = self.shard(id).get_mut(&id) {
            record.detached = true;
        }
    }

    pub(super) fn removed(&self, id: u64) -> Option<ConnectionLifecycle> {
        self.shard(id).remove(&id)
    }

    /// Removes connection `id`'s record unless it is checked out; `None` when it is (and was
    /// kept), else the removed record, if there was one. One step under the shard's lock, so a
    /// checkout cannot slip between the look and the removal.
    #[cfg(feature = "sqlx")]
    pub(super) fn removed_unless_checked_out(
        &self,
        id: u64,
    ) -> Option<Option<ConnectionLifecycle>> {
        let mut shard = self.shard(id);
        if shard
            .get(&id)
            .is_some_and(|record| record.checked_out_at_ns.is_some())
        {
            return None;
        }
        Some(shard.remove(&id))
    }

    pub(super) fn get(&self, id: u64) -> Option<ConnectionLifecycle> {
        self.shard(id).get(&id).cloned()
    }

    pub(super) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "sqlx")]
    #[test]
    fn a_checked_out_connection_is_not_removed_on_a_guess() {
        let records = Lifecycles::new();
        records.created(3);
        records.checked_out(3);
        assert!(records.removed_unless_checked_out(3).is_none());
        assert!(records.checked_in(3).is_some());
        assert!(matches!(
            records.removed_unless_checked_out(3),
            Some(Some(_))
        ));
        assert!(matches!(records.removed_unless_checked_out(3), Some(None)));
    }

    #[test]
    fn records_follow_the_connection() {
        let records = Lifecycles::new();
        records.created(7);
        records.checked_out(7);
        assert!(records.get(7).unwrap().checked_out_at_ns.is_some());
        assert!(records.checked_in(7).is_some());
        let record = records.get(7).unwrap();
        assert_eq!((record.checkout_count, record.checked_out_at_ns), (1, None));
        assert!(record.checked_in_at.is_some());
        records.detached(7);
        assert!(records.get(7).unwrap().detached);
        records.checked_out(7);
        assert_eq!(records.flag_long_held(u128::MAX), 0);
        assert_eq!(records.flag_long_held(0), 1);
        assert_eq!(records.flag_long_held(0), 0, "a checkout is flagged once");
        assert!(matches!(records.checked_in(7), Some((_, true))));
        records.checked_out(7);
        assert!(
            !records.get(7).unwrap().long_held,
            "a new checkout starts unflagged"
        );
        assert!(records.removed(7).is_some());
        assert_eq!(records.len(), 0);
    }
}
