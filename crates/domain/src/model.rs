//! The three-tier model (customer → users → accounts) as the UI sees it.
//!
//! Every PII field here is already masked by the backend; clear values only
//! cross IPC as the answer to an audited reveal.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A customer found by a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSummary {
    /// Customer id.
    pub id: Uuid,
    /// Name, masked.
    pub name_masked: String,
    /// ID number, masked; `None` before real-name verification.
    pub id_number_masked: Option<String>,
    /// How many login identities the customer has.
    pub user_count: i64,
    /// What the search matched on, e.g. "phone".
    pub matched_on: SearchField,
}

/// The field a search term was matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchField {
    /// A user's login phone.
    Phone,
    /// A user id (UUID).
    UserId,
    /// A user's email.
    Email,
    /// A user's nickname.
    Nickname,
    /// The last four characters of the customer's ID number.
    IdLast4,
}

impl SearchField {
    /// Decides what a search term means from its shape, so one search box serves all.
    pub fn classify(term: &str) -> Option<SearchField> {
        let term = term.trim();
        if term.is_empty() {
            return None;
        }
        if Uuid::parse_str(term).is_ok() {
            Some(SearchField::UserId)
        } else if term.contains('@') {
            Some(SearchField::Email)
        } else if crate::phone::Phone::parse(term).is_ok() {
            Some(SearchField::Phone)
        } else if term.len() == 4
            && term.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || (i == 3 && (c == 'X' || c == 'x')))
        {
            Some(SearchField::IdLast4)
        } else {
            Some(SearchField::Nickname)
        }
    }
}

/// One customer with everything under it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerTree {
    /// Customer id.
    pub id: Uuid,
    /// Name, masked.
    pub name_masked: String,
    /// ID number, masked.
    pub id_number_masked: Option<String>,
    /// Birth date from the ID number (not PII-masked: used for age checks at the desk).
    pub birth_year: Option<i32>,
    /// Real-name verified.
    pub real_name_verified: bool,
    /// When the customer was created.
    pub created_at: DateTime<Utc>,
    /// Login identities.
    pub users: Vec<UserNode>,
    /// Bound bank cards (any of the customer's users).
    pub cards: Vec<BankCardView>,
    /// Virtual sub-accounts held by the customer or any of its users, with balances
    /// ("where is my money").
    #[serde(default)]
    pub virtual_accounts: Vec<crate::vam::VirtualNodeView>,
}

/// One login identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserNode {
    /// User id.
    pub id: Uuid,
    /// Current login phone, masked; `None` once unbound.
    pub phone_masked: Option<String>,
    /// Email, masked.
    pub email_masked: Option<String>,
    /// Nickname (a public handle, not masked).
    pub nickname: Option<String>,
    /// `active`, `frozen`, `closed`.
    pub status: String,
    /// Registration time.
    pub registered_at: DateTime<Utc>,
    /// Last login, if any.
    pub last_login_at: Option<DateTime<Utc>>,
    /// SMS-code password reset is blocked (e.g. after a recycled number).
    pub sms_reset_blocked: bool,
    /// Balances.
    pub accounts: Vec<AccountView>,
    /// Phone-binding history, newest first.
    pub phone_bindings: Vec<PhoneBindingView>,
}

/// One balance account of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    /// Account id.
    pub id: Uuid,
    /// `cash`, `red_packet`, `points`.
    pub kind: String,
    /// Balance in yuan.
    pub balance: Decimal,
    /// Real-name level I/II/III (1–3) for payment accounts.
    pub real_name_level: i16,
    /// `active`, `frozen`, `closed`.
    pub status: String,
}

/// A bank card bound to a user. The full number is never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BankCardView {
    /// Card binding id.
    pub id: Uuid,
    /// Which user bound it.
    pub user_id: Uuid,
    /// Issuer name from the BIN.
    pub bank_name: String,
    /// BIN + stars + last 4.
    pub card_masked: String,
    /// Bank-reserved phone, masked.
    pub reserved_phone_masked: String,
    /// When the quick-pay agreement was signed.
    pub bound_at: DateTime<Utc>,
    /// `active`, `ended`, `needs_resign`.
    pub status: String,
}

/// A period during which a phone was a user's login phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneBindingView {
    /// Phone, masked.
    pub phone_masked: String,
    /// Bound at.
    pub bound_at: DateTime<Utc>,
    /// Unbound at, if it ended.
    pub unbound_at: Option<DateTime<Utc>>,
    /// Why it ended, when the stored code is known.
    pub unbind_reason: Option<crate::recycle::UnbindReason>,
}

/// Which masked field to reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum PiiTarget {
    /// A customer's full name.
    CustomerName {
        /// Customer id.
        customer_id: Uuid,
    },
    /// A customer's ID number.
    IdNumber {
        /// Customer id.
        customer_id: Uuid,
    },
    /// A user's login phone.
    Phone {
        /// User id.
        user_id: Uuid,
    },
    /// A user's email.
    Email {
        /// User id.
        user_id: Uuid,
    },
}

impl PiiTarget {
    /// Short name used in the audit log.
    pub fn field_name(self) -> &'static str {
        match self {
            PiiTarget::CustomerName { .. } => "customer_name",
            PiiTarget::IdNumber { .. } => "id_number",
            PiiTarget::Phone { .. } => "phone",
            PiiTarget::Email { .. } => "email",
        }
    }

    /// The id of the record whose field is revealed.
    pub fn record_id(self) -> Uuid {
        match self {
            PiiTarget::CustomerName { customer_id } | PiiTarget::IdNumber { customer_id } => customer_id,
            PiiTarget::Phone { user_id } | PiiTarget::Email { user_id } => user_id,
        }
    }
}

/// Which database the console is attached to, for the status bar and settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    /// `sqlite` or `postgres`.
    pub kind: String,
    /// File path or host/db, without credentials.
    pub location: String,
    /// Applied schema version.
    pub schema_version: i64,
}

/// The birth year part of an ID number's birth date, for display.
pub fn birth_year(date: Option<NaiveDate>) -> Option<i32> {
    use chrono::Datelike;
    date.map(|d| d.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_search_terms() {
        assert_eq!(SearchField::classify("138 1234 5678"), Some(SearchField::Phone));
        assert_eq!(SearchField::classify("a@b.cn"), Some(SearchField::Email));
        assert_eq!(SearchField::classify("002X"), Some(SearchField::IdLast4));
        assert_eq!(SearchField::classify("1234"), Some(SearchField::IdLast4));
        assert_eq!(SearchField::classify("小明"), Some(SearchField::Nickname));
        assert_eq!(SearchField::classify("0190b5c8-7d2e-7c3a-9f00-000000000001"), Some(SearchField::UserId));
        assert_eq!(SearchField::classify("  "), None);
    }
}
