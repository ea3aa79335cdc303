//! One case as the case screen shows it: facts, risk, proposal, decision and one
//! timeline per number, all as typed codes (the UI words them).

use super::RecycledService;
use crate::error::{Result, data_error, not_found};
use chrono::{DateTime, Utc};
use domain::Entity;
use domain::cases::{
    CaseDecision, CaseDetail, Decided, Party, Proposal, SmsUnblockRequest, TimelineEntry, TimelineEvent,
    short_id,
};
use domain::mask;
use domain::money::Cny;
use domain::recycle::{
    BankAnswer, CarrierEventKind, DecisionKind, HookReason, NotRecycledReason, RiskInputs,
    ThreeElementAnswer, TwiceTelAnswer, UnbindReason,
};
use serde::Deserialize;
use serde_json::{Value, json};
use store::{AttemptRow, CarrierEventRow, CaseEventRow, CaseFacts};
use uuid::Uuid;

/// What a case event's JSON detail may hold (every field optional: each kind
/// writes the ones it has).
#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub(super) struct CaseEventDetail {
    /// The decision proposed or made.
    pub decision: Option<DecisionKind>,
    /// The not-recycled reason.
    pub reason: Option<NotRecycledReason>,
    /// The operator's note.
    pub note: Option<String>,
    /// New holder (reassignments).
    pub to: Option<String>,
}

impl CaseEventDetail {
    /// The detail of a decision event.
    pub(super) fn of(decision: &CaseDecision) -> Self {
        let (kind, reason, note) = match decision {
            CaseDecision::ConfirmRecycled { note } => (Some(DecisionKind::ConfirmRecycled), None, note),
            CaseDecision::NotRecycled { reason, note } => {
                (Some(DecisionKind::NotRecycled), Some(*reason), note)
            }
            CaseDecision::Escalate { note } => (None, None, note),
            CaseDecision::ForceUnbind { note } => (Some(DecisionKind::ForceUnbind), None, note),
        };
        Self { decision: kind, reason, note: Some(note.clone()).filter(|n| !n.trim().is_empty()), to: None }
    }

    /// Reads a stored detail field by field, so lines written before the fields were
    /// typed still show what they hold: a nested `{"decision": {…}}` proposal, an
    /// `"escalate"` decision, a reassignment's free-text `reason`.
    pub(super) fn read(stored: &str) -> Self {
        let v: Value = serde_json::from_str(stored).unwrap_or_default();
        let d = if v["decision"].is_object() { &v["decision"] } else { &v };
        let text = |x: &Value| x.as_str().map(str::to_owned).filter(|s| !s.trim().is_empty());
        let reason_code = d["reason"].as_str().and_then(NotRecycledReason::parse);
        Self {
            decision: d["decision"].as_str().and_then(DecisionKind::parse),
            reason: reason_code,
            note: text(&d["note"]).or_else(|| reason_code.is_none().then(|| text(&d["reason"])).flatten()),
            to: text(&v["to"]),
        }
    }

    /// As stored.
    pub(super) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

impl RecycledService {
    /// The case for an operator's screen; looking is audited (查询留痕).
    pub(super) async fn view_case(
        &self,
        actor: &str,
        case_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<CaseDetail> {
        let detail = self.case_detail(case_id, now).await?;
        self.store.append_audit(super::case_audit(now, actor, "case.view", case_id, json!({}))).await?;
        Ok(detail)
    }

    /// The case with one timeline per phone, PII masked.
    pub async fn case_detail(&self, case_id: Uuid, now: DateTime<Utc>) -> Result<CaseDetail> {
        let f = self.store.case_facts(case_id).await?.ok_or_else(|| not_found(Entity::Case))?;
        let settings = self.settings().await?;
        let row = Self::row_view(&f.case, now, settings.sla_hours);
        let risk: RiskInputs = serde_json::from_str(&f.case.core.risk_inputs).unwrap_or(RiskInputs {
            balance_minor: f.case.core.balance_minor,
            active_cards: 0,
            direct_debits: 0,
            days_since_login: None,
        });
        let evidence_sha256 = self.store.evidence_pack(case_id).await?.map(|(sha, _)| sha);
        let sms_unblock = f
            .sms_blocks
            .iter()
            .filter(|b| b.lifted_at.is_none())
            .filter_map(|b| b.lift_detail.as_deref())
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .find_map(|v| {
                Some(SmsUnblockRequest {
                    id: v["id"].as_str()?.parse().ok()?,
                    by: v["requested_by"].as_str()?.to_owned(),
                    phone_masked: mask::phone(v["phone"].as_str()?),
                })
            });
        Ok(CaseDetail {
            row,
            old_user_id: f.case.core.old_user_id,
            old_customer_id: f.case.core.old_customer_id,
            old_name_masked: mask::name(&f.customer.name),
            still_bound: f.user.phone.as_deref() == Some(f.case.core.phone.as_str()),
            bound_at: f.case.core.bound_at,
            entry_at: f.case.core.entry_at,
            risk,
            balance: Cny::from_minor(f.case.core.balance_minor).0,
            needs_checker: settings.four_eyes.needs_checker(f.case.core.balance_minor),
            proposal: proposal(&f)?,
            decision: decided(&f)?,
            sms_reset_blocked: f.user.sms_reset_blocked,
            sms_unblock,
            timeline: timeline(&f),
            evidence_sha256,
        })
    }
}

/// The proposal waiting for a checker, if any.
fn proposal(f: &CaseFacts) -> Result<Option<Proposal>> {
    let (Some(p), Some(by)) = (&f.case.proposed, &f.case.proposed_by) else { return Ok(None) };
    let decision = stored_proposal(p)?.0;
    Ok(Some(Proposal { decision, by: by.clone() }))
}

/// A stored proposal: the decision and, for force-unbind, the checks behind it.
pub(super) fn stored_proposal(json: &str) -> Result<(CaseDecision, Value)> {
    let v: Value = serde_json::from_str(json).map_err(|_| data_error("proposal"))?;
    let decision = serde_json::from_value(v["decision"].clone()).map_err(|_| data_error("proposal"))?;
    Ok((decision, v["checks"].clone()))
}

fn decided(f: &CaseFacts) -> Result<Option<Decided>> {
    let (Some(d), Some(maker)) = (&f.case.decision, &f.case.decided_by) else { return Ok(None) };
    let decision = DecisionKind::parse(d).ok_or_else(|| data_error("decision"))?;
    let stored = f.case.decision_reason.clone().unwrap_or_default();
    // "not recycled" keeps `reason: note`; the other decisions keep the note alone.
    let (reason, note) = match stored.split_once(": ") {
        Some((code, note)) if decision == DecisionKind::NotRecycled => {
            (NotRecycledReason::parse(code), note.to_owned())
        }
        _ => (None, stored),
    };
    Ok(Some(Decided { decision, reason, note, maker: maker.clone(), checker: f.case.approved_by.clone() }))
}

/// One timeline per phone: everything we know about the number, oldest first.
pub(super) fn timeline(f: &CaseFacts) -> Vec<TimelineEntry> {
    let party = |user_id: Uuid| {
        if user_id == f.user.id { Party::OldUser } else { Party::OtherUser { short_id: short_id(user_id) } }
    };
    let mut t = Vec::new();
    let mut push = |at: DateTime<Utc>, event: TimelineEvent| t.push(TimelineEntry { at, event });
    push(f.user.registered_at, TimelineEvent::Registered { user: Party::OldUser });
    if let Some(at) = f.user.last_login_at {
        push(at, TimelineEvent::LastLogin { user: Party::OldUser });
    }
    for b in &f.bindings {
        push(b.bound_at, TimelineEvent::Bound { user: party(b.user_id) });
        if let Some(at) = b.unbound_at {
            let reason = b.unbind_reason.as_deref().and_then(UnbindReason::parse);
            push(at, TimelineEvent::Unbound { user: party(b.user_id), reason });
        }
    }
    for e in &f.carrier_events {
        if let Some(event) = carrier_line(e) {
            push(e.event_at, event);
        }
    }
    for h in &f.hook_events {
        let reason = HookReason::parse(&h.reason);
        push(h.at, TimelineEvent::Hook { hook: h.kind, allowed: h.allowed, reason });
    }
    for k in &f.cards {
        push(
            k.bound_at,
            TimelineEvent::CardReservesPhone {
                bank: k.bank_name.clone(),
                card_masked: mask::card(&k.bin, &k.last4, usize::try_from(k.card_len).unwrap_or(16)),
                agreement_masked: mask_agreement(&k.agreement_no),
                user: party(k.user_id),
                status: k.status.clone(),
            },
        );
    }
    for d in &f.direct_debits {
        push(d.signed_at, TimelineEvent::DebitSigned { carrier: d.carrier.clone(), user: party(d.user_id) });
        if let Some(at) = d.ended_at {
            push(at, TimelineEvent::DebitEnded { reason: d.end_reason.clone() });
        }
    }
    for s in &f.sms_blocks {
        let decision = match UnbindReason::parse(&s.reason) {
            Some(UnbindReason::RecycledNumber { decision }) => Some(decision),
            _ => None,
        };
        push(s.blocked_at, TimelineEvent::SmsBlocked { decision, by: s.blocked_by.clone() });
        if let Some(at) = s.lifted_at {
            push(at, TimelineEvent::SmsLifted { by: s.lifted_by.clone() });
        }
    }
    for a in &f.attempts {
        if let Some(event) = check_line(a) {
            push(a.at, event);
        }
    }
    for e in &f.case_events {
        if let Some(event) = case_line(e) {
            push(e.at, event);
        }
    }
    t.sort_by_key(|e| e.at);
    t
}

/// A carrier event row: a file's notice, or a gateway answer (`gateway:<answer>`).
fn carrier_line(e: &CarrierEventRow) -> Option<TimelineEvent> {
    if let Some(answer) = e.event.strip_prefix("gateway:") {
        return Some(TimelineEvent::CarrierAnswer { answer: TwiceTelAnswer::parse(answer)? });
    }
    Some(TimelineEvent::CarrierNotice {
        event: CarrierEventKind::parse(&e.event)?,
        carrier: e.carrier.clone(),
        province: e.province.clone(),
        entry_at: e.entry_at,
    })
}

fn check_line(a: &AttemptRow) -> Option<TimelineEvent> {
    let check = a.kind;
    let v: Value = serde_json::from_str(&a.answer).unwrap_or_default();
    let field = |name: &str| v.get(name).cloned().unwrap_or(Value::Null);
    Some(TimelineEvent::Check {
        check,
        passed: a.passed,
        by: a.actor.clone(),
        three_elements: serde_json::from_value::<ThreeElementAnswer>(field("three_elements")).ok(),
        twice_tel: serde_json::from_value::<TwiceTelAnswer>(field("twice_tel")).ok(),
        bank_answer: serde_json::from_value::<BankAnswer>(field("result")).ok(),
        card_masked: v["card"].as_str().map(str::to_owned),
    })
}

fn case_line(e: &CaseEventRow) -> Option<TimelineEvent> {
    let event = e.kind;
    let d = CaseEventDetail::read(&e.detail);
    Some(TimelineEvent::Case {
        event,
        by: e.actor.clone(),
        decision: d.decision,
        reason: d.reason,
        note: d.note,
        to: d.to,
    })
}

/// Agreement numbers identify a payment relationship: show the head and tail only.
pub(super) fn mask_agreement(no: &str) -> String {
    let chars: Vec<char> = no.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    format!(
        "{}****{}",
        chars[..6].iter().collect::<String>(),
        chars[chars.len() - 2..].iter().collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_numbers_are_masked() {
        assert_eq!(mask_agreement("QP2026010112345678"), "QP2026****78");
        assert_eq!(mask_agreement("QP1"), "***");
    }

    #[test]
    fn case_event_details_round_trip_as_codes() {
        let d = CaseEventDetail::of(&CaseDecision::NotRecycled {
            reason: NotRecycledReason::Ported,
            note: "携号转网".into(),
        });
        let back: CaseEventDetail = serde_json::from_str(&d.to_json()).unwrap();
        assert_eq!(
            (back.decision, back.reason),
            (Some(DecisionKind::NotRecycled), Some(NotRecycledReason::Ported))
        );
        assert_eq!(back.note.as_deref(), Some("携号转网"));
    }
}
