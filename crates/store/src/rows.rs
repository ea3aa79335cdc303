//! Rows as stored. PII columns hold what the schema says (encrypted ID numbers,
//! hashed cards); masking happens in the service layer.

use chrono::{DateTime, Utc};
use domain::model::SearchField;
use uuid::Uuid;

/// An operator of the console.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OperatorRow {
    /// Id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role name (see `domain::auth::Role`).
    pub role: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Consecutive failed logins.
    pub failed_attempts: i32,
    /// Locked until, if locked.
    pub locked_until: Option<DateTime<Utc>>,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Disabled by an administrator: cannot log in.
    pub disabled: bool,
    /// Must choose a new password before doing anything else.
    pub must_change_password: bool,
}

/// A change an administrator (or the operator, for the password) makes to an operator.
#[derive(Debug, Clone, PartialEq)]
pub enum OperatorChange {
    /// A new role.
    Role(String),
    /// Disabled or enabled.
    Disabled(bool),
    /// The failure count and lock cleared.
    Unlock,
    /// Must (or need no longer) choose a new password.
    MustChangePassword(bool),
    /// A new password (Argon2id PHC), which clears "must change".
    Password(String),
}

/// What a login attempt changes on the operator row.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginUpdate {
    /// The operator.
    pub operator_id: Uuid,
    /// New failure count (0 after success).
    pub failed_attempts: i32,
    /// New lock.
    pub locked_until: Option<DateTime<Utc>>,
    /// Set on success.
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A customer (a real person).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CustomerRow {
    /// Id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// ID number sealed with the PII key.
    pub id_number_enc: Option<String>,
    /// Keyed hash of the ID number.
    pub id_number_hash: Option<String>,
    /// Keyed hash of the ID number's last four (search); no clear digits are stored.
    pub id_last4_hash: Option<String>,
    /// Real-name verified.
    pub real_name_verified: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A login identity.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UserRow {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub customer_id: Uuid,
    /// Current login phone (11 digits).
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Nickname.
    pub nickname: Option<String>,
    /// Status.
    pub status: String,
    /// Registered.
    pub registered_at: DateTime<Utc>,
    /// Last login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// SMS-code reset blocked.
    pub sms_reset_blocked: bool,
}

/// A balance account.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AccountRow {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// `cash`, `red_packet`, `points`.
    pub kind: String,
    /// Balance in fen.
    pub balance_minor: i64,
    /// Real-name level 1–3.
    pub real_name_level: i16,
    /// Status.
    pub status: String,
}

/// A period a phone was a user's login.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PhoneBindingRow {
    /// Id.
    pub id: Uuid,
    /// User.
    pub user_id: Uuid,
    /// Phone.
    pub phone: String,
    /// Bound.
    pub bound_at: DateTime<Utc>,
    /// Unbound.
    pub unbound_at: Option<DateTime<Utc>>,
    /// Why it ended.
    pub unbind_reason: Option<String>,
}

/// A bound bank card: keyed hash + BIN + last 4, never the number.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BankCardRow {
    /// Id.
    pub id: Uuid,
    /// User.
    pub user_id: Uuid,
    /// Keyed HMAC of the full number.
    pub card_hash: String,
    /// First 6.
    pub bin: String,
    /// Last 4.
    pub last4: String,
    /// Digits in the full number (for masking).
    pub card_len: i16,
    /// Issuer.
    pub bank_name: String,
    /// Bank-reserved phone.
    pub reserved_phone: String,
    /// Quick-pay agreement number.
    pub agreement_no: String,
    /// Signed.
    pub bound_at: DateTime<Utc>,
    /// `active`, `ended`, `needs_resign`.
    pub status: String,
}

/// What a carrier says about a number.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CarrierRecordRow {
    /// Id.
    pub id: Uuid,
    /// Phone.
    pub phone: String,
    /// 中国移动 / 中国联通 / 中国电信 / 中国广电.
    pub carrier: String,
    /// Province of the number segment.
    pub province: String,
    /// Network-entry time (入网时间) of the current subscriber.
    pub entry_at: DateTime<Utc>,
    /// `active`, `cancelled`, `reissued`, `ported`.
    pub status: String,
    /// When the carrier last told us.
    pub updated_at: DateTime<Utc>,
}

/// Rows to insert together (demo data, imports).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerBatch {
    /// Customers.
    pub customers: Vec<CustomerRow>,
    /// Users.
    pub users: Vec<UserRow>,
    /// Accounts.
    pub accounts: Vec<AccountRow>,
    /// Phone bindings.
    pub phone_bindings: Vec<PhoneBindingRow>,
    /// Cards.
    pub cards: Vec<BankCardRow>,
    /// Carrier records.
    pub carrier_records: Vec<CarrierRecordRow>,
    /// Direct-debit agreements (话费代扣).
    pub direct_debits: Vec<crate::DirectDebitRow>,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerHit {
    /// The customer.
    pub customer: CustomerRow,
    /// How many users it has.
    pub user_count: i64,
    /// What matched.
    pub matched_on: SearchField,
}

/// A customer with everything under it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRecord {
    /// The customer.
    pub customer: CustomerRow,
    /// Its users, oldest first.
    pub users: Vec<UserRow>,
    /// Accounts of those users.
    pub accounts: Vec<AccountRow>,
    /// Phone bindings of those users, newest first.
    pub phone_bindings: Vec<PhoneBindingRow>,
    /// Cards of those users.
    pub cards: Vec<BankCardRow>,
}
