//! What the 虚拟子账户 (virtual sub-account) screens receive: physical accounts with
//! the state of their invariant, tree pages, a sub-account with its holds, entry
//! pages with running balances, the proof, interest previews and close checks.
//! Amounts cross IPC as `Decimal` yuan; storage keeps integer fen.

use crate::ledger::{
    AccountId, Bank, CloseBlocker, HoldId, HoldStatus, OwnerKind, TransferId, TransferKind, VirtualPurpose,
    VirtualStatus,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A physical bank account and what the ledger says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhysicalAccountView {
    /// Id.
    pub id: Uuid,
    /// Bank.
    pub bank: Bank,
    /// Account number, masked.
    pub number_masked: String,
    /// What it is for (free text from the bank relationship, e.g. 平台备付金).
    pub purpose: String,
    /// A supervised account (监管户).
    pub supervised: bool,
    /// Digits of the suffix of its virtual numbers.
    pub suffix_len: u8,
    /// The ledger balance of the physical account (asset side).
    pub ledger_balance: Decimal,
    /// Σ own balances of its virtual accounts (customers' money).
    pub virtual_total: Decimal,
    /// Its unidentified-credits suspense (待识别入账).
    pub suspense_balance: Decimal,
    /// Its internal accounts (main account, interest pool).
    pub internal_balance: Decimal,
    /// Open virtual accounts.
    pub virtual_count: i64,
    /// The last proof: `None` never checked.
    pub last_proof: Option<ProofSummary>,
}

/// The outcome of the last recorded proof of a physical account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofSummary {
    /// When.
    pub at: DateTime<Utc>,
    /// Whether the invariant held and the bank's balance was explained.
    pub holds: bool,
}

/// Who holds a virtual account, masked for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerView {
    /// Kind.
    pub kind: OwnerKind,
    /// The customer/user id, if any.
    pub id: Option<Uuid>,
    /// Display name, masked for people (e.g. 张*), clear for merchants and internal.
    pub name_masked: String,
}

/// One node of a virtual tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualNodeView {
    /// The node's ledger account.
    pub id: AccountId,
    /// Its physical account.
    pub physical_id: Uuid,
    /// Parent node.
    pub parent: Option<AccountId>,
    /// The virtual number (physical number + suffix + check digit), masked in its
    /// physical part.
    pub number: String,
    /// Owner.
    pub owner: OwnerView,
    /// Purpose.
    pub purpose: VirtualPurpose,
    /// Status.
    pub status: VirtualStatus,
    /// Own balance (posted, normal side).
    pub own_balance: Decimal,
    /// Own + every descendant.
    pub subtree_balance: Decimal,
    /// Frozen by pending holds.
    pub held: Decimal,
    /// Own balance − holds.
    pub available: Decimal,
    /// Direct children.
    pub child_count: i64,
    /// Opened.
    pub opened_at: DateTime<Utc>,
}

/// A page of tree nodes (children of one node, or search hits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreePage {
    /// The nodes, by virtual number.
    pub nodes: Vec<VirtualNodeView>,
    /// Pass as `after` for the next page; `None` at the end.
    pub next_after: Option<String>,
}

/// A hold (冻结) on a virtual account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldView {
    /// Id.
    pub id: HoldId,
    /// Amount still reserved.
    pub remaining: Decimal,
    /// Amount first reserved.
    pub amount: Decimal,
    /// State now.
    pub status: HoldStatus,
    /// Why (typed by the operator; shown as typed).
    pub reason: String,
    /// When it runs out.
    pub expires_at: Option<DateTime<Utc>>,
    /// Placed.
    pub placed_at: DateTime<Utc>,
    /// By.
    pub placed_by: String,
}

/// A sub-account with everything the detail screen shows at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubAccountDetail {
    /// The node.
    pub node: VirtualNodeView,
    /// Its holds, newest first.
    pub holds: Vec<HoldView>,
    /// Previous holders of this number (closed accounts with the same number).
    pub previous_holders: Vec<OwnerView>,
}

/// One ledger line on a sub-account, with the balance after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    /// The transfer.
    pub transfer_id: TransferId,
    /// Posted.
    pub at: DateTime<Utc>,
    /// Kind.
    pub kind: TransferKind,
    /// Signed on the account's normal side: positive grows the balance.
    pub amount: Decimal,
    /// Balance after this entry.
    pub balance_after: Decimal,
    /// The other side (virtual number or account name), if one.
    pub counterparty: String,
    /// The transfer this one reverses.
    pub reverses: Option<TransferId>,
    /// Whether a later transfer reverses this one.
    pub reversed: bool,
    /// Note or bank reference.
    pub memo: String,
}

/// A page of entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryPage {
    /// Entries.
    pub entries: Vec<EntryView>,
    /// Pass as `before` for the next (older) page.
    pub next_before: Option<TransferId>,
}

/// End-of-day balance, for the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayBalanceView {
    /// Business date (Beijing).
    pub date: NaiveDate,
    /// Balance at the end of it.
    pub balance: Decimal,
}

/// Filters of the entry list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryFilter {
    /// From this business date (inclusive).
    pub from: Option<NaiveDate>,
    /// To this business date (inclusive).
    pub to: Option<NaiveDate>,
    /// Only this kind.
    pub kind: Option<TransferKind>,
}

/// What happened to one bank credit notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CreditOutcome {
    /// Credited to the addressed sub-account.
    Credited {
        /// The account.
        account: AccountId,
    },
    /// Parked in 待识别入账 (unknown, closed or credit-blocked number).
    Unidentified {
        /// Why.
        reason: UnidentifiedReason,
    },
    /// Seen before (same bank reference): nothing posted again.
    Repeat,
}

stored_code! {
    /// Why a credit could not be given to the number it names.
    pub enum UnidentifiedReason {
        /// No virtual account has that number.
        UnknownNumber => "unknown_number",
        /// The check digit is wrong (a typo by the payer).
        BadCheckDigit => "bad_check_digit",
        /// The number's account is closed or quarantined.
        Closed => "closed",
        /// The account takes no credits (frozen for credits, closing).
        CreditBlocked => "credit_blocked",
        /// It names another physical account's numbering.
        OtherAccount => "other_account",
    }
}

/// What a bank poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollSummary {
    /// Credited to sub-accounts.
    pub credited: u32,
    /// Parked in 待识别入账.
    pub unidentified: u32,
    /// Already seen.
    pub repeated: u32,
}

/// Drift between the bank and the ledger, itemised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofView {
    /// The physical account.
    pub physical_id: Uuid,
    /// When checked.
    pub at: DateTime<Utc>,
    /// The bank's reported balance (`None`: the bank did not answer).
    pub bank_balance: Option<Decimal>,
    /// The ledger's balance of the physical account.
    pub ledger_balance: Decimal,
    /// Σ own balances of virtual accounts.
    pub virtual_total: Decimal,
    /// Suspense (待识别入账).
    pub suspense_balance: Decimal,
    /// Internal accounts.
    pub internal_balance: Decimal,
    /// ledger − (virtual + suspense + internal): zero when the invariant holds.
    pub invariant_difference: Decimal,
    /// Σ per-node subtree checks that failed.
    pub rollup_breaks: u32,
    /// Accounts whose stored balance differs from the replay of their entries.
    pub replay_breaks: u32,
    /// bank − ledger.
    pub bank_difference: Option<Decimal>,
    /// Credits the bank has booked that the console has not fetched yet.
    pub credits_in_transit: Decimal,
    /// What the itemised drift does not explain: bank − ledger − in transit.
    pub unexplained: Option<Decimal>,
    /// Interest the bank credited that is not yet allocated.
    pub unallocated_interest: Decimal,
    /// Whether everything holds.
    pub holds: bool,
}

/// The preview of an interest allocation, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestPreviewView {
    /// The physical account.
    pub physical_id: Uuid,
    /// First day (inclusive).
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Interest to allocate.
    pub interest: Decimal,
    /// Σ of the shares (equals `interest`).
    pub allocated: Decimal,
    /// Accounts with a share, largest first (at most 200 shown).
    pub lines: Vec<InterestShareView>,
    /// Accounts with a share.
    pub account_count: u32,
    /// A digest of the preview; posting names it, so what was previewed is posted.
    pub digest: String,
}

/// One account's share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestShareView {
    /// Account.
    pub account: AccountId,
    /// Its virtual number.
    pub number: String,
    /// Its day-weighted balance (积数, yuan·days).
    pub product: Decimal,
    /// Its share.
    pub share: Decimal,
}

/// An operation waiting for a checker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VamProposalView {
    /// Id.
    pub id: Uuid,
    /// What (the request the maker sent).
    pub operation: crate::api::VamOperation,
    /// Maker.
    pub proposed_by: String,
    /// When.
    pub proposed_at: DateTime<Utc>,
}

/// Outcome of an operation that may need a checker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum VamOutcome {
    /// Posted now.
    Posted {
        /// The transfer (or the hold, for freezes).
        id: Uuid,
    },
    /// Waiting for a second person (above the threshold, or always for manual credits).
    Proposed {
        /// The proposal.
        proposal_id: Uuid,
    },
    /// A credit notice's outcome.
    Credit(CreditOutcome),
    /// Closed.
    Closed,
    /// The proposal was rejected: nothing posted.
    Rejected,
    /// Not closed: every blocker.
    Blocked {
        /// What stands in the way.
        blockers: Vec<CloseBlocker>,
    },
}

stored_code! {
    /// A physical account's own ledger accounts, as a preview names them.
    pub enum PoolRole {
        /// The asset mirror of the bank balance.
        Asset => "asset",
        /// The platform's own money in the physical account.
        Main => "main",
        /// 待识别入账.
        Suspense => "suspense",
        /// Interest credited, not yet allocated.
        Interest => "interest",
    }
}

/// Which account a preview line is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PreviewAccount {
    /// A sub-account, by its (masked) number.
    SubAccount {
        /// The account.
        id: AccountId,
        /// Its number as shown.
        number: String,
    },
    /// One of the physical account's own accounts.
    Pool {
        /// Which.
        role: PoolRole,
    },
}

/// One account an operation would change, before and after (on its normal side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewLine {
    /// The account.
    pub account: PreviewAccount,
    /// Balance now.
    pub before: Decimal,
    /// What the operation adds (negative: takes).
    pub change: Decimal,
    /// Balance after.
    pub after: Decimal,
    /// Available (balance − holds) after, for sub-accounts.
    pub available_after: Option<Decimal>,
}

/// What an operation touching several accounts would do, without doing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationPreview {
    /// Every account it changes.
    pub lines: Vec<PreviewLine>,
    /// Whether it would wait for a checker.
    pub needs_checker: bool,
    /// Whether a sub-account would be short (available below zero): it would be refused.
    pub short: bool,
    /// What stands in the way (a tender with a frozen deposit).
    pub blockers: Vec<CloseBlocker>,
}
