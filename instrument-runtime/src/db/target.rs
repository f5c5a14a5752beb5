//! Which database a statement runs against.

use std::sync::Arc;

/// Which database a statement runs against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbTarget {
    /// `db.system.name`: `sqlite`, `postgresql`, ...
    pub system: &'static str,
    /// `db.namespace`: the database name (or file). Shared: every statement's attributes hold it.
    pub namespace: Option<Arc<str>>,
    /// `server.address`. Shared: every statement's attributes hold it.
    pub server_address: Option<Arc<str>>,
    /// `server.port`.
    pub server_port: Option<u16>,
}
