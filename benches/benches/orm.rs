//! A SeaORM query through `instrument::db::sea_orm::Database` against the same query on a bare
//! SeaORM connection, on SQLite in memory, in one run: a lookup by key (one statement span), and
//! a lazy relation load (a load span over its statement span):
//! `cargo bench -p instrument-benches --bench orm`.
//!
//! With `ORM_CASE=bare`, `=instrumented`, `=bare_lazy` or `=instrumented_lazy` it runs only that
//! case's queries, telemetry installed, once: `benches/instructions.sh orm` counts the
//! instructions of every thread per query.

use std::time::{Duration, Instant};

use instrument::db::sqlx::PoolExt;
use instrument::{Telemetry, TelemetryGuard};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, SqlxSqliteConnector};
use sqlx::sqlite::SqlitePoolOptions;

#[path = "support/discard.rs"]
mod discard;
use discard::Discard;

mod agent {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agents")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::message::Entity")]
        Messages,
    }

    impl Related<super::message::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Messages.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod message {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub agent_id: i32,
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::agent::Entity",
            from = "Column::AgentId",
            to = "super::agent::Column::Id"
        )]
        Agent,
    }

    impl Related<super::agent::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Agent.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Queries per round: `OVERHEAD_CALLS` (for an instruction profile), or 10,000.
fn queries() -> i32 {
    std::env::var("OVERHEAD_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

const ROUNDS: usize = 5;

/// Microseconds per lookup by key through `db`.
async fn lookups(db: &impl ConnectionTrait) -> f64 {
    let started = Instant::now();
    let queries = queries();
    for id in 0..queries {
        let agent = agent::Entity::find_by_id(id % 100).one(db).await.unwrap();
        std::hint::black_box(agent);
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(queries)
}

/// Microseconds per lazy load of an agent's messages through `db`.
async fn lazy_loads(db: &impl ConnectionTrait, agents: &[agent::Model]) -> f64 {
    let started = Instant::now();
    let queries = queries();
    for n in 0..queries {
        let agent = &agents[n as usize % agents.len()];
        let messages = agent.find_related(message::Entity).all(db).await.unwrap();
        std::hint::black_box(messages);
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(queries)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Installs telemetry exporting spans and metrics to a discarding exporter.
fn install_discarding() -> TelemetryGuard {
    Telemetry::builder()
        .ignore_env()
        .service_name("orm-bench")
        .with_exporter(Discard)
        .with_metric_exporter(Discard)
        .install()
        .unwrap()
}

async fn seed(db: &DatabaseConnection) {
    db.execute_unprepared(
        "CREATE TABLE agents (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE messages (id INTEGER PRIMARY KEY, agent_id INTEGER NOT NULL, body TEXT NOT NULL);",
    )
    .await
    .unwrap();
    for id in 0..100 {
        db.execute_unprepared(&format!(
            "INSERT INTO agents (id, name) VALUES ({id}, 'agent {id}');
             INSERT INTO messages (agent_id, body) VALUES ({id}, 'a'), ({id}, 'b'), ({id}, 'c');"
        ))
        .await
        .unwrap();
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let bare = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone());
    seed(&bare).await;
    let ours = pool.clone().instrumented().sea_orm();
    let agents = agent::Entity::find().all(&bare).await.unwrap();

    if let Ok(case) = std::env::var("ORM_CASE") {
        let guard = install_discarding();
        match case.as_str() {
            "bare" => lookups(&bare).await,
            "instrumented" => lookups(&ours).await,
            "bare_lazy" => lazy_loads(&bare, &agents).await,
            "instrumented_lazy" => lazy_loads(&ours, &agents).await,
            other => panic!(
                "ORM_CASE is bare, instrumented, bare_lazy or instrumented_lazy, not {other}"
            ),
        };
        let _ = guard.shutdown();
        return;
    }

    let guard = install_discarding();
    let mut rounds = [(); 4].map(|()| Vec::new());
    for _ in 0..ROUNDS {
        rounds[0].push(lookups(&bare).await);
        rounds[1].push(lookups(&ours).await);
        rounds[2].push(lazy_loads(&bare, &agents).await);
        rounds[3].push(lazy_loads(&ours, &agents).await);
    }
    let _ = guard.shutdown();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let [bare_lookup, ours_lookup, bare_lazy, ours_lazy] = rounds.map(median);

    println!(
        "{:<58} {:>10} {:>10}",
        "case (SQLite in memory, telemetry installed)", "µs/query", "vs bare"
    );
    println!(
        "{:<58} {:>10.2} {:>9.2}x",
        "bare SeaORM, find_by_id", bare_lookup, 1.0
    );
    println!(
        "{:<58} {:>10.2} {:>9.2}x",
        "instrument Database, find_by_id (statement span)",
        ours_lookup,
        ours_lookup / bare_lookup
    );
    println!(
        "{:<58} {:>10.2} {:>9.2}x",
        "bare SeaORM, find_related", bare_lazy, 1.0
    );
    println!(
        "{:<58} {:>10.2} {:>9.2}x",
        "instrument Database, find_related (load + statement span)",
        ours_lazy,
        ours_lazy / bare_lazy
    );
    println!(
        "the load span adds {:.2} µs over the statement span's {:.2} µs",
        (ours_lazy - bare_lazy) - (ours_lookup - bare_lookup),
        ours_lookup - bare_lookup
    );
}
