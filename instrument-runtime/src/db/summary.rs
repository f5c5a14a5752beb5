//! Reading a SQL statement without a full parser: its operation and first table
//! (`db.operation.name`, `db.collection.name`, `db.query.summary`), and its shape with literals
//! and bind parameters normalised (for repeated-query detection). Never panics, on any input.

/// The longest summary produced, in bytes.
const MAX_SUMMARY_BYTES: usize = 255;
/// At most this many statements of a multi-statement string are summarised.
const MAX_SUMMARISED_STATEMENTS: usize = 3;

/// What a statement is about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuerySummary {
    /// `SELECT`, `INSERT`, `CREATE TABLE`, ...
    pub operation: Option<String>,
    /// The first table the operation reads or writes.
    pub collection: Option<String>,
    /// `{operation} {collection}` for each statement, `; `-separated.
    pub summary: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Token {
    Word(String),
    Quoted(String),
    Literal,
    Param,
    Punct(char),
}

/// Splits `sql` into tokens, dropping comments and whitespace.
pub(super) fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let take_until = |start: usize, end: char| -> (String, usize) {
        let mut j = start;
        let mut text = String::new();
        while j < chars.len() {
            if chars[j] == end {
                if chars.get(j + 1) == Some(&end) {
                    text.push(end);
                    j += 2;
                    continue;
                }
                return (text, j + 1);
            }
            text.push(chars[j]);
            j += 1;
        }
        (text, j)
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i = (i + 2).min(chars.len());
        } else if c == '\'' {
            i = take_until(i + 1, '\'').1;
            tokens.push(Token::Literal);
        } else if c == '"' || c == '`' {
            let (text, next) = take_until(i + 1, c);
            tokens.push(Token::Quoted(text));
            i = next;
        } else if c == '[' {
            let (text, next) = take_until(i + 1, ']');
            tokens.push(Token::Quoted(text));
            i = next;
        } else if matches!(c, 'E' | 'e' | 'N' | 'n' | 'X' | 'x' | 'B' | 'b')
            && chars.get(i + 1) == Some(&'\'')
            && !tokens_glued(&chars, i)
        {
            // `E'..'`, `N'..'`, `X'..'`, `B'..'`: a string or hex/bit literal.
            if matches!(c, 'E' | 'e') {
                // Backslash escapes: `E'it\'s'`.
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i = take_until(i.min(chars.len()), '\'').1;
            } else {
                i = take_until(i + 2, '\'').1;
            }
            tokens.push(Token::Literal);
        } else if c == '$' && dollar_quote_end(&chars, i).is_some() {
            i = dollar_quote_end(&chars, i).unwrap_or(chars.len());
            tokens.push(Token::Literal);
        } else if c == '$' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            tokens.push(Token::Param);
        } else if c == '?'
            || ((c == ':' || c == '@') && chars.get(i + 1).is_some_and(|n| n.is_alphabetic()))
        {
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Param);
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Literal);
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            tokens.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// Whether `chars[i]` continues a word (so is no literal prefix).
fn tokens_glued(chars: &[char], i: usize) -> bool {
    i > 0
        && chars
            .get(i - 1)
            .is_some_and(|p| p.is_alphanumeric() || *p == '_' || *p == '$')
}

/// The end of the dollar-quoted string (`$$..$$`, `$tag$..$tag$`) opening at `chars[i]`, if one
/// opens there (not after a word: `a$$` is a name). Unterminated: the end.
fn dollar_quote_end(chars: &[char], i: usize) -> Option<usize> {
    if tokens_glued(chars, i) {
        return None;
    }
    let mut j = i + 1;
    if chars.get(j).is_some_and(|c| c.is_alphabetic() || *c == '_') {
        while chars
            .get(j)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            j += 1;
        }
    }
    if chars.get(j) != Some(&'$') {
        return None;
    }
    let tag = &chars[i..=j];
    let body = j + 1;
    Some(
        chars
            .get(body..)
            .unwrap_or_default()
            .windows(tag.len())
            .position(|w| w == tag)
            .map_or(chars.len(), |p| body + p + tag.len()),
    )
}

pub(super) fn keyword(token: Option<&Token>) -> Option<String> {
    match token {
        Some(Token::Word(w)) => Some(w.to_ascii_uppercase()),
        _ => None,
    }
}

/// A (possibly schema-qualified) name starting at `tokens[i]`, with the index after it.
pub(super) fn name_at(tokens: &[Token], mut i: usize) -> Option<(String, usize)> {
    let mut parts = Vec::new();
    while let Some(Token::Word(w) | Token::Quoted(w)) = tokens.get(i) {
        parts.push(w.clone());
        i += 1;
        if tokens.get(i) == Some(&Token::Punct('.')) {
            i += 1;
        } else {
            break;
        }
    }
    (!parts.is_empty()).then(|| (parts.join("."), i))
}

/// Index of the first `word` at parenthesis depth 0 from `start`.
pub(super) fn find_top_level(tokens: &[Token], start: usize, word: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, token) in tokens.iter().enumerate().skip(start) {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth -= 1,
            Token::Word(w) if depth == 0 && w.eq_ignore_ascii_case(word) => return Some(i),
            _ => {}
        }
    }
    None
}

/// Skips `WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (...) [, ...]`, returning the
/// index of the main statement.
fn skip_ctes(tokens: &[Token], mut i: usize) -> usize {
    if keyword(tokens.get(i)).as_deref() == Some("RECURSIVE") {
        i += 1;
    }
    loop {
        let Some((_, after_name)) = name_at(tokens, i) else {
            return i;
        };
        i = after_name;
        if tokens.get(i) == Some(&Token::Punct('(')) {
            i = skip_parens(tokens, i);
        }
        if keyword(tokens.get(i)).as_deref() != Some("AS") {
            return i;
        }
        i += 1;
        while matches!(
            keyword(tokens.get(i)).as_deref(),
            Some("NOT" | "MATERIALIZED")
        ) {
            i += 1;
        }
        if tokens.get(i) == Some(&Token::Punct('(')) {
            i = skip_parens(tokens, i);
        }
        if tokens.get(i) == Some(&Token::Punct(',')) {
            i += 1;
        } else {
            return i;
        }
    }
}

/// The index after the parenthesised group that opens at `i`.
fn skip_parens(tokens: &[Token], i: usize) -> usize {
    let mut depth = 0i32;
    for (j, token) in tokens.iter().enumerate().skip(i) {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => {
                depth -= 1;
                if depth <= 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// Operation and collection of one statement.
fn summarize_statement(tokens: &[Token]) -> (Option<String>, Option<String>) {
    let mut start = 0;
    let Some(mut operation) = keyword(tokens.first()) else {
        return (None, None);
    };
    if operation == "WITH" {
        start = skip_ctes(tokens, 1);
        match keyword(tokens.get(start)) {
            Some(op) => operation = op,
            None => return (Some("WITH".to_owned()), None),
        }
    }
    let collection = match operation.as_str() {
        "SELECT" => find_top_level(tokens, start, "FROM")
            .and_then(|i| name_at(tokens, i + 1))
            .map(|n| n.0),
        "INSERT" | "REPLACE" => find_top_level(tokens, start, "INTO")
            .and_then(|i| name_at(tokens, i + 1))
            .map(|n| n.0),
        "DELETE" => find_top_level(tokens, start, "FROM")
            .and_then(|i| name_at(tokens, i + 1))
            .map(|n| n.0),
        "UPDATE" => {
            let mut i = start + 1;
            if keyword(tokens.get(i)).as_deref() == Some("OR") {
                i += 2;
            }
            if keyword(tokens.get(i)).as_deref() == Some("ONLY") {
                i += 1;
            }
            name_at(tokens, i).map(|n| n.0)
        }
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" => {
            let mut i = start + 1;
            let mut object = Vec::new();
            while let Some(word) = keyword(tokens.get(i)) {
                if matches!(
                    word.as_str(),
                    "TABLE"
                        | "INDEX"
                        | "VIEW"
                        | "UNIQUE"
                        | "TEMP"
                        | "TEMPORARY"
                        | "SCHEMA"
                        | "SEQUENCE"
                        | "TRIGGER"
                ) {
                    object.push(word);
                    i += 1;
                } else {
                    break;
                }
            }
            while matches!(
                keyword(tokens.get(i)).as_deref(),
                Some("IF" | "NOT" | "EXISTS")
            ) {
                i += 1;
            }
            if !object.is_empty() {
                operation = format!("{operation} {}", object.join(" "));
            }
            name_at(tokens, i).map(|n| n.0)
        }
        _ => None,
    };
    (Some(operation), collection)
}

/// Summarises `sql`: the first statement's operation and collection, and a summary of up to
/// three statements.
pub fn summarize(sql: &str) -> QuerySummary {
    let tokens = tokenize(sql);
    let statements: Vec<&[Token]> = tokens
        .split(|t| *t == Token::Punct(';'))
        .filter(|s| !s.is_empty())
        .collect();
    let summaries: Vec<(Option<String>, Option<String>)> = statements
        .iter()
        .take(MAX_SUMMARISED_STATEMENTS)
        .map(|s| summarize_statement(s))
        .collect();
    let parts: Vec<String> = summaries
        .iter()
        .filter_map(|(op, coll)| {
            let op = op.as_ref()?;
            Some(match coll {
                Some(coll) => format!("{op} {coll}"),
                None => op.clone(),
            })
        })
        .collect();
    let mut summary = parts.join("; ");
    if summary.len() > MAX_SUMMARY_BYTES {
        let cut = crate::capture::floor_char_boundary(summary.as_bytes(), MAX_SUMMARY_BYTES);
        summary.truncate(cut);
    }
    let (operation, collection) = summaries.into_iter().next().unwrap_or_default();
    QuerySummary {
        operation,
        collection,
        summary: (!summary.is_empty()).then_some(summary),
    }
}

/// The statement's shape: keywords uppercased, literals and bind parameters as `?`, lists of
/// them collapsed, whitespace and comments dropped. Two executions with other values have the
/// same shape.
pub fn normalize(sql: &str) -> String {
    let mut pieces: Vec<String> = Vec::new();
    for token in tokenize(sql) {
        let piece = match token {
            Token::Word(w) => w.to_ascii_uppercase(),
            Token::Quoted(q) => format!("\"{q}\""),
            Token::Literal | Token::Param => "?".to_owned(),
            Token::Punct(c) => c.to_string(),
        };
        // `?, ?, ?` collapses to one `?`: IN-lists of any length share a shape.
        if piece == "?"
            && pieces.len() >= 2
            && pieces[pieces.len() - 1] == ","
            && pieces[pieces.len() - 2] == "?"
        {
            pieces.pop();
            continue;
        }
        pieces.push(piece);
    }
    pieces.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(sql: &str) -> (Option<String>, Option<String>, Option<String>) {
        let q = summarize(sql);
        (q.operation, q.collection, q.summary)
    }

    fn some(
        op: &str,
        coll: Option<&str>,
        summary: &str,
    ) -> (Option<String>, Option<String>, Option<String>) {
        (
            Some(op.to_owned()),
            coll.map(str::to_owned),
            Some(summary.to_owned()),
        )
    }

    #[test]
    fn the_common_statements() {
        assert_eq!(
            s("SELECT id, name FROM users WHERE id = $1"),
            some("SELECT", Some("users"), "SELECT users")
        );
        assert_eq!(
            s("insert into messages (id, text) values (?, ?)"),
            some("INSERT", Some("messages"), "INSERT messages")
        );
        assert_eq!(
            s("UPDATE agents SET name = 'x' WHERE id = 3"),
            some("UPDATE", Some("agents"), "UPDATE agents")
        );
        assert_eq!(
            s("DELETE FROM public.sessions WHERE expires < now()"),
            some("DELETE", Some("public.sessions"), "DELETE public.sessions")
        );
        assert_eq!(
            s("WITH recent AS (SELECT * FROM events WHERE ts > $1) SELECT count(*) FROM recent"),
            some("SELECT", Some("recent"), "SELECT recent")
        );
        assert_eq!(
            s(r#"SELECT * FROM "Order Items""#),
            some("SELECT", Some("Order Items"), "SELECT Order Items")
        );
        assert_eq!(
            s("/* hi */ -- comment\n select 1"),
            some("SELECT", None, "SELECT")
        );
        assert_eq!(
            s("CREATE TABLE IF NOT EXISTS t (id INTEGER)"),
            some("CREATE TABLE", Some("t"), "CREATE TABLE t")
        );
        assert_eq!(
            s("BEGIN; INSERT INTO a VALUES (1); COMMIT;"),
            some("BEGIN", None, "BEGIN; INSERT a; COMMIT")
        );
        assert_eq!(s(""), (None, None, None));
        assert_eq!(
            s("SELECT * FROM (SELECT * FROM inner_t) sub"),
            some("SELECT", None, "SELECT")
        );
    }

    #[test]
    fn shapes_ignore_values() {
        assert_eq!(
            normalize("select * from t where id = 1"),
            normalize("SELECT *  FROM t WHERE id = 42")
        );
        assert_eq!(
            normalize("SELECT * FROM t WHERE id IN (1, 2, 3)"),
            normalize("SELECT * FROM t WHERE id IN ($1)")
        );
        assert_eq!(
            normalize("SELECT * FROM t WHERE name = 'a''b'"),
            "SELECT * FROM T WHERE NAME = ?"
        );
        assert_eq!(
            normalize("select a from t where id in (1,2,3)"),
            "SELECT A FROM T WHERE ID IN ( ? )"
        );
        assert_ne!(normalize("SELECT * FROM a"), normalize("SELECT * FROM b"));
        assert_eq!(
            normalize("SELECT * FROM t WHERE a = X'1F' AND b = E'it\\'s' AND c = $$x y$$"),
            "SELECT * FROM T WHERE A = ? AND B = ? AND C = ?"
        );
        assert_eq!(
            normalize("SELECT * FROM t WHERE a = 0x1F AND b = $tag$ 'x' $tag$"),
            normalize("SELECT * FROM t WHERE a = ? AND b = ?")
        );
        assert_eq!(normalize("SELECT x, b$$ FROM t"), "SELECT X , B$$ FROM T");
    }
}
