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
//! Like `cases/`, the SQL is one `macro_rules!` body per concern (`tree`, `posting`,
//! `holds`, `checks`), each expanded once per database.

use crate::{NewAudit, PgStore, Result, SqliteStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::Conflict;
use domain::ledger::{AccountKind, TransferKind, VirtualPurpose, VirtualStatus};
use uuid::Uuid;

/// A node with its balances: the select list every virtual query shares.
macro_rules! node_select {
    () => {
        "SELECT v.id, v.physical_id, v.parent_id, v.path, v.depth, v.number, v.suffix, v.owner_kind, \
         v.owner_id, v.owner_name, v.purpose, v.status, v.child_count, v.opened_at, v.closed_at, \
         a.debits_minor, a.credits_minor, a.held_minor, \
         CAST(COALESCE((SELECT SUM(s.amount_minor) FROM subtree_shards s WHERE s.account_id = v.id), 0) AS BIGINT) \
         AS subtree_extra_minor \
         FROM virtual_accounts v JOIN ledger_accounts a ON a.id = v.id "
    };
}

// Bit 256 of `ledger_accounts.flags` marks a closed sub-account, in the same row
// every posting updates: a posting racing a close re-reads it after the close
// commits (a check on `virtual_accounts` in a subquery would read the statement's
// old snapshot on PostgreSQL). The SQL spells it `256`.

/// A closed-number or frozen-account guard for `UPDATE ledger_accounts … WHERE id = $1`,
/// given the line's growth as `$5`.
macro_rules! status_guard {
    () => {
        " AND NOT EXISTS (SELECT 1 FROM virtual_accounts v WHERE v.id = $1 AND (v.status IN ('closed', 'quarantined') \
         OR (v.status = 'frozen' AND $5 < 0) OR (v.status = 'closing' AND $5 > 0)))"
    };
}

fn conflict(c: Conflict) -> StoreError {
    StoreError::Conflict(c)
}

/// A line's effect: how much it grows the account on its normal side.
fn growth(kind: AccountKind, amount_minor: i64) -> i64 {
    if kind.is_debit_normal() { amount_minor } else { -amount_minor }
}

// After the macros above, which they use.
mod checks;
mod group;
mod holds;
pub(crate) mod posting;
mod rows;
mod tree;

pub(crate) use group::Poster;
pub use rows::*;

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
                tree::$m::create_physical(self, p, audit).await
            }
            async fn physical_accounts(&self) -> Result<Vec<PhysicalRow>> {
                tree::$m::physical_accounts(self).await
            }
            async fn physical(&self, id: Uuid) -> Result<Option<PhysicalRow>> {
                tree::$m::physical(self, id).await
            }
            async fn physical_totals(&self, id: Uuid) -> Result<PhysicalTotals> {
                tree::$m::physical_totals(self, id).await
            }
            async fn open_virtual(
                &self,
                v: &NewVirtual,
                today: NaiveDate,
                audit: NewAudit,
            ) -> Result<String> {
                tree::$m::open_virtual(self, v, today, audit).await
            }
            async fn virtual_children(
                &self,
                physical_id: Uuid,
                parent: Option<Uuid>,
                after: Option<&str>,
                limit: u32,
            ) -> Result<Vec<VirtualRow>> {
                tree::$m::virtual_children(self, physical_id, parent, after, limit).await
            }
            async fn search_virtual(
                &self,
                number_like: &str,
                owner_ids: &[Uuid],
                limit: u32,
            ) -> Result<Vec<VirtualRow>> {
                tree::$m::search_virtual(self, number_like, owner_ids, limit).await
            }
            async fn virtual_node(&self, id: Uuid) -> Result<Option<VirtualRow>> {
                tree::$m::virtual_node(self, id).await
            }
            async fn virtual_by_number(&self, number: &str) -> Result<Option<VirtualRow>> {
                tree::$m::virtual_by_number(self, number).await
            }
            async fn previous_holders(&self, number: &str, except: Uuid) -> Result<Vec<VirtualRow>> {
                tree::$m::previous_holders(self, number, except).await
            }
            async fn ledger_accounts(&self, ids: &[Uuid]) -> Result<Vec<LedgerAccountRow>> {
                tree::$m::ledger_accounts(self, ids).await
            }
            async fn post_transfer(
                &self,
                t: &NewTransferRow,
                with: PostWith,
                audit: NewAudit,
            ) -> Result<PostOutcome> {
                group::$m::post_transfer(self, t, with, audit).await
            }
            async fn post_transfers(
                &self,
                batch: Vec<(NewTransferRow, PostWith, NewAudit)>,
            ) -> Result<Vec<PostOutcome>> {
                posting::$m::post_transfers(self, batch).await
            }
            async fn transfer_lines(
                &self,
                id: Uuid,
            ) -> Result<Option<(TransferKind, Uuid, Vec<(Uuid, i64)>)>> {
                posting::$m::transfer_lines(self, id).await
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
                posting::$m::entries(self, account, from_day, to_day, kind, before, limit).await
            }
            async fn day_sums(
                &self,
                account: Uuid,
                from_day: i32,
                to_day: i32,
            ) -> Result<(i64, Vec<(i32, i64)>)> {
                posting::$m::day_sums(self, account, from_day, to_day).await
            }
            async fn place_hold(&self, h: &HoldRow, audit: NewAudit) -> Result<()> {
                holds::$m::place_hold(self, h, audit).await
            }
            async fn release_hold(
                &self,
                hold: Uuid,
                amount_minor: i64,
                now: DateTime<Utc>,
                approval: Option<&ProposalGuard>,
                audit: NewAudit,
            ) -> Result<()> {
                holds::$m::release_hold(self, hold, amount_minor, now, approval, audit).await
            }
            async fn expire_holds(&self, account: Uuid, now: DateTime<Utc>) -> Result<u64> {
                holds::$m::expire_holds(self, account, now).await
            }
            async fn holds(&self, account: Uuid) -> Result<Vec<HoldRow>> {
                holds::$m::holds(self, account).await
            }
            async fn hold(&self, id: Uuid) -> Result<Option<HoldRow>> {
                holds::$m::hold(self, id).await
            }
            async fn close_virtual(
                &self,
                id: Uuid,
                now: DateTime<Utc>,
                reusable_from: NaiveDate,
                audit: NewAudit,
            ) -> Result<()> {
                tree::$m::close_virtual(self, id, now, reusable_from, audit).await
            }
            async fn insert_proposal(&self, p: &ProposalRow, audit: NewAudit) -> Result<()> {
                holds::$m::insert_proposal(self, p, audit).await
            }
            async fn pending_proposals(&self) -> Result<Vec<ProposalRow>> {
                holds::$m::pending_proposals(self).await
            }
            async fn proposal(&self, id: Uuid) -> Result<Option<ProposalRow>> {
                holds::$m::proposal(self, id).await
            }
            async fn decide_proposal(
                &self,
                guard: &ProposalGuard,
                approve: bool,
                audit: NewAudit,
            ) -> Result<()> {
                holds::$m::decide_proposal(self, guard, approve, audit).await
            }
            async fn record_proof(
                &self,
                physical_id: Uuid,
                at: DateTime<Utc>,
                holds: bool,
                detail: &str,
                audit: NewAudit,
            ) -> Result<()> {
                checks::$m::record_proof(self, physical_id, at, holds, detail, audit).await
            }
            async fn last_proof(&self, physical_id: Uuid) -> Result<Option<(DateTime<Utc>, bool)>> {
                checks::$m::last_proof(self, physical_id).await
            }
            async fn replay_breaks(&self, physical_id: Uuid) -> Result<u32> {
                checks::$m::replay_breaks(self, physical_id).await
            }
            async fn rollup_breaks(&self, physical_id: Uuid) -> Result<u32> {
                checks::$m::rollup_breaks(self, physical_id).await
            }
            async fn interest_products(
                &self,
                physical_id: Uuid,
                from_day: i32,
                to_day: i32,
            ) -> Result<Vec<(Uuid, i64)>> {
                checks::$m::interest_products(self, physical_id, from_day, to_day).await
            }
            async fn unidentified_count(&self, physical_id: Uuid) -> Result<i64> {
                checks::$m::unidentified_count(self, physical_id).await
            }
            async fn set_credit_cursor(&self, physical_id: Uuid, cursor: &str) -> Result<()> {
                posting::$m::set_credit_cursor(self, physical_id, cursor).await
            }
            async fn customer_sample(&self, limit: u32) -> Result<Vec<(Uuid, String)>> {
                tree::$m::customer_sample(self, limit).await
            }
            async fn maker_total_since(&self, actor: &str, since: DateTime<Utc>) -> Result<i64> {
                posting::$m::maker_total_since(self, actor, since).await
            }
            async fn credit_booked(&self, physical_id: Uuid, bank_ref: &str) -> Result<bool> {
                posting::$m::credit_booked(self, physical_id, bank_ref).await
            }
        }
    };
}

delegate_vam!(SqliteStore, sqlite);
delegate_vam!(PgStore, pg);
