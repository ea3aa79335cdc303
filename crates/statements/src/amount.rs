//! Decimal amount strings to integer minor units (fen), exactly: never through a
//! float, no allocation.

/// How a file writes the decimal separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalStyle {
    /// `1234.56`, `1,234.56` (comma thousands separators, groups of three), `-12.5`,
    /// `+3`, `7.` (CSV exports, camt).
    Point,
    /// SWIFT MT940: `1234,56`, `1234,`, `0,5`; no sign, no thousands separator.
    Comma,
}

/// Why an amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a decimal amount in the expected style, or more than two decimals.
    #[error("not an amount")]
    Bad,
    /// Beyond what `i64` fen hold.
    #[error("amount out of range")]
    Overflow,
}

/// Parses a decimal amount of yuan (or any two-decimal currency) to signed minor
/// units. Surrounding ASCII whitespace (exports pad numbers with tabs) is ignored.
///
/// ```
/// use statements::amount::{parse_minor, DecimalStyle, AmountError};
/// assert_eq!(parse_minor(b"1,234.5", DecimalStyle::Point), Ok(123_450));
/// assert_eq!(parse_minor(b"1234,56", DecimalStyle::Comma), Ok(123_456));
/// assert_eq!(parse_minor(b"0.001", DecimalStyle::Point), Err(AmountError::Bad));
/// ```
pub fn parse_minor(text: &[u8], style: DecimalStyle) -> Result<i64, AmountError> {
    let s = text.trim_ascii();
    let (negative, digits) = match (style, s.first()) {
        (DecimalStyle::Point, Some(b'-')) => (true, &s[1..]),
        (DecimalStyle::Point, Some(b'+')) => (false, &s[1..]),
        _ => (false, s),
    };
    let (decimal, thousands) = match style {
        DecimalStyle::Point => (b'.', Some(b',')),
        DecimalStyle::Comma => (b',', None),
    };
    let mut value: u64 = 0;
    let mut int_digits = 0usize;
    // Digits since the last thousands separator, and whether one was seen.
    let mut group = 0usize;
    let mut grouped = false;
    let mut i = 0;
    while i < digits.len() {
        let c = digits[i];
        if c.is_ascii_digit() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
                .ok_or(AmountError::Overflow)?;
            int_digits += 1;
            group += 1;
        } else if Some(c) == thousands {
            // The first group holds 1–3 digits, every later one exactly 3.
            if group == 0 || group > 3 || (grouped && group != 3) {
                return Err(AmountError::Bad);
            }
            grouped = true;
            group = 0;
        } else if c == decimal {
            break;
        } else {
            return Err(AmountError::Bad);
        }
        i += 1;
    }
    if int_digits == 0 || (grouped && group != 3) {
        return Err(AmountError::Bad);
    }
    let mut fraction: u64 = 0;
    let mut fraction_digits = 0u32;
    if i < digits.len() {
        // digits[i] is the decimal separator.
        for &c in &digits[i + 1..] {
            if !c.is_ascii_digit() || fraction_digits == 2 {
                return Err(AmountError::Bad);
            }
            fraction = fraction * 10 + u64::from(c - b'0');
            fraction_digits += 1;
        }
    }
    let scale = 10u64.pow(2 - fraction_digits);
    let minor =
        value.checked_mul(100).and_then(|v| v.checked_add(fraction * scale)).ok_or(AmountError::Overflow)?;
    let minor = i64::try_from(minor).map_err(|_| AmountError::Overflow)?;
    Ok(if negative { -minor } else { minor })
}

/// Formats minor units as a plain decimal (`-1234.05`), for generated files and
/// messages.
pub fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_style() {
        let p = |s: &str| parse_minor(s.as_bytes(), DecimalStyle::Point);
        assert_eq!(p("1234.5"), Ok(123_450));
        assert_eq!(p("1,234.56"), Ok(123_456));
        assert_eq!(p("12,345,678.90"), Ok(1_234_567_890));
        assert_eq!(p("-0.01"), Ok(-1));
        assert_eq!(p("+3"), Ok(300));
        assert_eq!(p("\t7."), Ok(700));
        assert_eq!(p(" 0 "), Ok(0));
        assert_eq!(p("1.234"), Err(AmountError::Bad));
        assert_eq!(p("1.230"), Err(AmountError::Bad));
        assert_eq!(p("12,34.56"), Err(AmountError::Bad));
        assert_eq!(p("1,2345"), Err(AmountError::Bad));
        assert_eq!(p(",123"), Err(AmountError::Bad));
        assert_eq!(p(".5"), Err(AmountError::Bad));
        assert_eq!(p(""), Err(AmountError::Bad));
        assert_eq!(p("-"), Err(AmountError::Bad));
        assert_eq!(p("1e5"), Err(AmountError::Bad));
        assert_eq!(p("1.2.3"), Err(AmountError::Bad));
        assert_eq!(p("92233720368547758.07"), Ok(i64::MAX));
        assert_eq!(p("92233720368547758.08"), Err(AmountError::Overflow));
        assert_eq!(p("99999999999999999999999"), Err(AmountError::Overflow));
    }

    #[test]
    fn comma_style() {
        let c = |s: &str| parse_minor(s.as_bytes(), DecimalStyle::Comma);
        assert_eq!(c("1234,56"), Ok(123_456));
        assert_eq!(c("1234,"), Ok(123_400));
        assert_eq!(c("0,5"), Ok(50));
        assert_eq!(c("1234.56"), Err(AmountError::Bad));
        assert_eq!(c("-1,00"), Err(AmountError::Bad));
        assert_eq!(c("1,234"), Err(AmountError::Bad));
    }

    #[test]
    fn formats_back() {
        assert_eq!(format_minor(-123_405), "-1234.05");
        assert_eq!(format_minor(7), "0.07");
        assert_eq!(format_minor(i64::MIN), "-92233720368547758.08");
    }
}
