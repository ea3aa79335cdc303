//! Requests of the 虚拟子账户 (virtual sub-account) area.

use crate::auth::Permission;
use crate::ledger::{AccountId, HoldId, OwnerKind, TransferId, VirtualPurpose};
use crate::vam::EntryFilter;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An operation that changes the ledger or a sub-account. Those above the
/// approval threshold (and every manual credit) wait for a second person; the
/// stored proposal is this value, so the checker approves exactly what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum VamOperation {
    /// Open a sub-account under `parent` (or at the top of the physical account).
    Open {
        /// Physical account.
        physical_id: Uuid,
        /// Parent node.
        parent: Option<AccountId>,
        /// Owner kind.
        owner_kind: OwnerKind,
        /// The customer or user, for those kinds.
        owner_id: Option<Uuid>,
        /// Merchant or internal name (people's names come from the customer).
        owner_name: String,
        /// Purpose.
        purpose: VirtualPurpose,
    },
    /// A credit typed from a bank advice (always four-eyes).
    ManualCredit {
        /// Physical account that received it.
        physical_id: Uuid,
        /// Virtual number the payer used.
        number: String,
        /// Amount.
        amount: Decimal,
        /// The bank's reference (idempotency).
        bank_ref: String,
        /// Payer name as the bank shows it.
        payer: String,
    },
    /// Move money between two sub-accounts of one physical account (information
    /// moves, the money stays in the bank).
    Transfer {
        /// From.
        from: AccountId,
        /// To.
        to: AccountId,
        /// Amount.
        amount: Decimal,
        /// Why.
        memo: String,
    },
    /// Sweep an amount back to the physical account's main (internal) account.
    Sweep {
        /// From.
        account: AccountId,
        /// Amount.
        amount: Decimal,
    },
    /// Freeze an amount (冻结).
    Freeze {
        /// Account.
        account: AccountId,
        /// Amount.
        amount: Decimal,
        /// Why (court order, order escrow…).
        reason: String,
        /// When it runs out by itself.
        expires_at: Option<DateTime<Utc>>,
    },
    /// Release (part of) a hold (解冻).
    Release {
        /// The hold.
        hold: HoldId,
        /// How much of what remains.
        amount: Decimal,
    },
    /// Pay part (or all) of a hold out to another sub-account of the same physical
    /// account (e.g. order escrow to the merchant, or back to the main account):
    /// the hold shrinks by what is paid, never below zero.
    PostHold {
        /// The hold.
        hold: HoldId,
        /// How much of what it reserves.
        amount: Decimal,
        /// Who receives it.
        to: AccountId,
    },
    /// Post an interest allocation as previewed.
    PostInterest {
        /// Physical account.
        physical_id: Uuid,
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
        /// Interest the bank credited.
        interest: Decimal,
        /// The preview's digest.
        digest: String,
    },
    /// Reverse a transfer (a correction is a reversing transfer, never an edit).
    Reverse {
        /// The transfer.
        transfer: TransferId,
        /// Why.
        reason: String,
    },
    /// Close a sub-account (refused with every blocker while any remains).
    Close {
        /// Account.
        account: AccountId,
    },
    /// Close a tender: refund every bidder's deposit (with the interest it earned)
    /// out of the physical account in one transfer, then close their sub-accounts,
    /// whose numbers return to the pool after the quarantine.
    SettleTender {
        /// The tender's node (the bid-deposit sub-accounts are its children).
        tender: AccountId,
    },
}

impl VamOperation {
    /// A name for logs and the audit action suffix.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Open { .. } => "open",
            Self::ManualCredit { .. } => "manual_credit",
            Self::Transfer { .. } => "transfer",
            Self::Sweep { .. } => "sweep",
            Self::Freeze { .. } => "freeze",
            Self::Release { .. } => "release",
            Self::PostHold { .. } => "post_hold",
            Self::PostInterest { .. } => "post_interest",
            Self::Reverse { .. } => "reverse",
            Self::Close { .. } => "close",
            Self::SettleTender { .. } => "settle_tender",
        }
    }
}

/// A virtual sub-account request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VamRequest {
    /// Physical accounts with their invariant state.
    PhysicalAccounts,
    /// Children of `parent` (top level when `None`), by number, after `after`.
    Tree {
        /// Physical account.
        physical_id: Uuid,
        /// Parent node.
        parent: Option<AccountId>,
        /// The last number of the previous page.
        after: Option<String>,
        /// Page size (capped).
        limit: u32,
    },
    /// Sub-accounts by virtual number (or its suffix), owner name, or a user's phone.
    Search {
        /// What was typed.
        query: String,
    },
    /// One sub-account with its holds.
    SubAccount {
        /// Account.
        account: AccountId,
    },
    /// Entries with running balance, newest first.
    Entries {
        /// Account.
        account: AccountId,
        /// Filters.
        filter: EntryFilter,
        /// Older than this transfer.
        before: Option<TransferId>,
        /// Page size (capped).
        limit: u32,
    },
    /// End-of-day balances for the chart.
    BalanceSeries {
        /// Account.
        account: AccountId,
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
    },
    /// Write the filtered entries to a CSV file.
    ExportEntries {
        /// Account.
        account: AccountId,
        /// Filters.
        filter: EntryFilter,
    },
    /// Fetch the bank's credit notices since the last cursor and book them.
    PollCredits {
        /// Physical account.
        physical_id: Uuid,
    },
    /// Check the invariant and the bank's balance; recorded.
    Proof {
        /// Physical account.
        physical_id: Uuid,
    },
    /// Preview an interest allocation.
    InterestPreview {
        /// Physical account.
        physical_id: Uuid,
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
        /// Interest the bank credited.
        interest: Decimal,
    },
    /// Every blocker that stands in the way of closing.
    CloseCheck {
        /// Account.
        account: AccountId,
    },
    /// Do an operation (or propose it when it needs a checker).
    Do(VamOperation),
    /// The same, retry-safe: the screen keeps `request_id` until the operation is
    /// confirmed, so a second click or a resend after a lost answer finds the first
    /// posting (or proposal) instead of making another.
    DoOnce {
        /// Chosen by the screen (UUIDv7), per operation.
        request_id: Uuid,
        /// What to do.
        operation: VamOperation,
    },
    /// What an operation touching several accounts would change, without doing it
    /// (transfer, sweep, hold payment, reversal, tender refund, manual credit).
    Preview(VamOperation),
    /// Operations waiting for a checker.
    Proposals,
    /// A checker approves or rejects a proposal (never their own).
    Approve {
        /// Proposal.
        proposal_id: Uuid,
        /// Approve (`false` rejects).
        approve: bool,
    },
}

impl VamRequest {
    /// The permission it needs.
    pub fn permission(&self) -> Permission {
        match self {
            Self::PollCredits { .. } | Self::Do(_) | Self::DoOnce { .. } | Self::Preview(_) => {
                Permission::VirtualAccountOperate
            }
            Self::Approve { .. } => Permission::VirtualAccountApprove,
            _ => Permission::VirtualAccountView,
        }
    }

    /// A name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::PhysicalAccounts => "vam_physical_accounts",
            Self::Tree { .. } => "vam_tree",
            Self::Search { .. } => "vam_search",
            Self::SubAccount { .. } => "vam_sub_account",
            Self::Entries { .. } => "vam_entries",
            Self::BalanceSeries { .. } => "vam_balance_series",
            Self::ExportEntries { .. } => "vam_export_entries",
            Self::PollCredits { .. } => "vam_poll_credits",
            Self::Proof { .. } => "vam_proof",
            Self::InterestPreview { .. } => "vam_interest_preview",
            Self::CloseCheck { .. } => "vam_close_check",
            Self::Do(_) | Self::DoOnce { .. } => "vam_do",
            Self::Preview(_) => "vam_preview",
            Self::Proposals => "vam_proposals",
            Self::Approve { .. } => "vam_approve",
        }
    }
}
