//! The SQL summariser on a corpus of real statements, and a property test over random input:
//! it never panics and its summaries stay bounded.

use instrument::db::{normalize, summarize};

/// (statement, expected `db.query.summary`; `None` where no operation is recognisable).
const CORPUS: &[(&str, Option<&str>)] = &[
    ("SELECT * FROM users", Some("SELECT users")),
    ("select id from users where id = $1", Some("SELECT users")),
    (
        "SELECT u.id, o.total FROM users u JOIN orders o ON o.user_id = u.id",
        Some("SELECT users"),
    ),
    (
        "SELECT count(*) FROM public.orders WHERE status = 'paid'",
        Some("SELECT public.orders"),
    ),
    (
        r#"SELECT "id" FROM "Order Items" WHERE "sku" = ?"#,
        Some("SELECT Order Items"),
    ),
    (
        "SELECT `id` FROM `legacy`.`accounts`",
        Some("SELECT legacy.accounts"),
    ),
    (
        "SELECT [id] FROM [dbo].[Customers]",
        Some("SELECT dbo.Customers"),
    ),
    ("SELECT 1", Some("SELECT")),
    ("SELECT now()", Some("SELECT")),
    ("SELECT * FROM (SELECT id FROM a) AS sub", Some("SELECT")),
    (
        "SELECT (SELECT max(id) FROM b) AS m FROM c",
        Some("SELECT c"),
    ),
    (
        "SELECT id FROM t1 UNION SELECT id FROM t2",
        Some("SELECT t1"),
    ),
    (
        "SELECT * FROM agents WHERE id IN (1, 2, 3) ORDER BY created_at DESC LIMIT 10",
        Some("SELECT agents"),
    ),
    (
        "SELECT * FROM messages WHERE agent_id = :agent_id",
        Some("SELECT messages"),
    ),
    (
        "SELECT * FROM messages WHERE agent_id = @agent",
        Some("SELECT messages"),
    ),
    ("  \n\tSELECT * FROM spaced  ", Some("SELECT spaced")),
    (
        "-- leading comment\nSELECT * FROM commented",
        Some("SELECT commented"),
    ),
    (
        "/* block */ SELECT /* inline */ * FROM blocks",
        Some("SELECT blocks"),
    ),
    (
        "SELECT '--not a comment' FROM quotes",
        Some("SELECT quotes"),
    ),
    ("SELECT 'it''s' FROM escapes", Some("SELECT escapes")),
    ("SELECT $$dollar$$ FROM d", Some("SELECT d")),
    (
        "INSERT INTO users (id, name) VALUES ($1, $2)",
        Some("INSERT users"),
    ),
    (
        "insert into users values (1, 'a'), (2, 'b')",
        Some("INSERT users"),
    ),
    (
        "INSERT INTO audit SELECT * FROM events",
        Some("INSERT audit"),
    ),
    (
        "INSERT OR REPLACE INTO cache (k, v) VALUES (?, ?)",
        Some("INSERT cache"),
    ),
    ("REPLACE INTO kv (k, v) VALUES (?, ?)", Some("REPLACE kv")),
    (
        "INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a",
        Some("INSERT t"),
    ),
    (
        "INSERT INTO t (a) VALUES (1) RETURNING id",
        Some("INSERT t"),
    ),
    (
        "UPDATE users SET name = $1 WHERE id = $2",
        Some("UPDATE users"),
    ),
    (
        "UPDATE OR IGNORE settings SET v = 1",
        Some("UPDATE settings"),
    ),
    ("UPDATE ONLY parent SET x = 1", Some("UPDATE parent")),
    (
        "update \"Weird Table\" set x = 1",
        Some("UPDATE Weird Table"),
    ),
    (
        "DELETE FROM sessions WHERE expires_at < now()",
        Some("DELETE sessions"),
    ),
    ("delete from public.tokens", Some("DELETE public.tokens")),
    (
        "WITH recent AS (SELECT * FROM events) SELECT * FROM recent",
        Some("SELECT recent"),
    ),
    (
        "WITH RECURSIVE tree(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM tree WHERE id < 5) SELECT * FROM tree",
        Some("SELECT tree"),
    ),
    (
        "WITH a AS (SELECT 1), b AS (SELECT 2) SELECT * FROM a, b",
        Some("SELECT a"),
    ),
    (
        "WITH moved AS (DELETE FROM queue RETURNING *) INSERT INTO done SELECT * FROM moved",
        Some("INSERT done"),
    ),
    (
        "WITH x AS MATERIALIZED (SELECT 1) SELECT * FROM x",
        Some("SELECT x"),
    ),
    (
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
        Some("CREATE TABLE users"),
    ),
    (
        "CREATE TABLE IF NOT EXISTS logs (line TEXT)",
        Some("CREATE TABLE logs"),
    ),
    (
        "CREATE UNIQUE INDEX idx_users_name ON users (name)",
        Some("CREATE UNIQUE INDEX idx_users_name"),
    ),
    (
        "CREATE TEMP TABLE scratch (x INT)",
        Some("CREATE TEMP TABLE scratch"),
    ),
    ("DROP TABLE IF EXISTS users", Some("DROP TABLE users")),
    (
        "ALTER TABLE users ADD COLUMN age INT",
        Some("ALTER TABLE users"),
    ),
    ("TRUNCATE TABLE events", Some("TRUNCATE TABLE events")),
    ("CREATE VIEW v AS SELECT * FROM t", Some("CREATE VIEW v")),
    ("BEGIN", Some("BEGIN")),
    ("COMMIT", Some("COMMIT")),
    ("ROLLBACK TO SAVEPOINT sp1", Some("ROLLBACK")),
    ("SAVEPOINT sp1", Some("SAVEPOINT")),
    ("PRAGMA foreign_keys = ON", Some("PRAGMA")),
    ("VACUUM", Some("VACUUM")),
    ("EXPLAIN SELECT * FROM t", Some("EXPLAIN")),
    ("SET search_path TO app", Some("SET")),
    ("SHOW server_version", Some("SHOW")),
    (
        "BEGIN; INSERT INTO a VALUES (1); COMMIT;",
        Some("BEGIN; INSERT a; COMMIT"),
    ),
    (
        "SELECT 1; SELECT 2; SELECT 3; SELECT 4",
        Some("SELECT; SELECT; SELECT"),
    ),
    ("", None),
    ("   ", None),
    ("-- only a comment", None),
    (";;;", None),
    ("(((", None),
    ("'unterminated", None),
    ("\"unterminated identifier", None),
    ("/* unterminated comment", None),
    ("SELECT * FROM", Some("SELECT")),
    ("INSERT INTO", Some("INSERT")),
    ("ÉLECTION ünïcödé", Some("ÉLECTION")),
    ("SELECT 🙂 FROM 🙃", Some("SELECT")),
];

#[test]
fn corpus_summaries() {
    assert!(CORPUS.len() >= 50);
    for (sql, expected) in CORPUS {
        assert_eq!(
            summarize(sql).summary.as_deref(),
            *expected,
            "summary of {sql:?}"
        );
    }
}

#[test]
fn corpus_operations_and_collections() {
    let q = summarize("DELETE FROM public.tokens WHERE id = 1");
    assert_eq!(q.operation.as_deref(), Some("DELETE"));
    assert_eq!(q.collection.as_deref(), Some("public.tokens"));
    let q = summarize("CREATE INDEX i ON t (x)");
    assert_eq!(q.operation.as_deref(), Some("CREATE INDEX"));
}

/// xorshift64*: a fixed-seed generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "WITH",
    "AS",
    "(",
    ")",
    ",",
    ";",
    "'",
    "\"",
    "`",
    "[",
    "]",
    "--",
    "/*",
    "*/",
    "$1",
    "?",
    ":x",
    "@y",
    "INSERT",
    "INTO",
    "UPDATE",
    "DELETE",
    "RECURSIVE",
    "CREATE",
    "TABLE",
    "IF",
    "NOT",
    "EXISTS",
    "t",
    "a.b",
    ".",
    "1.5",
    "é",
    "🙂",
    "\n",
    " ",
    "\0",
    "OR",
    "ONLY",
    "MATERIALIZED",
    "$",
    ":",
    "@",
];

#[test]
fn never_panics_on_random_input() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..20_000 {
        let sql: String = if case % 2 == 0 {
            let bytes: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            (0..rng.below(40))
                .map(|_| PIECES[rng.below(PIECES.len())])
                .collect::<Vec<_>>()
                .join(if rng.below(2) == 0 { " " } else { "" })
        };
        let summary = summarize(&sql);
        assert!(
            summary.summary.as_ref().is_none_or(|s| s.len() <= 255),
            "summary too long for {sql:?}"
        );
        let _ = normalize(&sql);
    }
}

#[test]
fn huge_statements_stay_bounded() {
    let many = "SELECT 1; ".repeat(10_000);
    assert_eq!(
        summarize(&many).summary.as_deref(),
        Some("SELECT; SELECT; SELECT")
    );
    let wide = format!("SELECT * FROM {}", "x".repeat(1_000));
    assert!(summarize(&wide).summary.unwrap().len() <= 255);
}
