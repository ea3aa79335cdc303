//! Transfers: balanced sets of signed lines (positive = debit, negative = credit).
//!
//! A posted transfer is never edited; a mistake is undone by a reversal
//! ([`reversal_of`]), which keeps the history readable for audit and replay.

use super::codes::TransferKind;
use super::ids::{AccountId, HoldId, TransferId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The longest idempotency key, in characters (the storage column's width).
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// One line of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TransferLine {
    /// The account the line posts to.
    pub account: AccountId,
    /// Fen: positive = debit, negative = credit. Never zero.
    pub amount_minor: i64,
}

/// A transfer as asked for, before it is posted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NewTransfer {
    /// Why it is posted.
    pub kind: TransferKind,
    /// At least two lines, one per account, summing to zero.
    pub lines: Vec<TransferLine>,
    /// The caller's key: posting the same body under the same key again posts
    /// nothing (a retried request).
    pub idempotency_key: String,
    /// The transfer this one undoes; set exactly when `kind` is `Reversal`.
    pub reverses: Option<TransferId>,
}

/// A posted transfer, as the book keeps it and storage writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transfer {
    /// The caller's id (UUIDv7).
    pub id: TransferId,
    /// When it was posted; its business date decides the daily balances.
    pub posted_at: DateTime<Utc>,
    /// The hold this transfer posted (part of), for `HoldPost` transfers.
    pub hold: Option<HoldId>,
    /// What was posted.
    pub body: NewTransfer,
}

/// Why a transfer cannot be posted (its shape alone; the book adds account rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum TransferProblem {
    /// A transfer needs a debit and a credit.
    #[error("{count} line(s); at least two needed")]
    TooFewLines {
        /// Lines given.
        count: usize,
    },
    /// A zero line carries nothing and hides mistakes.
    #[error("zero line for account {account}")]
    ZeroLine {
        /// The line's account.
        account: AccountId,
    },
    /// Debits and credits differ.
    #[error("lines sum to {sum_minor}, not zero")]
    Unbalanced {
        /// Debits − credits (fen).
        sum_minor: i64,
    },
    /// An amount or a total leaves the `i64` range.
    #[error("amount overflow")]
    Overflow,
    /// One account on two lines: net them into one.
    #[error("account {account} on two lines")]
    DuplicateAccount {
        /// The repeated account.
        account: AccountId,
    },
    /// The idempotency key is empty or blank.
    #[error("empty idempotency key")]
    EmptyKey,
    /// The idempotency key is longer than [`MAX_IDEMPOTENCY_KEY_CHARS`].
    #[error("idempotency key of {chars} characters, at most {max_chars}")]
    KeyTooLong {
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max_chars: usize,
    },
    /// `reverses` set without the `Reversal` kind, or the other way round.
    #[error("reversal kind and reversed transfer must go together")]
    ReversalLink,
}

impl NewTransfer {
    /// Checks the transfer's shape: at least two non-zero lines on distinct
    /// accounts summing to zero, a usable key, a consistent reversal link.
    pub fn validate(&self) -> Result<(), TransferProblem> {
        if self.lines.len() < 2 {
            return Err(TransferProblem::TooFewLines { count: self.lines.len() });
        }
        let mut seen = BTreeSet::new();
        // i128 so no order of lines can overflow before the total is known.
        let mut sum: i128 = 0;
        for line in &self.lines {
            if line.amount_minor == 0 {
                return Err(TransferProblem::ZeroLine { account: line.account });
            }
            // A line must be negatable (reversal) and fit a credit total.
            if line.amount_minor == i64::MIN {
                return Err(TransferProblem::Overflow);
            }
            if !seen.insert(line.account) {
                return Err(TransferProblem::DuplicateAccount { account: line.account });
            }
            sum += i128::from(line.amount_minor);
        }
        if sum != 0 {
            let sum_minor = i64::try_from(sum).map_err(|_| TransferProblem::Overflow)?;
            return Err(TransferProblem::Unbalanced { sum_minor });
        }
        check_key(&self.idempotency_key)?;
        if (self.kind == TransferKind::Reversal) != self.reverses.is_some() {
            return Err(TransferProblem::ReversalLink);
        }
        Ok(())
    }
}

/// Checks an idempotency key: not blank, not longer than the column.
pub(super) fn check_key(key: &str) -> Result<(), TransferProblem> {
    if key.trim().is_empty() {
        return Err(TransferProblem::EmptyKey);
    }
    let chars = key.chars().count();
    if chars > MAX_IDEMPOTENCY_KEY_CHARS {
        return Err(TransferProblem::KeyTooLong { chars, max_chars: MAX_IDEMPOTENCY_KEY_CHARS });
    }
    Ok(())
}

/// The transfer that undoes `original`: every line negated, kind `Reversal`,
/// `reverses` set to the original's id. Lines whose negation would overflow cannot
/// exist in a validated transfer; they are kept as they are (and fail to post).
pub fn reversal_of(original: &Transfer, idempotency_key: String) -> NewTransfer {
    NewTransfer {
        kind: TransferKind::Reversal,
        lines: original
            .body
            .lines
            .iter()
            .map(|line| TransferLine {
                account: line.account,
                amount_minor: line.amount_minor.checked_neg().unwrap_or(line.amount_minor),
            })
            .collect(),
        idempotency_key,
        reverses: Some(original.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn acct(n: u128) -> AccountId {
        AccountId(Uuid::from_u128(n))
    }

    fn transfer(lines: &[(u128, i64)]) -> NewTransfer {
        NewTransfer {
            kind: TransferKind::InternalTransfer,
            lines: lines
                .iter()
                .map(|&(a, amount_minor)| TransferLine { account: acct(a), amount_minor })
                .collect(),
            idempotency_key: "k-1".into(),
            reverses: None,
        }
    }

    #[test]
    fn a_balanced_transfer_is_valid() {
        assert_eq!(transfer(&[(1, 500), (2, -300), (3, -200)]).validate(), Ok(()));
    }

    #[test]
    fn shape_problems_are_typed() {
        assert_eq!(transfer(&[(1, 5)]).validate(), Err(TransferProblem::TooFewLines { count: 1 }));
        assert_eq!(
            transfer(&[(1, 5), (2, 0), (3, -5)]).validate(),
            Err(TransferProblem::ZeroLine { account: acct(2) })
        );
        assert_eq!(
            transfer(&[(1, 5), (2, -3)]).validate(),
            Err(TransferProblem::Unbalanced { sum_minor: 2 })
        );
        assert_eq!(
            transfer(&[(1, 5), (1, -5)]).validate(),
            Err(TransferProblem::DuplicateAccount { account: acct(1) })
        );
        assert_eq!(transfer(&[(1, i64::MIN), (2, 1)]).validate(), Err(TransferProblem::Overflow));
        // The sum of two maxima does not fit i64: reported as overflow, not a wrapped sum.
        assert_eq!(transfer(&[(1, i64::MAX), (2, i64::MAX)]).validate(), Err(TransferProblem::Overflow));
        // Large lines that balance are fine: the sum is taken in i128.
        assert_eq!(
            transfer(&[(1, i64::MAX), (2, i64::MAX), (3, -i64::MAX), (4, -i64::MAX)]).validate(),
            Ok(())
        );
    }

    #[test]
    fn keys_and_reversal_links_are_checked() {
        let mut t = transfer(&[(1, 5), (2, -5)]);
        t.idempotency_key = "  ".into();
        assert_eq!(t.validate(), Err(TransferProblem::EmptyKey));
        t.idempotency_key = "键".repeat(MAX_IDEMPOTENCY_KEY_CHARS);
        assert_eq!(t.validate(), Ok(()));
        t.idempotency_key.push('x');
        assert_eq!(
            t.validate(),
            Err(TransferProblem::KeyTooLong { chars: MAX_IDEMPOTENCY_KEY_CHARS + 1, max_chars: 128 })
        );
        t.idempotency_key = "k".into();
        t.kind = TransferKind::Reversal;
        assert_eq!(t.validate(), Err(TransferProblem::ReversalLink));
        t.kind = TransferKind::Refund;
        t.reverses = Some(TransferId(Uuid::from_u128(9)));
        assert_eq!(t.validate(), Err(TransferProblem::ReversalLink));
    }

    #[test]
    fn a_reversal_negates_every_line_and_names_the_original() {
        let original = Transfer {
            id: TransferId(Uuid::from_u128(7)),
            posted_at: DateTime::UNIX_EPOCH,
            hold: None,
            body: transfer(&[(1, 500), (2, -300), (3, -200)]),
        };
        let reversal = reversal_of(&original, "undo-7".into());
        assert_eq!(reversal.kind, TransferKind::Reversal);
        assert_eq!(reversal.reverses, Some(original.id));
        assert_eq!(reversal.idempotency_key, "undo-7");
        let amounts: Vec<i64> = reversal.lines.iter().map(|l| l.amount_minor).collect();
        assert_eq!(amounts, [-500, 300, 200]);
        assert_eq!(reversal.validate(), Ok(()));
    }

    #[test]
    fn problems_serialize_as_codes_with_parameters() {
        let json = serde_json::to_value(TransferProblem::Unbalanced { sum_minor: -3 }).unwrap();
        assert_eq!(json, serde_json::json!({"problem": "unbalanced", "sum_minor": -3}));
    }
}
