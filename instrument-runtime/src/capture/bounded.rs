//! A text buffer that stops accepting bytes at a limit, so serializing a huge value costs about
//! what serializing the limit costs. Structured text (JSON, `Debug`) is also stopped when it nests
//! deeper than [`MAX_NESTING`], so a value that recurses without end is cut long before the
//! recursion could exhaust the stack.

use std::fmt;
use std::io;

pub(super) use super::secret_scan::MAX_NESTING;
use super::secret_scan::{SecretScan, Syntax};
use super::sink::Sink;

/// Text written by a capture, bounded to a byte limit, with secrets hidden as it is written
/// (see [`super::secret_scan`]).
///
/// Writes past the limit fail, which makes `serde_json` and `fmt` stop early. [`finish`] turns
/// the buffer into the attribute text, cut at a UTF-8 boundary with the truncation marker when
/// the value did not fit.
///
/// [`finish`]: BoundedText::finish
#[derive(Debug)]
pub struct BoundedText {
    sink: Sink,
    offered: usize,
    scan: SecretScan,
}

/// How a finished capture relates to its value's full text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OriginalSize {
    /// The value's full text is this many bytes.
    Exact(usize),
    /// Writing stopped at the limit; the value's full text is at least this many bytes.
    AtLeast(usize),
}

impl BoundedText {
    /// A buffer that keeps at most `limit` bytes of plain text.
    pub fn new(limit: usize) -> Self {
        Self::with_buffer(Vec::new(), limit)
    }

    /// A buffer that keeps at most `limit` bytes, writing into `buf` (cleared first), so a
    /// caller can reuse one allocation across captures.
    pub fn with_buffer(mut buf: Vec<u8>, limit: usize) -> Self {
        buf.clear();
        Self {
            sink: Sink::new(buf, limit),
            offered: 0,
            scan: SecretScan::default(),
        }
    }

    /// Says what syntax the text written next has (plain text by default), which decides where
    /// secrets are looked for.
    pub(crate) fn set_syntax(&mut self, syntax: Syntax) {
        self.scan.syntax = syntax;
    }

    /// How many values were hidden as secrets.
    pub(crate) fn redactions(&self) -> u32 {
        self.scan.redactions
    }

    /// The finished text as an exactly-sized `String` (see [`BoundedText::finish`]), and the
    /// buffer back for reuse.
    pub fn finish_reusing(mut self, known_size: Option<usize>) -> (String, Vec<u8>) {
        self.scan.finish(&mut self.sink);
        super::count_redactions(u64::from(self.scan.redactions));
        let overflowed = self.overflowed();
        let mut buf = std::mem::take(&mut self.sink.buf);
        if !overflowed {
            // Everything written was `str` or serde_json output: valid UTF-8, checked once.
            let text = std::str::from_utf8(&buf).map_or_else(
                |e| String::from_utf8_lossy(&buf[..e.valid_up_to()]).into_owned(),
                str::to_owned,
            );
            buf.clear();
            return (text, buf);
        }
        let marker = self.marker(known_size);
        let keep = floor_char_boundary(&buf, self.sink.limit().saturating_sub(marker.len()));
        let valid = match std::str::from_utf8(&buf[..keep]) {
            Ok(text) => text.len(),
            Err(e) => e.valid_up_to(),
        };
        let head = std::str::from_utf8(&buf[..valid]).unwrap_or_default();
        let mut text = String::with_capacity(valid + marker.len());
        text.push_str(head);
        if text.len() + marker.len() <= self.sink.limit() {
            text.push_str(&marker);
        }
        buf.clear();
        (text, buf)
    }

    fn marker(&self, known_size: Option<usize>) -> String {
        if self.scan.too_deep {
            return format!("... (truncated, nested deeper than {MAX_NESTING})");
        }
        truncation_marker(match known_size {
            Some(n) => OriginalSize::Exact(n),
            None => OriginalSize::AtLeast(self.offered),
        })
    }

    /// Whether a write went past the limit or the nesting bound.
    pub fn overflowed(&self) -> bool {
        self.sink.overflowed || self.scan.too_deep
    }

    /// Appends `bytes`, keeping what fits and hiding secrets. Returns `false` once the limit (or,
    /// for structured text, the nesting bound) is passed.
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        self.offered = self.offered.saturating_add(bytes.len());
        if self.overflowed() {
            return false;
        }
        // Bytes past the room left can only be cut off: they are not scanned either, so a
        // 100 MB value costs what its first `limit` bytes cost.
        let room = self.sink.room();
        if bytes.len() > room.saturating_add(1) {
            self.push_within(&bytes[..room + 1]);
            self.sink.overflowed = true;
            return false;
        }
        self.push_within(bytes)
    }

    /// Appends `bytes`, which fit in the room left give or take one byte, hiding secrets.
    fn push_within(&mut self, bytes: &[u8]) -> bool {
        let mut run = 0;
        let mut at = 0;
        while at < bytes.len() {
            if self.scan.idle() {
                match self.scan.next_special(&bytes[at..]) {
                    Some(offset) => at += offset,
                    None => break,
                }
                match self.scan.lex_only(bytes[at]) {
                    Some(true) => {
                        at += 1;
                        continue;
                    }
                    Some(false) => {
                        self.sink.keep(&bytes[run..at]);
                        return false;
                    }
                    None => {}
                }
            }
            if !self.sink.keep(&bytes[run..at]) || !self.scan.step(bytes[at], &mut self.sink) {
                return false;
            }
            at += 1;
            run = at;
        }
        self.sink.keep(&bytes[run..])
    }

    /// The attribute text: the whole value when it fit, else its head cut at a UTF-8 boundary
    /// followed by `... (truncated, original size: N bytes)`, never longer than the limit.
    /// `known_size` overrides the size in the marker when the caller knows the exact size.
    pub fn finish(self, known_size: Option<usize>) -> String {
        self.finish_reusing(known_size).0
    }
}

/// The marker appended to a cut value.
pub(super) fn truncation_marker(size: OriginalSize) -> String {
    match size {
        OriginalSize::Exact(n) => format!("... (truncated, original size: {n} bytes)"),
        OriginalSize::AtLeast(n) => format!("... (truncated, original size: at least {n} bytes)"),
    }
}

/// The largest index `<= at` that does not split a UTF-8 sequence of `bytes`.
pub(crate) fn floor_char_boundary(bytes: &[u8], at: usize) -> usize {
    if at >= bytes.len() {
        return bytes.len();
    }
    let mut i = at;
    while i > 0 && (bytes[i] & 0b1100_0000) == 0b1000_0000 {
        i -= 1;
    }
    i
}

impl io::Write for BoundedText {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.push(bytes) {
            Ok(bytes.len())
        } else {
            Err(io::Error::other("capture limit reached"))
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Write for BoundedText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.push(s.as_bytes()) {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn keeps_text_that_fits_exactly() {
        let mut text = BoundedText::new(5);
        assert!(text.push(b"hello"));
        assert_eq!(text.finish(None), "hello");
    }

    #[test]
    fn cuts_one_byte_over_with_marker_within_limit() {
        let limit = 100;
        let value = "é".repeat(50) + "x"; // 101 bytes
        let mut text = BoundedText::new(limit);
        text.write_str(&value).unwrap_err();
        let out = text.finish(Some(value.len()));
        assert!(out.len() <= limit, "{} > {limit}", out.len());
        assert!(out.ends_with("... (truncated, original size: 101 bytes)"));
        let head = out.trim_end_matches("... (truncated, original size: 101 bytes)");
        assert!(head.chars().all(|c| c == 'é'));
    }

    #[test]
    fn unknown_size_says_at_least() {
        let mut text = BoundedText::new(60);
        let _ = text.push(&[b'a'; 100]);
        let out = text.finish(None);
        assert!(
            out.ends_with("(truncated, original size: at least 100 bytes)"),
            "{out}"
        );
    }

    #[test]
    fn nesting_past_the_bound_is_cut() {
        let mut text = BoundedText::new(1 << 20);
        text.set_syntax(Syntax::Json);
        let deep = "[".repeat(100);
        assert!(!text.push(deep.as_bytes()));
        let out = text.finish(None);
        assert!(out.starts_with(&"[".repeat(64)));
        assert!(out.ends_with("(truncated, nested deeper than 64)"), "{out}");
        let mut quoted = BoundedText::new(1 << 20);
        quoted.set_syntax(Syntax::Json);
        let brackets_in_strings = format!("[\"{}\\\"{}\"]", "[".repeat(100), "{".repeat(100));
        assert!(quoted.push(brackets_in_strings.as_bytes()));
    }

    #[test]
    fn floor_boundary_never_splits() {
        let s = "aé€😀".as_bytes();
        for at in 0..=s.len() {
            let cut = floor_char_boundary(s, at);
            assert!(std::str::from_utf8(&s[..cut]).is_ok());
            assert!(cut <= at);
        }
    }
}
