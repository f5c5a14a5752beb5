//! A text buffer that stops accepting bytes at a limit, so serializing a huge value costs about
//! what serializing the limit costs. Structured text (JSON, `Debug`) is also stopped when it nests
//! deeper than [`MAX_NESTING`], so a value that recurses without end is cut long before the
//! recursion could exhaust the stack.

use std::fmt;
use std::io;

/// Text written by a capture, bounded to a byte limit.
///
/// Writes past the limit fail, which makes `serde_json` and `fmt` stop early. [`finish`] turns
/// the buffer into the attribute text, cut at a UTF-8 boundary with the truncation marker when
/// the value did not fit.
///
/// [`finish`]: BoundedText::finish
#[derive(Debug)]
pub struct BoundedText {
    buf: Vec<u8>,
    limit: usize,
    offered: usize,
    overflowed: bool,
    nesting: Nesting,
}

/// How deep structured text may nest (brackets, braces, parentheses outside string literals).
pub(super) const MAX_NESTING: u32 = 64;

/// The bracket depth of structured text written so far.
#[derive(Debug, Default)]
struct Nesting {
    depth: u32,
    in_string: bool,
    escaped: bool,
    exceeded: bool,
}

impl Nesting {
    /// Follows `bytes`; the length of the prefix that stays within [`MAX_NESTING`].
    fn follow(&mut self, bytes: &[u8]) -> usize {
        for (at, &byte) in bytes.iter().enumerate() {
            if self.in_string {
                match (self.escaped, byte) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'[' | b'{' | b'(' => {
                    self.depth += 1;
                    if self.depth > MAX_NESTING {
                        self.exceeded = true;
                        return at;
                    }
                }
                b']' | b'}' | b')' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        bytes.len()
    }
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
    /// A buffer that keeps at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self::with_buffer(Vec::new(), limit)
    }

    /// A buffer that keeps at most `limit` bytes, writing into `buf` (cleared first), so a
    /// caller can reuse one allocation across captures.
    pub fn with_buffer(mut buf: Vec<u8>, limit: usize) -> Self {
        buf.clear();
        Self {
            buf,
            limit,
            offered: 0,
            overflowed: false,
            nesting: Nesting::default(),
        }
    }

    /// The finished text as an exactly-sized `String` (see [`BoundedText::finish`]), and the
    /// buffer back for reuse.
    pub fn finish_reusing(mut self, known_size: Option<usize>) -> (String, Vec<u8>) {
        if !self.overflowed {
            // Everything written was `str` or serde_json output: valid UTF-8, checked once.
            let text = std::str::from_utf8(&self.buf).map_or_else(
                |e| String::from_utf8_lossy(&self.buf[..e.valid_up_to()]).into_owned(),
                str::to_owned,
            );
            self.buf.clear();
            return (text, self.buf);
        }
        let marker = self.overflowed.then(|| self.marker(known_size));
        let keep = match &marker {
            Some(marker) => floor_char_boundary(&self.buf, self.limit.saturating_sub(marker.len())),
            None => self.buf.len(),
        };
        let valid = match std::str::from_utf8(&self.buf[..keep]) {
            Ok(text) => text.len(),
            Err(e) => e.valid_up_to(),
        };
        let head = std::str::from_utf8(&self.buf[..valid]).unwrap_or_default();
        let mut text = String::with_capacity(valid + marker.as_ref().map_or(0, String::len));
        text.push_str(head);
        if let Some(marker) = marker {
            if text.len() + marker.len() <= self.limit {
                text.push_str(&marker);
            }
        }
        self.buf.clear();
        (text, self.buf)
    }

    fn marker(&self, known_size: Option<usize>) -> String {
        if self.nesting.exceeded {
            return format!("... (truncated, nested deeper than {MAX_NESTING})");
        }
        truncation_marker(match known_size {
            Some(n) => OriginalSize::Exact(n),
            None => OriginalSize::AtLeast(self.offered),
        })
    }

    /// Whether a write went past the limit.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Appends `bytes`, keeping what fits. Returns `false` once the limit is passed.
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        self.offered = self.offered.saturating_add(bytes.len());
        let room = self.limit - self.buf.len();
        if bytes.len() <= room {
            self.buf.extend_from_slice(bytes);
            return true;
        }
        self.buf.extend_from_slice(&bytes[..room]);
        self.overflowed = true;
        false
    }

    /// Appends structured text (JSON, `Debug`), stopping where it nests deeper than
    /// [`MAX_NESTING`] as at the byte limit. Returns `false` once either is passed.
    pub fn push_structured(&mut self, bytes: &[u8]) -> bool {
        let within = self.nesting.follow(bytes);
        if within < bytes.len() {
            self.push(&bytes[..within]);
            self.overflowed = true;
            return false;
        }
        self.push(bytes)
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
        if self.push_structured(bytes) {
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
        if self.push_structured(s.as_bytes()) {
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
        let deep = "[".repeat(100);
        assert!(!text.push_structured(deep.as_bytes()));
        let out = text.finish(None);
        assert!(out.starts_with(&"[".repeat(64)));
        assert!(out.ends_with("(truncated, nested deeper than 64)"), "{out}");
        let mut quoted = BoundedText::new(1 << 20);
        let brackets_in_strings = format!("[\"{}\\\"{}\"]", "[".repeat(100), "{".repeat(100));
        assert!(quoted.push_structured(brackets_in_strings.as_bytes()));
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
