//! The book's hold operations (冻结): place, post in parts, void, expire. The
//! hold's own state machine is [`crate::ledger::Hold`]; here holds meet balances.

use super::{Book, BookProblem, Posted, check_available, check_side};
use crate::ledger::codes::TransferKind;
use crate::ledger::holds::{Hold, HoldProblem};
use crate::ledger::ids::{AccountId, HoldId, TransferId};
use crate::ledger::transfer::{NewTransfer, TransferLine};
use chrono::{DateTime, Utc};

impl Book {
    /// Reserves `amount_minor` on `account` until `expires_at` (or until posted or
    /// voided). An account that may not go below zero must have it available.
    pub fn place_hold(
        &mut self,
        id: HoldId,
        account: AccountId,
        amount_minor: i64,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), BookProblem> {
        if self.holds.contains_key(&id) {
            return Err(BookProblem::HoldIdUsed { hold: id });
        }
        let open = self.accounts.get(&account).ok_or(BookProblem::UnknownAccount { account })?;
        let hold = Hold::new(account, amount_minor, expires_at, now)?;
        // A hold is posted by a line that shrinks the account: refuse one that never could.
        check_side(account, open.flags, -open.kind.growth_sign())?;
        if open.flags.available_not_below_zero {
            let held = self.held_total(account, now) + i128::from(amount_minor);
            check_available(account, open.balance.posted_minor(open.kind), held)?;
        }
        self.holds.insert(id, hold);
        Ok(())
    }

    /// Posts `part_minor` of a hold as a `HoldPost` transfer from the held account
    /// to `to`: the held account shrinks by the part, `to` takes the opposite line.
    /// Idempotent like [`Book::post`]: a retry under the same key is a `Repeat`.
    pub fn post_hold(
        &mut self,
        hold: HoldId,
        part_minor: i64,
        to: AccountId,
        transfer: TransferId,
        idempotency_key: String,
        now: DateTime<Utc>,
    ) -> Result<Posted, BookProblem> {
        // Checked first so a non-positive part gets the hold's refusal, not a line's.
        if part_minor <= 0 {
            return Err(HoldProblem::NonPositiveAmount { amount_minor: part_minor }.into());
        }
        let held = self.holds.get(&hold).ok_or(BookProblem::UnknownHold { hold })?;
        let kind = self
            .accounts
            .get(&held.account)
            .map(|a| a.kind)
            .ok_or(BookProblem::UnknownAccount { account: held.account })?;
        let shrink_minor = part_minor.checked_mul(-kind.growth_sign()).ok_or(BookProblem::Overflow)?;
        let body = NewTransfer {
            kind: TransferKind::HoldPost,
            lines: vec![
                TransferLine { account: held.account, amount_minor: shrink_minor },
                TransferLine {
                    account: to,
                    amount_minor: shrink_minor.checked_neg().ok_or(BookProblem::Overflow)?,
                },
            ],
            idempotency_key,
            reverses: None,
        };
        self.post_with_hold(transfer, body, Some((hold, part_minor)), now)
    }

    /// Releases what a pending hold still reserves.
    pub fn void_hold(&mut self, hold: HoldId, now: DateTime<Utc>) -> Result<(), BookProblem> {
        Ok(self.holds.get_mut(&hold).ok_or(BookProblem::UnknownHold { hold })?.void(now)?)
    }

    /// Records that a pending hold's time has run out.
    pub fn expire_hold(&mut self, hold: HoldId, now: DateTime<Utc>) -> Result<(), BookProblem> {
        Ok(self.holds.get_mut(&hold).ok_or(BookProblem::UnknownHold { hold })?.expire(now)?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ALICE, BOB, COLLECT, book, credit_in, move_, t, tid};
    use super::*;
    use crate::ledger::codes::HoldStatus;
    use uuid::Uuid;

    #[test]
    fn holds_reduce_available_and_post_in_parts() {
        let mut book = book();
        credit_in(&mut book, 10, ALICE, 1_000);
        let deposit = HoldId(Uuid::from_u128(50));
        book.place_hold(deposit, ALICE, 600, Some(t(3_600)), t(1)).unwrap();
        assert_eq!(book.available(ALICE, t(2)), Ok(400));
        assert_eq!(book.held_minor(ALICE, t(2)), Ok(600));
        // Spending the held part is refused; spending the free part is not.
        assert_eq!(
            book.post(tid(11), move_(TransferKind::InternalTransfer, ALICE, BOB, 401, "spend"), t(2)),
            Err(BookProblem::BelowZero { account: ALICE, available_minor: -1 })
        );
        assert_eq!(
            book.place_hold(HoldId(Uuid::from_u128(51)), ALICE, 401, None, t(2)),
            Err(BookProblem::BelowZero { account: ALICE, available_minor: -1 })
        );
        book.post_hold(deposit, 250, BOB, tid(12), "post-1".into(), t(3)).unwrap();
        assert_eq!(
            (book.balance(ALICE), book.available(ALICE, t(3)), book.balance(BOB)),
            (Ok(750), Ok(400), Ok(250))
        );
        assert_eq!(book.transfer(tid(12)).unwrap().hold, Some(deposit));
        assert_eq!(book.transfer(tid(12)).unwrap().body.kind, TransferKind::HoldPost);
        // A retried post is a repeat, even though the hold moved on.
        assert_eq!(
            book.post_hold(deposit, 250, BOB, tid(13), "post-1".into(), t(4)),
            Ok(Posted::Repeat(tid(12)))
        );
        assert_eq!(
            book.post_hold(deposit, 351, BOB, tid(13), "post-2".into(), t(4)),
            Err(HoldProblem::AboveHold { amount_minor: 351, remaining_minor: 350 }.into())
        );
        book.void_hold(deposit, t(5)).unwrap();
        assert_eq!(book.hold(deposit).unwrap().status, HoldStatus::Voided);
        assert_eq!(book.available(ALICE, t(5)), Ok(750));
        assert_eq!(
            book.void_hold(deposit, t(6)),
            Err(HoldProblem::NotPending { status: HoldStatus::Voided }.into())
        );
    }

    #[test]
    fn posting_the_whole_hold_marks_it_posted() {
        let mut book = book();
        credit_in(&mut book, 10, ALICE, 500);
        let hold = HoldId(Uuid::from_u128(50));
        book.place_hold(hold, ALICE, 500, None, t(1)).unwrap();
        book.post_hold(hold, 500, BOB, tid(11), "all".into(), t(2)).unwrap();
        assert_eq!(book.hold(hold).unwrap().status, HoldStatus::Posted);
        assert_eq!(
            (book.balance(ALICE), book.available(ALICE, t(2)), book.balance(BOB)),
            (Ok(0), Ok(0), Ok(500))
        );
    }

    #[test]
    fn an_expired_hold_frees_funds_without_being_recorded() {
        let mut book = book();
        credit_in(&mut book, 10, ALICE, 1_000);
        let hold = HoldId(Uuid::from_u128(50));
        book.place_hold(hold, ALICE, 1_000, Some(t(60)), t(0)).unwrap();
        assert_eq!(book.available(ALICE, t(59)), Ok(0));
        assert_eq!(book.available(ALICE, t(60)), Ok(1_000));
        assert_eq!(
            book.post_hold(hold, 10, BOB, tid(11), "late".into(), t(60)),
            Err(HoldProblem::NotPending { status: HoldStatus::Expired }.into())
        );
        assert_eq!(
            book.expire_hold(hold, t(30)),
            Err(HoldProblem::NotYetExpired { expires_at: t(60) }.into())
        );
        book.expire_hold(hold, t(61)).unwrap();
        assert_eq!(book.hold(hold).unwrap().status, HoldStatus::Expired);
        assert_eq!(book.place_hold(hold, ALICE, 1, None, t(62)), Err(BookProblem::HoldIdUsed { hold }));
        let nowhere = HoldId(Uuid::nil());
        assert_eq!(book.void_hold(nowhere, t(62)), Err(BookProblem::UnknownHold { hold: nowhere }));
        assert_eq!(
            book.post_hold(hold, 0, BOB, tid(11), "zero".into(), t(62)),
            Err(HoldProblem::NonPositiveAmount { amount_minor: 0 }.into())
        );
    }

    #[test]
    fn a_hold_that_could_never_post_is_refused() {
        let mut book = book();
        credit_in(&mut book, 10, COLLECT, 100);
        assert_eq!(
            book.place_hold(HoldId(Uuid::nil()), COLLECT, 10, None, t(1)),
            Err(BookProblem::DebitRefused { account: COLLECT })
        );
    }
}
