//! Deciding whether a `'static` name (a struct field, a `tracing` field) is a secret once per
//! name and capture configuration: the word match over the secret list costs hundreds of
//! instructions, the cached answer a hash lookup.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a field name's address: addresses are already unique, so one multiply spreads them
/// (SipHash would cost more than the rest of the lookup).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 << 8 | u64::from(*byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type ByAddress = HashMap<usize, bool, BuildHasherDefault<AddressHasher>>;

thread_local! {
    /// Whether each field name is a secret, under the capture configuration of a generation.
    /// Field names are `'static` strings of their callsites: the address names the field.
    static SECRET_NAMES: RefCell<(u32, ByAddress)> = RefCell::new((0, ByAddress::default()));
}

/// Whether the field or parameter `name` (a `'static` string of its callsite or type) names a
/// secret, decided once per name and configuration generation.
pub(crate) fn is_secret_static(name: &'static str) -> bool {
    let generation = super::generation();
    SECRET_NAMES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != generation {
            *cache = (generation, ByAddress::default());
        }
        *cache
            .1
            .entry(name.as_ptr() as usize)
            .or_insert_with(|| super::with_config(|config| config.is_secret(name)))
    })
}
