//! Bank card numbers: Luhn check, BIN, last 4.
//!
//! A full card number exists only in memory while it is being checked or hashed;
//! storage keeps a keyed hash + BIN + last 4.

use serde::Deserialize;

/// Why a string is not a plausible card number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// Card numbers here are 13–19 digits.
    #[error("a card number has 13 to 19 digits, got {0}")]
    Length(usize),
    /// Only digits (and spaces) are allowed.
    #[error("a card number contains only digits")]
    NotDigits,
    /// The Luhn check digit does not match.
    #[error("the card number fails its check digit (Luhn)")]
    Luhn,
}

/// A full card number, held in memory only. `Display`/`Debug` show BIN + last 4.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct CardNumber(String);

impl CardNumber {
    /// Parses, dropping spaces, and checks the Luhn digit.
    pub fn parse(input: &str) -> Result<Self, CardError> {
        let mut digits = String::with_capacity(19);
        for c in input.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => return Err(CardError::NotDigits),
            }
        }
        if !(13..=19).contains(&digits.len()) {
            return Err(CardError::Length(digits.len()));
        }
        if !luhn_valid(&digits) {
            return Err(CardError::Luhn);
        }
        Ok(Self(digits))
    }

    /// The digits, in clear: only for hashing and for the bank gateway.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The issuer identification number (first 6 digits).
    pub fn bin(&self) -> &str {
        &self.0[..6]
    }

    /// The last 4 digits.
    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// BIN + stars + last 4.
    pub fn masked(&self) -> String {
        crate::mask::card(self.bin(), self.last4(), self.0.len())
    }
}

masked_fmt!(CardNumber);

impl TryFrom<String> for CardNumber {
    type Error = CardError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

/// Whether a digit string passes the Luhn check. Non-digits fail.
pub fn luhn_valid(digits: &str) -> bool {
    let mut body = digits.to_owned();
    let Some(last) = body.pop() else { return false };
    luhn_check_digit(&body) == Some(last)
}

/// The Luhn digit to append to `body`, or `None` if `body` is not all digits.
pub fn luhn_check_digit(body: &str) -> Option<char> {
    let mut sum = 0u32;
    for (i, b) in body.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    char::from_digit((10 - sum % 10) % 10, 10)
}

/// Debit-card BINs of large Chinese issuers, for naming the bank of a card.
pub const KNOWN_BINS: &[(&str, &str, &str)] = &[
    ("622202", "中国工商银行", "ICBC"),
    ("621700", "中国建设银行", "China Construction Bank"),
    ("622848", "中国农业银行", "Agricultural Bank of China"),
    ("621661", "中国银行", "Bank of China"),
    ("622588", "招商银行", "China Merchants Bank"),
    ("622262", "交通银行", "Bank of Communications"),
    ("621799", "中国邮政储蓄银行", "Postal Savings Bank of China"),
    ("622908", "兴业银行", "Industrial Bank"),
];

/// The issuing bank's Chinese name for a BIN, if known.
pub fn bank_name(bin: &str) -> Option<&'static str> {
    KNOWN_BINS.iter().find(|(b, _, _)| *b == bin).map(|(_, name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_numbers() {
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
        assert_eq!(luhn_check_digit("411111111111111"), Some('1'));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn parses_and_masks() {
        let body = "622202000012345678";
        let full = format!("{body}{}", luhn_check_digit(body).unwrap());
        let card = CardNumber::parse(&full).unwrap();
        assert_eq!(card.bin(), "622202");
        assert_eq!(card.last4(), &full[15..]);
        assert_eq!(card.to_string(), format!("622202*********{}", &full[15..]));
        assert!(!format!("{card:?}").contains(&full));
        assert_eq!(bank_name(card.bin()), Some("中国工商银行"));
        assert_eq!(CardNumber::parse("4111111111111112"), Err(CardError::Luhn));
        assert_eq!(CardNumber::parse("41111"), Err(CardError::Length(5)));
    }
}
