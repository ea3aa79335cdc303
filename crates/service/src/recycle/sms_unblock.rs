//! Lifting an SMS-reset block: a maker runs a fresh carrier 3-element check of the
//! blocked user's customer with the number they hold now; a different checker lifts it.

use super::RecycledService;
use crate::error::{Result, conflict, gateway_error, invalid, not_found};
use chrono::{DateTime, Duration, Utc};
use domain::api::GatewayService;
use domain::mask;
use domain::phone::Phone;
use domain::{ApiError, Conflict, Entity, InputProblem};
use serde_json::json;
use store::NewAudit;
use uuid::Uuid;

/// How long a request to lift a block (and its carrier check) can be approved.
const REQUEST_VALID_HOURS: i64 = 24;

impl RecycledService {
    /// Maker: if the check passes, the request waits for a checker.
    pub(super) async fn request_sms_unblock(
        &self,
        actor: &str,
        user_id: Uuid,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let phone = String::from(Phone::parse(phone).map_err(|e| invalid("phone", e))?);
        if self.store.sms_block(user_id).await?.is_none() {
            return Err(conflict(Conflict::NoSmsBlock));
        }
        let user = self.store.user(user_id).await?.ok_or_else(|| not_found(Entity::User))?;
        let customer =
            self.store.customer(user.customer_id).await?.ok_or_else(|| not_found(Entity::Customer))?;
        let sealed = customer
            .id_number_enc
            .as_deref()
            .ok_or_else(|| invalid("user_id", InputProblem::NotRealNameVerified))?;
        let id = self.vault.open(sealed).map_err(|e| ApiError::Database { message: e.to_string() })?;
        let answer = self
            .carrier()?
            .three_elements(&customer.name, &id, &phone)
            .await
            .map_err(|e| gateway_error(GatewayService::Carrier, e))?;
        let target = format!("user:{user_id}");
        let detail = json!({ "phone": mask::phone(&phone), "answer": answer, "passed": answer.passed() });
        if !answer.passed() {
            self.store
                .append_audit(NewAudit::new(now, actor, "sms_unblock.check_failed", target, detail))
                .await?;
            return Err(conflict(Conflict::CarrierCheckFailed));
        }
        let pending =
            json!({ "id": Uuid::now_v7(), "requested_by": actor, "phone": phone, "answer": answer, "at": now })
                .to_string();
        let a = NewAudit::new(now, actor, "sms_unblock.request", target, detail);
        Ok(self.store.request_sms_unblock(user_id, &pending, a).await?)
    }

    /// Checker: lifts the block and binds the checked number — exactly the request the
    /// checker reviewed (`request_id`), never their own.
    pub(super) async fn approve_sms_unblock(
        &self,
        checker: &str,
        user_id: Uuid,
        request_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let block = self.store.sms_block(user_id).await?.ok_or_else(|| conflict(Conflict::NoSmsBlock))?;
        let reviewed = block.lift_detail.clone().ok_or_else(|| conflict(Conflict::NoUnblockRequest))?;
        let pending: serde_json::Value =
            serde_json::from_str(&reviewed).map_err(|_| conflict(Conflict::NoUnblockRequest))?;
        if pending["id"].as_str() != Some(request_id.to_string().as_str()) {
            return Err(conflict(Conflict::Changed));
        }
        if pending["requested_by"].as_str() == Some(checker) {
            return Err(conflict(Conflict::MakerIsChecker));
        }
        // A carrier check is evidence of who holds the number *now*: a stale one is not.
        let asked = serde_json::from_value::<DateTime<Utc>>(pending["at"].clone()).ok();
        if asked.is_none_or(|at| now - at > Duration::hours(REQUEST_VALID_HOURS)) {
            return Err(conflict(Conflict::Expired));
        }
        let phone = pending["phone"].as_str().map(str::to_owned);
        let detail = json!({ "maker": pending["requested_by"], "phone": phone.as_deref().map(mask::phone) });
        let a = NewAudit::new(now, checker, "sms_unblock.approve", format!("user:{user_id}"), detail);
        // The store lifts only if the request is still exactly the one reviewed.
        Ok(self.store.lift_sms_block(user_id, checker, &reviewed, phone.as_deref(), now, a).await?)
    }
}
