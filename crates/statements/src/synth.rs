//! Deterministic synthetic statement files for benchmarks and tests: realistic
//! values, balances that add up.

use std::fmt::Write;

use chrono::{Duration, NaiveDate};

use crate::amount::format_minor;

/// splitmix64: small, deterministic, good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const PAYERS: [&str; 12] = [
    "上海启明贸易有限公司",
    "深圳市华南电子科技有限公司",
    "北京佳和餐饮管理有限公司",
    "杭州云帆网络技术有限公司",
    "广州市越秀区小林便利店",
    "成都锦江物流有限公司",
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "赵磊",
];
const PAYEES: [&str; 6] = [
    "支付宝（中国）网络技术有限公司",
    "财付通支付科技有限公司",
    "国家税务总局上海市税务局",
    "上海电力公司",
    "中国移动通信集团上海有限公司",
    "苏州工业园区仓储服务有限公司",
];
const OUR_ACCOUNT: &str = "755912345610101";
const START: (i32, u32, u32) = (2026, 11, 1);

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(START.0, START.1, START.2).unwrap_or_default()
}

/// A domestic-looking account number (19 digits, card-like, or 15 corporate).
fn account_number(rng: &mut Rng) -> String {
    if rng.below(2) == 0 {
        format!("6222{:015}", rng.below(1_000_000_000_000_000))
    } else {
        format!("31{:013}", rng.below(10_000_000_000_000))
    }
}

/// One synthetic row: day offset, signed amount, counterparty, reference.
struct Row {
    day: i64,
    amount: i64,
    name: &'static str,
    account: String,
    fee: Option<i64>,
    order: u64,
}

fn rows(count: usize, seed: u64) -> (i64, Vec<Row>) {
    let mut rng = Rng(seed ^ 0x5EED_0000_0000_0000);
    let days = (count / 30_000).clamp(1, 28) as i64;
    let opening = 50_000_000 + rng.below(1_000_000_000) as i64;
    let rows = (0..count)
        .map(|i| {
            let credit = rng.below(10) < 7;
            let amount =
                if credit { 100 + rng.below(500_000) as i64 } else { -(1_000 + rng.below(2_000_000) as i64) };
            let name = if credit { rng.pick(&PAYERS) } else { rng.pick(&PAYEES) };
            let fee = (!credit && rng.below(5) == 0).then(|| 200 + rng.below(800) as i64);
            Row {
                day: (i as i64 * days) / count.max(1) as i64,
                amount,
                name,
                account: account_number(&mut rng),
                fee,
                order: 10_000_000 + rng.below(90_000_000),
            }
        })
        .collect();
    (opening, rows)
}

/// A camt.053.001.08 statement with `entries` entries (about 1.1 KB each): credits
/// from customers with end-to-end ids, debtor accounts and unstructured
/// remittance, debits to suppliers some with charges; opening + Σ entries =
/// closing.
pub fn synth_camt053(entries: usize, seed: u64) -> Vec<u8> {
    let (opening, rows) = rows(entries, seed);
    let sum: i64 = rows.iter().map(|r| r.amount).sum();
    let closing = opening + sum;
    let first = start();
    let last = first + Duration::days(rows.last().map_or(0, |r| r.day));
    let mut x = String::with_capacity(2_048 + entries * 1_150);
    let cd = |v: i64| if v < 0 { "DBIT" } else { "CRDT" };
    let _ = write!(
        x,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>SYN{seed}</MsgId>
      <CreDtTm>{last}T23:59:59+08:00</CreDtTm>
    </GrpHdr>
    <Stmt>
      <Id>SYN-STMT-{seed}</Id>
      <ElctrncSeqNb>{seq}</ElctrncSeqNb>
      <CreDtTm>{last}T23:59:59+08:00</CreDtTm>
      <FrToDt>
        <FrDtTm>{first}T00:00:00+08:00</FrDtTm>
        <ToDtTm>{last}T23:59:59+08:00</ToDtTm>
      </FrToDt>
      <Acct>
        <Id>
          <Othr>
            <Id>{OUR_ACCOUNT}</Id>
          </Othr>
        </Id>
        <Ccy>CNY</Ccy>
        <Svcr>
          <FinInstnId>
            <BICFI>CMBCCNBS</BICFI>
          </FinInstnId>
        </Svcr>
      </Acct>
      <Bal>
        <Tp>
          <CdOrPrtry>
            <Cd>OPBD</Cd>
          </CdOrPrtry>
        </Tp>
        <Amt Ccy="CNY">{open_abs}</Amt>
        <CdtDbtInd>{open_cd}</CdtDbtInd>
        <Dt>
          <Dt>{first}</Dt>
        </Dt>
      </Bal>
      <Bal>
        <Tp>
          <CdOrPrtry>
            <Cd>CLBD</Cd>
          </CdOrPrtry>
        </Tp>
        <Amt Ccy="CNY">{close_abs}</Amt>
        <CdtDbtInd>{close_cd}</CdtDbtInd>
        <Dt>
          <Dt>{last}</Dt>
        </Dt>
      </Bal>
"#,
        seq = seed % 1000 + 1,
        open_abs = format_minor(opening.abs()),
        open_cd = cd(opening),
        close_abs = format_minor(closing.abs()),
        close_cd = cd(closing),
    );
    for (i, r) in rows.iter().enumerate() {
        let day = first + Duration::days(r.day);
        let n = i + 1;
        let (family, sub) = if r.amount > 0 { ("RCDT", "DMCT") } else { ("ICDT", "DMCT") };
        let _ = write!(
            x,
            r#"      <Ntry>
        <Amt Ccy="CNY">{amt}</Amt>
        <CdtDbtInd>{cd}</CdtDbtInd>
        <Sts>
          <Cd>BOOK</Cd>
        </Sts>
        <BookgDt>
          <Dt>{day}</Dt>
        </BookgDt>
        <ValDt>
          <Dt>{day}</Dt>
        </ValDt>
        <AcctSvcrRef>K{seed:04}{n:012}</AcctSvcrRef>
        <BkTxCd>
          <Domn>
            <Cd>PMNT</Cd>
            <Fmly>
              <Cd>{family}</Cd>
              <SubFmlyCd>{sub}</SubFmlyCd>
            </Fmly>
          </Domn>
        </BkTxCd>
"#,
            amt = format_minor(r.amount.abs()),
            cd = cd(r.amount),
        );
        if let Some(fee) = r.fee {
            let _ = write!(
                x,
                r#"        <Chrgs>
          <TtlChrgsAndTaxAmt Ccy="CNY">{fee}</TtlChrgsAndTaxAmt>
          <Rcrd>
            <Amt Ccy="CNY">{fee}</Amt>
            <CdtDbtInd>DBIT</CdtDbtInd>
          </Rcrd>
        </Chrgs>
"#,
                fee = format_minor(fee),
            );
        }
        let (party, party_acct, remit) = if r.amount > 0 {
            ("Dbtr", "DbtrAcct", format!("订单 ORD{} 货款", r.order))
        } else {
            ("Cdtr", "CdtrAcct", format!("付款 PAY{} 服务费", r.order))
        };
        let _ = write!(
            x,
            r#"        <NtryDtls>
          <TxDtls>
            <Refs>
              <EndToEndId>E2E{order}</EndToEndId>
            </Refs>
            <RltdPties>
              <{party}>
                <Pty>
                  <Nm>{name}</Nm>
                </Pty>
              </{party}>
              <{party_acct}>
                <Id>
                  <Othr>
                    <Id>{acct}</Id>
                  </Othr>
                </Id>
              </{party_acct}>
            </RltdPties>
            <RmtInf>
              <Ustrd>{remit}</Ustrd>
            </RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
"#,
            order = r.order,
            name = r.name,
            acct = r.account,
        );
    }
    x.push_str("    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n");
    x.into_bytes()
}

/// A 招商银行-style (preset `cmb`) UTF-8 CSV export with two title rows, a header
/// and `lines` transaction rows whose 余额 column adds up from the opening balance.
pub fn synth_bank_csv(lines: usize, seed: u64) -> Vec<u8> {
    let (opening, rows) = rows(lines, seed);
    let mut x = String::with_capacity(256 + lines * 150);
    x.push_str("招商银行交易明细\n");
    let _ = writeln!(x, "账号：{OUR_ACCOUNT},币种：人民币");
    x.push_str(
        "交易日,交易时间,起息日,交易类型,借方金额,贷方金额,余额,摘要,流水号,收/付方名称,收/付方帐号\n",
    );
    let mut balance = opening;
    let first = start();
    let mut rng = Rng(seed.rotate_left(17));
    for (i, r) in rows.iter().enumerate() {
        balance += r.amount;
        let day = (first + Duration::days(r.day)).format("%Y%m%d");
        let secs = rng.below(86_400);
        let (debit, credit, kind, summary) = if r.amount < 0 {
            (format_minor(-r.amount), String::new(), "转账支出", "付款")
        } else {
            (String::new(), format_minor(r.amount), "转账收入", "货款")
        };
        let _ = writeln!(
            x,
            "{day},{:02}:{:02}:{:02},{day},{kind},{debit},{credit},{},{summary},K{seed:04}{:012},{},{}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            format_minor(balance),
            i + 1,
            r.name,
            r.account,
        );
    }
    x.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        assert_eq!(synth_camt053(10, 7), synth_camt053(10, 7));
        assert_ne!(synth_bank_csv(10, 7), synth_bank_csv(10, 8));
    }
}
