//! Mainland-China mobile numbers.

use serde::{Deserialize, Serialize};

/// Why a string is not a CN mobile number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", content = "value", rename_all = "snake_case")]
pub enum PhoneError {
    /// Not 11 digits after removing separators and the +86 prefix.
    #[error("a mobile number has 11 digits, got {0}")]
    Length(usize),
    /// Contains something other than digits and separators.
    #[error("a mobile number contains only digits")]
    NotDigits,
    /// Does not start with 13–19.
    #[error("a mobile number starts with 13–19")]
    Prefix,
}

/// A normalised 11-digit mainland mobile number, e.g. `13812345678`.
///
/// A phone number is a login identity, never a person: see the three-tier model.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Parses and normalises: strips spaces, dashes and a `+86` / `0086` / `86` prefix.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let mut digits = String::with_capacity(11);
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' => {}
                '+' if digits.is_empty() => {}
                _ => return Err(PhoneError::NotDigits),
            }
        }
        let digits = if digits.len() == 15 && digits.starts_with("0086") {
            digits[4..].to_owned()
        } else if digits.len() == 13 && digits.starts_with("86") {
            digits[2..].to_owned()
        } else {
            digits
        };
        if digits.len() != 11 {
            return Err(PhoneError::Length(digits.len()));
        }
        let second = digits.as_bytes()[1];
        if !digits.starts_with('1') || !(b'3'..=b'9').contains(&second) {
            return Err(PhoneError::Prefix);
        }
        Ok(Self(digits))
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`: the form shown by default in the UI and in logs.
    pub fn masked(&self) -> String {
        crate::mask::phone(&self.0)
    }
}

masked_fmt!(Phone);

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_prefixes_and_separators() {
        for input in ["13812345678", "+86 138-1234-5678", "008613812345678", "86 13812345678"] {
            assert_eq!(Phone::parse(input).map(|p| p.0), Ok("13812345678".to_owned()), "{input}");
        }
    }

    #[test]
    fn rejects_bad_numbers() {
        assert_eq!(Phone::parse("1381234567"), Err(PhoneError::Length(10)));
        assert_eq!(Phone::parse("12812345678"), Err(PhoneError::Prefix));
        assert_eq!(Phone::parse("23812345678"), Err(PhoneError::Prefix));
        assert_eq!(Phone::parse("138a2345678"), Err(PhoneError::NotDigits));
    }

    #[test]
    fn display_is_masked() {
        let p = Phone::parse("13812345678").unwrap();
        assert_eq!(p.to_string(), "138****5678");
        assert_eq!(format!("{p:?}"), "Phone(138****5678)");
    }
}
