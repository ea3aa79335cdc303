//! What crosses IPC between the UI and the backend: one request enum (with one
//! nested enum per work area), one response enum, one serialisable error type
//! whose variants are codes with parameters (`errors.rs`).

mod admin;
mod errors;
mod recon;
mod recycled;
mod vam;

pub use admin::AdminRequest;
pub use errors::{ApiError, Conflict, Entity, GatewayProblem, GatewayService, InputProblem};
pub use recon::ReconRequest;
pub use recycled::RecycledRequest;
pub use vam::{VamOperation, VamRequest};

use crate::audit::{AuditCheckpoint, AuditRecord, AuditVerification};
use crate::auth::{OperatorInfo, OperatorView, Permission};
use crate::cases::{
    BulkSummary, CaseDetail, DecisionOutcome, ForceUnbindState, ImportState, QueuePage, SavedView,
};
use crate::model::{CustomerSummary, CustomerTree, DatabaseInfo, PiiTarget};
use crate::recycle::{TwiceTelAnswer, WorkflowSettings};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A request from the UI. `permission()` is the single source of what each needs.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
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
    /// Verify the whole audit chain, its head, and the given checkpoints.
    VerifyAudit {
        /// Checkpoints the auditor kept outside the database.
        checkpoints: Vec<AuditCheckpoint>,
    },
    /// A checkpoint of the chain's head for the auditor to keep outside the database.
    AuditCheckpoint,
    /// A recycled-number (二次号) request: queue, cases, imports, wizard.
    Recycled(RecycledRequest),
    /// Operator administration (administrators).
    Admin(AdminRequest),
    /// A virtual sub-account (虚拟子账户) request.
    Vam(VamRequest),
    /// A suspense and reconciliation (挂账处理) request.
    Recon(ReconRequest),
    /// The logged-in operator changes their own password.
    ChangePassword {
        /// The current password.
        current: String,
        /// The new one (checked against the policy).
        new: String,
    },
}

/// Only the request's name: payloads hold passwords, card and ID numbers, phones.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Request::{}", self.name())
    }
}

impl Request {
    /// The permission the request needs; `None` means it needs no session.
    pub fn permission(&self) -> Option<Permission> {
        match self {
            Request::Status | Request::Login { .. } | Request::Logout => None,
            Request::SearchCustomers { .. } | Request::CustomerTree { .. } => Some(Permission::CustomerView),
            Request::RevealPii { .. } => Some(Permission::PiiReveal),
            Request::AuditLog { .. } | Request::VerifyAudit { .. } | Request::AuditCheckpoint => {
                Some(Permission::AuditView)
            }
            Request::Recycled(r) => Some(r.permission()),
            Request::Admin(_) => Some(Permission::OperatorManage),
            Request::Vam(r) => Some(r.permission()),
            Request::Recon(r) => Some(r.permission()),
            // Needs a session (checked by the dispatcher), but no permission.
            Request::ChangePassword { .. } => None,
        }
    }

    /// Whether the request is the operator at work (it keeps the session from
    /// idling out); polling a background job's progress is not.
    pub fn is_activity(&self) -> bool {
        !matches!(self, Request::Status | Request::Recycled(RecycledRequest::ImportStatus { .. }))
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
            Request::VerifyAudit { .. } => "verify_audit",
            Request::AuditCheckpoint => "audit_checkpoint",
            Request::Recycled(r) => r.name(),
            Request::Admin(r) => r.name(),
            Request::Vam(r) => r.name(),
            Request::Recon(r) => r.name(),
            Request::ChangePassword { .. } => "change_password",
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
        /// A demo database (made up data; the title bar says so).
        demo: bool,
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
    /// The operators (administration).
    Operators(Vec<OperatorView>),
    /// A checkpoint of the head, to keep outside the database.
    Checkpoint(AuditCheckpoint),
    /// A queue page.
    Queue(QueuePage),
    /// A case.
    Case(Box<CaseDetail>),
    /// `ClaimNext`: the case claimed, or none free.
    Claimed(Option<Uuid>),
    /// Done, nothing to report.
    Done,
    /// What a decision did.
    Decided(DecisionOutcome),
    /// Bulk result.
    Bulk(BulkSummary),
    /// An import job started.
    ImportStarted {
        /// Job id for `ImportStatus`.
        job_id: Uuid,
    },
    /// Import progress.
    Import(ImportState),
    /// The workflow settings, with a four-eyes change waiting for approval.
    Settings(WorkflowSettings),
    /// Force-unbind wizard state.
    ForceUnbind(Box<ForceUnbindState>),
    /// The operator's saved queue views.
    QueueViews(Vec<SavedView>),
    /// The carrier's answer to `CheckCarrier` (also added to the case's evidence).
    CarrierChecked(TwiceTelAnswer),
    /// Physical accounts.
    PhysicalAccounts(Vec<crate::vam::PhysicalAccountView>),
    /// A page of tree nodes.
    VirtualTree(crate::vam::TreePage),
    /// One sub-account.
    SubAccount(Box<crate::vam::SubAccountDetail>),
    /// A page of entries.
    Entries(crate::vam::EntryPage),
    /// End-of-day balances.
    BalanceSeries(Vec<crate::vam::DayBalanceView>),
    /// A file written.
    Exported {
        /// Where.
        path: String,
        /// Rows.
        rows: u64,
    },
    /// What a bank poll did.
    Polled(crate::vam::PollSummary),
    /// A proof.
    Proof(crate::vam::ProofView),
    /// An interest preview.
    InterestPreview(crate::vam::InterestPreviewView),
    /// Close blockers (empty: may close).
    CloseCheck(Vec<crate::ledger::CloseBlocker>),
    /// What an operation did.
    Vam(crate::vam::VamOutcome),
    /// What an operation would do.
    OperationPreview(crate::vam::OperationPreview),
    /// Operations waiting for a checker.
    VamProposals(Vec<crate::vam::VamProposalView>),
    /// What a statement import found (and stored, unless a dry run).
    StatementImported(crate::suspense::ImportReport),
    /// What a reconciliation run did.
    Reconciled(crate::suspense::ReconRunReport),
    /// A page of the suspense queue.
    SuspenseQueue(crate::suspense::SuspensePage),
    /// One suspense item.
    SuspenseItem(Box<crate::suspense::SuspenseItemView>),
    /// `ClaimNext`: the item claimed, or none free.
    SuspenseClaimed(Option<Uuid>),
    /// What a resolution did.
    SuspenseOutcome(crate::suspense::SuspenseOutcome),
    /// Suspense proposals waiting for approvals.
    SuspenseProposals(Vec<crate::suspense::SuspenseProposalView>),
    /// Matches of a day.
    Matches(Vec<crate::suspense::MatchView>),
    /// Our open items.
    OurItems(Vec<crate::suspense::OurItemView>),
    /// The daily reconciliation report.
    ReconReport(crate::suspense::ReconReport),
    /// The daily report as the report screen shows it.
    ReconDayReport(Box<crate::suspense::DayReport>),
    /// Evidence pack written.
    Evidence {
        /// SHA-256 of the JSON (also in the audit log).
        sha256: String,
        /// JSON file.
        json_path: String,
        /// HTML file (readable).
        html_path: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditRecord, ChainBreak};
    use crate::auth::Role;
    use crate::model::{CustomerSummary, SearchField};
    use crate::phone::PhoneError;
    use crate::recycle::CaseStatus;
    use chrono::DateTime;

    fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value, "{json}");
    }

    /// Debug output (what logs and panics print) carries no secret or PII.
    #[test]
    fn debug_output_is_redacted() {
        let login = Request::Login { username: "cs1".into(), password: "S3cret!pass".into() };
        let card = Request::Recycled(RecycledRequest::ForceUnbindBankCheck {
            wizard_id: Uuid::from_u128(1),
            card_number: "6229081216240745417".into(),
        });
        let claimant = crate::cases::Claimant {
            name: "黄娜".into(),
            id_number: "610113200409182119".into(),
            phone: "15012442220".into(),
        };
        let start =
            RecycledRequest::ForceUnbindStart { case_id: Uuid::from_u128(2), claimant: claimant.clone() };
        let printed = format!("{login:?} {card:?} {start:?} {claimant:?}");
        for secret in ["S3cret!pass", "6229081216240745417", "610113200409182119", "15012442220", "黄娜"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
    }

    /// Everything that crosses IPC survives JSON both ways (Tauri's wire format).
    #[test]
    fn ipc_types_round_trip_through_json() {
        let id = Uuid::from_u128(7);
        let at = DateTime::from_timestamp(1_764_000_000, 0).unwrap();
        let op = OperatorInfo {
            id,
            username: "cs1".into(),
            display_name: "王芳".into(),
            role: Role::CsAgent,
            must_change_password: false,
        };
        for req in [
            Request::Status,
            Request::Login { username: "cs1".into(), password: "p".into() },
            Request::SearchCustomers { query: "13912393949".into() },
            Request::RevealPii { target: PiiTarget::Phone { user_id: id }, reason: "核实身份".into() },
            Request::AuditLog { before_seq: Some(9), limit: 50 },
            Request::Recycled(RecycledRequest::ClaimNext),
            Request::Recycled(RecycledRequest::ClaimCase { case_id: id }),
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
                checkpoints_checked: 1,
                first_break: Some(ChainBreak { seq: 2, reason: crate::audit::BreakReason::Edited }),
            }),
            Response::Status {
                demo: true,
                database: None,
                startup_error: Some(ApiError::NotLoggedIn),
                operator: Some(op),
            },
        ] {
            round_trip(resp);
        }
        round_trip(ApiError::OperatorLocked { until: at });
        round_trip(ApiError::Conflict { conflict: Conflict::InFreezeWindow { until: at } });
        round_trip(ApiError::Conflict { conflict: Conflict::CaseStatus { status: CaseStatus::Confirmed } });
        round_trip(ApiError::NotFound { entity: Entity::Case });
        round_trip(ApiError::Gateway {
            service: GatewayService::Bank,
            problem: GatewayProblem::Timeout { timeout_ms: 800, attempts: 3 },
        });
        round_trip(ApiError::InvalidInput {
            field: "phone".into(),
            problem: InputProblem::Phone { error: PhoneError::Length(7) },
        });
        round_trip(ApiError::Forbidden { permission: Permission::PiiReveal });
        round_trip(ApiError::InvalidInput {
            field: "reason".into(),
            problem: InputProblem::TooShort { min_chars: 4 },
        });
    }
}
