//! ISO 20022 camt.053 (bank to customer statement) and camt.054 (debit/credit
//! notification), versions 001.02 to 001.08, read in one streaming pass over the
//! input slice (events borrow from it), with the namespace scopes kept here: only
//! elements bound to the document's camt namespace (by default namespace or
//! prefix) are read, whatever their prefix.
//!
//! The events come from the crate's fast reader ([`crate::xml`]), which reads as
//! [`quick_xml::Reader`] does; when it gives up on a file (malformed XML, not
//! UTF-8), the file is read again with quick-xml, so that results and errors are
//! always quick-xml's. Element names are told apart by a perfect hash of their
//! first 16 bytes ([`TAGS`]); the path of an element is only written out for an
//! error or an entry.
//!
//! Per `Stmt` / `Ntfctn`: `Id` → statement id, `ElctrncSeqNb` (else `LglSeqNb`) →
//! sequence, `Acct/Id/IBAN|Othr/Id` → account, `Acct/Ccy` (else the first amount's
//! `Ccy`) → currency, `Bal` `OPBD` (else `PRCD`) → opening and `CLBD` → closing,
//! `FrToDt` → from/to (else the entries' first and last booking days).
//!
//! Per `Ntry`: `Amt` signed by `CdtDbtInd` as written (a reversal's indicator
//! already gives its effect), `RvslInd`, `Sts` (`BOOK` or `<Cd>BOOK</Cd>` → booked),
//! `BookgDt`, `ValDt`, `AcctSvcrRef` (else `NtryRef`, else the first transaction's
//! `Refs/AcctSvcrRef`, else `{statement id}#{n}`) → bank ref, `BkTxCd`
//! (`PMNT/RCDT/ESCT` or the proprietary code), `Chrgs` (total, else the sum of the
//! records) → fee; from the first `NtryDtls/TxDtls`: `EndToEndId`, the related
//! party (payer of a credit, payee of a debit; for a reversal the party of the
//! original payment), the credited account when it is not the statement's
//! (a virtual number), `RmtInf` and `RtrInf/Rsn`.
//!
//! Elements outside the document's namespace and elements the console does not
//! use are skipped.

use chrono::{NaiveDate, NaiveTime};
use std::borrow::Cow;

use domain::statement::{
    Location, Statement, StatementBalance, StatementEntry, StatementError, StatementFormat, StatementProblem,
};
use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use crate::amount::{DecimalStyle, parse_minor};
use crate::text;
use crate::xml::{FastReader, Token};

const NS_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";

/// Whether `ns` is a camt.053/054 namespace this crate reads, and which.
pub fn namespace_format(ns: &str) -> Option<StatementFormat> {
    let rest = ns.strip_prefix(NS_PREFIX)?;
    let (format, version) = if let Some(v) = rest.strip_prefix("camt.053.001.") {
        (StatementFormat::Camt053, v)
    } else if let Some(v) = rest.strip_prefix("camt.054.001.") {
        (StatementFormat::Camt054, v)
    } else {
        return None;
    };
    matches!(version, "02" | "03" | "04" | "05" | "06" | "07" | "08").then_some(format)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tag {
    Other,
    Document,
    BkToCstmrStmt,
    BkToCstmrDbtCdtNtfctn,
    Stmt,
    Ntfctn,
    Id,
    ElctrncSeqNb,
    LglSeqNb,
    Acct,
    Iban,
    Othr,
    Ccy,
    Bal,
    Tp,
    CdOrPrtry,
    Cd,
    Prtry,
    Amt,
    CdtDbtInd,
    Dt,
    DtTm,
    FrToDt,
    FrDtTm,
    ToDtTm,
    Ntry,
    NtryRef,
    RvslInd,
    Sts,
    BookgDt,
    ValDt,
    AcctSvcrRef,
    BkTxCd,
    Domn,
    Fmly,
    SubFmlyCd,
    Chrgs,
    TtlChrgsAndTaxAmt,
    Rcrd,
    NtryDtls,
    TxDtls,
    Refs,
    EndToEndId,
    RltdPties,
    Dbtr,
    Cdtr,
    DbtrAcct,
    CdtrAcct,
    Pty,
    Nm,
    RmtInf,
    Ustrd,
    Strd,
    CdtrRefInf,
    Ref,
    RtrInf,
    Rsn,
}

/// A name of up to 16 bytes as one integer (zero-padded), so that element names are
/// told apart by integer comparisons instead of string comparisons.
const fn key(name: &[u8]) -> u128 {
    let mut k = 0u128;
    let mut i = 0;
    while i < name.len() && i < 16 {
        k |= (name[i] as u128) << (8 * i);
        i += 1;
    }
    k
}

/// The key bits of a name of each length up to 16 (see [`key`]).
const KEY_MASKS: [u128; 17] = {
    let mut masks = [u128::MAX; 17];
    let mut len = 0;
    while len < 16 {
        masks[len] = (1u128 << (8 * len)) - 1;
        len += 1;
    }
    masks
};

/// Whether a key (see [`key`]) has a `:` in it.
fn has_colon(k: u128) -> bool {
    const ONES: u128 = u128::MAX / 0xFF;
    const HIGHS: u128 = ONES << 7;
    let v = k ^ (ONES * u128::from(b':'));
    v.wrapping_sub(ONES) & !v & HIGHS != 0
}

/// `s` trimmed (`str::trim`), quickly when it starts and ends with ASCII that is
/// not blank.
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&b)) if (0x21..0x7F).contains(&a) && (0x21..0x7F).contains(&b) => s,
        _ => s.trim(),
    }
}

/// Every element read (all tags but [`Tag::Other`]).
const KNOWN: [Tag; 56] = [
    Tag::Document,
    Tag::BkToCstmrStmt,
    Tag::Stmt,
    Tag::Ntfctn,
    Tag::Id,
    Tag::ElctrncSeqNb,
    Tag::LglSeqNb,
    Tag::Acct,
    Tag::Iban,
    Tag::Othr,
    Tag::Ccy,
    Tag::Bal,
    Tag::Tp,
    Tag::CdOrPrtry,
    Tag::Cd,
    Tag::Prtry,
    Tag::Amt,
    Tag::CdtDbtInd,
    Tag::Dt,
    Tag::DtTm,
    Tag::FrToDt,
    Tag::FrDtTm,
    Tag::ToDtTm,
    Tag::Ntry,
    Tag::NtryRef,
    Tag::RvslInd,
    Tag::Sts,
    Tag::BookgDt,
    Tag::ValDt,
    Tag::AcctSvcrRef,
    Tag::BkTxCd,
    Tag::Domn,
    Tag::Fmly,
    Tag::SubFmlyCd,
    Tag::Chrgs,
    Tag::Rcrd,
    Tag::NtryDtls,
    Tag::TxDtls,
    Tag::Refs,
    Tag::EndToEndId,
    Tag::RltdPties,
    Tag::Dbtr,
    Tag::Cdtr,
    Tag::DbtrAcct,
    Tag::CdtrAcct,
    Tag::Pty,
    Tag::Nm,
    Tag::RmtInf,
    Tag::Ustrd,
    Tag::Strd,
    Tag::CdtrRefInf,
    Tag::Ref,
    Tag::RtrInf,
    Tag::Rsn,
    Tag::BkToCstmrDbtCdtNtfctn,
    Tag::TtlChrgsAndTaxAmt,
];

/// Hash of a key (see [`key`]) to a slot of [`TAGS`]: the multiplier was chosen so
/// that the names of [`KNOWN`] up to 16 bytes fall in distinct slots (checked
/// when compiling).
const fn slot(k: u128) -> usize {
    let x = (k as u64) ^ ((k >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x.wrapping_mul(0x87BE_449F_6BBA_91D7) >> 57) as usize
}

/// The known elements by the slot of their key: one multiplication, one load and
/// one comparison tell an element, with no branch per name.
const TAGS: [(u128, Tag); 128] = {
    let mut table = [(0u128, Tag::Other); 128];
    let mut i = 0;
    while i < KNOWN.len() {
        let name = tag_name(KNOWN[i]).as_bytes();
        if name.len() <= 16 {
            let k = key(name);
            let at = slot(k);
            assert!(matches!(table[at].1, Tag::Other), "two element names in one slot");
            table[at] = (k, KNOWN[i]);
        }
        i += 1;
    }
    table
};

/// The element a name is, from its key (see [`key`]) or, past 16 bytes, its text.
fn tag_of(k: u128, name: &str) -> Tag {
    if name.len() > 16 {
        return match name {
            "BkToCstmrDbtCdtNtfctn" => Tag::BkToCstmrDbtCdtNtfctn,
            "TtlChrgsAndTaxAmt" => Tag::TtlChrgsAndTaxAmt,
            _ => Tag::Other,
        };
    }
    tag_of_key(k)
}

/// The element a name of up to 16 bytes is, from its key.
#[inline(always)]
fn tag_of_key(k: u128) -> Tag {
    let (known, tag) = TAGS[slot(k)];
    if known == k { tag } else { Tag::Other }
}

/// The local name of a known element.
const fn tag_name(t: Tag) -> &'static str {
    match t {
        Tag::Other => "",
        Tag::Document => "Document",
        Tag::BkToCstmrStmt => "BkToCstmrStmt",
        Tag::Stmt => "Stmt",
        Tag::Ntfctn => "Ntfctn",
        Tag::Id => "Id",
        Tag::ElctrncSeqNb => "ElctrncSeqNb",
        Tag::LglSeqNb => "LglSeqNb",
        Tag::Acct => "Acct",
        Tag::Iban => "IBAN",
        Tag::Othr => "Othr",
        Tag::Ccy => "Ccy",
        Tag::Bal => "Bal",
        Tag::Tp => "Tp",
        Tag::CdOrPrtry => "CdOrPrtry",
        Tag::Cd => "Cd",
        Tag::Prtry => "Prtry",
        Tag::Amt => "Amt",
        Tag::CdtDbtInd => "CdtDbtInd",
        Tag::Dt => "Dt",
        Tag::DtTm => "DtTm",
        Tag::FrToDt => "FrToDt",
        Tag::FrDtTm => "FrDtTm",
        Tag::ToDtTm => "ToDtTm",
        Tag::Ntry => "Ntry",
        Tag::NtryRef => "NtryRef",
        Tag::RvslInd => "RvslInd",
        Tag::Sts => "Sts",
        Tag::BookgDt => "BookgDt",
        Tag::ValDt => "ValDt",
        Tag::AcctSvcrRef => "AcctSvcrRef",
        Tag::BkTxCd => "BkTxCd",
        Tag::Domn => "Domn",
        Tag::Fmly => "Fmly",
        Tag::SubFmlyCd => "SubFmlyCd",
        Tag::Chrgs => "Chrgs",
        Tag::Rcrd => "Rcrd",
        Tag::NtryDtls => "NtryDtls",
        Tag::TxDtls => "TxDtls",
        Tag::Refs => "Refs",
        Tag::EndToEndId => "EndToEndId",
        Tag::RltdPties => "RltdPties",
        Tag::Dbtr => "Dbtr",
        Tag::Cdtr => "Cdtr",
        Tag::DbtrAcct => "DbtrAcct",
        Tag::CdtrAcct => "CdtrAcct",
        Tag::Pty => "Pty",
        Tag::Nm => "Nm",
        Tag::RmtInf => "RmtInf",
        Tag::Ustrd => "Ustrd",
        Tag::Strd => "Strd",
        Tag::CdtrRefInf => "CdtrRefInf",
        Tag::Ref => "Ref",
        Tag::RtrInf => "RtrInf",
        Tag::Rsn => "Rsn",
        Tag::BkToCstmrDbtCdtNtfctn => "BkToCstmrDbtCdtNtfctn",
        Tag::TtlChrgsAndTaxAmt => "TtlChrgsAndTaxAmt",
    }
}

/// Elements that repeat in the schema: their paths carry a 1-based index.
fn repeats(t: Tag) -> bool {
    matches!(
        t,
        Tag::Stmt
            | Tag::Ntfctn
            | Tag::Bal
            | Tag::Ntry
            | Tag::NtryDtls
            | Tag::TxDtls
            | Tag::Ustrd
            | Tag::Strd
            | Tag::Rcrd
    )
}

#[derive(Clone)]
struct Frame {
    tag: Tag,
    /// The qualified name as written: its key (see [`key`]), length and offset in
    /// the input, to check the end tag against.
    qkey: u128,
    qlen: usize,
    qat: usize,
    /// Where an unknown element's local name is in `Parser::names` (known ones
    /// are named by their tag).
    name_start: usize,
    /// 1-based index among same-named siblings for repeating elements, else 0.
    index: u32,
    last_child: Tag,
    last_count: u32,
    /// Whether child elements were seen (then its text is not a value).
    has_children: bool,
}

#[derive(Default)]
struct BalB {
    code: Option<String>,
    amount: Option<i64>,
    credit: Option<bool>,
    date: Option<NaiveDate>,
}

#[derive(Default)]
struct NtryB {
    amount: Option<i64>,
    credit: Option<bool>,
    reversal: bool,
    booked: Option<bool>,
    booking: Option<(NaiveDate, Option<NaiveTime>)>,
    value: Option<NaiveDate>,
    acct_svcr_ref: Option<String>,
    ntry_ref: Option<String>,
    tx_acct_svcr_ref: Option<String>,
    domain_code: String,
    prtry_code: Option<String>,
    charges_total: Option<i64>,
    charges_sum: Option<i64>,
    tx_charges_total: Option<i64>,
    tx_charges_sum: Option<i64>,
    end_to_end: Option<String>,
    dbtr_nm: Option<String>,
    dbtr_acct: Option<String>,
    cdtr_nm: Option<String>,
    cdtr_acct: Option<String>,
    ustrd: Option<String>,
    strd_ref: Option<String>,
    return_reason: Option<String>,
}

#[derive(Default, Clone)]
struct StmtB {
    path: String,
    /// Input offset where the statement starts (to size `entries`).
    start_pos: usize,
    id: Option<String>,
    electronic_seq: Option<u64>,
    legal_seq: Option<u64>,
    account: Option<String>,
    currency: Option<String>,
    opening: Option<(StatementBalance, bool)>,
    closing: Option<StatementBalance>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    first_booking: Option<NaiveDate>,
    last_booking: Option<NaiveDate>,
    entries: Vec<StatementEntry>,
}

type Problem = (&'static str, StatementProblem);

fn bad_amount(text: &str) -> impl Fn(crate::amount::AmountError) -> StatementProblem + '_ {
    move |e| match e {
        crate::amount::AmountError::Bad => StatementProblem::BadAmount { text: text.to_owned() },
        crate::amount::AmountError::Overflow => StatementProblem::Overflow,
    }
}

fn amount(field: &'static str, text: &str) -> Result<i64, Problem> {
    parse_minor(text.as_bytes(), DecimalStyle::Point).map_err(|e| (field, bad_amount(text)(e)))
}

fn credit_debit(text: &str) -> Result<bool, Problem> {
    match text {
        "CRDT" => Ok(true),
        "DBIT" => Ok(false),
        _ => Err(("CdtDbtInd", StatementProblem::BadValue { text: text.to_owned() })),
    }
}

/// A `Dt` (`2026-11-24`) or `DtTm` (`2026-11-24T10:15:00+08:00`).
fn date_or_time(field: &'static str, text: &str) -> Result<(NaiveDate, Option<NaiveTime>), Problem> {
    // The usual `YYYY-MM-DD`, read directly (the same date as `text::date_time`).
    if let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *text.as_bytes() {
        let digits = [y1, y2, y3, y4, m1, m2, d1, d2];
        if digits.iter().all(u8::is_ascii_digit) {
            let n = |d: &[u8]| d.iter().fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
            let year = i32::try_from(n(&digits[..4])).unwrap_or(0);
            if let Some(date) = NaiveDate::from_ymd_opt(year, n(&digits[4..6]), n(&digits[6..])) {
                return Ok((date, None));
            }
        }
    }
    text::date_time(text)
        .filter(|_| text.len() >= 10 && text.as_bytes()[4] == b'-')
        .ok_or_else(|| (field, StatementProblem::BadDate { text: text.to_owned() }))
}

fn seq(field: &'static str, text: &str) -> Result<u64, Problem> {
    text.parse().map_err(|_| (field, StatementProblem::BadValue { text: text.to_owned() }))
}

fn add(total: &mut Option<i64>, v: i64) -> Result<(), Problem> {
    *total = Some(total.unwrap_or(0).checked_add(v).ok_or(("Amt", StatementProblem::Overflow))?);
    Ok(())
}

/// Appends a number's decimal digits.
fn push_number(s: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.extend(digits[i..].iter().map(|&d| char::from(d)));
}

fn some(s: &str) -> Option<String> {
    if s.is_empty() { None } else { Some(s.to_owned()) }
}

/// A namespace declaration in scope.
#[derive(Clone)]
struct Binding {
    prefix: String,
    ns: String,
    /// Whether `ns` is the document's camt namespace.
    is_doc: bool,
    /// Depth of the element that declared it.
    depth: usize,
}

/// What reads the XML events: the fast reader (see [`crate::xml`]), or quick-xml
/// when the fast one gave up on the file (then quick-xml's errors are reported).
enum Source<'a> {
    Fast(FastReader<'a>),
    Quick(Reader<&'a [u8]>),
}

struct Parser<'a> {
    /// The whole file (names and texts borrow from it).
    input: &'a [u8],
    /// Reads `input[base..end]`.
    source: Source<'a>,
    /// The fast reader gave up: the file must be read again with quick-xml (the
    /// error returned is not to be reported).
    bailed: bool,
    base: usize,
    end: usize,
    /// Stop once the first entry of the first statement has opened (to fork).
    pause_at_first_ntry: bool,
    paused: bool,
    /// The second part of a split file, in the statement it starts in: entry paths
    /// are set when the parts are joined (their indexes are not known yet).
    defer_paths: bool,
    /// The second part of a split file: where that statement's entries go, a
    /// chunk at a time, while it reads on (the first part's thread appends them
    /// to its own as they come).
    #[cfg(not(target_arch = "wasm32"))]
    chunks: Option<std::sync::mpsc::Sender<Vec<StatementEntry>>>,
    bindings: Vec<Binding>,
    /// Whether the innermost default namespace binding is the document's (then an
    /// unprefixed name is read without looking at the bindings).
    default_is_doc: bool,
    account_override: Option<String>,
    frames: Vec<Frame>,
    tags: Vec<Tag>,
    names: String,
    /// The text of the element being read: borrowed from the input while it is
    /// one piece, copied into `text` once it is several (entities, CDATA).
    text: String,
    text_borrowed: Option<&'a str>,
    text_owned: bool,
    doc_ns: Option<String>,
    doc_depth: usize,
    format: StatementFormat,
    version: String,
    stmt: Option<StmtB>,
    stmt_depth: usize,
    bal: Option<BalB>,
    bal_depth: usize,
    ntry: Option<NtryB>,
    ntry_depth: usize,
    ntry_index: u32,
    out: Vec<Statement>,
}

/// Files at least this large are read in two halves on two threads (native
/// builds with more than one core): see [`parse`].
pub const PARALLEL_MIN_BYTES: usize = 4 * 1024 * 1024;

/// Reads a camt.053 or camt.054 document (the namespace decides which). `account`
/// replaces the file's account, and supplies it when the file has none.
///
/// A large single statement is read in two halves at once: the first thread
/// reads the file up to an `Ntry` near the middle, the second from there with the
/// statement's header (read first) and hands its entries over in chunks as it
/// goes, which the first thread appends to its own once it is done (file order).
/// When anything about the split is not clean (the middle `Ntry` is not an entry of the
/// first statement, either half fails), the file is read again in one pass, so
/// results and errors are always those of the one-pass reader.
pub fn parse(bytes: &[u8], account: Option<&str>) -> Result<Vec<Statement>, StatementError> {
    #[cfg(not(target_arch = "wasm32"))]
    if bytes.len() >= PARALLEL_MIN_BYTES && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1) {
        match parse_split(bytes, account) {
            Split::Read(out) => return Ok(with_refs(out)),
            Split::OnePass => {}
            // The fast reader gave up on the file (it is malformed): quick-xml
            // reads it and says why.
            Split::Quick => {
                return parse_one_pass_with(bytes, account, false)
                    .unwrap_or_else(|| Err(bail()))
                    .map(with_refs);
            }
        }
    }
    parse_one_pass(bytes, account).map(with_refs)
}

fn parse_one_pass(bytes: &[u8], account: Option<&str>) -> Result<Vec<Statement>, StatementError> {
    parse_one_pass_with(bytes, account, true)
        .unwrap_or_else(|| parse_one_pass_with(bytes, account, false).unwrap_or_else(|| Err(bail())))
}

/// The error of a fast reader that gave up: never reported (the file is read
/// again with quick-xml, which never gives up).
fn bail() -> StatementError {
    text::err(Location::File, "", StatementProblem::MalformedXml { detail: String::new() })
}

/// Reads the file in one pass with the fast reader or quick-xml; `None` when the
/// fast reader gave up.
fn parse_one_pass_with(
    bytes: &[u8],
    account: Option<&str>,
    fast: bool,
) -> Option<Result<Vec<Statement>, StatementError>> {
    let mut p = Parser::new(bytes, 0, bytes.len(), account.map(text::compact), fast);
    match p.run().and_then(|()| p.finish_document()) {
        Err(_) if p.bailed => None,
        Err(e) => Some(Err(e)),
        Ok(()) => Some(Ok(p.out)),
    }
}

/// Entries without any reference of the bank get `{statement id}#{n}`.
fn with_refs(mut out: Vec<Statement>) -> Vec<Statement> {
    for s in &mut out {
        for (i, e) in s.entries.iter_mut().enumerate() {
            if e.bank_ref.is_empty() {
                e.bank_ref = format!("{}#{}", s.statement_id, i + 1);
            }
        }
    }
    out
}

#[cfg(not(target_arch = "wasm32"))]
/// Where the first `Ntry` start tag (`<Ntry>` or `<p:Ntry>`) whose name ends after
/// `from` begins.
fn find_ntry(bytes: &[u8], from: usize) -> Option<usize> {
    let finder = memchr::memmem::Finder::new(b"Ntry>");
    let mut at = from;
    while let Some(i) = bytes.get(at..).and_then(|b| finder.find(b)) {
        let hit = at + i;
        at = hit + 5;
        let mut start = hit;
        if start > 0 && bytes[start - 1] == b':' {
            start -= 1;
            while start > 0
                && (bytes[start - 1].is_ascii_alphanumeric()
                    || matches!(bytes[start - 1], b'_' | b'-' | b'.'))
            {
                start -= 1;
            }
        }
        if start > 0 && bytes[start - 1] == b'<' {
            return Some(start - 1);
        }
    }
    None
}

/// How a split reading went.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, PartialEq)]
enum Split {
    Read(Vec<Statement>),
    /// Not cleanly: read the file in one pass.
    OnePass,
    /// The fast reader gave up: read the file in one pass with quick-xml.
    Quick,
}

#[cfg(not(target_arch = "wasm32"))]
fn parse_split(bytes: &[u8], account: Option<&str>) -> Split {
    let Some(split) = find_ntry(bytes, bytes.len() / 2) else { return Split::OnePass };
    let account = account.map(text::compact);
    let mut first = Parser::new(bytes, 0, split, account.clone(), true);
    first.pause_at_first_ntry = true;
    if first.run().is_err() {
        return if first.bailed { Split::Quick } else { Split::OnePass };
    }
    if !first.paused {
        return Split::OnePass;
    }
    let mut second = first.fork(split);
    let (sender, chunks) = std::sync::mpsc::channel();
    second.chunks = Some(sender);
    let (first, second) = std::thread::scope(|scope| {
        let handle = scope.spawn(move || {
            let mut second = second;
            match second.run().and_then(|()| second.finish_document()) {
                Ok(()) => Ok(second.out),
                Err(_) => Err(second.bailed),
            }
        });
        first.paused = false;
        first.pause_at_first_ntry = false;
        let mut first_result = match first.run() {
            Ok(()) => Ok(first),
            Err(_) => Err(first.bailed),
        };
        // While the second part reads on: its entries so far, after the first
        // part's, with their paths.
        if let Some(head) = first_result.as_mut().ok().and_then(|f| f.stmt.as_mut()) {
            for mut chunk in chunks.iter() {
                set_paths(&mut chunk, &head.path, head.entries.len());
                head.entries.append(&mut chunk);
            }
        } else {
            drop(chunks);
        }
        (first_result, handle.join())
    });
    let (mut first, mut rest) = match (first, second) {
        (Ok(first), Ok(Ok(rest))) => (first, rest),
        (Err(true), _) | (_, Ok(Err(true))) => return Split::Quick,
        _ => return Split::OnePass,
    };
    // The first half must end between two entries of the statement it forked in.
    let clean = first.out.is_empty()
        && first.ntry.is_none()
        && first.bal.is_none()
        && first.frames.len() == first.stmt_depth + 1
        && !rest.is_empty();
    if !clean {
        return Split::OnePass;
    }
    let Some(head) = first.stmt.take() else { return Split::OnePass };
    let mut joined = rest.remove(0);
    let mut tail = std::mem::take(&mut joined.entries);
    set_paths(&mut tail, &head.path, head.entries.len());
    let mut entries = head.entries;
    // Sized for the whole statement when the first entries were read: no copy of
    // the first half.
    entries.append(&mut tail);
    if entries.capacity() > entries.len() + entries.len() / 4 + 64 {
        entries.shrink_to_fit();
    }
    if head.from.is_none() {
        joined.from = head.first_booking.into_iter().chain(joined.from).min();
    }
    if head.to.is_none() {
        joined.to = head.last_booking.into_iter().chain(joined.to).max();
    }
    joined.entries = entries;
    let mut out = Vec::with_capacity(rest.len() + 1);
    out.push(joined);
    out.extend(rest);
    Split::Read(out)
}

/// The paths of entries of the second part, `before` entries of the statement
/// before them.
#[cfg(not(target_arch = "wasm32"))]
fn set_paths(entries: &mut [StatementEntry], stmt_path: &str, before: usize) {
    for (i, e) in entries.iter_mut().enumerate() {
        e.at = Location::Element { path: ntry_path(stmt_path, before + i + 1) };
    }
}

/// How many entries the second part of a split reading hands over at a time (few
/// in unit tests, so that they hand over several).
#[cfg(not(target_arch = "wasm32"))]
const CHUNK: usize = if cfg!(test) { 64 } else { 4096 };

/// `{statement path}/Ntry[{index}]`.
fn ntry_path(stmt_path: &str, index: usize) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = index;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = std::str::from_utf8(&digits[at..]).unwrap_or_default();
    let mut path = String::with_capacity(stmt_path.len() + 7 + digits.len());
    path.push_str(stmt_path);
    path.push_str("/Ntry[");
    path.push_str(digits);
    path.push(']');
    path
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u8], base: usize, end: usize, account_override: Option<String>, fast: bool) -> Self {
        let slice = input.get(base..end).unwrap_or(b"");
        let source = if fast {
            Source::Fast(FastReader::new(slice))
        } else {
            let mut reader = Reader::from_reader(slice);
            let config = reader.config_mut();
            // Whitespace between elements makes no events; values are trimmed
            // anyway, and the blanks after an entity reference are put back from
            // the input. (The fast reader reads the same way.)
            config.trim_text_start = true;
            config.trim_text_end = false;
            // End tags are checked here, against the names kept in the frames.
            config.check_end_names = false;
            config.allow_unmatched_ends = true;
            config.expand_empty_elements = false;
            Source::Quick(reader)
        };
        Parser {
            input,
            source,
            bailed: false,
            base,
            end,
            pause_at_first_ntry: false,
            paused: false,
            defer_paths: false,
            #[cfg(not(target_arch = "wasm32"))]
            chunks: None,
            bindings: Vec::new(),
            default_is_doc: false,
            account_override,
            frames: Vec::with_capacity(32),
            tags: Vec::with_capacity(32),
            names: String::with_capacity(512),
            text: String::with_capacity(256),
            text_borrowed: None,
            text_owned: false,
            doc_ns: None,
            doc_depth: 0,
            format: StatementFormat::Camt053,
            version: String::new(),
            stmt: None,
            stmt_depth: 0,
            bal: None,
            bal_depth: 0,
            ntry: None,
            ntry_depth: 0,
            ntry_index: 0,
            out: Vec::new(),
        }
    }

    /// A parser for `input[split..]` in the state this one had just before the
    /// entry it paused at: the open elements up to the statement, the namespaces,
    /// the statement's header.
    #[cfg(not(target_arch = "wasm32"))]
    fn fork(&self, split: usize) -> Parser<'a> {
        let fast = matches!(self.source, Source::Fast(_));
        let mut p = Parser::new(self.input, split, self.input.len(), self.account_override.clone(), fast);
        p.defer_paths = true;
        let depth = self.stmt_depth;
        p.frames = self.frames[..=depth].to_vec();
        if let Some(f) = p.frames.last_mut() {
            f.last_child = Tag::Ntry;
            f.last_count = 0;
        }
        p.tags = self.tags[..=depth].to_vec();
        p.names = self.names.clone();
        p.bindings = self.bindings.iter().filter(|b| b.depth <= depth).cloned().collect();
        p.default_is_doc = p.default_binding_is_doc();
        p.doc_ns.clone_from(&self.doc_ns);
        p.doc_depth = self.doc_depth;
        p.format = self.format;
        p.version.clone_from(&self.version);
        p.stmt_depth = depth;
        p.stmt = self.stmt.as_ref().map(|s| StmtB {
            entries: Vec::with_capacity(CHUNK),
            first_booking: None,
            last_booking: None,
            start_pos: split,
            ..s.clone()
        });
        p
    }

    /// Absolute input offset of the reader.
    fn pos(&self) -> usize {
        self.base
            + match &self.source {
                Source::Fast(r) => r.position(),
                Source::Quick(r) => usize::try_from(r.buffer_position()).unwrap_or(0),
            }
    }

    /// At the end of the file: every element closed, a document seen.
    fn finish_document(&self) -> Result<(), StatementError> {
        if !self.frames.is_empty() {
            let open = self.name(self.frames.len() - 1).to_owned();
            return Err(self.malformed(format!("unexpected end of file: <{open}> not closed")));
        }
        if self.doc_ns.is_none() {
            return Err(text::err(Location::File, "Document", StatementProblem::Missing));
        }
        Ok(())
    }

    /// Reads events up to the end of the input, or until paused.
    fn run(&mut self) -> Result<(), StatementError> {
        if matches!(self.source, Source::Fast(_)) { self.run_fast() } else { self.run_quick() }
    }

    fn run_fast(&mut self) -> Result<(), StatementError> {
        loop {
            let Source::Fast(reader) = &mut self.source else { return Ok(()) };
            let Ok(token) = reader.next() else {
                self.bailed = true;
                return Err(bail());
            };
            match token {
                Token::Start { content, name_len } => {
                    self.start(self.base + content.at, content.len, name_len)?;
                    if self.paused {
                        return Ok(());
                    }
                }
                Token::End(qname) => {
                    self.check_end(self.base + qname.at, qname.len)?;
                    self.end()?;
                }
                Token::TextEnd(piece, qname) => {
                    self.push_text(piece);
                    self.check_end(self.base + qname.at, qname.len)?;
                    self.end()?;
                }
                Token::Text(piece) => self.push_text(piece),
                Token::Empty { content, name_len } => {
                    self.start(self.base + content.at, content.len, name_len)?;
                    self.end()?;
                    if self.paused {
                        return Ok(());
                    }
                }
                Token::Ref(name) => self.reference(&BytesRef::new(name))?,
                Token::CData(piece) => {
                    self.push_owned_text(piece);
                    self.restore_blanks();
                }
                Token::Other => {}
                Token::Eof => return Ok(()),
            }
        }
    }

    fn run_quick(&mut self) -> Result<(), StatementError> {
        loop {
            let Source::Quick(reader) = &mut self.source else { return Ok(()) };
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(e) => return Err(self.malformed(e.to_string())),
            };
            match event {
                Event::Start(e) => {
                    self.start(self.offset(&e), e.len(), e.name().0.len())?;
                    if self.paused {
                        return Ok(());
                    }
                }
                Event::Empty(e) => {
                    self.start(self.offset(&e), e.len(), e.name().0.len())?;
                    self.end()?;
                    if self.paused {
                        return Ok(());
                    }
                }
                Event::End(e) => {
                    let qname = e.name().0;
                    self.check_end(self.offset(qname), qname.len())?;
                    self.end()?;
                }
                Event::Text(t) => match t.into_inner() {
                    Cow::Borrowed(piece) => self.push_text(piece),
                    Cow::Owned(piece) => self.push_owned_text(&piece),
                },
                Event::CData(t) => {
                    self.push_owned_text(&t);
                    self.restore_blanks();
                }
                Event::GeneralRef(r) => self.reference(&r)?,
                Event::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    /// An entity or character reference in text.
    fn reference(&mut self, r: &BytesRef<'_>) -> Result<(), StatementError> {
        let c = match r.resolve_char_ref() {
            Ok(Some(c)) => c,
            Ok(None) => match &**r {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                other => return Err(self.malformed(format!("unknown entity &{other};"))),
            },
            Err(e) => return Err(self.malformed(e.to_string())),
        };
        self.push_owned_text(c.encode_utf8(&mut [0; 4]));
        self.restore_blanks();
        Ok(())
    }

    /// `trim_text_start` drops the blanks before text, which are part of a value
    /// when they follow an entity reference or CDATA: put them back.
    fn restore_blanks(&mut self) {
        let rest = self.input.get(self.pos()..self.end).unwrap_or(b"");
        let blanks = rest.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')).count();
        if let Ok(blanks) = std::str::from_utf8(&rest[..blanks]) {
            self.push_owned_text(blanks);
        }
    }

    fn push_text(&mut self, piece: &'a str) {
        if !self.text_owned && self.text_borrowed.is_none() {
            self.text_borrowed = Some(piece);
        } else {
            self.push_owned_text(piece);
        }
    }

    fn push_owned_text(&mut self, piece: &str) {
        if let Some(b) = self.text_borrowed.take() {
            self.text.push_str(b);
        }
        self.text_owned = true;
        self.text.push_str(piece);
    }

    fn clear_text(&mut self) {
        self.text.clear();
        self.text_borrowed = None;
        self.text_owned = false;
    }

    /// Where a name borrowed from the input is in it.
    fn offset(&self, name: &str) -> usize {
        name.as_ptr().addr().wrapping_sub(self.input.as_ptr().addr())
    }

    /// The text of a tag's name or content at `at` in the input (`len` bytes): the
    /// readers have validated it, and it starts and ends at ASCII bytes.
    fn str_at(&self, at: usize, len: usize) -> &'a str {
        let input: &'a [u8] = self.input;
        input.get(at..at.saturating_add(len)).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
    }

    /// An end tag (its name at `at` in the input, `len` bytes) must close the
    /// element opened last, under the same name.
    #[inline(always)]
    fn check_end(&self, at: usize, len: usize) -> Result<(), StatementError> {
        match self.frames.last() {
            Some(f) if len == f.qlen && len <= 16 && self.key_at(at, len) == f.qkey => Ok(()),
            _ => self.check_end_slowly(self.str_at(at, len)),
        }
    }

    #[cold]
    fn check_end_slowly(&self, qname: &str) -> Result<(), StatementError> {
        let Some(f) = self.frames.last() else {
            return Err(self.malformed(format!("unmatched end tag </{qname}>")));
        };
        let same = qname.len() == f.qlen
            && if f.qlen <= 16 {
                self.key(qname) == f.qkey
            } else {
                self.input.get(f.qat..f.qat.saturating_add(f.qlen)) == Some(qname.as_bytes())
            };
        if same {
            return Ok(());
        }
        let expected = self.input.get(f.qat..f.qat.saturating_add(f.qlen)).unwrap_or(b"");
        Err(self.malformed(format!("expected </{}>, found </{qname}>", String::from_utf8_lossy(expected))))
    }

    fn name(&self, i: usize) -> &str {
        let f = &self.frames[i];
        match f.tag {
            Tag::Other => {
                let end = self.frames.get(i + 1).map_or(self.names.len(), |next| next.name_start);
                &self.names[f.name_start..end]
            }
            t => tag_name(t),
        }
    }

    /// The key of a name (see [`key`]), read as one 16-byte load from the input
    /// the name is borrowed from.
    #[inline(always)]
    fn key(&self, name: &str) -> u128 {
        let offset = self.offset(name);
        match self.input.get(offset..offset.wrapping_add(16)).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
            Some(bytes) if name.len() <= 16 => u128::from_le_bytes(bytes) & KEY_MASKS[name.len()],
            _ => key(name.as_bytes()),
        }
    }

    /// The key of the name at `at` in the input, `len` bytes long.
    #[inline(always)]
    fn key_at(&self, at: usize, len: usize) -> u128 {
        match self.input.get(at..at.wrapping_add(16)).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
            Some(bytes) if len <= 16 => u128::from_le_bytes(bytes) & KEY_MASKS[len],
            _ => key(self.input.get(at..at.saturating_add(len)).unwrap_or_default()),
        }
    }

    /// The path of the open elements from `Document` (or the root when there is
    /// none yet).
    fn path(&self) -> String {
        let mut s = String::with_capacity(96);
        for i in self.doc_depth.min(self.frames.len())..self.frames.len() {
            if !s.is_empty() {
                s.push('/');
            }
            s.push_str(self.name(i));
            let idx = self.frames[i].index;
            if idx > 0 {
                s.push('[');
                push_number(&mut s, idx);
                s.push(']');
            }
        }
        s
    }

    fn here(&self) -> Location {
        Location::Element { path: self.path() }
    }

    fn malformed(&self, detail: String) -> StatementError {
        let at = if self.frames.is_empty() && self.doc_ns.is_none() { Location::File } else { self.here() };
        let field = self.frames.len().checked_sub(1).map(|i| self.name(i).to_owned()).unwrap_or_default();
        text::err(at, field, StatementProblem::MalformedXml { detail })
    }

    /// Records the `xmlns` declarations of an element about to open.
    fn declare(&mut self, content: &str, name_len: usize) -> Result<(), StatementError> {
        let raw = content.get(name_len..).unwrap_or("");
        if raw.is_empty() || !raw.contains("xmlns") {
            return Ok(());
        }
        let e = BytesStart::from_content(content, name_len);
        let depth = self.frames.len();
        for a in e.attributes() {
            let a = a.map_err(|err| self.malformed(err.to_string()))?;
            let key = a.key.0;
            let prefix = if key == "xmlns" {
                ""
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                p
            } else {
                continue;
            };
            let ns = a.value.trim().to_owned();
            let is_doc = self.doc_ns.as_deref() == Some(ns.as_str());
            self.bindings.push(Binding { prefix: prefix.to_owned(), ns, is_doc, depth });
        }
        self.default_is_doc = self.default_binding_is_doc();
        Ok(())
    }

    /// An element opens: `content` is what is between `<` and `>` (or `/>`), the
    /// name its first `name_len` bytes.
    ///
    /// The content is at `at` in the input, `len` bytes, its name the first
    /// `name_len`.
    #[inline(always)]
    fn start(&mut self, at: usize, len: usize, name_len: usize) -> Result<(), StatementError> {
        if len != name_len {
            self.declare(self.str_at(at, len), name_len)?;
        }
        let qkey = self.key_at(at, name_len);
        let q = (qkey, name_len, at);
        // Most elements: no prefix, in the document's default namespace.
        let (name, tag) = if self.default_is_doc && name_len <= 16 && !has_colon(qkey) {
            match tag_of_key(qkey) {
                // The name of an element not read is kept for paths.
                Tag::Other => (self.str_at(at, name_len), Tag::Other),
                tag => ("", tag),
            }
        } else {
            self.resolve(self.str_at(at, name_len), qkey, q)?
        };
        self.push(name, tag, q);
        let depth = self.frames.len() - 1;
        match tag {
            Tag::Stmt | Tag::Ntfctn
                if depth == self.doc_depth + 2
                    && matches!(self.tags[depth - 1], Tag::BkToCstmrStmt | Tag::BkToCstmrDbtCdtNtfctn) =>
            {
                let start_pos = self.pos();
                self.stmt = Some(StmtB { path: self.path(), start_pos, ..StmtB::default() });
                self.stmt_depth = depth;
                self.ntry_index = 0;
            }
            Tag::Bal if self.stmt.is_some() && depth == self.stmt_depth + 1 => {
                self.bal = Some(BalB::default());
                self.bal_depth = depth;
            }
            Tag::Ntry if self.stmt.is_some() && depth == self.stmt_depth + 1 => {
                self.ntry = Some(NtryB::default());
                self.ntry_depth = depth;
                self.ntry_index += 1;
                if self.pause_at_first_ntry && self.out.is_empty() {
                    self.paused = true;
                }
            }
            Tag::Amt
                if len != name_len
                    && ((self.ntry.is_some() && depth == self.ntry_depth + 1)
                        || (self.bal.is_some() && depth == self.bal_depth + 1)) =>
            {
                self.amount_currency(self.str_at(at, len), name_len)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The `Ccy` of an entry's or balance's `Amt` (`content` is the tag's): the
    /// statement's currency, or the first one seen.
    #[inline(never)]
    fn amount_currency(&mut self, content: &str, name_len: usize) -> Result<(), StatementError> {
        // The usual ` Ccy="CNY"` read directly, anything else by quick-xml.
        let usual = content
            .get(name_len..)
            .and_then(|a| a.strip_prefix(" Ccy=\""))
            .and_then(|v| v.strip_suffix('"'))
            .filter(|v| v.bytes().all(|c| c.is_ascii_alphanumeric()));
        let e = BytesStart::from_content(content, name_len);
        let ccy = match usual {
            Some(v) => Cow::Borrowed(v),
            None => match e.try_get_attribute("Ccy") {
                Ok(Some(a)) => a.value,
                Ok(None) => return Ok(()),
                Err(err) => return Err(self.malformed(err.to_string())),
            },
        };
        let ccy = ccy.trim();
        let clash = match self.stmt.as_mut() {
            Some(s) => match s.currency.as_deref() {
                None => {
                    s.currency = Some(ccy.to_owned());
                    None
                }
                Some(expected) if expected != ccy => Some(expected.to_owned()),
                Some(_) => None,
            },
            None => None,
        };
        if let Some(expected) = clash {
            return Err(text::err(
                self.here(),
                "Ccy",
                StatementProblem::Currency { expected, found: ccy.to_owned() },
            ));
        }
        Ok(())
    }

    /// The local name and element of a qualified name, through the namespace
    /// bindings in scope (a `Document` in a camt namespace makes that namespace
    /// the document's).
    fn resolve<'n>(
        &mut self,
        qname: &'n str,
        qkey: u128,
        q: (u128, usize, usize),
    ) -> Result<(&'n str, Tag), StatementError> {
        let (prefix, name) = if qname.len() <= 16 && !has_colon(qkey) {
            ("", qname)
        } else {
            qname.split_once(':').unwrap_or(("", qname))
        };
        let binding = self
            .bindings
            .iter()
            .rev()
            .find(|b| b.prefix.len() == prefix.len() && (prefix.is_empty() || b.prefix == prefix));
        if binding.is_none() && !prefix.is_empty() {
            self.push(name, Tag::Other, q);
            return Err(self.malformed(format!("unknown namespace prefix {prefix}")));
        }
        let tag = match binding {
            Some(b) if b.is_doc => tag_of(if prefix.is_empty() { qkey } else { self.key(name) }, name),
            _ if self.doc_ns.is_none() && name == "Document" => {
                let ns = binding.map(|b| b.ns.clone()).unwrap_or_default();
                match namespace_format(&ns) {
                    Some(format) => {
                        self.format = format;
                        self.version = ns[NS_PREFIX.len()..].to_owned();
                        for b in &mut self.bindings {
                            b.is_doc = b.ns == ns;
                        }
                        self.doc_ns = Some(ns);
                        self.default_is_doc = self.default_binding_is_doc();
                        self.doc_depth = self.frames.len();
                        Tag::Document
                    }
                    None => {
                        self.doc_depth = self.frames.len();
                        self.push(name, Tag::Other, q);
                        return Err(text::err(
                            self.here(),
                            "xmlns",
                            StatementProblem::UnsupportedNamespace { namespace: ns },
                        ));
                    }
                }
            }
            _ => Tag::Other,
        };
        Ok((name, tag))
    }

    /// Whether the innermost default namespace (`xmlns="…"`) in scope is the
    /// document's.
    fn default_binding_is_doc(&self) -> bool {
        self.bindings.iter().rev().find(|b| b.prefix.is_empty()).is_some_and(|b| b.is_doc)
    }

    #[inline(always)]
    fn push(&mut self, name: &str, tag: Tag, (qkey, qlen, qat): (u128, usize, usize)) {
        let index = match self.frames.last_mut() {
            Some(parent) => {
                parent.has_children = true;
                if parent.last_child == tag {
                    parent.last_count += 1;
                } else {
                    parent.last_child = tag;
                    parent.last_count = 1;
                }
                if repeats(tag) { parent.last_count } else { 0 }
            }
            None => u32::from(repeats(tag)),
        };
        let name_start = self.names.len();
        if tag == Tag::Other {
            self.names.push_str(name);
        }
        self.frames.push(Frame {
            tag,
            qkey,
            qlen,
            qat,
            name_start,
            index,
            last_child: Tag::Other,
            last_count: 0,
            has_children: false,
        });
        self.tags.push(tag);
        self.clear_text();
    }

    #[inline(always)]
    fn pop(&mut self) {
        if let Some(f) = self.frames.pop() {
            self.names.truncate(f.name_start);
        }
        let depth = self.frames.len();
        if self.bindings.last().is_some_and(|b| b.depth >= depth) {
            while self.bindings.last().is_some_and(|b| b.depth >= depth) {
                self.bindings.pop();
            }
            self.default_is_doc = self.default_binding_is_doc();
        }
        self.tags.pop();
        self.clear_text();
    }

    #[inline(always)]
    fn end(&mut self) -> Result<(), StatementError> {
        let depth = self.frames.len().saturating_sub(1);
        let leaf = self.frames.last().is_some_and(|f| !f.has_children);
        let result = if self.ntry.is_some() && depth >= self.ntry_depth {
            if depth == self.ntry_depth {
                self.finish_ntry()
            } else if leaf {
                self.ntry_leaf(depth)
            } else {
                Ok(())
            }
        } else if self.bal.is_some() && depth >= self.bal_depth {
            if depth == self.bal_depth {
                self.finish_bal()
            } else if leaf {
                self.bal_leaf(depth)
            } else {
                Ok(())
            }
        } else if self.stmt.is_some() && depth >= self.stmt_depth {
            if depth == self.stmt_depth {
                self.finish_stmt()
            } else if leaf {
                self.stmt_leaf(depth)
            } else {
                Ok(())
            }
        } else if self.doc_ns.is_some() && depth == self.doc_depth + 1 && self.out.is_empty() {
            // The report element closes without any statement in it.
            let field = if self.format == StatementFormat::Camt054 { "Ntfctn" } else { "Stmt" };
            Err((field, StatementProblem::Empty))
        } else {
            Ok(())
        };
        if let Err((field, problem)) = result {
            return Err(text::err(self.here(), field, problem));
        }
        self.pop();
        Ok(())
    }

    fn stmt_leaf(&mut self, depth: usize) -> Result<(), Problem> {
        use Tag::*;
        let t = trim(if self.text_owned { self.text.as_str() } else { self.text_borrowed.unwrap_or("") });
        let Some(s) = self.stmt.as_mut() else { return Ok(()) };
        match &self.tags[self.stmt_depth + 1..=depth] {
            [Id] => s.id = some(t),
            [ElctrncSeqNb] => s.electronic_seq = Some(seq("ElctrncSeqNb", t)?),
            [LglSeqNb] => s.legal_seq = Some(seq("LglSeqNb", t)?),
            [Acct, Id, Iban] | [Acct, Id, Othr, Id] => s.account = Some(text::compact(t)),
            [Acct, Ccy] => match s.currency.as_deref() {
                Some(c) if c != t => {
                    return Err((
                        "Ccy",
                        StatementProblem::Currency { expected: c.to_owned(), found: t.to_owned() },
                    ));
                }
                _ => s.currency = some(t),
            },
            [FrToDt, FrDtTm] => s.from = Some(date_or_time("FrDtTm", t)?.0),
            [FrToDt, ToDtTm] => s.to = Some(date_or_time("ToDtTm", t)?.0),
            _ => {}
        }
        Ok(())
    }

    fn bal_leaf(&mut self, depth: usize) -> Result<(), Problem> {
        use Tag::*;
        let t = trim(if self.text_owned { self.text.as_str() } else { self.text_borrowed.unwrap_or("") });
        let Some(b) = self.bal.as_mut() else { return Ok(()) };
        match &self.tags[self.bal_depth + 1..=depth] {
            [Tp, CdOrPrtry, Cd] => b.code = some(t),
            [Amt] => b.amount = Some(amount("Amt", t)?),
            [CdtDbtInd] => b.credit = Some(credit_debit(t)?),
            [Dt, Dt] => b.date = Some(date_or_time("Dt", t)?.0),
            [Dt, DtTm] => b.date = Some(date_or_time("DtTm", t)?.0),
            _ => {}
        }
        Ok(())
    }

    fn finish_bal(&mut self) -> Result<(), Problem> {
        let Some(b) = self.bal.take() else { return Ok(()) };
        let Some(s) = self.stmt.as_mut() else { return Ok(()) };
        let code = b.code.as_deref().unwrap_or("");
        if !matches!(code, "OPBD" | "PRCD" | "CLBD") {
            return Ok(());
        }
        let amount = b.amount.ok_or(("Amt", StatementProblem::Missing))?;
        let credit = b.credit.ok_or(("CdtDbtInd", StatementProblem::Missing))?;
        let date = b.date.ok_or(("Dt", StatementProblem::Missing))?;
        let balance = StatementBalance { amount_minor: if credit { amount } else { -amount }, date };
        match code {
            "OPBD" => s.opening = Some((balance, true)),
            "PRCD" if !matches!(s.opening, Some((_, true))) => s.opening = Some((balance, false)),
            "CLBD" => s.closing = Some(balance),
            _ => {}
        }
        Ok(())
    }

    fn ntry_leaf(&mut self, depth: usize) -> Result<(), Problem> {
        use Tag::*;
        let t = trim(if self.text_owned { self.text.as_str() } else { self.text_borrowed.unwrap_or("") });
        let Some(n) = self.ntry.as_mut() else { return Ok(()) };
        let nd = self.ntry_depth;
        let rel = &self.tags[nd + 1..=depth];
        match rel {
            [Amt] => n.amount = Some(amount("Amt", t)?),
            [CdtDbtInd] => n.credit = Some(credit_debit(t)?),
            [RvslInd] => n.reversal = matches!(t, "true" | "1"),
            [Sts] | [Sts, Cd] => n.booked = Some(t == "BOOK"),
            [BookgDt, Dt] => n.booking = Some(date_or_time("Dt", t)?),
            [BookgDt, DtTm] => n.booking = Some(date_or_time("DtTm", t)?),
            [ValDt, Dt] => n.value = Some(date_or_time("Dt", t)?.0),
            [ValDt, DtTm] => n.value = Some(date_or_time("DtTm", t)?.0),
            [AcctSvcrRef] => n.acct_svcr_ref = some(t),
            [NtryRef] => n.ntry_ref = some(t),
            [BkTxCd, Domn, Cd] | [BkTxCd, Domn, Fmly, Cd] | [BkTxCd, Domn, Fmly, SubFmlyCd] => {
                if n.domain_code.is_empty() {
                    n.domain_code.reserve(16);
                } else {
                    n.domain_code.push('/');
                }
                n.domain_code.push_str(t);
            }
            [BkTxCd, Prtry, Cd] => n.prtry_code = some(t),
            [Chrgs, TtlChrgsAndTaxAmt] => add(&mut n.charges_total, amount("TtlChrgsAndTaxAmt", t)?)?,
            [Chrgs, Rcrd, Amt] | [Chrgs, Amt] => add(&mut n.charges_sum, amount("Amt", t)?)?,
            [NtryDtls, TxDtls, tx @ ..] => {
                // Only the first transaction of the first batch describes the entry.
                if self.frames[nd + 1].index != 1 || self.frames[nd + 2].index != 1 {
                    return Ok(());
                }
                match tx {
                    [Refs, EndToEndId] if t != "NOTPROVIDED" => {
                        n.end_to_end = some(t);
                    }
                    [Refs, AcctSvcrRef] => n.tx_acct_svcr_ref = some(t),
                    [RltdPties, Dbtr, Nm] | [RltdPties, Dbtr, Pty, Nm] => n.dbtr_nm = some(t),
                    [RltdPties, Cdtr, Nm] | [RltdPties, Cdtr, Pty, Nm] => n.cdtr_nm = some(t),
                    [RltdPties, DbtrAcct, Id, Iban] | [RltdPties, DbtrAcct, Id, Othr, Id] => {
                        n.dbtr_acct = Some(text::compact(t));
                    }
                    [RltdPties, CdtrAcct, Id, Iban] | [RltdPties, CdtrAcct, Id, Othr, Id] => {
                        n.cdtr_acct = Some(text::compact(t));
                    }
                    [RmtInf, Ustrd] if !t.is_empty() => match n.ustrd.as_mut() {
                        Some(u) => {
                            u.push(' ');
                            u.push_str(t);
                        }
                        None => n.ustrd = Some(t.to_owned()),
                    },
                    [RmtInf, Strd, CdtrRefInf, Ref] if n.strd_ref.is_none() => {
                        n.strd_ref = some(t);
                    }
                    [RtrInf, Rsn, Cd] | [RtrInf, Rsn, Prtry] => n.return_reason = some(t),
                    [Chrgs, TtlChrgsAndTaxAmt] => {
                        add(&mut n.tx_charges_total, amount("TtlChrgsAndTaxAmt", t)?)?
                    }
                    [Chrgs, Rcrd, Amt] | [Chrgs, Amt] => add(&mut n.tx_charges_sum, amount("Amt", t)?)?,
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish_ntry(&mut self) -> Result<(), Problem> {
        let pos = self.pos();
        let Some(n) = self.ntry.take() else { return Ok(()) };
        let Some(s) = self.stmt.as_mut() else { return Ok(()) };
        let amount = n.amount.ok_or(("Amt", StatementProblem::Missing))?;
        let credit = n.credit.ok_or(("CdtDbtInd", StatementProblem::Missing))?;
        let booked = n.booked.unwrap_or(true);
        let (booking_date, time) = match (n.booking, n.value) {
            (Some(b), _) => b,
            // Pending and information entries need not be booked yet.
            (None, Some(v)) if !booked => (v, None),
            _ => return Err(("BookgDt", StatementProblem::Missing)),
        };
        let index = self.ntry_index;
        // Without any reference: `{statement id}#{n}`, set when the statement is done.
        let bank_ref = n.acct_svcr_ref.or(n.ntry_ref).or(n.tx_acct_svcr_ref).unwrap_or_default();
        // The direction of the underlying payment: a reversed credit is booked as a
        // debit but its counterparty is still the original payer.
        let payment_is_credit = credit != n.reversal;
        let own = self.account_override.as_deref().or(s.account.as_deref());
        let (mut counterparty_name, mut counterparty_account, addressed_account, other_nm, other_acct) =
            if payment_is_credit {
                (n.dbtr_nm, n.dbtr_acct, n.cdtr_acct.filter(|a| own != Some(a.as_str())), n.cdtr_nm, None)
            } else {
                (n.cdtr_nm, n.cdtr_acct, None, n.dbtr_nm, n.dbtr_acct)
            };
        // A return names the parties of the payment it returns: the counterparty
        // may be on the other side.
        if n.return_reason.is_some() && counterparty_name.is_none() && counterparty_account.is_none() {
            counterparty_name = other_nm;
            counterparty_account = other_acct.filter(|a| own != Some(a.as_str()));
        }
        let bank_code = if n.domain_code.is_empty() { n.prtry_code } else { Some(n.domain_code) };
        let fee_minor = n.charges_total.or(n.charges_sum).or(n.tx_charges_total).or(n.tx_charges_sum);
        s.first_booking = Some(s.first_booking.map_or(booking_date, |d| d.min(booking_date)));
        s.last_booking = Some(s.last_booking.map_or(booking_date, |d| d.max(booking_date)));
        let at = if self.defer_paths {
            Location::File
        } else {
            Location::Element { path: ntry_path(&s.path, index as usize) }
        };
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(chunks) = self.chunks.as_ref().filter(|_| s.entries.len() == CHUNK) {
            let full = std::mem::replace(&mut s.entries, Vec::with_capacity(CHUNK));
            // A closed channel: the first part failed, this result will not be used.
            let _ = chunks.send(full);
        }
        if s.entries.len() == 64 && !self.defer_paths {
            // Size the list from how much of the file the first entries took, rather
            // than doubling (and copying) a large list many times.
            let used = pos.saturating_sub(s.start_pos).max(1);
            // To the end of the file, not of this part: the first half of a split
            // reading gets the second's entries appended.
            let left = self.input.len().saturating_sub(pos);
            s.entries.reserve(64 * left / used + 16);
        }
        s.entries.push(StatementEntry {
            at,
            amount_minor: if credit { amount } else { -amount },
            booking_date,
            value_date: n.value,
            booked_at: text::at(booking_date, time),
            bank_ref,
            end_to_end: n.end_to_end,
            counterparty_name,
            counterparty_account,
            addressed_account,
            remittance: n.ustrd.or(n.strd_ref),
            bank_code,
            reversal: n.reversal,
            return_reason: n.return_reason,
            fee_minor,
            our_ref: None,
            booked,
        });
        Ok(())
    }

    fn finish_stmt(&mut self) -> Result<(), Problem> {
        let Some(s) = self.stmt.take() else { return Ok(()) };
        // The statement a second part started in is done: its last entries stay
        // in it, later statements are read as in one pass.
        self.defer_paths = false;
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.chunks = None;
        }
        let statement_id = s.id.ok_or(("Id", StatementProblem::Missing))?;
        let account = match self.account_override.clone() {
            Some(a) => a,
            None => s.account.ok_or(("Acct", StatementProblem::Missing))?,
        };
        let currency = s.currency.ok_or(("Ccy", StatementProblem::Missing))?;
        let mut entries = s.entries;
        if entries.capacity() > entries.len() + entries.len() / 4 + 64 {
            entries.shrink_to_fit();
        }
        self.out.push(Statement {
            format: self.format,
            version: Some(self.version.clone()),
            statement_id,
            account,
            currency,
            sequence: s.electronic_seq.or(s.legal_seq),
            opening: s.opening.map(|(b, _)| b),
            closing: s.closing,
            from: s.from.or(s.first_booking),
            to: s.to.or(s.last_booking),
            entries,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_reading_equals_one_pass() {
        let bytes = crate::synth::synth_camt053(3_000, 5);
        let Split::Read(split) = parse_split(&bytes, None) else { panic!("not read in two halves") };
        let split = with_refs(split);
        let one = parse_one_pass(&bytes, None).map(with_refs).unwrap();
        assert_eq!(split[0].entries.len(), 3_000);
        assert_eq!(split, one);
        // quick-xml reads the same.
        let quick = parse_one_pass_with(&bytes, None, false).unwrap().map(with_refs).unwrap();
        assert_eq!(quick, one);
    }

    #[test]
    fn split_in_a_later_statement_reads_in_one_pass() {
        let one = String::from_utf8(crate::synth::synth_camt053(1_000, 6)).unwrap();
        let start = one.find("    <Stmt>").unwrap();
        let end = one.find("  </BkToCstmrStmt>").unwrap();
        let second = one[start..end].replace("SYN-STMT-6", "SYN-STMT-6B");
        let two = format!("{}{}{}", &one[..end], second, &one[end..]);
        assert_eq!(
            parse_split(two.as_bytes(), None),
            Split::OnePass,
            "the middle entry is in the second statement"
        );
        let all = parse(two.as_bytes(), None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].statement_id, "SYN-STMT-6B");
        assert_eq!(
            all[1].entries[999].at,
            Location::Element { path: "Document/BkToCstmrStmt/Stmt[2]/Ntry[1000]".into() }
        );
    }

    #[test]
    fn a_later_statement_read_by_the_second_half_has_its_paths() {
        let one = String::from_utf8(crate::synth::synth_camt053(3_000, 8)).unwrap();
        let start = one.find("    <Stmt>").unwrap();
        let end = one.find("  </BkToCstmrStmt>").unwrap();
        let first_entries = one[start..].match_indices("<Ntry>").nth(2).unwrap().0 + start;
        let after = one[first_entries..].find("      <Ntry>").unwrap() + first_entries;
        // A second statement of two entries after the big one.
        let small = format!("{}{}", &one[start..after], "    </Stmt>\n").replace("SYN-STMT-8", "SYN-STMT-8B");
        let two = format!("{}{}{}", &one[..end], small, &one[end..]);
        let Split::Read(split) = parse_split(two.as_bytes(), None) else { panic!("not read in two halves") };
        let one_pass = parse_one_pass(two.as_bytes(), None).unwrap();
        assert_eq!(split.len(), 2);
        assert_eq!(
            split[1].entries[1].at,
            Location::Element { path: "Document/BkToCstmrStmt/Stmt[2]/Ntry[2]".into() }
        );
        assert_eq!(with_refs(split), with_refs(one_pass));
    }

    #[test]
    fn finds_entry_start_tags() {
        let b = b"<a></Ntry><x:Ntry><Ntry>";
        assert_eq!(find_ntry(b, 0), Some(10));
        assert_eq!(find_ntry(b, 15), Some(18));
        assert_eq!(find_ntry(b"NtryNtry>", 0), None);
    }
}
