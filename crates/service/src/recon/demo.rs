//! Demo data of the suspense area, generated together with its ground truth: our
//! items (orders paid through a channel, expected payments into sub-accounts,
//! refunds) and a camt.053 statement of the same day with the noise real files
//! have — fees deducted, dates ±2 days, split and combined payments, typos in
//! names, a returned payment, a shortage, an overage — plus a resent file and a
//! statement that does not add up. The truth says which lines match which items,
//! so the matching quality is measured, not assumed.

use super::{ReconService, audit};
use crate::error::Result;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::ledger::business_date;
use domain::suspense::OurKind;
use std::fmt::Write as _;
use store::{OurItemRow, day_number};
use uuid::Uuid;

/// A deterministic generator (the demo is the same on every machine).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

const PAYERS: &[&str] = &[
    "杭州甲商贸有限公司",
    "宁波乙供应链有限公司",
    "上海丙信息技术有限公司",
    "苏州丁电子科技有限公司",
    "广州戊餐饮管理有限公司",
    "深圳己物流有限公司",
    "北京庚文化传媒有限公司",
    "成都辛建材有限公司",
];

/// One generated bank line.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoLine {
    /// Bank reference.
    pub bank_ref: String,
    /// Signed amount (fen).
    pub amount_minor: i64,
    /// Booking day.
    pub day: NaiveDate,
    /// Payer or payee.
    pub name: String,
    /// Virtual number addressed.
    pub addressed: Option<String>,
    /// Remittance.
    pub remittance: String,
    /// Return reason.
    pub return_reason: Option<String>,
}

/// A generated day: our items, the statement lines, and which items each line truly pays.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DemoSet {
    /// Our items.
    pub items: Vec<OurItemRow>,
    /// Statement lines.
    pub lines: Vec<DemoLine>,
    /// Ground truth: (bank reference, the items it pays). Lines without a true
    /// match (overage, return) are absent.
    pub truth: Vec<(String, Vec<Uuid>)>,
}

fn item(
    physical_id: Uuid,
    kind: OurKind,
    amount_minor: i64,
    day: NaiveDate,
    reference: String,
    name: &str,
    now: DateTime<Utc>,
) -> OurItemRow {
    OurItemRow {
        id: Uuid::now_v7(),
        physical_id,
        kind,
        amount_minor,
        open_minor: amount_minor,
        date_from: day_number(day - Duration::days(1)),
        date_to: day_number(day + Duration::days(2)),
        reference,
        counterparty_name: Some(name.to_owned()),
        virtual_number: None,
        account_id: None,
        expected_fee_minor: 0,
        state: "open".to_owned(),
        created_at: now,
    }
}

/// A typo: one character of the name replaced by a look-alike.
fn typo(name: &str, rng: &mut Lcg) -> String {
    let chars: Vec<char> = name.chars().collect();
    let at = 2 + rng.next(chars.len().saturating_sub(6).max(1) as u64) as usize;
    chars.iter().enumerate().map(|(i, c)| if i == at { '茂' } else { *c }).collect()
}

/// Generates `orders` paid orders (and proportionally the rest) for `day`.
/// `wallets` are (sub-account id, virtual number, holder name) of the physical account.
pub fn generate(
    seed: u64,
    orders: usize,
    physical_id: Uuid,
    wallets: &[(Uuid, String, String)],
    day: NaiveDate,
    now: DateTime<Utc>,
) -> DemoSet {
    let mut rng = Lcg(seed);
    let mut set = DemoSet::default();
    let mut n = 0u32;
    let mut next_ref = || {
        n += 1;
        format!("MYB{:010}", n)
    };
    // Our side's dates differ from the bank's booking day by up to two days.
    let jitter = |rng: &mut Lcg| day + Duration::days(rng.next(5) as i64 - 2);
    for k in 0..orders {
        let name = PAYERS[rng.next(PAYERS.len() as u64) as usize];
        let amount = 5_000 + rng.next(500_000) as i64;
        let reference = format!("ORD{:08}", 10_000 + k);
        let i = item(physical_id, OurKind::OrderPaid, amount, jitter(&mut rng), reference.clone(), name, now);
        let bank_ref = next_ref();
        match k % 20 {
            // Fee deducted by the paying bank: close, not equal.
            3 => set.lines.push(DemoLine {
                bank_ref: bank_ref.clone(),
                amount_minor: amount - 60,
                day,
                name: name.into(),
                addressed: None,
                remittance: reference.clone(),
                return_reason: None,
            }),
            // No reference, a typo in the name: amount, date and name only.
            7 => set.lines.push(DemoLine {
                bank_ref: bank_ref.clone(),
                amount_minor: amount,
                day,
                name: typo(name, &mut rng),
                addressed: None,
                remittance: "货款".into(),
                return_reason: None,
            }),
            // Shortage: the channel said paid, the money never came (window passed).
            11 => {
                let mut short = i;
                short.date_from = day_number(day - Duration::days(5));
                short.date_to = day_number(day - Duration::days(3));
                set.items.push(short);
                continue;
            }
            _ => set.lines.push(DemoLine {
                bank_ref: bank_ref.clone(),
                amount_minor: amount,
                day,
                name: name.into(),
                addressed: None,
                remittance: format!("支付 {reference}"),
                return_reason: None,
            }),
        }
        set.truth.push((bank_ref, vec![i.id]));
        set.items.push(i);
    }
    // Expected payments into sub-accounts: the virtual number routes them.
    for (k, (account, number, holder)) in wallets.iter().enumerate().take(orders / 4 + 1) {
        let amount = 100_000 + rng.next(1_000_000) as i64;
        let mut i = item(
            physical_id,
            OurKind::ExpectedIn,
            amount,
            jitter(&mut rng),
            format!("DEP{:06}", k),
            holder,
            now,
        );
        i.virtual_number = Some(number.clone());
        i.account_id = Some(*account);
        let bank_ref = next_ref();
        set.lines.push(DemoLine {
            bank_ref: bank_ref.clone(),
            amount_minor: amount,
            day,
            name: holder.clone(),
            addressed: Some(number.clone()),
            remittance: "保证金".into(),
            return_reason: None,
        });
        set.truth.push((bank_ref, vec![i.id]));
        set.items.push(i);
    }
    // A split payment: one expected 10,000.00 paid as 6,000 + 4,000.
    let split = item(physical_id, OurKind::OrderPaid, 1_000_000, day, "ORD99000001".into(), PAYERS[0], now);
    for part in [600_000, 400_000] {
        let bank_ref = next_ref();
        set.lines.push(DemoLine {
            bank_ref: bank_ref.clone(),
            amount_minor: part,
            day,
            name: PAYERS[0].into(),
            addressed: None,
            remittance: "ORD99000001".into(),
            return_reason: None,
        });
        set.truth.push((bank_ref, vec![split.id]));
    }
    set.items.push(split);
    // A combined payment: three orders of one payer in one transfer.
    let combined: Vec<OurItemRow> = (0..3)
        .map(|k| {
            item(
                physical_id,
                OurKind::OrderPaid,
                12_300 * (k + 1),
                day,
                format!("ORD9900010{k}"),
                PAYERS[1],
                now,
            )
        })
        .collect();
    let bank_ref = next_ref();
    set.lines.push(DemoLine {
        bank_ref: bank_ref.clone(),
        amount_minor: combined.iter().map(|i| i.amount_minor).sum(),
        day,
        name: PAYERS[1].into(),
        addressed: None,
        remittance: "合并付款".into(),
        return_reason: None,
    });
    set.truth.push((bank_ref, combined.iter().map(|i| i.id).collect()));
    set.items.extend(combined);
    // A refund we sent, and the bank returning it (account closed).
    let refund = item(physical_id, OurKind::RefundOut, -88_800, day, "RFD00000001".into(), PAYERS[2], now);
    let bank_ref = next_ref();
    set.lines.push(DemoLine {
        bank_ref: bank_ref.clone(),
        amount_minor: -88_800,
        day,
        name: PAYERS[2].into(),
        addressed: None,
        remittance: "RFD00000001".into(),
        return_reason: None,
    });
    set.truth.push((bank_ref, vec![refund.id]));
    set.items.push(refund);
    set.lines.push(DemoLine {
        bank_ref: next_ref(),
        amount_minor: 88_800,
        day,
        name: PAYERS[2].into(),
        addressed: None,
        remittance: "退票 RFD00000001".into(),
        return_reason: Some("AC04".into()),
    });
    // An overage: money nobody expected.
    set.lines.push(DemoLine {
        bank_ref: next_ref(),
        amount_minor: 123_456,
        day,
        name: "张三".into(),
        addressed: None,
        remittance: "转账".into(),
        return_reason: None,
    });
    set
}

/// A camt.053.001.02 statement of `lines` (the format most banks send abroad and
/// many Chinese banks offer). `closing_error_minor` makes it not add up.
pub fn camt053(
    statement_id: &str,
    sequence: u64,
    account: &str,
    day: NaiveDate,
    opening_minor: i64,
    lines: &[DemoLine],
    closing_error_minor: i64,
) -> Vec<u8> {
    let amount = |m: i64| format!("{}.{:02}", m.abs() / 100, m.abs() % 100);
    let side = |m: i64| if m < 0 { "DBIT" } else { "CRDT" };
    let closing = opening_minor + lines.iter().map(|l| l.amount_minor).sum::<i64>() + closing_error_minor;
    let mut x = String::new();
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\
         <BkToCstmrStmt><GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{day}T23:00:00</CreDtTm></GrpHdr>\
         <Stmt><Id>{statement_id}</Id><ElctrncSeqNb>{sequence}</ElctrncSeqNb><CreDtTm>{day}T23:00:00</CreDtTm>\
         <Acct><Id><Othr><Id>{account}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>"
    );
    for (code, m) in [("OPBD", opening_minor), ("CLBD", closing)] {
        let _ = write!(
            x,
            "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"CNY\">{}</Amt><CdtDbtInd>{}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>",
            amount(m),
            side(m)
        );
    }
    for l in lines {
        let party = if l.amount_minor < 0 { "Cdtr" } else { "Dbtr" };
        let _ = write!(
            x,
            "<Ntry><Amt Ccy=\"CNY\">{}</Amt><CdtDbtInd>{}</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{}</Dt></BookgDt>\
             <ValDt><Dt>{}</Dt></ValDt><AcctSvcrRef>{}</AcctSvcrRef>\
             <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{}</Cd><SubFmlyCd>OTHR</SubFmlyCd></Fmly></Domn></BkTxCd>\
             <NtryDtls><TxDtls><RltdPties><{party}><Nm>{}</Nm></{party}>",
            amount(l.amount_minor),
            side(l.amount_minor),
            l.day,
            l.day,
            l.bank_ref,
            if l.amount_minor < 0 { "ICDT" } else { "RCDT" },
            l.name
        );
        if let Some(number) = &l.addressed {
            let _ = write!(x, "<CdtrAcct><Id><Othr><Id>{number}</Id></Othr></Id></CdtrAcct>");
        }
        let _ = write!(x, "</RltdPties><RmtInf><Ustrd>{}</Ustrd></RmtInf>", l.remittance);
        if let Some(reason) = &l.return_reason {
            let _ = write!(x, "<RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf>");
        }
        x.push_str("</TxDtls></NtryDtls></Ntry>");
    }
    x.push_str("</Stmt></BkToCstmrStmt></Document>\n");
    x.into_bytes()
}

impl ReconService {
    /// Seeds the demo of the suspense area (once): our items, yesterday's
    /// statement imported and reconciled, and in `dir` the files a person can
    /// import by hand (a resent statement, one that does not add up).
    pub async fn seed_demo(&self, anchor: DateTime<Utc>, dir: &std::path::Path) -> Result<()> {
        let physicals = self.store.physical_accounts().await?;
        let (Some(mybank), Some(other)) = (physicals.first(), physicals.get(1)) else { return Ok(()) };
        if !self.store.open_our_items(mybank.id).await?.is_empty() {
            return Ok(());
        }
        let day = business_date(anchor) - Duration::days(1);
        let tops = self.store.virtual_children(mybank.id, None, None, 50).await?;
        let mut leaves = Vec::new();
        for top in &tops {
            for v in self.store.virtual_children(mybank.id, Some(top.id), None, 8).await? {
                leaves.push((v.id, v.number, v.owner_name));
            }
        }
        let set = generate(20261124, 40, mybank.id, &leaves, day, anchor);
        let detail = serde_json::json!({ "items": set.items.len() });
        self.store
            .insert_our_items(
                &set.items,
                audit(anchor, "system", "recon.demo_items", format!("physical:{}", mybank.id), detail),
            )
            .await?;
        let statement_id = format!("STMT-{}", day.format("%Y%m%d"));
        let opening = self.store.physical_totals(mybank.id).await?.asset_minor;
        let file = camt053(&statement_id, 101, &mybank.number, day, opening, &set.lines, 0);
        self.import_bytes("system", "demo-camt053.xml", &file, None, None, false, false, anchor).await?;
        self.reconcile("system", day, Some(mybank.id), false, anchor).await?;
        // Files for a person to try: the same statement resent with one more line,
        // and another account's statement that is 1.00 off.
        let mut resent = set.lines.clone();
        resent.push(DemoLine {
            bank_ref: "MYB9999999999".into(),
            amount_minor: 50_000,
            day,
            name: "李四".into(),
            addressed: None,
            remittance: "补发".into(),
            return_reason: None,
        });
        let resent = camt053(&statement_id, 101, &mybank.number, day, opening, &resent, 0);
        let odd =
            camt053(&format!("CZ-{}", day.format("%Y%m%d")), 7, &other.number, day, 0, &set.lines[..3], 100);
        if std::fs::create_dir_all(dir).is_ok() {
            // Best effort: the demo works without them.
            let _ = std::fs::write(dir.join("resent-camt053.xml"), resent);
            let _ = std::fs::write(dir.join("does-not-add-up-camt053.xml"), odd);
        }
        Ok(())
    }
}

/// Matching quality of the standard rule set on a generated day, against its truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quality {
    /// Lines with a true match.
    pub true_lines: usize,
    /// Lines confirmed automatically.
    pub confirmed_lines: usize,
    /// Of those, confirmed to exactly their true items.
    pub confirmed_right: usize,
    /// Lines only suggested.
    pub suggested_lines: usize,
    /// Of those, suggested with their true items.
    pub suggested_right: usize,
}

impl Quality {
    /// Share of automatic matches that are right (target 100 %).
    pub fn precision(&self) -> f64 {
        if self.confirmed_lines == 0 {
            1.0
        } else {
            self.confirmed_right as f64 / self.confirmed_lines as f64
        }
    }

    /// Share of lines with a true match that were confirmed rightly (target ≥ 95 %).
    pub fn recall(&self) -> f64 {
        if self.true_lines == 0 { 1.0 } else { self.confirmed_right as f64 / self.true_lines as f64 }
    }
}

/// Runs the standard rule set over a generated day and scores it against the truth.
pub fn quality(set: &DemoSet) -> Quality {
    use domain::recon::{BankLine, MatchStatus, RuleSet, plan};
    let ids: Vec<Uuid> = set.lines.iter().map(|_| Uuid::now_v7()).collect();
    let lines: Vec<BankLine> = set
        .lines
        .iter()
        .zip(&ids)
        .map(|(l, id)| BankLine {
            id: *id,
            amount_minor: l.amount_minor,
            booking_date: l.day,
            bank_ref: l.bank_ref.clone(),
            end_to_end: None,
            counterparty_name: Some(l.name.clone()),
            remittance: Some(l.remittance.clone()),
            addressed_account: l.addressed.clone(),
            our_ref: None,
            fee_minor: 0,
        })
        .collect();
    let items: Vec<_> = set.items.iter().map(super::run::our_item).collect();
    let by_line: std::collections::HashMap<Uuid, &str> =
        ids.iter().zip(&set.lines).map(|(id, l)| (*id, l.bank_ref.as_str())).collect();
    let truth: std::collections::HashMap<&str, std::collections::BTreeSet<Uuid>> =
        set.truth.iter().map(|(r, items)| (r.as_str(), items.iter().copied().collect())).collect();
    let planned = plan(&RuleSet::standard(), &lines, &items);
    let mut q = Quality { true_lines: truth.len(), ..Quality::default() };
    for m in &planned.matches {
        let items: std::collections::BTreeSet<Uuid> = m.items.iter().copied().collect();
        for line in &m.lines {
            let right = by_line.get(line).and_then(|r| truth.get(r)).is_some_and(|t| *t == items);
            if m.status == MatchStatus::Confirmed {
                q.confirmed_lines += 1;
                q.confirmed_right += usize::from(right);
            } else {
                q.suggested_lines += 1;
                q.suggested_right += usize::from(right);
            }
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_standard_rules_match_the_generated_day_with_no_wrong_automatic_match() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).single().unwrap_or_default();
        let wallets: Vec<(Uuid, String, String)> = (0..30)
            .map(|i| (Uuid::now_v7(), format!("8888100012345678{:06}", i + 1), format!("客户{i}")))
            .collect();
        let set = generate(
            11,
            400,
            Uuid::now_v7(),
            &wallets,
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default(),
            now,
        );
        let q = quality(&set);
        eprintln!("{q:?} precision {:.3} recall {:.3}", q.precision(), q.recall());
        assert_eq!(q.confirmed_right, q.confirmed_lines, "{q:?}");
        assert!(q.recall() >= 0.8, "{q:?}");
    }
}
