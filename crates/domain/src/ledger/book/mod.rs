//! [`Book`]: the in-memory reference model of the ledger. Storage implements the
//! same rules in SQL; database tests post the same operations to both and compare
//! balances, and [`super::replay`] recomputes balances from the transfer list alone.
//!
//! Every operation checks everything before it changes anything, so a refused
//! operation leaves the book as it was. Hold operations are in [`holds`].

use super::account::{AccountFlags, Balance, FlagsProblem};
use super::codes::AccountKind;
use super::holds::{Hold, HoldProblem};
use super::ids::{AccountId, HoldId, TransferId};
use super::interest::{DayBalance, Period};
use super::replay::daily_balances;
use super::transfer::{NewTransfer, Transfer, TransferProblem, reversal_of};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod holds;

/// An open account of the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Account {
    /// Its kind (fixes the normal side).
    pub kind: AccountKind,
    /// The rules it enforces.
    pub flags: AccountFlags,
    /// Its posted totals.
    pub balance: Balance,
}

/// What posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "posted", content = "transfer", rename_all = "snake_case")]
pub enum Posted {
    /// Posted now under this id.
    New(TransferId),
    /// The key was already used for the same body: nothing posted, this is the
    /// first transfer's id.
    Repeat(TransferId),
}

impl Posted {
    /// The id of the transfer that holds the posting.
    pub fn id(self) -> TransferId {
        match self {
            Self::New(id) | Self::Repeat(id) => id,
        }
    }
}

/// Why the book refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum BookProblem {
    /// The transfer's shape is wrong.
    #[error("{error}")]
    Transfer {
        /// Why.
        #[from]
        error: TransferProblem,
    },
    /// The hold cannot change as asked.
    #[error("{error}")]
    Hold {
        /// Why.
        #[from]
        error: HoldProblem,
    },
    /// The account's flags are unusable.
    #[error("{error}")]
    Flags {
        /// Why.
        #[from]
        error: FlagsProblem,
    },
    /// No such account in the book.
    #[error("unknown account {account}")]
    UnknownAccount {
        /// The account.
        account: AccountId,
    },
    /// An account with this id is already open.
    #[error("account {account} already open")]
    AccountExists {
        /// The account.
        account: AccountId,
    },
    /// No such transfer in the book.
    #[error("unknown transfer {transfer}")]
    UnknownTransfer {
        /// The transfer.
        transfer: TransferId,
    },
    /// A transfer with this id is already posted (under another key).
    #[error("transfer id {transfer} already used")]
    TransferIdUsed {
        /// The transfer.
        transfer: TransferId,
    },
    /// The idempotency key was used for a different transfer.
    #[error("idempotency key {idempotency_key:?} already used by {first}")]
    KeyReused {
        /// The key.
        idempotency_key: String,
        /// The transfer posted under it.
        first: TransferId,
    },
    /// The transfer was already reversed.
    #[error("transfer {transfer} already reversed by {reversal}")]
    AlreadyReversed {
        /// The transfer.
        transfer: TransferId,
        /// Its reversal.
        reversal: TransferId,
    },
    /// A reversal's lines are not the original's lines negated.
    #[error("reversal does not negate transfer {transfer}")]
    ReversalMismatch {
        /// The transfer it claims to reverse.
        transfer: TransferId,
    },
    /// No such hold in the book.
    #[error("unknown hold {hold}")]
    UnknownHold {
        /// The hold.
        hold: HoldId,
    },
    /// A hold with this id was already placed.
    #[error("hold id {hold} already used")]
    HoldIdUsed {
        /// The hold.
        hold: HoldId,
    },
    /// The account takes credits only.
    #[error("account {account} is credit-only")]
    DebitRefused {
        /// The account.
        account: AccountId,
    },
    /// The account takes debits only.
    #[error("account {account} is debit-only")]
    CreditRefused {
        /// The account.
        account: AccountId,
    },
    /// The account's available balance would go below zero.
    #[error("account {account} would have {available_minor} available")]
    BelowZero {
        /// The account.
        account: AccountId,
        /// What would be available after the operation (fen, negative).
        available_minor: i64,
    },
    /// A total leaves the `i64` range.
    #[error("balance overflow")]
    Overflow,
}

/// The ledger in memory: accounts, posted transfers, holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Book {
    accounts: BTreeMap<AccountId, Account>,
    transfers: Vec<Transfer>,
    /// Transfer id → position in `transfers`.
    positions: BTreeMap<TransferId, usize>,
    keys: BTreeMap<String, TransferId>,
    /// Reversed transfer → its reversal.
    reversals: BTreeMap<TransferId, TransferId>,
    holds: BTreeMap<HoldId, Hold>,
}

impl Book {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens an account with zero balance.
    pub fn open_account(
        &mut self,
        id: AccountId,
        kind: AccountKind,
        flags: AccountFlags,
    ) -> Result<(), BookProblem> {
        flags.check()?;
        if self.accounts.contains_key(&id) {
            return Err(BookProblem::AccountExists { account: id });
        }
        self.accounts.insert(id, Account { kind, flags, balance: Balance::default() });
        Ok(())
    }

    /// An account, if open.
    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(&id)
    }

    /// Every account, by id.
    pub fn accounts(&self) -> impl Iterator<Item = (AccountId, &Account)> {
        self.accounts.iter().map(|(id, account)| (*id, account))
    }

    /// Every posted transfer, in posting order.
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// A posted transfer.
    pub fn transfer(&self, id: TransferId) -> Option<&Transfer> {
        self.positions.get(&id).and_then(|&i| self.transfers.get(i))
    }

    /// The reversal of a transfer, if it was reversed.
    pub fn reversed_by(&self, id: TransferId) -> Option<TransferId> {
        self.reversals.get(&id).copied()
    }

    /// A hold, as recorded (read its state with [`Hold::status_at`]).
    pub fn hold(&self, id: HoldId) -> Option<&Hold> {
        self.holds.get(&id)
    }

    /// Posts a transfer at `now`. The same body under a used idempotency key returns
    /// the first transfer's id and posts nothing; another body under it is refused.
    /// A reversal must negate its original exactly, once; reversing a hold posting
    /// moves the money back but does not reopen the hold.
    pub fn post(
        &mut self,
        id: TransferId,
        transfer: NewTransfer,
        now: DateTime<Utc>,
    ) -> Result<Posted, BookProblem> {
        self.post_with_hold(id, transfer, None, now)
    }

    /// The posted balance on the account's normal side (fen).
    pub fn balance(&self, account: AccountId) -> Result<i64, BookProblem> {
        let open = self.accounts.get(&account).ok_or(BookProblem::UnknownAccount { account })?;
        Ok(open.balance.posted_minor(open.kind))
    }

    /// What pending holds reserve on the account at `now` (fen).
    pub fn held_minor(&self, account: AccountId, now: DateTime<Utc>) -> Result<i64, BookProblem> {
        if !self.accounts.contains_key(&account) {
            return Err(BookProblem::UnknownAccount { account });
        }
        i64::try_from(self.held_total(account, now)).map_err(|_| BookProblem::Overflow)
    }

    /// Posted − held at `now` (fen): what the account may still spend.
    pub fn available(&self, account: AccountId, now: DateTime<Utc>) -> Result<i64, BookProblem> {
        let posted = i128::from(self.balance(account)?);
        i64::try_from(posted - self.held_total(account, now)).map_err(|_| BookProblem::Overflow)
    }

    /// The account's end-of-day balance (normal side) for every date of `period`
    /// (see [`daily_balances`]).
    pub fn daily_balances(&self, account: AccountId, period: Period) -> Result<Vec<DayBalance>, BookProblem> {
        let open = self.accounts.get(&account).ok_or(BookProblem::UnknownAccount { account })?;
        daily_balances(&self.transfers, account, open.kind, period).map_err(|_| BookProblem::Overflow)
    }

    fn held_total(&self, account: AccountId, now: DateTime<Utc>) -> i128 {
        self.holds.values().filter(|h| h.account == account).map(|h| i128::from(h.remaining_minor(now))).sum()
    }

    /// Posts `body`; with a hold, also posts `part_minor` of that hold, in the same
    /// all-or-nothing step.
    fn post_with_hold(
        &mut self,
        id: TransferId,
        body: NewTransfer,
        hold: Option<(HoldId, i64)>,
        now: DateTime<Utc>,
    ) -> Result<Posted, BookProblem> {
        body.validate()?;
        let hold_id = hold.map(|(h, _)| h);
        if let Some(&first) = self.keys.get(&body.idempotency_key) {
            let same = self.transfer(first).is_some_and(|t| t.body == body && t.hold == hold_id);
            return if same {
                Ok(Posted::Repeat(first))
            } else {
                Err(BookProblem::KeyReused { idempotency_key: body.idempotency_key, first })
            };
        }
        if self.positions.contains_key(&id) {
            return Err(BookProblem::TransferIdUsed { transfer: id });
        }
        if let Some(original) = body.reverses {
            self.check_reversal(original, &body)?;
        }
        let posted_hold = match hold {
            Some((hold, part_minor)) => {
                let mut next = self.holds.get(&hold).ok_or(BookProblem::UnknownHold { hold })?.clone();
                next.post(part_minor, now)?;
                Some((hold, next, part_minor))
            }
            None => None,
        };
        let mut updates = Vec::with_capacity(body.lines.len());
        for line in &body.lines {
            let account = line.account;
            let open = self.accounts.get(&account).ok_or(BookProblem::UnknownAccount { account })?;
            check_side(account, open.flags, line.amount_minor)?;
            let balance = open.balance.with_line(line.amount_minor).ok_or(BookProblem::Overflow)?;
            let shrinks = line.amount_minor.signum() != open.kind.growth_sign();
            if open.flags.available_not_below_zero && shrinks {
                let mut held = self.held_total(account, now);
                if let Some((_, next, part_minor)) = &posted_hold
                    && next.account == account
                {
                    // The posted part leaves the hold as it leaves the balance.
                    held -= i128::from(*part_minor);
                }
                check_available(account, balance.posted_minor(open.kind), held)?;
            }
            updates.push((account, balance));
        }
        // Everything is checked: from here on nothing can fail.
        for (account, balance) in updates {
            if let Some(open) = self.accounts.get_mut(&account) {
                open.balance = balance;
            }
        }
        if let Some((hold, next, _)) = posted_hold {
            self.holds.insert(hold, next);
        }
        if let Some(original) = body.reverses {
            self.reversals.insert(original, id);
        }
        self.keys.insert(body.idempotency_key.clone(), id);
        self.positions.insert(id, self.transfers.len());
        self.transfers.push(Transfer { id, posted_at: now, hold: hold_id, body });
        Ok(Posted::New(id))
    }

    fn check_reversal(&self, original: TransferId, body: &NewTransfer) -> Result<(), BookProblem> {
        let posted = self.transfer(original).ok_or(BookProblem::UnknownTransfer { transfer: original })?;
        if let Some(reversal) = self.reversed_by(original) {
            return Err(BookProblem::AlreadyReversed { transfer: original, reversal });
        }
        if reversal_of(posted, String::new()).lines != body.lines {
            return Err(BookProblem::ReversalMismatch { transfer: original });
        }
        Ok(())
    }
}

/// Refuses a line on the side the account's flags forbid (positive = debit).
fn check_side(account: AccountId, flags: AccountFlags, amount_minor: i64) -> Result<(), BookProblem> {
    match flags.allows_line(amount_minor) {
        true => Ok(()),
        false if amount_minor > 0 => Err(BookProblem::DebitRefused { account }),
        false => Err(BookProblem::CreditRefused { account }),
    }
}

/// Refuses a posted balance that does not cover what is held.
fn check_available(account: AccountId, posted_minor: i64, held: i128) -> Result<(), BookProblem> {
    let available = i128::from(posted_minor) - held;
    if available < 0 {
        let available_minor = i64::try_from(available).unwrap_or(i64::MIN);
        return Err(BookProblem::BelowZero { account, available_minor });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::codes::TransferKind;
    use crate::ledger::transfer::TransferLine;
    use chrono::{NaiveDate, TimeDelta, TimeZone};
    use uuid::Uuid;

    pub(super) const BANK: AccountId = AccountId(Uuid::from_u128(1));
    pub(super) const ALICE: AccountId = AccountId(Uuid::from_u128(2));
    pub(super) const BOB: AccountId = AccountId(Uuid::from_u128(3));
    pub(super) const COLLECT: AccountId = AccountId(Uuid::from_u128(4));

    pub(super) fn t(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + TimeDelta::seconds(seconds)
    }

    pub(super) fn tid(n: u128) -> TransferId {
        TransferId(Uuid::from_u128(n))
    }

    /// The physical account, two customers and a credit-only collection account.
    pub(super) fn book() -> Book {
        let mut book = Book::new();
        book.open_account(BANK, AccountKind::Asset, AccountFlags::CUSTOMER).unwrap();
        book.open_account(ALICE, AccountKind::Liability, AccountFlags::CUSTOMER).unwrap();
        book.open_account(BOB, AccountKind::Liability, AccountFlags::CUSTOMER).unwrap();
        let credit_only = AccountFlags { credit_only: true, ..AccountFlags::default() };
        book.open_account(COLLECT, AccountKind::Liability, credit_only).unwrap();
        book
    }

    pub(super) fn move_(
        kind: TransferKind,
        debit: AccountId,
        credit: AccountId,
        amount_minor: i64,
        key: &str,
    ) -> NewTransfer {
        NewTransfer {
            kind,
            lines: vec![
                TransferLine { account: debit, amount_minor },
                TransferLine { account: credit, amount_minor: -amount_minor },
            ],
            idempotency_key: key.into(),
            reverses: None,
        }
    }

    pub(super) fn credit_in(book: &mut Book, n: u128, to: AccountId, amount_minor: i64) -> TransferId {
        let key = format!("in-{n}");
        book.post(tid(n), move_(TransferKind::CreditIn, BANK, to, amount_minor, &key), t(0)).unwrap().id()
    }

    #[test]
    fn a_credit_from_the_bank_grows_both_sides() {
        let mut book = book();
        credit_in(&mut book, 10, ALICE, 5_000);
        assert_eq!(book.balance(BANK), Ok(5_000));
        assert_eq!(book.balance(ALICE), Ok(5_000));
        assert_eq!(book.account(ALICE).unwrap().balance, Balance { debits_minor: 0, credits_minor: 5_000 });
        assert_eq!(book.transfers().len(), 1);
        assert_eq!(book.transfer(tid(10)).unwrap().posted_at, t(0));
    }

    #[test]
    fn opening_rules() {
        let mut book = book();
        assert_eq!(
            book.open_account(ALICE, AccountKind::Liability, AccountFlags::default()),
            Err(BookProblem::AccountExists { account: ALICE })
        );
        let both = AccountFlags { credit_only: true, debit_only: true, ..AccountFlags::default() };
        assert_eq!(
            book.open_account(AccountId(Uuid::nil()), AccountKind::Asset, both),
            Err(FlagsProblem::Contradictory.into())
        );
        let nobody = AccountId(Uuid::nil());
        assert_eq!(book.balance(nobody), Err(BookProblem::UnknownAccount { account: nobody }));
        assert_eq!(
            book.post(tid(1), move_(TransferKind::CreditIn, BANK, nobody, 5, "k"), t(0)),
            Err(BookProblem::UnknownAccount { account: nobody })
        );
    }

    #[test]
    fn overdrawing_a_flagged_account_is_refused_and_changes_nothing() {
        let mut book = book();
        credit_in(&mut book, 10, ALICE, 1_000);
        let before = book.clone();
        let problem = book.post(tid(11), move_(TransferKind::InternalTransfer, ALICE, BOB, 1_001, "x"), t(1));
        assert_eq!(problem, Err(BookProblem::BelowZero { account: ALICE, available_minor: -1 }));
        assert_eq!(book, before);
        book.post(tid(11), move_(TransferKind::InternalTransfer, ALICE, BOB, 1_000, "x"), t(1)).unwrap();
        assert_eq!((book.balance(ALICE), book.balance(BOB)), (Ok(0), Ok(1_000)));
    }

    #[test]
    fn side_flags_refuse_lines() {
        let mut book = book();
        credit_in(&mut book, 10, COLLECT, 100);
        assert_eq!(
            book.post(tid(11), move_(TransferKind::InternalTransfer, COLLECT, BOB, 50, "y"), t(1)),
            Err(BookProblem::DebitRefused { account: COLLECT })
        );
        let mut debit_only = Book::new();
        let flags = AccountFlags { debit_only: true, ..AccountFlags::default() };
        debit_only.open_account(BANK, AccountKind::Asset, flags).unwrap();
        debit_only.open_account(ALICE, AccountKind::Liability, AccountFlags::default()).unwrap();
        assert_eq!(
            debit_only.post(tid(1), move_(TransferKind::Refund, ALICE, BANK, 5, "z"), t(0)),
            Err(BookProblem::CreditRefused { account: BANK })
        );
    }

    #[test]
    fn the_same_key_posts_once_and_another_body_under_it_is_refused() {
        let mut book = book();
        let first = credit_in(&mut book, 10, ALICE, 700);
        let again = book.post(tid(99), move_(TransferKind::CreditIn, BANK, ALICE, 700, "in-10"), t(5));
        assert_eq!(again, Ok(Posted::Repeat(first)));
        assert_eq!(book.balance(ALICE), Ok(700));
        assert_eq!(book.transfers().len(), 1);
        let other = book.post(tid(99), move_(TransferKind::CreditIn, BANK, ALICE, 701, "in-10"), t(5));
        assert_eq!(other, Err(BookProblem::KeyReused { idempotency_key: "in-10".into(), first }));
        let id_reused = book.post(first, move_(TransferKind::CreditIn, BANK, ALICE, 1, "fresh"), t(5));
        assert_eq!(id_reused, Err(BookProblem::TransferIdUsed { transfer: first }));
    }

    #[test]
    fn a_reversal_restores_balances_once() {
        let mut book = book();
        credit_in(&mut book, 10, ALICE, 900);
        let paid =
            book.post(tid(11), move_(TransferKind::InternalTransfer, ALICE, BOB, 400, "pay"), t(1)).unwrap();
        assert_eq!((book.balance(ALICE), book.balance(BOB)), (Ok(500), Ok(400)));
        let undo = reversal_of(book.transfer(paid.id()).unwrap(), "undo-pay".into());
        book.post(tid(12), undo.clone(), t(2)).unwrap();
        assert_eq!((book.balance(ALICE), book.balance(BOB)), (Ok(900), Ok(0)));
        assert_eq!(book.reversed_by(tid(11)), Some(tid(12)));
        let twice = NewTransfer { idempotency_key: "undo-again".into(), ..undo };
        assert_eq!(
            book.post(tid(13), twice, t(3)),
            Err(BookProblem::AlreadyReversed { transfer: tid(11), reversal: tid(12) })
        );
    }

    #[test]
    fn a_reversal_must_match_its_original() {
        let mut book = book();
        credit_in(&mut book, 10, ALICE, 900);
        let mut partial = reversal_of(book.transfer(tid(10)).unwrap(), "r".into());
        partial.lines[0].amount_minor = -100;
        partial.lines[1].amount_minor = 100;
        assert_eq!(
            book.post(tid(11), partial, t(1)),
            Err(BookProblem::ReversalMismatch { transfer: tid(10) })
        );
        let mut unknown = reversal_of(book.transfer(tid(10)).unwrap(), "r".into());
        unknown.reverses = Some(tid(77));
        assert_eq!(
            book.post(tid(11), unknown, t(1)),
            Err(BookProblem::UnknownTransfer { transfer: tid(77) })
        );
    }

    #[test]
    fn daily_balances_use_beijing_business_dates() {
        let mut book = book();
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        // 2026-03-01 00:00 UTC is 08:00 in Beijing, business date 03-01.
        credit_in(&mut book, 10, ALICE, 1_000);
        // 2026-03-02 16:30 UTC is 03-03 00:30 in Beijing.
        let late = t(86_400 + 16 * 3_600 + 1_800);
        book.post(tid(11), move_(TransferKind::InternalTransfer, ALICE, BOB, 400, "pay"), late).unwrap();
        let series = book.daily_balances(ALICE, Period::new(day(2), day(4)).unwrap()).unwrap();
        let balances: Vec<(NaiveDate, i64)> = series.iter().map(|e| (e.date, e.balance_minor)).collect();
        assert_eq!(balances, vec![(day(2), 1_000), (day(3), 600), (day(4), 600)]);
        let bank = book.daily_balances(BANK, Period::new(day(1), day(1)).unwrap()).unwrap();
        assert_eq!(bank, vec![DayBalance { date: day(1), balance_minor: 1_000 }]);
    }

    #[test]
    fn problems_serialize_as_codes() {
        let json = serde_json::to_value(BookProblem::from(TransferProblem::EmptyKey)).unwrap();
        assert_eq!(json, serde_json::json!({"problem": "transfer", "error": {"problem": "empty_key"}}));
        let back: BookProblem = serde_json::from_value(json).unwrap();
        assert_eq!(back, BookProblem::Transfer { error: TransferProblem::EmptyKey });
        let posted = serde_json::to_value(Posted::Repeat(tid(1))).unwrap();
        assert_eq!(posted["posted"], "repeat");
    }
}
