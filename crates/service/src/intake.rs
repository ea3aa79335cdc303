//! Carrier file intake: stream a CSV (UTF-8 or GBK), check every line, then
//! screen it against our bindings and write events and cases in one transaction.
//!
//! A file with any bad line changes nothing and reports file, line, field and
//! reason. The same file twice adds nothing (its SHA-256 is recorded).

use chrono::{DateTime, Utc};
use domain::InputProblem;
use domain::cases::LineError;
use domain::phone::Phone;
use domain::recycle::{CarrierEventKind, parse_carrier_time};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::io::Read;

/// At most this many line errors are reported (the count covers all).
pub const MAX_REPORTED_ERRORS: usize = 100;

/// One checked line.
#[derive(Debug, Clone, PartialEq)]
pub struct CarrierLine {
    /// 1-based line number in the file.
    pub line: u64,
    /// The number.
    pub phone: String,
    /// 入网时间, if given.
    pub entry_at: Option<DateTime<Utc>>,
    /// Event.
    pub event: CarrierEventKind,
    /// Event time.
    pub event_at: DateTime<Utc>,
    /// Carrier.
    pub carrier: String,
    /// Province (may be empty).
    pub province: String,
}

/// A whole checked file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFile {
    /// `utf-8` or `gbk`.
    pub encoding: &'static str,
    /// SHA-256 of the bytes.
    pub sha256: String,
    /// Lines.
    pub lines: Vec<CarrierLine>,
}

/// Why a file was not accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseFailure {
    /// Bad lines (first [`MAX_REPORTED_ERRORS`]) and how many in all.
    Lines(Vec<LineError>, u64),
    /// The file could not be read.
    Io(String),
}

/// Bad lines so far: the first few in full, and a count of all.
struct Errors<'a> {
    file: &'a str,
    list: Vec<LineError>,
    count: u64,
}

impl Errors<'_> {
    fn add(&mut self, line: u64, field: &str, problem: InputProblem) {
        self.count += 1;
        if self.list.len() < MAX_REPORTED_ERRORS {
            self.list.push(LineError { file: self.file.to_owned(), line, field: field.to_owned(), problem });
        }
    }
}

/// Columns, by the English or Chinese header names carriers use.
struct Columns {
    phone: usize,
    entry_at: usize,
    event: usize,
    event_at: usize,
    carrier: usize,
    province: Option<usize>,
}

const HEADERS: [(&str, &[&str]); 6] = [
    ("phone", &["phone", "号码", "手机号", "手机号码"]),
    ("entry_at", &["entry_at", "入网时间"]),
    ("event", &["event", "事件", "事件类型"]),
    ("event_at", &["event_at", "事件时间"]),
    ("carrier", &["carrier", "运营商"]),
    ("province", &["province", "省份", "归属地"]),
];

fn find_columns(header: &[String], file: &str) -> Result<Columns, LineError> {
    let find = |name: &str| {
        let aliases = HEADERS.iter().find(|(n, _)| *n == name).map_or(&[][..], |(_, a)| *a);
        header.iter().position(|h| aliases.iter().any(|a| h.trim().eq_ignore_ascii_case(a)))
    };
    let need = |name: &str| {
        find(name).ok_or_else(|| LineError {
            file: file.to_owned(),
            line: 1,
            field: name.to_owned(),
            problem: InputProblem::MissingColumn { header: header.join(",") },
        })
    };
    Ok(Columns {
        phone: need("phone")?,
        entry_at: need("entry_at")?,
        event: need("event")?,
        event_at: need("event_at")?,
        carrier: need("carrier")?,
        province: find("province"),
    })
}

/// Decides the encoding from the first bytes: UTF-8 if they decode (a multi-byte
/// character cut at the end of the sample is fine), else GBK.
fn sniff_encoding(sample: &[u8]) -> &'static encoding_rs::Encoding {
    match std::str::from_utf8(sample) {
        Ok(_) => encoding_rs::UTF_8,
        Err(e) if e.error_len().is_none() => encoding_rs::UTF_8,
        Err(_) => encoding_rs::GBK,
    }
}

/// Reads `reader` (a file of `total_bytes`), calling `progress(bytes_read, lines)`
/// every 64k lines. Every line is checked before anything is written.
pub fn parse_carrier_csv(
    file: &str,
    mut reader: impl Read,
    mut progress: impl FnMut(u64, u64),
) -> Result<ParsedFile, ParseFailure> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| ParseFailure::Io(format!("{file}: {e}")))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let encoding = sniff_encoding(&body[..body.len().min(64 * 1024)]);
    let mut csv =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(body);
    let mut record = csv::ByteRecord::new();
    let mut errors = Errors { file, list: Vec::new(), count: 0 };
    let read_err = |e: csv::Error| ParseFailure::Io(format!("{file}: {e}"));
    if !csv.read_byte_record(&mut record).map_err(read_err)? {
        return Err(ParseFailure::Lines(
            vec![LineError {
                file: file.into(),
                line: 1,
                field: "header".into(),
                problem: InputProblem::EmptyFile,
            }],
            1,
        ));
    }
    let header: Vec<String> =
        record.iter().map(|f| decode(encoding, f).map(Cow::into_owned).unwrap_or_default()).collect();
    let cols = find_columns(&header, file).map_err(|e| ParseFailure::Lines(vec![e], 1))?;
    let mut lines = Vec::with_capacity(bytes.len() / 64);
    let mut problems: Vec<(&str, InputProblem)> = Vec::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.add(
                    e.position().map_or(0, |p| p.line()),
                    "csv",
                    InputProblem::Csv { detail: e.to_string() },
                );
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        problems.clear();
        let parsed = check_line(&record, &cols, encoding, line, &mut problems);
        for (field, problem) in problems.drain(..) {
            errors.add(line, field, problem);
        }
        if let Some(parsed) = parsed.filter(|_| errors.count == 0) {
            lines.push(parsed);
        }
        if line.is_multiple_of(65_536) {
            progress(record.position().map_or(0, |p| p.byte()), line);
        }
    }
    if errors.count > 0 {
        return Err(ParseFailure::Lines(errors.list, errors.count));
    }
    progress(bytes.len() as u64, lines.len() as u64);
    Ok(ParsedFile { encoding: if encoding == encoding_rs::GBK { "gbk" } else { "utf-8" }, sha256, lines })
}

// UTF-8 fields are borrowed as they are; only GBK needs decoding into new strings.
fn decode<'a>(encoding: &'static encoding_rs::Encoding, raw: &'a [u8]) -> Result<Cow<'a, str>, InputProblem> {
    let invalid = || InputProblem::Encoding { encoding: encoding.name().to_owned() };
    if encoding == encoding_rs::UTF_8 {
        return std::str::from_utf8(raw).map(Cow::Borrowed).map_err(|_| invalid());
    }
    let (text, had_errors) = encoding.decode_without_bom_handling(raw);
    if had_errors { Err(invalid()) } else { Ok(text) }
}

/// One data line checked field by field: its problems go to `problems`, and the
/// line comes back only when every field is good.
fn check_line<'r>(
    record: &'r csv::ByteRecord,
    cols: &Columns,
    encoding: &'static encoding_rs::Encoding,
    line: u64,
    problems: &mut Vec<(&'static str, InputProblem)>,
) -> Option<CarrierLine> {
    let mut text = |name: &'static str, i: Option<usize>| -> Cow<'r, str> {
        match i.and_then(|i| record.get(i)).map(|f| decode(encoding, f)).unwrap_or(Ok(Cow::Borrowed(""))) {
            Ok(t) => t,
            Err(problem) => {
                problems.push((name, problem));
                Cow::Borrowed("")
            }
        }
    };
    let phone_text = text("phone", Some(cols.phone));
    let entry_text = text("entry_at", Some(cols.entry_at));
    let event_text = text("event", Some(cols.event));
    let event_at_text = text("event_at", Some(cols.event_at));
    let carrier = text("carrier", Some(cols.carrier));
    let province = text("province", cols.province);
    let phone = Phone::parse(&phone_text).map_err(|e| problems.push(("phone", e.into()))).ok();
    let entry_at = if entry_text.is_empty() {
        None
    } else {
        let t = parse_carrier_time(&entry_text);
        if t.is_none() {
            problems.push(("entry_at", InputProblem::NotATime { text: entry_text.to_string() }));
        }
        t
    };
    let event = CarrierEventKind::parse(&event_text);
    if event.is_none() {
        problems.push(("event", InputProblem::UnknownEvent { text: event_text.to_string() }));
    }
    let event_at = parse_carrier_time(&event_at_text);
    if event_at.is_none() {
        problems.push(("event_at", InputProblem::NotATime { text: event_at_text.to_string() }));
    }
    if carrier.is_empty() {
        problems.push(("carrier", InputProblem::Required));
    }
    Some(CarrierLine {
        line,
        phone: phone?.into(),
        entry_at,
        event: event?,
        event_at: event_at?,
        carrier: carrier.into_owned(),
        province: province.into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "phone,entry_at,event,event_at,carrier,province\n";

    fn parse(text: &[u8]) -> Result<ParsedFile, ParseFailure> {
        parse_carrier_csv("t.csv", text, |_, _| {})
    }

    #[test]
    fn utf8_and_gbk_give_the_same_lines() {
        let text = "号码,入网时间,事件,事件时间,运营商,省份\n13912393949,2026-03-01 10:00:00,销户,2026-02-01,中国移动,广东\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let a = parse(text.as_bytes()).unwrap();
        let b = parse(&gbk).unwrap();
        assert_eq!(a.encoding, "utf-8");
        assert_eq!(b.encoding, "gbk");
        assert_eq!(a.lines, b.lines);
        assert_eq!(a.lines[0].event, CarrierEventKind::Cancel);
        assert_eq!(a.lines[0].carrier, "中国移动");
        assert_ne!(a.sha256, b.sha256);
    }

    #[test]
    fn errors_name_line_field_and_reason() {
        let text = format!(
            "{HEADER}13912393949,2026-03-01 10:00:00,cancel,2026-02-01,中国移动,广东\n\
             1391239394,2026-03-01,cancel,2026-02-01,中国移动,广东\n\
             13912393949,2026-03-01,关机,2026-02-01,中国移动,广东\n\
             13912393949,someday,cancel,2026-02-31,中国移动,广东\n"
        );
        let Err(ParseFailure::Lines(errors, count)) = parse(text.as_bytes()) else { panic!("accepted") };
        assert_eq!(count, 4);
        let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, [(3, "phone"), (4, "event"), (5, "entry_at"), (5, "event_at")]);
        assert_eq!(errors[1].problem, InputProblem::UnknownEvent { text: "关机".into() });
        assert_eq!(errors[0].to_string().split(':').next(), Some("t.csv"));
    }

    #[test]
    fn missing_column_and_empty_file() {
        let Err(ParseFailure::Lines(e, _)) = parse(b"phone,event,event_at,carrier\n") else { panic!() };
        assert_eq!(e[0].field, "entry_at");
        let Err(ParseFailure::Lines(e, _)) = parse(b"") else { panic!() };
        assert_eq!(e[0].problem, InputProblem::EmptyFile);
    }
}
