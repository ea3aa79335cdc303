//! Rows of the recycled-number (二次号) workflow.

use chrono::{DateTime, Utc};
use domain::recycle::{CaseEventKind, CaseSource, CaseStatus, CheckKind, DecisionKind, HookKind};
use uuid::Uuid;

/// A phone currently bound to one of our users, with what the risk score needs.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BoundPhone {
    /// The phone.
    pub phone: String,
    /// The user it is the login of.
    pub user_id: Uuid,
    /// The user's customer.
    pub customer_id: Uuid,
    /// When this phone was bound to the user (registration or re-binding).
    pub bound_at: DateTime<Utc>,
}

/// Facts about a user for the risk score.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RiskFacts {
    /// The user.
    pub user_id: Uuid,
    /// Sum of balances (fen).
    pub balance_minor: i64,
    /// Active bank cards.
    pub active_cards: i64,
    /// Active direct-debit agreements.
    pub direct_debits: i64,
    /// Last login.
    pub last_login_at: Option<DateTime<Utc>>,
}

/// One carrier import (a file).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CarrierImportRow {
    /// Id.
    pub id: Uuid,
    /// File name as picked (no directories).
    pub file_name: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// `utf-8` or `gbk`.
    pub encoding: String,
    /// Data lines in the file.
    pub lines: i64,
    /// Lines that are evidence about numbers bound to our users.
    pub matched: i64,
    /// Cases opened.
    pub cases_opened: i64,
    /// Open cases that got new evidence.
    pub cases_updated: i64,
    /// Operator.
    pub imported_by: String,
    /// When.
    pub imported_at: DateTime<Utc>,
}

/// A carrier fact about a number we have bound.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CarrierEventRow {
    /// Id.
    pub id: Uuid,
    /// The number.
    pub phone: String,
    /// Carrier name.
    pub carrier: String,
    /// Province.
    pub province: String,
    /// Event name (`domain::recycle::CarrierEventKind::as_str`, or `gateway:<answer>`).
    pub event: String,
    /// When the event happened.
    pub event_at: DateTime<Utc>,
    /// Network-entry time the carrier reported.
    pub entry_at: Option<DateTime<Utc>>,
    /// `import:<id>` or `gateway`.
    pub source: String,
}

/// What a case says about the number and its old owner: the facts a detection
/// supplies and the case row keeps (shared by [`NewCase`] and [`CaseRow`]).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseCore {
    /// The phone.
    pub phone: String,
    /// The user the phone is (or was) bound to.
    pub old_user_id: Uuid,
    /// That user's customer.
    pub old_customer_id: Uuid,
    /// Why the number became suspect.
    #[sqlx(try_from = "String")]
    pub source: CaseSource,
    /// Ported/unknown: no automatic action.
    pub manual_only: bool,
    /// Risk score 0–100.
    pub risk_score: i32,
    /// JSON of the risk inputs.
    pub risk_inputs: String,
    /// The old user's balance when scored (fen).
    pub balance_minor: i64,
    /// Carrier.
    pub carrier: String,
    /// Province.
    pub province: String,
    /// When the phone was bound to the old user.
    pub bound_at: DateTime<Utc>,
    /// The carrier's entry time, if known.
    pub entry_at: Option<DateTime<Utc>>,
    /// End of the freeze window, if a cancellation started one.
    pub freeze_until: Option<DateTime<Utc>>,
    /// First detected (for a [`NewCase`]: this detection).
    pub detected_at: DateTime<Utc>,
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseRow {
    /// Id (UUIDv7: sorts by detection time).
    pub id: Uuid,
    /// Phone, old owner, risk and carrier facts.
    #[sqlx(flatten)]
    pub core: CaseCore,
    /// The case's state.
    #[sqlx(try_from = "String")]
    pub status: CaseStatus,
    /// Last change or new evidence.
    pub updated_at: DateTime<Utc>,
    /// Pieces of evidence (detections) so far.
    pub evidence_count: i32,
    /// Operator holding the lease.
    pub claimed_by: Option<String>,
    /// Lease end.
    pub lease_until: Option<DateTime<Utc>>,
    /// JSON of a proposal waiting for a checker.
    pub proposed: Option<String>,
    /// Maker of the proposal.
    pub proposed_by: Option<String>,
    /// Final decision name.
    pub decision: Option<String>,
    /// Reason / note of the decision.
    pub decision_reason: Option<String>,
    /// Who decided (the maker).
    pub decided_by: Option<String>,
    /// The checker, when four-eyes applied.
    pub approved_by: Option<String>,
    /// When decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Bumped on every change.
    pub version: i32,
}

/// A case to open, or to add evidence to when one is already active for the same
/// (phone, old user).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    /// Id if inserted.
    pub id: Uuid,
    /// Phone, old owner, risk and carrier facts.
    pub core: CaseCore,
    /// Detections this adds.
    pub evidence: i32,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpsertCounts {
    /// New cases.
    pub opened: i64,
    /// Active cases that got new evidence.
    pub updated: i64,
}

/// Filters of the queue (all optional).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseQuery {
    /// Statuses to include (empty = the active ones).
    pub statuses: Vec<CaseStatus>,
    /// Source.
    pub source: Option<CaseSource>,
    /// Minimum risk score.
    pub min_risk: Option<i32>,
    /// Carrier.
    pub carrier: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// Detected before this (age filter).
    pub detected_before: Option<DateTime<Utc>>,
    /// Exact phone.
    pub phone: Option<String>,
    /// Claimed by this operator.
    pub claimed_by: Option<String>,
    /// Sort.
    pub sort: CaseOrder,
    /// Keyset cursor: rows strictly after this (risk, detected_at, id).
    pub after: Option<(i32, DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: u32,
}

/// Queue orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaseOrder {
    /// Highest risk first.
    #[default]
    RiskDesc,
    /// Oldest first (SLA).
    OldestFirst,
    /// Newest first.
    NewestFirst,
}

/// A case event (timeline line owned by the case).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseEventRow {
    /// Id.
    pub id: Uuid,
    /// Case.
    pub case_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Operator or `system`.
    pub actor: String,
    /// Kind, e.g. `claim`, `propose.confirm`, `decide.not_recycled`.
    #[sqlx(try_from = "String")]
    pub kind: CaseEventKind,
    /// JSON detail (no clear PII).
    pub detail: String,
}

/// A registration / SMS-reset check from an app backend.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HookEventRow {
    /// Id.
    pub id: Uuid,
    /// Phone.
    pub phone: String,
    /// User (for SMS resets).
    pub user_id: Option<Uuid>,
    /// `registration` / `sms_reset`.
    #[sqlx(try_from = "String")]
    pub kind: HookKind,
    /// When.
    pub at: DateTime<Utc>,
    /// Allowed or blocked.
    pub allowed: bool,
    /// Why.
    pub reason: String,
}

/// An SMS-reset block.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SmsBlockRow {
    /// Id.
    pub id: Uuid,
    /// User.
    pub user_id: Uuid,
    /// Case that caused it.
    pub case_id: Option<Uuid>,
    /// Reason.
    pub reason: String,
    /// Evidence JSON.
    pub evidence: String,
    /// When.
    pub blocked_at: DateTime<Utc>,
    /// By whom.
    pub blocked_by: String,
    /// Lifted when.
    pub lifted_at: Option<DateTime<Utc>>,
    /// Lifted by (the checker).
    pub lifted_by: Option<String>,
    /// Lift evidence JSON.
    pub lift_detail: Option<String>,
}

/// A direct-debit agreement (话费代扣).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DirectDebitRow {
    /// Id.
    pub id: Uuid,
    /// User.
    pub user_id: Uuid,
    /// Phone.
    pub phone: String,
    /// Carrier.
    pub carrier: String,
    /// Signed.
    pub signed_at: DateTime<Utc>,
    /// Ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

/// A verification attempt.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AttemptRow {
    /// Id.
    pub id: Uuid,
    /// `carrier3` / `bank4`.
    #[sqlx(try_from = "String")]
    pub kind: CheckKind,
    /// Keyed hash of the claimant's ID number.
    pub claimant_hash: String,
    /// Keyed hash of the card.
    pub card_hash: Option<String>,
    /// Case.
    pub case_id: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
    /// Passed.
    pub passed: bool,
    /// Answer JSON (no clear PII).
    pub answer: String,
    /// Operator.
    pub actor: String,
}

/// The effects of unbinding a recycled phone from its old user.
#[derive(Debug, Clone, PartialEq)]
pub struct Unbind {
    /// Case.
    pub case_id: Uuid,
    /// Final status (`Confirmed` or `ForceUnbound`).
    pub status: CaseStatus,
    /// The decision.
    pub decision: DecisionKind,
    /// Note.
    pub reason: String,
    /// Maker.
    pub decided_by: String,
    /// Checker, if four-eyes applied.
    pub approved_by: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// SMS-block evidence JSON.
    pub evidence: String,
    /// Evidence pack (sha256, json) to store with the case.
    pub pack: Option<(String, String)>,
    /// What must still hold when the unbind runs, checked in the same statement.
    pub guard: UnbindGuard,
}

/// The rules an unbind re-checks in its own `UPDATE`, so nothing that changed between
/// the service's read and the write can slip through.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UnbindGuard {
    /// Who may hold the lease.
    pub lease: LeaseRule,
    /// The case's version the decision was made on (optimistic lock).
    pub version: Option<i32>,
    /// No freeze window may be running (a cancellation lets the old user reclaim).
    pub outside_freeze: bool,
}

/// Who may hold a case's lease when it changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LeaseRule {
    /// Nobody is asked (a checker approving a proposal: the lease was released).
    #[default]
    Any,
    /// This operator holds a live lease.
    HeldBy(String),
    /// Nobody else holds a live lease (free, expired, or this operator's).
    NotHeldByOthers(String),
}

/// What an unbind changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnbindCounts {
    /// Direct-debit agreements ended.
    pub debits_ended: i64,
    /// Quick-pay cards flagged for re-signing.
    pub cards_flagged: i64,
}

/// Everything shown about one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFacts {
    /// The case.
    pub case: CaseRow,
    /// The old user.
    pub user: crate::UserRow,
    /// The old customer.
    pub customer: crate::CustomerRow,
    /// Bindings of this phone (any user).
    pub bindings: Vec<crate::PhoneBindingRow>,
    /// Carrier events for the phone.
    pub carrier_events: Vec<CarrierEventRow>,
    /// Hook events for the phone.
    pub hook_events: Vec<HookEventRow>,
    /// Cards whose reserved phone is this number.
    pub cards: Vec<crate::BankCardRow>,
    /// Direct debits on this phone.
    pub direct_debits: Vec<DirectDebitRow>,
    /// The case's own events.
    pub case_events: Vec<CaseEventRow>,
    /// Verification attempts on the case.
    pub attempts: Vec<AttemptRow>,
    /// SMS blocks of the old user.
    pub sms_blocks: Vec<SmsBlockRow>,
}
