//! Rows of the suspense and reconciliation tables.

use chrono::{DateTime, Utc};
use domain::suspense::{OurKind, SuspenseKind, SuspenseStatus};
use uuid::Uuid;

/// The ledger accounts reconciliation books to, for one physical account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconAccounts {
    /// The asset mirror of the bank account.
    pub asset: Uuid,
    /// The platform's own money (ledger-internal write-offs).
    pub main: Uuid,
    /// Losses accepted (expense).
    pub loss: Uuid,
    /// Fees (expense).
    pub fee: Uuid,
    /// Today's pending settlement (liability).
    pub settlement: Uuid,
    /// Suspense accounts, in [`SuspenseKind::ALL`] order.
    pub suspense: [Uuid; 6],
}

impl ReconAccounts {
    /// The suspense account of a kind.
    pub fn suspense_of(&self, kind: SuspenseKind) -> Uuid {
        let i = SuspenseKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.suspense[i]
    }
}

/// A file about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStatementFile {
    /// Id.
    pub id: Uuid,
    /// SHA-256 of the bytes.
    pub digest: String,
    /// Name without folder.
    pub file_name: String,
    /// Format code.
    pub format: String,
    /// Who.
    pub imported_by: String,
    /// When.
    pub imported_at: DateTime<Utc>,
}

/// A statement about to be stored, with its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStatementRow {
    /// Id.
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Bank's statement id.
    pub statement_ref: String,
    /// Format code.
    pub format: String,
    /// Version.
    pub version: Option<String>,
    /// Currency.
    pub currency: String,
    /// Sequence number.
    pub sequence: Option<i64>,
    /// Opening (fen).
    pub opening_minor: Option<i64>,
    /// Closing (fen).
    pub closing_minor: Option<i64>,
    /// First day.
    pub from_day: i32,
    /// Last day.
    pub to_day: i32,
    /// Difference when it does not add up (acknowledged).
    pub difference_minor: Option<i64>,
    /// Who acknowledged the difference.
    pub acknowledged_by: Option<String>,
    /// JSON findings.
    pub findings: String,
    /// Lines.
    pub lines: Vec<LineRow>,
}

/// A statement line as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LineRow {
    /// Id.
    pub id: Uuid,
    /// Statement (row id).
    pub statement_id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Position in the statement.
    pub seq: i32,
    /// JSON location.
    pub at: String,
    /// Signed amount.
    pub amount_minor: i64,
    /// Booking day.
    pub booking_day: i32,
    /// Bank reference.
    pub bank_ref: String,
    /// End-to-end id.
    pub end_to_end: Option<String>,
    /// Counterparty name.
    pub counterparty_name: Option<String>,
    /// Counterparty account.
    pub counterparty_account: Option<String>,
    /// Addressed (virtual) number.
    pub addressed_account: Option<String>,
    /// Remittance.
    pub remittance: Option<String>,
    /// Bank code.
    pub bank_code: Option<String>,
    /// Reversal.
    pub reversal: bool,
    /// Return reason.
    pub return_reason: Option<String>,
    /// Fee (fen).
    pub fee_minor: i64,
    /// Our reference.
    pub our_ref: Option<String>,
    /// open, matched, booked, suspense, duplicate, replaced.
    pub state: String,
}

/// A stored statement (without lines).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StatementRow {
    /// Id.
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Bank's id.
    pub statement_ref: String,
    /// Sequence.
    pub sequence: Option<i64>,
    /// Opening.
    pub opening_minor: Option<i64>,
    /// Closing.
    pub closing_minor: Option<i64>,
    /// First day.
    pub from_day: i32,
    /// Last day.
    pub to_day: i32,
}

/// One of our items.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OurItemRow {
    /// Id.
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Kind.
    #[sqlx(try_from = "String")]
    pub kind: OurKind,
    /// Signed amount.
    pub amount_minor: i64,
    /// Still open.
    pub open_minor: i64,
    /// Window start.
    pub date_from: i32,
    /// Window end.
    pub date_to: i32,
    /// Reference.
    pub reference: String,
    /// Counterparty.
    pub counterparty_name: Option<String>,
    /// Virtual number.
    pub virtual_number: Option<String>,
    /// Sub-account it credits.
    pub account_id: Option<Uuid>,
    /// Fee agreed.
    pub expected_fee_minor: i64,
    /// open, matched, short.
    pub state: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A suspense item as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SuspenseItemRow {
    /// Id.
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Kind.
    #[sqlx(try_from = "String")]
    pub kind: SuspenseKind,
    /// Signed amount.
    pub amount_minor: i64,
    /// Status.
    #[sqlx(try_from = "String")]
    pub status: SuspenseStatus,
    /// Period.
    pub found_day: i32,
    /// Found.
    pub found_at: DateTime<Utc>,
    /// Statement line.
    pub line_id: Option<Uuid>,
    /// Our item.
    pub item_id: Option<Uuid>,
    /// Bank notice.
    pub credit_id: Option<Uuid>,
    /// Parking transfer.
    pub booking_id: Uuid,
    /// Write-off transfer.
    pub resolution_id: Option<Uuid>,
    /// Action code of the resolution.
    pub action: Option<String>,
    /// Channel.
    pub channel: String,
    /// Counterparty.
    pub counterparty: String,
    /// Claim holder.
    pub claimed_by: Option<String>,
    /// Claim end.
    pub claim_until: Option<DateTime<Utc>>,
    /// Explained until (day).
    pub explained_until: Option<i32>,
    /// Recovery case reference.
    pub recovery_ref: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A new suspense item with the transfer that parks it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSuspense {
    /// The item (status `open`).
    pub item: SuspenseItemRow,
    /// The parking transfer; `None` when a bank notice booked it already.
    pub booking: Option<crate::NewTransferRow>,
}

/// A confirmed or suggested match to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMatch {
    /// Id.
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Day.
    pub day: i32,
    /// Run (none: a person).
    pub run_id: Option<Uuid>,
    /// Rule code or `manual`.
    pub rule: String,
    /// suggested or confirmed.
    pub status: String,
    /// Σ lines − Σ items.
    pub difference_minor: i64,
    /// Score.
    pub score: i32,
    /// The posting (expected payments credit their sub-account).
    pub posting: Option<crate::NewTransferRow>,
    /// Who.
    pub made_by: String,
    /// When.
    pub made_at: DateTime<Utc>,
    /// Lines with the amount each gives.
    pub lines: Vec<(Uuid, i64)>,
    /// Our items with the amount each takes.
    pub items: Vec<(Uuid, i64)>,
}

/// A stored match.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MatchRow {
    /// Id.
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Day.
    pub day: i32,
    /// Run.
    pub run_id: Option<Uuid>,
    /// Rule.
    pub rule: String,
    /// Status.
    pub status: String,
    /// Difference.
    pub difference_minor: i64,
    /// Score.
    pub score: i32,
    /// Posting.
    pub transfer_id: Option<Uuid>,
}

/// Everything a reconciliation run writes, in one transaction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunWrite {
    /// Run id, day, physical account, who, when, JSON report.
    pub run: Option<(Uuid, i32, Uuid, String, DateTime<Utc>, String)>,
    /// Matches.
    pub matches: Vec<NewMatch>,
    /// Lines a bank notice booked already: (line, state).
    pub line_states: Vec<(Uuid, &'static str)>,
    /// Items found.
    pub suspense: Vec<NewSuspense>,
    /// Our items booked to suspense as shortages.
    pub short_items: Vec<Uuid>,
    /// Automatic matches reversed (a resent file): (match, reversal posting).
    pub reversals: Vec<(Uuid, Option<crate::NewTransferRow>)>,
    /// Items whose line a resent statement replaced: (item, the reversal of its parking).
    pub superseded: Vec<(Uuid, crate::NewTransferRow)>,
}

/// A resolution to write (or a step of one), in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolveWrite {
    /// The item.
    pub item_id: Uuid,
    /// The status it must have now (compare-and-set).
    pub from: Vec<SuspenseStatus>,
    /// Its new status.
    pub to: SuspenseStatus,
    /// The action code (when resolved).
    pub action: Option<&'static str>,
    /// Who must hold the claim (`None`: an approval, no claim needed).
    pub holder: Option<String>,
    /// The posting.
    pub posting: Option<crate::NewTransferRow>,
    /// Another item written off with it (recovered money), with its status now.
    pub with_item: Option<Uuid>,
    /// Our items the match takes amounts of.
    pub our_items: Vec<(Uuid, i64)>,
    /// A manual match to record (lines and items).
    pub record_match: Option<NewMatch>,
    /// Explained until.
    pub explained_until: Option<i32>,
    /// Recovery reference.
    pub recovery_ref: Option<String>,
    /// An instruction to the bank gateway (topic, payload) through the outbox.
    pub outbox: Option<(String, String)>,
    /// The proposal this completes, with the approver's column.
    pub proposal: Option<(Uuid, &'static str, String)>,
    /// A new proposal (id, JSON action, maker).
    pub new_proposal: Option<(Uuid, String, String)>,
    /// Event JSON.
    pub event: String,
    /// The actor.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The request id and its answer JSON.
    pub request: Option<(Uuid, String)>,
}

/// A stored proposal.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SuspenseProposalRow {
    /// Id.
    pub id: Uuid,
    /// Item.
    pub item_id: Uuid,
    /// JSON action.
    pub action: String,
    /// Maker.
    pub maker: String,
    /// When.
    pub proposed_at: DateTime<Utc>,
    /// Finance approval.
    pub finance_by: Option<String>,
    /// Supervisor approval.
    pub supervisor_by: Option<String>,
    /// pending, approved, rejected.
    pub status: String,
}

/// Report figures per physical account.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportFigures {
    /// (physical, channel, matched count, Σ matched) of the day.
    pub matched: Vec<(Uuid, String, i64, i64)>,
    /// (physical, channel, kind, count, Σ amount) of open items.
    pub open: Vec<(Uuid, String, String, i64, i64)>,
    /// (found day, count, Σ |amount|) of open items.
    pub aging: Vec<(i32, i64, i64)>,
    /// (kind, Σ open items, suspense ledger balance credit-normal) over all accounts.
    pub proof: Vec<(String, i64, i64)>,
}
