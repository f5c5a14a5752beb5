//! What a parameter's short form is once written in place ([`Written`]): its text, or an
//! integer kept as its value, its digits written where the span is exported (the call needs only
//! their length, for the limits).

/// What [`Capture::write_short`](super::Capture::write_short) wrote at the start of its room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The value's text, this many bytes.
    Text(usize),
    /// An integer's 8 bytes (little-endian, of a signed type when `signed`), whose text will
    /// be `digits` bytes long.
    Integer {
        /// The length of the integer's text.
        digits: usize,
        /// Whether the bytes are an `i64`'s (else a `u64`'s).
        signed: bool,
    },
}

/// Copies `text` into the start of `room` when it fits.
#[inline]
pub(super) fn copy_into(text: &[u8], room: &mut [u8]) -> Option<Written> {
    let target = room.get_mut(..text.len())?;
    copy_short(text, target);
    Some(Written::Text(text.len()))
}

/// `target.copy_from_slice(text)` (the two have one length) without a call to `memcpy` for
/// texts up to 16 bytes, the usual parameter (an id, a number, a name): two overlapping word
/// copies (callgrind counts ~16 instructions for each `memcpy` call of such a text).
#[inline]
fn copy_short(text: &[u8], target: &mut [u8]) {
    fn copy<const N: usize>(text: &[u8], target: &mut [u8]) {
        let len = text.len();
        let (head, tail) = (&text[..N], &text[len - N..]);
        target[..N].copy_from_slice(head);
        target[len - N..].copy_from_slice(tail);
    }
    match text.len() {
        8..=16 => copy::<8>(text, target),
        4..=7 => copy::<4>(text, target),
        2..=3 => copy::<2>(text, target),
        _ => target.copy_from_slice(text),
    }
}

/// Bytes an integer takes in place: as the span record keeps it.
pub(crate) use crate::state::INLINE_INTEGER_BYTES as INTEGER_BYTES;

/// Powers of ten that fit a `u64`: `POWERS_OF_TEN[n]` is 10ⁿ.
const POWERS_OF_TEN: [u64; 20] = {
    let mut powers = [1u64; 20];
    let mut n = 1;
    while n < 20 {
        powers[n] = powers[n - 1] * 10;
        n += 1;
    }
    powers
};

/// The number of decimal digits of `value`. Written out rather than `u64::checked_ilog10`,
/// which callgrind counts at about 20 instructions here against 8 for this: the bit length
/// gives the digits within one (`bits × log10 2`, as `bits × 1233 / 4096`), and one comparison
/// with the power of ten settles it.
#[inline]
pub(crate) fn digits(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros();
    let low = ((bits * 1233) >> 12) as usize;
    low + usize::from(value >= POWERS_OF_TEN[low]).max(usize::from(low == 0))
}

/// Writes `bits` (an integer whose text is `digits` long) into `room` when its text fits
/// `limit` and the room has [`INTEGER_BYTES`].
#[inline]
pub(crate) fn write_integer(
    bits: u64,
    digits: usize,
    signed: bool,
    limit: usize,
    room: &mut [u8],
) -> Option<Written> {
    if digits > limit {
        return None;
    }
    room.get_mut(..INTEGER_BYTES)?
        .copy_from_slice(&bits.to_le_bytes());
    Some(Written::Integer { digits, signed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_copies_copy_every_length() {
        let source: Vec<u8> = (1..=40).collect();
        for len in 0..=40 {
            let mut target = vec![0u8; len];
            copy_short(&source[..len], &mut target);
            assert_eq!(target, source[..len], "length {len}");
        }
    }

    #[test]
    fn digits_are_those_of_the_text() {
        let mut values = vec![0, 1, 9, 10, 11, 99, 100, 101, u64::MAX];
        for power in &POWERS_OF_TEN[1..] {
            values.extend([power - 1, *power, power + 1]);
        }
        for value in values {
            assert_eq!(digits(value), value.to_string().len(), "{value}");
        }
    }

    #[test]
    fn an_integer_is_written_only_within_the_limit_and_the_room() {
        let mut room = [0u8; 8];
        assert_eq!(
            write_integer(1234, 4, false, 4, &mut room),
            Some(Written::Integer {
                digits: 4,
                signed: false
            })
        );
        assert_eq!(room, 1234u64.to_le_bytes());
        assert_eq!(write_integer(1234, 4, false, 3, &mut room), None);
        assert_eq!(write_integer(1234, 4, false, 4, &mut [0u8; 7]), None);
    }
}
