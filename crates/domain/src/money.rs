//! Money: `rust_decimal`, never floating point.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in yuan (CNY) with exact decimal arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Cny(pub Decimal);

impl Cny {
    /// From an integer amount in fen (minor units).
    pub fn from_minor(amount_minor: i64) -> Self {
        Self(Decimal::new(amount_minor, 2))
    }

    /// The amount in fen, if it has no sub-fen part and fits in `i64`.
    pub fn to_minor(self) -> Option<i64> {
        use rust_decimal::prelude::ToPrimitive;
        let scaled = self.0.checked_mul(Decimal::ONE_HUNDRED)?;
        if scaled.fract().is_zero() { scaled.to_i64() } else { None }
    }
}

impl fmt::Display for Cny {
    /// `¥1,234,567.80`, always two decimals, thousands grouped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rounded = self.0.round_dp(2);
        let sign = if rounded.is_sign_negative() && !rounded.is_zero() { "-" } else { "" };
        let text = format!("{:.2}", rounded.abs());
        let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
        let mut grouped = String::with_capacity(int.len() + int.len() / 3);
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{sign}¥{grouped}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_converts() {
        assert_eq!(Cny::from_minor(123456780).to_string(), "¥1,234,567.80");
        assert_eq!(Cny::from_minor(-5).to_string(), "-¥0.05");
        assert_eq!(Cny::from_minor(0).to_string(), "¥0.00");
        assert_eq!(Cny::from_minor(987654).to_minor(), Some(987654));
        assert_eq!(Cny(Decimal::new(1234, 3)).to_minor(), None);
    }
}
