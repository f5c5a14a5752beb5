//! Per-thread answers that depend only on the capture configuration, kept until it changes:
//! whether a `'static` name (a struct field, a `tracing` field) is a secret — the word match
//! over the secret list costs hundreds of instructions, the cached answer a few — and the byte
//! limits.

use std::cell::Cell;

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
    /// A direct-mapped cache of answers, indexed by the name's address: names are `'static`
    /// strings of their callsites or types, so the address names the name. A collision only
    /// costs a recomputation.
    static CACHE: [Cell<Slot>; SLOTS] = const { [const { Cell::new(EMPTY) }; SLOTS] };
}

/// Whether the field or parameter `name` names a secret under the configuration in force.
#[inline]
pub(crate) fn is_secret_static(name: &'static str) -> bool {
    let address = name.as_ptr() as usize;
    let generation = super::generation();
    let index = (address.wrapping_mul(0x9E37_79B9_7F4A_7C15_usize) >> 7) % SLOTS;
    CACHE
        .try_with(|cache| {
            let slot = cache[index].get();
            if slot.address == address && slot.generation == generation {
                return slot.secret;
            }
            let secret = super::with_config(|config| config.is_secret(name));
            cache[index].set(Slot {
                address,
                generation,
                secret,
            });
            secret
        })
        .unwrap_or_else(|_| super::with_config(|config| config.is_secret(name)))
}

thread_local! {
    /// The byte limits of the configuration generation last read on this thread.
    static LIMITS: Cell<(u32, usize, usize)> = const { Cell::new((0, 0, 0)) };
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
