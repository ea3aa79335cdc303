//! What the recycled-number screens see: queue rows, case detail with its
//! timeline, imports, the force-unbind wizard. PII is masked by the backend.

use crate::api::{ApiError, InputProblem};
use crate::recycle::{
    BankAnswer, BudgetState, CarrierEventKind, CaseEventKind, CaseSource, CaseStatus, CheckKind,
    DecisionKind, HookKind, HookReason, NotRecycledReason, RiskInputs, ThreeElementAnswer, TwiceTelAnswer,
    UnbindReason,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Queue sort orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueSort {
    /// Highest risk first.
    #[default]
    RiskDesc,
    /// Oldest first (SLA).
    OldestFirst,
    /// Newest first.
    NewestFirst,
}

/// Queue filters; `None` means "any".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QueueFilter {
    /// Status; `None` = every active status.
    pub status: Option<CaseStatus>,
    /// Source.
    pub source: Option<CaseSource>,
    /// Minimum risk.
    pub min_risk: Option<i32>,
    /// Carrier name.
    pub carrier: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// Only cases older than this many hours.
    pub older_than_hours: Option<i64>,
    /// A phone number (exact, 11 digits).
    pub phone: Option<String>,
    /// Only cases I hold.
    pub mine_only: bool,
    /// Sort.
    pub sort: QueueSort,
}

/// A queue view an operator saved under a name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedView {
    /// Name shown on the button.
    pub name: String,
    /// The filters.
    pub filter: QueueFilter,
}

/// A short form of an id that tells ids apart: the tail of a UUIDv7 is random,
/// while its head is a timestamp (ids made within a minute share it).
pub fn short_id(id: Uuid) -> String {
    let hex = id.simple().to_string();
    hex[hex.len() - 8..].to_owned()
}

/// Where the next page starts (keyset).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QueueCursor {
    /// Risk of the last row.
    pub risk_score: i32,
    /// Detection time of the last row.
    pub detected_at: DateTime<Utc>,
    /// Id of the last row.
    pub id: Uuid,
}

/// One queue row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRowView {
    /// Case id.
    pub id: Uuid,
    /// Phone, masked.
    pub phone_masked: String,
    /// State.
    pub status: CaseStatus,
    /// Why it was opened.
    pub source: CaseSource,
    /// Ported/unknown: manual decision only.
    pub manual_only: bool,
    /// Risk 0–100.
    pub risk_score: i32,
    /// Carrier.
    pub carrier: String,
    /// Province.
    pub province: String,
    /// First detected.
    pub detected_at: DateTime<Utc>,
    /// Hours since detection.
    pub age_hours: i64,
    /// Past the SLA.
    pub sla_breached: bool,
    /// Who holds it (lease still valid).
    pub claimed_by: Option<String>,
    /// Lease end.
    pub lease_until: Option<DateTime<Utc>>,
    /// Pieces of evidence.
    pub evidence_count: i32,
    /// Maker of a pending proposal.
    pub proposed_by: Option<String>,
    /// In the freeze window until.
    pub freeze_until: Option<DateTime<Utc>>,
    /// Bumped on every change: a checker's approval names the version reviewed.
    pub version: i32,
}

/// A page of the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePage {
    /// Rows.
    pub rows: Vec<CaseRowView>,
    /// The next page, if there may be one.
    pub next: Option<QueueCursor>,
}

/// Whose fact a timeline line is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "party", rename_all = "snake_case")]
pub enum Party {
    /// The case's old user.
    OldUser,
    /// Another user of ours (e.g. the new holder who registered the number).
    OtherUser {
        /// The user's short id.
        short_id: String,
    },
}

/// One line of a phone's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened, with its (masked) parameters.
    pub event: TimelineEvent,
}

/// What a timeline line says, as a code with parameters; the UI words it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineEvent {
    /// The user registered.
    Registered {
        /// Who.
        user: Party,
    },
    /// The user's last login.
    LastLogin {
        /// Who.
        user: Party,
    },
    /// The number became a user's login.
    Bound {
        /// Whose.
        user: Party,
    },
    /// The number stopped being a user's login.
    Unbound {
        /// Whose.
        user: Party,
        /// Why, when the code is known.
        reason: Option<UnbindReason>,
    },
    /// A carrier notice or entry time from a file.
    CarrierNotice {
        /// The event.
        event: CarrierEventKind,
        /// Carrier.
        carrier: String,
        /// Province.
        province: String,
        /// Network-entry time reported with it.
        entry_at: Option<DateTime<Utc>>,
    },
    /// The carrier gateway's answer to "changed hands since the binding?".
    CarrierAnswer {
        /// The answer.
        answer: TwiceTelAnswer,
    },
    /// An app backend asked a hook.
    Hook {
        /// Which hook.
        hook: HookKind,
        /// Allowed or blocked.
        allowed: bool,
        /// Why.
        reason: Option<HookReason>,
    },
    /// A bank card whose reserved phone is this number (a quick-pay agreement).
    CardReservesPhone {
        /// Bank name (data).
        bank: String,
        /// Card, masked (BIN + last 4).
        card_masked: String,
        /// Agreement number, masked.
        agreement_masked: String,
        /// Whose card.
        user: Party,
        /// Card status code (`active`, `resign_required`, …).
        status: String,
    },
    /// A direct-debit agreement (话费代扣) on the number was signed.
    DebitSigned {
        /// Carrier.
        carrier: String,
        /// Whose.
        user: Party,
    },
    /// A direct-debit agreement ended.
    DebitEnded {
        /// Why (a code such as `recycled_number`), if recorded.
        reason: Option<String>,
    },
    /// SMS password reset was blocked for the old user.
    SmsBlocked {
        /// The decision that blocked it, when recorded.
        decision: Option<DecisionKind>,
        /// Operator.
        by: String,
    },
    /// The SMS block was lifted.
    SmsLifted {
        /// The checker.
        by: Option<String>,
    },
    /// A verification check.
    Check {
        /// Which.
        check: CheckKind,
        /// Whether it passed.
        passed: bool,
        /// Operator.
        by: String,
        /// Carrier 3-element answer (carrier checks).
        three_elements: Option<ThreeElementAnswer>,
        /// Carrier "changed hands" answer (carrier checks).
        twice_tel: Option<TwiceTelAnswer>,
        /// Bank answer (bank checks).
        bank_answer: Option<BankAnswer>,
        /// Card, masked (bank checks).
        card_masked: Option<String>,
    },
    /// Something the case's operators did.
    Case {
        /// What.
        event: CaseEventKind,
        /// Operator.
        by: String,
        /// The decision proposed or made, if any.
        decision: Option<DecisionKind>,
        /// The not-recycled reason, if any.
        reason: Option<NotRecycledReason>,
        /// The operator's note, if any (their words).
        note: Option<String>,
        /// New holder (reassignments).
        to: Option<String>,
    },
}

/// A maker's proposal waiting for a checker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// What.
    pub decision: CaseDecision,
    /// Maker.
    pub by: String,
}

/// Everything shown about one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseDetail {
    /// The queue row.
    pub row: CaseRowView,
    /// Old user.
    pub old_user_id: Uuid,
    /// Old customer.
    pub old_customer_id: Uuid,
    /// Old customer name, masked.
    pub old_name_masked: String,
    /// Whether the phone is still the old user's login.
    pub still_bound: bool,
    /// When it was bound to the old user.
    pub bound_at: DateTime<Utc>,
    /// Carrier entry time.
    pub entry_at: Option<DateTime<Utc>>,
    /// Risk inputs (the UI's catalogue spells out the formula).
    pub risk: RiskInputs,
    /// Old user's balance.
    pub balance: Decimal,
    /// Whether "confirm recycled" needs a checker under the current settings.
    pub needs_checker: bool,
    /// Pending proposal.
    pub proposal: Option<Proposal>,
    /// The final decision, once decided.
    pub decision: Option<Decided>,
    /// SMS reset blocked for the old user.
    pub sms_reset_blocked: bool,
    /// A request to lift the SMS block, waiting for a checker.
    pub sms_unblock: Option<SmsUnblockRequest>,
    /// One timeline per phone, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Hash of the evidence pack, once the case closed by force-unbind.
    pub evidence_sha256: Option<String>,
}

/// A maker's request to lift an SMS-reset block, as the checker reviews it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmsUnblockRequest {
    /// Names exactly this request in the approval.
    pub id: Uuid,
    /// Maker.
    pub by: String,
    /// The number that becomes the login, masked.
    pub phone_masked: String,
}

/// A case's final decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decided {
    /// What was decided.
    pub decision: DecisionKind,
    /// Why, for "not recycled".
    pub reason: Option<NotRecycledReason>,
    /// The maker's note (their words).
    pub note: String,
    /// Maker.
    pub maker: String,
    /// Checker, when four-eyes applied.
    pub checker: Option<String>,
}

/// A decision on a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum CaseDecision {
    /// The number was reissued: unbind it from the old user (four-eyes).
    ConfirmRecycled {
        /// Note.
        note: String,
    },
    /// Not recycled, for a reason from the fixed list.
    NotRecycled {
        /// Reason.
        reason: NotRecycledReason,
        /// Note.
        note: String,
    },
    /// Send to a supervisor.
    Escalate {
        /// Note.
        note: String,
    },
    /// Unbind for the new holder after the wizard's checks (only the wizard makes this).
    ForceUnbind {
        /// Note.
        note: String,
    },
}

/// What a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    /// Waiting for a checker.
    PendingApproval,
    /// Applied.
    Applied,
}

/// Result of a bulk action (dry run or real).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkSummary {
    /// Whether anything was changed.
    pub dry_run: bool,
    /// Cases the action applies (or applied) to.
    pub eligible: usize,
    /// Cases skipped, with why.
    pub skipped: Vec<BulkSkip>,
}

/// A case a bulk action left alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkSkip {
    /// Case.
    pub case_id: Uuid,
    /// Why.
    pub reason: SkipReason,
}

/// Why a bulk action left a case alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "skip", rename_all = "snake_case")]
pub enum SkipReason {
    /// No such case.
    NotFound,
    /// Another operator holds it.
    ClaimedBy {
        /// Their username.
        by: String,
    },
    /// Its state does not allow the action.
    Status {
        /// Its state.
        status: CaseStatus,
    },
    /// It changed while the action ran.
    Failed {
        /// The error.
        error: ApiError,
    },
}

/// One bad line of a carrier file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    /// File name.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Column name (as the file format names it).
    pub field: String,
    /// What is wrong, as a code.
    pub problem: InputProblem,
}

impl LineError {
    /// A bad field of line `line` of `file`.
    pub fn new(file: &str, line: u64, field: &str, problem: InputProblem) -> Self {
        Self { file: file.to_owned(), line, field: field.to_owned(), problem }
    }
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}: {}", self.file, self.line, self.field, self.problem)
    }
}

/// State of a carrier import job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ImportState {
    /// Reading and checking lines.
    Reading {
        /// Bytes read.
        bytes_read: u64,
        /// File size.
        total_bytes: u64,
        /// Lines so far.
        lines: u64,
    },
    /// Writing to the database (one transaction).
    Writing {
        /// Lines read.
        lines: u64,
    },
    /// Done.
    Done(ImportReport),
    /// Rejected: nothing was changed.
    Rejected {
        /// The first errors (at most 100).
        errors: Vec<LineError>,
        /// How many bad lines in all.
        error_count: u64,
    },
    /// Failed for another reason (file unreadable, database).
    Failed {
        /// Why.
        error: ApiError,
    },
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// File name.
    pub file: String,
    /// `utf-8` or `gbk`.
    pub encoding: String,
    /// Data lines.
    pub lines: u64,
    /// Lines that are evidence about numbers bound to our users (the rest describe
    /// numbers we do not have, or earlier holders).
    pub matched: u64,
    /// New cases.
    pub cases_opened: i64,
    /// Open cases with new evidence.
    pub cases_updated: i64,
    /// The same file was imported before: nothing changed.
    pub already_imported: bool,
}

/// Step 1 of force-unbind: who claims the number. `Debug` is masked.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Claimant {
    /// Name as on the ID card.
    pub name: String,
    /// ID number (18 characters).
    pub id_number: String,
    /// The phone they hold.
    pub phone: String,
}

impl std::fmt::Debug for Claimant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimant")
            .field("name", &crate::mask::name(&self.name))
            .field("id_number", &crate::mask::id_number(&self.id_number))
            .field("phone", &crate::mask::phone(&self.phone))
            .finish()
    }
}

/// Where the force-unbind wizard stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForceUnbindState {
    /// Wizard id (lives in the backend, with the clear inputs, for a short time).
    pub wizard_id: Uuid,
    /// The case the phone belongs to.
    pub case_id: Uuid,
    /// Phone, masked.
    pub phone_masked: String,
    /// Carrier 3-element answer.
    pub carrier_check: Option<ThreeElementAnswer>,
    /// Carrier "changed hands since the old binding?" answer.
    pub twice_tel: Option<TwiceTelAnswer>,
    /// Carrier step passed.
    pub carrier_passed: bool,
    /// Bank answers so far.
    pub bank_checks: Vec<BankCheckView>,
    /// Bank step passed.
    pub bank_passed: bool,
    /// Claimant budget.
    pub claimant_budget: BudgetState,
    /// Last card's budget.
    pub card_budget: Option<BudgetState>,
    /// The claimant is the old customer: not a recycled case.
    pub same_person: bool,
    /// Submitted: waiting for a checker, or done.
    pub outcome: Option<DecisionOutcome>,
}

/// One bank 4-element answer in the wizard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BankCheckView {
    /// Card, masked (BIN + last 4).
    pub card_masked: String,
    /// The answer.
    pub answer: BankAnswer,
    /// Issuing bank (data), when known.
    pub bank_name: Option<String>,
}
