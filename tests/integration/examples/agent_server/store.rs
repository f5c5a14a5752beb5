//! Storage: SQLite through the one traced-and-monitored sqlx pool, with the original service's
//! accidental N+1 (messages loaded one by one) and a transaction per exchange.

use instrument::db::sqlx::{InstrumentedPool, PoolOptionsExt};
use sqlx::Sqlite;
use sqlx::sqlite::SqlitePoolOptions;

use crate::manager::{AgentState, Message};

/// Messages the demo agent starts with (each step reads them one by one).
const SEEDED_MESSAGES: i64 = 20;

/// The server's database file, in the temporary directory, its own per process.
pub fn database_file() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("agent-server-{}.db", std::process::id()))
}

/// Opens a fresh database file (removed when the server stops), with one agent and its history.
#[instrument::trace_method]
pub async fn open() -> Result<InstrumentedPool<Sqlite>, sqlx::Error> {
    let file = database_file();
    let _ = std::fs::remove_file(&file);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .instrumented("agents")
        .connect(&format!("sqlite://{}?mode=rwc", file.display()))
        .await?;
    for statement in [
        "CREATE TABLE agents (id TEXT PRIMARY KEY, name TEXT, model TEXT, system TEXT)",
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, agent_id TEXT, role TEXT, text TEXT)",
        "INSERT INTO agents VALUES ('agent-1', 'support', 'gpt-4o-mini', 'You help with arithmetic.')",
    ] {
        sqlx::query(statement).execute(&pool).await?;
    }
    for i in 0..SEEDED_MESSAGES {
        sqlx::query("INSERT INTO messages (agent_id, role, text) VALUES ('agent-1', ?, ?)")
            .bind(if i % 2 == 0 { "user" } else { "assistant" })
            .bind(format!("earlier message {i}"))
            .execute(&pool)
            .await?;
    }
    Ok(pool)
}

/// The agent `agent_id`, if it exists.
pub async fn agent(
    pool: &InstrumentedPool<Sqlite>,
    agent_id: &str,
) -> Result<Option<AgentState>, sqlx::Error> {
    let row: Option<(String, String, String, String)> =
        sqlx::query_as("SELECT id, name, model, system FROM agents WHERE id = ?")
            .bind(agent_id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(id, name, model, system)| AgentState {
        id,
        name,
        model,
        system,
    }))
}

/// The agent's messages, loaded the way the original service did by accident: the ids first,
/// then one query per message (the repeated-query detection reports it).
pub async fn messages(
    pool: &InstrumentedPool<Sqlite>,
    agent_id: &str,
) -> Result<Vec<Message>, sqlx::Error> {
    let ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM messages WHERE agent_id = ? ORDER BY id")
        .bind(agent_id)
        .fetch_all(pool)
        .await?;
    let mut messages = Vec::with_capacity(ids.len());
    for (id,) in ids {
        let (role, text): (String, String) =
            sqlx::query_as("SELECT role, text FROM messages WHERE id = ?")
                .bind(id)
                .fetch_one(pool)
                .await?;
        messages.push(Message {
            id: format!("message-{id}"),
            role,
            text,
        });
    }
    Ok(messages)
}

/// Saves a user message and the reply in one transaction.
pub async fn save_exchange(
    pool: &InstrumentedPool<Sqlite>,
    agent_id: &str,
    user_text: &str,
    reply: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for (role, text) in [("user", user_text), ("assistant", reply)] {
        sqlx::query("INSERT INTO messages (agent_id, role, text) VALUES (?, ?, ?)")
            .bind(agent_id)
            .bind(role)
            .bind(text)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await
}
