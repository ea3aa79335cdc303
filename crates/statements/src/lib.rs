//! Parsers of bank and payment-channel statement files into the domain's
//! [`Statement`] values: ISO 20022 camt.053 / camt.054 (001.02–001.08), SWIFT MT940,
//! Chinese banks' CSV exports (through a [`CsvMapping`]) and payment channels'
//! settlement files.
//!
//! Pure: bytes in, values out, no I/O, no clock; builds for wasm32 and native.
//! Amounts are integer fen, never floats. Every error names where in the file it
//! is ([`Location`]), the field or tag as the file names it, and a
//! [`StatementProblem`] code.
//!
//! ```
//! use statements::{parse, ParseOptions, StatementFormat};
//! let csv = "# channel=alipay account=2088001\n\
//!            settle_date,channel_txn_id,order_id,type,amount,fee,net\n\
//!            2026-11-24,T1,O1,PAY,100.00,0.60,99.40\n";
//! let statements = parse(csv.as_bytes(), &ParseOptions::default()).unwrap();
//! assert_eq!(statements[0].format, StatementFormat::ChannelSettlement);
//! assert_eq!(statements[0].entries[0].amount_minor, 10_000);
//! ```

pub mod amount;
pub mod camt;
pub mod csv_bank;
pub mod detect;
pub mod mt940;
pub mod settlement;
pub mod synth;
mod text;
mod xml;

pub use csv_bank::{CsvAmount, CsvEncoding, CsvMapping, presets};
pub use detect::detect;
pub use domain::statement::{
    Location, Statement, StatementBalance, StatementEntry, StatementError, StatementFinding, StatementFormat,
    StatementProblem,
};
pub use synth::{synth_bank_csv, synth_camt053};

/// The largest file [`parse`] reads (2 GiB); larger ones answer
/// [`StatementProblem::TooLarge`]. A pretty-printed camt.053 with a million
/// entries is about 1.2 GB, hence more than the 512 MiB a CSV would need.
pub const MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// How to read a file. The default detects the format and, for a bank CSV, the
/// bank's preset from the header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParseOptions {
    /// The format, when known; `None` detects it with [`detect`].
    pub format: Option<StatementFormat>,
    /// The column mapping of a bank CSV; `None` picks the [`presets`] entry whose
    /// columns the header has.
    pub mapping: Option<CsvMapping>,
    /// The account the statements are for: overrides the file's, and supplies it
    /// when the file has none (a CSV without an account column).
    pub account: Option<String>,
}

/// Reads a statement file: one [`Statement`] per camt `Stmt`/`Ntfctn`, per MT940
/// message, per account of a bank CSV, or per settlement file.
///
/// A file larger than [`MAX_BYTES`] is refused whole; an unrecognised one answers
/// [`StatementProblem::UnknownFormat`] (XML in another ISO 20022 namespace answers
/// [`StatementProblem::UnsupportedNamespace`]).
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Vec<Statement>, StatementError> {
    check_size(bytes.len())?;
    if bytes.iter().all(u8::is_ascii_whitespace) || bytes == b"\xEF\xBB\xBF" {
        return Err(text::err(Location::File, "", StatementProblem::Empty));
    }
    // A column mapping means a bank CSV.
    let given = options.format.or(options.mapping.as_ref().map(|_| StatementFormat::BankCsv));
    let format = match given.or_else(|| detect(bytes)) {
        Some(f) => f,
        // XML that names no camt namespace: let the camt reader say which one it is.
        None if detect::looks_like_xml(bytes) => StatementFormat::Camt053,
        None => return Err(text::err(Location::File, "", StatementProblem::UnknownFormat)),
    };
    let mut out = match format {
        StatementFormat::Camt053 | StatementFormat::Camt054 => {
            camt::parse(bytes, options.account.as_deref())?
        }
        StatementFormat::Mt940 => mt940::parse(bytes, options.account.as_deref())?,
        StatementFormat::BankCsv => {
            csv_bank::parse(bytes, options.mapping.as_ref(), options.account.as_deref())?
        }
        StatementFormat::ChannelSettlement => settlement::parse(bytes, options.account.as_deref())?,
    };
    if let Some(account) = options.account.as_deref() {
        let account = text::compact(account);
        for s in &mut out {
            s.account.clone_from(&account);
        }
    }
    Ok(out)
}

fn check_size(len: usize) -> Result<(), StatementError> {
    if u64::try_from(len).unwrap_or(u64::MAX) > MAX_BYTES {
        return Err(text::err(Location::File, "", StatementProblem::TooLarge { max_bytes: MAX_BYTES }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_files_over_the_limit() {
        assert_eq!(check_size(usize::try_from(MAX_BYTES).unwrap()), Ok(()));
        assert_eq!(
            check_size(usize::try_from(MAX_BYTES + 1).unwrap()),
            Err(StatementError {
                at: Location::File,
                field: String::new(),
                problem: StatementProblem::TooLarge { max_bytes: MAX_BYTES }
            })
        );
    }
}
