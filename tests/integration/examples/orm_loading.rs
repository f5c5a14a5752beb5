//! SeaORM at the ORM level: `cargo run -p instrument-integration --example orm_loading`.
//!
//! Twelve agents with four messages each, and agents ↔ tools many-to-many, in SQLite (or the
//! database `DATABASE_URL` names). Inside one root span it loads the messages lazily per agent
//! (an N+1, found and named by relationship), then with the select-in loader (`load_many`),
//! then joined (`find_with_related`); then in one transaction inserts 3 messages, updates 2
//! agents and deletes 1 message; then in another inserts 150 messages (a large flush).
//!
//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set it exports over OTLP; without, the console shows the
//! waterfall.

use instrument::db::sea_orm::Database;
use instrument::db::sqlx::PoolOptionsExt;
use instrument::trace_method;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, LoaderTrait, Schema, TransactionTrait};

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

    impl Related<super::tool::Entity> for Entity {
        fn to() -> RelationDef {
            super::agent_tool::Relation::Tool.def()
        }
        fn via() -> Option<RelationDef> {
            Some(super::agent_tool::Relation::Agent.def().rev())
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

mod tool {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tools")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl Related<super::agent::Entity> for Entity {
        fn to() -> RelationDef {
            super::agent_tool::Relation::Agent.def()
        }
        fn via() -> Option<RelationDef> {
            Some(super::agent_tool::Relation::Tool.def().rev())
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod agent_tool {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agent_tools")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub agent_id: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub tool_id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::agent::Entity",
            from = "Column::AgentId",
            to = "super::agent::Column::Id"
        )]
        Agent,
        #[sea_orm(
            belongs_to = "super::tool::Entity",
            from = "Column::ToolId",
            to = "super::tool::Column::Id"
        )]
        Tool,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// The tables, empty, and the rows: 12 agents with 4 messages each, 3 tools, each agent with 2.
async fn seed(db: &Database) -> Result<(), DbErr> {
    for table in ["agent_tools", "messages", "tools", "agents"] {
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {table}"))
            .await?;
    }
    let schema = Schema::new(db.get_database_backend());
    db.execute(&schema.create_table_from_entity(agent::Entity))
        .await?;
    db.execute(&schema.create_table_from_entity(message::Entity))
        .await?;
    db.execute(&schema.create_table_from_entity(tool::Entity))
        .await?;
    db.execute(&schema.create_table_from_entity(agent_tool::Entity))
        .await?;
    agent::Entity::insert_many((1..=12).map(|id| agent::ActiveModel {
        id: Set(id),
        name: Set(format!("agent-{id}")),
    }))
    .exec(db)
    .await?;
    message::Entity::insert_many((1..=48).map(|id| message::ActiveModel {
        id: Set(id),
        agent_id: Set((id - 1) / 4 + 1),
        body: Set(format!("message {id}")),
    }))
    .exec(db)
    .await?;
    tool::Entity::insert_many((1..=3).map(|id| tool::ActiveModel {
        id: Set(id),
        name: Set(format!("tool-{id}")),
    }))
    .exec(db)
    .await?;
    agent_tool::Entity::insert_many((1..=12).flat_map(|agent| {
        [agent % 3 + 1, (agent + 1) % 3 + 1].map(|tool| agent_tool::ActiveModel {
            agent_id: Set(agent),
            tool_id: Set(tool),
        })
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// The three loaders over the same relation, then two units of work.
#[trace_method(skip_all)]
async fn load_and_write(db: &Database) -> Result<(), DbErr> {
    let agents = agent::Entity::find().all(db).await?;

    // Lazy: one statement per agent, the N+1.
    let mut lazily = 0;
    for agent in &agents {
        lazily += agent.find_related(message::Entity).all(db).await?.len();
    }

    // Select-in: one statement for all agents, for each relation.
    let messages = agents.load_many(message::Entity, db).await?;
    let tools = agents.load_many(tool::Entity, db).await?;

    // Joined: the agents with their messages in one statement.
    let joined = agent::Entity::find()
        .find_with_related(message::Entity)
        .all(db)
        .await?;
    println!(
        "{} agents: {lazily} messages loaded lazily, {} with load_many, {} joined; {} tool links",
        agents.len(),
        messages.iter().map(Vec::len).sum::<usize>(),
        joined.iter().map(|(_, m)| m.len()).sum::<usize>(),
        tools.iter().map(Vec::len).sum::<usize>(),
    );

    // One unit of work: 3 new messages, 2 agents renamed, 1 message deleted.
    let txn = db.begin().await?;
    for id in 101..=103 {
        message::ActiveModel {
            id: Set(id),
            agent_id: Set(1),
            body: Set(format!("new message {id}")),
        }
        .insert(&txn)
        .await?;
    }
    for agent in agents.iter().take(2) {
        let mut renamed: agent::ActiveModel = agent.clone().into();
        renamed.name = Set(format!("{} (renamed)", agent.name));
        renamed.update(&txn).await?;
    }
    message::Entity::delete_by_id(1).exec(&txn).await?;
    txn.commit().await?;

    // A large one: 150 new messages.
    let txn = db.begin().await?;
    message::Entity::insert_many((1001..=1150).map(|id| message::ActiveModel {
        id: Set(id),
        agent_id: Set(2),
        body: Set(format!("bulk message {id}")),
    }))
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Whether every connection `pool` handed out is checked back in.
fn checked_in<DB: instrument::db::sqlx::SqlxDriver>(
    pool: &instrument::db::sqlx::InstrumentedPool<DB>,
) -> bool {
    pool.monitor()
        .is_none_or(|monitor| monitor.checked_out() == 0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = instrument::Telemetry::builder()
        .service_name("orm_loading")
        .install()?;
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    // `settled` tells when every connection is checked back in: the last one goes back on a
    // task of its own, and its checkin is counted there.
    let (db, settled): (_, Box<dyn Fn() -> bool>) = if url.starts_with("postgres") {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(5)
            .instrumented("main")
            .connect(&url)
            .await?;
        let db = pool.sea_orm();
        (db, Box::new(move || checked_in(&pool)))
    } else {
        // One connection: each connection to `sqlite::memory:` is a database of its own.
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .instrumented("main")
            .connect(&url)
            .await?;
        let db = pool.sea_orm();
        (db, Box::new(move || checked_in(&pool)))
    };
    seed(&db).await?;
    load_and_write(&db).await?;
    while !settled() {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    drop(telemetry);
    Ok(())
}
