//! What the wrapper needs to know of each sqlx driver: the database it talks to, rows affected,
//! and bind values.

use sqlx::Database;

use crate::db::target::DbTarget;

/// A sqlx database the wrapper supports (`Sqlite` with `sqlx-sqlite`, `Postgres` with
/// `sqlx-postgres`).
pub trait SqlxDriver: Database {
    /// `db.system.name`, `db.namespace`, `server.address` and `server.port` of a pool.
    fn target(options: &<Self::Connection as sqlx::Connection>::Options) -> DbTarget;
    /// Rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;
    /// The bind values, for `instrument.db.query.parameters` when they are recorded.
    fn binds(arguments: &Self::Arguments) -> String;
}

#[cfg(feature = "sqlx-sqlite")]
impl SqlxDriver for sqlx::Sqlite {
    fn target(options: &sqlx::sqlite::SqliteConnectOptions) -> DbTarget {
        let filename = options.get_filename().display().to_string();
        // sqlx names each in-memory database `file:sqlx-in-memory-N`.
        let namespace = if filename.starts_with("file:sqlx-in-memory") {
            ":memory:".to_owned()
        } else {
            filename
        };
        DbTarget {
            system: "sqlite",
            namespace: Some(namespace.into()),

            server_address: None,
            server_port: None,
        }
    }

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn binds(arguments: &sqlx::sqlite::SqliteArguments) -> String {
        format!("{arguments:?}")
    }
}

#[cfg(feature = "sqlx-postgres")]
impl SqlxDriver for sqlx::Postgres {
    fn target(options: &sqlx::postgres::PgConnectOptions) -> DbTarget {
        DbTarget {
            system: "postgresql",
            namespace: options.get_database().map(Into::into),
            server_address: Some(options.get_host().into()),
            server_port: Some(options.get_port()),
        }
    }

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn binds(arguments: &sqlx::postgres::PgArguments) -> String {
        format!("{arguments:?}")
    }
}
