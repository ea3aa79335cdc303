//! Service hooks for the app backends (may this number register? may this user
//! reset by SMS?) and carrier queries about a case's number.

use super::screening::{new_case, risk_inputs, score};
use super::{RecycledService, case_audit};
use crate::error::{Result, gateway_error, invalid, not_found};
use crate::gateway::{BankGateway, CarrierGateway};
use chrono::{DateTime, Utc};
use domain::Entity;
use domain::api::{ApiError, GatewayProblem, GatewayService};
use domain::mask;
use domain::phone::Phone;
use domain::recycle::{CaseSource, HookKind, HookReason, TwiceTelAnswer, UnbindReason};
use serde_json::json;
use std::sync::Arc;
use store::{BoundPhone, CarrierEventRow, CaseQuery, HookEventRow, NewAudit};
use uuid::Uuid;

/// The answer of a service hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookDecision {
    /// Go ahead.
    pub allowed: bool,
    /// Why, as a code.
    pub reason: HookReason,
    /// The case opened or updated, if any.
    pub case_id: Option<Uuid>,
}

impl RecycledService {
    pub(super) fn carrier(&self) -> Result<&Arc<dyn CarrierGateway>> {
        self.workflow.carrier.as_ref().ok_or_else(|| not_configured(GatewayService::Carrier))
    }

    pub(super) fn bank(&self) -> Result<&Arc<dyn BankGateway>> {
        self.workflow.bank.as_ref().ok_or_else(|| not_configured(GatewayService::Bank))
    }

    /// Asks the carrier about a case's number now; the answer becomes evidence.
    pub(super) async fn check_carrier(
        &self,
        actor: &str,
        case_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<TwiceTelAnswer> {
        let row = self.case_row(case_id).await?;
        let answer = self
            .carrier()?
            .twice_tel(&row.core.phone, row.core.bound_at)
            .await
            .map_err(|e| gateway_error(GatewayService::Carrier, e))?;
        let event = CarrierEventRow {
            id: Uuid::now_v7(),
            phone: row.core.phone.clone(),
            carrier: row.core.carrier.clone(),
            province: row.core.province.clone(),
            event: format!("gateway:{}", answer.as_str()),
            event_at: now,
            entry_at: None,
            source: "gateway".into(),
        };
        let mut cases = Vec::new();
        if row.status.is_active()
            && let Some(a) = answer.assess()
        {
            let bound = BoundPhone {
                phone: row.core.phone.clone(),
                user_id: row.core.old_user_id,
                customer_id: row.core.old_customer_id,
                bound_at: row.core.bound_at,
            };
            let mut case = new_case(&bound, a.source, &row.core.carrier, &row.core.province, now);
            case.core.manual_only = a.manual_only;
            case.core.risk_score = row.core.risk_score;
            case.core.risk_inputs = row.core.risk_inputs.clone();
            case.core.balance_minor = row.core.balance_minor;
            case.evidence = 1;
            cases.push(case);
        }
        let a = case_audit(now, actor, "carrier.check", case_id, json!({ "answer": answer }));
        self.store.upsert_cases(&cases, &[event], a).await?;
        Ok(answer)
    }

    /// May `phone` register a new user at `at`? Blocked while the number is another
    /// user's login; a case is opened (or gets evidence) so customer service can free it.
    pub async fn check_registration(&self, phone: &str, at: DateTime<Utc>) -> Result<HookDecision> {
        let phone = String::from(Phone::parse(phone).map_err(|e| invalid("phone", e))?);
        let bound = self.store.bound_phones(std::slice::from_ref(&phone)).await?;
        let decision = match bound.into_iter().next() {
            None => HookDecision { allowed: true, reason: HookReason::Free, case_id: None },
            Some(b) => HookDecision {
                allowed: false,
                reason: HookReason::BoundToAnotherUser,
                case_id: Some(self.open_hook_case(&b, CaseSource::Registration, false, at).await?),
            },
        };
        self.record_hook(&phone, None, HookKind::Registration, &decision, at).await?;
        Ok(decision)
    }

    /// May `user_id` reset by SMS code at `at`? Blocked when the user has an SMS-reset
    /// block, an active case, or the carrier says the number changed hands since the
    /// binding (a case is opened then).
    pub async fn check_sms_reset(&self, user_id: Uuid, at: DateTime<Utc>) -> Result<HookDecision> {
        let user = self.store.user(user_id).await?.ok_or_else(|| not_found(Entity::User))?;
        let Some(phone) = user.phone.clone() else {
            let Some(block) = self.store.sms_block(user_id).await? else {
                return Ok(HookDecision { allowed: false, reason: HookReason::NoLoginPhone, case_id: None });
            };
            let d = HookDecision { allowed: false, reason: blocked_reason(&block), case_id: block.case_id };
            self.record_hook("", Some(user_id), HookKind::SmsReset, &d, at).await?;
            return Ok(d);
        };
        let decision = self.sms_reset_decision(user_id, &phone, at).await?;
        self.record_hook(&phone, Some(user_id), HookKind::SmsReset, &decision, at).await?;
        Ok(decision)
    }

    async fn sms_reset_decision(
        &self,
        user_id: Uuid,
        phone: &str,
        at: DateTime<Utc>,
    ) -> Result<HookDecision> {
        if let Some(block) = self.store.sms_block(user_id).await? {
            return Ok(HookDecision {
                allowed: false,
                reason: blocked_reason(&block),
                case_id: block.case_id,
            });
        }
        let q = CaseQuery { phone: Some(phone.to_owned()), limit: 10, ..CaseQuery::default() };
        if let Some(c) = self.store.queue(&q).await?.into_iter().find(|c| c.core.old_user_id == user_id) {
            return Ok(HookDecision { allowed: false, reason: HookReason::UnderReview, case_id: Some(c.id) });
        }
        let bound = self.store.bound_phones(&[phone.to_owned()]).await?;
        let b = bound.into_iter().next().ok_or_else(|| not_found(Entity::Binding))?;
        let answer = self
            .carrier()?
            .twice_tel(phone, b.bound_at)
            .await
            .map_err(|e| gateway_error(GatewayService::Carrier, e))?;
        Ok(match answer.assess() {
            None => HookDecision { allowed: true, reason: HookReason::NotReassigned, case_id: None },
            Some(a) => HookDecision {
                // Ambiguous answers go to a person; only a clear "reassigned" blocks.
                allowed: a.manual_only,
                reason: HookReason::Carrier { answer },
                case_id: Some(self.open_hook_case(&b, CaseSource::SmsReset, a.manual_only, at).await?),
            },
        })
    }

    async fn record_hook(
        &self,
        phone: &str,
        user_id: Option<Uuid>,
        kind: HookKind,
        d: &HookDecision,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let row = HookEventRow {
            id: Uuid::now_v7(),
            phone: phone.to_owned(),
            user_id,
            kind,
            at,
            allowed: d.allowed,
            reason: d.reason.code(),
        };
        Ok(self.store.record_hook(&row).await?)
    }

    /// The hook itself is the signal: a case is opened even though no carrier fact says so.
    async fn open_hook_case(
        &self,
        b: &BoundPhone,
        source: CaseSource,
        manual_only: bool,
        at: DateTime<Utc>,
    ) -> Result<Uuid> {
        let facts = self.store.risk_facts(&[b.user_id]).await?;
        let carrier = self.store.carrier_record(&b.phone).await?;
        let (carrier_name, province) = carrier.map(|c| (c.carrier, c.province)).unwrap_or_default();
        let mut case = new_case(b, source, &carrier_name, &province, at);
        case.core.manual_only = manual_only;
        case.evidence = 1;
        score(&mut case.core, risk_inputs(facts.first(), at));
        let target = format!("phone:{}", mask::phone(&b.phone));
        let a = NewAudit::new(at, "system", "case.hook", target, json!({ "source": source }));
        let ids = self.store.upsert_cases(&[case], &[], a).await?;
        ids.first().copied().ok_or_else(|| super::data_error("case id"))
    }
}

/// "Blocked", with the decision that blocked it.
fn blocked_reason(block: &store::SmsBlockRow) -> HookReason {
    let decision = match UnbindReason::parse(&block.reason) {
        Some(UnbindReason::RecycledNumber { decision }) => Some(decision),
        _ => None,
    };
    HookReason::SmsResetBlocked { decision }
}

fn not_configured(service: GatewayService) -> crate::error::ServiceError {
    ApiError::Gateway { service, problem: GatewayProblem::NotConfigured }.into()
}
