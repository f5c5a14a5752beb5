//! Per-thread answers that depend only on the capture configuration, kept until it changes:
//! whether a `'static` name (a struct field, a `tracing` field) is a secret — the word match
//! over the secret list costs hundreds of instructions, the cached answer a few — a filter that
//! rejects most other names before that match, the credential schemes, and the byte limits.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use super::CaptureConfig;
use super::config::{MAX_NAME_WORDS, split_words};

/// Slots of the per-thread cache (a power of two).
const SLOTS: usize = 512;

/// One remembered answer: the name's address, the configuration generation it was decided
/// under, and the answer.
#[derive(Clone, Copy)]
struct Slot {
    address: usize,
    generation: u32,
    secret: bool,
}

const EMPTY: Slot = Slot {
    address: 0,
    generation: 0,
    secret: false,
};

thread_local! {
    /// A cache of answers indexed by the name's address: names are `'static` strings of their
    /// callsites or types, so the address names the name. Each name has two slots (two hashes of
    /// its address), so two names sharing one slot do not evict each other on every call; a
    /// collision of three only costs recomputations.
    static CACHE: [Cell<Slot>; SLOTS] = const { [const { Cell::new(EMPTY) }; SLOTS] };
    /// The name filter of the configuration generation last read on this thread.
    static FILTER: RefCell<Option<NameFilter>> = const { RefCell::new(None) };
    /// The byte limits of the configuration generation last read on this thread.
    static LIMITS: Cell<(u32, usize, usize)> = const { Cell::new((0, 0, 0)) };
}

/// Whether the field or parameter `name` names a secret under the configuration in force.
#[inline]
pub(crate) fn is_secret_static(name: &'static str) -> bool {
    let address = name.as_ptr() as usize;
    let generation = super::generation();
    let hash = address.wrapping_mul(0x9E37_79B9_7F4A_7C15_usize);
    let slots = [(hash >> 7) % SLOTS, (hash >> 29) % SLOTS];
    CACHE
        .try_with(|cache| {
            for index in slots {
                let slot = cache[index].get();
                if slot.address == address && slot.generation == generation {
                    return slot.secret;
                }
            }
            let secret = is_secret_name(name);
            let first = cache[slots[0]].get();
            let index = if first.address == 0 || first.generation != generation {
                slots[0]
            } else {
                slots[1]
            };
            cache[index].set(Slot {
                address,
                generation,
                secret,
            });
            secret
        })
        .unwrap_or_else(|_| is_secret_name(name))
}

/// What a thread keeps of one configuration generation to judge names found inside text.
struct NameFilter {
    generation: u32,
    /// Bit `n` of entry `c` is set when a secret pattern's first word starts with a byte whose
    /// low five bits are `c` (ASCII case folds to the same entry) and is `n` bytes long (31 for
    /// longer words). A name none of whose words hits a set bit cannot match any pattern.
    first_words: [u32; 32],
    config: Arc<CaptureConfig>,
}

impl NameFilter {
    fn build(generation: u32) -> Self {
        let config = super::capture_config();
        let mut first_words = [0u32; 32];
        for pattern in &config.secret_names {
            let mut words = [""; MAX_NAME_WORDS];
            if split_words(pattern, &mut words) > 0 {
                let (slot, bit) = filter_position(words[0]);
                first_words[slot] |= 1 << bit;
            }
        }
        Self {
            generation,
            first_words,
            config,
        }
    }

    fn may_be_secret(&self, name: &str) -> bool {
        let mut words = [""; MAX_NAME_WORDS];
        let count = split_words(name, &mut words);
        words[..count].iter().any(|word| {
            let (slot, bit) = filter_position(word);
            self.first_words[slot] & (1 << bit) != 0
        })
    }
}

/// The filter entry and bit of a word.
fn filter_position(word: &str) -> (usize, u32) {
    let first = word.as_bytes().first().copied().unwrap_or(0);
    (usize::from(first & 31), word.len().min(31) as u32)
}

/// Runs `f` with this thread's filter for the configuration in force.
fn with_filter<R>(f: impl FnOnce(&NameFilter) -> R) -> Option<R> {
    let generation = super::generation();
    FILTER
        .try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            if slot
                .as_ref()
                .is_none_or(|filter| filter.generation != generation)
            {
                *slot = Some(NameFilter::build(generation));
            }
            slot.as_ref().map(f)
        })
        .ok()
        .flatten()
}

/// Whether `name`, found inside text or as a map key, names a secret under the configuration in
/// force. Most names are rejected by the per-thread filter in a few dozen instructions.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let filtered = with_filter(|filter| filter.may_be_secret(name)).unwrap_or(true);
    filtered && super::with_config(|config| config.is_secret(name))
}

/// Runs `f` with the credential scheme words of the configuration in force.
pub(crate) fn with_schemes<R>(f: impl Fn(&[std::borrow::Cow<'static, str>]) -> R) -> R {
    with_filter(|filter| f(&filter.config.credential_schemes))
        .unwrap_or_else(|| super::with_config(|config| f(&config.credential_schemes)))
}

/// `(max_value_bytes, max_span_bytes)` of the configuration in force, read once per thread and
/// configuration generation.
#[inline]
pub(crate) fn limits() -> (usize, usize) {
    let generation = super::generation();
    LIMITS
        .try_with(|cached| {
            let (seen, value, span) = cached.get();
            if seen == generation {
                return (value, span);
            }
            let (value, span) =
                super::with_config(|config| (config.max_value_bytes, config.max_span_bytes));
            cached.set((generation, value, span));
            (value, span)
        })
        .unwrap_or_else(|_| {
            super::with_config(|config| (config.max_value_bytes, config.max_span_bytes))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_follow_the_configuration() {
        let _lock = super::super::TEST_CONFIG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        assert!(is_secret_static("api_key"));
        assert!(!is_secret_static("model"));
        let _only_model = super::super::temporary_capture_config(super::super::CaptureConfig {
            secret_names: vec!["model".into()],
            ..Default::default()
        });
        assert!(is_secret_static("model"), "a new generation decides again");
        assert!(!is_secret_static("api_key"));
    }
}
