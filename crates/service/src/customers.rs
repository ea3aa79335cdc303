//! Customer lookup: search, the masked three-tier tree, and audited reveals.

use crate::error::{Result, invalid, not_found};
use crate::services::Services;
use chrono::{DateTime, Utc};
use domain::card::bank_name;
use domain::id_number::IdNumber;
use domain::mask;
use domain::model::{
    AccountView, BankCardView, CustomerSummary, CustomerTree, PhoneBindingView, PiiTarget, SearchField,
    UserNode, birth_year,
};
use domain::money::Cny;
use domain::phone::Phone;
use domain::recycle::UnbindReason;
use domain::{ApiError, Entity, InputProblem};
use serde_json::json;
use store::{CustomerRow, NewAudit};
use uuid::Uuid;

/// Search results shown at once.
const SEARCH_LIMIT: u32 = 50;
/// Shortest acceptable reveal reason, in characters (e.g. "来电核实").
const MIN_REASON_CHARS: usize = 4;

impl Services {
    pub(crate) async fn search(&self, query: &str) -> Result<Vec<CustomerSummary>> {
        let Some(field) = SearchField::classify(query) else {
            return Err(invalid("query", InputProblem::Required));
        };
        let term = match field {
            SearchField::Phone => Phone::parse(query).map(String::from).unwrap_or_default(),
            SearchField::Email => query.trim().to_lowercase(),
            // Only a keyed hash of the last four is stored.
            SearchField::IdLast4 => self.vault.id_last4_hash(query.trim()),
            SearchField::UserId | SearchField::Nickname => query.trim().to_owned(),
        };
        let hits = self.store.search_customers(field, &term, SEARCH_LIMIT).await?;
        Ok(hits
            .into_iter()
            .map(|hit| CustomerSummary {
                id: hit.customer.id,
                name_masked: mask::name(&hit.customer.name),
                id_number_masked: self.id_number_masked(&hit.customer),
                user_count: hit.user_count,
                matched_on: hit.matched_on,
            })
            .collect())
    }

    fn id_number_masked(&self, c: &CustomerRow) -> Option<String> {
        let sealed = c.id_number_enc.as_deref()?;
        Some(match self.vault.open(sealed) {
            Ok(id) => mask::id_number(&id),
            // Unreadable (a start-up key check makes this rare): say so by shape.
            Err(_) => "*".repeat(18),
        })
    }

    /// The birth year, read from the sealed ID number (no clear date is stored).
    fn birth_year(&self, c: &CustomerRow) -> Option<i32> {
        let id = self.vault.open(c.id_number_enc.as_deref()?).ok()?;
        birth_year(IdNumber::parse(&id).ok()?.birth_date())
    }

    pub(crate) async fn customer_tree(&self, customer_id: Uuid) -> Result<CustomerTree> {
        let rec = self.store.customer_tree(customer_id).await?.ok_or_else(|| not_found(Entity::Customer))?;
        let users = rec
            .users
            .iter()
            .map(|u| UserNode {
                id: u.id,
                phone_masked: u.phone.as_deref().map(mask::phone),
                email_masked: u.email.as_deref().map(mask::email),
                nickname: u.nickname.clone(),
                status: u.status.clone(),
                registered_at: u.registered_at,
                last_login_at: u.last_login_at,
                sms_reset_blocked: u.sms_reset_blocked,
                accounts: rec
                    .accounts
                    .iter()
                    .filter(|a| a.user_id == u.id)
                    .map(|a| AccountView {
                        id: a.id,
                        kind: a.kind.clone(),
                        balance: Cny::from_minor(a.balance_minor).0,
                        real_name_level: a.real_name_level,
                        status: a.status.clone(),
                    })
                    .collect(),
                phone_bindings: rec
                    .phone_bindings
                    .iter()
                    .filter(|b| b.user_id == u.id)
                    .map(|b| PhoneBindingView {
                        phone_masked: mask::phone(&b.phone),
                        bound_at: b.bound_at,
                        unbound_at: b.unbound_at,
                        unbind_reason: b.unbind_reason.as_deref().and_then(UnbindReason::parse),
                    })
                    .collect(),
            })
            .collect();
        let cards = rec
            .cards
            .iter()
            .map(|k| BankCardView {
                id: k.id,
                user_id: k.user_id,
                bank_name: bank_name(&k.bin).unwrap_or(&k.bank_name).to_owned(),
                card_masked: mask::card(&k.bin, &k.last4, usize::try_from(k.card_len).unwrap_or(16)),
                reserved_phone_masked: mask::phone(&k.reserved_phone),
                bound_at: k.bound_at,
                status: k.status.clone(),
            })
            .collect();
        let mut owners: Vec<Uuid> = vec![rec.customer.id];
        owners.extend(rec.users.iter().map(|u| u.id));
        let virtual_accounts = self.vam().owned_by(&owners).await?;
        Ok(CustomerTree {
            virtual_accounts,
            id: rec.customer.id,
            name_masked: mask::name(&rec.customer.name),
            id_number_masked: self.id_number_masked(&rec.customer),
            birth_year: self.birth_year(&rec.customer),
            real_name_verified: rec.customer.real_name_verified,
            created_at: rec.customer.created_at,
            users,
            cards,
        })
    }

    /// Writes the audit row first: if it cannot be written, nothing is revealed.
    pub(crate) async fn reveal(
        &self,
        actor: &str,
        target: PiiTarget,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let reason = reason.trim();
        if reason.chars().count() < MIN_REASON_CHARS {
            return Err(invalid("reason", InputProblem::TooShort { min_chars: MIN_REASON_CHARS }));
        }
        let not_found = || not_found(Entity::Field);
        let value = match target {
            PiiTarget::CustomerName { customer_id } => {
                self.store.customer(customer_id).await?.ok_or_else(not_found)?.name
            }
            PiiTarget::IdNumber { customer_id } => {
                let sealed = self
                    .store
                    .customer(customer_id)
                    .await?
                    .and_then(|c| c.id_number_enc)
                    .ok_or_else(not_found)?;
                self.vault.open(&sealed).map_err(|e| ApiError::Database { message: e.to_string() })?
            }
            PiiTarget::Phone { user_id } => {
                self.store.user(user_id).await?.and_then(|u| u.phone).ok_or_else(not_found)?
            }
            PiiTarget::Email { user_id } => {
                self.store.user(user_id).await?.and_then(|u| u.email).ok_or_else(not_found)?
            }
        };
        let audit = NewAudit::new(
            now,
            actor,
            "pii.reveal",
            format!("{}:{}", target.field_name(), target.record_id()),
            json!({ "field": target.field_name(), "reason": reason }),
        );
        self.store.append_audit(audit).await?;
        Ok(value)
    }
}
