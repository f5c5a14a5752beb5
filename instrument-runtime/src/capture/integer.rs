//! An integer parameter kept as its value, for its digits to be written where the span is
//! exported instead of by the call (the digits' length is all the call needs, for the limits).

/// An integer parameter's value (any integer type of at most 64 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integer {
    /// From an unsigned type.
    Unsigned(u64),
    /// From a signed type.
    Signed(i64),
}

impl Integer {
    /// The length of its digits (and sign).
    #[inline]
    pub fn text_len(self) -> usize {
        fn digits(value: u64) -> usize {
            value.checked_ilog10().map_or(1, |d| d as usize + 1)
        }
        match self {
            Self::Unsigned(value) => digits(value),
            Self::Signed(value) => usize::from(value < 0) + digits(value.unsigned_abs()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_is_that_of_the_digits_the_collector_writes() {
        let cases = [
            Integer::Unsigned(0),
            Integer::Unsigned(9),
            Integer::Unsigned(10),
            Integer::Unsigned(u64::MAX),
            Integer::Signed(0),
            Integer::Signed(-1),
            Integer::Signed(-10),
            Integer::Signed(i64::MIN),
            Integer::Signed(i64::MAX),
        ];
        for integer in cases {
            let text = match integer {
                Integer::Unsigned(v) => v.to_string(),
                Integer::Signed(v) => v.to_string(),
            };
            assert_eq!(integer.text_len(), text.len(), "{integer:?}");
        }
    }
}
