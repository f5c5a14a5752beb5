//! Reading a function's return value as success or failure, chosen by type at compile time.
//!
//! The generated code calls `(&&&&Returned(&value)).__instrument_outcome()`: a `Result` whose
//! error implements `Display` gives its text, one that implements only `Debug` its `{:?}`, any
//! other `Result` its type alone, and a non-`Result` value is a plain return.

use std::fmt::{self, Debug, Display};

use crate::capture::BoundedText;

/// Longest error description kept, in bytes.
const MAX_MESSAGE_BYTES: usize = 8 * 1024;

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Returned a value that is not a `Result`.
    Returned,
    /// Returned `Ok`.
    Ok,
    /// Returned `Err`.
    Err {
        /// The error's type name.
        error_type: &'static str,
        /// The error's text.
        message: String,
    },
}

/// Wraps a return value for the method resolution that picks how it is read.
pub struct Returned<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> fmt::Debug for Returned<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Returned")
    }
}

fn bounded_message(args: fmt::Arguments<'_>) -> String {
    let mut out = BoundedText::new(MAX_MESSAGE_BYTES);
    let _ = fmt::write(&mut out, args);
    out.finish(None)
}

fn from_result<T, E>(result: &Result<T, E>, text: impl FnOnce(&E) -> String) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(e) => Outcome::Err {
            error_type: std::any::type_name::<E>(),
            message: text(e),
        },
    }
}

/// First choice: `Result<T, E: Display>`.
pub trait ViaDisplayError {
    /// How the call ended.
    fn __instrument_outcome(&self) -> Outcome;
}
impl<T, E: Display> ViaDisplayError for &&&Returned<'_, Result<T, E>> {
    fn __instrument_outcome(&self) -> Outcome {
        from_result(self.0, |e| bounded_message(format_args!("{e}")))
    }
}

/// Second choice: `Result<T, E: Debug>`.
pub trait ViaDebugError {
    /// How the call ended.
    fn __instrument_outcome(&self) -> Outcome;
}
impl<T, E: Debug> ViaDebugError for &&Returned<'_, Result<T, E>> {
    fn __instrument_outcome(&self) -> Outcome {
        from_result(self.0, |e| bounded_message(format_args!("{e:?}")))
    }
}

/// Third choice: any `Result`.
pub trait ViaAnyError {
    /// How the call ended.
    fn __instrument_outcome(&self) -> Outcome;
}
impl<T, E> ViaAnyError for &Returned<'_, Result<T, E>> {
    fn __instrument_outcome(&self) -> Outcome {
        from_result(self.0, |_| String::new())
    }
}

/// Last choice: any other value.
pub trait ViaPlainValue {
    /// How the call ended.
    fn __instrument_outcome(&self) -> Outcome;
}
impl<T: ?Sized> ViaPlainValue for Returned<'_, T> {
    fn __instrument_outcome(&self) -> Outcome {
        Outcome::Returned
    }
}

#[cfg(test)]
// Autoref specialization needs the exact reference depth the macro emits.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    struct Opaque;

    #[test]
    fn reads_results_by_type() {
        let ok: Result<u8, std::io::Error> = Ok(1);
        assert_eq!((&&&&Returned(&ok)).__instrument_outcome(), Outcome::Ok);
        let err: Result<u8, String> = Err("boom".into());
        assert_eq!(
            (&&&&Returned(&err)).__instrument_outcome(),
            Outcome::Err {
                error_type: "alloc::string::String",
                message: "boom".into()
            }
        );
        #[derive(Debug)]
        struct DebugOnly;
        let dbg: Result<(), DebugOnly> = Err(DebugOnly);
        assert!(
            matches!((&&&&Returned(&dbg)).__instrument_outcome(), Outcome::Err { message, .. } if message == "DebugOnly")
        );
        let opaque: Result<(), Opaque> = Err(Opaque);
        assert!(
            matches!((&&&&Returned(&opaque)).__instrument_outcome(), Outcome::Err { message, .. } if message.is_empty())
        );
        assert_eq!(
            (&&&&Returned(&5u8)).__instrument_outcome(),
            Outcome::Returned
        );
    }
}
