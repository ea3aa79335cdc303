//! The double-entry ledger of virtual sub-accounts (虚拟子账户): pure rules and an
//! in-memory reference model.
//!
//! Many virtual accounts map onto one physical bank account: the money sits in the
//! physical account, each virtual account keeps its own ledger. Storage and services
//! build on these rules, and database tests compare against [`Book`] and [`replay`].
//!
//! # Sign convention
//!
//! Amounts are integer fen (`i64`, names end in `_minor`; [`crate::money::Cny`]
//! converts above storage). A [`TransferLine`] amount is **positive for a debit and
//! negative for a credit**; the lines of a transfer sum to zero. A balance is read on
//! the account's normal side ([`AccountKind::is_debit_normal`]): an asset (the
//! physical account) grows with debits, a liability (a customer's virtual
//! sub-account, suspense, internal pools) grows with credits. So money arriving from
//! the bank for a customer debits the physical account and credits the customer.
//!
//! Nothing here reads the clock or makes ids: callers pass `now` and UUIDv7 ids.

mod account;
mod book;
mod closing;
mod codes;
mod holds;
mod ids;
mod interest;
mod numbering;
mod replay;
mod transfer;
mod tree;

#[cfg(test)]
mod proptests;

pub use account::{AccountFlags, Balance, FlagsProblem, normal_balance};
pub use book::{Account, Book, BookProblem, Posted};
pub use closing::{CloseBlocker, CloseFacts, close_blockers};
pub use codes::{AccountKind, Bank, HoldStatus, OwnerKind, TransferKind, VirtualPurpose, VirtualStatus};
pub use holds::{Hold, HoldProblem};
pub use ids::{AccountId, HoldId, TransferId};
pub use interest::{
    BUSINESS_DAY_OFFSET_SECONDS, DayBalance, InterestLine, InterestPreview, InterestProblem, MAX_PERIOD_DAYS,
    Period, allocate, business_date, day_weighted_product, preview,
};
pub use numbering::{NumberProblem, NumberingScheme, may_assign, reusable_from};
pub use replay::{ReplayProblem, daily_balances, replay};
pub use transfer::{
    MAX_IDEMPOTENCY_KEY_CHARS, NewTransfer, Transfer, TransferLine, TransferProblem, reversal_of,
};
pub use tree::{
    InvariantBreak, RollupBreak, TreeNode, TreeProblem, check_invariant, check_parent, check_rollup,
    subtree_balances,
};
