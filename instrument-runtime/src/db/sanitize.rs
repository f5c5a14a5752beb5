//! `db.query.text` without literals, as the semantic conventions recommend for statements that
//! are not parameterized: string, numeric, hex and bit literals become `?`, a list of literals
//! after `IN` becomes `(?)`, comments are dropped; placeholders (`?`, `?1`, `$1`, `:name`,
//! `@p1`), identifiers (also quoted: `"col"`, `` `col` ``, `[col]`), keywords, operators and
//! whitespace stay as written.
//!
//! One pass over the bytes, without allocation beyond the output; a text without literals or
//! comments is returned borrowed. Never panics, on any input: an unterminated string or comment
//! runs to the end of the text (and is replaced whole, so it cannot leak).

use std::borrow::Cow;

/// The SQL dialect a statement is read in, from `db.system.name`: where they differ, how
/// strings escape quotes and what brackets and `$` mean.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SqlDialect {
    /// SQLite, SQL Server and the rest: `'it''s'`, `[identifier]`, `$name` placeholders.
    #[default]
    Generic,
    /// PostgreSQL: also `E'it\'s'` and dollar-quoted `$$text$$` / `$tag$text$tag$` strings;
    /// `[` is an array subscript.
    Postgres,
    /// MySQL and MariaDB: backslash escapes in strings, and `"text"` is a string.
    MySql,
}

impl SqlDialect {
    /// The dialect of a `db.system.name`.
    pub fn of_system(system: &str) -> Self {
        match system {
            "postgresql" | "cockroachdb" | "redshift" => SqlDialect::Postgres,
            "mysql" | "mariadb" | "tidb" => SqlDialect::MySql,
            _ => SqlDialect::Generic,
        }
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

struct Scanner<'a> {
    bytes: &'a [u8],
    dialect: SqlDialect,
}

impl Scanner<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// The end of the quoted text whose opening `quote` is at `start`: doubled quotes (and, with
    /// `backslash`, backslash-escaped characters) stay inside. Unterminated: the text's end.
    fn quoted_end(&self, start: usize, quote: u8, backslash: bool) -> usize {
        let mut i = start + 1;
        while i < self.bytes.len() {
            let b = self.bytes[i];
            if backslash && b == b'\\' {
                i += 2;
            } else if b == quote {
                if self.at(i + 1) == Some(quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i += 1;
            }
        }
        self.bytes.len()
    }

    /// The end of the dollar-quoted string opening at `start` (`$$` or `$tag$`), if one opens
    /// there. Unterminated: the text's end.
    fn dollar_quoted_end(&self, start: usize) -> Option<usize> {
        let mut i = start + 1;
        if self.at(i).is_some_and(is_ident_start) {
            while self
                .at(i)
                .is_some_and(|b| is_ident_continue(b) && b != b'$')
            {
                i += 1;
            }
        }
        if self.at(i) != Some(b'$') {
            return None;
        }
        let tag = &self.bytes[start..=i];
        let body = i + 1;
        let end = self.bytes[body..]
            .windows(tag.len())
            .position(|w| w == tag)
            .map_or(self.bytes.len(), |p| body + p + tag.len());
        Some(end)
    }

    /// The end of the number starting at `start` (a digit, or `.` before a digit): `0x1F`,
    /// `0b101`, `12`, `1.5`, `.5`, `1e-3`, and any letters glued to it.
    fn number_end(&self, start: usize) -> usize {
        let mut i = start;
        let digits = |mut i: usize| {
            while self.at(i).is_some_and(|b| b.is_ascii_digit() || b == b'_') {
                i += 1;
            }
            i
        };
        if self.at(i) == Some(b'0') && matches!(self.at(i + 1), Some(b'x' | b'X' | b'b' | b'B')) {
            i += 2;
        } else {
            i = digits(i);
            if self.at(i) == Some(b'.') {
                i = digits(i + 1);
            }
            if matches!(self.at(i), Some(b'e' | b'E')) {
                let mut j = i + 1;
                if matches!(self.at(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                if self.at(j).is_some_and(|b| b.is_ascii_digit()) {
                    i = digits(j);
                }
            }
        }
        while self.at(i).is_some_and(is_ident_continue) {
            i += 1;
        }
        i
    }

    /// The end of the literal starting at `i`, if one does (a sign is part of a number here).
    fn literal_end(&self, i: usize) -> Option<usize> {
        let b = self.at(i)?;
        match b {
            b'\'' => Some(self.quoted_end(i, b'\'', self.dialect == SqlDialect::MySql)),
            b'"' if self.dialect == SqlDialect::MySql => Some(self.quoted_end(i, b'"', true)),
            b'$' if self.dialect == SqlDialect::Postgres => self.dollar_quoted_end(i),
            b'0'..=b'9' => Some(self.number_end(i)),
            b'.' if self.at(i + 1).is_some_and(|d| d.is_ascii_digit()) => Some(self.number_end(i)),
            b'-' | b'+' => match (self.at(i + 1), self.at(i + 2)) {
                (Some(d), _) if d.is_ascii_digit() => Some(self.number_end(i + 1)),
                (Some(b'.'), Some(d)) if d.is_ascii_digit() => Some(self.number_end(i + 1)),
                _ => None,
            },
            _ => self.prefixed_string_end(i),
        }
    }

    /// `E'..'`, `N'..'`, `X'..'`, `B'..'`, `U&'..'` (and lowercase) starting at `i`.
    fn prefixed_string_end(&self, i: usize) -> Option<usize> {
        let b = self.at(i)?.to_ascii_uppercase();
        let (quote, backslash) = match (b, self.at(i + 1), self.at(i + 2)) {
            (b'E', Some(b'\''), _) => (i + 1, true),
            (b'N' | b'X' | b'B', Some(b'\''), _) => (i + 1, self.dialect == SqlDialect::MySql),
            (b'U', Some(b'&'), Some(b'\'')) => (i + 2, false),
            _ => return None,
        };
        Some(self.quoted_end(quote, b'\'', backslash))
    }

    /// Whitespace and comments from `i`: the index after them.
    fn skip_blank(&self, mut i: usize) -> usize {
        loop {
            match self.at(i) {
                Some(b) if b.is_ascii_whitespace() => i += 1,
                Some(b'-') if self.at(i + 1) == Some(b'-') => i = self.line_comment_end(i),
                Some(b'/') if self.at(i + 1) == Some(b'*') => i = self.block_comment_end(i),
                _ => return i,
            }
        }
    }

    fn line_comment_end(&self, i: usize) -> usize {
        self.bytes[i..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.bytes.len(), |p| i + p)
    }

    fn block_comment_end(&self, i: usize) -> usize {
        self.bytes[i + 2..]
            .windows(2)
            .position(|w| w == b"*/")
            .map_or(self.bytes.len(), |p| i + 2 + p + 2)
    }

    /// After `IN` at `i`: the end of `(literal, literal, ...)` when only literals are listed.
    fn literal_list_end(&self, i: usize) -> Option<usize> {
        let mut i = self.skip_blank(i);
        if self.at(i) != Some(b'(') {
            return None;
        }
        loop {
            i = self.skip_blank(i + 1);
            i = self.literal_end(i)?;
            i = self.skip_blank(i);
            match self.at(i)? {
                b',' => {}
                b')' => return Some(i + 1),
                _ => return None,
            }
        }
    }
}

/// `sql` with its literals replaced by `?` and its comments dropped, read in `dialect`.
pub fn sanitize(sql: &str, dialect: SqlDialect) -> Cow<'_, str> {
    let scanner = Scanner {
        bytes: sql.as_bytes(),
        dialect,
    };
    let bytes = scanner.bytes;
    let mut out: Option<String> = None;
    // Start of the text not yet copied to `out`.
    let mut copied = 0;
    // Whether the last token was a value (identifier, literal, placeholder, `)`), after which
    // `-` is an operator rather than a sign.
    let mut after_value = false;
    let mut i = 0;
    // Every boundary below is an ASCII byte or the text's end, so a char boundary.
    let mut replace = |from: usize, to: usize, with: &str, copied: &mut usize| {
        let out = out.get_or_insert_with(|| String::with_capacity(sql.len()));
        out.push_str(&sql[*copied..from]);
        // Keep tokens apart where a comment separated them.
        if with.is_empty()
            && !out.is_empty()
            && !out.ends_with(|c: char| c.is_ascii_whitespace())
            && bytes.get(to).is_some_and(|b| !b.is_ascii_whitespace())
        {
            out.push(' ');
        } else {
            out.push_str(with);
        }
        *copied = to;
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            _ if b.is_ascii_whitespace() => i += 1,
            b'-' if scanner.at(i + 1) == Some(b'-') => {
                let end = scanner.line_comment_end(i);
                replace(i, end, "", &mut copied);
                i = end;
            }
            b'/' if scanner.at(i + 1) == Some(b'*') => {
                let end = scanner.block_comment_end(i);
                replace(i, end, "", &mut copied);
                i = end;
            }
            b'"' | b'`' if !(b == b'"' && dialect == SqlDialect::MySql) => {
                i = scanner.quoted_end(i, b, false);
                after_value = true;
            }
            b'[' if dialect != SqlDialect::Postgres => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(bytes.len(), |p| i + p + 1);
                after_value = true;
            }
            b'?' => {
                i += 1;
                while scanner.at(i).is_some_and(|d| d.is_ascii_digit()) {
                    i += 1;
                }
                after_value = true;
            }
            b'$' if scanner.at(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                i += 1;
                while scanner.at(i).is_some_and(|d| d.is_ascii_digit()) {
                    i += 1;
                }
                after_value = true;
            }
            b':' | b'@' | b'$'
                if scanner.at(i + 1).is_some_and(|n| {
                    is_ident_start(n)
                        || (b == b'@' && n == b'@')
                        || (b == b':' && n.is_ascii_digit() && dialect != SqlDialect::Postgres)
                }) && !(b == b'$' && dialect == SqlDialect::Postgres) =>
            {
                // `:name`, `@p1`, `@@version`, `$name`, `:1`: a placeholder or variable.
                i += 2;
                while scanner.at(i).is_some_and(is_ident_continue) {
                    i += 1;
                }
                after_value = true;
            }
            b'-' | b'+' if after_value => {
                i += 1;
                after_value = false;
            }
            _ if is_ident_start(b) && scanner.prefixed_string_end(i).is_none() => {
                let start = i;
                while scanner.at(i).is_some_and(is_ident_continue) {
                    i += 1;
                }
                if bytes[start..i].eq_ignore_ascii_case(b"IN") {
                    if let Some(end) = scanner.literal_list_end(i) {
                        let open = scanner.skip_blank(i);
                        // Keep what separates `IN` from `(` unless it holds a comment.
                        if open == i || bytes[i..open].iter().all(u8::is_ascii_whitespace) {
                            replace(open, end, "(?)", &mut copied);
                        } else {
                            replace(i, end, " (?)", &mut copied);
                        }
                        i = end;
                        after_value = true;
                        continue;
                    }
                }
                after_value = true;
            }
            _ => match scanner.literal_end(i) {
                Some(end) if end > i => {
                    replace(i, end, "?", &mut copied);
                    i = end;
                    after_value = true;
                }
                _ => {
                    after_value = b == b')';
                    i += 1;
                }
            },
        }
    }
    match out {
        None => Cow::Borrowed(sql),
        Some(mut out) => {
            out.push_str(&sql[copied.min(sql.len())..]);
            Cow::Owned(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(sql: &str) -> String {
        sanitize(sql, SqlDialect::Generic).into_owned()
    }

    #[test]
    fn literals_become_placeholders() {
        for (sql, expected) in [
            (
                "SELECT * FROM users WHERE password = 'hunter2'",
                "SELECT * FROM users WHERE password = ?",
            ),
            ("SELECT 'it''s', 'x'", "SELECT ?, ?"),
            (
                "SELECT * FROM t WHERE id = 42",
                "SELECT * FROM t WHERE id = ?",
            ),
            ("SELECT 1.5, .5, 1e10, 2.5E-3, 7e+2", "SELECT ?, ?, ?, ?, ?"),
            (
                "SELECT 0x1F, X'1F', x'ab', B'0101', N'nom'",
                "SELECT ?, ?, ?, ?, ?",
            ),
            ("WHERE a = -5 AND b = - 6", "WHERE a = ? AND b = - ?"),
            (
                "SELECT a-1, a - 1, (a)-1, f(-1)",
                "SELECT a-?, a - ?, (a)-?, f(?)",
            ),
            (
                "SELECT t1.col_2, col3 FROM t1",
                "SELECT t1.col_2, col3 FROM t1",
            ),
            ("WHERE id IN (1, 2, 3)", "WHERE id IN (?)"),
            ("WHERE id in(1,'a',-3.5) AND x", "WHERE id in(?) AND x"),
            ("WHERE id IN ($1, $2)", "WHERE id IN ($1, $2)"),
            ("WHERE id IN (1, x)", "WHERE id IN (?, x)"),
            ("WHERE id IN (SELECT 1)", "WHERE id IN (SELECT ?)"),
            (
                "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')",
                "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)",
            ),
            (
                "SELECT ?, ?1, $1, :name, @p1, $name, @@version",
                "SELECT ?, ?1, $1, :name, @p1, $name, @@version",
            ),
            (
                r#"SELECT "col1", `col2`, [col 3] FROM "t""1""#,
                r#"SELECT "col1", `col2`, [col 3] FROM "t""1""#,
            ),
            ("SELECT 1 -- id = 'secret'\nFROM t", "SELECT ? \nFROM t"),
            ("SELECT/* 'secret' */1", "SELECT ?"),
            ("SELECT a /* x */ FROM t", "SELECT a  FROM t"),
            ("SELECT 'unterminated AND x = 1", "SELECT ?"),
            ("SELECT 1 /* unterminated", "SELECT ? "),
            (
                "SELECT 'é', é1 FROM té WHERE x = 'ü'",
                "SELECT ?, é1 FROM té WHERE x = ?",
            ),
            (
                "SELECT e, n, x FROM t WHERE e='1'",
                "SELECT e, n, x FROM t WHERE e=?",
            ),
            (
                "SELECT 'a\\' FROM t WHERE b = 'c'",
                "SELECT ? FROM t WHERE b = ?",
            ),
            ("", ""),
        ] {
            assert_eq!(generic(sql), expected, "{sql}");
        }
    }

    #[test]
    fn dialects_differ_where_sql_does() {
        let pg = |sql| sanitize(sql, SqlDialect::Postgres).into_owned();
        let my = |sql| sanitize(sql, SqlDialect::MySql).into_owned();
        assert_eq!(pg("SELECT E'it\\'s', 'C:\\' , 2"), "SELECT ?, ? , ?");
        assert_eq!(
            pg("SELECT $$a 'b' c$$, $tag$ $$ x $tag$, $1 FROM t"),
            "SELECT ?, ?, $1 FROM t"
        );
        assert_eq!(
            pg("SELECT arr[1], x::int FROM t"),
            "SELECT arr[?], x::int FROM t"
        );
        assert_eq!(pg("SELECT $$unterminated"), "SELECT ?");
        assert_eq!(
            my(r#"SELECT "secret", 'it\'s', `col` FROM t"#),
            "SELECT ?, ?, `col` FROM t"
        );
    }

    #[test]
    fn a_text_without_literals_is_borrowed() {
        assert!(matches!(
            sanitize("SELECT id FROM users WHERE id = $1", SqlDialect::Postgres),
            Cow::Borrowed(_)
        ));
    }

    fn random(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// Random malformed inputs (pieces glued together): no panic, in any dialect, also when
    /// the output is sanitized again.
    #[test]
    fn never_panics_on_any_input() {
        let alphabet: &[&str] = &[
            "'",
            "\"",
            "`",
            "[",
            "]",
            "$",
            "$$",
            "$a$",
            "-",
            "--",
            "/*",
            "*/",
            "\n",
            " ",
            "1",
            "0x",
            "e",
            "E'",
            "\\",
            "IN",
            "(",
            ")",
            ",",
            "?",
            ":",
            "@",
            ".",
            "é",
            "x",
            "X'",
            "+",
            "U&'",
            ";",
            "\u{1F600}",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let len = (random(&mut seed) % 24) as usize;
            let sql: String = (0..len)
                .map(|_| alphabet[(random(&mut seed) % alphabet.len() as u64) as usize])
                .collect();
            for dialect in [SqlDialect::Generic, SqlDialect::Postgres, SqlDialect::MySql] {
                let out = sanitize(&sql, dialect);
                assert!(out.len() <= 2 * sql.len() + 4, "{sql:?} -> {out:?}");
                let _ = sanitize(&out, dialect);
            }
        }
    }

    /// Random statements of well-formed tokens: no literal's content survives, in any dialect.
    #[test]
    fn no_literal_survives_in_random_statements() {
        let tokens: &[&str] = &[
            "a",
            "t1",
            "col_2",
            ",",
            "(",
            ")",
            "=",
            "IN",
            "in",
            "'SECRET'",
            "'SEC''RET'",
            "987654",
            "-987654",
            "9876.54e3",
            "0x987654",
            "X'987654'",
            "/* SECRET */",
            "-- SECRET\n",
            "\"col\"",
            "?",
            "$1",
            ":name",
            "@p1",
            "+",
            "-",
            "*",
            "SELECT",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            let len = (random(&mut seed) % 16) as usize;
            let sql = (0..len)
                .map(|_| tokens[(random(&mut seed) % tokens.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ");
            for dialect in [SqlDialect::Generic, SqlDialect::Postgres, SqlDialect::MySql] {
                let out = sanitize(&sql, dialect);
                for secret in ["SEC", "RET", "9876", "54"] {
                    assert!(!out.contains(secret), "{dialect:?} {sql:?} -> {out:?}");
                }
            }
        }
    }
}
