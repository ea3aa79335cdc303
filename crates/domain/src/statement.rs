//! Bank and channel statements as the reconciliation reads them, whatever the file
//! format (camt.053/054, MT940, a Chinese bank's CSV export, a payment channel's
//! settlement file). The parsers live in `crates/statements`; these are the types
//! they produce and the codes of what can be wrong with a file.
//!
//! Amounts are integer minor units (fen), signed from the account holder's side:
//! a credit (money in) is positive, a debit negative.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

stored_code! {
    /// The format a statement file was read as.
    pub enum StatementFormat {
        /// ISO 20022 camt.053 end-of-day statement.
        Camt053 => "camt053",
        /// ISO 20022 camt.054 debit/credit notification.
        Camt054 => "camt054",
        /// SWIFT MT940 customer statement.
        Mt940 => "mt940",
        /// A Chinese bank's CSV export, read through a column mapping.
        BankCsv => "bank_csv",
        /// A payment channel's settlement file (our orders and refunds, with fees).
        ChannelSettlement => "channel_settlement",
    }
}

/// One statement (a file may hold several: MT940 messages, camt `Stmt` blocks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// The format it was read as.
    pub format: StatementFormat,
    /// The schema version when the format has one (`camt.053.001.08`).
    pub version: Option<String>,
    /// The bank's id of the statement (camt `Stmt/Id`, MT940 `:20:`, or the file's
    /// own when a CSV has none: `csv:{first date}:{last date}:{digest}`).
    pub statement_id: String,
    /// The account as the file names it (IBAN, `:25:` account, CSV mapping's column
    /// or file header), with spaces removed.
    pub account: String,
    /// Currency (ISO 4217).
    pub currency: String,
    /// Sequence number when the bank numbers statements (camt `ElctrncSeqNb` /
    /// `LglSeqNb`, MT940 `:28C:` statement number).
    pub sequence: Option<u64>,
    /// Opening booked balance (camt `OPBD`/`PRCD`, MT940 `:60F:`/`:60M:`).
    pub opening: Option<StatementBalance>,
    /// Closing booked balance (camt `CLBD`, MT940 `:62F:`/`:62M:`).
    pub closing: Option<StatementBalance>,
    /// First and last booking day covered.
    pub from: Option<NaiveDate>,
    /// Last booking day covered.
    pub to: Option<NaiveDate>,
    /// The entries, in file order.
    pub entries: Vec<StatementEntry>,
}

/// A balance at a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementBalance {
    /// Signed amount (fen): negative when the account is overdrawn (debit balance).
    pub amount_minor: i64,
    /// The day it was struck.
    pub date: NaiveDate,
}

/// One line of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementEntry {
    /// Where in the file: a 1-based line, or an XML element path.
    pub at: Location,
    /// Signed amount (fen): credit positive, debit negative. A reversal keeps the
    /// sign of its effect (an `RD` reverses a debit, so it is money in: positive).
    pub amount_minor: i64,
    /// Booking day.
    pub booking_date: NaiveDate,
    /// Value day, when given.
    pub value_date: Option<NaiveDate>,
    /// Booking time when the file has one (Chinese exports' 交易时间).
    pub booked_at: Option<NaiveDateTime>,
    /// The bank's own reference of the entry (camt `AcctSvcrRef`, MT940 `//` bank
    /// reference, CSV 流水号): what duplicates are found by.
    pub bank_ref: String,
    /// The payer's end-to-end id, instruction id or customer reference.
    pub end_to_end: Option<String>,
    /// Counterparty name (payer for a credit, payee for a debit).
    pub counterparty_name: Option<String>,
    /// Counterparty account (IBAN or domestic number).
    pub counterparty_account: Option<String>,
    /// The account number the payer addressed when it differs from the statement's
    /// (a virtual number: the physical number + a suffix).
    pub addressed_account: Option<String>,
    /// Remittance information, unstructured text joined, or the structured
    /// creditor reference.
    pub remittance: Option<String>,
    /// Bank transaction code as given (camt `BkTxCd` domain/family/sub-family or
    /// proprietary, MT940 `:61:` type code, CSV 摘要).
    pub bank_code: Option<String>,
    /// A reversal (camt `RvslInd`, MT940 `RC`/`RD`).
    pub reversal: bool,
    /// Return information: the reason code when the entry returns an earlier payment
    /// (camt `RtrInf/Rsn/Cd`, MT940 `?34` or `/RTRN/`).
    pub return_reason: Option<String>,
    /// Fee charged on this entry (fen, positive) when the file says so (a channel's
    /// settlement fee, camt `Chrgs`).
    pub fee_minor: Option<i64>,
    /// Our order or refund id when the file carries it (settlement files).
    pub our_ref: Option<String>,
    /// Booked (`true`) or only pending/information (camt `Sts` other than `BOOK`).
    pub booked: bool,
}

/// Where in a file a value was read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// A 1-based line of a text file.
    Line {
        /// The line number.
        line: u32,
    },
    /// An XML element, as a path from the root (`Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt`).
    Element {
        /// The path (1-based indexes on repeated elements).
        path: String,
    },
    /// The file as a whole.
    File,
}

/// What can be wrong with a statement file: a code with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum StatementProblem {
    /// No format recognised from the first bytes.
    #[error("not a statement format this console reads")]
    UnknownFormat,
    /// XML that is not well-formed (truncated, mismatched tags).
    #[error("malformed XML: {detail}")]
    MalformedXml {
        /// The reader's message (bytes and tag names, not prose to translate).
        detail: String,
    },
    /// An ISO 20022 namespace this console does not read.
    #[error("unsupported namespace {namespace}")]
    UnsupportedNamespace {
        /// The namespace found.
        namespace: String,
    },
    /// A required element or tag is missing.
    #[error("missing")]
    Missing,
    /// Not an amount (or more than two decimals).
    #[error("not an amount: {text:?}")]
    BadAmount {
        /// What the file held.
        text: String,
    },
    /// Not a date.
    #[error("not a date: {text:?}")]
    BadDate {
        /// What the file held.
        text: String,
    },
    /// Not one of the values allowed here (a D/C mark, a balance type…).
    #[error("unexpected value {text:?}")]
    BadValue {
        /// What the file held.
        text: String,
    },
    /// The bytes are not valid in the file's encoding.
    #[error("not valid {encoding}")]
    Encoding {
        /// `UTF-8` or `GBK`.
        encoding: String,
    },
    /// A CSV header lacks a column the mapping needs.
    #[error("missing column {column}")]
    MissingColumn {
        /// The column the mapping names.
        column: String,
    },
    /// The CSV reader could not read the line.
    #[error("unreadable CSV: {detail}")]
    Csv {
        /// The reader's message.
        detail: String,
    },
    /// Entries in more than one currency, or an amount in another currency.
    #[error("currency {found} in a {expected} statement")]
    Currency {
        /// The statement's currency.
        expected: String,
        /// The one found.
        found: String,
    },
    /// The file has no statement or no entries where some are required.
    #[error("empty file")]
    Empty,
    /// Larger than the console reads in one go.
    #[error("larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit.
        max_bytes: u64,
    },
    /// An amount out of range.
    #[error("amount out of range")]
    Overflow,
}

/// A problem at a place in a file: what an import answers, and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{at:?} {field}: {problem}")]
pub struct StatementError {
    /// Where.
    pub at: Location,
    /// The field or tag (`Amt`, `:61:`, `交易金额`), as the file names it.
    pub field: String,
    /// Why.
    pub problem: StatementProblem,
}

/// What a statement's own numbers say about it (checked before anything is booked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum StatementFinding {
    /// Opening + Σ booked entries ≠ closing.
    DoesNotAddUp {
        /// closing − (opening + Σ entries), fen.
        difference_minor: i64,
    },
    /// No opening or closing balance to check against.
    NoBalances,
    /// The opening balance differs from the previous statement's closing balance.
    ChainBreak {
        /// The previous statement's id.
        previous: String,
        /// Its closing balance (fen).
        previous_closing_minor: i64,
        /// This opening balance (fen).
        opening_minor: i64,
    },
    /// Sequence numbers skip: statements are missing between.
    Gap {
        /// The last sequence number known.
        previous: u64,
        /// This one.
        this: u64,
    },
    /// Covers days an earlier statement already covered.
    Overlap {
        /// The earlier statement's id.
        previous: String,
    },
    /// Entries whose bank reference is already known from another file.
    Duplicates {
        /// How many.
        count: u32,
        /// The first few references.
        bank_refs: Vec<String>,
    },
    /// Return or reversal entries, which reconciliation treats as such.
    Returns {
        /// How many.
        count: u32,
    },
}

impl StatementFinding {
    /// Whether it asks a person to look (returns are information, not a problem).
    pub fn is_problem(&self) -> bool {
        !matches!(self, Self::Returns { .. })
    }
}

impl Statement {
    /// Σ booked entries (fen), `None` on overflow.
    pub fn booked_sum_minor(&self) -> Option<i64> {
        self.entries.iter().filter(|e| e.booked).try_fold(0i64, |s, e| s.checked_add(e.amount_minor))
    }

    /// The findings a statement shows on its own (the store adds chaining and
    /// duplicates across files): whether it adds up, returns.
    pub fn own_findings(&self) -> Vec<StatementFinding> {
        let mut out = Vec::new();
        match (self.opening, self.closing, self.booked_sum_minor()) {
            (Some(open), Some(close), Some(sum)) => {
                let difference_minor =
                    close.amount_minor.saturating_sub(open.amount_minor.saturating_add(sum));
                if difference_minor != 0 {
                    out.push(StatementFinding::DoesNotAddUp { difference_minor });
                }
            }
            (Some(_), Some(_), None) => {
                out.push(StatementFinding::DoesNotAddUp { difference_minor: i64::MAX })
            }
            _ => out.push(StatementFinding::NoBalances),
        }
        let returns = self.entries.iter().filter(|e| e.reversal || e.return_reason.is_some()).count();
        if returns > 0 {
            out.push(StatementFinding::Returns { count: u32::try_from(returns).unwrap_or(u32::MAX) });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(amount_minor: i64) -> StatementEntry {
        StatementEntry {
            at: Location::Line { line: 1 },
            amount_minor,
            booking_date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default(),
            value_date: None,
            booked_at: None,
            bank_ref: "R1".into(),
            end_to_end: None,
            counterparty_name: None,
            counterparty_account: None,
            addressed_account: None,
            remittance: None,
            bank_code: None,
            reversal: false,
            return_reason: None,
            fee_minor: None,
            our_ref: None,
            booked: true,
        }
    }

    #[test]
    fn a_statement_that_does_not_add_up_names_the_difference() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
        let mut s = Statement {
            format: StatementFormat::Mt940,
            version: None,
            statement_id: "S1".into(),
            account: "A".into(),
            currency: "CNY".into(),
            sequence: None,
            opening: Some(StatementBalance { amount_minor: 1_000, date: day }),
            closing: Some(StatementBalance { amount_minor: 1_500, date: day }),
            from: None,
            to: None,
            entries: vec![entry(700), entry(-200)],
        };
        assert!(s.own_findings().is_empty());
        s.entries[1].amount_minor = -201;
        assert_eq!(s.own_findings(), vec![StatementFinding::DoesNotAddUp { difference_minor: 1 }]);
        s.entries[1].booked = false;
        assert_eq!(s.own_findings(), vec![StatementFinding::DoesNotAddUp { difference_minor: -200 }]);
    }
}
