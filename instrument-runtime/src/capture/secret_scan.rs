//! Secrets inside text, found while the text is written into the bounded buffer, byte by byte,
//! with no second pass: each byte is looked at once, and only a few bytes (`:`, `=`, `/`, `@`,
//! `(`, quotes, brackets, whitespace) take more than one table lookup.
//!
//! Rules, for plain text and for the strings inside JSON and `Debug` text:
//! - `scheme://user:password@host` keeps the user and hides the password;
//! - `name=value` (query strings, connection strings) hides the value when the name is a secret;
//! - `name: value` and `"name": value` hide the value when the name is a secret;
//! - `Bearer <token>` and `Basic <credentials>` (the configured schemes) hide the credentials.
//!
//! In `Debug` text outside strings, a secret-named field (`password: "x"`, `token: Token { .. }`),
//! tuple (`ApiKey("x", "y")`) or struct (`Token { value: "x" }`) hides its whole value, however
//! it nests. JSON object keys are left to
//! the serializer (see [`super::redact`]), which sees them before their values are written.

use super::REDACTED;
use super::sink::Sink;

/// How deep structured text may nest (brackets, braces, parentheses outside string literals).
pub(super) const MAX_NESTING: u32 = 64;

/// The syntax of the text being written, which decides where the rules apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// Plain text: every rule applies everywhere.
    #[default]
    Text,
    /// JSON written by `serde_json`: the rules apply inside strings.
    Json,
    /// `Debug` output: field and tuple rules outside strings, text rules inside them.
    Debug,
}

/// Where a hidden value ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueEnd {
    /// At whitespace or a delimiter (`&`, `;`, `,`, quotes, brackets).
    Word,
    /// At a `,` at the starting depth, or a closing bracket below it, outside strings.
    Field { depth: u32 },
    /// At the closing bracket of the group it starts in (a `Debug` tuple's or struct's fields).
    Group { depth: u32 },
    /// At the closing quote of a quoted value.
    Quote(u8),
}

/// A value being hidden.
#[derive(Clone, Copy, Debug)]
struct Hidden {
    end: ValueEnd,
    /// Whether `[redacted]` has been written (it is, at the value's first byte).
    started: bool,
    /// Whether whitespace before the value is kept (after `:` and `Bearer`).
    leading_space: bool,
    /// Whether a `:` or `/` right after the name means it was not a field (`a::b`, `a://`).
    maybe_path: bool,
    /// The value's first bytes, to tell a credential scheme (`Bearer`) from a whole value.
    head: [u8; 8],
    head_len: u8,
    /// After a scheme word: the credentials that follow are hidden too.
    after_scheme: bool,
    /// Brackets opened inside a word value and not yet closed: their closers belong to it
    /// (so an already hidden `[redacted]` is hidden again as a whole).
    open: u8,
}

impl Hidden {
    /// Follows brackets inside a word value; whether `byte` is one that belongs to it.
    fn nests(&mut self, byte: u8) -> bool {
        if self.end != ValueEnd::Word {
            return false;
        }
        match byte {
            b'[' | b'(' | b'{' => {
                self.open = self.open.saturating_add(1);
                true
            }
            b']' | b')' | b'}' if self.open > 0 => {
                self.open -= 1;
                true
            }
            _ => false,
        }
    }

    /// Keeps `byte` among the value's first bytes.
    fn remember(&mut self, byte: u8) {
        if let Some(slot) = self.head.get_mut(usize::from(self.head_len)) {
            *slot = byte;
            self.head_len += 1;
        }
    }
}

/// The scanner's state between writes.
#[derive(Debug, Default)]
pub(super) struct SecretScan {
    pub(super) syntax: Syntax,
    in_string: bool,
    escaped: bool,
    depth: u32,
    /// Set when the text nested deeper than [`MAX_NESTING`].
    pub(super) too_deep: bool,
    hidden: Option<Hidden>,
    /// Inside a URL authority (after `://`): where its `:` was written, if one was.
    authority: Option<Option<usize>>,
    /// Values hidden so far.
    pub(super) redactions: u32,
}

/// The table of `bytes`: `true` at each of them.
const fn byte_table(bytes: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
}

/// Bytes that need more than the table lookup while nothing is being hidden.
const SPECIAL: [bool; 256] = byte_table(b":=/@(){}[]\"\\ \t\r\n");

/// Bytes a rule starts at (a `key: value`, `key=value` or `Bearer value` separator).
const RULE_STARTS: [bool; 256] = byte_table(b":= \t\r\n");

/// Whether `text` has a byte any rule starts at; text without one is kept as it is.
pub(crate) fn may_hold_secret(text: &[u8]) -> bool {
    text.iter().any(|&b| RULE_STARTS[usize::from(b)])
}

impl SecretScan {
    /// Whether nothing is in progress, so bytes that are not special can be copied unseen.
    #[inline]
    pub(super) fn idle(&self) -> bool {
        self.hidden.is_none() && self.authority.is_none()
    }

    /// Where the next byte that needs a look is in `bytes`, while idle.
    #[inline]
    pub(super) fn next_special(&self, bytes: &[u8]) -> Option<usize> {
        if self.syntax == Syntax::Json && !self.in_string {
            // Outside JSON strings only quotes and brackets matter (keys are the serializer's).
            return bytes
                .iter()
                .position(|&b| matches!(b, b'"' | b'[' | b']' | b'{' | b'}'));
        }
        bytes.iter().position(|&b| SPECIAL[usize::from(b)])
    }

    /// Handles, while idle, a special byte that only moves the lexical state (quotes, escapes,
    /// brackets other than a `Debug` tuple's `(`): it stays in the caller's run of bytes.
    /// `None` when the byte needs [`SecretScan::step`]; `Some(false)` when it nests too deep.
    #[inline]
    pub(super) fn lex_only(&mut self, byte: u8) -> Option<bool> {
        let group = matches!(byte, b'(' | b'{') && self.syntax == Syntax::Debug && !self.in_string;
        if group || !matches!(byte, b'"' | b'\\' | b'[' | b']' | b'{' | b'}' | b'(' | b')') {
            return None;
        }
        self.lex(byte);
        Some(!self.too_deep)
    }

    /// Handles one byte that did not pass: writes what it leaves into `sink`. Returns `false`
    /// when writing stopped (limit or nesting).
    pub(super) fn step(&mut self, byte: u8, sink: &mut Sink) -> bool {
        let was_in_string = self.in_string;
        let quote_closed = self.lex(byte);
        if self.too_deep {
            return false;
        }
        if let Some(hidden) = self.hidden {
            match self.hide(hidden, byte, was_in_string, quote_closed, sink) {
                Some(kept) => return kept,
                None => self.hidden = None,
            }
        }
        let prose = self.syntax == Syntax::Text || was_in_string;
        if prose && self.authority.is_some() {
            return self.in_authority(byte, sink);
        }
        let debug_field = self.syntax == Syntax::Debug && !was_in_string;
        match byte {
            b'=' if prose || debug_field => {
                let secret = is_secret_name(name_before(&sink.buf, false));
                self.keep_then_hide(byte, secret, ValueEnd::Word, false, sink)
            }
            b':' if debug_field => {
                let secret = is_secret_name(name_before(&sink.buf, true));
                let end = ValueEnd::Field { depth: self.depth };
                self.keep_then_hide(byte, secret, end, true, sink)
            }
            b':' if prose => {
                let secret = is_secret_name(name_before(&sink.buf, true));
                self.keep_then_hide(byte, secret, ValueEnd::Word, true, sink)
            }
            b'(' if debug_field => {
                let secret = is_secret_name(name_before(&sink.buf, false));
                let end = ValueEnd::Group { depth: self.depth };
                self.keep_then_hide(byte, secret, end, false, sink)
            }
            b'{' if debug_field => {
                // `Name { field: .. }`: a struct or struct variant named as a secret.
                let buf = sink.buf.strip_suffix(b" ").unwrap_or(&sink.buf);
                let secret = is_secret_name(name_before(buf, false));
                let end = ValueEnd::Group { depth: self.depth };
                self.keep_then_hide(byte, secret, end, true, sink)
            }
            b'/' if prose && sink.buf.ends_with(b":/") => {
                self.authority = Some(None);
                sink.keep(&[byte])
            }
            b' ' | b'\t' if prose && ends_with_scheme(&sink.buf) => {
                self.keep_then_hide(byte, true, ValueEnd::Word, true, sink)
            }
            _ => sink.keep(&[byte]),
        }
    }

    /// Follows strings and nesting of structured text; whether `byte` closed a string.
    fn lex(&mut self, byte: u8) -> bool {
        if self.syntax == Syntax::Text {
            return false;
        }
        if self.in_string {
            match (self.escaped, byte) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => {
                    self.in_string = false;
                    return true;
                }
                _ => {}
            }
            return false;
        }
        match byte {
            b'"' => self.in_string = true,
            b'{' | b'[' | b'(' => {
                self.depth += 1;
                self.too_deep = self.depth > MAX_NESTING;
            }
            b'}' | b']' | b')' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        false
    }

    /// Writes `byte`, then starts hiding the value that follows when `secret`.
    fn keep_then_hide(
        &mut self,
        byte: u8,
        secret: bool,
        end: ValueEnd,
        after_name: bool,
        sink: &mut Sink,
    ) -> bool {
        if secret {
            self.hidden = Some(Hidden {
                end,
                started: false,
                leading_space: after_name,
                maybe_path: after_name && byte == b':',
                head: [0; 8],
                head_len: 0,
                after_scheme: matches!(byte, b' ' | b'\t'),
                open: 0,
            });
        }
        sink.keep(&[byte])
    }

    /// One byte of a value being hidden: `Some(kept)` when the byte belonged to it, `None` when
    /// the value ended before it (the byte is then handled as usual).
    fn hide(
        &mut self,
        mut hidden: Hidden,
        byte: u8,
        was_in_string: bool,
        quote_closed: bool,
        sink: &mut Sink,
    ) -> Option<bool> {
        if !hidden.started {
            if hidden.maybe_path && matches!(byte, b':' | b'/') {
                return None;
            }
            hidden.maybe_path = false;
            if hidden.leading_space && matches!(byte, b' ' | b'\t') {
                self.hidden = Some(hidden);
                return Some(sink.keep(&[byte]));
            }
            let quote = matches!(byte, b'"' | b'\'')
                && (self.syntax == Syntax::Text || (byte == b'"' && !was_in_string));
            if quote && hidden.end == ValueEnd::Word {
                // A quoted value keeps its quotes, so JSON text stays JSON.
                hidden.end = ValueEnd::Quote(byte);
                hidden.started = true;
                self.redactions += 1;
                self.hidden = Some(hidden);
                return Some(sink.keep(&[byte]) && sink.keep(REDACTED.as_bytes()));
            } else if !hidden.nests(byte)
                && self.ends(hidden.end, byte, was_in_string, quote_closed)
            {
                return None;
            }
            hidden.started = true;
            hidden.remember(byte);
            self.redactions += 1;
            self.hidden = Some(hidden);
            return Some(sink.keep(REDACTED.as_bytes()));
        }
        if let ValueEnd::Quote(quote) = hidden.end {
            let closes = match self.syntax {
                Syntax::Text => byte == quote,
                _ => quote_closed,
            };
            if closes {
                self.hidden = None;
                return Some(sink.keep(&[quote]));
            }
            return Some(true);
        }
        if hidden.after_scheme && hidden.leading_space {
            if matches!(byte, b' ' | b'\t') {
                return Some(true);
            }
            hidden.leading_space = false;
        }
        if !hidden.nests(byte) && self.ends(hidden.end, byte, was_in_string, quote_closed) {
            if byte == b'}' && matches!(hidden.end, ValueEnd::Field { .. } | ValueEnd::Group { .. })
            {
                // `Debug` wrote ` }` after the value: keep its space.
                return if sink.keep(b" ") { None } else { Some(false) };
            }
            let gap = matches!(byte, b' ' | b'\t');
            if gap
                && !hidden.after_scheme
                && is_scheme(&hidden.head[..usize::from(hidden.head_len)])
            {
                hidden.after_scheme = true;
                hidden.leading_space = true;
                self.hidden = Some(hidden);
                return Some(true);
            }
            return None;
        }
        hidden.remember(byte);
        self.hidden = Some(hidden);
        Some(true)
    }

    /// Whether `byte` ends a value that ends at `end`.
    fn ends(&self, end: ValueEnd, byte: u8, was_in_string: bool, quote_closed: bool) -> bool {
        match end {
            ValueEnd::Word => {
                quote_closed
                    || matches!(
                        byte,
                        b' ' | b'\t'
                            | b'\r'
                            | b'\n'
                            | b'&'
                            | b';'
                            | b','
                            | b'#'
                            | b'"'
                            | b'\''
                            | b'\\'
                            | b'<'
                            | b'>'
                            | b')'
                            | b']'
                            | b'}'
                    )
            }
            ValueEnd::Field { depth } => {
                !was_in_string
                    && ((byte == b',' && self.depth == depth)
                        || (matches!(byte, b'}' | b']' | b')') && self.depth < depth))
            }
            ValueEnd::Group { depth } => {
                !was_in_string && matches!(byte, b'}' | b']' | b')') && self.depth < depth
            }
            ValueEnd::Quote(_) => false,
        }
    }

    /// One byte inside a URL authority: `user:password@` keeps `user:` and hides the password.
    fn in_authority(&mut self, byte: u8, sink: &mut Sink) -> bool {
        let colon = self.authority.flatten();
        match byte {
            b'@' => {
                self.authority = None;
                if let Some(at) = colon {
                    sink.buf.truncate(at + 1);
                    self.redactions += 1;
                    return sink.keep(REDACTED.as_bytes()) && sink.keep(b"@");
                }
                sink.keep(b"@")
            }
            b':' if colon.is_none() => {
                self.authority = Some(Some(sink.buf.len()));
                sink.keep(b":")
            }
            b'/' | b'?' | b'#' | b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b'\\' | b'<'
            | b'>' | b',' | b';' => {
                self.authority = None;
                sink.keep(&[byte])
            }
            _ => sink.keep(&[byte]),
        }
    }

    /// Called when writing is over: a cut inside an authority after its `:` may have kept part
    /// of a password, so the text is cut back to the `:`.
    pub(super) fn finish(&mut self, sink: &mut Sink) {
        if let Some(Some(colon)) = self.authority {
            if sink.overflowed && colon < sink.buf.len() {
                sink.buf.truncate(colon + 1);
            }
        }
    }
}

/// Whether `byte` can be part of a field or parameter name.
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.')
}

/// The name written right before the current byte (at most 64 bytes), skipping a closing quote
/// (`"name"`, `\"name\"`) when `quoted`.
fn name_before(buf: &[u8], quoted: bool) -> &str {
    let mut end = buf.len();
    if quoted && end > 0 && buf[end - 1] == b'"' {
        end -= 1;
        if end > 0 && buf[end - 1] == b'\\' {
            end -= 1;
        }
    }
    let mut start = end;
    while start > 0 && end - start < 64 && is_name_byte(buf[start - 1]) {
        start -= 1;
    }
    // Name bytes are ASCII, so the slice is always UTF-8.
    std::str::from_utf8(&buf[start..end]).unwrap_or_default()
}

/// Whether `name` is a secret under the configuration in force.
fn is_secret_name(name: &str) -> bool {
    !name.is_empty() && super::thread_cache::is_secret_name(name)
}

/// Whether the text written so far ends with a credential scheme word (`Bearer`, `Basic`).
fn ends_with_scheme(buf: &[u8]) -> bool {
    super::thread_cache::with_schemes(|schemes| {
        schemes.iter().any(|scheme| {
            let scheme = scheme.as_bytes();
            buf.len() >= scheme.len()
                && buf[buf.len() - scheme.len()..].eq_ignore_ascii_case(scheme)
                && (buf.len() == scheme.len() || !is_name_byte(buf[buf.len() - scheme.len() - 1]))
        })
    })
}

/// Whether `word` is a credential scheme word.
fn is_scheme(word: &[u8]) -> bool {
    super::thread_cache::with_schemes(|schemes| {
        schemes
            .iter()
            .any(|scheme| scheme.as_bytes().eq_ignore_ascii_case(word))
    })
}

#[cfg(test)]
mod tests {
    use super::super::{BoundedText, redact_text};
    use super::{Syntax, may_hold_secret};

    #[test]
    fn a_text_may_hold_a_secret_exactly_when_a_rule_could_start_in_it() {
        for b in 0..=u8::MAX {
            let starts = matches!(b, b':' | b'=' | b' ' | b'\t' | b'\r' | b'\n');
            assert_eq!(may_hold_secret(&[b'a', b, b'z']), starts, "byte {b}");
        }
        assert!(!may_hold_secret(b""));
    }

    fn written(syntax: Syntax, limit: usize, text: &str) -> String {
        let mut out = BoundedText::new(limit);
        out.set_syntax(syntax);
        out.push(text.as_bytes());
        out.finish(None)
    }

    #[test]
    fn hiding_twice_changes_nothing() {
        for text in [
            "https://u:pw@h/x?sig=abc&id=7",
            r#"{"token":"abc","n":1}"#,
            "Authorization: Bearer abc",
            "password=(a[b]c) next",
        ] {
            let once = redact_text(text).into_owned();
            assert!(!once.contains("abc") && !once.contains("pw"), "{once}");
            assert_eq!(redact_text(&once), once.as_str());
        }
    }

    #[test]
    fn a_cut_inside_a_url_password_keeps_none_of_it() {
        let password = "0123456789abcdef".repeat(8);
        let out = written(Syntax::Text, 90, &format!("postgres://app:{password}@db/x"));
        assert!(out.starts_with("postgres://app:"), "{out}");
        assert!(!out.contains("0123"), "{out}");
    }

    #[test]
    fn debug_paths_and_ports_are_not_fields() {
        assert_eq!(
            written(
                Syntax::Debug,
                1024,
                r#"Kind { token: token::Kind::A, url: "http://h:8080/x" }"#
            ),
            r#"Kind { token: [redacted], url: "http://h:8080/x" }"#
        );
        assert_eq!(written(Syntax::Text, 1024, "token::Kind"), "token::Kind");
    }

    #[test]
    fn debug_structs_and_tuples_named_as_secrets_are_hidden_whole() {
        for (text, want) in [
            (
                r#"Holder { name: "n", auth: Token { value: "x", more: [1, 2] } }"#,
                r#"Holder { name: "n", auth: Token { [redacted] } }"#,
            ),
            (
                r#"[Password("a", "b"), Plain { value: "k" }]"#,
                r#"[Password([redacted]), Plain { value: "k" }]"#,
            ),
            (
                r#"(ApiKey(Pem { kid: "k" }), "n")"#,
                r#"(ApiKey([redacted]), "n")"#,
            ),
            (
                r#"Credentials { user: "u" }"#,
                r#"Credentials { [redacted] }"#,
            ),
            // Names are matched word by word, as field names are: `TokenUsage` names a token.
            (
                r#"TokenUsage { prompt: 5 }"#,
                r#"TokenUsage { [redacted] }"#,
            ),
            (r#"Usage { max_tokens: 5 }"#, r#"Usage { max_tokens: 5 }"#),
            (r#"Login { user: "u" }"#, r#"Login { user: "u" }"#),
        ] {
            assert_eq!(written(Syntax::Debug, 1024, text), want, "{text}");
        }
    }

    #[test]
    fn json_keys_are_left_to_the_serializer() {
        let json = r#"{"token":"abc"}"#;
        assert_eq!(written(Syntax::Json, 1024, json), json);
    }
}
