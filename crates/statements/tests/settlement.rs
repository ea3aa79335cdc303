//! A payment channel's settlement file.

// Helpers of a test file: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use statements::{
    Location, ParseOptions, StatementError, StatementFinding, StatementFormat, StatementProblem, detect,
    parse,
};

const ALIPAY: &[u8] = include_bytes!("fixtures/settlement_alipay.csv");

fn line(line: u32) -> Location {
    Location::Line { line }
}

fn error(text: &str) -> StatementError {
    parse(text.as_bytes(), &ParseOptions::default()).unwrap_err()
}

#[test]
fn one_statement_of_orders_and_refunds() {
    assert_eq!(detect(ALIPAY), Some(StatementFormat::ChannelSettlement));
    let all = parse(ALIPAY, &ParseOptions::default()).unwrap();
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(s.format, StatementFormat::ChannelSettlement);
    assert_eq!(s.account, "2088123456789012");
    assert_eq!(s.currency, "CNY");
    let digest = hex::encode(&Sha256::digest(ALIPAY)[..6]);
    assert_eq!(s.statement_id, format!("settlement:alipay:2088123456789012:2026-11-24:2026-11-25:{digest}"));
    assert_eq!(
        (s.from, s.to),
        (NaiveDate::from_ymd_opt(2026, 11, 24), NaiveDate::from_ymd_opt(2026, 11, 25))
    );
    assert_eq!((s.opening, s.closing), (None, None));
    assert_eq!(s.own_findings(), vec![StatementFinding::NoBalances]);
    let e = &s.entries;
    assert_eq!(e.len(), 3);
    assert_eq!(e[0].at, line(3), "after the comment and the header");
    assert_eq!(e[0].amount_minor, 10_000);
    assert_eq!(e[0].fee_minor, Some(60));
    assert_eq!(e[0].bank_ref, "2026112422001100001");
    assert_eq!(e[0].our_ref.as_deref(), Some("ORD-1001"));
    assert_eq!(e[0].bank_code.as_deref(), Some("PAY"));
    assert_eq!(e[2].amount_minor, -3_000, "a refund is money back to the payer");
    assert_eq!(e[2].fee_minor, Some(-18), "the fee the channel gives back");
    assert_eq!(e[2].bank_code.as_deref(), Some("REFUND"));
    let net: i64 = e.iter().map(|e| e.amount_minor - e.fee_minor.unwrap_or(0)).sum();
    assert_eq!(net, 9_940 + 248_500 - 2_982, "Σ net as the file says");
}

#[test]
fn the_account_comes_from_the_options_when_the_file_has_none() {
    let text = std::str::from_utf8(ALIPAY).unwrap().replace(" account=2088123456789012", "");
    assert_eq!(
        error(&text),
        StatementError { at: Location::File, field: "account".into(), problem: StatementProblem::Missing }
    );
    let opts = ParseOptions { account: Some("2088 0000".into()), ..Default::default() };
    let s = parse(text.as_bytes(), &opts).unwrap().remove(0);
    assert_eq!(s.account, "20880000");
    assert!(s.statement_id.starts_with("settlement:alipay:20880000:"));
}

#[test]
fn rows_are_checked() {
    let text = std::str::from_utf8(ALIPAY).unwrap();
    assert_eq!(
        error(&text.replace(",99.40", ",99.41")),
        StatementError {
            at: line(3),
            field: "net".into(),
            problem: StatementProblem::BadValue { text: "99.41".into() }
        }
    );
    assert_eq!(
        error(&text.replace(",PAY,2500.00", ",CHARGEBACK,2500.00")),
        StatementError {
            at: line(4),
            field: "type".into(),
            problem: StatementProblem::BadValue { text: "CHARGEBACK".into() }
        }
    );
    assert_eq!(
        error(&text.replace(",0.60,", ",0.6x,")),
        StatementError {
            at: line(3),
            field: "fee".into(),
            problem: StatementProblem::BadAmount { text: "0.6x".into() }
        }
    );
    assert_eq!(
        error(&text.replace("2026-11-25,", "2026-13-25,")),
        StatementError {
            at: line(5),
            field: "settle_date".into(),
            problem: StatementProblem::BadDate { text: "2026-13-25".into() }
        }
    );
    let no_fee = text.replace(",fee,", ",charge,");
    let opts = ParseOptions { format: Some(StatementFormat::ChannelSettlement), ..Default::default() };
    assert_eq!(
        parse(no_fee.as_bytes(), &opts).unwrap_err(),
        StatementError {
            at: line(2),
            field: "fee".into(),
            problem: StatementProblem::MissingColumn { column: "fee".into() }
        }
    );
}
