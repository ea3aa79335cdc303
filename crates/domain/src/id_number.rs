//! Resident ID numbers (居民身份证号码, GB 11643-1999): 18 characters, check character last.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// Why a string is not a valid ID number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", content = "value", rename_all = "snake_case")]
pub enum IdNumberError {
    /// Not 18 characters.
    #[error("an ID number has 18 characters, got {0}")]
    Length(usize),
    /// The first 17 are not all digits, or the last is not a digit or X.
    #[error("an ID number is 17 digits followed by a digit or X")]
    Characters,
    /// Characters 7–14 are not a real date.
    #[error("the birth date in the ID number is not a valid date")]
    BirthDate,
    /// The 18th character does not match the GB 11643 check.
    #[error("the check character should be {expected}")]
    CheckCharacter {
        /// The character the first 17 digits call for.
        expected: char,
    },
}

/// A validated 18-character ID number. `Display` and `Debug` are masked.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses, upper-casing a trailing `x`.
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let s = input.trim().to_ascii_uppercase();
        let len = s.chars().count();
        if len != 18 {
            return Err(IdNumberError::Length(len));
        }
        let bytes = s.as_bytes();
        if !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
            return Err(IdNumberError::Characters);
        }
        let expected = check_char(&s[..17]).ok_or(IdNumberError::Characters)?;
        if bytes[17] as char != expected {
            return Err(IdNumberError::CheckCharacter { expected });
        }
        let id = Self(s);
        id.birth_date().ok_or(IdNumberError::BirthDate)?;
        Ok(id)
    }

    /// The 18 characters, in clear. Callers must not log this.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Date of birth from characters 7–14.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }

    /// The last four characters, used for searching.
    pub fn last4(&self) -> &str {
        &self.0[14..]
    }

    /// First 1 and last 1 shown.
    pub fn masked(&self) -> String {
        crate::mask::id_number(&self.0)
    }
}

/// The GB 11643 check character for the first 17 digits, or `None` if they are not 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    Some(CHECK_CHARS[(sum % 11) as usize] as char)
}

masked_fmt!(IdNumber);

impl TryFrom<String> for IdNumber {
    type Error = IdNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(id: IdNumber) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_standard_example() {
        // The worked example from GB 11643-1999.
        let id = IdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(id.last4(), "002X");
        assert_eq!(id.to_string(), "1****************X");
    }

    #[test]
    fn rejects_wrong_check_character_and_dates() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckCharacter { expected: 'X' })
        );
        assert_eq!(IdNumber::parse("1101051949123100"), Err(IdNumberError::Length(16)));
        let bad_date = format!("11010519490231002{}", check_char("11010519490231002").unwrap());
        assert_eq!(IdNumber::parse(&bad_date), Err(IdNumberError::BirthDate));
        assert_eq!(IdNumber::parse("1101051949123100AX"), Err(IdNumberError::Characters));
    }
}
