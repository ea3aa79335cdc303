//! Deterministic demo data: Chinese names (some with rare characters), valid ID
//! numbers and card numbers, several users per customer, balances, phone-binding
//! history, carrier records including reissued (recycled) numbers.
//!
//! The same seed and anchor time always give the same people, numbers and ids.

use crate::password::hash_password;
use crate::services::Services;
use crate::vault::PiiVault;
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::ApiError;
use domain::auth::Role;
use domain::card::{KNOWN_BINS, luhn_check_digit};
use domain::id_number::check_char;
use serde_json::json;
use store::{
    AccountRow, BankCardRow, CarrierRecordRow, CustomerBatch, CustomerRow, DirectDebitRow, LoginUpdate,
    NewAudit, OperatorRow, PhoneBindingRow, UserRow,
};
use uuid::Uuid;

/// Demo operators: (username, display name, role). All share [`DEMO_PASSWORD`].
pub const DEMO_OPERATORS: &[(&str, &str, Role)] = &[
    ("cs1", "客服一号 王芳", Role::CsAgent),
    ("cs2", "客服二号 李强", Role::CsAgent),
    ("fin1", "财务复核 赵敏", Role::FinanceReviewer),
    ("fin2", "财务复核 孙磊", Role::FinanceReviewer),
    ("sup1", "主管 陈静", Role::Supervisor),
    ("sup2", "主管 刘洋", Role::Supervisor),
    ("aud1", "稽核 周涛", Role::Auditor),
    ("admin", "系统管理员", Role::Admin),
    ("svc1", "对账任务", Role::ServiceOperator),
];

/// The demo operators' password (documented in the README; demo only).
pub const DEMO_PASSWORD: &str = "Demo@2026";

/// Users in the default demo database (about 300 customers).
pub const DEMO_USERS: usize = 450;

/// The seed of the default demo database.
pub const DEMO_SEED: u64 = 20_261_124;

/// Customers per batch handed to the store (one transaction each).
pub const BATCH_CUSTOMERS: usize = 5_000;

/// The demo world's "today": fixed, so the data is the same on every machine.
pub fn demo_anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap_or_default()
}

/// Surnames the generator uses, compound ones included.
pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何",
    "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "欧阳", "司马", "诸葛",
    "上官",
];
/// Common given names and name characters.
pub const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀英", "霞", "平", "刚", "桂英", "子涵", "欣怡", "梓轩", "浩然", "雨桐", "一诺", "思远", "嘉怡", "俊熙",
    "诗琪", "宇航", "晨曦", "佳琪",
];
/// Characters outside GB2312 that real names use (the font must cover them).
pub const RARE_GIVEN: &[&str] =
    &["䶮", "堃", "喆", "玥", "珺", "昇", "淼", "燊", "犇", "瑄", "祎", "赟", "頔", "昶"];
const REGIONS: &[&str] = &["110105", "310104", "440305", "330106", "510107", "420106", "320102", "610113"];
const PHONE_PREFIXES: &[(&str, &str)] = &[
    ("138", "中国移动"),
    ("139", "中国移动"),
    ("150", "中国移动"),
    ("187", "中国移动"),
    ("130", "中国联通"),
    ("156", "中国联通"),
    ("186", "中国联通"),
    ("133", "中国电信"),
    ("189", "中国电信"),
    ("199", "中国电信"),
];
const PROVINCES: &[&str] = &["北京", "上海", "广东", "浙江", "四川", "湖北", "江苏", "陕西"];
const NICK_HEADS: &[&str] = &["快乐", "追风", "阳光", "安静", "老", "小", "大", "sunny", "lucky", "blue"];
const NICK_TAILS: &[&str] = &["小猫", "少年", "的鱼", "王", "同学", "虎", "_cn", "star", "007", "moon"];

/// SplitMix64: tiny, fast, and stable forever (unlike library RNGs across versions).
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
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    /// A UUIDv7 at `at` with seeded random bits.
    fn uuid_v7(&mut self, at: DateTime<Utc>) -> Uuid {
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes()[..2]);
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
    }
    fn time_between(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let span = (to - from).num_seconds().max(1) as u64;
        from + Duration::seconds(self.below(span) as i64)
    }
}

/// The `n`th phone of a generated world: unique for every `n` below 10^8 because the
/// 8-digit tail is a bijection of `n` (48271 is coprime to 10^8).
fn phone_for(n: u64) -> (String, &'static str) {
    let (prefix, carrier) = PHONE_PREFIXES[(n % PHONE_PREFIXES.len() as u64) as usize];
    let tail = (n.wrapping_mul(48_271).wrapping_add(12_345_678)) % 100_000_000;
    (format!("{prefix}{tail:08}"), carrier)
}

/// The current login phone of the `n`th generated user (from 1) of any seed: the
/// first user of the first customer always has `demo_phone(1)`.
pub fn demo_phone(n: u64) -> String {
    phone_for(n).0
}

/// Who holds a reissued demo number now: the carrier simulator's real-name record
/// for it, and a bank card in that person's name with the number as reserved phone.
/// Derived from the number alone, so tests and a person at the demo can know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHolder {
    /// Name.
    pub name: String,
    /// ID number.
    pub id_number: String,
    /// Card number (Luhn-valid, a known BIN).
    pub card_number: String,
}

/// The new holder of a reissued demo number (see [`NewHolder`]).
pub fn new_holder(phone: &str) -> NewHolder {
    let seed = phone.bytes().fold(0xC0FF_EE00_u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut g = Generator::new(seed, 1, &HOLDER_VAULT, demo_anchor());
    g.customer_index = seed % 997;
    let name = g.name();
    let id_number = g.id_number();
    let (card_number, _) = g.card();
    NewHolder { name, id_number, card_number }
}

/// `Generator` wants a vault; new holders are never sealed, so any key does.
static HOLDER_VAULT: std::sync::LazyLock<PiiVault> = std::sync::LazyLock::new(|| PiiVault::new(&[7; 32]));

/// Generates `customers` customers in batches, deterministically from `seed`.
pub struct Generator<'a> {
    rng: Rng,
    vault: &'a PiiVault,
    anchor: DateTime<Utc>,
    remaining: usize,
    next_phone: u64,
    customer_index: u64,
}

impl<'a> Generator<'a> {
    /// A generator of `customers` customers, anchored at `anchor` ("today" of the data).
    pub fn new(seed: u64, customers: usize, vault: &'a PiiVault, anchor: DateTime<Utc>) -> Self {
        Self { rng: Rng(seed), vault, anchor, remaining: customers, next_phone: 0, customer_index: 0 }
    }

    fn name(&mut self) -> String {
        let surname = *self.rng.pick(SURNAMES);
        let given = if self.rng.chance(8) { *self.rng.pick(RARE_GIVEN) } else { *self.rng.pick(GIVEN) };
        if self.rng.chance(40) && given.chars().count() == 1 {
            format!("{surname}{given}{}", self.rng.pick(GIVEN))
        } else {
            format!("{surname}{given}")
        }
    }

    fn id_number(&mut self) -> String {
        let region = *self.rng.pick(REGIONS);
        let birth = Utc.with_ymd_and_hms(1950, 1, 1, 0, 0, 0).single().unwrap_or_default()
            + Duration::days(self.rng.below(55 * 365) as i64);
        // The sequence number makes IDs of the same birthday and region distinct.
        let seq = self.customer_index % 1000;
        let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
        let check = check_char(&first17).unwrap_or('0');
        format!("{first17}{check}")
    }

    fn card(&mut self) -> (String, &'static str) {
        let (bin, bank, _) = *self.rng.pick(KNOWN_BINS);
        let body = format!("{bin}{:012}", self.rng.below(1_000_000_000_000));
        let check = luhn_check_digit(&body).unwrap_or('0');
        (format!("{body}{check}"), bank)
    }

    /// The next batch, or `None` when done.
    pub fn next_batch(&mut self, max_customers: usize) -> Option<CustomerBatch> {
        if self.remaining == 0 {
            return None;
        }
        let n = self.remaining.min(max_customers);
        self.remaining -= n;
        let mut b = CustomerBatch::default();
        let start = self.anchor - Duration::days(10 * 365);
        for _ in 0..n {
            self.customer_index += 1;
            let created_at = self.rng.time_between(start, self.anchor - Duration::days(30));
            let verified = self.rng.chance(90);
            let id_number = verified.then(|| self.id_number());
            let customer = CustomerRow {
                id: self.rng.uuid_v7(created_at),
                name: self.name(),
                id_number_enc: id_number.as_deref().map(|id| self.vault.seal(id)),
                id_number_hash: id_number.as_deref().map(|id| self.vault.keyed_hash(id)),
                id_last4_hash: id_number.as_deref().map(|id| self.vault.id_number_last4_hash(id)),
                real_name_verified: verified,
                created_at,
            };
            let users = 1 + usize::from(self.rng.chance(35)) + usize::from(self.rng.chance(10));
            for u in 0..users {
                self.user(&mut b, &customer, u);
            }
            b.customers.push(customer);
        }
        Some(b)
    }

    fn user(&mut self, b: &mut CustomerBatch, customer: &CustomerRow, ordinal: usize) {
        let registered_at = self.rng.time_between(customer.created_at, self.anchor - Duration::days(7));
        let user_id = self.rng.uuid_v7(registered_at);
        self.next_phone += 1;
        let (phone, carrier) = phone_for(self.next_phone);
        let has_phone = ordinal == 0 || self.rng.chance(85);
        let email =
            self.rng.chance(40).then(|| format!("user{}.{}@example.cn", self.customer_index, ordinal));
        let nickname = self.rng.chance(70).then(|| {
            format!(
                "{}{}{}",
                self.rng.pick(NICK_HEADS),
                self.rng.pick(NICK_TAILS),
                self.customer_index * 10 + ordinal as u64
            )
        });
        let last_login_at = self.rng.chance(80).then(|| self.rng.time_between(registered_at, self.anchor));
        // Some users changed phone once: the old binding stays in the history.
        let mut bound_at = registered_at;
        if has_phone && self.rng.chance(15) {
            self.next_phone += 1;
            let (old_phone, _) = phone_for(self.next_phone);
            bound_at = self.rng.time_between(registered_at, self.anchor - Duration::days(3));
            b.phone_bindings.push(PhoneBindingRow {
                id: self.rng.uuid_v7(registered_at),
                user_id,
                phone: old_phone,
                bound_at: registered_at,
                unbound_at: Some(bound_at),
                unbind_reason: Some(domain::recycle::UnbindReason::SelfService.code()),
            });
        }
        if has_phone {
            b.phone_bindings.push(PhoneBindingRow {
                id: self.rng.uuid_v7(bound_at),
                user_id,
                phone: phone.clone(),
                bound_at,
                unbound_at: None,
                unbind_reason: None,
            });
            self.carrier_record(b, &phone, carrier, bound_at);
            // 话费代扣: a quarter of phone users pay their phone bill from the account.
            if self.rng.chance(25) {
                let signed_at = self.rng.time_between(bound_at, self.anchor);
                b.direct_debits.push(DirectDebitRow {
                    id: self.rng.uuid_v7(signed_at),
                    user_id,
                    phone: phone.clone(),
                    carrier: carrier.to_owned(),
                    signed_at,
                    ended_at: None,
                    end_reason: None,
                });
            }
        }
        b.accounts.push(AccountRow {
            id: self.rng.uuid_v7(registered_at),
            user_id,
            kind: "cash".into(),
            balance_minor: self.balance_minor(),
            real_name_level: if customer.real_name_verified { 1 + self.rng.below(3) as i16 } else { 1 },
            status: "active".into(),
        });
        for kind in ["red_packet", "points"] {
            if self.rng.chance(30) {
                b.accounts.push(AccountRow {
                    id: self.rng.uuid_v7(registered_at),
                    user_id,
                    kind: kind.into(),
                    balance_minor: self.rng.below(50_000) as i64,
                    real_name_level: 1,
                    status: "active".into(),
                });
            }
        }
        let cards = if customer.real_name_verified { self.rng.below(3) } else { 0 };
        for _ in 0..cards {
            let (number, bank) = self.card();
            let bound = self.rng.time_between(registered_at, self.anchor);
            b.cards.push(BankCardRow {
                id: self.rng.uuid_v7(bound),
                user_id,
                card_hash: self.vault.keyed_hash(&number),
                bin: number[..6].to_owned(),
                last4: number[number.len() - 4..].to_owned(),
                card_len: number.len() as i16,
                bank_name: bank.into(),
                reserved_phone: phone.clone(),
                agreement_no: format!("QP{}{:08}", bound.format("%Y%m%d"), self.rng.below(100_000_000)),
                bound_at: bound,
                status: "active".into(),
            });
        }
        b.users.push(UserRow {
            id: user_id,
            customer_id: customer.id,
            phone: has_phone.then_some(phone),
            email,
            nickname,
            status: if self.rng.chance(3) { "frozen".into() } else { "active".into() },
            registered_at,
            last_login_at,
            sms_reset_blocked: false,
        });
    }

    /// Balances are skewed: most small, a few large.
    fn balance_minor(&mut self) -> i64 {
        let r = self.rng.below(100);
        let yuan = match r {
            0..=59 => self.rng.below(1_000),
            60..=94 => self.rng.below(50_000),
            _ => self.rng.below(2_000_000),
        };
        (yuan * 100 + self.rng.below(100)) as i64
    }

    /// What the carrier says. About 6% of bound numbers were reissued to someone
    /// else after our binding (entry time later than the binding: 二次号), 2% are
    /// cancelled and waiting in the freeze window, 2% ported.
    fn carrier_record(&mut self, b: &mut CustomerBatch, phone: &str, carrier: &str, bound_at: DateTime<Utc>) {
        let r = self.rng.below(100);
        let (status, entry_at, updated_at) = match r {
            0..=5 => {
                let entry = self.rng.time_between(
                    bound_at + Duration::days(90),
                    self.anchor.max(bound_at + Duration::days(91)),
                );
                ("reissued", entry, entry)
            }
            6..=7 => {
                let cancelled = self.rng.time_between(bound_at, self.anchor);
                ("cancelled", bound_at - Duration::days(self.rng.below(2000) as i64), cancelled)
            }
            8..=9 => ("ported", bound_at - Duration::days(self.rng.below(1000) as i64), bound_at),
            _ => ("active", bound_at - Duration::days(self.rng.below(3000) as i64), bound_at),
        };
        b.carrier_records.push(CarrierRecordRow {
            id: self.rng.uuid_v7(updated_at),
            phone: phone.to_owned(),
            carrier: carrier.to_owned(),
            province: (*self.rng.pick(PROVINCES)).to_owned(),
            entry_at,
            status: status.into(),
            updated_at,
        });
    }
}

/// Creates an operator with `password` (demo data and tests; audited as `operator.create`).
pub async fn create_operator(
    services: &Services,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
    now: DateTime<Utc>,
) -> crate::error::Result<()> {
    let password_hash = hash_password(password)
        .map_err(|e| ApiError::Database { message: format!("hashing a password: {e}") })?;
    let op = OperatorRow {
        id: Uuid::now_v7(),
        username: username.into(),
        display_name: display_name.into(),
        role: role.as_str().into(),
        password_hash,
        failed_attempts: 0,
        locked_until: None,
        last_login_at: None,
        created_at: now,
        disabled: false,
        must_change_password: false,
    };
    let audit = NewAudit::new(
        now,
        "system",
        "operator.create",
        format!("operator:{username}"),
        json!({ "role": role, "demo": true }),
    );
    Ok(services.store().insert_operator(&op, audit).await?)
}

/// In a database that is not a demo, every demo operator that still has the public
/// demo password is locked for good (an earlier console created them everywhere);
/// audited. Returns how many were locked.
pub async fn retire_demo_operators(services: &Services, now: DateTime<Utc>) -> crate::error::Result<usize> {
    let mut locked = 0;
    for (username, _, _) in DEMO_OPERATORS {
        let Some(op) = services.store().operator_by_username(username).await? else { continue };
        let far = now.checked_add_signed(Duration::days(365 * 100)).unwrap_or(now);
        if op.locked_until.is_some_and(|until| until >= far - Duration::days(1)) {
            continue;
        }
        let phc = op.password_hash.clone();
        let public =
            tokio::task::spawn_blocking(move || crate::password::verify_password(DEMO_PASSWORD, &phc))
                .await
                .unwrap_or(false);
        if public {
            let update = LoginUpdate {
                operator_id: op.id,
                failed_attempts: 0,
                locked_until: Some(far),
                last_login_at: None,
            };
            let audit = NewAudit::new(
                now,
                "system",
                "operator.demo_locked",
                format!("operator:{username}"),
                json!({}),
            );
            services.store().record_login(update, audit).await?;
            locked += 1;
        }
    }
    Ok(locked)
}

/// Creates the demo operators that do not exist yet.
pub async fn ensure_demo_operators(services: &Services, now: DateTime<Utc>) -> crate::error::Result<usize> {
    let mut created = 0;
    for (username, display_name, role) in DEMO_OPERATORS {
        if services.store().operator_by_username(username).await?.is_none() {
            create_operator(services, username, display_name, *role, DEMO_PASSWORD, now).await?;
            created += 1;
        }
    }
    Ok(created)
}

/// The carrier's notices about the generated world, as a carrier file would carry
/// them (UTF-8 CSV, Beijing time): reissues, cancellations and port-ins.
pub fn carrier_notices_csv(records: &[CarrierRecordRow]) -> String {
    let beijing = |t: DateTime<Utc>| (t + Duration::hours(8)).format("%Y-%m-%d %H:%M:%S").to_string();
    let mut csv = String::from("phone,entry_at,event,event_at,carrier,province\n");
    for r in records {
        let (entry, event, at) = match r.status.as_str() {
            "reissued" => (beijing(r.entry_at), "二次放号", r.entry_at),
            "cancelled" => (String::new(), "销户", r.updated_at),
            "ported" => (beijing(r.entry_at), "携入", r.updated_at),
            _ => continue,
        };
        csv.push_str(&format!("{},{entry},{event},{},{},{}\n", r.phone, beijing(at), r.carrier, r.province));
    }
    csv
}

/// Inserts generated customers until at least `users` users exist; returns
/// `(customers, users, carrier records)` written. Each batch is one transaction.
pub async fn generate_into(
    services: &Services,
    seed: u64,
    users: usize,
    anchor: DateTime<Utc>,
) -> crate::error::Result<(usize, usize, Vec<CarrierRecordRow>)> {
    let mut generator = Generator::new(seed, users, services.vault(), anchor);
    let (mut customers, mut written, mut records) = (0, 0, Vec::new());
    while written < users {
        // Customers average ~1.45 users; ask for what is still missing, in batches.
        let want = (users - written).div_ceil(2).clamp(1, BATCH_CUSTOMERS);
        let Some(batch) = generator.next_batch(want) else { break };
        customers += batch.customers.len();
        written += batch.users.len();
        services.store().insert_customer_batch(&batch).await?;
        records.extend(batch.carrier_records.into_iter().filter(|r| r.status != "active"));
    }
    Ok((customers, written, records))
}

/// Settings key that marks a demo database.
pub const DEMO_KEY: &str = "demo";

/// Whether the database is a demo database (the title bar says so).
pub async fn is_demo(services: &Services) -> crate::error::Result<bool> {
    Ok(services.store().setting(DEMO_KEY).await?.as_deref() == Some("true"))
}

/// Demo data goes only into a demo database: one marked as such, a new empty one
/// (marked now), or one made by an earlier console whose only operators are the
/// demo operators. A database with any real operator never gets demo operators or
/// demo customers, whatever the options say. Returns whether it is a demo database.
pub async fn seed_demo_if_empty(
    services: &Services,
    users: usize,
    now: DateTime<Utc>,
) -> crate::error::Result<bool> {
    if !is_demo(services).await? {
        let names = services.store().operator_usernames().await?;
        let only_demo = names.iter().all(|n| DEMO_OPERATORS.iter().any(|(demo, _, _)| demo == n));
        let fresh = names.is_empty() && services.store().count_customers().await? == 0;
        if !(fresh || (only_demo && !names.is_empty())) {
            tracing::info!("not a demo database: no demo data");
            return Ok(false);
        }
        let audit = NewAudit::new(now, "system", "demo.marked", "database", json!({}));
        services.store().swap_setting(DEMO_KEY, None, "true", audit).await?;
    }
    ensure_demo_operators(services, now).await?;
    if services.store().count_customers().await? == 0 {
        let (customers, users, records) = generate_into(services, DEMO_SEED, users, demo_anchor()).await?;
        let audit = NewAudit::new(
            now,
            "system",
            "demo.seed",
            "database",
            json!({ "customers": customers, "users": users, "seed": DEMO_SEED }),
        );
        services.store().append_audit(audit).await?;
        // The demo queue comes from a carrier file through the real intake path.
        let text = carrier_notices_csv(&records);
        let parsed = crate::intake::parse_carrier_csv("demo-carrier-notices.csv", text.as_bytes(), |_, _| {})
            .map_err(|e| ApiError::Database { message: format!("demo carrier file: {e:?}") })?;
        let settings = services.recycled().settings().await?;
        let report = crate::recycle::screen_carrier_file(
            services.store().as_ref(),
            &parsed,
            "demo-carrier-notices.csv",
            "system",
            &settings,
            now,
        )
        .await?;
        tracing::info!(customers, users, cases = report.cases_opened, "seeded demo data");
    }
    // Also for demo databases made before the ledger existed.
    services.vam().seed_demo(demo_anchor()).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::card::luhn_valid;
    use domain::id_number::IdNumber;
    use domain::phone::Phone;

    /// The README names a demo case and its new holder so a person can try the
    /// force-unbind wizard; this keeps those values true.
    #[test]
    fn the_readme_demo_new_holder_is_right() {
        let vault = PiiVault::new(&[1; 32]);
        let mut g = Generator::new(DEMO_SEED, DEMO_USERS, &vault, demo_anchor());
        let mut first = None;
        while let Some(b) = g.next_batch(BATCH_CUSTOMERS) {
            first = first.or_else(|| b.carrier_records.iter().find(|r| r.status == "reissued").cloned());
        }
        let phone = first.unwrap().phone;
        let h = new_holder(&phone);
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
        for value in [&phone, &h.name, &h.id_number, &h.card_number] {
            assert!(
                readme.contains(value.as_str()),
                "README lacks {value} ({phone} {} {} {})",
                h.name,
                h.id_number,
                h.card_number
            );
        }
    }

    #[test]
    fn deterministic_and_valid() {
        let vault = PiiVault::new(&[1; 32]);
        let a = Generator::new(7, 50, &vault, demo_anchor()).next_batch(50).unwrap();
        let b = Generator::new(7, 50, &vault, demo_anchor()).next_batch(50).unwrap();
        let ids = |x: &CustomerBatch| {
            x.users.iter().map(|u| (u.id, u.phone.clone(), u.nickname.clone())).collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(
            a.customers.iter().map(|c| &c.name).collect::<Vec<_>>(),
            b.customers.iter().map(|c| &c.name).collect::<Vec<_>>()
        );
        assert!(a.users.len() > 50, "several users per customer");
        for c in &a.customers {
            if let Some(sealed) = &c.id_number_enc {
                let id = vault.open(sealed).unwrap();
                IdNumber::parse(&id).unwrap();
            }
        }
        for u in &a.users {
            if let Some(p) = &u.phone {
                Phone::parse(p).unwrap();
            }
        }
        assert!(a.cards.iter().all(|k| k.card_hash.len() == 64 && k.bin.len() == 6 && k.last4.len() == 4));
        assert!(a.carrier_records.iter().any(|r| r.status == "reissued"));
        let mut g = Generator::new(9, 1, &vault, demo_anchor());
        for _ in 0..100 {
            let (number, _) = g.card();
            assert!(luhn_valid(&number), "{number}");
        }
    }

    #[test]
    fn phones_are_unique_over_a_million() {
        let mut seen = std::collections::HashSet::new();
        for n in 1..=1_000_000u64 {
            assert!(seen.insert(phone_for(n).0), "duplicate at {n}");
        }
    }
}
