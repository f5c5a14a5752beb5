//! diesel instrumentation (feature `diesel`) through diesel's `Instrumentation` hook: connection
//! establishment, every query, and begin/commit/rollback at every depth, with the same span rules
//! as sqlx. Synchronous queries made on an async runtime worker are flagged.
//!
//! ```no_run
//! use diesel::Connection;
//! instrument::db::diesel::install_default().expect("diesel instrumentation");
//! let mut conn = diesel::SqliteConnection::establish("app.db").expect("a database");
//! // every query on `conn` is traced from here on
//! # drop(conn);
//! ```

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};

use super::query::{QueryError, QueryOutcome, QuerySpan};
use super::target::DbTarget;
use super::transaction::TransactionSpan;

/// The separator diesel puts between a query's SQL and its bind values.
const BINDS_SEPARATOR: &str = "-- binds:";

/// Traces one diesel connection. Create one per connection, or [`install_default`] for all.
#[derive(Default)]
pub struct DieselInstrumentation {
    target: DbTarget,
    connecting: Option<QuerySpan>,
    queries: Vec<QuerySpan>,
    transactions: Vec<TransactionSpan>,
}

impl std::fmt::Debug for DieselInstrumentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselInstrumentation")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Makes every diesel connection established from now on traced.
pub fn install_default() -> diesel::QueryResult<()> {
    set_default_instrumentation(|| Some(Box::new(DieselInstrumentation::default())))
}

impl DieselInstrumentation {
    /// Instrumentation for a connection to `url` (its password is never recorded).
    pub fn new(url: &str) -> Self {
        Self {
            target: target_of(url),
            ..Self::default()
        }
    }

    fn current_transaction(&mut self) -> Option<&mut TransactionSpan> {
        self.transactions.last_mut()
    }
}

impl Instrumentation for DieselInstrumentation {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartEstablishConnection { url, .. } => {
                self.target = target_of(url);
                self.connecting = Some(QuerySpan::start(&self.target, "CONNECT", || None, true));
            }
            InstrumentationEvent::FinishEstablishConnection { error, .. } => {
                if let Some(span) = self.connecting.take() {
                    let error = error.map(|e| QueryError {
                        code: None,
                        error_type: "connection".to_owned(),
                        message: e.to_string(),
                    });
                    span.finish(QueryOutcome {
                        error,
                        ..Default::default()
                    });
                }
            }
            InstrumentationEvent::StartQuery { query, .. } => {
                let text = query.to_string();
                let (sql, binds) = split_binds(&text);
                let _parent = self
                    .current_transaction()
                    .and_then(TransactionSpan::statement);
                let span = QuerySpan::start(&self.target, sql, || binds.map(str::to_owned), true);
                self.queries.push(span);
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                if let Some(span) = self.queries.pop() {
                    span.finish(QueryOutcome {
                        error: error.map(query_error),
                        ..Default::default()
                    });
                }
            }
            InstrumentationEvent::BeginTransaction { depth, .. } => {
                let _parent = self.current_transaction().and_then(|t| t.attach());
                let span = TransactionSpan::start(&self.target, depth.get() - 1);
                self.transactions.push(span);
            }
            InstrumentationEvent::CommitTransaction { .. } => {
                if let Some(mut span) = self.transactions.pop() {
                    span.end("commit", None);
                }
            }
            InstrumentationEvent::RollbackTransaction { .. } => {
                if let Some(mut span) = self.transactions.pop() {
                    span.end("rollback", None);
                }
            }
            _ => {}
        }
    }
}

/// Splits diesel's `SQL -- binds: [..]` display into the SQL and the bind values.
fn split_binds(text: &str) -> (&str, Option<&str>) {
    match text.rfind(BINDS_SEPARATOR) {
        Some(at) => (
            text[..at].trim_end(),
            Some(text[at + BINDS_SEPARATOR.len()..].trim()),
        ),
        None => (text.trim_end(), None),
    }
}

fn query_error(error: &diesel::result::Error) -> QueryError {
    match error {
        diesel::result::Error::DatabaseError(kind, info) => QueryError {
            code: None,
            error_type: format!("{kind:?}"),
            message: info.message().to_owned(),
        },
        other => QueryError::from_variant(other),
    }
}

/// The database a diesel URL points to, without credentials: `postgres://user:pw@host:5432/db`
/// gives PostgreSQL, `host`, 5432, `db`; anything else is a SQLite path.
fn target_of(url: &str) -> DbTarget {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => {
            let path = url.strip_prefix("file:").unwrap_or(url);
            let path = path.split('?').next().unwrap_or(path);
            return DbTarget {
                system: "sqlite",
                namespace: Some(path.into()),
                server_address: None,
                server_port: None,
            };
        }
    };
    let system = match scheme {
        "postgres" | "postgresql" => "postgresql",
        "mysql" => "mysql",
        "sqlite" => "sqlite",
        _ => "other_sql",
    };
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()),
        None => (host_port, None),
    };
    DbTarget {
        system,
        namespace: (!path.is_empty()).then(|| path.into()),
        server_address: (!host.is_empty()).then(|| host.into()),
        server_port: port,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_are_split_off() {
        assert_eq!(
            split_binds("SELECT `users`.`id` FROM `users` WHERE `users`.`id` = ? -- binds: [7]"),
            (
                "SELECT `users`.`id` FROM `users` WHERE `users`.`id` = ?",
                Some("[7]")
            )
        );
        assert_eq!(split_binds("BEGIN"), ("BEGIN", None));
    }

    #[test]
    fn urls_never_keep_passwords() {
        let target = target_of("postgres://app:hunter2@db.internal:6543/orders?sslmode=require");
        assert_eq!(target.system, "postgresql");
        assert_eq!(target.server_address.as_deref(), Some("db.internal"));
        assert_eq!(target.server_port, Some(6543));
        assert_eq!(target.namespace.as_deref(), Some("orders"));
        assert!(!format!("{target:?}").contains("hunter2"));
        assert_eq!(
            target_of("/tmp/app.db").namespace.as_deref(),
            Some("/tmp/app.db")
        );
        assert_eq!(target_of(":memory:").system, "sqlite");
    }
}
