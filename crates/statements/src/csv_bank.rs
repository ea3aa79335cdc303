//! Chinese banks' CSV exports (招商银行, 工商银行, 网商银行…), read through a
//! [`CsvMapping`] that names, per bank, the header word of each column.
//!
//! The header row is found by the mapping's words within the first 20 lines (title
//! rows above it are skipped, and an `账号：…` / `币种：…` in them is used when
//! the file has no such column). Rows without a date whose text holds 合计 / 总计 /
//! 小计 (footers) and rows with at most one non-empty cell are skipped.
//!
//! One [`Statement`] per account (the account column, else the title rows, else
//! [`crate::ParseOptions::account`]). Its id is
//! `csv:{account}:{first date}:{last date}:{first 12 hex of the file's SHA-256}`;
//! an entry without a bank reference gets `{statement id}#{n}`. With a balance
//! column the opening balance is the first row's balance less its amount and the
//! closing one the last row's balance (the order, oldest or newest first, is
//! read from the balances, else from the dates).

use std::borrow::Cow;

use chrono::NaiveDate;
use csv::{ByteRecord, ReaderBuilder, StringRecord};
use domain::statement::{
    Location, Statement, StatementBalance, StatementEntry, StatementError, StatementFormat, StatementProblem,
};
use serde::{Deserialize, Serialize};

use crate::amount::{AmountError, DecimalStyle, parse_minor};
use crate::text::{self, cell, err, line};

/// How the amount of a row is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CsvAmount {
    /// One signed column (`交易金额`: negative for money out).
    Signed {
        /// Its header word.
        column: String,
    },
    /// A credit and a debit column, one of them filled per row (`收入金额` /
    /// `支出金额`, `贷方发生额` / `借方发生额`); the debit is money out whatever its
    /// sign.
    CreditDebit {
        /// Money in.
        credit: String,
        /// Money out.
        debit: String,
    },
    /// An unsigned amount and a direction column (`借`/`贷`, `支出`/`收入`, `D`/`C`).
    Directed {
        /// The amount.
        column: String,
        /// The direction.
        direction: String,
    },
}

/// The text encoding of the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvEncoding {
    /// UTF-8 (a BOM is skipped).
    Utf8,
    /// GBK / GB18030 (what most Chinese bank portals export).
    Gbk,
    /// UTF-8 when the bytes are valid UTF-8, else GBK.
    #[default]
    Auto,
}

fn default_currency() -> String {
    "CNY".to_owned()
}

fn default_delimiter() -> u8 {
    b','
}

/// The columns of one bank's export, by their header words. A word may list
/// alternatives separated by `|` (`收入金额|贷方金额`): the first the header has is
/// used. Every column the mapping names must be in the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvMapping {
    /// Booking date (`交易日期`); may also hold the time (`2026-11-24 10:15:32`).
    pub date: String,
    /// Booking time (`交易时间`) when in its own column.
    #[serde(default)]
    pub time: Option<String>,
    /// Value date (`起息日`).
    #[serde(default)]
    pub value_date: Option<String>,
    /// Summary (`摘要`) → the entry's bank code.
    #[serde(default)]
    pub summary: Option<String>,
    /// The amount column(s).
    pub amount: CsvAmount,
    /// Balance after the row (`余额`) → opening and closing balances.
    #[serde(default)]
    pub balance: Option<String>,
    /// Counterparty name (`对方户名`).
    #[serde(default)]
    pub counterparty_name: Option<String>,
    /// Counterparty account (`对方账号`).
    #[serde(default)]
    pub counterparty_account: Option<String>,
    /// Name and account in one cell (`张三 6222020200112233445`): split at the
    /// last run of six or more digits.
    #[serde(default)]
    pub counterparty: Option<String>,
    /// Remittance text (`用途`, `附言`, `备注`).
    #[serde(default)]
    pub remittance: Option<String>,
    /// The bank's reference of the row (`流水号`, `交易流水号`).
    #[serde(default)]
    pub bank_ref: Option<String>,
    /// Our account (`本方账号`) when the export has the column.
    #[serde(default)]
    pub account: Option<String>,
    /// The sub-account / virtual number the payer addressed (`子账号`, `虚拟账号`).
    #[serde(default)]
    pub sub_account: Option<String>,
    /// Currency (`币种`: `人民币`, `CNY`…).
    #[serde(default)]
    pub currency: Option<String>,
    /// The currency when neither a column nor the title rows say (`CNY`).
    #[serde(default = "default_currency")]
    pub default_currency: String,
    /// The text encoding.
    #[serde(default)]
    pub encoding: CsvEncoding,
    /// The field delimiter (`,`; some exports use tab).
    #[serde(default = "default_delimiter")]
    pub delimiter: u8,
}

fn s(v: &str) -> String {
    v.to_owned()
}

/// The bank exports this crate knows, by short name, in the order detection tries
/// them:
/// - `icbc` 工商银行 企业网银明细: 交易时间 (date and time), 本方账号, 对方账号,
///   对方单位名称, 借方发生额 / 贷方发生额, 余额, 摘要, 用途, 交易流水号 (or 凭证号);
/// - `cmb` 招商银行 交易明细: 交易日, 交易时间, 起息日, 借方金额 / 贷方金额 (or
///   支出金额 / 收入金额), 余额, 摘要, 流水号, 收/付方名称, 收/付方帐号;
/// - `mybank` 网商银行: 交易时间, 交易流水号, 子账号 (virtual numbers), 对方户名,
///   对方账号, 交易金额 (signed), 账户余额, 摘要, 备注.
pub fn presets() -> Vec<(&'static str, CsvMapping)> {
    let base = CsvMapping {
        date: String::new(),
        time: None,
        value_date: None,
        summary: None,
        amount: CsvAmount::Signed { column: String::new() },
        balance: None,
        counterparty_name: None,
        counterparty_account: None,
        counterparty: None,
        remittance: None,
        bank_ref: None,
        account: None,
        sub_account: None,
        currency: None,
        default_currency: default_currency(),
        encoding: CsvEncoding::Auto,
        delimiter: b',',
    };
    vec![
        (
            "icbc",
            CsvMapping {
                date: s("交易时间|交易日期"),
                summary: Some(s("摘要")),
                amount: CsvAmount::CreditDebit { credit: s("贷方发生额"), debit: s("借方发生额") },
                balance: Some(s("余额")),
                counterparty_name: Some(s("对方单位名称|对方户名")),
                counterparty_account: Some(s("对方账号")),
                remittance: Some(s("用途")),
                bank_ref: Some(s("交易流水号|凭证号")),
                account: Some(s("本方账号")),
                ..base.clone()
            },
        ),
        (
            "cmb",
            CsvMapping {
                date: s("交易日|交易日期"),
                time: Some(s("交易时间")),
                value_date: Some(s("起息日")),
                summary: Some(s("摘要")),
                amount: CsvAmount::CreditDebit {
                    credit: s("贷方金额|收入金额"),
                    debit: s("借方金额|支出金额"),
                },
                balance: Some(s("余额")),
                counterparty_name: Some(s("收/付方名称|对方户名")),
                counterparty_account: Some(s("收/付方帐号|收/付方账号|对方账号")),
                bank_ref: Some(s("流水号|交易流水号")),
                ..base.clone()
            },
        ),
        (
            "mybank",
            CsvMapping {
                date: s("交易时间"),
                summary: Some(s("摘要|交易类型")),
                amount: CsvAmount::Signed { column: s("交易金额") },
                balance: Some(s("账户余额|余额")),
                counterparty_name: Some(s("对方户名")),
                counterparty_account: Some(s("对方账号")),
                remittance: Some(s("备注|附言")),
                bank_ref: Some(s("交易流水号|流水号")),
                sub_account: Some(s("子账号|虚拟账号")),
                ..base
            },
        ),
    ]
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Slot {
    Date,
    Time,
    ValueDate,
    Summary,
    Amount,
    Credit,
    Debit,
    Direction,
    Balance,
    CpName,
    CpAccount,
    Cp,
    Remittance,
    BankRef,
    Account,
    SubAccount,
    Currency,
}
const SLOTS: usize = 17;

impl CsvMapping {
    /// The columns the mapping names, in a fixed order (date and amounts first).
    fn columns(&self) -> Vec<(Slot, &str)> {
        let mut v: Vec<(Slot, &str)> = vec![(Slot::Date, &self.date)];
        match &self.amount {
            CsvAmount::Signed { column } => v.push((Slot::Amount, column)),
            CsvAmount::CreditDebit { credit, debit } => {
                v.push((Slot::Credit, credit));
                v.push((Slot::Debit, debit));
            }
            CsvAmount::Directed { column, direction } => {
                v.push((Slot::Amount, column));
                v.push((Slot::Direction, direction));
            }
        }
        let optional = [
            (Slot::Time, &self.time),
            (Slot::ValueDate, &self.value_date),
            (Slot::Summary, &self.summary),
            (Slot::Balance, &self.balance),
            (Slot::CpName, &self.counterparty_name),
            (Slot::CpAccount, &self.counterparty_account),
            (Slot::Cp, &self.counterparty),
            (Slot::Remittance, &self.remittance),
            (Slot::BankRef, &self.bank_ref),
            (Slot::Account, &self.account),
            (Slot::SubAccount, &self.sub_account),
            (Slot::Currency, &self.currency),
        ];
        v.extend(optional.into_iter().filter_map(|(slot, c)| c.as_deref().map(|c| (slot, c))));
        v
    }
}

/// Column indexes and header words found for a mapping.
struct Columns {
    index: [Option<usize>; SLOTS],
    name: [String; SLOTS],
}

impl Columns {
    fn get(&self, slot: Slot) -> Option<usize> {
        self.index[slot as usize]
    }
    fn name(&self, slot: Slot) -> &str {
        &self.name[slot as usize]
    }
}

/// Matches a header row: the columns found, or how many were and the first missing.
fn match_header(mapping: &CsvMapping, header: &StringRecord) -> Result<Columns, (usize, String)> {
    let cells: Vec<&str> = header.iter().map(|c| cell(c).unwrap_or("")).collect();
    let mut cols = Columns { index: [None; SLOTS], name: Default::default() };
    let mut found = 0;
    let mut missing = None;
    for (slot, spec) in mapping.columns() {
        let hit = spec.split('|').map(str::trim).find_map(|alt| cells.iter().position(|c| *c == alt));
        match hit {
            Some(i) => {
                found += 1;
                cols.index[slot as usize] = Some(i);
                cols.name[slot as usize] = cells[i].to_owned();
            }
            None => {
                if missing.is_none() {
                    missing = Some(spec.to_owned());
                }
            }
        }
    }
    match missing {
        None => Ok(cols),
        Some(m) => Err((found, m)),
    }
}

const HEADER_SEARCH: usize = 20;

fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes())
}

/// The first records of the file (where the header is looked for).
fn head_records(text: &str, rdr: &mut csv::Reader<&[u8]>) -> Result<Vec<StringRecord>, StatementError> {
    let mut head = Vec::with_capacity(HEADER_SEARCH);
    let mut rec = StringRecord::new();
    while head.len() < HEADER_SEARCH {
        match rdr.read_record(&mut rec) {
            Ok(true) => head.push(rec.clone()),
            Ok(false) => break,
            Err(e) => return Err(csv_error_in(text, &e)),
        }
    }
    Ok(head)
}

/// A reader error, located by its byte offset in `text`.
pub(crate) fn csv_error_in(text: &str, e: &csv::Error) -> StatementError {
    let at = match e.position() {
        Some(p) => {
            let byte = usize::try_from(p.byte()).unwrap_or(usize::MAX).min(text.len());
            line(1 + memchr::memchr_iter(b'\n', &text.as_bytes()[..byte]).count() as u64)
        }
        None => Location::File,
    };
    err(at, "", StatementProblem::Csv { detail: e.to_string() })
}

/// Which preset's header the first bytes of a file have (detection).
pub(crate) fn preset_for_head(head: &[u8]) -> Option<&'static str> {
    let text: Cow<'_, str> = match std::str::from_utf8(head) {
        Ok(t) => Cow::Borrowed(t),
        Err(e) if e.error_len().is_none() => {
            Cow::Borrowed(std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""))
        }
        Err(_) => encoding_rs::GBK.decode_without_bom_handling(head).0,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut rdr = reader(text, b',');
    let head = head_records(text, &mut rdr).ok()?;
    presets().into_iter().find(|(_, m)| head.iter().any(|r| match_header(m, r).is_ok())).map(|(name, _)| name)
}

fn decode(bytes: &[u8], encoding: CsvEncoding) -> Result<Cow<'_, str>, StatementError> {
    let body = crate::detect::strip_bom(bytes);
    let line_at = |offset: usize| {
        line(1 + memchr::memchr_iter(b'\n', &bytes[..offset.min(bytes.len())]).count() as u64)
    };
    match encoding {
        CsvEncoding::Utf8 | CsvEncoding::Auto => match std::str::from_utf8(body) {
            Ok(t) => return Ok(Cow::Borrowed(t)),
            Err(e) if encoding == CsvEncoding::Utf8 => {
                let offset = bytes.len() - body.len() + e.valid_up_to();
                return Err(err(
                    line_at(offset),
                    "",
                    StatementProblem::Encoding { encoding: "UTF-8".into() },
                ));
            }
            Err(_) => {}
        },
        CsvEncoding::Gbk => {}
    }
    let mut decoder = encoding_rs::GBK.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut out = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(Cow::Owned(out)),
        encoding_rs::DecoderResult::Malformed(bad, after) => {
            let offset = read.saturating_sub(usize::from(bad) + usize::from(after));
            Err(err(line_at(offset), "", StatementProblem::Encoding { encoding: "GBK".into() }))
        }
        encoding_rs::DecoderResult::OutputFull => {
            Err(err(Location::File, "", StatementProblem::Encoding { encoding: "GBK".into() }))
        }
    }
}

/// `账号：755912345610101` in a title row (or the label in one cell and the value
/// in the next).
fn labelled<'r>(cells: &[&'r str], labels: &[&str]) -> Option<&'r str> {
    for (i, c) in cells.iter().enumerate() {
        for label in labels {
            let Some(p) = c.find(label) else { continue };
            let rest = c[p + label.len()..].trim_start_matches([':', '：', ' ', '\u{3000}']);
            let value = if rest.is_empty() {
                cells.get(i + 1).copied().unwrap_or("").trim()
            } else {
                // A title cell may hold several labels: `账号:1 币种:人民币`.
                rest.split([' ', '\u{3000}', ',', '，', ';', '；']).next().unwrap_or("").trim()
            };
            if !value.is_empty() {
                return Some(value);
            }
        }
    }
    None
}

/// Splits `张三 6222020200112233445` at its last run of 6+ digits.
fn split_counterparty(c: &str) -> (Option<String>, Option<String>) {
    let b = c.as_bytes();
    let mut end = b.len();
    while end > 0 {
        if b[end - 1].is_ascii_digit() {
            let mut start = end;
            while start > 0 && b[start - 1].is_ascii_digit() {
                start -= 1;
            }
            if end - start >= 6 {
                let name = format!("{}{}", c[..start].trim(), c[end..].trim());
                let name = name.trim().trim_matches(['/', '-', ',', '，']).trim();
                return ((!name.is_empty()).then(|| name.to_owned()), Some(c[start..end].to_owned()));
            }
            end = start;
        } else {
            end -= 1;
        }
    }
    (Some(c.to_owned()), None)
}

fn is_footer(rec: &ByteRecord) -> bool {
    const WORDS: [&[u8]; 3] = ["合计".as_bytes(), "总计".as_bytes(), "小计".as_bytes()];
    rec.iter().any(|c| WORDS.iter().any(|w| memchr::memmem::find(c, w).is_some()))
}

/// 1-based line numbers of records, from their byte offsets: the reader's own
/// line count is one short after a CRLF line end (it stops between `\r` and `\n`).
pub(crate) struct LineCounter<'t> {
    text: &'t [u8],
    at: usize,
    line: u64,
    /// Lines starting with this byte are comments the reader skips.
    comment: Option<u8>,
}

impl<'t> LineCounter<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        LineCounter { text: text.as_bytes(), at: 0, line: 1, comment: None }
    }

    /// Also skips the comment lines the reader skips.
    pub(crate) fn with_comments(text: &'t str, comment: u8) -> Self {
        LineCounter { comment: Some(comment), ..Self::new(text) }
    }

    /// The line a record starts on (records come in file order).
    pub(crate) fn line_of(&mut self, rec: &ByteRecord) -> u64 {
        let Some(p) = rec.position() else { return self.line };
        let mut start = usize::try_from(p.byte()).unwrap_or(usize::MAX).min(self.text.len());
        loop {
            while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
                start += 1;
            }
            if self.comment.is_none() || self.text.get(start) != self.comment.as_ref() {
                break;
            }
            start = memchr::memchr(b'\n', &self.text[start..]).map_or(self.text.len(), |i| start + i + 1);
        }
        if start < self.at {
            // Not in order (cannot happen): count from the start.
            self.at = 0;
            self.line = 1;
        }
        self.line += memchr::memchr_iter(b'\n', &self.text[self.at..start]).count() as u64;
        self.at = start;
        self.line
    }
}

struct Group {
    account: String,
    currency: String,
    entries: Vec<StatementEntry>,
    missing_ref: Vec<usize>,
    /// (balance, amount, date) of the first two and the last rows with a balance.
    bal_first: Option<(i64, i64, NaiveDate)>,
    bal_second: Option<(i64, i64, NaiveDate)>,
    bal_last: Option<(i64, i64, NaiveDate)>,
    first_date: Option<NaiveDate>,
    last_date: Option<NaiveDate>,
}

fn amount_err(at: &Location, field: &str, text: &str, e: AmountError) -> StatementError {
    let problem = match e {
        AmountError::Bad => StatementProblem::BadAmount { text: text.to_owned() },
        AmountError::Overflow => StatementProblem::Overflow,
    };
    err(at.clone(), field, problem)
}

/// Reads a bank CSV with `mapping`, or with the preset whose columns its header
/// has. `account` replaces the file's account and supplies it when it has none.
pub fn parse(
    bytes: &[u8],
    mapping: Option<&CsvMapping>,
    account: Option<&str>,
) -> Result<Vec<Statement>, StatementError> {
    let encoding = mapping.map_or(CsvEncoding::Auto, |m| m.encoding);
    let content = decode(bytes, encoding)?;
    let text: &str = &content;
    let delimiter = mapping.map_or(b',', |m| m.delimiter);
    let mut rdr = reader(text, delimiter);
    let head = head_records(text, &mut rdr)?;

    // Pick the mapping and find its header row.
    let owned_presets;
    let candidates: Vec<&CsvMapping> = match mapping {
        Some(m) => vec![m],
        None => {
            owned_presets = presets();
            owned_presets.iter().map(|(_, m)| m).collect()
        }
    };
    let mut best: Option<(usize, usize, String)> = None; // found, record, missing
    let mut chosen = None;
    'search: for m in &candidates {
        for (i, r) in head.iter().enumerate() {
            match match_header(m, r) {
                Ok(cols) => {
                    chosen = Some((*m, i, cols));
                    break 'search;
                }
                Err((found, missing)) => {
                    if found > 0 && best.as_ref().is_none_or(|b| found > b.0) {
                        best = Some((found, i, missing));
                    }
                }
            }
        }
    }
    let Some((mapping, header_at, cols)) = chosen else {
        return Err(match best {
            Some((_, i, missing)) => {
                let at = line(LineCounter::new(text).line_of(head[i].as_byte_record()));
                err(at, missing.clone(), StatementProblem::MissingColumn { column: missing })
            }
            None => match mapping {
                Some(m) => err(
                    Location::File,
                    m.date.clone(),
                    StatementProblem::MissingColumn { column: m.date.clone() },
                ),
                None => err(Location::File, "", StatementProblem::UnknownFormat),
            },
        });
    };

    // Title rows above the header.
    let mut title_account = None;
    let mut title_currency = None;
    for r in &head[..header_at] {
        let cells: Vec<&str> = r.iter().collect();
        if title_account.is_none() {
            title_account = labelled(&cells, &["账号", "帐号"]).map(text::compact);
        }
        if title_currency.is_none() {
            title_currency = labelled(&cells, &["币种"]).and_then(text::currency_code);
        }
    }
    let fixed_account = account.map(text::compact).or(title_account);
    let default_currency = title_currency.unwrap_or_else(|| mapping.default_currency.clone());

    let mut groups: Vec<Group> = Vec::new();
    let mut current = 0usize;
    let mut rows = head[header_at + 1..].iter().map(|r| r.as_byte_record().clone());
    let mut rec = ByteRecord::new();
    let mut lines = LineCounter::new(text);
    loop {
        let got = match rows.next() {
            Some(r) => {
                rec = r;
                true
            }
            None => rdr.read_byte_record(&mut rec).map_err(|e| csv_error_in(text, &e))?,
        };
        if !got {
            break;
        }
        let at = line(lines.line_of(&rec));
        let get = |slot: Slot| -> Result<Option<&str>, StatementError> {
            match cols.get(slot).and_then(|i| rec.get(i)) {
                None => Ok(None),
                Some(raw) => std::str::from_utf8(raw).map(cell).map_err(|_| {
                    err(at.clone(), cols.name(slot), StatementProblem::Encoding { encoding: "UTF-8".into() })
                }),
            }
        };
        if rec.iter().filter(|c| !c.trim_ascii().is_empty()).count() <= 1 {
            continue;
        }
        let date_cell = get(Slot::Date)?;
        let parsed = date_cell.and_then(text::date_time);
        let Some((date, mut time)) = parsed else {
            if is_footer(&rec) {
                continue;
            }
            let text = date_cell.unwrap_or("").to_owned();
            return Err(err(at, cols.name(Slot::Date), StatementProblem::BadDate { text }));
        };
        if let Some(t) = get(Slot::Time)? {
            time = Some(text::time(t).ok_or_else(|| {
                err(at.clone(), cols.name(Slot::Time), StatementProblem::BadDate { text: t.to_owned() })
            })?);
        }
        let value_date = match get(Slot::ValueDate)? {
            Some(v) => Some(
                text::date_time(v)
                    .ok_or_else(|| {
                        err(
                            at.clone(),
                            cols.name(Slot::ValueDate),
                            StatementProblem::BadDate { text: v.to_owned() },
                        )
                    })?
                    .0,
            ),
            None => None,
        };
        let parse_amount = |slot: Slot| -> Result<Option<i64>, StatementError> {
            match get(slot)? {
                None => Ok(None),
                Some(t) => parse_minor(t.as_bytes(), DecimalStyle::Point)
                    .map(Some)
                    .map_err(|e| amount_err(&at, cols.name(slot), t, e)),
            }
        };
        let amount = match &mapping.amount {
            CsvAmount::Signed { .. } => parse_amount(Slot::Amount)?.ok_or_else(|| {
                err(at.clone(), cols.name(Slot::Amount), StatementProblem::BadAmount { text: String::new() })
            })?,
            CsvAmount::CreditDebit { .. } => {
                match (parse_amount(Slot::Credit)?, parse_amount(Slot::Debit)?) {
                    (None, None) => {
                        return Err(err(
                            at,
                            cols.name(Slot::Credit),
                            StatementProblem::BadAmount { text: String::new() },
                        ));
                    }
                    (c, d) => c.unwrap_or(0).abs() - d.unwrap_or(0).abs(),
                }
            }
            CsvAmount::Directed { .. } => {
                let a = parse_amount(Slot::Amount)?
                    .ok_or_else(|| {
                        err(
                            at.clone(),
                            cols.name(Slot::Amount),
                            StatementProblem::BadAmount { text: String::new() },
                        )
                    })?
                    .abs();
                let d = get(Slot::Direction)?.unwrap_or("");
                match d {
                    "贷" | "收" | "收入" | "入" | "来账" | "C" | "CR" | "c" | "cr" | "贷方" => a,
                    "借" | "支" | "支出" | "出" | "往账" | "D" | "DR" | "d" | "dr" | "借方" => -a,
                    _ => {
                        return Err(err(
                            at,
                            cols.name(Slot::Direction),
                            StatementProblem::BadValue { text: d.to_owned() },
                        ));
                    }
                }
            }
        };
        let balance = parse_amount(Slot::Balance)?;
        let row_account = match get(Slot::Account)? {
            _ if fixed_account.is_some() => None,
            Some(a) => Some(a),
            None if cols.get(Slot::Account).is_none() => {
                return Err(err(Location::File, "账号", StatementProblem::Missing));
            }
            None => return Err(err(at, cols.name(Slot::Account), StatementProblem::Missing)),
        };
        let currency = match get(Slot::Currency)? {
            Some(c) => Some(text::currency_code(c).ok_or_else(|| {
                err(at.clone(), cols.name(Slot::Currency), StatementProblem::BadValue { text: c.to_owned() })
            })?),
            None => None,
        };
        // Find the row's account group (rows of one account are usually together).
        let group_account: Cow<'_, str> = match (&fixed_account, row_account) {
            (Some(a), _) => Cow::Borrowed(a.as_str()),
            (None, Some(a)) if !a.contains(char::is_whitespace) => Cow::Borrowed(a),
            (None, Some(a)) => Cow::Owned(text::compact(a)),
            (None, None) => return Err(err(Location::File, "账号", StatementProblem::Missing)),
        };
        if groups.get(current).is_none_or(|g| g.account != group_account) {
            current = match groups.iter().position(|g| g.account == group_account) {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        account: group_account.into_owned(),
                        currency: currency.clone().unwrap_or_else(|| default_currency.clone()),
                        entries: Vec::new(),
                        missing_ref: Vec::new(),
                        bal_first: None,
                        bal_second: None,
                        bal_last: None,
                        first_date: None,
                        last_date: None,
                    });
                    groups.len() - 1
                }
            };
        }
        let Some(g) = groups.get_mut(current) else { continue };
        if let Some(c) = currency
            && c != g.currency
        {
            return Err(err(
                at,
                cols.name(Slot::Currency),
                StatementProblem::Currency { expected: g.currency.clone(), found: c },
            ));
        }
        let (mut cp_name, mut cp_account) =
            (get(Slot::CpName)?.map(str::to_owned), get(Slot::CpAccount)?.map(text::compact));
        if let Some(c) = get(Slot::Cp)? {
            let (n, a) = split_counterparty(c);
            cp_name = cp_name.or(n);
            cp_account = cp_account.or(a);
        }
        let addressed_account = get(Slot::SubAccount)?.map(text::compact).filter(|s| *s != g.account);
        let bank_ref = get(Slot::BankRef)?.map(str::to_owned);
        if bank_ref.is_none() {
            g.missing_ref.push(g.entries.len());
        }
        if let Some(b) = balance {
            let row = (b, amount, date);
            if g.bal_first.is_none() {
                g.bal_first = Some(row);
            } else if g.bal_second.is_none() {
                g.bal_second = Some(row);
            }
            g.bal_last = Some(row);
        }
        g.first_date = Some(g.first_date.map_or(date, |d| d.min(date)));
        g.last_date = Some(g.last_date.map_or(date, |d| d.max(date)));
        let remittance = get(Slot::Remittance)?.map(str::to_owned);
        let bank_code = get(Slot::Summary)?.map(str::to_owned);
        g.entries.push(StatementEntry {
            at,
            amount_minor: amount,
            booking_date: date,
            value_date,
            booked_at: text::at(date, time),
            bank_ref: bank_ref.unwrap_or_default(),
            end_to_end: None,
            counterparty_name: cp_name,
            counterparty_account: cp_account,
            addressed_account,
            remittance,
            bank_code,
            reversal: false,
            return_reason: None,
            fee_minor: None,
            our_ref: None,
            booked: true,
        });
    }
    if groups.is_empty() {
        let at = line(LineCounter::new(text).line_of(head[header_at].as_byte_record()));
        return Err(err(at, "", StatementProblem::Empty));
    }
    let digest = text::digest12(bytes);
    let mut out = Vec::with_capacity(groups.len());
    for mut g in groups {
        let (Some(first), Some(last)) = (g.first_date, g.last_date) else { continue };
        let statement_id = format!("csv:{}:{first}:{last}:{digest}", g.account);
        for &i in &g.missing_ref {
            if let Some(e) = g.entries.get_mut(i) {
                e.bank_ref = format!("{statement_id}#{}", i + 1);
            }
        }
        let (opening, closing) = balances(&g);
        out.push(Statement {
            format: StatementFormat::BankCsv,
            version: None,
            statement_id,
            account: g.account,
            currency: g.currency,
            sequence: None,
            opening,
            closing,
            from: Some(first),
            to: Some(last),
            entries: g.entries,
        });
    }
    Ok(out)
}

/// Opening and closing balances from the balance column, in whichever order the
/// file lists the rows.
fn balances(g: &Group) -> (Option<StatementBalance>, Option<StatementBalance>) {
    let (Some(first), Some(last)) = (g.bal_first, g.bal_last) else { return (None, None) };
    let newest_first = match g.bal_second {
        Some(second) if first.0.checked_add(second.1) == Some(second.0) => false,
        Some(second) if second.0.checked_add(first.1) == Some(first.0) => true,
        _ => first.2 > last.2,
    };
    let (oldest, newest) = if newest_first { (last, first) } else { (first, last) };
    let opening =
        oldest.0.checked_sub(oldest.1).map(|amount_minor| StatementBalance { amount_minor, date: oldest.2 });
    (opening, Some(StatementBalance { amount_minor: newest.0, date: newest.2 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_combined_counterparty() {
        assert_eq!(
            split_counterparty("张三 6222020200112233445"),
            (Some("张三".into()), Some("6222020200112233445".into()))
        );
        assert_eq!(
            split_counterparty("6222020200112233445/李四"),
            (Some("李四".into()), Some("6222020200112233445".into()))
        );
        assert_eq!(split_counterparty("上海2号仓库"), (Some("上海2号仓库".into()), None));
    }

    #[test]
    fn title_labels() {
        assert_eq!(labelled(&["账号：755912345610101"], &["账号"]), Some("755912345610101"));
        assert_eq!(labelled(&["账号:", "7559 1234"], &["账号"]), Some("7559 1234"));
        assert_eq!(labelled(&["户名：某某公司 币种：人民币"], &["币种"]), Some("人民币"));
    }
}
