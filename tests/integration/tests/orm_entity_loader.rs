//! SeaORM 2's entity loader (`Entity::load().with(..)`, entities in the `#[sea_orm::model]`
//! format) through `instrument::db::sea_orm::Database`: a has-many relation comes in with the
//! select-in loader, a belongs-to relation joined, each a `load {relationship}` span.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

#[path = "../../support/mod.rs"]
mod support;

use instrument::db::sqlx::PoolExt;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Schema};
use support::{attr, spans, start};

mod writer {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "writers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
        #[sea_orm(has_many)]
        pub notes: HasMany<super::note::Entity>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod note {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub writer_id: i32,
        pub body: String,
        #[sea_orm(belongs_to, from = "WriterId", to = "Id")]
        pub writer: HasOne<super::writer::Entity>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

#[instrument::trace_method(skip_all)]
async fn load_both_ways(db: &instrument::db::sea_orm::Database) -> Result<(usize, usize), DbErr> {
    let writers = writer::Entity::load().with(note::Entity).all(db).await?;
    let notes = note::Entity::load().with(writer::Entity).all(db).await?;
    Ok((
        writers.iter().map(|w| w.notes.len()).sum(),
        notes.iter().filter(|n| n.writer.is_loaded()).count(),
    ))
}

#[test]
fn the_entity_loader_loads_select_in_and_joined_under_load_spans() {
    support::run_multi_thread(async move {
        let _t = start();
        let db = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap()
            .instrumented()
            .sea_orm();
        let schema = Schema::new(db.get_database_backend());
        db.execute(&schema.create_table_from_entity(writer::Entity))
            .await
            .unwrap();
        db.execute(&schema.create_table_from_entity(note::Entity))
            .await
            .unwrap();
        db.execute_unprepared(
            "INSERT INTO writers (id, name) VALUES (1, 'a'), (2, 'b');
             INSERT INTO notes (id, writer_id, body) VALUES (1, 1, 'x'), (2, 1, 'y'), (3, 2, 'z');",
        )
        .await
        .unwrap();
        assert_eq!(load_both_ways(&db).await.unwrap(), (3, 3));

        let all = spans();
        let root = all.iter().find(|s| s.name == "load_both_ways").unwrap();
        let loads: Vec<(String, String, String)> = all
            .iter()
            .filter(|s| {
                s.parent_span_id == root.span_context.span_id() && s.name.starts_with("load ")
            })
            .map(|s| {
                let children = all
                    .iter()
                    .filter(|c| c.parent_span_id == s.span_context.span_id())
                    .count();
                assert_eq!(children, 1, "the statement under {}", s.name);
                (
                    s.name.to_string(),
                    attr(s, "db.orm.loader.type").unwrap_or_default(),
                    attr(s, "db.orm.loader.is_joined").unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            loads,
            vec![
                (
                    "load writer.notes".to_owned(),
                    "selectin".to_owned(),
                    "false".to_owned()
                ),
                (
                    "load notes.writer".to_owned(),
                    "joined".to_owned(),
                    "true".to_owned()
                ),
            ]
        );
    })
}
