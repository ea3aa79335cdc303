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

/// The header as an error quotes it: each name shortened, at most 12 names.
fn excerpt_header(header: &[String]) -> String {
    let names: Vec<String> = header.iter().take(12).map(|h| excerpt(h)).collect();
    let more = if header.len() > 12 { ",…" } else { "" };
    format!("{}{more}", names.join(","))
}

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
            problem: InputProblem::MissingColumn { header: excerpt_header(header) },
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

/// Largest carrier file accepted (bytes): a daily file of tens of millions of lines.
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Longest line accepted (bytes): real lines are under 100; a longer one is not a
/// carrier line, and an unbounded one would take all memory.
pub const MAX_LINE_BYTES: usize = 4096;
/// Characters of a bad field quoted back in an error (digits masked).
const EXCERPT_CHARS: usize = 24;

/// The file as it streams in: hashed, and bounded in size and line length, so a
/// huge file or a giant field fails clearly instead of exhausting memory.
struct Guarded<R> {
    inner: R,
    limits: Limits,
    hasher: Sha256,
    bytes: u64,
    since_newline: usize,
    exceeded: Option<InputProblem>,
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = &buf[..n];
        self.hasher.update(chunk);
        self.bytes += n as u64;
        let mut start = 0;
        let mut longest = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            longest = longest.max(self.since_newline + end - start);
            self.since_newline = 0;
            start = end + 1;
        }
        self.since_newline += n - start;
        longest = longest.max(self.since_newline);
        if self.bytes > self.limits.file_bytes {
            self.exceeded = Some(InputProblem::FileTooLarge { max_bytes: self.limits.file_bytes });
        } else if longest > self.limits.line_bytes {
            self.exceeded = Some(InputProblem::LineTooLong { max_bytes: self.limits.line_bytes });
        }
        match &self.exceeded {
            Some(_) => Err(std::io::Error::other("limit exceeded")),
            None => Ok(n),
        }
    }
}

/// What a failed read means: a limit the file broke (at `line`), or the disk.
fn limit_or_io<R>(file: &str, g: &Guarded<R>, e: &dyn std::fmt::Display, line: u64) -> ParseFailure {
    match &g.exceeded {
        Some(problem) => ParseFailure::Lines(vec![LineError::new(file, line, "file", problem.clone())], 1),
        None => ParseFailure::Io(format!("{file}: {e}")),
    }
}

/// A bad field's text as errors quote it: short, with long digit runs (phone, ID
/// and card numbers in a misaligned column) masked.
pub fn excerpt(text: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.chars().count() >= 7 {
            let d: Vec<char> = digits.chars().collect();
            out.extend(&d[..3]);
            out.push_str("****");
            out.extend(&d[d.len() - 2..]);
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars().take(EXCERPT_CHARS) {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    if text.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
}

/// How large a file and its lines may be.
#[derive(Debug, Clone, Copy)]
struct Limits {
    file_bytes: u64,
    line_bytes: usize,
}

/// Reads `reader` as it streams, calling `progress(bytes_read, lines)` every 64k
/// lines. Every line is checked before anything is written.
pub fn parse_carrier_csv(
    file: &str,
    reader: impl Read,
    progress: impl FnMut(u64, u64),
) -> Result<ParsedFile, ParseFailure> {
    parse_with_limits(
        file,
        reader,
        Limits { file_bytes: MAX_FILE_BYTES, line_bytes: MAX_LINE_BYTES },
        progress,
    )
}

fn parse_with_limits(
    file: &str,
    reader: impl Read,
    limits: Limits,
    mut progress: impl FnMut(u64, u64),
) -> Result<ParsedFile, ParseFailure> {
    let mut guarded =
        Guarded { inner: reader, limits, hasher: Sha256::new(), bytes: 0, since_newline: 0, exceeded: None };
    // The first 64 KiB decide the encoding; the rest streams behind them.
    let mut head = Vec::with_capacity(64 * 1024);
    (&mut guarded).take(64 * 1024).read_to_end(&mut head).map_err(|e| limit_or_io(file, &guarded, &e, 1))?;
    let skip = if head.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let encoding = sniff_encoding(&head[skip..]);
    let body = std::io::Cursor::new(head).chain(guarded);
    let mut csv =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(body);
    if skip > 0 {
        // The BOM is not part of the header's first name.
        let mut bom = [0u8; 3];
        csv.get_mut().read_exact(&mut bom).map_err(|e| ParseFailure::Io(format!("{file}: {e}")))?;
    }
    let mut record = csv::ByteRecord::new();
    let mut errors = Errors { file, list: Vec::new(), count: 0 };
    // A read that failed on a limit reports the limit, at the line it was reached.
    let failed = |csv: &csv::Reader<std::io::Chain<std::io::Cursor<Vec<u8>>, Guarded<_>>>, e, line| {
        limit_or_io(file, csv.get_ref().get_ref().1, &e, line)
    };
    match csv.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            return Err(ParseFailure::Lines(
                vec![LineError::new(file, 1, "header", InputProblem::EmptyFile)],
                1,
            ));
        }
        Err(e) => return Err(failed(&csv, e, 1)),
    }
    let header: Vec<String> =
        record.iter().map(|f| decode(encoding, f).map(Cow::into_owned).unwrap_or_default()).collect();
    let cols = find_columns(&header, file).map_err(|e| ParseFailure::Lines(vec![e], 1))?;
    let mut lines = Vec::new();
    let mut problems: Vec<(&str, InputProblem)> = Vec::new();
    let mut last_line = 1;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if e.is_io_error() => return Err(failed(&csv, e, last_line + 1)),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.add(line, "csv", InputProblem::Csv { detail: excerpt(&e.to_string()) });
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        last_line = line;
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
    let (_, guarded) = csv.into_inner().into_inner();
    progress(guarded.bytes, lines.len() as u64);
    let sha256 = hex::encode(guarded.hasher.finalize());
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
            problems.push(("entry_at", InputProblem::NotATime { text: excerpt(&entry_text) }));
        }
        t
    };
    let event = CarrierEventKind::parse(&event_text);
    if event.is_none() {
        problems.push(("event", InputProblem::UnknownEvent { text: excerpt(&event_text) }));
    }
    let event_at = parse_carrier_time(&event_at_text);
    if event_at.is_none() {
        problems.push(("event_at", InputProblem::NotATime { text: excerpt(&event_at_text) }));
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
    fn the_hash_covers_the_streamed_bytes() {
        let text =
            format!("\u{feff}{HEADER}13912393949,2026-03-01 10:00:00,cancel,2026-02-01,中国移动,广东\n");
        let parsed = parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.sha256, hex::encode(Sha256::digest(text.as_bytes())));
        assert_eq!(parsed.lines.len(), 1, "the BOM is not part of the header");
    }

    #[test]
    fn huge_files_and_lines_are_refused_before_they_fill_memory() {
        let limits = Limits { file_bytes: 10_000, line_bytes: 200 };
        let giant_field = std::io::repeat(b'9').take(1 << 20);
        let Err(ParseFailure::Lines(e, _)) =
            parse_with_limits("g.csv", HEADER.as_bytes().chain(giant_field), limits, |_, _| {})
        else {
            panic!("accepted")
        };
        assert_eq!(e[0].problem, InputProblem::LineTooLong { max_bytes: 200 });
        let line = "13912393949,2026-03-01 10:00:00,cancel,2026-02-01,中国移动,广东\n";
        let many = std::iter::repeat_n(line, 1000).collect::<String>();
        let Err(ParseFailure::Lines(e, _)) =
            parse_with_limits("m.csv", format!("{HEADER}{many}").as_bytes(), limits, |_, _| {})
        else {
            panic!("accepted")
        };
        assert_eq!(e[0].problem, InputProblem::FileTooLarge { max_bytes: 10_000 });
    }

    #[test]
    fn quoted_fields_are_short_and_masked() {
        assert_eq!(excerpt("关机"), "关机");
        assert_eq!(excerpt("13912393949"), "139****49");
        assert_eq!(excerpt("身份证610113200409182119号"), "身份证610****19号");
        assert_eq!(excerpt(&"x".repeat(100)).chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn missing_column_and_empty_file() {
        let Err(ParseFailure::Lines(e, _)) = parse(b"phone,event,event_at,carrier\n") else { panic!() };
        assert_eq!(e[0].field, "entry_at");
        let Err(ParseFailure::Lines(e, _)) = parse(b"") else { panic!() };
        assert_eq!(e[0].problem, InputProblem::EmptyFile);
    }
}
