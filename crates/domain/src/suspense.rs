//! What the 挂账处理 (suspense) screens receive and send, and the area's stored codes.
//!
//! A suspense item's `amount_minor` is signed from the bank's side: what the bank
//! has that our books do not (positive: an overage, money in nobody expected;
//! negative: a shortage, money we booked that the bank never received). Finding it
//! posts `asset += amount, suspense(kind) −= amount` so the asset mirror follows the
//! bank; resolving it moves the suspense balance to where the business action says
//! (a sub-account, the payer, a loss, the current settlement), never just away.

use crate::recon::{MatchStatus, Suggestion};
use crate::statement::{Location, StatementFinding, StatementFormat};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

stored_code! {
    /// The kind of a suspense item, which fixes its suspense ledger account.
    pub enum SuspenseKind {
        /// 长款: money in the bank that nothing on our side expected.
        Overage => "overage",
        /// 短款: we booked money the bank does not have.
        Shortage => "shortage",
        /// 待识别入账: money in whose virtual number matches no sub-account.
        Unidentified => "unidentified",
        /// 退票/退款失败: a payment of ours came back.
        Returned => "returned",
        /// 手续费差异: the fee charged differs from the fee agreed.
        FeeDifference => "fee_difference",
        /// 单边: a debit on one side only (the bank took money we know nothing of).
        OneSided => "one_sided",
    }
}

impl SuspenseKind {
    /// The ledger role of its suspense account (`suspense` is the physical
    /// account's 待识别 account, shared with bank credit notices).
    pub fn ledger_role(self) -> &'static str {
        match self {
            Self::Overage => "sus_overage",
            Self::Shortage => "sus_shortage",
            Self::Unidentified => "suspense",
            Self::Returned => "sus_returned",
            Self::FeeDifference => "sus_fee",
            Self::OneSided => "sus_one_sided",
        }
    }
}

stored_code! {
    /// Where a suspense item stands.
    pub enum SuspenseStatus {
        /// Waiting for someone to find its cause.
        Open => "open",
        /// A shortage being recovered from the channel or bank (追偿).
        Recovering => "recovering",
        /// A resolution waits for its approvals.
        PendingApproval => "pending_approval",
        /// Explained with a reason until a date; back in the queue after it.
        Explained => "explained",
        /// Written off (核销) by a business action.
        Resolved => "resolved",
    }
}

impl SuspenseStatus {
    /// Whether the item still holds money in suspense.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Resolved)
    }
}

stored_code! {
    /// The business action that resolves (or works on) a suspense item.
    pub enum ActionKind {
        /// Matched to our orders, refunds or expected payments.
        Match => "match",
        /// Credited to an identified virtual sub-account.
        CreditSubAccount => "credit_sub_account",
        /// Paid back to the payer through the bank.
        ReturnToPayer => "return_to_payer",
        /// A recovery case opened with the channel or bank.
        StartRecovery => "start_recovery",
        /// The recovered money arrived (another item's money clears this one).
        Recovered => "recovered",
        /// The loss accepted (finance and a supervisor approve).
        AcceptLoss => "accept_loss",
        /// Offset in the current period against today's pending settlement.
        OffsetSettlement => "offset_settlement",
        /// The fee difference booked as a fee.
        BookFee => "book_fee",
        /// Explained with a reason until a date (no money moves).
        Explain => "explain",
        /// Written off directly: a ledger-internal error only (supervisor four-eyes).
        WriteOffInternal => "write_off_internal",
    }
}

impl ActionKind {
    /// Who must approve it besides the maker: `(finance reviewer, supervisor)`.
    pub fn approvals(self) -> (bool, bool) {
        match self {
            Self::AcceptLoss => (true, true),
            Self::WriteOffInternal => (false, true),
            _ => (false, false),
        }
    }

    /// The kinds of item this action applies to.
    pub fn applies_to(self, kind: SuspenseKind) -> bool {
        use SuspenseKind::*;
        match self {
            Self::Match => true,
            Self::CreditSubAccount => matches!(kind, Overage | Unidentified | Returned),
            Self::ReturnToPayer => matches!(kind, Overage | Unidentified),
            Self::StartRecovery | Self::Recovered => matches!(kind, Shortage | OneSided | FeeDifference),
            Self::AcceptLoss => matches!(kind, Shortage | OneSided | FeeDifference),
            Self::OffsetSettlement => true,
            Self::BookFee => matches!(kind, FeeDifference),
            Self::Explain => true,
            Self::WriteOffInternal => true,
        }
    }
}

/// A resolution as the reviewer asks for it; the stored form of a proposal, so
/// the approvers approve exactly this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SuspenseAction {
    /// Match to our open items (split allowed: each takes `amount` of it). Σ must
    /// equal the item's amount, or the rest is named as a fee.
    Match {
        /// (our item, amount) pairs.
        items: Vec<(Uuid, Decimal)>,
        /// The difference booked as a fee (zero when none).
        fee: Decimal,
    },
    /// Credit an identified virtual sub-account with the whole amount.
    CreditSubAccount {
        /// The sub-account's number (physical number + suffix).
        number: String,
    },
    /// Pay the money back to the payer (an instruction to the bank gateway).
    ReturnToPayer {
        /// Why (kept with the instruction).
        reason: String,
    },
    /// Open a recovery case (追偿) with the channel or bank.
    StartRecovery {
        /// The case reference at the channel or bank.
        reference: String,
    },
    /// The recovered money arrived as another item (an overage of the same
    /// account): both are written off against each other.
    Recovered {
        /// The item holding the recovered money.
        with_item: Uuid,
    },
    /// Accept the loss, as the contract says.
    AcceptLoss {
        /// The contract clause that puts the loss on us.
        contract_ref: String,
        /// Why.
        reason: String,
    },
    /// Offset against today's pending settlement (a late-found error goes into
    /// the current period).
    OffsetSettlement {
        /// Why.
        reason: String,
    },
    /// Book the difference as a fee (fee differences).
    BookFee,
    /// Explained: no money moves; back in the queue after `until`.
    Explain {
        /// Why.
        reason: String,
        /// Until when the explanation holds.
        until: NaiveDate,
    },
    /// A direct write-off: only for an error inside the ledger.
    WriteOffInternal {
        /// Why.
        reason: String,
    },
}

impl SuspenseAction {
    /// Its kind.
    pub fn kind(&self) -> ActionKind {
        match self {
            Self::Match { .. } => ActionKind::Match,
            Self::CreditSubAccount { .. } => ActionKind::CreditSubAccount,
            Self::ReturnToPayer { .. } => ActionKind::ReturnToPayer,
            Self::StartRecovery { .. } => ActionKind::StartRecovery,
            Self::Recovered { .. } => ActionKind::Recovered,
            Self::AcceptLoss { .. } => ActionKind::AcceptLoss,
            Self::OffsetSettlement { .. } => ActionKind::OffsetSettlement,
            Self::BookFee => ActionKind::BookFee,
            Self::Explain { .. } => ActionKind::Explain,
            Self::WriteOffInternal { .. } => ActionKind::WriteOffInternal,
        }
    }
}

/// Aging buckets (days since found).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeBucket {
    /// 0–1 days.
    UpTo1,
    /// 2–7 days.
    UpTo7,
    /// 8–30 days.
    UpTo30,
    /// More than 30 days.
    Over30,
}

impl AgeBucket {
    /// Every bucket, youngest first.
    pub const ALL: [AgeBucket; 4] = [Self::UpTo1, Self::UpTo7, Self::UpTo30, Self::Over30];

    /// The bucket of an item found `found` when it is `today`.
    pub fn of(found: NaiveDate, today: NaiveDate) -> Self {
        match (today - found).num_days() {
            ..=1 => Self::UpTo1,
            2..=7 => Self::UpTo7,
            8..=30 => Self::UpTo30,
            _ => Self::Over30,
        }
    }

    /// The found-day bounds `(oldest, youngest)` of the bucket as of `today`.
    pub fn found_between(self, today: NaiveDate) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let back = |d: i64| today.checked_sub_signed(chrono::Duration::days(d));
        match self {
            Self::UpTo1 => (back(1), None),
            Self::UpTo7 => (back(7), back(2)),
            Self::UpTo30 => (back(30), back(8)),
            Self::Over30 => (None, back(31)),
        }
    }
}

/// Queue filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspenseFilter {
    /// Only this kind.
    pub kind: Option<SuspenseKind>,
    /// Only this status; `None` = every open status.
    pub status: Option<SuspenseStatus>,
    /// Only this physical account.
    pub physical_id: Option<Uuid>,
    /// Only this age bucket.
    pub age: Option<AgeBucket>,
}

/// One row of the suspense queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspenseRow {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// Kind.
    pub kind: SuspenseKind,
    /// Signed amount (bank side).
    pub amount: Decimal,
    /// Day found (its period).
    pub found_on: NaiveDate,
    /// Days since found.
    pub age_days: i64,
    /// Physical account number (masked to its tail).
    pub account: String,
    /// Channel or bank code of the source.
    pub channel: String,
    /// Counterparty as the statement names it (a company or a masked person).
    pub counterparty: String,
    /// Status.
    pub status: SuspenseStatus,
    /// Who holds the claim, if live.
    pub claimed_by: Option<String>,
}

/// The queue counts open items up to this; more show as `OPEN_COUNT_CAP + 1`.
pub const OPEN_COUNT_CAP: u64 = 10_000;

/// A page of the queue (keyset: pass the last row's id as `after`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspensePage {
    /// Rows, oldest found first.
    pub rows: Vec<SuspenseRow>,
    /// Whether more rows follow.
    pub more: bool,
    /// How many items match the filter, counted up to [`OPEN_COUNT_CAP`] (+1 when more).
    pub open_count: u64,
}

/// A statement line as the item view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineView {
    /// Id.
    pub id: Uuid,
    /// The statement it came in.
    pub statement: String,
    /// Where in the file.
    pub at: Location,
    /// Signed amount.
    pub amount: Decimal,
    /// Booking day.
    pub booking_date: NaiveDate,
    /// Bank reference.
    pub bank_ref: String,
    /// Counterparty name.
    pub counterparty: Option<String>,
    /// Remittance.
    pub remittance: Option<String>,
    /// Addressed (virtual) number.
    pub addressed_account: Option<String>,
    /// Return reason code.
    pub return_reason: Option<String>,
}

/// One of our open items (an expected payment, order or refund).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OurItemView {
    /// Id.
    pub id: Uuid,
    /// What it is.
    pub kind: OurKind,
    /// Signed amount expected on the bank account.
    pub amount: Decimal,
    /// Still open of it.
    pub open: Decimal,
    /// Expected from.
    pub date_from: NaiveDate,
    /// Expected until.
    pub date_to: NaiveDate,
    /// Our reference (order id, payment reference).
    pub reference: String,
    /// Counterparty.
    pub counterparty: Option<String>,
    /// Virtual number it is for.
    pub virtual_number: Option<String>,
}

stored_code! {
    /// The kind of one of our items.
    pub enum OurKind {
        /// An expected incoming payment (e.g. a bid deposit) with amount and date bounds.
        ExpectedIn => "expected_in",
        /// An order paid through a channel: we booked it, the channel settles it.
        OrderPaid => "order_paid",
        /// A refund we sent.
        RefundOut => "refund_out",
    }
}

/// A ranked candidate with its score explained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateView {
    /// Our item.
    pub item: OurItemView,
    /// The score and its parts.
    pub suggestion: Suggestion,
}

/// One event in an item's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspenseEventView {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (`system` for the reconciliation run).
    pub actor: String,
    /// What happened.
    pub event: SuspenseEvent,
}

/// What happened to an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SuspenseEvent {
    /// Found by a reconciliation run (or a bank credit notice) and booked.
    Found,
    /// Claimed.
    Claimed,
    /// A resolution proposed, waiting for approvals.
    Proposed {
        /// The action.
        action: ActionKind,
    },
    /// An approval given.
    Approved {
        /// The action.
        action: ActionKind,
    },
    /// A proposal rejected.
    Rejected {
        /// The action.
        action: ActionKind,
    },
    /// Worked on without resolving (recovery started, explained).
    Worked {
        /// The action.
        action: ActionKind,
    },
    /// Written off by the action.
    Resolved {
        /// The action.
        action: ActionKind,
    },
    /// An automatic match reversed (unmatch, or a resent file).
    Unmatched,
}

/// A ledger posting of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingView {
    /// Transfer id.
    pub transfer_id: Uuid,
    /// Lines: (ledger role or sub-account number, signed amount, debit positive).
    pub lines: Vec<(String, Decimal)>,
}

/// A proposal waiting for approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspenseProposalView {
    /// Id.
    pub id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// Kind and amount of the item.
    pub item_kind: SuspenseKind,
    /// Signed amount.
    pub amount: Decimal,
    /// What is proposed.
    pub action: SuspenseAction,
    /// Who proposed.
    pub maker: String,
    /// When.
    pub proposed_at: DateTime<Utc>,
    /// Finance approval given by.
    pub finance_by: Option<String>,
    /// Supervisor approval given by.
    pub supervisor_by: Option<String>,
}

/// Everything the item view shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuspenseItemView {
    /// The queue row.
    pub row: SuspenseRow,
    /// Statement lines attached.
    pub lines: Vec<LineView>,
    /// Our side, for a shortage (the item we booked and the bank lacks).
    pub ours: Option<OurItemView>,
    /// Ranked candidates (for items with a statement line).
    pub candidates: Vec<CandidateView>,
    /// History, oldest first.
    pub history: Vec<SuspenseEventView>,
    /// Ledger postings (finding and resolution).
    pub postings: Vec<PostingView>,
    /// A proposal waiting for approvals.
    pub proposal: Option<SuspenseProposalView>,
    /// Explained until.
    pub explained_until: Option<NaiveDate>,
    /// Recovery case reference.
    pub recovery_ref: Option<String>,
}

/// What an import found (and, unless a dry run, stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The file's format.
    pub format: StatementFormat,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Whether the same file was imported before (nothing new written).
    pub repeat: bool,
    /// One per statement in the file.
    pub statements: Vec<StatementSummary>,
}

/// One statement of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementSummary {
    /// The bank's id.
    pub statement_id: String,
    /// The account as the file names it.
    pub account: String,
    /// Whether the console knows the account.
    pub known_account: bool,
    /// Currency.
    pub currency: String,
    /// Schema version.
    pub version: Option<String>,
    /// Opening balance.
    pub opening: Option<Decimal>,
    /// Closing balance.
    pub closing: Option<Decimal>,
    /// Whether opening + entries = closing.
    pub adds_up: bool,
    /// Entries.
    pub entries: u64,
    /// Σ credits.
    pub credits: Decimal,
    /// Σ debits (positive).
    pub debits: Decimal,
    /// What the checks found.
    pub findings: Vec<StatementFinding>,
    /// A statement of this account and id imported before that this one
    /// replaces (a resent file).
    pub replaces: bool,
}

/// What a reconciliation run did (or would do, as a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconRunReport {
    /// The day reconciled.
    pub day: NaiveDate,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Statement lines considered.
    pub lines: u64,
    /// Matches confirmed (automatic).
    pub confirmed: u64,
    /// Matches suggested (waiting for a person).
    pub suggested: u64,
    /// Lines with more than one equal candidate (never matched automatically).
    pub ambiguous: u64,
    /// Lines already in the ledger by a bank notice.
    pub already_booked: u64,
    /// Suspense items found, by kind.
    pub found: Vec<(SuspenseKind, u64)>,
    /// Automatic matches of an earlier run reversed (a resent file).
    pub reversed: u64,
}

/// A match as the match list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchView {
    /// Id.
    pub id: Uuid,
    /// The rule that found it (or `manual`).
    pub rule: String,
    /// Suggested or confirmed.
    pub status: MatchStatus,
    /// Statement lines.
    pub lines: Vec<LineView>,
    /// Our items.
    pub items: Vec<OurItemView>,
    /// Σ lines − Σ items.
    pub difference: Decimal,
    /// Score 0–100.
    pub score: u8,
}

/// One row of the daily reconciliation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    /// Physical account number (tail).
    pub account: String,
    /// Channel (bank or payment channel code).
    pub channel: String,
    /// Matched lines.
    pub matched: u64,
    /// Σ matched.
    pub matched_amount: Decimal,
    /// Open suspense items by kind: (kind, count, Σ amount).
    pub open: Vec<(SuspenseKind, u64, Decimal)>,
}

/// The daily reconciliation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconReport {
    /// The day.
    pub day: NaiveDate,
    /// Rows per account and channel.
    pub rows: Vec<ReportRow>,
    /// Open items per age bucket: (bucket, count, Σ |amount|).
    pub aging: Vec<(AgeBucket, u64, Decimal)>,
    /// Proof: per kind, Σ open items and the suspense ledger balance.
    pub proof: Vec<(SuspenseKind, Decimal, Decimal)>,
}

impl ReconReport {
    /// Whether every suspense ledger balance equals its open items.
    pub fn proof_holds(&self) -> bool {
        self.proof.iter().all(|(_, items, ledger)| items == ledger)
    }
}

/// What a resolution did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SuspenseOutcome {
    /// Written off; the ledger transfer that did it.
    Resolved {
        /// The transfer (none for a match that books nothing new).
        transfer_id: Option<Uuid>,
    },
    /// Worked on (recovery opened, explained), still in suspense.
    Worked,
    /// Waiting for approvals.
    Proposed {
        /// The proposal.
        proposal_id: Uuid,
    },
    /// An approval recorded; another is still needed.
    Approved,
    /// Rejected.
    Rejected,
}

/// Listed items per drift group (the group's count and total cover all of them).
pub const DRIFT_ITEMS_SHOWN: u32 = 20;

stored_code! {
    /// What explains part of the difference between a statement's closing balance
    /// and the ledger's asset mirror of its physical account at the statement's
    /// end. Positive: the bank has it, the ledger (as of that day) does not.
    pub enum DriftKind {
        /// The opening balance against the ledger at the end of the day before
        /// the statement (what the previous day's proof explains).
        OpeningDifference => "opening_difference",
        /// The statement does not add up by this much, acknowledged at import.
        AcknowledgedDifference => "acknowledged_difference",
        /// A line not reconciled yet (open, suggested or ambiguous).
        Unreconciled => "unreconciled",
        /// A line also on another statement (a duplicate), never reconciled.
        Duplicate => "duplicate",
        /// A line whose ledger posting is dated after the statement's end.
        PostedLater => "posted_later",
        /// A line whose ledger posting is dated before the statement's start.
        PostedEarlier => "posted_earlier",
        /// Money of our orders and refunds matched to a line: the order system
        /// books it, this ledger never posts it to the asset mirror.
        OutsideLedger => "outside_ledger",
        /// A line of another statement in the same match (counted there).
        OtherStatementLine => "other_statement_line",
        /// A line's amount against what the ledger booked for it.
        DiffersFromLedger => "differs_from_ledger",
        /// A bank notice booked on the statement's days that none of its lines
        /// reconciles (not on this statement, or its line is still open).
        NoticeNotOnStatement => "notice_not_on_statement",
        /// Our item the bank never paid (shortage, one-sided), parked on the
        /// statement's days: its order money is booked outside this ledger.
        OurItemShort => "our_item_short",
        /// A fee difference parked on the statement's days.
        FeeDifference => "fee_difference",
        /// Other money parked on the statement's days with no statement line (a
        /// return the bank refused).
        ParkedWithoutLine => "parked_without_line",
        /// Money returned to a payer on the statement's days, not on a statement yet.
        ReturnedToPayer => "returned_to_payer",
        /// A parked item matched by hand to our orders on the statement's days.
        ManualMatch => "manual_match",
        /// A reconciliation posting or its reversal (unmatched, resent statement).
        Reversal => "reversal",
        /// Any other ledger posting on the asset mirror (tender refunds, openings,
        /// operations of the sub-accounts area).
        LedgerPosting => "ledger_posting",
    }
}

/// One thing that explains part of a statement's difference from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftItem {
    /// Bank reference, our reference, statement id or posting key.
    pub reference: String,
    /// The business day of the posting, where there is one.
    pub day: Option<NaiveDate>,
    /// Signed amount (bank side: positive when the bank has more).
    pub amount: Decimal,
}

/// The drift of one kind: count and total of all, the largest listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftGroup {
    /// What it is.
    pub kind: DriftKind,
    /// How many.
    pub count: u64,
    /// Σ of all of them.
    pub total: Decimal,
    /// The largest, at most [`DRIFT_ITEMS_SHOWN`].
    pub items: Vec<DriftItem>,
}

/// Proof that a statement's closing balance equals the ledger's balance of the
/// physical account's asset mirror at the statement's end plus the itemised drift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementProof {
    /// Physical account number (masked).
    pub account: String,
    /// The bank's statement id.
    pub statement: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Opening balance, when the statement has one.
    pub opening: Option<Decimal>,
    /// Closing balance, when the statement has one.
    pub closing: Option<Decimal>,
    /// The asset mirror: Σ of its entries dated up to `to`.
    pub ledger: Decimal,
    /// What explains the difference, by kind.
    pub drift: Vec<DriftGroup>,
    /// Σ drift.
    pub explained: Decimal,
    /// closing − ledger − Σ drift (`None` without balances).
    pub unexplained: Option<Decimal>,
}

impl StatementProof {
    /// Whether closing = ledger + Σ drift.
    pub fn holds(&self) -> bool {
        self.unexplained.is_some_and(|u| u.is_zero())
    }
}

/// Why the report shows the day it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportDaySource {
    /// The day asked for.
    Asked,
    /// No day asked: the latest day a reconciliation ran for.
    LatestRun,
    /// No day asked and no run yet: yesterday.
    Yesterday,
}

/// Facts of a closed day that nothing the console does may change afterwards:
/// compared between the snapshot and the database to find edits behind its back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedFacts {
    /// The day's statements (those imported before the close).
    pub statements: Vec<StatementFacts>,
    /// The day's matches, per status.
    pub matches: Vec<MatchFacts>,
    /// Items found on the day (before the close), per kind.
    pub found: Vec<FoundFacts>,
}

/// A statement's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementFacts {
    /// Physical account number (masked).
    pub account: String,
    /// The bank's statement id.
    pub statement: String,
    /// Opening.
    pub opening: Option<Decimal>,
    /// Closing.
    pub closing: Option<Decimal>,
    /// Lines.
    pub lines: u64,
    /// Σ lines.
    pub sum: Decimal,
    /// SHA-256 over every line's position, reference, amount and day.
    pub digest: String,
    /// The statement proof's unexplained remainder.
    pub unexplained: Option<Decimal>,
}

impl StatementFacts {
    /// How differences name it.
    pub fn reference(&self) -> String {
        format!("{} {}", self.account, self.statement)
    }
}

/// The day's matches of one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchFacts {
    /// Stored status code (`suggested`, `confirmed`, `reversed`).
    pub status: String,
    /// How many.
    pub count: u64,
    /// Σ differences.
    pub difference: Decimal,
    /// Σ of their parts (lines and items).
    pub parts: Decimal,
}

/// Items of one kind found on the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundFacts {
    /// Kind.
    pub kind: SuspenseKind,
    /// How many.
    pub count: u64,
    /// Σ signed amounts.
    pub amount: Decimal,
}

stored_code! {
    /// A closed-day fact that differs between the snapshot and the database.
    pub enum ClosedFact {
        /// A statement is there on one side only.
        Statement => "statement",
        /// Its opening balance.
        Opening => "opening",
        /// Its closing balance.
        Closing => "closing",
        /// Its number of lines.
        Lines => "lines",
        /// Σ of its lines.
        LinesSum => "lines_sum",
        /// Its lines' digest (a reference, amount, day or order changed).
        LinesDigest => "lines_digest",
        /// Its proof's unexplained remainder.
        ProofRemainder => "proof_remainder",
        /// The number of the day's matches of a status.
        Matches => "matches",
        /// Σ differences of those matches.
        MatchesDifference => "matches_difference",
        /// Σ parts of those matches.
        MatchesParts => "matches_parts",
        /// The number of items of a kind found on the day.
        Found => "found",
        /// Σ of those items.
        FoundAmount => "found_amount",
    }
}

/// A fact's value on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "value", content = "of", rename_all = "snake_case")]
pub enum FactValue {
    /// Not there.
    Missing,
    /// A count.
    Count(u64),
    /// An amount.
    Amount(Decimal),
    /// A digest (hex).
    Digest(String),
}

/// Where the database now differs from a closed day's snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotDifference {
    /// Which fact.
    pub fact: ClosedFact,
    /// Of what: a statement (`account statement-id`), a match status code or a
    /// suspense kind code.
    pub reference: String,
    /// In the snapshot.
    pub snapshot: FactValue,
    /// In the database now.
    pub live: FactValue,
}

impl ClosedFacts {
    /// Every fact that differs from `live` (snapshot first, then what only the
    /// database has).
    pub fn differences(&self, live: &ClosedFacts) -> Vec<SnapshotDifference> {
        let mut out = Vec::new();
        let mut push = |fact, reference: &str, snapshot: FactValue, now: FactValue| {
            if snapshot != now {
                out.push(SnapshotDifference { fact, reference: reference.to_owned(), snapshot, live: now });
            }
        };
        let amount = |a: Option<Decimal>| a.map_or(FactValue::Missing, FactValue::Amount);
        for s in &self.statements {
            let r = s.reference();
            match live.statements.iter().find(|l| l.account == s.account && l.statement == s.statement) {
                None => push(ClosedFact::Statement, &r, FactValue::Count(1), FactValue::Missing),
                Some(l) => {
                    push(ClosedFact::Opening, &r, amount(s.opening), amount(l.opening));
                    push(ClosedFact::Closing, &r, amount(s.closing), amount(l.closing));
                    push(ClosedFact::Lines, &r, FactValue::Count(s.lines), FactValue::Count(l.lines));
                    push(ClosedFact::LinesSum, &r, FactValue::Amount(s.sum), FactValue::Amount(l.sum));
                    push(
                        ClosedFact::LinesDigest,
                        &r,
                        FactValue::Digest(s.digest.clone()),
                        FactValue::Digest(l.digest.clone()),
                    );
                    push(ClosedFact::ProofRemainder, &r, amount(s.unexplained), amount(l.unexplained));
                }
            }
        }
        for l in &live.statements {
            if !self.statements.iter().any(|s| s.account == l.account && s.statement == l.statement) {
                push(ClosedFact::Statement, &l.reference(), FactValue::Missing, FactValue::Count(1));
            }
        }
        let zero =
            MatchFacts { status: String::new(), count: 0, difference: Decimal::ZERO, parts: Decimal::ZERO };
        let mut statuses: Vec<&str> =
            self.matches.iter().chain(&live.matches).map(|m| m.status.as_str()).collect();
        statuses.sort_unstable();
        statuses.dedup();
        for status in statuses {
            let then = self.matches.iter().find(|m| m.status == status).unwrap_or(&zero);
            let now = live.matches.iter().find(|m| m.status == status).unwrap_or(&zero);
            push(ClosedFact::Matches, status, FactValue::Count(then.count), FactValue::Count(now.count));
            push(
                ClosedFact::MatchesDifference,
                status,
                FactValue::Amount(then.difference),
                FactValue::Amount(now.difference),
            );
            push(
                ClosedFact::MatchesParts,
                status,
                FactValue::Amount(then.parts),
                FactValue::Amount(now.parts),
            );
        }
        for kind in SuspenseKind::ALL {
            let of = |f: &ClosedFacts| {
                f.found.iter().find(|x| x.kind == kind).map_or((0, Decimal::ZERO), |x| (x.count, x.amount))
            };
            let (then, now) = (of(self), of(live));
            push(ClosedFact::Found, kind.as_str(), FactValue::Count(then.0), FactValue::Count(now.0));
            push(ClosedFact::FoundAmount, kind.as_str(), FactValue::Amount(then.1), FactValue::Amount(now.1));
        }
        out
    }
}

/// What a day's close stores: the report as shown at the close, its statement
/// proofs, and the facts later compared with the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSnapshot {
    /// The report.
    pub report: ReconReport,
    /// The statement proofs.
    pub statements: Vec<StatementProof>,
    /// The closed day's facts.
    pub facts: ClosedFacts,
}

/// The check of a closed day's stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCheck {
    /// SHA-256 of the stored snapshot, as the close's audit row records it.
    pub sha256: String,
    /// Whether the stored snapshot still hashes to it (and the audit row agrees).
    pub intact: bool,
    /// Where the database now differs from the snapshot's facts.
    pub differences: Vec<SnapshotDifference>,
}

/// A closed day: who closed it, when, and its snapshot's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedDay {
    /// Who closed it.
    pub closed_by: String,
    /// When.
    pub closed_at: DateTime<Utc>,
    /// The snapshot's check; `None`: closed before snapshots were kept, the
    /// figures shown are live.
    pub snapshot: Option<SnapshotCheck>,
}

/// The daily report as the report screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayReport {
    /// The day shown.
    pub day: NaiveDate,
    /// Why that day.
    pub source: ReportDaySource,
    /// Rows, aging and the suspense proof (the snapshot's, for a closed day).
    pub report: ReconReport,
    /// One proof per statement ending on the day (the snapshot's, for a closed day).
    pub statements: Vec<StatementProof>,
    /// Set when the day is closed.
    pub closed: Option<ClosedDay>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> ClosedFacts {
        ClosedFacts {
            statements: vec![StatementFacts {
                account: "6688****0001".into(),
                statement: "STMT-1".into(),
                opening: Some(Decimal::new(10_000, 2)),
                closing: Some(Decimal::new(15_000, 2)),
                lines: 2,
                sum: Decimal::new(5_000, 2),
                digest: "ab12".into(),
                unexplained: Some(Decimal::ZERO),
            }],
            matches: vec![MatchFacts {
                status: "confirmed".into(),
                count: 1,
                difference: Decimal::ZERO,
                parts: Decimal::new(10_000, 2),
            }],
            found: vec![FoundFacts { kind: SuspenseKind::Overage, count: 1, amount: Decimal::new(2_000, 2) }],
        }
    }

    #[test]
    fn a_closed_day_differs_only_where_a_fact_moved() {
        let snapshot = facts();
        assert!(snapshot.differences(&facts()).is_empty());
        let mut live = facts();
        live.statements[0].sum = Decimal::new(5_100, 2);
        live.statements[0].digest = "cd34".into();
        live.matches[0].status = "reversed".into();
        live.found.clear();
        live.statements.push(StatementFacts { statement: "STMT-2".into(), ..facts().statements[0].clone() });
        let found: Vec<(ClosedFact, String)> =
            snapshot.differences(&live).into_iter().map(|d| (d.fact, d.reference)).collect();
        let s1 = "6688****0001 STMT-1".to_owned();
        assert_eq!(
            found,
            vec![
                (ClosedFact::LinesSum, s1.clone()),
                (ClosedFact::LinesDigest, s1),
                (ClosedFact::Statement, "6688****0001 STMT-2".into()),
                (ClosedFact::Matches, "confirmed".into()),
                (ClosedFact::MatchesParts, "confirmed".into()),
                (ClosedFact::Matches, "reversed".into()),
                (ClosedFact::MatchesParts, "reversed".into()),
                (ClosedFact::Found, "overage".into()),
                (ClosedFact::FoundAmount, "overage".into()),
            ]
        );
    }

    #[test]
    fn a_statement_proof_holds_only_with_nothing_unexplained() {
        let proof = |unexplained| StatementProof {
            account: String::new(),
            statement: String::new(),
            from: NaiveDate::MIN,
            to: NaiveDate::MIN,
            opening: None,
            closing: None,
            ledger: Decimal::ZERO,
            drift: Vec::new(),
            explained: Decimal::ZERO,
            unexplained,
        };
        assert!(proof(Some(Decimal::ZERO)).holds());
        assert!(!proof(Some(Decimal::new(-1, 2))).holds());
        assert!(!proof(None).holds(), "without balances there is nothing to prove");
    }
}
