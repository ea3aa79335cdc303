//! Small helpers shared by the parsers: dates, cells, errors.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use domain::statement::{Location, StatementError, StatementProblem};

/// An error at a place.
pub(crate) fn err(at: Location, field: impl Into<String>, problem: StatementProblem) -> StatementError {
    StatementError { at, field: field.into(), problem }
}

/// A 1-based line location.
pub(crate) fn line(n: u64) -> Location {
    Location::Line { line: u32::try_from(n).unwrap_or(u32::MAX) }
}

fn num(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 4 {
        return None;
    }
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Reads a date at the start of `s`: `2026-11-24`, `2026/11/24`, `2026.11.24`,
/// `2026-1-5`, `20261124`, `2026年11月24日`. Returns the date and how many bytes it
/// took.
pub(crate) fn date_prefix(s: &[u8]) -> Option<(NaiveDate, usize)> {
    if s.len() < 8 || !s[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let year = i32::try_from(num(&s[..4])?).ok()?;
    if s[4].is_ascii_digit() {
        let month = num(&s[4..6])?;
        let day = num(&s[6..8])?;
        return NaiveDate::from_ymd_opt(year, month, day).map(|d| (d, 8));
    }
    // Separated form: the separator after the year decides the one after the month.
    let (sep, sep_len): (&[u8], usize) = if s[4..].starts_with("年".as_bytes()) {
        ("月".as_bytes(), 3)
    } else if matches!(s[4], b'-' | b'/' | b'.') {
        (&s[4..5], 1)
    } else {
        return None;
    };
    let mut i = 4 + sep_len;
    let m_start = i;
    while i < s.len() && s[i].is_ascii_digit() && i - m_start < 2 {
        i += 1;
    }
    let month = num(&s[m_start..i])?;
    if !s[i..].starts_with(sep) {
        return None;
    }
    i += sep.len();
    let d_start = i;
    while i < s.len() && s[i].is_ascii_digit() && i - d_start < 2 {
        i += 1;
    }
    let day = num(&s[d_start..i])?;
    if sep_len == 3 && s[i..].starts_with("日".as_bytes()) {
        i += 3;
    }
    NaiveDate::from_ymd_opt(year, month, day).map(|d| (d, i))
}

/// A whole cell that is a date (see [`date_prefix`]).
pub(crate) fn date(s: &str) -> Option<NaiveDate> {
    let b = s.trim().as_bytes();
    match date_prefix(b) {
        Some((d, n)) if n == b.len() => Some(d),
        _ => None,
    }
}

/// A time: `10:15`, `10:15:32`, `10:15:32.123`, `101532`, with an optional zone
/// suffix (`Z`, `+08:00`) that is ignored: the time is kept as the file writes it.
pub(crate) fn time(s: &str) -> Option<NaiveTime> {
    let b = s.trim().as_bytes();
    let (h, m, sec, rest) = if b.len() >= 5 && b[2] == b':' {
        let h = num(&b[..2])?;
        let m = num(&b[3..5])?;
        if b.len() >= 8 && b[5] == b':' { (h, m, num(&b[6..8])?, &b[8..]) } else { (h, m, 0, &b[5..]) }
    } else if b.len() >= 6 && b[..6].iter().all(u8::is_ascii_digit) {
        (num(&b[..2])?, num(&b[2..4])?, num(&b[4..6])?, &b[6..])
    } else if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
        (num(&b[..2])?, num(&b[2..4])?, 0, &b[4..])
    } else {
        return None;
    };
    let mut rest = rest;
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let zone_ok = match rest {
        [] | [b'Z'] => true,
        [b'+' | b'-', z @ ..] => z.iter().all(|c| c.is_ascii_digit() || *c == b':'),
        _ => false,
    };
    if !zone_ok {
        return None;
    }
    NaiveTime::from_hms_opt(h, m, sec)
}

/// A date with an optional time after a space or `T`: `2026-11-24 10:15:32`,
/// `2026-11-24T10:15:32.000+08:00`, `20261124101532` is not accepted (ambiguous).
pub(crate) fn date_time(s: &str) -> Option<(NaiveDate, Option<NaiveTime>)> {
    let t = s.trim();
    let (d, n) = date_prefix(t.as_bytes())?;
    let rest = &t[n..];
    if rest.is_empty() {
        return Some((d, None));
    }
    let rest = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix(' '))
        .or_else(|| rest.strip_prefix('\u{3000}'))?;
    Some((d, Some(time(rest)?)))
}

/// Date and time joined.
pub(crate) fn at(d: NaiveDate, t: Option<NaiveTime>) -> Option<NaiveDateTime> {
    t.map(|t| d.and_time(t))
}

/// A text cell as people read it: trimmed, without Excel's `="…"` or leading `'`
/// text markers, `None` when empty.
pub(crate) fn cell(s: &str) -> Option<&str> {
    let mut t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if let Some(inner) = t.strip_prefix("=\"").and_then(|r| r.strip_suffix('"')) {
        t = inner.trim();
    } else if let Some(inner) = t.strip_prefix('\'') {
        t = inner.trim();
    }
    if t.is_empty() || t == "-" || t == "--" { None } else { Some(t) }
}

/// Removes all whitespace (accounts are compared without spaces).
pub(crate) fn compact(s: &str) -> String {
    if s.bytes().all(|b| b.is_ascii_graphic()) {
        return s.to_owned();
    }
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The first 12 hex digits of the SHA-256 of the file.
pub(crate) fn digest12(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(bytes);
    hex::encode(&d[..6])
}

/// Currency written as a code or a Chinese name.
pub(crate) fn currency_code(s: &str) -> Option<String> {
    let t = s.trim();
    let code = match t {
        "人民币" | "人民币元" | "RMB" | "rmb" | "CNY" | "cny" | "本币" => "CNY",
        "美元" => "USD",
        "港币" | "港元" => "HKD",
        "欧元" => "EUR",
        "日元" => "JPY",
        "英镑" => "GBP",
        _ if t.len() == 3 && t.bytes().all(|c| c.is_ascii_alphabetic()) => {
            return Some(t.to_ascii_uppercase());
        }
        _ => return None,
    };
    Some(code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        for s in ["2026-11-24", "2026/11/24", "20261124", "2026.11.24", "2026年11月24日", " 2026-11-24 "] {
            assert_eq!(date(s), Some(d), "{s}");
        }
        assert_eq!(date("2026-1-5"), NaiveDate::from_ymd_opt(2026, 1, 5));
        assert_eq!(date("2026-02-30"), None);
        assert_eq!(date("2026-11/24"), None);
        assert_eq!(date("24.11.2026"), None);
        assert_eq!(date("2026-11-24x"), None);
        assert_eq!(date_time("2026-11-24 10:15:32"), Some((d, NaiveTime::from_hms_opt(10, 15, 32))));
        assert_eq!(
            date_time("2026-11-24T10:15:32.250+08:00"),
            Some((d, NaiveTime::from_hms_opt(10, 15, 32)))
        );
        assert_eq!(date_time("2026-11-24T25:00:00"), None);
        assert_eq!(time("101532"), NaiveTime::from_hms_opt(10, 15, 32));
        assert_eq!(time("10:15"), NaiveTime::from_hms_opt(10, 15, 0));
    }

    #[test]
    fn cells() {
        assert_eq!(cell("\t6222020200112233445 "), Some("6222020200112233445"));
        assert_eq!(cell("=\"0012\""), Some("0012"));
        assert_eq!(cell("'0012"), Some("0012"));
        assert_eq!(cell("  "), None);
        assert_eq!(cell("--"), None);
        assert_eq!(currency_code("人民币").as_deref(), Some("CNY"));
        assert_eq!(currency_code("usd").as_deref(), Some("USD"));
        assert_eq!(currency_code("元宝"), None);
    }
}
