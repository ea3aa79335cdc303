//! ISO 20022 camt.053 (bank to customer statement) and camt.054 (debit/credit
//! notification), versions 001.02 to 001.08, read with a streaming
//! [`quick_xml::Reader`] over the input slice (events borrow from it), with the
//! namespace scopes kept here: only elements bound to the document's camt
//! namespace (by default namespace or prefix) are read, whatever their prefix.
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
use quick_xml::events::{BytesStart, Event};

use crate::amount::{DecimalStyle, parse_minor};
use crate::text;

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

/// Keys of the element names read (see [`key`]).
mod k {
    pub(super) const DOCUMENT: u128 = super::key(b"Document");
    pub(super) const BKTOCSTMRSTMT: u128 = super::key(b"BkToCstmrStmt");
    pub(super) const STMT: u128 = super::key(b"Stmt");
    pub(super) const NTFCTN: u128 = super::key(b"Ntfctn");
    pub(super) const ID: u128 = super::key(b"Id");
    pub(super) const ELCTRNCSEQNB: u128 = super::key(b"ElctrncSeqNb");
    pub(super) const LGLSEQNB: u128 = super::key(b"LglSeqNb");
    pub(super) const ACCT: u128 = super::key(b"Acct");
    pub(super) const IBAN: u128 = super::key(b"IBAN");
    pub(super) const OTHR: u128 = super::key(b"Othr");
    pub(super) const CCY: u128 = super::key(b"Ccy");
    pub(super) const BAL: u128 = super::key(b"Bal");
    pub(super) const TP: u128 = super::key(b"Tp");
    pub(super) const CDORPRTRY: u128 = super::key(b"CdOrPrtry");
    pub(super) const CD: u128 = super::key(b"Cd");
    pub(super) const PRTRY: u128 = super::key(b"Prtry");
    pub(super) const AMT: u128 = super::key(b"Amt");
    pub(super) const CDTDBTIND: u128 = super::key(b"CdtDbtInd");
    pub(super) const DT: u128 = super::key(b"Dt");
    pub(super) const DTTM: u128 = super::key(b"DtTm");
    pub(super) const FRTODT: u128 = super::key(b"FrToDt");
    pub(super) const FRDTTM: u128 = super::key(b"FrDtTm");
    pub(super) const TODTTM: u128 = super::key(b"ToDtTm");
    pub(super) const NTRY: u128 = super::key(b"Ntry");
    pub(super) const NTRYREF: u128 = super::key(b"NtryRef");
    pub(super) const RVSLIND: u128 = super::key(b"RvslInd");
    pub(super) const STS: u128 = super::key(b"Sts");
    pub(super) const BOOKGDT: u128 = super::key(b"BookgDt");
    pub(super) const VALDT: u128 = super::key(b"ValDt");
    pub(super) const ACCTSVCRREF: u128 = super::key(b"AcctSvcrRef");
    pub(super) const BKTXCD: u128 = super::key(b"BkTxCd");
    pub(super) const DOMN: u128 = super::key(b"Domn");
    pub(super) const FMLY: u128 = super::key(b"Fmly");
    pub(super) const SUBFMLYCD: u128 = super::key(b"SubFmlyCd");
    pub(super) const CHRGS: u128 = super::key(b"Chrgs");
    pub(super) const RCRD: u128 = super::key(b"Rcrd");
    pub(super) const NTRYDTLS: u128 = super::key(b"NtryDtls");
    pub(super) const TXDTLS: u128 = super::key(b"TxDtls");
    pub(super) const REFS: u128 = super::key(b"Refs");
    pub(super) const ENDTOENDID: u128 = super::key(b"EndToEndId");
    pub(super) const RLTDPTIES: u128 = super::key(b"RltdPties");
    pub(super) const DBTR: u128 = super::key(b"Dbtr");
    pub(super) const CDTR: u128 = super::key(b"Cdtr");
    pub(super) const DBTRACCT: u128 = super::key(b"DbtrAcct");
    pub(super) const CDTRACCT: u128 = super::key(b"CdtrAcct");
    pub(super) const PTY: u128 = super::key(b"Pty");
    pub(super) const NM: u128 = super::key(b"Nm");
    pub(super) const RMTINF: u128 = super::key(b"RmtInf");
    pub(super) const USTRD: u128 = super::key(b"Ustrd");
    pub(super) const STRD: u128 = super::key(b"Strd");
    pub(super) const CDTRREFINF: u128 = super::key(b"CdtrRefInf");
    pub(super) const REF: u128 = super::key(b"Ref");
    pub(super) const RTRINF: u128 = super::key(b"RtrInf");
    pub(super) const RSN: u128 = super::key(b"Rsn");
}

/// The element a name is, from its key (see [`key`]) or, past 16 bytes, its text.
fn tag_of(k: u128, name: &str) -> Tag {
    if name.len() > 16 {
        return match name {
            "BkToCstmrDbtCdtNtfctn" => Tag::BkToCstmrDbtCdtNtfctn,
            "TtlChrgsAndTaxAmt" => Tag::TtlChrgsAndTaxAmt,
            _ => Tag::Other,
        };
    }
    match k {
        k::DOCUMENT => Tag::Document,
        k::BKTOCSTMRSTMT => Tag::BkToCstmrStmt,
        k::STMT => Tag::Stmt,
        k::NTFCTN => Tag::Ntfctn,
        k::ID => Tag::Id,
        k::ELCTRNCSEQNB => Tag::ElctrncSeqNb,
        k::LGLSEQNB => Tag::LglSeqNb,
        k::ACCT => Tag::Acct,
        k::IBAN => Tag::Iban,
        k::OTHR => Tag::Othr,
        k::CCY => Tag::Ccy,
        k::BAL => Tag::Bal,
        k::TP => Tag::Tp,
        k::CDORPRTRY => Tag::CdOrPrtry,
        k::CD => Tag::Cd,
        k::PRTRY => Tag::Prtry,
        k::AMT => Tag::Amt,
        k::CDTDBTIND => Tag::CdtDbtInd,
        k::DT => Tag::Dt,
        k::DTTM => Tag::DtTm,
        k::FRTODT => Tag::FrToDt,
        k::FRDTTM => Tag::FrDtTm,
        k::TODTTM => Tag::ToDtTm,
        k::NTRY => Tag::Ntry,
        k::NTRYREF => Tag::NtryRef,
        k::RVSLIND => Tag::RvslInd,
        k::STS => Tag::Sts,
        k::BOOKGDT => Tag::BookgDt,
        k::VALDT => Tag::ValDt,
        k::ACCTSVCRREF => Tag::AcctSvcrRef,
        k::BKTXCD => Tag::BkTxCd,
        k::DOMN => Tag::Domn,
        k::FMLY => Tag::Fmly,
        k::SUBFMLYCD => Tag::SubFmlyCd,
        k::CHRGS => Tag::Chrgs,
        k::RCRD => Tag::Rcrd,
        k::NTRYDTLS => Tag::NtryDtls,
        k::TXDTLS => Tag::TxDtls,
        k::REFS => Tag::Refs,
        k::ENDTOENDID => Tag::EndToEndId,
        k::RLTDPTIES => Tag::RltdPties,
        k::DBTR => Tag::Dbtr,
        k::CDTR => Tag::Cdtr,
        k::DBTRACCT => Tag::DbtrAcct,
        k::CDTRACCT => Tag::CdtrAcct,
        k::PTY => Tag::Pty,
        k::NM => Tag::Nm,
        k::RMTINF => Tag::RmtInf,
        k::USTRD => Tag::Ustrd,
        k::STRD => Tag::Strd,
        k::CDTRREFINF => Tag::CdtrRefInf,
        k::REF => Tag::Ref,
        k::RTRINF => Tag::RtrInf,
        k::RSN => Tag::Rsn,
        _ => Tag::Other,
    }
}

/// The local name of a known element.
fn tag_name(t: Tag) -> &'static str {
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

struct Parser<'a> {
    /// The whole file (names and texts borrow from it).
    input: &'a [u8],
    /// Reads `input[base..end]`.
    reader: Reader<&'a [u8]>,
    base: usize,
    end: usize,
    /// Stop once the first entry of the first statement has opened (to fork).
    pause_at_first_ntry: bool,
    paused: bool,
    /// The second part of a split file: entry paths are set when the parts are
    /// joined (their indexes are not known yet).
    defer_paths: bool,
    bindings: Vec<Binding>,
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
/// statement's header (read first); the entries are joined in file order. When
/// anything about the split is not clean (the middle `Ntry` is not an entry of the
/// first statement, either half fails), the file is read again in one pass, so
/// results and errors are always those of the one-pass reader.
pub fn parse(bytes: &[u8], account: Option<&str>) -> Result<Vec<Statement>, StatementError> {
    #[cfg(not(target_arch = "wasm32"))]
    if bytes.len() >= PARALLEL_MIN_BYTES
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
        && let Some(out) = parse_split(bytes, account)
    {
        return Ok(with_refs(out));
    }
    parse_one_pass(bytes, account).map(with_refs)
}

fn parse_one_pass(bytes: &[u8], account: Option<&str>) -> Result<Vec<Statement>, StatementError> {
    let mut p = Parser::new(bytes, 0, bytes.len(), account.map(text::compact));
    p.run()?;
    p.finish_document()?;
    Ok(p.out)
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

#[cfg(not(target_arch = "wasm32"))]
fn parse_split(bytes: &[u8], account: Option<&str>) -> Option<Vec<Statement>> {
    let split = find_ntry(bytes, bytes.len() / 2)?;
    let account = account.map(text::compact);
    let mut first = Parser::new(bytes, 0, split, account.clone());
    first.pause_at_first_ntry = true;
    first.run().ok()?;
    if !first.paused {
        return None;
    }
    let second = first.fork(split);
    let (first, second) = std::thread::scope(|scope| {
        let handle = scope.spawn(move || {
            let mut second = second;
            second.run().and_then(|()| second.finish_document()).map(|()| second.out)
        });
        first.paused = false;
        first.pause_at_first_ntry = false;
        let first_result = first.run().map(|()| first);
        (first_result, handle.join())
    });
    let mut first = first.ok()?;
    let mut rest = second.ok()?.ok()?;
    // The first half must end between two entries of the statement it forked in.
    let clean = first.out.is_empty()
        && first.ntry.is_none()
        && first.bal.is_none()
        && first.frames.len() == first.stmt_depth + 1
        && !rest.is_empty();
    if !clean {
        return None;
    }
    let head = first.stmt.take()?;
    let mut joined = rest.remove(0);
    let n1 = head.entries.len();
    let mut entries = head.entries;
    entries.reserve_exact(joined.entries.len());
    for (i, mut e) in joined.entries.drain(..).enumerate() {
        e.at = Location::Element { path: ntry_path(&head.path, n1 + i + 1) };
        entries.push(e);
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
    Some(out)
}

fn ntry_path(stmt_path: &str, index: usize) -> String {
    let mut path = String::with_capacity(stmt_path.len() + 18);
    path.push_str(stmt_path);
    path.push_str("/Ntry[");
    push_number(&mut path, u32::try_from(index).unwrap_or(u32::MAX));
    path.push(']');
    path
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u8], base: usize, end: usize, account_override: Option<String>) -> Self {
        let mut reader = Reader::from_reader(input.get(base..end).unwrap_or(b""));
        let config = reader.config_mut();
        // Whitespace between elements makes no events; values are trimmed anyway,
        // and the blanks after an entity reference are put back from the input.
        config.trim_text_start = true;
        config.trim_text_end = false;
        // End tags are checked here, against the names kept in the frames.
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.expand_empty_elements = false;
        Parser {
            input,
            reader,
            base,
            end,
            pause_at_first_ntry: false,
            paused: false,
            defer_paths: false,
            bindings: Vec::new(),
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
        let mut p = Parser::new(self.input, split, self.input.len(), self.account_override.clone());
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
        p.doc_ns.clone_from(&self.doc_ns);
        p.doc_depth = self.doc_depth;
        p.format = self.format;
        p.version.clone_from(&self.version);
        p.stmt_depth = depth;
        p.stmt = self.stmt.as_ref().map(|s| StmtB {
            entries: Vec::new(),
            first_booking: None,
            last_booking: None,
            start_pos: split,
            ..s.clone()
        });
        p
    }

    /// Absolute input offset of the reader.
    fn pos(&self) -> usize {
        self.base + usize::try_from(self.reader.buffer_position()).unwrap_or(0)
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

    fn run(&mut self) -> Result<(), StatementError> {
        loop {
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(e) => return Err(self.malformed(e.to_string())),
            };
            match event {
                Event::Start(e) => {
                    self.start(&e)?;
                    if self.paused {
                        return Ok(());
                    }
                }
                Event::Empty(e) => {
                    self.start(&e)?;
                    self.end()?;
                    if self.paused {
                        return Ok(());
                    }
                }
                Event::End(e) => {
                    self.check_end(e.name().0)?;
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
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => match &*r {
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
                }
                Event::Eof => return Ok(()),
                _ => {}
            }
        }
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

    /// An end tag must close the element opened last, under the same name.
    fn check_end(&self, qname: &str) -> Result<(), StatementError> {
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
    fn key(&self, name: &str) -> u128 {
        let offset = self.offset(name);
        let len = name.len();
        match self.input.get(offset..offset.wrapping_add(16)).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
            Some(bytes) if len <= 16 => {
                let mask = if len == 16 { u128::MAX } else { (1u128 << (8 * len)) - 1 };
                u128::from_le_bytes(bytes) & mask
            }
            _ => key(name.as_bytes()),
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
    fn declare(&mut self, e: &BytesStart<'_>) -> Result<(), StatementError> {
        let raw = e.attributes_raw();
        if raw.is_empty() || !raw.contains("xmlns") {
            return Ok(());
        }
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
        Ok(())
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), StatementError> {
        self.declare(e)?;
        let qname = e.name().0;
        let qkey = self.key(qname);
        let q = (qkey, qname.len(), self.offset(qname));
        let (prefix, name) = qname.split_once(':').unwrap_or(("", qname));
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
                if (self.ntry.is_some() && depth == self.ntry_depth + 1)
                    || (self.bal.is_some() && depth == self.bal_depth + 1) =>
            {
                let ccy = match e.try_get_attribute("Ccy") {
                    Ok(Some(a)) => a.value,
                    Ok(None) => return Ok(()),
                    Err(err) => return Err(self.malformed(err.to_string())),
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
            }
            _ => {}
        }
        Ok(())
    }

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

    fn pop(&mut self) {
        if let Some(f) = self.frames.pop() {
            self.names.truncate(f.name_start);
        }
        let depth = self.frames.len();
        while self.bindings.last().is_some_and(|b| b.depth >= depth) {
            self.bindings.pop();
        }
        self.tags.pop();
        self.clear_text();
    }

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
        let t = if self.text_owned { self.text.as_str() } else { self.text_borrowed.unwrap_or("") }.trim();
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
        let t = if self.text_owned { self.text.as_str() } else { self.text_borrowed.unwrap_or("") }.trim();
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
        let t = if self.text_owned { self.text.as_str() } else { self.text_borrowed.unwrap_or("") }.trim();
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
        if s.entries.len() == 64 {
            // Size the list from how much of the file the first entries took, rather
            // than doubling (and copying) a large list many times.
            let pos = self.base + usize::try_from(self.reader.buffer_position()).unwrap_or(0);
            let used = pos.saturating_sub(s.start_pos).max(1);
            let left = self.end.saturating_sub(pos);
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
        let split = parse_split(&bytes, None).map(with_refs);
        let one = parse_one_pass(&bytes, None).map(with_refs).unwrap();
        assert_eq!(split.as_ref().map(|s| s[0].entries.len()), Some(3_000));
        assert_eq!(split, Some(one));
    }

    #[test]
    fn split_in_a_later_statement_reads_in_one_pass() {
        let one = String::from_utf8(crate::synth::synth_camt053(1_000, 6)).unwrap();
        let start = one.find("    <Stmt>").unwrap();
        let end = one.find("  </BkToCstmrStmt>").unwrap();
        let second = one[start..end].replace("SYN-STMT-6", "SYN-STMT-6B");
        let two = format!("{}{}{}", &one[..end], second, &one[end..]);
        assert_eq!(parse_split(two.as_bytes(), None), None, "the middle entry is in the second statement");
        let all = parse(two.as_bytes(), None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].statement_id, "SYN-STMT-6B");
        assert_eq!(
            all[1].entries[999].at,
            Location::Element { path: "Document/BkToCstmrStmt/Stmt[2]/Ntry[1000]".into() }
        );
    }

    #[test]
    fn finds_entry_start_tags() {
        let b = b"<a></Ntry><x:Ntry><Ntry>";
        assert_eq!(find_ntry(b, 0), Some(10));
        assert_eq!(find_ntry(b, 15), Some(18));
        assert_eq!(find_ntry(b"NtryNtry>", 0), None);
    }
}
