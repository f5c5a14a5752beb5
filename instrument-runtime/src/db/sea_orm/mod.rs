//! SeaORM at the ORM level (feature `sea-orm`, drivers from `sqlx-sqlite` / `sqlx-postgres`):
//! a SeaORM connection over an [`InstrumentedPool`], so that one pool keeps its statement spans,
//! pool monitor, context attributes and repeated-statement finding under SeaORM, and gains what
//! the original records at the ORM level:
//! - each relation load is a span `load {relationship}` (`load agent.messages`) with
//!   `db.orm.loader.type` (`lazy`, `joined`, `selectin`), `db.orm.loader.is_joined`,
//!   `db.orm.relationship.key`, `db.orm.entity` and the rows loaded, its statement its child;
//! - lazy loads of one relationship repeated under one parent are one finding (an
//!   `instrument.db.orm.repeated_lazy_load` event on the parent) that names the relationship
//!   and suggests the select-in loader; select-in and joined loads never count;
//! - a transaction's span carries the rows it inserted, updated and deleted
//!   (`db.orm.flush.new|dirty|deleted`), and a flush past `large_flush_threshold` is marked large.
//!
//! The user's SeaORM calls stay as they are: [`Database`] implements `ConnectionTrait`,
//! `TransactionTrait` and `StreamTrait`, so `Entity::find().all(&db)`,
//! `model.find_related(..).all(&db)`, `load_many(.., &db)`, `active_model.insert(&txn)` and
//! `db.begin()` run through it. A function that names `&DatabaseConnection` as its parameter's
//! type takes `&impl ConnectionTrait` (or `&Database`) instead: that is the one change, because
//! SeaORM's own connection type cannot be wrapped from outside.
//!
//! How a load is recognised: SeaORM knows the relation only while it builds the statement; what
//! reaches the connection is SQL, and each loader writes its own shape (see
//! [`orm::classify`](crate::db::orm::classify)).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use instrument::db::sqlx::PoolOptionsExt;
//! use sea_orm::ConnectionTrait;
//!
//! let pool = sqlx::sqlite::SqlitePoolOptions::new()
//!     .instrumented("main")
//!     .connect("sqlite::memory:")
//!     .await?;
//! let db = pool.sea_orm();
//! db.execute_unprepared("CREATE TABLE agents (id INTEGER PRIMARY KEY, name TEXT)").await?;
//! # Ok(()) }
//! ```

mod connection;
mod run;
mod transaction;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

pub use run::TracedStream;
pub use transaction::Transaction;

use super::sqlx::{InstrumentedPool, OutOfSightCheckouts, SqlxDriver};
use super::target::DbTarget;

/// A sqlx driver SeaORM runs over (`Sqlite`, `Postgres`).
pub trait SeaOrmDriver: SqlxDriver {
    /// A SeaORM connection over `pool`.
    fn connection(pool: sqlx::Pool<Self>) -> DatabaseConnection;
}

#[cfg(feature = "sqlx-sqlite")]
impl SeaOrmDriver for sqlx::Sqlite {
    fn connection(pool: sqlx::SqlitePool) -> DatabaseConnection {
        sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
    }
}

#[cfg(feature = "sqlx-postgres")]
impl SeaOrmDriver for sqlx::Postgres {
    fn connection(pool: sqlx::PgPool) -> DatabaseConnection {
        sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
    }
}

/// A SeaORM connection whose statements, relation loads and transactions are traced and whose
/// connections the pool monitor counts. Cheap to clone, like SeaORM's.
#[derive(Clone, Debug)]
pub struct Database {
    inner: DatabaseConnection,
    shared: Arc<Shared>,
}

/// What a connection and its transactions share.
#[derive(Debug)]
struct Shared {
    target: Arc<DbTarget>,
    traced: bool,
    checkouts: Option<OutOfSightCheckouts>,
}

impl<DB: SeaOrmDriver> InstrumentedPool<DB> {
    /// A SeaORM connection over this pool: its statements traced as the pool's are, relation
    /// loads and transactions recorded at the ORM level, checkouts counted by the pool's monitor.
    pub fn sea_orm(&self) -> Database {
        Database {
            inner: DB::connection(self.inner().clone()),
            shared: Arc::new(Shared {
                target: Arc::new(self.target().clone()),
                traced: self.traces_statements(),
                checkouts: self.out_of_sight_checkouts(),
            }),
        }
    }
}

impl Database {
    /// SeaORM's own connection: what runs on it directly is neither traced nor counted.
    pub fn inner(&self) -> &DatabaseConnection {
        &self.inner
    }

    /// The database, as the spans name it.
    pub fn target(&self) -> &DbTarget {
        &self.shared.target
    }
}
