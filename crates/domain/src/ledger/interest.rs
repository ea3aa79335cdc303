//! Interest on virtual balances by day-weighted balance (积数): each account's
//! product Σ end-of-day balance × days over a period, then the interest the bank
//! paid on the physical account split by product with the largest-remainder
//! method, so the shares add up to the fen.

use super::ids::AccountId;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The bank's day ends at midnight Beijing time (UTC+8, no daylight saving).
pub const BUSINESS_DAY_OFFSET_SECONDS: i32 = 8 * 3600;

/// The longest interest period: a guard against a mistyped year, not a business rule.
pub const MAX_PERIOD_DAYS: u32 = 3_660;

/// The business date (Beijing) of an instant: which end-of-day balance it counts in.
pub fn business_date(at: DateTime<Utc>) -> NaiveDate {
    match FixedOffset::east_opt(BUSINESS_DAY_OFFSET_SECONDS) {
        Some(beijing) => at.with_timezone(&beijing).date_naive(),
        None => at.date_naive(),
    }
}

/// An inclusive range of dates `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PeriodDates", into = "PeriodDates")]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
}

/// The serde form of [`Period`], checked on the way in.
#[derive(Serialize, Deserialize)]
struct PeriodDates {
    start: NaiveDate,
    end: NaiveDate,
}

impl TryFrom<PeriodDates> for Period {
    type Error = InterestProblem;
    fn try_from(dates: PeriodDates) -> Result<Self, Self::Error> {
        Period::new(dates.start, dates.end)
    }
}

impl From<Period> for PeriodDates {
    fn from(period: Period) -> Self {
        Self { start: period.start, end: period.end }
    }
}

impl Period {
    /// The dates from `start` to `end`, both included.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, InterestProblem> {
        if end < start {
            return Err(InterestProblem::EndBeforeStart { start, end });
        }
        let period = Self { start, end };
        if period.days() > MAX_PERIOD_DAYS {
            return Err(InterestProblem::PeriodTooLong { days: period.days(), max_days: MAX_PERIOD_DAYS });
        }
        Ok(period)
    }

    /// The first date.
    pub fn start(self) -> NaiveDate {
        self.start
    }

    /// The last date (included).
    pub fn end(self) -> NaiveDate {
        self.end
    }

    /// The number of dates in the period (at least 1).
    pub fn days(self) -> u32 {
        let span = (self.end - self.start).num_days().saturating_add(1);
        u32::try_from(span).unwrap_or(u32::MAX)
    }

    /// Every date of the period, in order.
    pub fn dates(self) -> impl Iterator<Item = NaiveDate> {
        self.start.iter_days().take_while(move |d| *d <= self.end)
    }
}

/// An account's balance at the end of a business date (normal side, fen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DayBalance {
    /// The business date.
    pub date: NaiveDate,
    /// The end-of-day balance; it holds until the next entry's date.
    pub balance_minor: i64,
}

/// Why interest cannot be computed or allocated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum InterestProblem {
    /// The period ends before it starts.
    #[error("period {start}..={end} ends before it starts")]
    EndBeforeStart {
        /// First date.
        start: NaiveDate,
        /// Last date.
        end: NaiveDate,
    },
    /// The period is longer than [`MAX_PERIOD_DAYS`].
    #[error("period of {days} days, at most {max_days}")]
    PeriodTooLong {
        /// Its length.
        days: u32,
        /// The limit.
        max_days: u32,
    },
    /// Balance entries must be in strictly increasing date order.
    #[error("balance series not in date order at {date}")]
    UnsortedSeries {
        /// The first date out of order.
        date: NaiveDate,
    },
    /// Only positive interest is allocated.
    #[error("interest {interest_minor} is not positive")]
    NonPositiveInterest {
        /// What was given.
        interest_minor: i64,
    },
    /// No account has a positive product: there is nothing to split by.
    #[error("all products are zero")]
    AllProductsZero,
    /// An account appears twice among the products.
    #[error("account {account} listed twice")]
    DuplicateAccount {
        /// The repeated account.
        account: AccountId,
    },
    /// A balance, product or share leaves its integer range.
    #[error("interest arithmetic overflow")]
    Overflow,
}

/// The day-weighted balance product (积数, fen·days) over `period`: for each date
/// the balance of the latest entry on or before it (zero before the first), with
/// negative balances counted as zero. Entries after the period are ignored; a
/// sparse series (entries only where the balance changed) gives the same product
/// as a dense one.
pub fn day_weighted_product(period: Period, series: &[DayBalance]) -> Result<u128, InterestProblem> {
    for pair in series.windows(2) {
        if let [earlier, later] = pair
            && later.date <= earlier.date
        {
            return Err(InterestProblem::UnsortedSeries { date: later.date });
        }
    }
    let mut product: u128 = 0;
    // The balance in force at the start of the period, then segment by segment.
    let mut balance_minor: i64 =
        series.iter().take_while(|e| e.date <= period.start).last().map_or(0, |e| e.balance_minor);
    let mut from = period.start;
    for entry in series.iter().filter(|e| e.date > period.start && e.date <= period.end) {
        product = add_segment(product, balance_minor, (entry.date - from).num_days())?;
        balance_minor = entry.balance_minor;
        from = entry.date;
    }
    let tail_days = (period.end - from).num_days().saturating_add(1);
    add_segment(product, balance_minor, tail_days)
}

fn add_segment(product: u128, balance_minor: i64, days: i64) -> Result<u128, InterestProblem> {
    // Negative balances earn nothing (no negative interest on virtual accounts).
    let positive = u128::try_from(balance_minor.max(0)).map_err(|_| InterestProblem::Overflow)?;
    let days = u128::try_from(days).map_err(|_| InterestProblem::Overflow)?;
    positive.checked_mul(days).and_then(|p| product.checked_add(p)).ok_or(InterestProblem::Overflow)
}

/// One account's line in an interest preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InterestLine {
    /// The account.
    pub account: AccountId,
    /// Its day-weighted product (fen·days).
    pub product_minor_days: u128,
    /// Its share of the interest (fen).
    pub share_minor: i64,
}

/// What an interest allocation would post, for review before posting.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InterestPreview {
    /// The interest to split (fen).
    pub interest_minor: i64,
    /// Σ products (fen·days).
    pub total_product_minor_days: u128,
    /// One line per account, by account id ascending; shares sum to `interest_minor`.
    pub lines: Vec<InterestLine>,
}

/// Splits `interest_minor` (> 0) in proportion to the products by largest
/// remainder: each account gets the floor of its exact share, then the fen left
/// over go one each to the largest remainders, ties to the smaller account id. The
/// shares sum to the interest exactly; the result (sorted by account id) does not
/// depend on the order of the input.
pub fn allocate(
    interest_minor: i64,
    products: &[(AccountId, u128)],
) -> Result<Vec<(AccountId, i64)>, InterestProblem> {
    Ok(preview(interest_minor, products)?.lines.into_iter().map(|l| (l.account, l.share_minor)).collect())
}

/// [`allocate`], with each account's product and the total, for review.
pub fn preview(
    interest_minor: i64,
    products: &[(AccountId, u128)],
) -> Result<InterestPreview, InterestProblem> {
    if interest_minor <= 0 {
        return Err(InterestProblem::NonPositiveInterest { interest_minor });
    }
    let mut seen = BTreeSet::new();
    for (account, _) in products {
        if !seen.insert(*account) {
            return Err(InterestProblem::DuplicateAccount { account: *account });
        }
    }
    let total = products
        .iter()
        .try_fold(0u128, |sum, (_, p)| sum.checked_add(*p))
        .ok_or(InterestProblem::Overflow)?;
    if total == 0 {
        return Err(InterestProblem::AllProductsZero);
    }
    let interest = u128::try_from(interest_minor).map_err(|_| InterestProblem::Overflow)?;
    // (account, product, floor share, remainder): exact integer shares, no rounding.
    let mut rows = Vec::with_capacity(products.len());
    let mut allocated: u128 = 0;
    for &(account, product) in products {
        let scaled = interest.checked_mul(product).ok_or(InterestProblem::Overflow)?;
        let share = scaled / total;
        allocated += share;
        rows.push((account, product, share, scaled % total));
    }
    // Fewer than the number of accounts with a remainder, so each gets at most one.
    let leftover = interest.saturating_sub(allocated);
    rows.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(&b.0)));
    let mut lines = Vec::with_capacity(rows.len());
    for (rank, (account, product, share, _)) in rows.into_iter().enumerate() {
        let bonus = u128::from(u128::try_from(rank).map_err(|_| InterestProblem::Overflow)? < leftover);
        let share_minor = i64::try_from(share + bonus).map_err(|_| InterestProblem::Overflow)?;
        lines.push(InterestLine { account, product_minor_days: product, share_minor });
    }
    lines.sort_by_key(|l| l.account);
    Ok(InterestPreview { interest_minor, total_product_minor_days: total, lines })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    fn acct(n: u128) -> AccountId {
        AccountId(Uuid::from_u128(n))
    }

    fn entry(day: u32, balance_minor: i64) -> DayBalance {
        DayBalance { date: d(day), balance_minor }
    }

    #[test]
    fn business_dates_follow_beijing_midnight() {
        let before = Utc.with_ymd_and_hms(2026, 3, 1, 15, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 1, 16, 0, 0).unwrap();
        assert_eq!(business_date(before), d(1));
        assert_eq!(business_date(after), d(2));
    }

    #[test]
    fn periods_are_inclusive_and_checked() {
        let p = Period::new(d(1), d(31)).unwrap();
        assert_eq!(p.days(), 31);
        assert_eq!(p.dates().count(), 31);
        assert_eq!(Period::new(d(2), d(1)), Err(InterestProblem::EndBeforeStart { start: d(2), end: d(1) }));
        let far = NaiveDate::from_ymd_opt(2040, 1, 1).unwrap();
        assert!(matches!(Period::new(d(1), far), Err(InterestProblem::PeriodTooLong { .. })));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), p);
        assert!(serde_json::from_str::<Period>(r#"{"start":"2026-03-02","end":"2026-03-01"}"#).is_err());
    }

    #[test]
    fn product_is_balance_times_days_with_negatives_as_zero() {
        let p = Period::new(d(1), d(10)).unwrap();
        // 100 on days 1–4, −50 on days 5–6 (counts 0), 30 on days 7–10.
        let sparse = [entry(1, 100), entry(5, -50), entry(7, 30)];
        assert_eq!(day_weighted_product(p, &sparse).unwrap(), 100 * 4 + 30 * 4);
        let dense: Vec<DayBalance> = (1..=10)
            .map(|day| {
                entry(
                    day,
                    if day <= 4 {
                        100
                    } else if day <= 6 {
                        -50
                    } else {
                        30
                    },
                )
            })
            .collect();
        assert_eq!(day_weighted_product(p, &dense).unwrap(), 520);
        // A balance set before the period carries in; entries after it are ignored.
        let carried = [DayBalance { date: NaiveDate::from_ymd_opt(2026, 2, 20).unwrap(), balance_minor: 7 }];
        assert_eq!(day_weighted_product(p, &carried).unwrap(), 70);
        assert_eq!(day_weighted_product(p, &[entry(11, 1_000)]).unwrap(), 0);
        assert_eq!(
            day_weighted_product(p, &[entry(3, 1), entry(3, 2)]),
            Err(InterestProblem::UnsortedSeries { date: d(3) })
        );
    }

    #[test]
    fn largest_remainder_splits_to_the_fen_and_breaks_ties_by_id() {
        // 100 fen over three equal products: 33 each, the spare fen to the smallest id.
        let shares = allocate(100, &[(acct(3), 5), (acct(1), 5), (acct(2), 5)]).unwrap();
        assert_eq!(shares, vec![(acct(1), 34), (acct(2), 33), (acct(3), 33)]);
        // 10 fen over 1:2:3 → exact 1.67, 3.33, 5: floors 1, 3, 5 and the spare fen to 1.67.
        let shares = allocate(10, &[(acct(1), 1), (acct(2), 2), (acct(3), 3)]).unwrap();
        assert_eq!(shares, vec![(acct(1), 2), (acct(2), 3), (acct(3), 5)]);
        let shares = allocate(1, &[(acct(1), 0), (acct(2), 9)]).unwrap();
        assert_eq!(shares, vec![(acct(1), 0), (acct(2), 1)]);
    }

    #[test]
    fn allocation_problems_are_typed() {
        assert_eq!(
            allocate(0, &[(acct(1), 1)]),
            Err(InterestProblem::NonPositiveInterest { interest_minor: 0 })
        );
        assert_eq!(
            allocate(-5, &[(acct(1), 1)]),
            Err(InterestProblem::NonPositiveInterest { interest_minor: -5 })
        );
        assert_eq!(allocate(5, &[(acct(1), 0), (acct(2), 0)]), Err(InterestProblem::AllProductsZero));
        assert_eq!(allocate(5, &[]), Err(InterestProblem::AllProductsZero));
        assert_eq!(
            allocate(5, &[(acct(1), 1), (acct(1), 2)]),
            Err(InterestProblem::DuplicateAccount { account: acct(1) })
        );
        assert_eq!(allocate(i64::MAX, &[(acct(1), u128::MAX / 2)]), Err(InterestProblem::Overflow));
    }

    #[test]
    fn preview_lists_products_and_shares() {
        let preview = preview(7, &[(acct(2), 30), (acct(1), 40)]).unwrap();
        assert_eq!(preview.total_product_minor_days, 70);
        assert_eq!(
            preview.lines,
            vec![
                InterestLine { account: acct(1), product_minor_days: 40, share_minor: 4 },
                InterestLine { account: acct(2), product_minor_days: 30, share_minor: 3 },
            ]
        );
    }
}
