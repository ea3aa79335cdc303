//! Views recomputed from the transfer list alone: every account's totals, and an
//! account's end-of-day balances. Database tests use them to check stored balances
//! against stored transfers; interest uses the daily series.

use super::account::Balance;
use super::codes::AccountKind;
use super::ids::{AccountId, TransferId};
use super::interest::{DayBalance, InterestProblem, Period, business_date};
use super::transfer::{Transfer, TransferProblem};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A transfer from the list given to [`replay`] that cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("transfer {transfer}: {error}")]
pub struct ReplayProblem {
    /// The transfer.
    pub transfer: TransferId,
    /// Why.
    pub error: TransferProblem,
}

/// Recomputes every account's totals from the transfer list alone (each transfer
/// re-validated), as a check on stored balances. Accounts no line touches are absent.
pub fn replay(transfers: &[Transfer]) -> Result<BTreeMap<AccountId, Balance>, ReplayProblem> {
    let mut balances: BTreeMap<AccountId, Balance> = BTreeMap::new();
    for transfer in transfers {
        transfer.body.validate().map_err(|error| ReplayProblem { transfer: transfer.id, error })?;
        for line in &transfer.body.lines {
            let balance = balances.entry(line.account).or_default();
            *balance = balance
                .with_line(line.amount_minor)
                .ok_or(ReplayProblem { transfer: transfer.id, error: TransferProblem::Overflow })?;
        }
    }
    Ok(balances)
}

/// The end-of-day balance on `kind`'s normal side of `account` for every date of
/// `period`, each transfer counted on its business date ([`business_date`]).
pub fn daily_balances(
    transfers: &[Transfer],
    account: AccountId,
    kind: AccountKind,
    period: Period,
) -> Result<Vec<DayBalance>, InterestProblem> {
    let sign = i128::from(kind.growth_sign());
    let mut opening: i128 = 0;
    let mut moves: BTreeMap<NaiveDate, i128> = BTreeMap::new();
    for transfer in transfers {
        let date = business_date(transfer.posted_at);
        if date > period.end() {
            continue;
        }
        for line in transfer.body.lines.iter().filter(|l| l.account == account) {
            let change = i128::from(line.amount_minor) * sign;
            if date < period.start() {
                opening += change;
            } else {
                *moves.entry(date).or_default() += change;
            }
        }
    }
    let mut running = opening;
    let mut series = Vec::with_capacity(usize::try_from(period.days()).unwrap_or(0));
    for date in period.dates() {
        running += moves.get(&date).copied().unwrap_or(0);
        let balance_minor = i64::try_from(running).map_err(|_| InterestProblem::Overflow)?;
        series.push(DayBalance { date, balance_minor });
    }
    Ok(series)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::codes::TransferKind;
    use crate::ledger::transfer::{NewTransfer, TransferLine};
    use chrono::{DateTime, TimeZone, Utc};
    use uuid::Uuid;

    const BANK: AccountId = AccountId(Uuid::from_u128(1));
    const ALICE: AccountId = AccountId(Uuid::from_u128(2));
    const BOB: AccountId = AccountId(Uuid::from_u128(3));

    fn transfer(
        n: u128,
        posted_at: DateTime<Utc>,
        debit: AccountId,
        credit: AccountId,
        amount_minor: i64,
    ) -> Transfer {
        Transfer {
            id: TransferId(Uuid::from_u128(n)),
            posted_at,
            hold: None,
            body: NewTransfer {
                kind: TransferKind::InternalTransfer,
                lines: vec![
                    TransferLine { account: debit, amount_minor },
                    TransferLine { account: credit, amount_minor: -amount_minor },
                ],
                idempotency_key: format!("k-{n}"),
                reverses: None,
            },
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[test]
    fn replay_sums_lines_per_account_and_reports_bad_transfers() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let transfers = vec![transfer(10, at, BANK, ALICE, 1_000), transfer(11, at, ALICE, BOB, 300)];
        let balances = replay(&transfers).unwrap();
        assert_eq!(balances[&BANK], Balance { debits_minor: 1_000, credits_minor: 0 });
        assert_eq!(balances[&ALICE], Balance { debits_minor: 300, credits_minor: 1_000 });
        assert_eq!(balances[&BOB].posted_minor(AccountKind::Liability), 300);
        assert_eq!(balances.len(), 3);
        let mut broken = transfers;
        broken[1].body.lines[0].amount_minor = 301;
        assert_eq!(
            replay(&broken),
            Err(ReplayProblem {
                transfer: TransferId(Uuid::from_u128(11)),
                error: TransferProblem::Unbalanced { sum_minor: 1 }
            })
        );
        let full = vec![transfer(1, at, BANK, ALICE, i64::MAX), transfer(2, at, BANK, BOB, 1)];
        assert_eq!(
            replay(&full),
            Err(ReplayProblem { transfer: TransferId(Uuid::from_u128(2)), error: TransferProblem::Overflow })
        );
    }

    #[test]
    fn daily_balances_carry_the_opening_and_follow_beijing_dates() {
        // 2026-02-27 counts as opening; 2026-03-02 16:30 UTC is 03-03 00:30 in Beijing.
        let transfers = vec![
            transfer(1, Utc.with_ymd_and_hms(2026, 2, 27, 3, 0, 0).unwrap(), BANK, ALICE, 1_000),
            transfer(2, Utc.with_ymd_and_hms(2026, 3, 2, 16, 30, 0).unwrap(), ALICE, BOB, 400),
            transfer(3, Utc.with_ymd_and_hms(2026, 3, 9, 0, 0, 0).unwrap(), BANK, ALICE, 5),
        ];
        let period = Period::new(day(2), day(4)).unwrap();
        let series = daily_balances(&transfers, ALICE, AccountKind::Liability, period).unwrap();
        let balances: Vec<(NaiveDate, i64)> = series.iter().map(|e| (e.date, e.balance_minor)).collect();
        assert_eq!(balances, vec![(day(2), 1_000), (day(3), 600), (day(4), 600)]);
        let bank = daily_balances(&transfers, BANK, AccountKind::Asset, Period::new(day(1), day(1)).unwrap());
        assert_eq!(bank, Ok(vec![DayBalance { date: day(1), balance_minor: 1_000 }]));
    }
}
