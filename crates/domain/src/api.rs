//! What crosses IPC between the UI and the backend: one request enum, one
//! response enum, one serialisable error type.

use crate::audit::{AuditRecord, AuditVerification};
use crate::auth::{OperatorInfo, Permission};
use crate::model::{CustomerSummary, CustomerTree, DatabaseInfo, PiiTarget};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A request from the UI. `permission()` is the single source of what each needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Database and session status; allowed without login.
    Status,
    /// Log in; allowed without login.
    Login {
        /// Login name.
        username: String,
        /// Password (never logged).
        password: String,
    },
    /// End the session.
    Logout,
    /// Search customers by phone, user id, email, nickname or ID last 4.
    SearchCustomers {
        /// The search term.
        query: String,
    },
    /// One customer's three-tier tree.
    CustomerTree {
        /// Customer id.
        customer_id: Uuid,
    },
    /// Reveal a masked field; audited with the reason.
    RevealPii {
        /// What to reveal.
        target: PiiTarget,
        /// Why (at least a few characters; stored in the audit log).
        reason: String,
    },
    /// A page of the audit log, newest first.
    AuditLog {
        /// Only rows with `seq` below this; `None` for the newest.
        before_seq: Option<i64>,
        /// Page size (capped by the backend).
        limit: u32,
    },
    /// Verify the whole audit chain.
    VerifyAudit,
}

impl Request {
    /// The permission the request needs; `None` means it needs no session.
    pub fn permission(&self) -> Option<Permission> {
        match self {
            Request::Status | Request::Login { .. } | Request::Logout => None,
            Request::SearchCustomers { .. } | Request::CustomerTree { .. } => Some(Permission::CustomerView),
            Request::RevealPii { .. } => Some(Permission::PiiReveal),
            Request::AuditLog { .. } | Request::VerifyAudit => Some(Permission::AuditView),
        }
    }

    /// A name for logs, without any payload (payloads may hold PII or passwords).
    pub fn name(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Login { .. } => "login",
            Request::Logout => "logout",
            Request::SearchCustomers { .. } => "search_customers",
            Request::CustomerTree { .. } => "customer_tree",
            Request::RevealPii { .. } => "reveal_pii",
            Request::AuditLog { .. } => "audit_log",
            Request::VerifyAudit => "verify_audit",
        }
    }
}

/// The backend's answer. Adjacently tagged: serde cannot internally tag a newtype
/// variant holding a sequence (`Customers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Response {
    /// Answer to `Status`.
    Status {
        /// The attached database, or `None` if it could not be opened.
        database: Option<DatabaseInfo>,
        /// Why the database could not be opened.
        startup_error: Option<ApiError>,
        /// The logged-in operator.
        operator: Option<OperatorInfo>,
    },
    /// Logged in.
    LoggedIn(OperatorInfo),
    /// Logged out.
    LoggedOut,
    /// Search results (at most 50).
    Customers(Vec<CustomerSummary>),
    /// A customer's tree.
    CustomerTree(CustomerTree),
    /// The clear value of a revealed field.
    Revealed {
        /// The field that was revealed.
        target: PiiTarget,
        /// Its clear value.
        value: String,
    },
    /// A page of audit rows, newest first.
    AuditPage(Vec<AuditRecord>),
    /// The verification result.
    AuditVerified(AuditVerification),
}

/// What is wrong with an input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum InputProblem {
    /// Empty.
    #[error("required")]
    Required,
    /// Shorter than allowed.
    #[error("at least {min_chars} characters")]
    TooShort {
        /// Minimum length in characters.
        min_chars: usize,
    },
}

/// The one error type that crosses IPC. The UI translates it by variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApiError {
    /// The request needs a session.
    #[error("not logged in")]
    NotLoggedIn,
    /// The session was idle too long; log in again.
    #[error("session expired after inactivity")]
    SessionExpired,
    /// Wrong username or password.
    #[error("wrong username or password")]
    InvalidCredentials {
        /// Attempts left before the operator is locked.
        remaining_attempts: u32,
    },
    /// Too many failures, or disabled by an admin.
    #[error("operator locked until {until}")]
    OperatorLocked {
        /// When the lock ends.
        until: DateTime<Utc>,
    },
    /// The operator's role lacks the permission.
    #[error("permission denied: {permission:?}")]
    Forbidden {
        /// What was missing.
        permission: Permission,
    },
    /// A field of the request is not acceptable.
    #[error("{field}: {problem}")]
    InvalidInput {
        /// Which field (`username`, `query`, `reason`, …).
        field: String,
        /// What is wrong with it, as a code the UI translates.
        problem: InputProblem,
    },
    /// Nothing with that id.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The database URL is malformed or names an unsupported scheme.
    #[error("invalid database URL: {reason}")]
    InvalidDatabaseUrl {
        /// Why.
        reason: String,
    },
    /// The database server did not answer.
    #[error("database unreachable at {location}: {reason}")]
    DatabaseUnreachable {
        /// Host/file, without credentials.
        location: String,
        /// The driver's reason.
        reason: String,
    },
    /// The database was migrated by a newer version of the console.
    #[error("database schema version {found} is newer than this console supports ({supported})")]
    DatabaseTooNew {
        /// The newest migration in the database.
        found: i64,
        /// The newest migration this build knows.
        supported: i64,
    },
    /// The SQLite file is not a database or is damaged.
    #[error("database file {path} is damaged or not a database: {reason}")]
    DatabaseCorrupt {
        /// The file.
        path: String,
        /// The driver's reason.
        reason: String,
    },
    /// Any other storage failure.
    #[error("database error: {message}")]
    Database {
        /// Driver message (no PII: queries bind parameters).
        message: String,
    },
    /// The backend is up but has no database (see `Status`).
    #[error("no database: {message}")]
    Unavailable {
        /// Why.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditRecord, ChainBreak};
    use crate::auth::Role;
    use crate::model::{CustomerSummary, SearchField};

    fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value, "{json}");
    }

    /// Everything that crosses IPC survives JSON both ways (Tauri's wire format).
    #[test]
    fn ipc_types_round_trip_through_json() {
        let id = Uuid::from_u128(7);
        let at = DateTime::from_timestamp(1_764_000_000, 0).unwrap();
        let op =
            OperatorInfo { id, username: "cs1".into(), display_name: "王芳".into(), role: Role::CsAgent };
        for req in [
            Request::Status,
            Request::Login { username: "cs1".into(), password: "p".into() },
            Request::SearchCustomers { query: "13912393949".into() },
            Request::RevealPii { target: PiiTarget::Phone { user_id: id }, reason: "核实身份".into() },
            Request::AuditLog { before_seq: Some(9), limit: 50 },
        ] {
            round_trip(req);
        }
        let summary = CustomerSummary {
            id,
            name_masked: "王*".into(),
            id_number_masked: None,
            user_count: 2,
            matched_on: SearchField::Phone,
        };
        let record = AuditRecord {
            seq: 1,
            id,
            at,
            actor: "cs1".into(),
            action: "pii.reveal".into(),
            target: "phone".into(),
            detail: "{}".into(),
            prev_hash: "0".into(),
            hash: "1".into(),
        };
        for resp in [
            Response::LoggedIn(op.clone()),
            Response::LoggedOut,
            Response::Customers(vec![summary.clone(), summary]),
            Response::Customers(vec![]),
            Response::AuditPage(vec![record]),
            Response::Revealed { target: PiiTarget::IdNumber { customer_id: id }, value: "x".into() },
            Response::AuditVerified(AuditVerification {
                rows: 3,
                first_break: Some(ChainBreak { seq: 2, reason: "edited".into() }),
            }),
            Response::Status {
                database: None,
                startup_error: Some(ApiError::NotLoggedIn),
                operator: Some(op),
            },
        ] {
            round_trip(resp);
        }
        round_trip(ApiError::OperatorLocked { until: at });
        round_trip(ApiError::Forbidden { permission: Permission::PiiReveal });
        round_trip(ApiError::InvalidInput {
            field: "reason".into(),
            problem: InputProblem::TooShort { min_chars: 4 },
        });
    }
}
