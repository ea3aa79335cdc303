//! What the ledger's storage reads and writes: physical accounts, virtual nodes with
//! their balances, transfers to post and what posting did, holds, proposals, and
//! the shard and business-day helpers.

use chrono::{DateTime, NaiveDate, Utc};
use domain::ledger::{AccountKind, Bank, OwnerKind, TransferKind, VirtualPurpose, VirtualStatus};
use uuid::Uuid;

/// Shards per hot total.
pub const SHARDS: i32 = 16;

/// The shard a transfer's updates of hot totals go to (UUIDv7 ends in random bits).
pub fn shard_of(transfer_id: Uuid) -> i32 {
    (transfer_id.as_u128() % SHARDS as u128) as i32
}

/// The Beijing business date of `at` as days from the common era (what
/// `transfer_lines.business_day` stores).
pub fn business_day(at: DateTime<Utc>) -> i32 {
    use chrono::Datelike;
    domain::ledger::business_date(at).num_days_from_ce()
}

/// A date as days from the common era.
pub fn day_number(date: NaiveDate) -> i32 {
    use chrono::Datelike;
    date.num_days_from_ce()
}

/// A new physical account with its four ledger accounts' ids.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPhysical {
    /// Id.
    pub id: Uuid,
    /// Bank.
    pub bank: Bank,
    /// Account number at the bank.
    pub number: String,
    /// Purpose.
    pub purpose: String,
    /// 监管户.
    pub supervised: bool,
    /// Suffix digits of its virtual numbers.
    pub suffix_len: u8,
    /// Asset mirror.
    pub asset_account: Uuid,
    /// Platform's own money.
    pub main_account: Uuid,
    /// 待识别入账.
    pub suspense_account: Uuid,
    /// Interest not yet allocated.
    pub interest_account: Uuid,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A physical account as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PhysicalRow {
    /// Id.
    pub id: Uuid,
    /// Bank.
    #[sqlx(try_from = "String")]
    pub bank: Bank,
    /// Number at the bank.
    pub number: String,
    /// Purpose.
    pub purpose: String,
    /// 监管户.
    pub supervised: bool,
    /// Suffix digits.
    pub suffix_len: i32,
    /// Asset mirror.
    pub asset_account: Uuid,
    /// Main (internal).
    pub main_account: Uuid,
    /// Suspense.
    pub suspense_account: Uuid,
    /// Interest pool.
    pub interest_account: Uuid,
    /// Next suffix to allocate.
    pub next_suffix: i64,
    /// Bank credit cursor.
    pub credit_cursor: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// The balances that make up a physical account's invariant (fen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhysicalTotals {
    /// The asset mirror (debit-normal).
    pub asset_minor: i64,
    /// Σ own balances of virtual accounts (credit-normal).
    pub virtual_minor: i64,
    /// Suspense.
    pub suspense_minor: i64,
    /// Main + interest pool.
    pub internal_minor: i64,
    /// Interest pool alone (unallocated interest).
    pub interest_minor: i64,
    /// Virtual accounts not closed.
    pub virtual_count: i64,
}

/// A new virtual sub-account; the store allocates its number.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVirtual {
    /// Id (also its ledger account's).
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Parent node.
    pub parent_id: Option<Uuid>,
    /// Owner kind.
    pub owner_kind: OwnerKind,
    /// Customer/user id.
    pub owner_id: Option<Uuid>,
    /// Display name (merchants, internal) or the customer's name.
    pub owner_name: String,
    /// Purpose.
    pub purpose: VirtualPurpose,
    /// Opened.
    pub opened_at: DateTime<Utc>,
}

/// A virtual node with its balances.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VirtualRow {
    /// Id.
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Parent.
    pub parent_id: Option<Uuid>,
    /// Ancestors (hex ids, root first, `/`-separated).
    pub path: String,
    /// Depth (0 at the top).
    pub depth: i32,
    /// Virtual number.
    pub number: String,
    /// Suffix.
    pub suffix: i64,
    /// Owner kind.
    #[sqlx(try_from = "String")]
    pub owner_kind: OwnerKind,
    /// Owner id.
    pub owner_id: Option<Uuid>,
    /// Owner name.
    pub owner_name: String,
    /// Purpose.
    #[sqlx(try_from = "String")]
    pub purpose: VirtualPurpose,
    /// Status.
    #[sqlx(try_from = "String")]
    pub status: VirtualStatus,
    /// Direct children.
    pub child_count: i32,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Debits posted.
    pub debits_minor: i64,
    /// Credits posted.
    pub credits_minor: i64,
    /// Held by pending holds.
    pub held_minor: i64,
    /// What descendants add to the subtree.
    pub subtree_extra_minor: i64,
}

impl VirtualRow {
    /// Own balance (credit-normal).
    pub fn own_minor(&self) -> i64 {
        self.credits_minor - self.debits_minor
    }

    /// Own + descendants.
    pub fn subtree_minor(&self) -> i64 {
        self.own_minor() + self.subtree_extra_minor
    }

    /// The ancestors' ids, root first.
    pub fn ancestors(&self) -> Vec<Uuid> {
        parse_path(&self.path)
    }
}

/// Ancestor ids from a stored path.
pub fn parse_path(path: &str) -> Vec<Uuid> {
    path.split('/').filter(|p| !p.is_empty()).filter_map(|p| Uuid::try_parse(p).ok()).collect()
}

/// A transfer to post: lines are (account, amount) with debits positive.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTransferRow {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// Kind.
    pub kind: TransferKind,
    /// Idempotency key (unique).
    pub idempotency_key: String,
    /// Reversed transfer.
    pub reverses: Option<Uuid>,
    /// Physical account it belongs to.
    pub physical_id: Uuid,
    /// Memo.
    pub memo: String,
    /// Operator (or `system`).
    pub posted_by: String,
    /// When.
    pub posted_at: DateTime<Utc>,
    /// Lines (sum zero, checked by the domain before).
    pub lines: Vec<(Uuid, i64)>,
}

impl NewTransferRow {
    /// A digest of what the transfer does (kind, lines, reversal link): a repeated
    /// key with another body is refused.
    pub fn body_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut lines = self.lines.clone();
        lines.sort();
        let mut h = Sha256::new();
        h.update(self.kind.as_str());
        h.update(self.reverses.map(|r| r.to_string()).unwrap_or_default());
        for (account, amount) in lines {
            h.update(account.as_bytes());
            h.update(amount.to_le_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// What posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostOutcome {
    /// Posted under this id.
    New(Uuid),
    /// The key was used before for the same body: the first transfer's id.
    Repeat(Uuid),
}

impl PostOutcome {
    /// The transfer's id either way.
    pub fn id(self) -> Uuid {
        match self {
            Self::New(id) | Self::Repeat(id) => id,
        }
    }
}

/// A checker's approval taken in the same transaction as the posting: the
/// proposal must still be pending and not the checker's own.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalGuard {
    /// Proposal.
    pub proposal_id: Uuid,
    /// Checker.
    pub checker: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A bank credit notice, booked with its transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct BankCreditRow {
    /// Id.
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Bank reference (unique per physical account).
    pub bank_ref: String,
    /// Number the payer used.
    pub number: String,
    /// Amount.
    pub amount_minor: i64,
    /// Payer.
    pub payer: String,
    /// When the bank received it.
    pub received_at: DateTime<Utc>,
    /// The notice as received.
    pub raw: String,
    /// `credited` or `unidentified`.
    pub outcome: String,
    /// Why unidentified.
    pub reason: Option<String>,
    /// The credited account.
    pub account_id: Option<Uuid>,
}

/// Extra effects taken in the posting's transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostWith {
    /// A checker's approval.
    pub approval: Option<ProposalGuard>,
    /// The bank notice behind the transfer.
    pub credit: Option<BankCreditRow>,
    /// A new bank cursor for the physical account.
    pub cursor: Option<(Uuid, String)>,
    /// Part of a pending hold this transfer pays out (`hold`, fen): the hold
    /// shrinks by it (posted when nothing remains) before the debit is checked.
    pub hold: Option<(Uuid, i64)>,
}

/// One line on an account with the balance after it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EntryRow {
    /// Transfer.
    pub transfer_id: Uuid,
    /// Kind.
    #[sqlx(try_from = "String")]
    pub kind: TransferKind,
    /// Posted.
    pub posted_at: DateTime<Utc>,
    /// Debit positive.
    pub amount_minor: i64,
    /// Running Σ of amounts up to and including this line (debit positive).
    pub running_minor: i64,
    /// Memo.
    pub memo: String,
    /// Reversed transfer.
    pub reverses: Option<Uuid>,
    /// Whether a later transfer reverses this one.
    pub reversed: bool,
    /// The other side's number or role.
    pub counterparty: Option<String>,
}

/// A hold as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HoldRow {
    /// Id.
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// First reserved.
    pub amount_minor: i64,
    /// Still reserved.
    pub remaining_minor: i64,
    /// Status.
    #[sqlx(try_from = "String")]
    pub status: domain::ledger::HoldStatus,
    /// Why.
    pub reason: String,
    /// Runs out.
    pub expires_at: Option<DateTime<Utc>>,
    /// By.
    pub placed_by: String,
    /// When.
    pub placed_at: DateTime<Utc>,
}

/// A stored proposal.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProposalRow {
    /// Id.
    pub id: Uuid,
    /// The operation, JSON.
    pub operation: String,
    /// Its amount (for the threshold and the list).
    pub amount_minor: i64,
    /// Maker.
    pub proposed_by: String,
    /// When.
    pub proposed_at: DateTime<Utc>,
    /// pending / approved / rejected.
    pub status: String,
}

/// A ledger account's kind and flags, as postings need them.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LedgerAccountRow {
    /// Id.
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// Kind.
    #[sqlx(try_from = "String")]
    pub kind: AccountKind,
    /// asset / main / suspense / interest / virtual.
    pub role: String,
    /// Flag bits.
    pub flags: i32,
    /// Totals kept in shards.
    pub sharded: bool,
}
