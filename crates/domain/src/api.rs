//! What crosses IPC between the UI and the backend: one request enum, one
//! response enum, one serialisable error type.

use crate::audit::{AuditRecord, AuditVerification};
use crate::auth::{OperatorInfo, Permission};
use crate::cases::{
    BulkSummary, CaseDecision, CaseDetail, Claimant, DecisionOutcome, ForceUnbindState, ImportState,
    QueueCursor, QueueFilter, QueuePage, SavedView,
};
use crate::id_number::IdNumberError;
use crate::model::{CustomerSummary, CustomerTree, DatabaseInfo, PiiTarget};
use crate::phone::PhoneError;
use crate::recycle::{CaseStatus, NotRecycledReason, RecycleSettings, TwiceTelAnswer};
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
    /// A recycled-number (二次号) request: queue, cases, imports, wizard.
    Recycled(RecycledRequest),
}

/// The recycled-number work area's requests (nested in [`Request::Recycled`], so
/// its service receives only its own requests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RecycledRequest {
    /// A page of the recycled-number queue.
    Queue {
        /// Filters and sort.
        filter: QueueFilter,
        /// Start after this row.
        after: Option<QueueCursor>,
        /// Page size (capped).
        limit: u32,
    },
    /// One case with its timeline.
    CaseDetail {
        /// Case.
        case_id: Uuid,
    },
    /// Take a lease on a case.
    ClaimCase {
        /// Case.
        case_id: Uuid,
    },
    /// Take a lease on the riskiest free open case.
    ClaimNext,
    /// Give a case back.
    ReleaseCase {
        /// Case.
        case_id: Uuid,
    },
    /// Give a case to another agent (supervisor).
    ReassignCase {
        /// Case.
        case_id: Uuid,
        /// Username of the new holder.
        to: String,
        /// Why (audited).
        reason: String,
    },
    /// Decide a claimed case (confirm goes to a checker when four-eyes applies).
    DecideCase {
        /// Case.
        case_id: Uuid,
        /// The decision.
        decision: CaseDecision,
    },
    /// A checker approves or rejects a pending proposal.
    ApproveCase {
        /// Case.
        case_id: Uuid,
        /// Approve (`false` sends the case back to the queue).
        approve: bool,
        /// Note.
        note: String,
    },
    /// Close many cases as "not recycled"; `dry_run` only reports.
    BulkNotRecycled {
        /// Cases.
        case_ids: Vec<Uuid>,
        /// Reason.
        reason: NotRecycledReason,
        /// Note.
        note: String,
        /// Report only.
        dry_run: bool,
    },
    /// Start importing a carrier file (path on the desktop running the backend).
    ImportCarrierFile {
        /// Path.
        path: String,
    },
    /// Progress of an import.
    ImportStatus {
        /// Job.
        job_id: Uuid,
    },
    /// Ask the carrier gateway about a case's number now.
    CheckCarrier {
        /// Case.
        case_id: Uuid,
    },
    /// The workflow settings.
    RecycleSettings,
    /// Change the workflow settings (supervisor).
    UpdateRecycleSettings {
        /// New settings.
        settings: RecycleSettings,
    },
    /// Force-unbind step 1: claimant's identity → carrier 3-element + entry time.
    ForceUnbindStart {
        /// Case of the number.
        case_id: Uuid,
        /// Who claims the number.
        claimant: Claimant,
    },
    /// Force-unbind step 2: a bank card in the claimant's name, reserved phone = the number.
    ForceUnbindBankCheck {
        /// Wizard.
        wizard_id: Uuid,
        /// Card number (checked, hashed; never stored in clear).
        card_number: String,
    },
    /// Force-unbind step 3: unbind (or propose to a checker).
    ForceUnbindSubmit {
        /// Wizard.
        wizard_id: Uuid,
    },
    /// Write the case's evidence pack (HTML + JSON) to the data folder.
    ExportEvidence {
        /// Case.
        case_id: Uuid,
    },
    /// Ask to lift a user's SMS-reset block: a fresh carrier 3-element check of the
    /// customer with the number they now hold; a checker approves.
    RequestSmsUnblock {
        /// The blocked user.
        user_id: Uuid,
        /// The number the user now holds (becomes their login on approval).
        phone: String,
    },
    /// A checker lifts the block requested by another operator.
    ApproveSmsUnblock {
        /// The blocked user.
        user_id: Uuid,
    },
    /// The operator's saved queue views.
    QueueViews,
    /// Save (or replace, by name) one of the operator's queue views.
    SaveQueueView {
        /// Name shown on the button.
        name: String,
        /// The filters.
        filter: QueueFilter,
    },
}

impl From<RecycledRequest> for Request {
    fn from(r: RecycledRequest) -> Self {
        Request::Recycled(r)
    }
}

impl Request {
    /// The permission the request needs; `None` means it needs no session.
    pub fn permission(&self) -> Option<Permission> {
        match self {
            Request::Status | Request::Login { .. } | Request::Logout => None,
            Request::SearchCustomers { .. } | Request::CustomerTree { .. } => Some(Permission::CustomerView),
            Request::RevealPii { .. } => Some(Permission::PiiReveal),
            Request::AuditLog { .. } | Request::VerifyAudit => Some(Permission::AuditView),
            Request::Recycled(r) => Some(r.permission()),
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
            Request::Recycled(r) => r.name(),
        }
    }
}

impl RecycledRequest {
    /// The permission the request needs.
    pub fn permission(&self) -> Permission {
        use RecycledRequest as R;
        match self {
            R::Queue { .. }
            | R::CaseDetail { .. }
            | R::ClaimCase { .. }
            | R::ClaimNext
            | R::ReleaseCase { .. }
            | R::DecideCase { .. }
            | R::ImportCarrierFile { .. }
            | R::ImportStatus { .. }
            | R::CheckCarrier { .. }
            | R::RecycleSettings
            | R::ExportEvidence { .. }
            | R::RequestSmsUnblock { .. }
            | R::QueueViews
            | R::SaveQueueView { .. } => Permission::RecycledReview,
            R::ReassignCase { .. }
            | R::ApproveCase { .. }
            | R::BulkNotRecycled { .. }
            | R::UpdateRecycleSettings { .. }
            | R::ApproveSmsUnblock { .. } => Permission::RecycledApprove,
            R::ForceUnbindStart { .. } | R::ForceUnbindBankCheck { .. } | R::ForceUnbindSubmit { .. } => {
                Permission::ForceUnbind
            }
        }
    }

    /// A name for logs, without any payload.
    pub fn name(&self) -> &'static str {
        use RecycledRequest as R;
        match self {
            R::Queue { .. } => "queue",
            R::CaseDetail { .. } => "case_detail",
            R::ClaimCase { .. } => "claim_case",
            R::ClaimNext => "claim_next",
            R::ReleaseCase { .. } => "release_case",
            R::ReassignCase { .. } => "reassign_case",
            R::DecideCase { .. } => "decide_case",
            R::ApproveCase { .. } => "approve_case",
            R::BulkNotRecycled { .. } => "bulk_not_recycled",
            R::ImportCarrierFile { .. } => "import_carrier_file",
            R::ImportStatus { .. } => "import_status",
            R::CheckCarrier { .. } => "check_carrier",
            R::RecycleSettings => "recycle_settings",
            R::UpdateRecycleSettings { .. } => "update_recycle_settings",
            R::ForceUnbindStart { .. } => "force_unbind_start",
            R::ForceUnbindBankCheck { .. } => "force_unbind_bank_check",
            R::ForceUnbindSubmit { .. } => "force_unbind_submit",
            R::ExportEvidence { .. } => "export_evidence",
            R::RequestSmsUnblock { .. } => "request_sms_unblock",
            R::ApproveSmsUnblock { .. } => "approve_sms_unblock",
            R::QueueViews => "queue_views",
            R::SaveQueueView { .. } => "save_queue_view",
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
    /// Settings.
    Settings(RecycleSettings),
    /// Force-unbind wizard state.
    ForceUnbind(Box<ForceUnbindState>),
    /// The operator's saved queue views.
    QueueViews(Vec<SavedView>),
    /// The carrier's answer to `CheckCarrier` (also added to the case's evidence).
    CarrierChecked(TwiceTelAnswer),
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

/// What is wrong with an input field (or a field of a file's line): a code with its
/// parameters, which the UI turns into words.
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
    /// Not a mainland mobile number.
    #[error("{error}")]
    Phone {
        /// Why.
        error: PhoneError,
    },
    /// Not a valid ID number.
    #[error("{error}")]
    IdNumber {
        /// Why.
        error: IdNumberError,
    },
    /// A card number must be 16 to 19 digits.
    #[error("16 to 19 digits")]
    CardDigits,
    /// Not a time a carrier writes.
    #[error("not a time: {text:?}")]
    NotATime {
        /// What the line held.
        text: String,
    },
    /// Not one of the carrier event words.
    #[error("unknown event {text:?}")]
    UnknownEvent {
        /// What the line held.
        text: String,
    },
    /// The header lacks this column.
    #[error("missing column (header has: {header})")]
    MissingColumn {
        /// The header as read.
        header: String,
    },
    /// The file has no lines.
    #[error("empty file")]
    EmptyFile,
    /// The bytes are not valid in the file's encoding.
    #[error("not valid {encoding}")]
    Encoding {
        /// `UTF-8` or `GBK`.
        encoding: String,
    },
    /// The CSV reader could not read the line.
    #[error("unreadable CSV: {detail}")]
    Csv {
        /// The reader's own message (not translated: it names bytes and quotes).
        detail: String,
    },
    /// The path names no readable file.
    #[error("cannot read the file: {detail}")]
    Unreadable {
        /// The operating system's message.
        detail: String,
    },
    /// The path names a folder or device.
    #[error("not a file")]
    NotAFile,
    /// More items than one request may carry.
    #[error("at most {max}")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// A number outside what the setting allows.
    #[error("out of range")]
    OutOfRange,
    /// The phone is not the case's number.
    #[error("not this case's number")]
    NotCaseNumber,
    /// No operator has that username.
    #[error("no such operator")]
    NoSuchOperator,
    /// That operator's role cannot work recycled-number cases.
    #[error("that operator cannot work these cases")]
    CannotWorkCases,
    /// The customer has no verified ID on record.
    #[error("the customer is not real-name verified")]
    NotRealNameVerified,
    /// Force-unbind is decided only through its wizard.
    #[error("use the force-unbind wizard")]
    UseWizard,
}

impl From<PhoneError> for InputProblem {
    fn from(error: PhoneError) -> Self {
        Self::Phone { error }
    }
}

impl From<IdNumberError> for InputProblem {
    fn from(error: IdNumberError) -> Self {
        Self::IdNumber { error }
    }
}

/// Why an action on a record cannot happen now (its state, or who holds it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "conflict", rename_all = "snake_case")]
pub enum Conflict {
    /// Another operator holds the case.
    #[error("the case is claimed by {by}")]
    ClaimedBy {
        /// Their username.
        by: String,
    },
    /// The action needs the caller to hold the case.
    #[error("you do not hold this case")]
    NotHolder,
    /// Claim the case first, or the claim has expired.
    #[error("claim the case first (or your claim has expired)")]
    ClaimFirst,
    /// The case is in a state that does not allow the action.
    #[error("the case is {status}")]
    CaseStatus {
        /// Its state.
        status: CaseStatus,
    },
    /// The case is closed (or gone).
    #[error("the case is closed")]
    CaseClosed,
    /// Four-eyes: the maker cannot also be the checker.
    #[error("the maker cannot approve their own proposal")]
    MakerIsChecker,
    /// Inside the freeze window after a cancellation: the old user may still reclaim it.
    #[error("in the freeze window until {until}")]
    InFreezeWindow {
        /// End of the window.
        until: DateTime<Utc>,
    },
    /// The phone is no longer the old user's login.
    #[error("the phone is no longer this user's login")]
    NoLongerBound,
    /// The number is another user's login.
    #[error("that number is another user's login")]
    PhoneTaken,
    /// The user has no SMS-reset block.
    #[error("the user has no SMS-reset block")]
    NoSmsBlock,
    /// Nobody asked to lift the block.
    #[error("nobody asked to lift this block")]
    NoUnblockRequest,
    /// The carrier check of the customer with this number failed.
    #[error("the carrier check failed")]
    CarrierCheckFailed,
    /// The wizard's carrier step has not passed.
    #[error("the carrier check has not passed")]
    CarrierStepNotPassed,
    /// The wizard's carrier and bank steps must both pass first.
    #[error("both checks must pass first")]
    ChecksNotPassed,
    /// The wizard belongs to another operator.
    #[error("another operator's wizard")]
    OthersWizard,
    /// A record with this key exists already.
    #[error("{entity} exists already")]
    Exists {
        /// What kind of record.
        entity: Entity,
    },
}

/// What kind of record a `NotFound` or `Exists` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A customer.
    #[error("customer")]
    Customer,
    /// A login user.
    #[error("user")]
    User,
    /// A stored PII field.
    #[error("field")]
    Field,
    /// An operator.
    #[error("operator")]
    Operator,
    /// A recycled-number case.
    #[error("case")]
    Case,
    /// A current phone binding.
    #[error("binding")]
    Binding,
    /// A carrier import job.
    #[error("import")]
    ImportJob,
    /// A force-unbind wizard (they expire after 30 minutes).
    #[error("force-unbind wizard")]
    Wizard,
    /// A phone in a batch.
    #[error("phone")]
    Phone,
}

/// Which external service a gateway error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum GatewayService {
    /// The carrier.
    #[error("carrier")]
    Carrier,
    /// The bank.
    #[error("bank")]
    Bank,
}

/// What went wrong with a gateway, as a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum GatewayProblem {
    /// No endpoint is configured.
    #[error("not configured")]
    NotConfigured,
    /// No answer within the timeout, after retries.
    #[error("no answer within {timeout_ms} ms ({attempts} attempts)")]
    Timeout {
        /// Per-attempt timeout.
        timeout_ms: u64,
        /// Attempts made.
        attempts: u32,
    },
    /// Could not connect.
    #[error("cannot connect to {endpoint}")]
    Connect {
        /// Endpoint.
        endpoint: String,
    },
    /// An HTTP error status.
    #[error("HTTP {status}")]
    Http {
        /// Status code.
        status: u16,
    },
    /// The service refused the request with its own error code.
    #[error("refused: {code}")]
    Rejected {
        /// The service's code (e.g. `InvalidParameter`).
        code: String,
    },
    /// The answer did not follow the protocol.
    #[error("unexpected answer")]
    Protocol,
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
    #[error("permission denied: {permission}")]
    Forbidden {
        /// What was missing.
        permission: Permission,
    },
    /// A field of the request is not acceptable.
    #[error("{field}: {problem}")]
    InvalidInput {
        /// Which field, as its request name (`username`, `query`, `reason`, …): a code.
        field: String,
        /// What is wrong with it, as a code the UI translates.
        problem: InputProblem,
    },
    /// Nothing with that id.
    #[error("{entity} not found")]
    NotFound {
        /// What kind of record was looked for.
        entity: Entity,
    },
    /// The record's state or holder does not allow the action now.
    #[error("conflict: {conflict}")]
    Conflict {
        /// Why, as a code.
        conflict: Conflict,
    },
    /// The verification attempt budget is spent: stop before the bank locks the card.
    #[error("attempt budget spent until {until}")]
    BudgetExhausted {
        /// When attempts are allowed again.
        until: DateTime<Utc>,
    },
    /// An external verification service failed (timeout, HTTP error, bad answer).
    #[error("{service} gateway: {problem}")]
    Gateway {
        /// Which service.
        service: GatewayService,
        /// What went wrong.
        problem: GatewayProblem,
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
