use domain::{Conflict, Entity};

/// A storage failure, classified so the UI can say what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL cannot be used.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// An application role name that is not a plain identifier (it is spliced into GRANT).
    #[error("application role {0:?}: use lower-case letters, digits and _ only")]
    InvalidRoleName(String),
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

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            // A stored value this build cannot read: name the column, never echo the value.
            sqlx::Error::ColumnDecode { index, .. } => StoreError::Data(format!("column {index}")),
            other => StoreError::Sqlx(other),
        }
    }
}

/// Whether a driver error is a uniqueness violation (SQLite 2067/1555, PostgreSQL 23505).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
