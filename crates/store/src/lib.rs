//! Storage for the ops console: one [`Store`] trait, implemented for SQLite (the
//! embedded default) and PostgreSQL (shared by many desktops).
//!
//! Both implementations share their SQL where the dialects agree (see `imp.rs`;
//! `cases/dialect.rs` names where the case queries differ);
//! schemas and migrations are separate per database. Every method is one
//! transaction; methods that change state take the audit entry to append in the
//! same transaction, so a change and its audit row land together or not at all.

mod case_rows;
mod cases;
mod error;
mod imp;
mod open;
mod recon;
mod rows;
mod vam;

pub use case_rows::*;
pub use cases::{CaseStore, Detection, Transition};
pub use error::{RoleProblem, StoreError};
pub use imp::{PgStore, SqliteStore};
pub use open::{migrate_postgres, open, redact_url, schema_version, sqlite_schema_version};
pub use recon::*;
pub use rows::*;
pub use vam::*;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::audit::AuditRecord;
use domain::model::{DatabaseInfo, SearchField};
use uuid::Uuid;

/// Result alias for storage calls.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Storage operations of the console. Implemented by [`SqliteStore`] and [`PgStore`];
/// the conformance suite in `tests/` runs against both.
#[async_trait]
pub trait Store:
    CaseStore + VamStore + ReconStore + ReconReportStore + ReturnStore + Send + Sync + 'static
{
    /// What this store is attached to.
    fn info(&self) -> DatabaseInfo;

    /// Looks an operator up by login name.
    async fn operator_by_username(&self, username: &str) -> Result<Option<OperatorRow>>;

    /// Every operator, by username.
    async fn operators(&self) -> Result<Vec<OperatorRow>>;

    /// Applies `change` to operator `id`, audited in the same transaction.
    async fn change_operator(&self, id: Uuid, change: OperatorChange, audit: NewAudit) -> Result<()>;

    /// Every operator's login name.
    async fn operator_usernames(&self) -> Result<Vec<String>>;

    /// Creates an operator.
    async fn insert_operator(&self, op: &OperatorRow, audit: NewAudit) -> Result<()>;

    /// Records a login attempt's effect on the operator and its audit row, atomically.
    async fn record_login(&self, update: LoginUpdate, audit: NewAudit) -> Result<()>;

    /// Counts a login attempt as a failure **before** the password is checked, in one
    /// statement, unless the operator is locked at `now` (then `None`). The attempt
    /// that reaches `max_failures` sets the lock to `lock_until`; a correct password
    /// then clears both through [`Store::record_login`]. Parallel guesses cannot slip
    /// past the lock: each takes its place in the count first.
    async fn reserve_login_attempt(
        &self,
        operator_id: Uuid,
        max_failures: i32,
        lock_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<i32>>;

    /// Appends one audit row (for actions that change nothing else, such as a reveal).
    async fn append_audit(&self, audit: NewAudit) -> Result<AuditRecord>;

    /// Audit rows with `seq < before_seq` (all if `None`), newest first.
    async fn audit_page(&self, before_seq: Option<i64>, limit: u32) -> Result<Vec<AuditRecord>>;

    /// The chain's head: the last row's sequence number and hash, as every append
    /// leaves them in the same transaction.
    async fn audit_head(&self) -> Result<(i64, String)>;

    /// Audit rows with `seq > after_seq`, oldest first (for verification).
    async fn audit_after(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>>;

    /// Inserts a batch of demo or imported customers with everything under them.
    async fn insert_customer_batch(&self, batch: &CustomerBatch) -> Result<()>;

    /// Number of customers.
    async fn count_customers(&self) -> Result<i64>;

    /// Customers matching `term` on `field`, at most `limit`.
    async fn search_customers(&self, field: SearchField, term: &str, limit: u32) -> Result<Vec<CustomerHit>>;

    /// One sealed ID number, if any customer has one (to prove a key opens the data).
    async fn sealed_id_sample(&self) -> Result<Option<String>>;

    /// Customers whose sealed ID number has no last-four hash yet (rows written
    /// before the hash existed), at most `limit`: `(id, sealed ID number)`.
    async fn customers_without_last4_hash(&self, limit: u32) -> Result<Vec<(Uuid, String)>>;

    /// Records last-four hashes computed by the desktop (which holds the key);
    /// leaves a hash another desktop wrote first.
    async fn set_last4_hashes(&self, hashes: &[(Uuid, String)]) -> Result<()>;

    /// One customer row.
    async fn customer(&self, customer_id: Uuid) -> Result<Option<CustomerRow>>;

    /// A customer with users, accounts, cards and phone bindings.
    async fn customer_tree(&self, customer_id: Uuid) -> Result<Option<CustomerRecord>>;

    /// One user.
    async fn user(&self, user_id: Uuid) -> Result<Option<UserRow>>;
}

/// An audit row to append; the store assigns `seq`, `prev_hash` and `hash`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit {
    /// Row id (UUIDv7).
    pub id: Uuid,
    /// When (truncated to microseconds by the store).
    pub at: DateTime<Utc>,
    /// Operator username or `system`.
    pub actor: String,
    /// Action name, e.g. `login.ok`.
    pub action: String,
    /// Target, e.g. `operator:cs1`.
    pub target: String,
    /// Details; must not hold clear PII.
    pub detail: serde_json::Value,
}

impl NewAudit {
    /// A new row stamped `at`.
    pub fn new(
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
        target: impl Into<String>,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.into(),
            detail,
        }
    }
}

/// Truncates to microseconds: what both databases keep, and what the audit hash covers.
pub fn truncate_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}
