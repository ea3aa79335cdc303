//! MT940 fixtures: a German bank's two messages with structured `:86:`, and an
//! ING-style message in SWIFT blocks with Dutch `/TAG/` details.

// Helpers of a test file: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use statements::{
    Location, ParseOptions, StatementBalance, StatementError, StatementFinding, StatementFormat,
    StatementProblem, detect, parse,
};

const DE: &[u8] = include_bytes!("fixtures/mt940_de.sta");
const NL: &[u8] = include_bytes!("fixtures/mt940_nl.sta");

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn line(line: u32) -> Location {
    Location::Line { line }
}

fn error(bytes: &[u8]) -> StatementError {
    parse(bytes, &ParseOptions::default()).unwrap_err()
}

#[test]
fn detects_mt940() {
    assert_eq!(detect(DE), Some(StatementFormat::Mt940));
    assert_eq!(detect(NL), Some(StatementFormat::Mt940));
}

#[test]
fn two_german_messages() {
    let all = parse(DE, &ParseOptions::default()).unwrap();
    assert_eq!(all.len(), 2, "the second :20: starts a new message");
    let s = &all[0];
    assert_eq!(s.format, StatementFormat::Mt940);
    assert_eq!(s.statement_id, "STMT20261231");
    assert_eq!(s.account, "0532013000", "BLZ/account: the account");
    assert_eq!(s.sequence, Some(365));
    assert_eq!(s.currency, "EUR");
    assert_eq!(s.opening, Some(StatementBalance { amount_minor: 1_000_000, date: day(2026, 12, 30) }));
    assert_eq!(s.closing, Some(StatementBalance { amount_minor: 1_265_000, date: day(2026, 12, 31) }));
    assert_eq!(s.entries.len(), 4);
    assert_eq!(s.own_findings(), vec![StatementFinding::Returns { count: 2 }]);

    let e = &s.entries[0];
    assert_eq!(e.at, line(5));
    assert_eq!(e.amount_minor, 150_000, "funds code R after the mark");
    assert_eq!((e.value_date, e.booking_date), (Some(day(2026, 12, 31)), day(2026, 12, 31)));
    assert_eq!(e.bank_code.as_deref(), Some("NTRF"));
    assert_eq!(e.bank_ref, "COBA0001");
    assert_eq!(
        e.remittance.as_deref(),
        Some("EREF+E2E-INV-2026-0815 SVWZ+Rechnung 2026-0815 Kunde 88231"),
        "?20–?22 joined: a full 27-character line goes on without a space"
    );
    assert_eq!(e.end_to_end.as_deref(), Some("E2E-INV-2026-0815"), "EREF+ when :61: says NONREF");
    assert_eq!(e.counterparty_account.as_deref(), Some("DE02120300000000202051"), "?31 over a line break");
    assert_eq!(e.counterparty_name.as_deref(), Some("Müller Maschinenbau GmbH"));

    let e = &s.entries[1];
    assert_eq!(e.amount_minor, -25_000);
    assert_eq!(e.value_date, Some(day(2027, 1, 2)));
    assert_eq!(
        e.booking_date,
        day(2026, 12, 31),
        "entry date 1231 before a January value date: the year before"
    );
    assert_eq!(e.end_to_end.as_deref(), Some("KREF-7781"));
    assert_eq!(e.bank_code.as_deref(), Some("NMSC"));
    assert_eq!(e.counterparty_account.as_deref(), Some("DE44500105175407324931"));
    assert_eq!(e.remittance.as_deref(), Some("SVWZ+Miete Januar"));

    let e = &s.entries[2];
    assert!(e.reversal);
    assert_eq!(e.amount_minor, 150_000, "RD: a debit reversed is money in");
    assert_eq!(e.return_reason.as_deref(), Some("AC04"), "?34");
    assert_eq!(e.counterparty_name.as_deref(), Some("Müller Maschinenbau GmbH"), "?32 + ?33");
    assert_eq!(e.end_to_end.as_deref(), Some("DD-2026-12"));

    let e = &s.entries[3];
    assert!(e.reversal);
    assert_eq!(e.amount_minor, -10_000, "RC: a credit reversed is money out");
    assert_eq!(
        e.remittance.as_deref(),
        Some("Storno Gutschrift vom 30.12. wegen Doppelbuchung"),
        "free text"
    );

    let s = &all[1];
    assert_eq!(s.statement_id, "STMT20270102");
    assert_eq!(s.sequence, Some(1));
    assert_eq!(s.entries[0].amount_minor, 1);
    assert_eq!(s.entries[0].at, line(23));
    assert_eq!(s.entries[0].bank_ref, "STMT20270102#1", "no bank reference: synthesized");
    assert_eq!(s.entries[0].remittance.as_deref(), Some("Zinsen"));
    assert_eq!((s.from, s.to), (Some(day(2027, 1, 2)), Some(day(2027, 1, 2))));
    assert!(s.own_findings().is_empty());
}

#[test]
fn windows_1252_reads_like_utf8() {
    let text = std::str::from_utf8(DE).unwrap();
    let (latin, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable);
    assert_ne!(latin.as_ref(), DE);
    assert_eq!(
        parse(&latin, &ParseOptions::default()).unwrap(),
        parse(DE, &ParseOptions::default()).unwrap()
    );
}

#[test]
fn dutch_details_in_swift_blocks() {
    let all = parse(NL, &ParseOptions::default()).unwrap();
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(s.statement_id, "P261124000000001");
    assert_eq!(s.account, "NL69INGB0123456789", "the currency after the IBAN dropped");
    assert_eq!(s.sequence, Some(0));
    assert_eq!(s.closing.map(|b| b.amount_minor), Some(490_500));
    assert_eq!(s.own_findings(), vec![StatementFinding::Returns { count: 1 }]);
    let e = &s.entries;
    assert_eq!(e[0].at, line(6));
    assert_eq!(e[0].amount_minor, 125_050);
    assert_eq!(e[0].end_to_end.as_deref(), Some("ORD-2026-4411"));
    assert_eq!(e[0].counterparty_account.as_deref(), Some("NL20INGB0001234567"), "/CNTP/ IBAN");
    assert_eq!(e[0].counterparty_name.as_deref(), Some("J. Jansen"), "/CNTP/ name, across a line break");
    assert_eq!(e[0].remittance.as_deref(), Some("Factuur 2026-4411 klant 88"), "/REMI/USTD//");
    assert_eq!(e[0].bank_ref, "00000000001005");

    assert_eq!(e[1].end_to_end, None, "/EREF/NOTPROVIDED, and `EREF` in :61: only points at :86:");
    assert_eq!(e[1].counterparty_name.as_deref(), Some("Energie BV"));
    assert_eq!(e[1].counterparty_account.as_deref(), Some("NL36ABNA0123456789"));
    assert_eq!(e[1].remittance.as_deref(), Some("1234567890123456"), "/REMI/STRD/CUR/ref");
    assert_eq!(e[1].bank_code.as_deref(), Some("NDDT"));

    assert!(e[2].reversal);
    assert_eq!(e[2].amount_minor, -125_050);
    assert_eq!(e[2].return_reason.as_deref(), Some("MS03"), "/RTRN/");
    assert_eq!(e[2].booking_date, day(2026, 11, 24));
    assert_eq!(e[2].value_date, Some(day(2026, 11, 25)));

    assert_eq!(e[3].counterparty_name.as_deref(), Some("Koffie & Co"), "/NAME/ (ABN AMRO layout)");
    assert_eq!(e[3].counterparty_account.as_deref(), Some("NL91ABNA0417164300"), "/IBAN/");
    assert_eq!(e[3].remittance.as_deref(), Some("Bestelling 55"));
    assert_eq!(e[3].end_to_end.as_deref(), Some("KC-55"));
}

#[test]
fn a_message_without_closing_balance_is_refused_at_its_20() {
    let text = std::str::from_utf8(DE).unwrap().replacen(":62F:C261231EUR12650,00\r\n", "", 1);
    assert_eq!(
        error(text.as_bytes()),
        StatementError { at: line(1), field: ":62F:".into(), problem: StatementProblem::Missing }
    );
    let text = std::str::from_utf8(DE).unwrap().replace(":62F:C270102EUR12650,01\r\n", "");
    assert_eq!(
        error(text.as_bytes()),
        StatementError { at: line(19), field: ":62F:".into(), problem: StatementProblem::Missing }
    );
}

#[test]
fn bad_fields_name_their_line() {
    let de = std::str::from_utf8(DE).unwrap();
    assert_eq!(
        error(de.replace("DR250,00", "DR250.00").as_bytes()),
        StatementError {
            at: line(9),
            field: ":61:".into(),
            problem: StatementProblem::BadValue { text: "2701021231DR250.00NMSCKREF-7781//COBA0002".into() }
        }
    );
    assert_eq!(
        error(de.replace(":60F:C261230EUR10000,00", ":60F:C261230EUR10000,001").as_bytes()),
        StatementError {
            at: line(4),
            field: ":60F:".into(),
            problem: StatementProblem::BadAmount { text: "10000,001".into() }
        }
    );
    assert_eq!(
        error(de.replace(":61:261231RD1500,00", ":61:261331RD1500,00").as_bytes()),
        StatementError {
            at: line(12),
            field: ":61:".into(),
            problem: StatementProblem::BadDate { text: "261331".into() }
        }
    );
    assert_eq!(
        error(de.replace(":62F:C261231EUR12650,00", ":62F:C261231USD12650,00").as_bytes()),
        StatementError {
            at: line(18),
            field: ":62F:".into(),
            problem: StatementProblem::Currency { expected: "EUR".into(), found: "USD".into() }
        }
    );
}

#[test]
fn a_statement_that_does_not_add_up() {
    let de = std::str::from_utf8(DE).unwrap().replace(":62F:C261231EUR12650,00", ":62F:C261231EUR12649,99");
    let s = parse(de.as_bytes(), &ParseOptions::default()).unwrap().remove(0);
    assert_eq!(
        s.own_findings(),
        vec![StatementFinding::DoesNotAddUp { difference_minor: -1 }, StatementFinding::Returns { count: 2 }]
    );
}
