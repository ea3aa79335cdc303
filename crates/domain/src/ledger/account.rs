//! Account flags and balances on the account's normal side.
//!
//! Line amounts are signed: positive = debit, negative = credit. A [`Balance`] keeps
//! the two totals apart (as banks' statements do) and reads the balance on the side
//! where the account's kind grows.

use super::codes::AccountKind;
use serde::{Deserialize, Serialize};

/// Rules an account enforces on every posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct AccountFlags {
    /// Available (posted − active holds, on the normal side) may not go below zero:
    /// a customer cannot spend more than they have.
    pub available_not_below_zero: bool,
    /// Only credits may be posted (debit lines are refused).
    pub credit_only: bool,
    /// Only debits may be posted (credit lines are refused).
    pub debit_only: bool,
}

/// Why flags cannot describe an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum FlagsProblem {
    /// Stored bits this build does not know.
    #[error("unknown flag bits {bits:#x}")]
    UnknownBits {
        /// The stored value.
        bits: u32,
    },
    /// `credit_only` and `debit_only` together would refuse every line.
    #[error("credit_only and debit_only together")]
    Contradictory,
}

impl AccountFlags {
    const AVAILABLE_NOT_BELOW_ZERO: u32 = 1;
    const CREDIT_ONLY: u32 = 1 << 1;
    const DEBIT_ONLY: u32 = 1 << 2;

    /// The flags of a customer's sub-account: it cannot be overdrawn.
    pub const CUSTOMER: Self = Self { available_not_below_zero: true, credit_only: false, debit_only: false };

    /// The compact form stored in an integer column (bit 0, 1, 2 in field order).
    pub fn bits(self) -> u32 {
        let mut bits = 0;
        if self.available_not_below_zero {
            bits |= Self::AVAILABLE_NOT_BELOW_ZERO;
        }
        if self.credit_only {
            bits |= Self::CREDIT_ONLY;
        }
        if self.debit_only {
            bits |= Self::DEBIT_ONLY;
        }
        bits
    }

    /// Reads [`Self::bits`] back; unknown bits and contradictory flags are refused.
    pub fn from_bits(bits: u32) -> Result<Self, FlagsProblem> {
        let known = Self::AVAILABLE_NOT_BELOW_ZERO | Self::CREDIT_ONLY | Self::DEBIT_ONLY;
        if bits & !known != 0 {
            return Err(FlagsProblem::UnknownBits { bits });
        }
        let flags = Self {
            available_not_below_zero: bits & Self::AVAILABLE_NOT_BELOW_ZERO != 0,
            credit_only: bits & Self::CREDIT_ONLY != 0,
            debit_only: bits & Self::DEBIT_ONLY != 0,
        };
        flags.check()?;
        Ok(flags)
    }

    /// Whether an account could ever post with these flags.
    pub fn check(self) -> Result<(), FlagsProblem> {
        if self.credit_only && self.debit_only { Err(FlagsProblem::Contradictory) } else { Ok(()) }
    }

    /// Whether a line of this signed amount may post (positive = debit).
    pub fn allows_line(self, amount_minor: i64) -> bool {
        !(amount_minor > 0 && self.credit_only || amount_minor < 0 && self.debit_only)
    }
}

/// An account's posted totals. Both are sums of line magnitudes, never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Balance {
    /// Sum of debit lines (fen).
    pub debits_minor: i64,
    /// Sum of credit lines, as a positive number (fen).
    pub credits_minor: i64,
}

impl Balance {
    /// The balance on the normal side of `kind` (see [`normal_balance`]).
    pub fn posted_minor(self, kind: AccountKind) -> i64 {
        normal_balance(kind, self.debits_minor, self.credits_minor)
    }

    /// The totals after one more line (positive = debit); `None` on overflow.
    pub fn with_line(self, amount_minor: i64) -> Option<Self> {
        if amount_minor >= 0 {
            Some(Self { debits_minor: self.debits_minor.checked_add(amount_minor)?, ..self })
        } else {
            let credit_minor = amount_minor.checked_neg()?;
            Some(Self { credits_minor: self.credits_minor.checked_add(credit_minor)?, ..self })
        }
    }
}

/// The balance on the side where `kind` grows: debits − credits for assets and
/// expenses, credits − debits for liabilities and income. Exact for the non-negative
/// totals a [`Balance`] holds; saturates only for inputs no ledger produces.
pub fn normal_balance(kind: AccountKind, debits_minor: i64, credits_minor: i64) -> i64 {
    if kind.is_debit_normal() {
        debits_minor.saturating_sub(credits_minor)
    } else {
        credits_minor.saturating_sub(debits_minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_through_bits() {
        for bits in 0..8u32 {
            match AccountFlags::from_bits(bits) {
                Ok(flags) => assert_eq!(flags.bits(), bits),
                Err(problem) => {
                    assert_eq!(bits & 0b110, 0b110, "only both sides together are refused");
                    assert_eq!(problem, FlagsProblem::Contradictory);
                }
            }
        }
        assert_eq!(AccountFlags::from_bits(8), Err(FlagsProblem::UnknownBits { bits: 8 }));
        assert_eq!(AccountFlags::CUSTOMER.bits(), 1);
        assert_eq!(AccountFlags::default().bits(), 0);
    }

    #[test]
    fn flags_refuse_the_forbidden_side() {
        let credit_only = AccountFlags { credit_only: true, ..AccountFlags::default() };
        assert!(credit_only.allows_line(-5));
        assert!(!credit_only.allows_line(5));
        let debit_only = AccountFlags { debit_only: true, ..AccountFlags::default() };
        assert!(debit_only.allows_line(5));
        assert!(!debit_only.allows_line(-5));
    }

    #[test]
    fn a_liability_grows_with_credits_and_an_asset_with_debits() {
        let balance = Balance::default().with_line(-1_000).unwrap().with_line(300).unwrap();
        assert_eq!(balance, Balance { debits_minor: 300, credits_minor: 1_000 });
        assert_eq!(balance.posted_minor(AccountKind::Liability), 700);
        assert_eq!(balance.posted_minor(AccountKind::Income), 700);
        assert_eq!(balance.posted_minor(AccountKind::Asset), -700);
        assert_eq!(normal_balance(AccountKind::Expense, 50, 20), 30);
    }

    #[test]
    fn overflowing_totals_are_refused() {
        let full = Balance { debits_minor: i64::MAX, credits_minor: 0 };
        assert_eq!(full.with_line(1), None);
        assert_eq!(Balance::default().with_line(i64::MIN), None);
        assert!(full.with_line(-1).is_some());
    }
}
