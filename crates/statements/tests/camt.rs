//! camt.053 / camt.054 fixtures written from the ISO 20022 message definitions.

// Helpers of a test file: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, NaiveDateTime};
use statements::{
    Location, ParseOptions, Statement, StatementBalance, StatementError, StatementFinding, StatementFormat,
    StatementProblem, detect, parse,
};

const V02: &[u8] = include_bytes!("fixtures/camt053_v02.xml");
const V05: &[u8] = include_bytes!("fixtures/camt053_v05.xml");
const V08: &[u8] = include_bytes!("fixtures/camt053_v08.xml");
const N08: &[u8] = include_bytes!("fixtures/camt054_v08.xml");

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn one(bytes: &[u8]) -> Statement {
    let mut all = parse(bytes, &ParseOptions::default()).unwrap();
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn error(bytes: &[u8]) -> StatementError {
    parse(bytes, &ParseOptions::default()).unwrap_err()
}

fn at(path: &str) -> Location {
    Location::Element { path: path.to_owned() }
}

#[test]
fn detects_the_versions() {
    assert_eq!(detect(V02), Some(StatementFormat::Camt053));
    assert_eq!(detect(V05), Some(StatementFormat::Camt053));
    assert_eq!(detect(V08), Some(StatementFormat::Camt053));
    assert_eq!(detect(N08), Some(StatementFormat::Camt054));
    let v09 = String::from_utf8_lossy(V08).replace("camt.053.001.08", "camt.053.001.09");
    assert_eq!(detect(v09.as_bytes()), None);
}

#[test]
fn camt053_001_02_statement_header_and_balances() {
    let s = one(V02);
    assert_eq!(s.format, StatementFormat::Camt053);
    assert_eq!(s.version.as_deref(), Some("camt.053.001.02"));
    assert_eq!(s.statement_id, "STMT-2026-11-24-EUR");
    assert_eq!(s.account, "DE89370400440532013000", "IBAN without spaces, not the owner's Othr/Id");
    assert_eq!(s.currency, "EUR");
    assert_eq!(s.sequence, Some(42), "ElctrncSeqNb before LglSeqNb");
    assert_eq!(s.opening, Some(StatementBalance { amount_minor: 1_000_000, date: day(2026, 11, 24) }));
    assert_eq!(s.closing, Some(StatementBalance { amount_minor: 1_005_000, date: day(2026, 11, 24) }));
    assert_eq!((s.from, s.to), (Some(day(2026, 11, 24)), Some(day(2026, 11, 24))));
    assert_eq!(s.entries.len(), 5);
    // Pending entry not counted; reversal and return reported.
    assert_eq!(s.own_findings(), vec![StatementFinding::Returns { count: 2 }]);
}

#[test]
fn camt053_001_02_entries() {
    let s = one(V02);
    let e = &s.entries;
    let credit = &e[0];
    assert_eq!(credit.at, at("Document/BkToCstmrStmt/Stmt[1]/Ntry[1]"));
    assert_eq!(credit.amount_minor, 150_000);
    assert_eq!(credit.booking_date, day(2026, 11, 24));
    assert_eq!(credit.value_date, Some(day(2026, 11, 24)));
    assert_eq!(credit.booked_at, None);
    assert_eq!(credit.bank_ref, "COBA20261124A0001", "AcctSvcrRef before NtryRef");
    assert_eq!(credit.end_to_end.as_deref(), Some("E2E-INV-2026-0815"));
    assert_eq!(credit.counterparty_name.as_deref(), Some("Müller Maschinenbau GmbH"));
    assert_eq!(credit.counterparty_account.as_deref(), Some("DE02120300000000202051"));
    assert_eq!(credit.addressed_account, None, "credited the statement's own account");
    assert_eq!(credit.remittance.as_deref(), Some("Invoice 2026-0815 customer 88231"));
    assert_eq!(credit.bank_code.as_deref(), Some("PMNT/RCDT/ESCT"));
    assert!(credit.booked && !credit.reversal);
    assert_eq!((credit.fee_minor, credit.return_reason.as_deref()), (None, None));

    let debit = &e[1];
    assert_eq!(debit.amount_minor, -25_000);
    assert_eq!(debit.fee_minor, Some(375), "001.02 repeats Chrgs: 2.50 + 1.25");
    assert_eq!(debit.end_to_end, None, "NOTPROVIDED is no id");
    assert_eq!(debit.counterparty_name.as_deref(), Some("Hamburg Logistik AG"));
    assert_eq!(debit.counterparty_account.as_deref(), Some("0532013999"));
    assert_eq!(debit.remittance.as_deref(), Some("RF18539007547034"), "structured creditor reference");
    assert_eq!(debit.bank_code.as_deref(), Some("PMNT/ICDT/ESCT"));

    let reversal = &e[2];
    assert!(reversal.reversal);
    assert_eq!(reversal.amount_minor, -150_000, "a reversed credit is booked as a debit: money out");
    assert_eq!(
        reversal.counterparty_name.as_deref(),
        Some("Müller Maschinenbau GmbH"),
        "the payer of the credit it reverses"
    );

    let ret = &e[3];
    assert_eq!(ret.amount_minor, 30_000);
    assert_eq!(ret.return_reason.as_deref(), Some("AC04"));
    assert_eq!(ret.bank_ref, "NR-0004", "NtryRef when there is no AcctSvcrRef");
    assert_eq!(ret.counterparty_name.as_deref(), Some("Closed Account Supplier"));
    assert_eq!(ret.end_to_end.as_deref(), Some("PAYOUT-7781"));

    let pending = &e[4];
    assert!(!pending.booked);
    assert_eq!(pending.booking_date, day(2026, 11, 25), "a pending entry without BookgDt: the value day");
    assert_eq!(pending.bank_ref, "COBA20261124P0005");
}

#[test]
fn camt053_001_08_status_codes_parties_and_virtual_accounts() {
    let s = one(V08);
    assert_eq!(s.version.as_deref(), Some("camt.053.001.08"));
    assert_eq!(s.account, "755912345610101");
    assert_eq!(s.currency, "CNY");
    assert_eq!(s.sequence, Some(318));
    assert_eq!(
        s.opening,
        Some(StatementBalance { amount_minor: 20_000_000, date: day(2026, 11, 23) }),
        "PRCD"
    );
    assert_eq!(
        s.closing,
        Some(StatementBalance { amount_minor: 21_238_817, date: day(2026, 11, 24) }),
        "DtTm"
    );
    assert_eq!((s.from, s.to), (Some(day(2026, 11, 24)), Some(day(2026, 11, 24))), "from the booking days");
    assert!(s.own_findings().is_empty(), "{:?}", s.own_findings());

    let e = &s.entries;
    assert_eq!(e.len(), 4);
    assert_eq!(e[0].amount_minor, 1_288_800);
    assert_eq!(
        e[0].booked_at,
        NaiveDateTime::parse_from_str("2026-11-24 09:15:32", "%Y-%m-%d %H:%M:%S").ok()
    );
    assert_eq!(
        e[0].counterparty_name.as_deref(),
        Some("Smith & Sons 上海贸易有限公司"),
        "entity and its blanks kept"
    );
    assert_eq!(e[0].counterparty_account.as_deref(), Some("6222020200112233445"));
    assert_eq!(e[0].addressed_account.as_deref(), Some("7559123456101010088"), "virtual number");
    assert_eq!(e[0].bank_code.as_deref(), Some("CMB-TRF-IN"), "proprietary code");
    assert_eq!(e[0].end_to_end.as_deref(), Some("ORD20261124000321"));
    assert_eq!(e[0].remittance.as_deref(), Some("货款 订单ORD20261124000321"));

    assert_eq!(e[1].fee_minor, Some(550), "TtlChrgsAndTaxAmt, not the records added to it");
    assert_eq!(e[1].counterparty_name.as_deref(), Some("上海电力公司"));
    assert_eq!(e[1].bank_ref, "CMB-755912345610101-20261124#2", "no reference at all: synthesized");
    assert_eq!(e[2].amount_minor, 17, "an Amt in another namespace is not the entry's");
    assert_eq!(e[2].bank_ref, "CMB-755912345610101-20261124#3");
    assert!(!e[3].booked, "INFO");
    assert_eq!(e[3].amount_minor, -4_250);
}

#[test]
fn camt053_001_05_overdrawn_statement() {
    let s = one(V05);
    assert_eq!(s.version.as_deref(), Some("camt.053.001.05"));
    assert_eq!(s.currency, "GBP", "no Acct/Ccy: the amounts' currency");
    assert_eq!(s.sequence, Some(12), "LglSeqNb when there is no ElctrncSeqNb");
    assert_eq!(s.closing.map(|b| b.amount_minor), Some(-2_345), "DBIT closing balance");
    assert_eq!((s.from, s.to), (Some(day(2026, 11, 23)), Some(day(2026, 11, 24))));
    assert!(s.own_findings().is_empty());
    assert_eq!(s.entries[1].fee_minor, Some(390), "Σ Chrgs/Rcrd/Amt");
    assert_eq!(s.entries[1].bank_ref, "GB-2");
    assert_eq!(s.entries[1].value_date, Some(day(2026, 11, 25)));
    assert_eq!(s.entries[1].bank_code.as_deref(), Some("PMNT/ICDT/XBCT"));
}

#[test]
fn camt054_001_08_notifications() {
    let s = one(N08);
    assert_eq!(s.format, StatementFormat::Camt054);
    assert_eq!(s.version.as_deref(), Some("camt.054.001.08"));
    assert_eq!(s.statement_id, "NTF-20261124-0001-1");
    assert_eq!((s.opening, s.closing), (None, None));
    assert_eq!(s.own_findings(), vec![StatementFinding::NoBalances, StatementFinding::Returns { count: 1 }]);
    let e = &s.entries;
    assert_eq!(e[0].at, at("Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[1]"));
    assert_eq!(e[0].addressed_account.as_deref(), Some("7559123456101010042"));
    assert_eq!(e[0].counterparty_name.as_deref(), Some("王芳"));
    assert_eq!(e[1].amount_minor, -300_000);
    assert_eq!(e[1].return_reason.as_deref(), Some("CN-ACCT-MISMATCH"), "Rsn/Prtry");
    assert_eq!(e[1].counterparty_name.as_deref(), Some("王芳"), "a returned credit goes back to its payer");
}

#[test]
fn prefixed_elements_read_the_same() {
    let plain = String::from_utf8_lossy(V08).into_owned();
    let prefixed = plain
        .replace("<Document xmlns=", "<c:Document xmlns:c=")
        .replace("</Document>", "</c:Document>")
        .replace("<x:Amt", "<x_Amt")
        .replace("</x:Amt>", "</x_Amt>");
    // Prefix every element of the camt namespace.
    let mut out = String::new();
    let mut rest = prefixed.as_str();
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let closing = rest.starts_with('/');
        if closing {
            out.push('/');
            rest = &rest[1..];
        }
        if rest.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.push_str("c:");
        }
    }
    out.push_str(rest);
    let out = out.replace("<c:x_Amt", "<x:Amt").replace("</c:x_Amt>", "</x:Amt>");
    assert!(out.contains("<c:Ntry>") && out.contains("</c:Stmt>"));
    assert_eq!(one(out.as_bytes()), one(V08));
}

#[test]
fn entities_and_cdata_keep_their_blanks() {
    let text = String::from_utf8_lossy(V08).replace(
        "<Ustrd>货款 订单ORD20261124000321</Ustrd>",
        "<Ustrd>A &lt;&gt; <![CDATA[B & C]]> D&#x4E2D;</Ustrd>",
    );
    let s = one(text.as_bytes());
    assert_eq!(s.entries[0].remittance.as_deref(), Some("A <> B & C D中"));
}

#[test]
fn the_account_option_replaces_the_files() {
    let opts = ParseOptions { account: Some("7559 1234 5610 101".into()), ..ParseOptions::default() };
    let s = parse(V08, &opts).unwrap().remove(0);
    assert_eq!(s.account, "755912345610101");
}

#[test]
fn a_statement_that_does_not_add_up_names_the_difference() {
    let wrong = String::from_utf8_lossy(V08).replace("212388.17", "212345.67");
    let s = one(wrong.as_bytes());
    assert_eq!(s.own_findings(), vec![StatementFinding::DoesNotAddUp { difference_minor: -4_250 }]);
}

#[test]
fn truncated_xml_names_the_element_it_broke_in() {
    let text = String::from_utf8_lossy(V08);
    let cut = text.find("<Amt Ccy=\"CNY\">500.00").unwrap() + "<Amt Ccy=\"CNY\">50".len();
    assert_eq!(
        error(&text.as_bytes()[..cut]),
        StatementError {
            at: at("Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt"),
            field: "Amt".into(),
            problem: StatementProblem::MalformedXml {
                detail: "unexpected end of file: <Amt> not closed".into()
            },
        }
    );
    // Cut inside a tag.
    let cut = text.find("<CdtDbtInd>DBIT").unwrap() + 4;
    let e = error(&text.as_bytes()[..cut]);
    assert_eq!(e.at, at("Document/BkToCstmrStmt/Stmt[1]/Ntry[2]"));
    assert!(matches!(e.problem, StatementProblem::MalformedXml { .. }), "{e:?}");
}

#[test]
fn mismatched_tags_are_malformed() {
    let text = String::from_utf8_lossy(V02).replacen("<Sts>BOOK</Sts>", "<Sts>BOOK</Stat>", 2);
    assert_eq!(
        error(text.as_bytes()),
        StatementError {
            at: at("Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Sts"),
            field: "Sts".into(),
            problem: StatementProblem::MalformedXml { detail: "expected </Sts>, found </Stat>".into() },
        }
    );
}

#[test]
fn other_namespaces_are_refused() {
    for ns in [
        "urn:iso:std:iso:20022:tech:xsd:camt.052.001.08",
        "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09",
        "urn:iso:std:iso:20022:tech:xsd:camt.053.001.09",
    ] {
        let text = String::from_utf8_lossy(V08).replace("urn:iso:std:iso:20022:tech:xsd:camt.053.001.08", ns);
        assert_eq!(
            error(text.as_bytes()),
            StatementError {
                at: at("Document"),
                field: "xmlns".into(),
                problem: StatementProblem::UnsupportedNamespace { namespace: ns.into() },
            }
        );
    }
    // Told it is camt.053, a pain.001 is still refused by its namespace.
    let pain = String::from_utf8_lossy(V08).replace("camt.053.001.08", "pain.001.001.09");
    let opts = ParseOptions { format: Some(StatementFormat::Camt053), ..ParseOptions::default() };
    assert!(matches!(
        parse(pain.as_bytes(), &opts).unwrap_err().problem,
        StatementProblem::UnsupportedNamespace { .. }
    ));
}

#[test]
fn missing_and_bad_values_name_their_place() {
    let text = String::from_utf8_lossy(V02);
    let no_amount = text.replacen("<Amt Ccy=\"EUR\">250.00</Amt>", "", 1);
    assert_eq!(
        error(no_amount.as_bytes()),
        StatementError {
            at: at("Document/BkToCstmrStmt/Stmt[1]/Ntry[2]"),
            field: "Amt".into(),
            problem: StatementProblem::Missing
        }
    );
    let no_indicator = text.replacen("<CdtDbtInd>DBIT</CdtDbtInd>\n        <Sts>", "<Sts>", 1);
    assert_eq!(error(no_indicator.as_bytes()).field, "CdtDbtInd");
    let no_booking = text.replacen("<BookgDt>\n          <Dt>2026-11-24</Dt>\n        </BookgDt>", "", 1);
    assert_eq!(
        error(no_booking.as_bytes()),
        StatementError {
            at: at("Document/BkToCstmrStmt/Stmt[1]/Ntry[1]"),
            field: "BookgDt".into(),
            problem: StatementProblem::Missing
        }
    );
    let bad_amount = text.replacen(">250.00<", ">250.005<", 1);
    assert_eq!(
        error(bad_amount.as_bytes()),
        StatementError {
            at: at("Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt"),
            field: "Amt".into(),
            problem: StatementProblem::BadAmount { text: "250.005".into() }
        }
    );
    let bad_date = text.replacen(
        "<Dt>2026-11-24</Dt>\n        </BookgDt>",
        "<Dt>2026-11-31</Dt>\n        </BookgDt>",
        1,
    );
    assert_eq!(
        error(bad_date.as_bytes()),
        StatementError {
            at: at("Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/BookgDt/Dt"),
            field: "Dt".into(),
            problem: StatementProblem::BadDate { text: "2026-11-31".into() }
        }
    );
    let bad_bal = text.replacen("<Amt Ccy=\"EUR\">10000.00</Amt>", "<Amt Ccy=\"EUR\">1O000.00</Amt>", 1);
    assert_eq!(
        error(bad_bal.as_bytes()).at,
        at("Document/BkToCstmrStmt/Stmt[1]/Bal[1]/Amt"),
        "repeated Bal indexed"
    );
    let other_ccy = text.replacen("<Amt Ccy=\"EUR\">250.00</Amt>", "<Amt Ccy=\"USD\">250.00</Amt>", 1);
    assert_eq!(
        error(other_ccy.as_bytes()),
        StatementError {
            at: at("Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt"),
            field: "Ccy".into(),
            problem: StatementProblem::Currency { expected: "EUR".into(), found: "USD".into() }
        }
    );
    let no_account = String::from_utf8_lossy(V05).replace("<IBAN>GB33BUKB20201555555555</IBAN>", "");
    assert_eq!(
        error(no_account.as_bytes()),
        StatementError {
            at: at("Document/BkToCstmrStmt/Stmt[1]"),
            field: "Acct".into(),
            problem: StatementProblem::Missing
        }
    );
}

#[test]
fn a_report_without_statements_is_empty() {
    let xml = r#"<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt><GrpHdr><MsgId>1</MsgId></GrpHdr></BkToCstmrStmt></Document>"#;
    assert_eq!(
        error(xml.as_bytes()),
        StatementError {
            at: at("Document/BkToCstmrStmt"),
            field: "Stmt".into(),
            problem: StatementProblem::Empty
        }
    );
}

#[test]
fn synthetic_statements_add_up_and_split_reading_matches() {
    // Above PARALLEL_MIN_BYTES: read in two halves on native builds.
    let bytes = statements::synth_camt053(5_000, 9);
    assert!(bytes.len() >= statements::camt::PARALLEL_MIN_BYTES);
    let s = one(&bytes);
    assert_eq!(s.entries.len(), 5_000);
    assert!(s.own_findings().is_empty(), "{:?}", s.own_findings());
    for (i, e) in s.entries.iter().enumerate() {
        assert_eq!(e.at, at(&format!("Document/BkToCstmrStmt/Stmt[1]/Ntry[{}]", i + 1)));
    }
    assert!(s.entries.iter().any(|e| e.fee_minor.is_some()));
    // An error in the second half is the one-pass reader's error.
    let text = String::from_utf8_lossy(&bytes);
    let at_4000 = text.match_indices("<Ntry>").nth(3_999).unwrap().0;
    let broken =
        format!("{}{}", &text[..at_4000], text[at_4000..].replacen("<CdtDbtInd>", "<CdtDbtInd>X", 1));
    let ind = at_4000 + broken[at_4000..].find("<CdtDbtInd>X").unwrap() + "<CdtDbtInd>".len();
    assert_eq!(
        error(broken.as_bytes()),
        StatementError {
            at: at("Document/BkToCstmrStmt/Stmt[1]/Ntry[4000]/CdtDbtInd"),
            field: "CdtDbtInd".into(),
            problem: StatementProblem::BadValue { text: broken[ind..ind + 5].to_owned() },
        }
    );
}
