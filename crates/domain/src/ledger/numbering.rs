//! Virtual account numbers: the physical account number + a zero-padded suffix + a
//! Luhn check digit over both (the 网商银行 pattern: an incoming transfer to the
//! number lands in the physical account and the suffix names the virtual account).
//! And the quarantine before a closed number may go to another holder.
//!
//! Luhn catches every single mistyped digit and every swap of two adjacent digits
//! except `09` ↔ `90`; such a swap lands on another suffix, which the suffix lookup
//! must then treat as any other unknown number (suspense).

use crate::card::luhn_check_digit;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// The longest suffix: every 19-digit suffix fits in a `u64`.
const MAX_SUFFIX_LEN: u8 = 19;

/// How virtual numbers are made under one physical account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NumberingScheme {
    physical_number: String,
    suffix_len: u8,
}

/// Why a number or a scheme is not usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum NumberProblem {
    /// The physical number is empty or not digits, or the suffix length is not 1–19.
    #[error("physical number must be digits and the suffix 1 to 19 digits long")]
    BadScheme,
    /// The number contains something other than ASCII digits.
    #[error("not all digits")]
    NotDigits,
    /// Not as long as this scheme's numbers.
    #[error("{actual_len} digits, expected {expected_len}")]
    WrongLength {
        /// Digits a number of this scheme has.
        expected_len: usize,
        /// Digits given.
        actual_len: usize,
    },
    /// The number belongs under another physical account.
    #[error("number of another physical account")]
    OtherPhysicalAccount,
    /// The check digit does not match: a mistyped or swapped digit.
    #[error("check digit does not match")]
    BadCheckDigit,
    /// The suffix needs more digits than the scheme has.
    #[error("suffix {suffix} above {max_suffix}")]
    SuffixTooLarge {
        /// The suffix asked for.
        suffix: u64,
        /// The largest suffix of the scheme.
        max_suffix: u64,
    },
}

impl NumberingScheme {
    /// A scheme for `physical_number` (digits) with suffixes of `suffix_len` digits
    /// (1–19).
    pub fn new(physical_number: String, suffix_len: u8) -> Result<Self, NumberProblem> {
        let digits = !physical_number.is_empty() && physical_number.bytes().all(|b| b.is_ascii_digit());
        if !digits || suffix_len == 0 || suffix_len > MAX_SUFFIX_LEN {
            return Err(NumberProblem::BadScheme);
        }
        Ok(Self { physical_number, suffix_len })
    }

    /// The physical account's number.
    pub fn physical_number(&self) -> &str {
        &self.physical_number
    }

    /// Digits in a suffix.
    pub fn suffix_len(&self) -> u8 {
        self.suffix_len
    }

    /// The largest suffix: `10^suffix_len − 1`.
    pub fn max_suffix(&self) -> u64 {
        10u64.checked_pow(u32::from(self.suffix_len)).map_or(u64::MAX, |p| p - 1)
    }

    /// Digits in a full virtual number: physical + suffix + check digit.
    pub fn number_len(&self) -> usize {
        self.physical_number.len() + usize::from(self.suffix_len) + 1
    }

    /// The virtual number for `suffix`, zero-padded, with its check digit.
    pub fn number_for(&self, suffix: u64) -> Result<String, NumberProblem> {
        let max_suffix = self.max_suffix();
        if suffix > max_suffix {
            return Err(NumberProblem::SuffixTooLarge { suffix, max_suffix });
        }
        let width = usize::from(self.suffix_len);
        let mut number = format!("{}{suffix:0width$}", self.physical_number);
        number.push(luhn_check_digit(&number).ok_or(NumberProblem::NotDigits)?);
        Ok(number)
    }

    /// The suffix of a virtual number of this scheme.
    pub fn parse(&self, number: &str) -> Result<u64, NumberProblem> {
        if !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NumberProblem::NotDigits);
        }
        if number.len() != self.number_len() {
            return Err(NumberProblem::WrongLength {
                expected_len: self.number_len(),
                actual_len: number.len(),
            });
        }
        let (body, check) = number.split_at(number.len() - 1);
        // The check digit first: a typo in the physical part is a typo, not another account.
        if luhn_check_digit(body).map(String::from).as_deref() != Some(check) {
            return Err(NumberProblem::BadCheckDigit);
        }
        let suffix =
            body.strip_prefix(self.physical_number.as_str()).ok_or(NumberProblem::OtherPhysicalAccount)?;
        suffix.parse().map_err(|_| NumberProblem::NotDigits)
    }
}

/// The first date a number closed on `closed_at` may go to another holder.
pub fn reusable_from(closed_at: NaiveDate, quarantine_days: u32) -> NaiveDate {
    closed_at.checked_add_days(Days::new(u64::from(quarantine_days))).unwrap_or(NaiveDate::MAX)
}

/// Whether a closed number may be assigned to `new_owner` on `today`: its previous
/// owner may reopen it at once; anyone else only from [`reusable_from`] on, so money
/// sent to the old number by habit does not reach a stranger.
pub fn may_assign<O: PartialEq + ?Sized>(
    previous_owner: &O,
    new_owner: &O,
    closed_at: NaiveDate,
    quarantine_days: u32,
    today: NaiveDate,
) -> bool {
    previous_owner == new_owner || today >= reusable_from(closed_at, quarantine_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme() -> NumberingScheme {
        NumberingScheme::new("6228480012".into(), 6).unwrap()
    }

    #[test]
    fn numbers_round_trip_with_padding_and_a_check_digit() {
        let s = scheme();
        let number = s.number_for(42).unwrap();
        assert_eq!(number.len(), 17);
        assert!(number.starts_with("6228480012000042"));
        assert!(crate::card::luhn_valid(&number));
        assert_eq!(s.parse(&number), Ok(42));
        assert_eq!(s.parse(&s.number_for(999_999).unwrap()), Ok(999_999));
        assert_eq!(
            s.number_for(1_000_000),
            Err(NumberProblem::SuffixTooLarge { suffix: 1_000_000, max_suffix: 999_999 })
        );
    }

    #[test]
    fn schemes_are_checked() {
        assert_eq!(NumberingScheme::new(String::new(), 4), Err(NumberProblem::BadScheme));
        assert_eq!(NumberingScheme::new("12a".into(), 4), Err(NumberProblem::BadScheme));
        assert_eq!(NumberingScheme::new("123".into(), 0), Err(NumberProblem::BadScheme));
        assert_eq!(NumberingScheme::new("123".into(), 20), Err(NumberProblem::BadScheme));
        let widest = NumberingScheme::new("1".into(), 19).unwrap();
        assert_eq!(widest.max_suffix(), 9_999_999_999_999_999_999);
        assert_eq!(widest.parse(&widest.number_for(u64::MAX / 2).unwrap()), Ok(u64::MAX / 2));
    }

    #[test]
    fn parse_problems_are_typed() {
        let s = scheme();
        let good = s.number_for(7).unwrap();
        assert_eq!(s.parse("62284800120000x7x"), Err(NumberProblem::NotDigits));
        assert_eq!(s.parse(&good[1..]), Err(NumberProblem::WrongLength { expected_len: 17, actual_len: 16 }));
        let other = NumberingScheme::new("6228480013".into(), 6).unwrap().number_for(7).unwrap();
        assert_eq!(s.parse(&other), Err(NumberProblem::OtherPhysicalAccount));
    }

    #[test]
    fn every_single_digit_typo_is_caught() {
        let s = scheme();
        for suffix in [0, 1, 42, 90_909, 999_999] {
            let number = s.number_for(suffix).unwrap();
            for (i, original) in number.bytes().enumerate() {
                for digit in b'0'..=b'9' {
                    if digit == original {
                        continue;
                    }
                    let mut typo = number.clone().into_bytes();
                    typo[i] = digit;
                    let typo = String::from_utf8(typo).unwrap();
                    assert_eq!(s.parse(&typo), Err(NumberProblem::BadCheckDigit), "{typo}");
                }
            }
        }
    }

    #[test]
    fn adjacent_swaps_are_caught_except_luhns_09_blind_spot() {
        let s = scheme();
        let mut blind_spots = 0;
        for suffix in [12_345, 90_909, 509_172, 999_990] {
            let number = s.number_for(suffix).unwrap();
            let bytes = number.as_bytes();
            for i in 0..bytes.len() - 1 {
                if bytes[i] == bytes[i + 1] {
                    continue;
                }
                let mut swapped = bytes.to_vec();
                swapped.swap(i, i + 1);
                let swapped = String::from_utf8(swapped).unwrap();
                let pair = [bytes[i], bytes[i + 1]];
                if pair == *b"09" || pair == *b"90" {
                    // Luhn's known limit: the swap keeps the check digit valid.
                    assert_ne!(s.parse(&swapped), Err(NumberProblem::BadCheckDigit), "{swapped}");
                    blind_spots += 1;
                } else {
                    assert_eq!(s.parse(&swapped), Err(NumberProblem::BadCheckDigit), "{swapped}");
                }
            }
        }
        assert!(blind_spots > 0, "the test covered 09/90 swaps");
    }

    #[test]
    fn quarantine_lets_the_same_owner_back_at_once_and_others_later() {
        let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(reusable_from(day(1, 1), 90), day(4, 1));
        assert_eq!(reusable_from(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert!(may_assign("cust-1", "cust-1", day(1, 1), 90, day(1, 1)));
        assert!(!may_assign("cust-1", "cust-2", day(1, 1), 90, day(3, 31)));
        assert!(may_assign("cust-1", "cust-2", day(1, 1), 90, day(4, 1)));
        assert!(may_assign("cust-1", "cust-2", day(1, 1), 0, day(1, 1)));
    }
}
