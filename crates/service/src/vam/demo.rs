//! Demo data of the virtual sub-account area, made through the same service calls
//! an operator's actions take (so every entry has its audit row): three physical
//! accounts — a 网商银行 platform account with user wallets, a 浙商银行 e-account
//! with order escrow and freezes, a 招商银行 bid-deposit account with reusable
//! sub-accounts — a year of credits, transfers and holds, unidentified credits, one
//! interest period ready to allocate, and notices waiting at the (simulated) bank.

use super::VamService;
use crate::error::Result;
use crate::gateway::CreditNotice;
use chrono::{DateTime, Duration, Utc};
use domain::VamOperation;
use domain::ledger::{AccountId, Bank, OwnerKind, VirtualPurpose};
use domain::money::Cny;
use domain::vam::VamOutcome;
use serde_json::json;
use store::{NewAudit, NewPhysical};
use uuid::Uuid;

/// The demo's physical accounts: (bank, number, purpose, 监管户, suffix digits).
pub const PHYSICAL: [(Bank, &str, &str, bool, u8); 3] = [
    (Bank::Mybank, "8888100012345678", "平台备付金（用户钱包）", true, 6),
    (Bank::Czbank, "3310010010120100123", "电子账户（订单托管）", true, 6),
    (Bank::Cmb, "755912345610801", "投标保证金专户", false, 4),
];

/// Names of the demo's merchant and internal owners (data, in Chinese in both languages).
pub const OWNER_NAMES: &[&str] = &[
    "平台运营",
    "杭州核心企业有限公司",
    "杭州甲商贸有限公司",
    "宁波乙供应链有限公司",
    "2026年11月工程招标",
    "投标人甲建设公司",
    "投标人乙工程公司",
    "投标人丙集团",
    "采购方",
    "网商银行",
];

/// Settings key of the demo's waiting notices.
const WAITING_KEY: &str = "vam.demo_waiting_notices";

/// A small deterministic generator (the demo is the same on every machine).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

fn credit(bank_ref: String, payee: &str, amount_minor: i64, payer: &str, at: DateTime<Utc>) -> CreditNotice {
    CreditNotice {
        bank_ref,
        payee_number: payee.to_owned(),
        amount_minor,
        payer_name: payer.to_owned(),
        booked_at: at,
        kind: "credit".into(),
    }
}

impl VamService {
    async fn open(
        &self,
        physical_id: Uuid,
        parent: Option<Uuid>,
        owner: (OwnerKind, Option<Uuid>, &str),
        purpose: VirtualPurpose,
        at: DateTime<Utc>,
    ) -> Result<(Uuid, String)> {
        let op = VamOperation::Open {
            physical_id,
            parent: parent.map(AccountId),
            owner_kind: owner.0,
            owner_id: owner.1,
            owner_name: owner.2.to_owned(),
            purpose,
        };
        let VamOutcome::Posted { id } = self.execute("system", op, None, None, at).await? else {
            return Err(crate::error::data_error("demo sub-account"));
        };
        let number = self.node(AccountId(id)).await?.number;
        Ok((id, number))
    }

    /// Seeds the demo ledger unless it has one; wallets go to the first demo
    /// customers. The notices still waiting at the bank are kept in the settings
    /// (demo databases only) for the simulator to serve.
    pub async fn seed_demo(&self, anchor: DateTime<Utc>) -> Result<()> {
        if !self.store.physical_accounts().await?.is_empty() {
            return Ok(());
        }
        let customers = self.store.customer_sample(24).await?;
        let mut rng = Lcg(20261101);
        let year_ago = anchor - Duration::days(365);
        let mut ids = Vec::new();
        for (bank, number, purpose, supervised, suffix_len) in PHYSICAL {
            let p = NewPhysical {
                id: Uuid::now_v7(),
                bank,
                number: number.into(),
                purpose: purpose.into(),
                supervised,
                suffix_len,
                asset_account: Uuid::now_v7(),
                main_account: Uuid::now_v7(),
                suspense_account: Uuid::now_v7(),
                interest_account: Uuid::now_v7(),
                created_at: year_ago,
            };
            let audit = NewAudit::new(
                year_ago,
                "system",
                "vam.physical",
                format!("physical:{}", p.id),
                json!({ "bank": bank }),
            );
            self.store.create_physical(&p, audit).await?;
            ids.push(p.id);
        }
        let mut waiting = Vec::new();
        let mut n_ref = 0_u32;
        let mut next_ref = |prefix: &str| {
            n_ref += 1;
            format!("{prefix}{:08}", n_ref)
        };

        // 网商银行: platform → user wallets, credits over a year.
        let mybank = ids[0];
        let (platform, _) = self
            .open(mybank, None, (OwnerKind::Internal, None, "平台运营"), VirtualPurpose::Internal, year_ago)
            .await?;
        let mut wallets = Vec::new();
        for (customer, name) in &customers {
            let at = year_ago + Duration::days(rng.next(30) as i64);
            let (id, number) = self
                .open(
                    mybank,
                    Some(platform),
                    (OwnerKind::Customer, Some(*customer), name),
                    VirtualPurpose::UserWallet,
                    at,
                )
                .await?;
            wallets.push((id, number, name.clone()));
        }
        for day in (0..360).step_by(9) {
            let at = year_ago + Duration::days(day + 30);
            let (_, number, name) = &wallets[rng.next(wallets.len() as u64) as usize];
            let amount = 10_000 + rng.next(500_000) as i64;
            self.book_credit(
                "system",
                mybank,
                &credit(next_ref("MY"), number, amount, name, at),
                None,
                None,
                at,
            )
            .await?;
            if day % 27 == 0 {
                let (from, _, _) = &wallets[rng.next(wallets.len() as u64) as usize];
                let (to, _, _) = &wallets[rng.next(wallets.len() as u64) as usize];
                if from != to {
                    let op = VamOperation::Transfer {
                        from: AccountId(*from),
                        to: AccountId(*to),
                        amount: Cny::from_minor(1_000).0,
                        memo: "好友转账".into(),
                    };
                    // Refused when the payer has too little: that is fine for a demo.
                    let _ = self.execute("system", op, None, None, at).await;
                }
            }
        }
        // Payers who typed the number wrong, and one for a number never issued.
        let wrong_digit = {
            let mut s = wallets[0].1.clone();
            let last = s.pop().and_then(|c| c.to_digit(10)).unwrap_or(0);
            s.push(char::from_digit((last + 1) % 10, 10).unwrap_or('0'));
            s
        };
        let last_day = anchor - Duration::days(3);
        for payee in [wrong_digit, format!("{}9999990", PHYSICAL[0].1)] {
            let notice = credit(next_ref("MY"), &payee, 88_800, "王**（未识别）", last_day);
            self.book_credit("system", mybank, &notice, None, None, last_day).await?;
        }
        // The bank's interest for the last quarter, ready to allocate.
        let mut interest =
            credit(next_ref("INT"), PHYSICAL[0].1, 12_345, "网商银行", anchor - Duration::days(1));
        interest.kind = "interest".into();
        self.book_credit("system", mybank, &interest, None, None, anchor - Duration::days(1)).await?;
        // Waiting at the bank: one for a wallet, one for an unknown suffix.
        waiting.push((
            PHYSICAL[0].1.to_owned(),
            credit(next_ref("MY"), &wallets[1].1, 66_600, &wallets[1].2, anchor),
        ));
        waiting.push((
            PHYSICAL[0].1.to_owned(),
            credit(next_ref("MY"), &format!("{}8888880", PHYSICAL[0].1), 12_300, "李**", anchor),
        ));

        // 浙商银行: anchor enterprise → merchants → order escrow with freezes.
        let czbank = ids[1];
        let (core, _) = self
            .open(
                czbank,
                None,
                (OwnerKind::Merchant, None, "杭州核心企业有限公司"),
                VirtualPurpose::Internal,
                year_ago,
            )
            .await?;
        for merchant in ["杭州甲商贸有限公司", "宁波乙供应链有限公司"] {
            let (m, _) = self
                .open(
                    czbank,
                    Some(core),
                    (OwnerKind::Merchant, None, merchant),
                    VirtualPurpose::UserWallet,
                    year_ago,
                )
                .await?;
            for order in 0..3 {
                let at = year_ago + Duration::days(60 + 90 * order);
                let (escrow, number) = self
                    .open(
                        czbank,
                        Some(m),
                        (OwnerKind::Merchant, None, merchant),
                        VirtualPurpose::OrderEscrow,
                        at,
                    )
                    .await?;
                let amount = 1_000_000 + rng.next(5_000_000) as i64;
                self.book_credit(
                    "system",
                    czbank,
                    &credit(next_ref("CZ"), &number, amount, "采购方", at),
                    None,
                    None,
                    at,
                )
                .await?;
                let freeze = VamOperation::Freeze {
                    account: AccountId(escrow),
                    amount: Cny::from_minor(amount / 2).0,
                    reason: "订单托管：待收货确认".into(),
                    expires_at: None,
                };
                self.execute("system", freeze, None, None, at).await?;
            }
        }

        // 招商银行: a tender with one deposit sub-account per bidder.
        let cmb = ids[2];
        let (tender, _) = self
            .open(
                cmb,
                None,
                (OwnerKind::Merchant, None, "2026年11月工程招标"),
                VirtualPurpose::Internal,
                anchor - Duration::days(20),
            )
            .await?;
        for bidder in ["投标人甲建设公司", "投标人乙工程公司", "投标人丙集团"] {
            let at = anchor - Duration::days(15);
            let (_, number) = self
                .open(cmb, Some(tender), (OwnerKind::Merchant, None, bidder), VirtualPurpose::BidDeposit, at)
                .await?;
            self.book_credit(
                "system",
                cmb,
                &credit(next_ref("CMB"), &number, 5_000_000, bidder, at),
                None,
                None,
                at,
            )
            .await?;
        }
        let text = serde_json::to_string(&waiting).map_err(|_| crate::error::data_error("demo notices"))?;
        let audit = NewAudit::new(
            anchor,
            "system",
            "demo.bank_notices",
            "database",
            json!({ "notices": waiting.len() }),
        );
        self.store.put_setting(WAITING_KEY, &text, audit).await?;
        Ok(())
    }

    /// What the simulated bank of a demo holds: per physical account its number,
    /// the balance of what the ledger has booked, and the demo's notices not booked
    /// yet (which the bank has, and the console will fetch).
    pub async fn demo_bank(&self) -> Result<Vec<(String, i64, Vec<CreditNotice>)>> {
        let waiting: Vec<(String, CreditNotice)> = match self.store.setting(WAITING_KEY).await? {
            Some(text) => serde_json::from_str(&text).unwrap_or_default(),
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for p in self.store.physical_accounts().await? {
            let booked = self.store.physical_totals(p.id).await?.asset_minor;
            let mut pending = Vec::new();
            for (number, notice) in &waiting {
                if *number == p.number && !self.store.credit_booked(p.id, &notice.bank_ref).await? {
                    pending.push(notice.clone());
                }
            }
            out.push((p.number, booked, pending));
        }
        Ok(out)
    }
}
