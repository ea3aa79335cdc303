//! Storage of the ledger under virtual sub-accounts (虚拟子账户): physical accounts,
//! the virtual tree, transfers (append-only, idempotent), holds, bank credit
//! notices, proposals and proofs.
//!
//! Hot rows: every credit to a sub-account also moves the physical account's asset
//! mirror and every ancestor's subtree total. Those totals are **sharded**
//! (`balance_shards`, `subtree_shards`: 16 rows per account, the shard picked by the
//! transfer id), so concurrent postings rarely wait on one row; a sub-account's own
//! balance is one row, checked and moved in one conditional `UPDATE`. Updates are
//! made in account-id order so two postings never lock in opposite orders.
//!
//! Like `cases/`, the SQL is one `macro_rules!` body expanded per database.

mod sql;

use crate::{NewAudit, PgStore, Result, SqliteStore};
use async_trait::async_trait;
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

/// Storage of virtual sub-accounts and their ledger (a supertrait of [`crate::Store`]).
#[async_trait]
pub trait VamStore: Send + Sync {
    /// Creates a physical account and its four ledger accounts.
    async fn create_physical(&self, p: &NewPhysical, audit: NewAudit) -> Result<()>;
    /// Every physical account.
    async fn physical_accounts(&self) -> Result<Vec<PhysicalRow>>;
    /// One physical account.
    async fn physical(&self, id: Uuid) -> Result<Option<PhysicalRow>>;
    /// The balances of a physical account's invariant.
    async fn physical_totals(&self, id: Uuid) -> Result<PhysicalTotals>;
    /// Opens a virtual account (allocating its number, or reusing one whose
    /// quarantine has passed for bid deposits); returns the number.
    async fn open_virtual(&self, v: &NewVirtual, today: NaiveDate, audit: NewAudit) -> Result<String>;
    /// Children of `parent` (top level when `None`) after `after`, by number.
    async fn virtual_children(
        &self,
        physical_id: Uuid,
        parent: Option<Uuid>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<VirtualRow>>;
    /// Sub-accounts by number (exact or suffix), owner name, or owner id.
    async fn search_virtual(
        &self,
        number_like: &str,
        owner_ids: &[Uuid],
        limit: u32,
    ) -> Result<Vec<VirtualRow>>;
    /// One node.
    async fn virtual_node(&self, id: Uuid) -> Result<Option<VirtualRow>>;
    /// The live node with this number.
    async fn virtual_by_number(&self, number: &str) -> Result<Option<VirtualRow>>;
    /// Closed nodes that had this number, newest first.
    async fn previous_holders(&self, number: &str, except: Uuid) -> Result<Vec<VirtualRow>>;
    /// Ledger accounts by id.
    async fn ledger_accounts(&self, ids: &[Uuid]) -> Result<Vec<LedgerAccountRow>>;
    /// Posts a transfer with its audit row (and `with`) in one transaction.
    async fn post_transfer(&self, t: &NewTransferRow, with: PostWith, audit: NewAudit)
    -> Result<PostOutcome>;
    /// Posts several transfers in one transaction (all or none), each with its
    /// audit row; a repeated key is skipped and answers the first transfer's id.
    async fn post_transfers(
        &self,
        batch: Vec<(NewTransferRow, PostWith, NewAudit)>,
    ) -> Result<Vec<PostOutcome>>;
    /// A transfer's lines (account, amount) and kind.
    async fn transfer_lines(&self, id: Uuid) -> Result<Option<(TransferKind, Uuid, Vec<(Uuid, i64)>)>>;
    /// Entries of an account, newest first, older than `before`.
    async fn entries(
        &self,
        account: Uuid,
        from_day: Option<i32>,
        to_day: Option<i32>,
        kind: Option<TransferKind>,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<EntryRow>>;
    /// (business day, Σ amounts that day) of an account up to `to_day`, plus the Σ before `from_day`.
    async fn day_sums(&self, account: Uuid, from_day: i32, to_day: i32) -> Result<(i64, Vec<(i32, i64)>)>;
    /// Places a hold if the available balance allows (one statement).
    async fn place_hold(&self, h: &HoldRow, audit: NewAudit) -> Result<()>;
    /// Releases `amount_minor` of a pending hold (all of it voids the hold), taking
    /// a checker's approval in the same transaction when given.
    async fn release_hold(
        &self,
        hold: Uuid,
        amount_minor: i64,
        now: DateTime<Utc>,
        approval: Option<&ProposalGuard>,
        audit: NewAudit,
    ) -> Result<()>;
    /// Ends pending holds of `account` whose time ran out.
    async fn expire_holds(&self, account: Uuid, now: DateTime<Utc>) -> Result<u64>;
    /// Holds of an account, newest first.
    async fn holds(&self, account: Uuid) -> Result<Vec<HoldRow>>;
    /// One hold.
    async fn hold(&self, id: Uuid) -> Result<Option<HoldRow>>;
    /// Closes an account if it has no balance, hold or open child (checked in the
    /// statement), with an outbox event.
    async fn close_virtual(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        reusable_from: NaiveDate,
        audit: NewAudit,
    ) -> Result<()>;
    /// Stores a proposal.
    async fn insert_proposal(&self, p: &ProposalRow, audit: NewAudit) -> Result<()>;
    /// Pending proposals, oldest first.
    async fn pending_proposals(&self) -> Result<Vec<ProposalRow>>;
    /// One proposal.
    async fn proposal(&self, id: Uuid) -> Result<Option<ProposalRow>>;
    /// Decides a proposal without posting (a rejection, or an approved non-posting
    /// operation), only if pending and not the checker's own.
    async fn decide_proposal(&self, guard: &ProposalGuard, approve: bool, audit: NewAudit) -> Result<()>;
    /// Records a proof.
    async fn record_proof(
        &self,
        physical_id: Uuid,
        at: DateTime<Utc>,
        holds: bool,
        detail: &str,
        audit: NewAudit,
    ) -> Result<()>;
    /// The latest proof of a physical account: (at, holds).
    async fn last_proof(&self, physical_id: Uuid) -> Result<Option<(DateTime<Utc>, bool)>>;
    /// Accounts of a physical account whose stored totals differ from the Σ of their lines.
    async fn replay_breaks(&self, physical_id: Uuid) -> Result<u32>;
    /// Parents whose subtree extra differs from Σ children's subtree balances.
    async fn rollup_breaks(&self, physical_id: Uuid) -> Result<u32>;
    /// Day-weighted products (fen·days) of every virtual account of a physical
    /// account over `[from_day, to_day]`, from its lines (credit-normal).
    async fn interest_products(
        &self,
        physical_id: Uuid,
        from_day: i32,
        to_day: i32,
    ) -> Result<Vec<(Uuid, i64)>>;
    /// Credit notices of a physical account still unidentified.
    async fn unidentified_count(&self, physical_id: Uuid) -> Result<i64>;
    /// Moves the bank cursor past notices that were all booked before.
    async fn set_credit_cursor(&self, physical_id: Uuid, cursor: &str) -> Result<()>;
    /// The first `limit` customers (id, name), for demo wallets.
    async fn customer_sample(&self, limit: u32) -> Result<Vec<(Uuid, String)>>;
    /// Σ debits (fen) of transfers `actor` posted since `since` that move money
    /// between accounts (transfers, sweeps, reversals, interest).
    async fn maker_total_since(&self, actor: &str, since: DateTime<Utc>) -> Result<i64>;
    /// Whether a credit notice with this bank reference is booked.
    async fn credit_booked(&self, physical_id: Uuid, bank_ref: &str) -> Result<bool>;
}

macro_rules! delegate_vam {
    ($store:ident, $m:ident) => {
        #[async_trait]
        impl VamStore for $store {
            async fn create_physical(&self, p: &NewPhysical, audit: NewAudit) -> Result<()> {
                sql::$m::create_physical(self, p, audit).await
            }
            async fn physical_accounts(&self) -> Result<Vec<PhysicalRow>> {
                sql::$m::physical_accounts(self).await
            }
            async fn physical(&self, id: Uuid) -> Result<Option<PhysicalRow>> {
                sql::$m::physical(self, id).await
            }
            async fn physical_totals(&self, id: Uuid) -> Result<PhysicalTotals> {
                sql::$m::physical_totals(self, id).await
            }
            async fn open_virtual(
                &self,
                v: &NewVirtual,
                today: NaiveDate,
                audit: NewAudit,
            ) -> Result<String> {
                sql::$m::open_virtual(self, v, today, audit).await
            }
            async fn virtual_children(
                &self,
                physical_id: Uuid,
                parent: Option<Uuid>,
                after: Option<&str>,
                limit: u32,
            ) -> Result<Vec<VirtualRow>> {
                sql::$m::virtual_children(self, physical_id, parent, after, limit).await
            }
            async fn search_virtual(
                &self,
                number_like: &str,
                owner_ids: &[Uuid],
                limit: u32,
            ) -> Result<Vec<VirtualRow>> {
                sql::$m::search_virtual(self, number_like, owner_ids, limit).await
            }
            async fn virtual_node(&self, id: Uuid) -> Result<Option<VirtualRow>> {
                sql::$m::virtual_node(self, id).await
            }
            async fn virtual_by_number(&self, number: &str) -> Result<Option<VirtualRow>> {
                sql::$m::virtual_by_number(self, number).await
            }
            async fn previous_holders(&self, number: &str, except: Uuid) -> Result<Vec<VirtualRow>> {
                sql::$m::previous_holders(self, number, except).await
            }
            async fn ledger_accounts(&self, ids: &[Uuid]) -> Result<Vec<LedgerAccountRow>> {
                sql::$m::ledger_accounts(self, ids).await
            }
            async fn post_transfer(
                &self,
                t: &NewTransferRow,
                with: PostWith,
                audit: NewAudit,
            ) -> Result<PostOutcome> {
                sql::$m::post_transfer(self, t, with, audit).await
            }
            async fn post_transfers(
                &self,
                batch: Vec<(NewTransferRow, PostWith, NewAudit)>,
            ) -> Result<Vec<PostOutcome>> {
                sql::$m::post_transfers(self, batch).await
            }
            async fn transfer_lines(
                &self,
                id: Uuid,
            ) -> Result<Option<(TransferKind, Uuid, Vec<(Uuid, i64)>)>> {
                sql::$m::transfer_lines(self, id).await
            }
            async fn entries(
                &self,
                account: Uuid,
                from_day: Option<i32>,
                to_day: Option<i32>,
                kind: Option<TransferKind>,
                before: Option<Uuid>,
                limit: u32,
            ) -> Result<Vec<EntryRow>> {
                sql::$m::entries(self, account, from_day, to_day, kind, before, limit).await
            }
            async fn day_sums(
                &self,
                account: Uuid,
                from_day: i32,
                to_day: i32,
            ) -> Result<(i64, Vec<(i32, i64)>)> {
                sql::$m::day_sums(self, account, from_day, to_day).await
            }
            async fn place_hold(&self, h: &HoldRow, audit: NewAudit) -> Result<()> {
                sql::$m::place_hold(self, h, audit).await
            }
            async fn release_hold(
                &self,
                hold: Uuid,
                amount_minor: i64,
                now: DateTime<Utc>,
                approval: Option<&ProposalGuard>,
                audit: NewAudit,
            ) -> Result<()> {
                sql::$m::release_hold(self, hold, amount_minor, now, approval, audit).await
            }
            async fn expire_holds(&self, account: Uuid, now: DateTime<Utc>) -> Result<u64> {
                sql::$m::expire_holds(self, account, now).await
            }
            async fn holds(&self, account: Uuid) -> Result<Vec<HoldRow>> {
                sql::$m::holds(self, account).await
            }
            async fn hold(&self, id: Uuid) -> Result<Option<HoldRow>> {
                sql::$m::hold(self, id).await
            }
            async fn close_virtual(
                &self,
                id: Uuid,
                now: DateTime<Utc>,
                reusable_from: NaiveDate,
                audit: NewAudit,
            ) -> Result<()> {
                sql::$m::close_virtual(self, id, now, reusable_from, audit).await
            }
            async fn insert_proposal(&self, p: &ProposalRow, audit: NewAudit) -> Result<()> {
                sql::$m::insert_proposal(self, p, audit).await
            }
            async fn pending_proposals(&self) -> Result<Vec<ProposalRow>> {
                sql::$m::pending_proposals(self).await
            }
            async fn proposal(&self, id: Uuid) -> Result<Option<ProposalRow>> {
                sql::$m::proposal(self, id).await
            }
            async fn decide_proposal(
                &self,
                guard: &ProposalGuard,
                approve: bool,
                audit: NewAudit,
            ) -> Result<()> {
                sql::$m::decide_proposal(self, guard, approve, audit).await
            }
            async fn record_proof(
                &self,
                physical_id: Uuid,
                at: DateTime<Utc>,
                holds: bool,
                detail: &str,
                audit: NewAudit,
            ) -> Result<()> {
                sql::$m::record_proof(self, physical_id, at, holds, detail, audit).await
            }
            async fn last_proof(&self, physical_id: Uuid) -> Result<Option<(DateTime<Utc>, bool)>> {
                sql::$m::last_proof(self, physical_id).await
            }
            async fn replay_breaks(&self, physical_id: Uuid) -> Result<u32> {
                sql::$m::replay_breaks(self, physical_id).await
            }
            async fn rollup_breaks(&self, physical_id: Uuid) -> Result<u32> {
                sql::$m::rollup_breaks(self, physical_id).await
            }
            async fn interest_products(
                &self,
                physical_id: Uuid,
                from_day: i32,
                to_day: i32,
            ) -> Result<Vec<(Uuid, i64)>> {
                sql::$m::interest_products(self, physical_id, from_day, to_day).await
            }
            async fn unidentified_count(&self, physical_id: Uuid) -> Result<i64> {
                sql::$m::unidentified_count(self, physical_id).await
            }
            async fn set_credit_cursor(&self, physical_id: Uuid, cursor: &str) -> Result<()> {
                sql::$m::set_credit_cursor(self, physical_id, cursor).await
            }
            async fn customer_sample(&self, limit: u32) -> Result<Vec<(Uuid, String)>> {
                sql::$m::customer_sample(self, limit).await
            }
            async fn maker_total_since(&self, actor: &str, since: DateTime<Utc>) -> Result<i64> {
                sql::$m::maker_total_since(self, actor, since).await
            }
            async fn credit_booked(&self, physical_id: Uuid, bank_ref: &str) -> Result<bool> {
                sql::$m::credit_booked(self, physical_id, bank_ref).await
            }
        }
    };
}

delegate_vam!(SqliteStore, sqlite);
delegate_vam!(PgStore, pg);
