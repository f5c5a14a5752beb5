//! Integers and booleans written straight to their text, without the JSON writer, the scratch
//! buffer and the copy out of it: a `Serializer` that accepts only those and refuses anything
//! else at its first call (the caller then takes the general path). The text is what
//! `serde_json` writes for the same value.

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::integer::{Written, copy_into, digits, write_integer};
use super::redact::Unsupported;

/// The text of `value` when it serializes as one integer or boolean.
pub(crate) fn scalar_text<T: Serialize + ?Sized>(value: &T) -> Option<ScalarText> {
    value.serialize(Scalar).ok()
}

/// The text of an integer or a boolean, kept on the stack (the longest, `i128::MIN`, has 40
/// bytes).
#[derive(Clone, Copy)]
pub struct ScalarText {
    bytes: [u8; 40],
    len: u8,
}

impl ScalarText {
    pub(crate) fn new(text: &str) -> Self {
        let mut bytes = [0; 40];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Self {
            bytes,
            len: text.len() as u8,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Made from a `&str` in `new`, so always UTF-8.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The text's bytes (ASCII), without the UTF-8 check `as_str` makes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for ScalarText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

struct Scalar;

fn integer(value: impl itoa::Integer) -> Result<ScalarText, Unsupported> {
    Ok(ScalarText::new(itoa::Buffer::new().format(value)))
}

macro_rules! refuse {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<ScalarText, Unsupported> { Err(Unsupported) })*
    };
}

impl ser::Serializer for Scalar {
    type Ok = ScalarText;
    type Error = Unsupported;
    type SerializeSeq = Impossible<ScalarText, Unsupported>;
    type SerializeTuple = Impossible<ScalarText, Unsupported>;
    type SerializeTupleStruct = Impossible<ScalarText, Unsupported>;
    type SerializeTupleVariant = Impossible<ScalarText, Unsupported>;
    type SerializeMap = Impossible<ScalarText, Unsupported>;
    type SerializeStruct = Impossible<ScalarText, Unsupported>;
    type SerializeStructVariant = Impossible<ScalarText, Unsupported>;

    fn serialize_bool(self, value: bool) -> Result<ScalarText, Unsupported> {
        Ok(ScalarText::new(if value { "true" } else { "false" }))
    }
    fn serialize_i8(self, value: i8) -> Result<ScalarText, Unsupported> {
        integer(value)
    }
    fn serialize_i16(self, value: i16) -> Result<ScalarText, Unsupported> {
        integer(value)
    }
    fn serialize_i32(self, value: i32) -> Result<ScalarText, Unsupported> {
        integer(value)
    }
    fn serialize_i64(self, value: i64) -> Result<ScalarText, Unsupported> {
        integer(value)
    }
    fn serialize_i128(self, value: i128) -> Result<ScalarText, Unsupported> {
        integer(value)
    }
    fn serialize_u8(self, value: u8) -> Result<ScalarText, Unsupported> {
        integer(value)
    }
    fn serialize_u16(self, value: u16) -> Result<ScalarText, Unsupported> {
        integer(value)
    }
    fn serialize_u32(self, value: u32) -> Result<ScalarText, Unsupported> {
        integer(value)
    }
    fn serialize_u64(self, value: u64) -> Result<ScalarText, Unsupported> {
        integer(value)
    }
    fn serialize_u128(self, value: u128) -> Result<ScalarText, Unsupported> {
        integer(value)
    }
    refuse!(
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<ScalarText, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<ScalarText, Unsupported> {
        // A newtype's name may make it a secret (`ApiKey(u64)`): the general path decides.
        Err(Unsupported)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<ScalarText, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }
}

/// The primitive types [`AsScalar`](super::autoref::AsScalar) writes: their text is what `serde_json` writes for them.
pub trait ScalarValue {
    /// The value's text.
    fn scalar_text(&self) -> ScalarText;
    /// Writes the value into the start of `room` when it fits there and its text in `limit`: an
    /// integer of at most 64 bits as its value (its digits written where the span is exported),
    /// anything else as its text; `None` with nothing written.
    fn write_text_into(&self, limit: usize, room: &mut [u8]) -> Option<Written> {
        text_into(&self.scalar_text(), limit, room)
    }
}

/// Copies `text` into the start of `room` when it fits there and in `limit`.
fn text_into(text: &ScalarText, limit: usize, room: &mut [u8]) -> Option<Written> {
    let text = text.as_bytes();
    (text.len() <= limit).then(|| copy_into(text, room))?
}

/// The value as a `u64`, its text's length, and whether it is of a signed type.
trait AsBits: Copy {
    fn as_bits(self) -> Option<(u64, usize, bool)>;
}

macro_rules! unsigned_bits {
    ($($t:ty),*) => {
        $(impl AsBits for $t {
            #[inline]
            fn as_bits(self) -> Option<(u64, usize, bool)> {
                let value = u64::try_from(self).ok()?;
                Some((value, digits(value), false))
            }
        })*
    };
}
unsigned_bits!(u8, u16, u32, u64, u128, usize);

macro_rules! signed_bits {
    ($($t:ty),*) => {
        $(impl AsBits for $t {
            #[inline]
            fn as_bits(self) -> Option<(u64, usize, bool)> {
                let value = i64::try_from(self).ok()?;
                let len = usize::from(value < 0) + digits(value.unsigned_abs());
                Some((value as u64, len, true))
            }
        })*
    };
}
signed_bits!(i8, i16, i32, i64, i128, isize);

macro_rules! integer_scalars {
    ($($t:ty),*) => {
        $(impl ScalarValue for $t {
            fn scalar_text(&self) -> ScalarText {
                ScalarText::new(itoa::Buffer::new().format(*self))
            }
            fn write_text_into(&self, limit: usize, room: &mut [u8]) -> Option<Written> {
                match self.as_bits() {
                    Some((bits, len, signed)) => write_integer(bits, len, signed, limit, room),
                    None => text_into(&self.scalar_text(), limit, room),
                }
            }
        })*
    };
}
integer_scalars!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

impl ScalarValue for bool {
    fn scalar_text(&self) -> ScalarText {
        ScalarText::new(if *self { "true" } else { "false" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_booleans_read_as_serde_json_writes_them() {
        for (text, json) in [
            (scalar_text(&42u64), serde_json::to_string(&42u64).unwrap()),
            (scalar_text(&-7i32), serde_json::to_string(&-7i32).unwrap()),
            (
                scalar_text(&u128::MAX),
                serde_json::to_string(&u128::MAX).unwrap(),
            ),
            (scalar_text(&true), serde_json::to_string(&true).unwrap()),
        ] {
            assert_eq!(text.map(|t| t.as_str().to_owned()), Some(json));
        }
    }

    #[test]
    fn anything_else_takes_the_general_path() {
        #[derive(Serialize)]
        struct Wrapper(u64);
        assert!(scalar_text(&1.5f64).is_none());
        assert!(scalar_text("text").is_none());
        assert!(scalar_text(&Some(1u8)).is_none());
        assert!(scalar_text(&Wrapper(1)).is_none());
        assert!(scalar_text(&vec![1u8]).is_none());
    }
}
