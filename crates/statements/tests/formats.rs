//! Format detection and the answers for files that are no statement.

// Helpers of a test file: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use statements::{Location, ParseOptions, StatementError, StatementFormat, StatementProblem, detect, parse};

#[test]
fn empty_and_unknown_files() {
    for empty in [&b""[..], b"  \r\n", b"\xEF\xBB\xBF"] {
        assert_eq!(
            parse(empty, &ParseOptions::default()).unwrap_err(),
            StatementError { at: Location::File, field: String::new(), problem: StatementProblem::Empty }
        );
    }
    let text = b"Dear customer,\nplease find attached\n";
    assert_eq!(detect(text), None);
    assert_eq!(
        parse(text, &ParseOptions::default()).unwrap_err(),
        StatementError { at: Location::File, field: String::new(), problem: StatementProblem::UnknownFormat }
    );
    // XML that is no ISO 20022 document at all.
    assert_eq!(
        parse(b"<html><body>hi</body></html>", &ParseOptions::default()).unwrap_err(),
        StatementError { at: Location::File, field: "Document".into(), problem: StatementProblem::Missing }
    );
}

#[test]
fn mt940_after_a_swift_header_or_blank_lines() {
    assert_eq!(
        detect(b"{1:F01ABNANL2AXXXX0000000000}{2:O940}{4:\r\n:20:X\r\n"),
        Some(StatementFormat::Mt940)
    );
    assert_eq!(detect(b"\r\n\r\n:20:X\r\n:25:123\r\n"), Some(StatementFormat::Mt940));
    assert_eq!(detect(b":20:X\r\nno account\r\n"), None);
}

#[test]
fn a_given_format_is_used_as_given() {
    let csv = "# account=1\nsettle_date,channel_txn_id,order_id,type,amount,fee,net\n";
    let as_mt940 = ParseOptions { format: Some(StatementFormat::Mt940), ..Default::default() };
    assert_eq!(
        parse(csv.as_bytes(), &as_mt940).unwrap_err(),
        StatementError { at: Location::File, field: ":20:".into(), problem: StatementProblem::Empty }
    );
    assert_eq!(
        parse(csv.as_bytes(), &ParseOptions::default()).unwrap_err(),
        StatementError {
            at: Location::Line { line: 2 },
            field: String::new(),
            problem: StatementProblem::Empty
        },
        "a settlement file without rows"
    );
}
