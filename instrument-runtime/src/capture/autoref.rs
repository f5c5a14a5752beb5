//! Choosing how a parameter is captured, by trait, at compile time.
//!
//! The generated code calls `(&&&&&Param(&value)).__instrument_capture()`. Method resolution picks
//! the first of these that applies (autoref specialization), so no type is checked at run time:
//! 1. integers and `bool`: their digits, written directly;
//! 2. `AsRef<str>`: the text itself, exact size known;
//! 3. `Serialize`: JSON through `serde_json`;
//! 4. `Debug`: the `{:?}` text;
//! 5. anything else: `<unserializable: TypeName>`.
//!
//! Excluded values need their id; only `Serialize` values can offer it (see [`super::ids`]).

use std::fmt::{self, Debug};

use serde::Serialize;

use super::ShortText;
use super::bounded::BoundedText;
use super::ids::{Ids, find_ids};
use super::integer::{Written, copy_into};
use super::scalar::ScalarValue;

/// Why writing a value's text stopped before the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStop {
    /// The byte limit was reached; the text is truncated.
    Limit,
    /// The value's own `Serialize`/`Debug` impl failed.
    Failed,
}

/// A parameter value seen through the capability it has. Implemented by the adapters below; the
/// runtime never learns the concrete type.
pub trait Capture {
    /// The value's full type name.
    fn type_name(&self) -> &'static str;
    /// The exact byte size of the value's text, when known without writing it.
    fn exact_len(&self) -> Option<usize> {
        None
    }
    /// Writes the value's text into `out`, stopping at its limit.
    fn write_text(&self, out: &mut BoundedText) -> Result<(), WriteStop>;
    /// The value's whole text when it is text already, fits in `limit` bytes and has nothing
    /// that could hide a secret: a plain copy, without the bounded writer.
    fn text_within(&self, _limit: usize) -> Option<ShortText<'_>> {
        None
    }
    /// Writes what [`Capture::text_within`] gives into the start of `room`, when it fits there
    /// and in `limit` (an integer: its value, its digits to be written later): what was
    /// written, or `None` with nothing written.
    fn write_short(&self, limit: usize, room: &mut [u8]) -> Option<Written> {
        let text = self.text_within(limit)?;
        copy_into(text.as_bytes(), room)
    }
    /// The ids of the value, for the placeholder of an excluded parameter.
    fn ids(&self) -> Ids {
        Ids::None
    }
    /// Whether the value can be written at all.
    fn is_writable(&self) -> bool {
        true
    }
}

/// Wraps a parameter reference for the method resolution that picks its [`Capture`] adapter.
pub struct Param<'a, T: ?Sized>(pub &'a T);

/// Captures text-like values (`String`, `&str`, `Cow<str>`, newtypes implementing `AsRef<str>`).
pub struct AsText<'a, T: ?Sized>(&'a T);
/// Captures `Serialize` values as JSON.
pub struct AsJson<'a, T: ?Sized>(&'a T);
/// Captures `Debug` values as their `{:?}` text.
pub struct AsDebug<'a, T: ?Sized>(&'a T);
/// Stands for a value with no way to be written.
pub struct Opaque<T: ?Sized>(std::marker::PhantomData<fn(&T)>);

/// `Debug` for the adapters, naming the adapter only: the value may have no `Debug`.
macro_rules! adapter_debug {
    ($($adapter:ident $(<$lt:lifetime>)?),*) => {$(
        impl<T: ?Sized> std::fmt::Debug for $adapter<$($lt,)? T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($adapter))
            }
        }
    )*};
}
adapter_debug!(
    Param<'_>,
    AsScalar<'_>,
    AsText<'_>,
    AsJson<'_>,
    AsDebug<'_>,
    Opaque
);

impl<T: AsRef<str> + ?Sized> Capture for AsText<'_, T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn exact_len(&self) -> Option<usize> {
        Some(self.0.as_ref().len())
    }
    fn text_within(&self, limit: usize) -> Option<ShortText<'_>> {
        let text = self.0.as_ref();
        (text.len() <= limit && !super::secret_scan::may_hold_secret(text.as_bytes()))
            .then_some(ShortText::Borrowed(text))
    }
    fn write_short(&self, limit: usize, room: &mut [u8]) -> Option<Written> {
        let text = self.0.as_ref().as_bytes();
        if text.len() > limit.min(room.len()) || super::secret_scan::may_hold_secret(text) {
            return None;
        }
        copy_into(text, room)
    }
    fn write_text(&self, out: &mut BoundedText) -> Result<(), WriteStop> {
        if out.push(self.0.as_ref().as_bytes()) {
            Ok(())
        } else {
            Err(WriteStop::Limit)
        }
    }
}

impl<T: Serialize + ?Sized> Capture for AsJson<'_, T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn text_within(&self, limit: usize) -> Option<ShortText<'_>> {
        // A panicking impl gives `None` here and is reported by the general path.
        crate::diagnostics::contain(|| super::scalar::scalar_text(self.0))
            .ok()
            .flatten()
            .filter(|text| text.as_bytes().len() <= limit)
            .map(ShortText::Scalar)
    }
    fn write_text(&self, out: &mut BoundedText) -> Result<(), WriteStop> {
        out.set_syntax(super::Syntax::Json);
        let mut chunks = Chunked::new(out);
        let written = serde_json::to_writer(&mut chunks, &super::Redacted::new(self.0));
        let flushed = chunks.flush_chunk();
        match written {
            Ok(()) if flushed => Ok(()),
            Err(_) if !out.overflowed() => Err(WriteStop::Failed),
            _ => Err(WriteStop::Limit),
        }
    }
    fn ids(&self) -> Ids {
        find_ids(self.0)
    }
}

/// Gathers `serde_json`'s many small writes (a quote, a key, a colon) into chunks before they
/// reach the bounded writer, which then looks at each chunk once. Writing stops at most one
/// chunk past the limit or the nesting bound.
struct Chunked<'a> {
    out: &'a mut BoundedText,
    chunk: [u8; CHUNK],
    len: usize,
}

/// Bytes gathered before they are handed on.
const CHUNK: usize = 256;

impl<'a> Chunked<'a> {
    fn new(out: &'a mut BoundedText) -> Self {
        Self {
            out,
            chunk: [0; CHUNK],
            len: 0,
        }
    }

    /// Hands the gathered bytes on; `false` once the bounded writer stopped.
    fn flush_chunk(&mut self) -> bool {
        let len = std::mem::take(&mut self.len);
        self.out.push(&self.chunk[..len])
    }
}

impl std::io::Write for Chunked<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let [byte] = bytes {
            if self.len < CHUNK {
                self.chunk[self.len] = *byte;
                self.len += 1;
                return Ok(1);
            }
        }
        self.write_slow(bytes)
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write(bytes).map(drop)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Chunked<'_> {
    fn write_slow(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.len + bytes.len() > CHUNK && !self.flush_chunk() {
            return Err(std::io::Error::other("capture limit reached"));
        }
        if bytes.len() > CHUNK {
            return if self.out.push(bytes) {
                Ok(bytes.len())
            } else {
                Err(std::io::Error::other("capture limit reached"))
            };
        }
        self.chunk[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(bytes.len())
    }
}

impl<T: Debug + ?Sized> Capture for AsDebug<'_, T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn write_text(&self, out: &mut BoundedText) -> Result<(), WriteStop> {
        out.set_syntax(super::Syntax::Debug);
        match fmt::write(out, format_args!("{:?}", self.0)) {
            Ok(()) => Ok(()),
            Err(_) if out.overflowed() => Err(WriteStop::Limit),
            Err(_) => Err(WriteStop::Failed),
        }
    }
}

impl<T: ?Sized> Capture for Opaque<T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn write_text(&self, _out: &mut BoundedText) -> Result<(), WriteStop> {
        Err(WriteStop::Failed)
    }
    fn is_writable(&self) -> bool {
        false
    }
}

/// Integers and booleans: their digits written directly, without serde or the panic guard a
/// user's `Serialize` impl needs.
pub struct AsScalar<'a, T: ?Sized>(&'a T);

impl<T: ScalarValue + ?Sized> Capture for AsScalar<'_, T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn text_within(&self, limit: usize) -> Option<ShortText<'_>> {
        let text = self.0.scalar_text();
        (text.as_bytes().len() <= limit).then_some(ShortText::Scalar(text))
    }
    fn write_short(&self, limit: usize, room: &mut [u8]) -> Option<Written> {
        self.0.write_text_into(limit, room)
    }
    fn write_text(&self, out: &mut BoundedText) -> Result<(), WriteStop> {
        if out.push(self.0.scalar_text().as_bytes()) {
            Ok(())
        } else {
            Err(WriteStop::Limit)
        }
    }
}

/// First choice: integers and booleans.
pub trait ViaScalar<'a, T: ?Sized> {
    /// The adapter for this value.
    fn __instrument_capture(&self) -> AsScalar<'a, T>;
}
impl<'a, T: ScalarValue + ?Sized> ViaScalar<'a, T> for &&&&Param<'a, T> {
    fn __instrument_capture(&self) -> AsScalar<'a, T> {
        AsScalar(self.0)
    }
}

/// Next choice: text-like values.
pub trait ViaText<'a, T: ?Sized> {
    /// The adapter for this value.
    fn __instrument_capture(&self) -> AsText<'a, T>;
}
impl<'a, T: AsRef<str> + ?Sized> ViaText<'a, T> for &&&Param<'a, T> {
    fn __instrument_capture(&self) -> AsText<'a, T> {
        AsText(self.0)
    }
}

/// Next choice: `Serialize` values.
pub trait ViaJson<'a, T: ?Sized> {
    /// The adapter for this value.
    fn __instrument_capture(&self) -> AsJson<'a, T>;
}
impl<'a, T: Serialize + ?Sized> ViaJson<'a, T> for &&Param<'a, T> {
    fn __instrument_capture(&self) -> AsJson<'a, T> {
        AsJson(self.0)
    }
}

/// Next choice: `Debug` values.
pub trait ViaDebug<'a, T: ?Sized> {
    /// The adapter for this value.
    fn __instrument_capture(&self) -> AsDebug<'a, T>;
}
impl<'a, T: Debug + ?Sized> ViaDebug<'a, T> for &Param<'a, T> {
    fn __instrument_capture(&self) -> AsDebug<'a, T> {
        AsDebug(self.0)
    }
}

/// Last choice: values with no way to be written.
pub trait ViaOpaque<T: ?Sized> {
    /// The adapter for this value.
    fn __instrument_capture(&self) -> Opaque<T>;
}
impl<T: ?Sized> ViaOpaque<T> for Param<'_, T> {
    fn __instrument_capture(&self) -> Opaque<T> {
        Opaque(std::marker::PhantomData)
    }
}

#[cfg(test)]
// Autoref specialization needs the exact reference depth the macro emits.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_written_in_place_only_when_they_fit_and_hide_nothing() {
        let mut room = [0u8; 8];
        let integer = |digits, signed| Some(Written::Integer { digits, signed });
        assert_eq!(
            AsScalar(&1234u64).write_short(100, &mut room),
            integer(4, false)
        );
        assert_eq!(room, 1234u64.to_le_bytes());
        assert_eq!(
            AsScalar(&-5i8).write_short(100, &mut room),
            integer(2, true)
        );
        assert_eq!(room, (-5i64).to_le_bytes());
        assert_eq!(
            AsScalar(&123_456_789u64).write_short(100, &mut room),
            integer(9, false),
            "an integer takes 8 bytes whatever its digits"
        );
        assert_eq!(AsScalar(&1234u64).write_short(3, &mut room), None);
        assert_eq!(AsScalar(&1u64).write_short(100, &mut [0u8; 7]), None);
        assert_eq!(
            AsScalar(&u128::MAX).write_short(100, &mut [0u8; 64]),
            Some(Written::Text(39)),
            "past 64 bits: the text"
        );
        assert_eq!(
            AsText("agent").write_short(100, &mut room),
            Some(Written::Text(5))
        );
        assert_eq!(&room[..5], b"agent");
        assert_eq!(AsText("agent-1234").write_short(100, &mut room), None);
        assert_eq!(AsText("agent").write_short(4, &mut room), None);
        assert_eq!(AsText("Bearer x").write_short(100, &mut room), None);
        assert_eq!(AsText("").write_short(100, &mut []), Some(Written::Text(0)));
        assert_eq!(
            AsScalar(&true).write_short(100, &mut room),
            Some(Written::Text(4))
        );
        assert_eq!(&room[..4], b"true");
    }

    fn text_of(capture: &dyn Capture) -> String {
        let mut out = BoundedText::new(1024);
        capture.write_text(&mut out).unwrap();
        out.finish(None)
    }

    #[derive(Serialize)]
    struct Point {
        x: i32,
    }
    #[derive(Debug)]
    struct OnlyDebug;
    struct Nothing;

    #[test]
    fn picks_the_best_adapter_by_trait() {
        let s = String::from("hello");
        assert_eq!(text_of(&(&&&&&Param(&s)).__instrument_capture()), "hello");
        let p = Point { x: 3 };
        assert_eq!(
            text_of(&(&&&&&Param(&p)).__instrument_capture()),
            r#"{"x":3}"#
        );
        assert_eq!(
            text_of(&(&&&&&Param(&OnlyDebug)).__instrument_capture()),
            "OnlyDebug"
        );
        let opaque = (&&&&&Param(&Nothing)).__instrument_capture();
        assert!(!Capture::is_writable(&opaque));
        assert!(opaque.type_name().ends_with("Nothing"));
        assert_eq!(text_of(&(&&&&&Param(&42u8)).__instrument_capture()), "42");
    }
}
