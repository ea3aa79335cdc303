use domain::{Conflict, Entity};

/// A storage failure, classified so the UI can say what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL cannot be used.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// A server on another machine named without `sslmode=verify-full`/`verify-ca`.
    #[error("database server {host} is another machine: add ?sslmode=verify-full (and sslrootcert=PATH)")]
    NeedsTls {
        /// Host name or address.
        host: String,
    },
    /// An application role `migrate` will not grant to.
    #[error("application role {role:?}: {problem}")]
    UnsuitableRole {
        /// The name given.
        role: String,
        /// Why not.
        problem: RoleProblem,
    },
    /// Server or file could not be reached.
    #[error("database unreachable at {location}: {reason}")]
    Unreachable {
        /// Host or file, no credentials.
        location: String,
        /// Driver message.
        reason: String,
    },
    /// Migrated by a newer console.
    #[error("database schema version {found} is newer than supported {supported}")]
    TooNew {
        /// Newest applied migration.
        found: i64,
        /// Newest migration this build has.
        supported: i64,
    },
    /// The shared database is behind this build: its owner must migrate it.
    #[error("database schema version {found} needs migrating to {supported}")]
    NeedsMigration {
        /// Newest applied migration.
        found: i64,
        /// Newest migration this build has.
        supported: i64,
    },
    /// Not a SQLite database, or damaged.
    #[error("database file {path} is damaged: {reason}")]
    Corrupt {
        /// File path.
        path: String,
        /// Driver message.
        reason: String,
    },
    /// The record's state or a uniqueness rule does not allow the change.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// Nothing with that id.
    #[error("{0} not found")]
    NotFound(Entity),
    /// Another connection holds the lock longer than this one waits (SQLite's busy
    /// timeout, PostgreSQL's lock timeout) or every pooled connection is in use.
    #[error("database busy")]
    Busy,
    /// A stored value could not be understood.
    #[error("bad stored data: {0}")]
    Data(String),
    /// Any other driver error.
    #[error(transparent)]
    Sqlx(sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// SQLITE_BUSY (5) / SQLITE_LOCKED (6) with their extended codes, PostgreSQL
/// `lock_not_available` (55P03), `deadlock_detected` (40P01), `serialization_failure` (40001).
fn is_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    match db.code().as_deref() {
        // Lock not available, a deadlock victim, a serialization failure: the
        // transaction was rolled back and may simply be tried again.
        Some("55P03" | "40P01" | "40001") => true,
        Some(code) => code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)),
        None => false,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            // A stored value this build cannot read: name the column, never echo the value.
            sqlx::Error::ColumnDecode { index, .. } => StoreError::Data(format!("column {index}")),
            sqlx::Error::PoolTimedOut => StoreError::Busy,
            sqlx::Error::Database(db) if is_busy(db.as_ref()) => StoreError::Busy,
            other => StoreError::Sqlx(other),
        }
    }
}

/// Whether a driver error is a uniqueness violation (SQLite 2067/1555, PostgreSQL 23505).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Why `migrate` refuses an application role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoleProblem {
    /// Not a plain identifier (it is spliced into `GRANT`).
    #[error("use lower-case letters, digits and _ only")]
    NotPlainName,
    /// `public` (every role) or a `pg_` system role.
    #[error("public and pg_ roles stand for others; create a role of its own")]
    Reserved,
    /// No such role on the server.
    #[error("no such role: create it first (CREATE ROLE … LOGIN PASSWORD …)")]
    Missing,
    /// A superuser, BYPASSRLS, CREATEROLE or REPLICATION role: grants do not bound it.
    #[error("a superuser, BYPASSRLS, CREATEROLE or REPLICATION role is not bounded by grants")]
    Privileged,
    /// After the grants it could still write the audit tables or create objects
    /// (e.g. through pg_write_all_data or an old PUBLIC grant on the schema).
    #[error("it could still write the audit tables or create objects in public; revoke that first")]
    KeepsWriteRights,
    /// The owner itself, or a member of the owner's role, would keep owner rights.
    #[error("it is the owner or a member of the owner's role")]
    Owner,
}
