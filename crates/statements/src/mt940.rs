//! SWIFT MT940 customer statements: one or more messages, each optionally wrapped
//! in SWIFT blocks (`{1:…}{2:…}{4:` … `-}`), ending at `-}`, a line `-` or the next
//! `:20:`.
//!
//! Tags: `:20:` → statement id, `:25:` → account (the part after `BIC/` or
//! `BLZ/`, spaces removed, a trailing currency code dropped), `:28C:` → sequence
//! (the statement number), `:60F:`/`:60M:` → opening and currency, `:61:` → an
//! entry, `:86:` → details of the entry before it, `:62F:`/`:62M:` → closing
//! (required). Other tags (`:21:`, `:64:`, `:65:`) are skipped.
//!
//! `:61:` marks: `C` credit (+), `D` debit (−), `RC` reversal of a credit (money
//! out, −), `RD` reversal of a debit (money in, +). The type code (`NTRF`, `N051`)
//! is the bank code, the customer reference (unless `NONREF`) the end-to-end id,
//! the reference after `//` the bank's (else `{statement id}#{n}`). The entry date
//! (`MMDD`) is the booking day (its year the one nearest the value date), else the
//! value date.
//!
//! `:86:`: German structured (`GVC?00…?20…?34`): `?20`–`?29`, `?60`–`?63` →
//! remittance (an `EREF+` in it gives the end-to-end id when `:61:` had none),
//! `?31` → counterparty account, `?32`+`?33` → counterparty name, `?34` → return
//! reason. Dutch structured (`/EREF/…/NAME/…/REMI/…`): `/NAME/`, `/IBAN/`,
//! `/CNTP/IBAN/BIC/NAME/CITY/`, `/EREF/` (unless `NOTPROVIDED`), `/REMI/` (with
//! `USTD//` or `STRD/…/ref`), `/RTRN/`. Anything else is remittance text.
//!
//! Text is read as UTF-8, else as Windows-1252 (German banks' umlauts).

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};
use domain::statement::{
    Location, Statement, StatementBalance, StatementEntry, StatementError, StatementFormat, StatementProblem,
};

use crate::amount::{AmountError, DecimalStyle, parse_minor};
use crate::text::{self, err, line};

struct Field<'t> {
    tag: &'t str,
    line: u64,
    text: String,
}

#[derive(Default)]
struct Msg {
    first_line: u64,
    id: Option<String>,
    id_line: u64,
    account: Option<String>,
    sequence: Option<u64>,
    opening: Option<(StatementBalance, String)>,
    closing: Option<(StatementBalance, String, bool)>,
    entries: Vec<StatementEntry>,
    /// Entries whose `:61:` had no bank reference.
    unreferenced: Vec<usize>,
    last_tag_61: bool,
}

/// Reads an MT940 file. `account` replaces the `:25:` account, and supplies it
/// when a message has none.
pub fn parse(bytes: &[u8], account: Option<&str>) -> Result<Vec<Statement>, StatementError> {
    let bytes = crate::detect::strip_bom(bytes);
    let content: Cow<'_, str> = match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
    };
    let mut out = Vec::new();
    let mut msg: Option<Msg> = None;
    let mut field: Option<Field<'_>> = None;
    for (i, raw) in content.split('\n').enumerate() {
        let n = i as u64 + 1;
        let mut l = raw.strip_suffix('\r').unwrap_or(raw);
        if l.starts_with('{') {
            // SWIFT basic/application/user header blocks, or the trailer.
            match l.find("{4:") {
                Some(p) => {
                    flush(&mut msg, &mut field)?;
                    if let Some(m) = msg.take() {
                        out.push(finish(m, account)?);
                    }
                    l = &l[p + 3..];
                }
                None => continue,
            }
        }
        let trimmed = l.trim_end();
        if trimmed == "-" || trimmed.starts_with("-}") {
            flush(&mut msg, &mut field)?;
            if let Some(m) = msg.take() {
                out.push(finish(m, account)?);
            }
            continue;
        }
        if let Some((tag, rest)) = tag_line(l) {
            flush(&mut msg, &mut field)?;
            if tag == "20"
                && let Some(m) = msg.take()
            {
                out.push(finish(m, account)?);
            }
            if msg.is_none() {
                msg = Some(Msg { first_line: n, ..Msg::default() });
            }
            field = Some(Field { tag, line: n, text: rest.to_owned() });
        } else if let Some(f) = field.as_mut()
            && !trimmed.is_empty()
        {
            f.text.push('\n');
            f.text.push_str(trimmed);
        }
    }
    flush(&mut msg, &mut field)?;
    if let Some(m) = msg.take() {
        out.push(finish(m, account)?);
    }
    if out.is_empty() {
        return Err(err(Location::File, ":20:", StatementProblem::Empty));
    }
    Ok(out)
}

/// `:61:rest` → (`61`, `rest`).
fn tag_line(l: &str) -> Option<(&str, &str)> {
    let b = l.as_bytes();
    if b.len() < 4 || b[0] != b':' || !b[1].is_ascii_digit() || !b[2].is_ascii_digit() {
        return None;
    }
    let end = if b[3] == b':' {
        3
    } else if b.len() > 4 && b[3].is_ascii_uppercase() && b[4] == b':' {
        4
    } else {
        return None;
    };
    Some((&l[1..end], &l[end + 1..]))
}

fn flush(msg: &mut Option<Msg>, field: &mut Option<Field<'_>>) -> Result<(), StatementError> {
    let (Some(m), Some(f)) = (msg.as_mut(), field.take()) else { return Ok(()) };
    let name = format!(":{}:", f.tag);
    let at = line(f.line);
    let first = f.text.lines().next().unwrap_or("").trim();
    let was_61 = std::mem::replace(&mut m.last_tag_61, false);
    match f.tag {
        "20" => {
            m.id = (!first.is_empty()).then(|| first.to_owned());
            m.id_line = f.line;
        }
        "25" => {
            let acct = first.split_once('/').map_or(first, |(_, a)| a);
            m.account = Some(text::compact(acct));
        }
        "28C" | "28" => {
            let number = first.split('/').next().unwrap_or("").trim();
            let v = number
                .parse()
                .map_err(|_| err(at, name, StatementProblem::BadValue { text: first.to_owned() }))?;
            m.sequence = Some(v);
        }
        "60F" | "60M" if m.opening.is_none() => {
            let (b, ccy) = balance(first).map_err(|p| err(at, name, p))?;
            m.opening = Some((b, ccy));
        }
        "62F" | "62M" => {
            let is_final = f.tag == "62F";
            if !matches!(m.closing, Some((_, _, true))) {
                let (b, ccy) = balance(first).map_err(|p| err(at.clone(), name.as_str(), p))?;
                if let Some((_, open_ccy)) = &m.opening
                    && *open_ccy != ccy
                {
                    return Err(err(
                        at,
                        name,
                        StatementProblem::Currency { expected: open_ccy.clone(), found: ccy },
                    ));
                }
                m.closing = Some((b, ccy, is_final));
            }
        }
        "61" => {
            let entry = entry(&f.text, f.line).map_err(|p| err(at, name, p))?;
            if entry.bank_ref.is_empty() {
                m.unreferenced.push(m.entries.len());
            }
            m.entries.push(entry);
            m.last_tag_61 = true;
        }
        "86" => {
            if was_61 && let Some(e) = m.entries.last_mut() {
                details(e, &f.text);
            }
        }
        _ => {}
    }
    Ok(())
}

fn finish(mut m: Msg, account: Option<&str>) -> Result<Statement, StatementError> {
    let id_at = line(if m.id_line > 0 { m.id_line } else { m.first_line });
    let statement_id = m.id.ok_or_else(|| err(id_at.clone(), ":20:", StatementProblem::Missing))?;
    let (closing, closing_ccy, _) =
        m.closing.ok_or_else(|| err(id_at.clone(), ":62F:", StatementProblem::Missing))?;
    let currency = m.opening.as_ref().map_or(closing_ccy, |(_, c)| c.clone());
    let account = match account {
        Some(a) => text::compact(a),
        None => {
            let mut a = m.account.ok_or_else(|| err(id_at, ":25:", StatementProblem::Missing))?;
            // ING and others append the currency to the account (`NL69INGB0123456789EUR`).
            if a.len() > currency.len() + 4
                && a.ends_with(currency.as_str())
                && a.as_bytes()[a.len() - currency.len() - 1].is_ascii_digit()
            {
                a.truncate(a.len() - currency.len());
            }
            a
        }
    };
    for &i in &m.unreferenced {
        if let Some(e) = m.entries.get_mut(i) {
            e.bank_ref = format!("{statement_id}#{}", i + 1);
        }
    }
    let opening = m.opening.map(|(b, _)| b);
    let from = m.entries.iter().map(|e| e.booking_date).min().or(opening.map(|b| b.date));
    let to = m.entries.iter().map(|e| e.booking_date).max().or(Some(closing.date));
    Ok(Statement {
        format: StatementFormat::Mt940,
        version: None,
        statement_id,
        account,
        currency,
        sequence: m.sequence,
        opening,
        closing: Some(closing),
        from,
        to,
        entries: m.entries,
    })
}

fn yymmdd(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let yy = v(0) as i32;
    let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
    NaiveDate::from_ymd_opt(year, v(2), v(4))
}

fn amount_problem(text: &str) -> impl Fn(AmountError) -> StatementProblem + '_ {
    move |e| match e {
        AmountError::Bad => StatementProblem::BadAmount { text: text.to_owned() },
        AmountError::Overflow => StatementProblem::Overflow,
    }
}

/// `C250101EUR1234,56` → balance and currency.
fn balance(s: &str) -> Result<(StatementBalance, String), StatementProblem> {
    let bad = || StatementProblem::BadValue { text: s.to_owned() };
    let sign = match s.as_bytes().first() {
        Some(b'C') => 1,
        Some(b'D') => -1,
        _ => return Err(bad()),
    };
    let date_text = s.get(1..7).ok_or_else(bad)?;
    let date = yymmdd(date_text).ok_or_else(|| StatementProblem::BadDate { text: date_text.to_owned() })?;
    let ccy = s.get(7..10).filter(|c| c.bytes().all(|b| b.is_ascii_uppercase())).ok_or_else(bad)?;
    let amount_text = &s[10..];
    let amount =
        parse_minor(amount_text.as_bytes(), DecimalStyle::Comma).map_err(amount_problem(amount_text))?;
    Ok((StatementBalance { amount_minor: sign * amount, date }, ccy.to_owned()))
}

/// The `MMDD` entry date in the year nearest the value date.
fn entry_date(value: NaiveDate, mmdd: &str) -> Option<NaiveDate> {
    let b = mmdd.as_bytes();
    let v = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let (m, d) = (v(0), v(2));
    [value.year(), value.year() - 1, value.year() + 1]
        .into_iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, m, d))
        .min_by_key(|date| (*date - value).num_days().abs())
}

/// A `:61:` field (its first line; a second line is supplementary details).
fn entry(field: &str, at_line: u64) -> Result<StatementEntry, StatementProblem> {
    let s = field.lines().next().unwrap_or("").trim_end();
    let bad = || StatementProblem::BadValue { text: s.to_owned() };
    let date_text = s.get(..6).ok_or_else(bad)?;
    let value_date =
        yymmdd(date_text).ok_or_else(|| StatementProblem::BadDate { text: date_text.to_owned() })?;
    let mut rest = &s[6..];
    let mut booking_date = value_date;
    if rest.len() >= 4 && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        booking_date = entry_date(value_date, &rest[..4])
            .ok_or_else(|| StatementProblem::BadDate { text: rest[..4].to_owned() })?;
        rest = &rest[4..];
    }
    let (sign, reversal, after) = if let Some(r) = rest.strip_prefix("RC") {
        (-1, true, r)
    } else if let Some(r) = rest.strip_prefix("RD") {
        (1, true, r)
    } else if let Some(r) = rest.strip_prefix('C') {
        (1, false, r)
    } else if let Some(r) = rest.strip_prefix('D') {
        (-1, false, r)
    } else {
        return Err(bad());
    };
    rest = after;
    // Funds code: the third letter of the currency.
    if rest.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        rest = &rest[1..];
    }
    let amount_len = rest.bytes().take_while(|c| c.is_ascii_digit() || *c == b',').count();
    let amount_text = &rest[..amount_len];
    let amount =
        parse_minor(amount_text.as_bytes(), DecimalStyle::Comma).map_err(amount_problem(amount_text))?;
    rest = &rest[amount_len..];
    let bank_code = match rest.as_bytes().first() {
        Some(b'N' | b'F' | b'S') if rest.len() >= 4 => {
            let code = &rest[..4];
            rest = &rest[4..];
            Some(code.to_owned())
        }
        _ => return Err(bad()),
    };
    let (customer, bank) = match rest.split_once("//") {
        Some((c, b)) => (c.trim(), b.trim()),
        None => (rest.trim(), ""),
    };
    Ok(StatementEntry {
        at: line(at_line),
        amount_minor: sign * amount,
        booking_date,
        value_date: Some(value_date),
        booked_at: None,
        bank_ref: bank.to_owned(),
        end_to_end: (!customer.is_empty() && customer != "NONREF").then(|| customer.to_owned()),
        counterparty_name: None,
        counterparty_account: None,
        addressed_account: None,
        remittance: None,
        bank_code,
        reversal,
        return_reason: None,
        fee_minor: None,
        our_ref: None,
        booked: true,
    })
}

/// Joins fixed-width chunks: directly after a full one (a word split across), with
/// a space after a shorter one.
fn join_chunks(chunks: &[&str], width: usize) -> Option<String> {
    let mut out = String::new();
    let mut prev_full = false;
    for c in chunks {
        if c.trim().is_empty() {
            continue;
        }
        if !out.is_empty() && !prev_full {
            out.push(' ');
        }
        prev_full = c.chars().count() >= width;
        out.push_str(if prev_full { c } else { c.trim() });
    }
    let t = out.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

const SEPA_KEYS: [&str; 11] =
    ["EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "IBAN+", "BIC+", "COAM+"];

fn sepa_value<'a>(purpose: &'a str, key: &str) -> Option<&'a str> {
    let start = purpose.find(key)? + key.len();
    let rest = &purpose[start..];
    let end = SEPA_KEYS.iter().filter_map(|k| rest.find(k)).min().unwrap_or(rest.len());
    let v = rest[..end].trim();
    (!v.is_empty()).then_some(v)
}

const DUTCH_TAGS: [&str; 24] = [
    "EREF", "CNTP", "REMI", "RTRN", "NAME", "IBAN", "BIC", "TRTP", "ORDP", "BENM", "ULTC", "ULTD", "ULTB",
    "PURP", "MARF", "CSID", "SVCL", "ADDR", "PREF", "NRTX", "ACCW", "BUSP", "CHGS", "EXCH",
];

/// `/TAG/value` pairs of a Dutch `:86:`; `None` unless it starts with a known tag.
fn dutch_pairs(s: &str) -> Option<Vec<(&str, &str)>> {
    let b = s.as_bytes();
    let mut marks: Vec<(&str, usize, usize)> = Vec::new(); // tag, tag start ('/'), value start
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/'
            && let Some(k) = b[i + 1..].iter().take(6).position(|c| *c == b'/')
        {
            let cand = &s[i + 1..i + 1 + k];
            if DUTCH_TAGS.contains(&cand) {
                marks.push((cand, i, i + k + 2));
                i += k + 2;
                continue;
            }
        }
        i += 1;
    }
    if marks.first().is_none_or(|m| m.1 != 0) {
        return None;
    }
    let pairs = marks
        .iter()
        .enumerate()
        .map(|(j, (tag, _, vstart))| {
            let vend = marks.get(j + 1).map_or(s.len(), |m| m.1);
            let v = s.get(*vstart..vend.max(*vstart)).unwrap_or("");
            (*tag, v.trim_end_matches('/').trim())
        })
        .collect();
    Some(pairs)
}

fn nonempty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Applies a `:86:` to its entry.
fn details(e: &mut StatementEntry, field: &str) {
    let joined: String = field.split('\n').collect();
    let jb = joined.as_bytes();
    if jb.len() >= 4 && jb[..3].iter().all(u8::is_ascii_digit) && jb[3] == b'?' {
        german(e, &joined[3..]);
    } else if let Some(pairs) = dutch_pairs(joined.trim()) {
        dutch(e, &pairs);
    } else {
        let text: Vec<&str> = field.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect();
        e.remittance = nonempty(&text.join(" "));
    }
}

fn german(e: &mut StatementEntry, body: &str) {
    // Subfields `?NN`: split where a `?` is followed by two digits.
    let b = body.as_bytes();
    let mut starts: Vec<usize> = (0..b.len())
        .filter(|&i| {
            b[i] == b'?' && b.len() > i + 2 && b[i + 1].is_ascii_digit() && b[i + 2].is_ascii_digit()
        })
        .collect();
    starts.push(b.len());
    let mut purpose = Vec::new();
    let mut name = Vec::new();
    for w in starts.windows(2) {
        let code = &body[w[0] + 1..w[0] + 3];
        let value = &body[w[0] + 3..w[1]];
        match code {
            "20" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29" | "60" | "61" | "62"
            | "63" => {
                purpose.push(value);
            }
            "31" => e.counterparty_account = nonempty(&text::compact(value)),
            "32" | "33" => name.push(value),
            "34" => e.return_reason = nonempty(value),
            _ => {}
        }
    }
    e.remittance = join_chunks(&purpose, 27);
    e.counterparty_name = join_chunks(&name, 27);
    if e.end_to_end.is_none()
        && let Some(r) = e.remittance.as_deref().and_then(|p| sepa_value(p, "EREF+"))
        && r != "NOTPROVIDED"
    {
        e.end_to_end = Some(r.to_owned());
    }
}

fn dutch(e: &mut StatementEntry, pairs: &[(&str, &str)]) {
    for (tag, value) in pairs {
        match *tag {
            "NAME" if e.counterparty_name.is_none() => {
                e.counterparty_name = nonempty(value);
            }
            "IBAN" => e.counterparty_account = nonempty(&text::compact(value)),
            // The `:86:` end-to-end id wins over `:61:`'s customer reference (ING
            // writes `EREF` there, meaning "see `:86:`").
            "EREF" => e.end_to_end = nonempty(value).filter(|v| v != "NOTPROVIDED"),
            "RTRN" => e.return_reason = nonempty(value.split('/').next().unwrap_or("")),
            "CNTP" => {
                let parts: Vec<&str> = value.split('/').collect();
                if let Some(a) = parts.first().and_then(|a| nonempty(a)) {
                    e.counterparty_account = Some(text::compact(&a));
                }
                if let Some(n) = parts.get(2).and_then(|n| nonempty(n)) {
                    e.counterparty_name = Some(n);
                }
            }
            "REMI" => {
                let text =
                    if let Some(t) = value.strip_prefix("USTD//").or_else(|| value.strip_prefix("USTD/")) {
                        t.to_owned()
                    } else if let Some(t) = value.strip_prefix("STRD/") {
                        t.rsplit('/').find(|p| !p.trim().is_empty()).unwrap_or("").to_owned()
                    } else {
                        (*value).to_owned()
                    };
                e.remittance = nonempty(&text);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_dates_roll_over_new_year() {
        let v = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        assert_eq!(entry_date(v, "1231"), NaiveDate::from_ymd_opt(2025, 12, 31));
        let v = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        assert_eq!(entry_date(v, "0102"), NaiveDate::from_ymd_opt(2026, 1, 2));
        assert_eq!(entry_date(v, "1230"), NaiveDate::from_ymd_opt(2025, 12, 30));
    }

    #[test]
    fn tag_lines() {
        assert_eq!(tag_line(":61:2501"), Some(("61", "2501")));
        assert_eq!(tag_line(":62F:C25"), Some(("62F", "C25")));
        assert_eq!(tag_line(":6F:"), None);
        assert_eq!(tag_line("?20text"), None);
    }

    #[test]
    fn entry_marks_and_funds_code() {
        let e = entry("2501020102DR1234,56NTRFNONREF//B1", 1).unwrap();
        assert_eq!(
            (e.amount_minor, e.reversal, e.bank_ref.as_str(), e.end_to_end),
            (-123_456, false, "B1", None)
        );
        let e = entry("250102RD1,NCHKREF1", 1).unwrap();
        assert_eq!(
            (e.amount_minor, e.reversal, e.end_to_end.as_deref(), e.bank_ref.as_str()),
            (100, true, Some("REF1"), "")
        );
        let e = entry("250102RC5,5NRTI", 1).unwrap();
        assert_eq!(e.amount_minor, -550);
        assert_eq!(
            entry("250102X5,NTRF", 1),
            Err(StatementProblem::BadValue { text: "250102X5,NTRF".into() })
        );
        assert_eq!(
            entry("250102C5.00NTRF", 1),
            Err(StatementProblem::BadValue { text: "250102C5.00NTRF".into() })
        );
        assert_eq!(entry("251302C5,NTRF", 1), Err(StatementProblem::BadDate { text: "251302".into() }));
    }
}
