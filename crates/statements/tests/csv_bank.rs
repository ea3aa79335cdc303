//! Chinese bank CSV exports: 招商银行 (UTF-8 with BOM and title rows), 工商银行
//! (GBK, 借方/贷方发生额, two accounts), 网商银行 (signed amounts, sub-accounts,
//! newest first), and a mapping of one's own.

// Helpers of a test file: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};
use statements::{
    CsvAmount, CsvEncoding, CsvMapping, Location, ParseOptions, StatementBalance, StatementError,
    StatementFinding, StatementFormat, StatementProblem, detect, parse, presets,
};

const CMB: &[u8] = include_bytes!("fixtures/cmb_utf8_bom.csv");
const ICBC_GBK: &[u8] = include_bytes!("fixtures/icbc_gbk.csv");
const MYBANK: &[u8] = include_bytes!("fixtures/mybank.csv");

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok()
}

fn line(line: u32) -> Location {
    Location::Line { line }
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..6])
}

fn preset(name: &str) -> CsvMapping {
    presets().into_iter().find(|(n, _)| *n == name).unwrap().1
}

fn error(bytes: &[u8], opts: &ParseOptions) -> StatementError {
    parse(bytes, opts).unwrap_err()
}

#[test]
fn presets_are_three_banks_at_least() {
    let names: Vec<&str> = presets().into_iter().map(|(n, _)| n).collect();
    for want in ["cmb", "icbc", "mybank"] {
        assert!(names.contains(&want), "{names:?}");
    }
}

#[test]
fn detects_bank_exports() {
    assert_eq!(detect(CMB), Some(StatementFormat::BankCsv));
    assert_eq!(detect(ICBC_GBK), Some(StatementFormat::BankCsv), "GBK header");
    assert_eq!(detect(MYBANK), Some(StatementFormat::BankCsv));
    assert_eq!(detect("日期,金额\n2026-11-24,1.00\n".as_bytes()), None, "no preset has these columns");
}

#[test]
fn cmb_with_bom_title_rows_and_footer() {
    let all = parse(CMB, &ParseOptions::default()).unwrap();
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(s.format, StatementFormat::BankCsv);
    assert_eq!(s.account, "755912345610101", "from the title row 账号：…");
    assert_eq!(s.currency, "CNY", "币种：人民币");
    assert_eq!(s.statement_id, format!("csv:755912345610101:2026-11-24:2026-11-24:{}", digest(CMB)));
    assert_eq!(s.opening, Some(StatementBalance { amount_minor: 20_000_000, date: day(2026, 11, 24) }));
    assert_eq!(s.closing, Some(StatementBalance { amount_minor: 21_238_817, date: day(2026, 11, 24) }));
    assert!(s.own_findings().is_empty(), "{:?}", s.own_findings());
    assert_eq!(s.entries.len(), 3, "合计 row skipped");
    let e = &s.entries[0];
    assert_eq!(e.at, line(5));
    assert_eq!(e.amount_minor, 1_288_800, "thousands separators");
    assert_eq!(e.booking_date, day(2026, 11, 24));
    assert_eq!(e.value_date, Some(day(2026, 11, 24)));
    assert_eq!(e.booked_at, at("2026-11-24 09:15:32"));
    assert_eq!(e.bank_ref, "K2026112400000101");
    assert_eq!(e.bank_code.as_deref(), Some("货款"), "摘要");
    assert_eq!(e.counterparty_name.as_deref(), Some("上海启明贸易有限公司"));
    assert_eq!(e.counterparty_account.as_deref(), Some("6222020200112233445"), "Excel's tab dropped");
    assert_eq!(s.entries[1].amount_minor, -50_000, "借方金额 is money out");
    assert_eq!(s.entries[2].counterparty_name, None);
}

#[test]
fn icbc_gbk_two_accounts() {
    let as_utf8 = encoding_rs::UTF_8.decode_without_bom_handling_and_without_replacement(ICBC_GBK);
    assert!(as_utf8.is_none(), "the fixture is GBK bytes");
    let all = parse(ICBC_GBK, &ParseOptions::default()).unwrap();
    assert_eq!(all.len(), 2, "one statement per 本方账号");
    let a = &all[0];
    assert_eq!(a.account, "1001234509000012345");
    assert_eq!(a.entries.len(), 3);
    assert_eq!(a.opening, Some(StatementBalance { amount_minor: 5_000_000, date: day(2026, 11, 24) }));
    assert_eq!(a.closing, Some(StatementBalance { amount_minor: 5_679_800, date: day(2026, 11, 25) }));
    assert_eq!((a.from, a.to), (Some(day(2026, 11, 24)), Some(day(2026, 11, 25))));
    assert!(a.own_findings().is_empty(), "{:?}", a.own_findings());
    let e = &a.entries[0];
    assert_eq!(e.amount_minor, 800_000, "贷方发生额");
    assert_eq!(e.booked_at, at("2026-11-24 09:15:32"), "交易时间 holds date and time");
    assert_eq!(e.bank_ref, "ICBC0001", "凭证号");
    assert_eq!(e.remittance.as_deref(), Some("货款"), "用途");
    assert_eq!(e.bank_code.as_deref(), Some("跨行汇入"));
    assert_eq!(e.counterparty_name.as_deref(), Some("上海启明贸易有限公司"));
    assert_eq!(a.entries[1].amount_minor, -120_000, "借方发生额");
    assert_eq!(a.entries[2].at, line(5));
    let b = &all[1];
    assert_eq!(b.account, "1001234509000012346");
    assert_eq!(b.opening.map(|x| x.amount_minor), Some(100_000));
    assert_eq!(b.entries[0].at, line(4));
    assert!(b.statement_id.starts_with("csv:1001234509000012346:2026-11-24:2026-11-24:"));

    // Read as GBK explicitly: the same.
    let gbk = ParseOptions {
        mapping: Some(CsvMapping { encoding: CsvEncoding::Gbk, ..preset("icbc") }),
        ..Default::default()
    };
    assert_eq!(parse(ICBC_GBK, &gbk).unwrap(), all);
    // Read as UTF-8: refused at the first line.
    let utf8 = ParseOptions {
        mapping: Some(CsvMapping { encoding: CsvEncoding::Utf8, ..preset("icbc") }),
        ..Default::default()
    };
    assert_eq!(
        error(ICBC_GBK, &utf8),
        StatementError {
            at: line(1),
            field: String::new(),
            problem: StatementProblem::Encoding { encoding: "UTF-8".into() }
        }
    );
    // Bytes that are not GBK either, on line 6.
    let mut broken = ICBC_GBK.to_vec();
    broken.extend_from_slice(
        b"ICBC0005,1001234509000012345,,2026-11-25 01:00:00,\x81\x20,1.00,,,x,,,56797.00,\r\n",
    );
    assert_eq!(
        error(&broken, &ParseOptions::default()),
        StatementError {
            at: line(6),
            field: String::new(),
            problem: StatementProblem::Encoding { encoding: "GBK".into() }
        }
    );
}

#[test]
fn mybank_newest_first_with_sub_accounts() {
    assert_eq!(
        error(MYBANK, &ParseOptions::default()),
        StatementError { at: Location::File, field: "账号".into(), problem: StatementProblem::Missing },
        "no account column, no title row, no option"
    );
    let opts = ParseOptions { account: Some("8888 0001 0002".into()), ..Default::default() };
    let s = parse(MYBANK, &opts).unwrap().remove(0);
    assert_eq!(s.account, "888800010002");
    assert_eq!(
        s.opening.map(|b| b.amount_minor),
        Some(300_000),
        "the oldest (last) row's balance less its amount"
    );
    assert_eq!(s.closing.map(|b| b.amount_minor), Some(150_000), "the newest (first) row's balance");
    assert!(s.own_findings().is_empty(), "{:?}", s.own_findings());
    assert_eq!(s.entries[0].amount_minor, -500_000, "signed 交易金额");
    assert_eq!(s.entries[0].addressed_account, None);
    assert_eq!(s.entries[1].addressed_account.as_deref(), Some("88880001000200002"), "子账号");
    assert_eq!(s.entries[1].remittance.as_deref(), Some("充值"));
    assert_eq!(s.entries[2].booked_at, at("2026-11-24 08:00:00"));
}

#[test]
fn a_bad_amount_names_line_and_column() {
    let text = std::str::from_utf8(CMB).unwrap().replace("\"12,888.00\"", "\"12,88.00\"");
    assert_eq!(
        error(text.as_bytes(), &ParseOptions::default()),
        StatementError {
            at: line(5),
            field: "贷方金额".into(),
            problem: StatementProblem::BadAmount { text: "12,88.00".into() }
        }
    );
    let text = std::str::from_utf8(CMB).unwrap().replace(",500.00,", ",500.001,");
    assert_eq!(
        error(text.as_bytes(), &ParseOptions::default()),
        StatementError {
            at: line(6),
            field: "借方金额".into(),
            problem: StatementProblem::BadAmount { text: "500.001".into() }
        }
    );
    let text = std::str::from_utf8(CMB).unwrap().replace("20261124,10:01:07", "2026112,10:01:07");
    assert_eq!(
        error(text.as_bytes(), &ParseOptions::default()),
        StatementError {
            at: line(6),
            field: "交易日".into(),
            problem: StatementProblem::BadDate { text: "2026112".into() }
        }
    );
}

#[test]
fn a_missing_column_is_named_at_the_header() {
    let text = std::str::from_utf8(CMB).unwrap().replace(",流水号,", ",编号,");
    let opts = ParseOptions { mapping: Some(preset("cmb")), ..Default::default() };
    assert_eq!(
        error(text.as_bytes(), &opts),
        StatementError {
            at: line(4),
            field: "流水号|交易流水号".into(),
            problem: StatementProblem::MissingColumn { column: "流水号|交易流水号".into() }
        }
    );
    // Not detected as any bank's export…
    assert_eq!(error(text.as_bytes(), &ParseOptions::default()).problem, StatementProblem::UnknownFormat);
    // …but told it is one, the nearest preset says what it misses.
    let as_csv = ParseOptions { format: Some(StatementFormat::BankCsv), ..Default::default() };
    assert_eq!(
        error(text.as_bytes(), &as_csv).problem,
        StatementProblem::MissingColumn { column: "流水号|交易流水号".into() }
    );
}

#[test]
fn a_mapping_of_ones_own() {
    let mapping = CsvMapping {
        date: "日期".into(),
        time: None,
        value_date: None,
        summary: Some("摘要".into()),
        amount: CsvAmount::Directed { column: "金额".into(), direction: "借贷标志".into() },
        balance: None,
        counterparty_name: None,
        counterparty_account: None,
        counterparty: Some("对方信息".into()),
        remittance: None,
        bank_ref: None,
        account: None,
        sub_account: None,
        currency: Some("币种".into()),
        default_currency: "CNY".into(),
        encoding: CsvEncoding::Utf8,
        delimiter: b'\t',
    };
    // Mappings are stored as JSON settings.
    let json = serde_json::to_string(&mapping).unwrap();
    assert_eq!(serde_json::from_str::<CsvMapping>(&json).unwrap(), mapping);
    let minimal: CsvMapping =
        serde_json::from_str(r#"{"date":"日期","amount":{"kind":"signed","column":"金额"}}"#).unwrap();
    assert_eq!(
        (minimal.encoding, minimal.delimiter, minimal.default_currency.as_str()),
        (CsvEncoding::Auto, b',', "CNY")
    );

    let file = "日期\t摘要\t金额\t借贷标志\t对方信息\t币种\n\
                2026/11/24\t转账\t100.00\t贷\t张三 6222020200112233445\t人民币\n\
                2026/11/25\t代发\t30.50\t借\t6222020200998877665/李四\t人民币\n";
    let opts = ParseOptions {
        mapping: Some(mapping.clone()),
        account: Some("755912345610101".into()),
        ..Default::default()
    };
    let s = parse(file.as_bytes(), &opts).unwrap().remove(0);
    let id = format!("csv:755912345610101:2026-11-24:2026-11-25:{}", digest(file.as_bytes()));
    assert_eq!(s.statement_id, id);
    assert_eq!(s.own_findings(), vec![StatementFinding::NoBalances]);
    let e = &s.entries;
    assert_eq!((e[0].amount_minor, e[1].amount_minor), (10_000, -3_050));
    assert_eq!(e[0].counterparty_name.as_deref(), Some("张三"));
    assert_eq!(e[0].counterparty_account.as_deref(), Some("6222020200112233445"));
    assert_eq!(e[1].counterparty_name.as_deref(), Some("李四"));
    assert_eq!(e[0].bank_ref, format!("{id}#1"), "no 流水号 column: synthesized");
    assert_eq!(e[1].bank_ref, format!("{id}#2"));

    let usd = file.replace("贷\t张三 6222020200112233445\t人民币", "贷\t张三\t美元");
    assert_eq!(
        error(usd.as_bytes(), &opts),
        StatementError {
            at: line(3),
            field: "币种".into(),
            problem: StatementProblem::Currency { expected: "USD".into(), found: "CNY".into() }
        }
    );
    let sideways = file.replace("\t借\t", "\t平\t");
    assert_eq!(
        error(sideways.as_bytes(), &opts),
        StatementError {
            at: line(3),
            field: "借贷标志".into(),
            problem: StatementProblem::BadValue { text: "平".into() }
        }
    );
}

#[test]
fn synthetic_export_adds_up() {
    let bytes = statements::synth_bank_csv(2_000, 3);
    assert_eq!(detect(&bytes), Some(StatementFormat::BankCsv));
    let s = parse(&bytes, &ParseOptions::default()).unwrap().remove(0);
    assert_eq!(s.entries.len(), 2_000);
    assert!(s.own_findings().is_empty(), "{:?}", s.own_findings());
}
