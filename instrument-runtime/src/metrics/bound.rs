//! Instruments bound to attribute sets seen before, for integrations that record the same few
//! sets over and over (an HTTP route's status, a database statement's operation): the set is
//! found by a hash of what identifies it under a read lock, and the SDK's per-call attribute
//! lookup is skipped. Bounded: past [`MAX_BOUND_SETS`] sets, the caller records the ordinary way.
//!
//! Keyed by a 64-bit FNV-1a hash of what identifies the set rather than by the attribute set
//! itself, so a lookup allocates nothing; two sets sharing a hash is left to chance (2⁻⁶⁴ per
//! pair).

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash};
use std::sync::{OnceLock, RwLock};

use fnv::FnvBuildHasher;

use crate::state::PreHashed;

/// Attribute sets bound per table at most.
pub(crate) const MAX_BOUND_SETS: usize = 1_024;

/// Texts kept for the life of the process at most (texts that name few things: routes, span
/// names of routes, statements, relationships, models, tools and agents).
const MAX_KEPT_TEXTS: usize = 6 * MAX_BOUND_SETS;

/// The process's kept texts: each is made once and leaked, so that every span and measurement
/// naming the same thing shares it instead of copying it.
static KEPT_TEXTS: OnceLock<BoundSets<&'static str>> = OnceLock::new();

/// The text `make` gives for `identity` among the texts of `kind` (`"route"`, ...), kept
/// for the life of the process, or made afresh once [`MAX_KEPT_TEXTS`] are kept.
pub(crate) fn kept_text(
    kind: &'static str,
    identity: impl Hash,
    make: impl Fn() -> String,
) -> Cow<'static, str> {
    let mut kept_text = None;
    let table = KEPT_TEXTS.get_or_init(|| BoundSets::with_limit(MAX_KEPT_TEXTS));
    let kept = table.record(
        // The kind by its address: a literal's, told apart without hashing its text.
        (kind.as_ptr() as usize, identity),
        || Box::leak(make().into_boxed_str()),
        |text| kept_text = Some(*text),
    );
    match kept_text {
        Some(text) if kept => Cow::Borrowed(text),
        _ => Cow::Owned(make()),
    }
}

/// Bound instruments of type `B` by the hash of what identifies their attribute set.
pub(crate) struct BoundSets<B> {
    seed: FnvBuildHasher,
    limit: usize,
    /// The keys are hashes already: the table takes them as they are.
    table: RwLock<HashMap<u64, B, BuildHasherDefault<PreHashed>>>,
}

impl<B> Default for BoundSets<B> {
    fn default() -> Self {
        Self::with_limit(MAX_BOUND_SETS)
    }
}

impl<B> BoundSets<B> {
    /// A table binding `limit` sets at most.
    pub(crate) fn with_limit(limit: usize) -> Self {
        Self {
            seed: FnvBuildHasher::default(),
            limit,
            table: RwLock::new(HashMap::default()),
        }
    }

    /// Runs `record` on the instrument bound for the set `identity` names, binding it with
    /// `bind` the first time; `false` (nothing recorded) when the table is full.
    pub(crate) fn record(
        &self,
        identity: impl Hash,
        bind: impl FnOnce() -> B,
        record: impl FnOnce(&B),
    ) -> bool {
        let key = self.seed.hash_one(identity);
        if let Some(bound) = self
            .table
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            record(bound);
            return true;
        }
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        if table.len() >= self.limit && !table.contains_key(&key) {
            return false;
        }
        record(table.entry(key).or_insert_with(bind));
        true
    }

    /// The instrument already bound for the set `identity` names, if any. Binds nothing: an
    /// instrument bound before anything is recorded into it may never be, and its empty series
    /// would be exported, under cumulative temporality, as a histogram point of count 0.
    pub(crate) fn bound(&self, identity: impl Hash) -> Option<B>
    where
        B: Clone,
    {
        let key = self.seed.hash_one(identity);
        let table = self.table.read().unwrap_or_else(|e| e.into_inner());
        table.get(&key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn binds_once_per_set_and_stops_at_the_bound() {
        let sets = BoundSets::<u32>::default();
        let binds = Cell::new(0);
        for _ in 0..3 {
            assert!(sets.record(
                ("GET", 200),
                || {
                    binds.set(binds.get() + 1);
                    7
                },
                |b| assert_eq!(*b, 7)
            ));
        }
        assert_eq!(binds.get(), 1);
        for i in 0..MAX_BOUND_SETS {
            sets.record(i, || 0, |_| {});
        }
        assert!(!sets.record("one too many", || 0, |_| {}));
        assert!(sets.record(("GET", 200), || 0, |b| assert_eq!(*b, 7)));
    }

    #[test]
    fn looking_a_set_up_binds_nothing() {
        let sets = BoundSets::<u32>::default();
        assert_eq!(sets.bound(("GET", 200)), None);
        assert!(sets.record(("GET", 200), || 7, |_| {}));
        assert_eq!(sets.bound(("GET", 200)), Some(7));
        assert_eq!(sets.bound(("GET", 404)), None);
    }
}
