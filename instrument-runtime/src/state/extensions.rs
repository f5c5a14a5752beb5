//! Per-pipeline state of the layers above `state` (export accounting, integrations), by type,
//! so that this layer does not name them.
//!
//! Read on hot paths (a request, a statement or a model call finds its pipeline's bound
//! instruments here), so [`Extensions::find`] takes no lock, writes nothing shared and costs a
//! few instructions: the values sit in a fixed table of write-once slots, each type's first slot
//! chosen by its `TypeId` (a hash already) and probed onward from there. A type's value is added
//! once, on its first use, and never removed, so an empty slot ends a search. Should the table
//! ever fill (more types than slots), the further values are kept in a list behind the lock.

use std::any::{Any, TypeId};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

/// Room for the extension types: the layers above use about a dozen.
const SLOTS: usize = 64;

/// A pipeline's extensions: one value of each type used, made with `Default` on first use.
pub(crate) struct Extensions {
    slots: [OnceLock<Extension>; SLOTS],
    /// Held while a value is added, so that two threads adding the same type add it once; holds
    /// the values that found no free slot.
    adding: Mutex<Vec<Extension>>,
}

/// One type's value.
struct Extension {
    type_id: TypeId,
    value: Arc<dyn Any + Send + Sync>,
}

impl Default for Extensions {
    fn default() -> Self {
        Self {
            slots: std::array::from_fn(|_| OnceLock::new()),
            adding: Mutex::new(Vec::new()),
        }
    }
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let overflow = self.adding.lock().map_or(0, |overflow| overflow.len());
        let held = self
            .slots
            .iter()
            .filter(|slot| slot.get().is_some())
            .count()
            + overflow;
        f.debug_struct("Extensions").field("values", &held).finish()
    }
}

/// The hasher of keys that are hashes already (a `TypeId`, a table's FNV key): it takes the one
/// `u64` they hash as, as it is; bytes, should a key write any, are folded in.
#[derive(Default)]
pub(crate) struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, bits: u64) {
        self.0 ^= bits;
    }
}

/// The slots `T`'s value may be in, in the order it is looked for.
fn probe<T: 'static>() -> impl Iterator<Item = usize> {
    let mut bits = PreHashed::default();
    TypeId::of::<T>().hash(&mut bits);
    let home = (bits.finish() % SLOTS as u64) as usize;
    (0..SLOTS).map(move |step| (home + step) % SLOTS)
}

impl Extensions {
    /// The `T` held, if one was added.
    #[inline]
    pub(crate) fn find<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.find_extension::<T>()
            .and_then(|extension| extension.value.downcast_ref())
    }

    fn find_extension<T: 'static>(&self) -> Option<&Extension> {
        for index in probe::<T>() {
            let extension = self.slots[index].get()?;
            if extension.type_id == TypeId::of::<T>() {
                return Some(extension);
            }
        }
        None
    }

    /// The `T` held, made with `T::default()` on first use (made before the lock is taken, so a
    /// `Default` that reads another extension does not wait on itself).
    pub(crate) fn get_or_default<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        if let Some(found) = self.shared::<T>() {
            return found;
        }
        let made: Arc<T> = Arc::new(T::default());
        let mut overflow = self
            .adding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(found) = self.shared::<T>() {
            return found;
        }
        if let Some(kept) = overflow
            .iter()
            .find(|extension| extension.type_id == TypeId::of::<T>())
        {
            if let Ok(found) = kept.value.clone().downcast() {
                return found;
            }
        }
        let extension = Extension {
            type_id: TypeId::of::<T>(),
            value: made.clone(),
        };
        match probe::<T>().find(|index| self.slots[*index].get().is_none()) {
            Some(index) => {
                let _ = self.slots[index].set(extension);
            }
            None => overflow.push(extension),
        }
        made
    }

    fn shared<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let extension = self.find_extension::<T>()?;
        extension.value.clone().downcast().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Counted(AtomicUsize);

    #[derive(Default)]
    struct Named(String);

    macro_rules! types {
        ($($name:ident)*) => { $( #[derive(Default)] struct $name; )* };
    }
    types!(A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 B0 B1 B2 B3 B4 B5 B6 B7 B8 B9);

    #[test]
    fn a_type_is_made_once_and_found_again() {
        let extensions = Extensions::default();
        assert!(extensions.find::<Counted>().is_none());
        extensions
            .get_or_default::<Counted>()
            .0
            .fetch_add(2, Ordering::Relaxed);
        extensions
            .get_or_default::<Counted>()
            .0
            .fetch_add(3, Ordering::Relaxed);
        let found = extensions.find::<Counted>().expect("added");
        assert_eq!(found.0.load(Ordering::Relaxed), 5);
        assert_eq!(extensions.get_or_default::<Named>().0, "");
        assert_eq!(format!("{extensions:?}"), "Extensions { values: 2 }");
    }

    #[test]
    fn many_types_each_keep_their_own_value() {
        let extensions = Extensions::default();
        macro_rules! add {
            ($($name:ident)*) => { $( extensions.get_or_default::<$name>(); )* };
        }
        add!(A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 B0 B1 B2 B3 B4 B5 B6 B7 B8 B9);
        extensions
            .get_or_default::<Counted>()
            .0
            .store(7, Ordering::Relaxed);
        macro_rules! found {
            ($($name:ident)*) => { $( assert!(extensions.find::<$name>().is_some()); )* };
        }
        found!(A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 B0 B1 B2 B3 B4 B5 B6 B7 B8 B9);
        assert_eq!(
            extensions
                .find::<Counted>()
                .unwrap()
                .0
                .load(Ordering::Relaxed),
            7
        );
        assert_eq!(format!("{extensions:?}"), "Extensions { values: 21 }");
    }

    #[test]
    fn values_past_the_last_free_slot_are_kept_too() {
        let extensions = Extensions::default();
        for index in 0..SLOTS {
            let _ = extensions.slots[index].set(Extension {
                type_id: TypeId::of::<u8>(),
                value: Arc::new(index),
            });
        }
        extensions
            .get_or_default::<Counted>()
            .0
            .fetch_add(4, Ordering::Relaxed);
        extensions
            .get_or_default::<Counted>()
            .0
            .fetch_add(1, Ordering::Relaxed);
        assert_eq!(
            extensions
                .get_or_default::<Counted>()
                .0
                .load(Ordering::Relaxed),
            5
        );
        assert_eq!(
            format!("{extensions:?}"),
            format!("Extensions {{ values: {} }}", SLOTS + 1)
        );
    }

    #[test]
    fn threads_adding_one_type_at_once_share_one_value() {
        let extensions = Arc::new(Extensions::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let extensions = extensions.clone();
                std::thread::spawn(move || {
                    extensions
                        .get_or_default::<Counted>()
                        .0
                        .fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(
            extensions
                .find::<Counted>()
                .unwrap()
                .0
                .load(Ordering::Relaxed),
            8
        );
    }
}
