//! The names the ORM level records: its attributes and events.

/// Attribute: how a relation was loaded (`lazy`, `joined`, `selectin`).
pub const LOADER_TYPE_KEY: &str = "db.orm.loader.type";
/// Attribute: whether the relation was loaded in its parent's statement, joined.
pub const LOADER_IS_JOINED_KEY: &str = "db.orm.loader.is_joined";
/// Attribute: the relationship loaded, `{parent}.{loaded}` (`agent.messages`).
pub const RELATIONSHIP_KEY: &str = "db.orm.relationship.key";
/// Attribute: the loaded entity's table.
pub const ENTITY_KEY: &str = "db.orm.entity";
/// Attribute of a transaction: rows inserted.
pub const FLUSH_NEW_KEY: &str = "db.orm.flush.new";
/// Attribute of a transaction: rows updated.
pub const FLUSH_DIRTY_KEY: &str = "db.orm.flush.dirty";
/// Attribute of a transaction: rows deleted.
pub const FLUSH_DELETED_KEY: &str = "db.orm.flush.deleted";
/// Attribute of a transaction: it changed more rows than `large_flush_threshold`.
pub const FLUSH_LARGE_KEY: &str = "db.orm.flush.large";
/// Event on a transaction that changed more rows than `large_flush_threshold`.
pub const LARGE_FLUSH_EVENT: &str = "instrument.db.orm.large_flush";
/// Event on a parent span under which one relationship was loaded lazily
/// `repeated_query_threshold` times or more: the N+1 at the ORM level.
pub const REPEATED_LAZY_LOAD_EVENT: &str = "instrument.db.orm.repeated_lazy_load";
/// Attribute of the ORM events: the finding in words, with what to do about it.
pub const FINDING_KEY: &str = "instrument.db.orm.finding";
