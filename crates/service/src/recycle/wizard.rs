//! The force-unbind wizard: the claimant's carrier 3-element check and "changed
//! hands since the old binding?", then a bank 4-element check with this number
//! reserved, then submit (to a checker under four-eyes). Every check is counted
//! against its budget before the gateway is called.

use super::decisions::{Change, DECIDABLE, UnbindPlan};
use super::{RecycledService, case_audit};
use crate::error::{Result, conflict, gateway_error, invalid, not_found};
use crate::gateway::FourElementRequest;
use chrono::{DateTime, Duration, Utc};
use domain::api::GatewayService;
use domain::auth::{OperatorInfo, Permission};
use domain::cases::{BankCheckView, CaseDecision, Claimant, DecisionOutcome, ForceUnbindState};
use domain::id_number::IdNumber;
use domain::mask;
use domain::phone::Phone;
use domain::recycle::{
    Attempt, BankAnswer, BudgetState, CaseEventKind, CaseStatus, CheckKind, DecisionKind, TwiceTelAnswer,
};
use domain::{ApiError, Conflict, Entity, InputProblem};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::HashMap;
use store::{AttemptRow, LeaseRule, UnbindGuard};
use uuid::Uuid;

/// A wizard's clear inputs live in memory this long.
const WIZARD_MINUTES: i64 = 30;
/// How far back attempts count against a budget.
const BUDGET_LOOKBACK_HOURS: i64 = 48;

/// One force-unbind in progress. Holds the claimant's clear inputs in memory only.
struct Wizard {
    actor: String,
    case_id: Uuid,
    claimant: Claimant,
    claimant_hash: String,
    created_at: DateTime<Utc>,
    state: ForceUnbindState,
    /// Masked record of every check, for the evidence pack.
    checks: Vec<Value>,
}

/// Wizards in progress, by id.
#[derive(Default)]
pub(super) struct Wizards(Mutex<HashMap<Uuid, Wizard>>);

impl Wizards {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<Uuid, Wizard>) -> T) -> T {
        f(&mut self.0.lock())
    }

    fn put(&self, w: Wizard, now: DateTime<Utc>) {
        self.with(|m| {
            m.retain(|_, w| now - w.created_at < Duration::minutes(WIZARD_MINUTES));
            m.insert(w.state.wizard_id, w);
        });
    }

    /// Takes `actor`'s live wizard out (put it back after the step).
    fn take(&self, actor: &str, wizard_id: Uuid, now: DateTime<Utc>) -> Result<Wizard> {
        self.with(|m| match m.remove(&wizard_id) {
            Some(w) if w.actor == actor && now - w.created_at < Duration::minutes(WIZARD_MINUTES) => Ok(w),
            Some(w) if w.actor != actor => {
                m.insert(wizard_id, w);
                Err(conflict(Conflict::OthersWizard))
            }
            _ => Err(not_found(Entity::Wizard)),
        })
    }
}

/// The claimant's inputs, checked and normalised.
fn checked_claimant(c: &Claimant) -> Result<Claimant> {
    let name = c.name.trim().to_owned();
    if name.is_empty() {
        return Err(invalid("name", InputProblem::Required));
    }
    let id = IdNumber::parse(&c.id_number).map_err(|e| invalid("id_number", e))?;
    let phone = String::from(Phone::parse(&c.phone).map_err(|e| invalid("phone", e))?);
    Ok(Claimant { name, id_number: id.as_str().to_owned(), phone })
}

/// The claimant as the audit log and the evidence pack keep them: masked.
fn claimant_masked(c: &Claimant) -> Value {
    json!({ "name": mask::name(&c.name), "id_number": mask::id_number(&c.id_number), "phone": mask::phone(&c.phone) })
}

impl RecycledService {
    fn budget_of(
        &self,
        attempts: &[AttemptRow],
        kind: CheckKind,
        card_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> BudgetState {
        let list: Vec<Attempt> = attempts
            .iter()
            .filter(|a| a.kind == kind && card_hash.is_none_or(|h| a.card_hash.as_deref() == Some(h)))
            .map(|a| Attempt { at: a.at, passed: a.passed })
            .collect();
        self.budget.state(&list, now)
    }

    pub(super) async fn force_unbind_start(
        &self,
        op: &OperatorInfo,
        case_id: Uuid,
        c: Claimant,
        now: DateTime<Utc>,
    ) -> Result<ForceUnbindState> {
        let actor = op.username.as_str();
        let claimant = checked_claimant(&c)?;
        let f = self.store.case_facts(case_id).await?.ok_or_else(|| not_found(Entity::Case))?;
        if claimant.phone != f.case.core.phone {
            return Err(invalid("phone", InputProblem::NotCaseNumber));
        }
        let status = f.case.status;
        if !status.is_active() {
            return Err(conflict(Conflict::CaseStatus { status }));
        }
        self.decidable_by(op, &f.case, now).await?;
        // Another agent working the case keeps it: the wizard does not cut in.
        let holder = f.case.claimed_by.as_deref().filter(|_| f.case.lease_until.is_some_and(|t| t >= now));
        if let Some(by) = holder.filter(|by| *by != actor) {
            return Err(conflict(Conflict::ClaimedBy { by: by.to_owned() }));
        }
        let state = ForceUnbindState {
            wizard_id: Uuid::now_v7(),
            case_id,
            phone_masked: mask::phone(&claimant.phone),
            carrier_check: None,
            twice_tel: None,
            carrier_passed: false,
            bank_checks: Vec::new(),
            bank_passed: false,
            claimant_budget: self.budget.state(&[], now),
            card_budget: None,
            same_person: false,
            outcome: None,
        };
        let claimant_hash = self.vault.keyed_hash(&claimant.id_number);
        let same_person = f.customer.id_number_hash.as_deref() == Some(claimant_hash.as_str());
        let mut w = Wizard {
            actor: actor.into(),
            case_id,
            claimant,
            claimant_hash,
            created_at: now,
            state,
            checks: vec![],
        };
        if same_person {
            // Same person as the old customer: account recovery, not a recycled number.
            w.state.same_person = true;
            let detail = json!({ "claimant": claimant_masked(&w.claimant) });
            self.store
                .append_audit(case_audit(now, actor, "force_unbind.same_person", case_id, detail))
                .await?;
            return Ok(w.state);
        }
        self.carrier_step(actor, &mut w, f.case.core.bound_at, now).await?;
        let state = w.state.clone();
        self.wizards.put(w, now);
        Ok(state)
    }

    /// The claimant's carrier 3-element check and "changed hands since `bound_at`?",
    /// counted against the claimant's budget before the carrier is asked.
    async fn carrier_step(
        &self,
        actor: &str,
        w: &mut Wizard,
        bound_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let since = now - Duration::hours(BUDGET_LOOKBACK_HOURS);
        let mut attempts = self.store.attempts(&w.claimant_hash, None, since).await?;
        w.state.claimant_budget = self.budget_of(&attempts, CheckKind::Carrier3, None, now);
        if let Some(until) = w.state.claimant_budget.locked_until {
            return Err(ApiError::BudgetExhausted { until }.into());
        }
        let carrier = self.carrier()?;
        let carrier_error = |e| gateway_error(GatewayService::Carrier, e);
        let Claimant { name, id_number, phone } = &w.claimant;
        let three = carrier.three_elements(name, id_number, phone).await.map_err(carrier_error)?;
        let twice = carrier.twice_tel(phone, bound_at).await.map_err(carrier_error)?;
        let passed = three.passed() && twice == TwiceTelAnswer::Reassigned;
        let answer = json!({ "three_elements": three, "twice_tel": twice, "since": bound_at });
        let row = AttemptRow {
            id: Uuid::now_v7(),
            kind: CheckKind::Carrier3,
            claimant_hash: w.claimant_hash.clone(),
            card_hash: None,
            case_id: Some(w.case_id),
            at: now,
            passed,
            answer: answer.to_string(),
            actor: actor.into(),
        };
        let inputs = claimant_masked(&w.claimant);
        let detail = json!({ "claimant": inputs, "answer": answer, "passed": passed });
        let audit = case_audit(now, actor, "force_unbind.carrier_check", w.case_id, detail);
        self.store.record_attempt(&row, audit).await?;
        w.checks.push(json!({
            "check": "carrier_3_elements", "at": now, "by": actor, "inputs": inputs, "answer": answer, "passed": passed,
        }));
        attempts.push(row);
        w.state.claimant_budget = self.budget_of(&attempts, CheckKind::Carrier3, None, now);
        w.state.carrier_check = Some(three);
        w.state.twice_tel = Some(twice);
        w.state.carrier_passed = passed;
        Ok(())
    }

    pub(super) async fn force_unbind_bank(
        &self,
        actor: &str,
        wizard_id: Uuid,
        card: &str,
        now: DateTime<Utc>,
    ) -> Result<ForceUnbindState> {
        let mut w = self.wizards.take(actor, wizard_id, now)?;
        let result = self.bank_step(actor, &mut w, card, now).await;
        let state = w.state.clone();
        self.wizards.put(w, now);
        result.map(|()| state)
    }

    /// The claimant's and the card's budgets over `attempts`.
    fn bank_budgets(
        &self,
        w: &Wizard,
        attempts: &[AttemptRow],
        card_hash: &str,
        now: DateTime<Utc>,
    ) -> (BudgetState, BudgetState) {
        let mine: Vec<AttemptRow> =
            attempts.iter().filter(|a| a.claimant_hash == w.claimant_hash).cloned().collect();
        (
            self.budget_of(&mine, CheckKind::Bank4, None, now),
            self.budget_of(attempts, CheckKind::Bank4, Some(card_hash), now),
        )
    }

    async fn bank_step(&self, actor: &str, w: &mut Wizard, card: &str, now: DateTime<Utc>) -> Result<()> {
        if !w.state.carrier_passed || w.state.same_person {
            return Err(conflict(Conflict::CarrierStepNotPassed));
        }
        let card: String = card.chars().filter(|c| !c.is_whitespace()).collect();
        if !(16..=19).contains(&card.len()) || !card.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("card_number", InputProblem::CardDigits));
        }
        let card_hash = self.vault.keyed_hash(&card);
        let card_masked = mask::card(&card[..6], &card[card.len() - 4..], card.len());
        let since = now - Duration::hours(BUDGET_LOOKBACK_HOURS);
        let mut attempts = self.store.attempts(&w.claimant_hash, Some(&card_hash), since).await?;
        let (claimant_budget, card_budget) = self.bank_budgets(w, &attempts, &card_hash, now);
        (w.state.claimant_budget, w.state.card_budget) = (claimant_budget, Some(card_budget));
        if let Some(until) = claimant_budget.locked_until.max(card_budget.locked_until) {
            return Err(ApiError::BudgetExhausted { until }.into());
        }
        let req = FourElementRequest {
            name: w.claimant.name.clone(),
            id_number: w.claimant.id_number.clone(),
            card_number: card.clone(),
            phone: w.claimant.phone.clone(),
        };
        let answer =
            self.bank()?.four_elements(&req).await.map_err(|e| gateway_error(GatewayService::Bank, e))?;
        let passed = answer.result == BankAnswer::Match;
        let row = AttemptRow {
            id: Uuid::now_v7(),
            kind: CheckKind::Bank4,
            claimant_hash: w.claimant_hash.clone(),
            card_hash: Some(card_hash.clone()),
            case_id: Some(w.case_id),
            at: now,
            passed,
            answer: json!({ "result": answer.result, "bank": answer.bank_name, "card": card_masked })
                .to_string(),
            actor: actor.into(),
        };
        let detail = json!({ "card": card_masked, "result": answer.result, "bank": answer.bank_name });
        self.store
            .record_attempt(&row, case_audit(now, actor, "force_unbind.bank_check", w.case_id, detail))
            .await?;
        w.checks.push(json!({
            "check": "bank_4_elements", "at": now, "by": actor,
            "inputs": { "name": mask::name(&w.claimant.name), "id_number": mask::id_number(&w.claimant.id_number),
                        "card": card_masked, "reserved_phone": mask::phone(&w.claimant.phone) },
            "answer": { "result": answer.result, "bank": answer.bank_name }, "passed": passed,
        }));
        attempts.push(row);
        let (claimant_budget, card_budget) = self.bank_budgets(w, &attempts, &card_hash, now);
        (w.state.claimant_budget, w.state.card_budget) = (claimant_budget, Some(card_budget));
        w.state.bank_checks.push(BankCheckView {
            card_masked,
            answer: answer.result,
            bank_name: answer.bank_name,
        });
        w.state.bank_passed |= passed;
        Ok(())
    }

    pub(super) async fn force_unbind_submit(
        &self,
        op: &OperatorInfo,
        wizard_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<ForceUnbindState> {
        let mut w = self.wizards.take(&op.username, wizard_id, now)?;
        match self.submit(op, &w, now).await {
            Ok(outcome) => {
                w.state.outcome = Some(outcome);
                // The clear inputs are no longer needed: the wizard ends here.
                Ok(w.state)
            }
            Err(e) => {
                // Checks already spent stay usable: the operator may retry the submit.
                self.wizards.put(w, now);
                Err(e)
            }
        }
    }

    async fn submit(&self, op: &OperatorInfo, w: &Wizard, now: DateTime<Utc>) -> Result<DecisionOutcome> {
        let actor = op.username.as_str();
        if !(w.state.carrier_passed && w.state.bank_passed) {
            return Err(conflict(Conflict::ChecksNotPassed));
        }
        let row = self.case_row(w.case_id).await?;
        let from = self.decidable_by(op, &row, now).await?;
        let settings = self.settings().await?;
        // The checks themselves are the maker's reasons (in the pack); the UI words the
        // decision, so the backend writes no note of its own.
        let note = String::new();
        let checks = Value::Array(w.checks.clone());
        let lease = LeaseRule::NotHeldByOthers(actor.to_owned());
        // The old user's balance now: money that arrived since detection needs a checker.
        if settings.four_eyes.needs_checker(self.live_balance_minor(&row).await?) {
            let decision = CaseDecision::ForceUnbind { note };
            let c = Change {
                case_id: w.case_id,
                from,
                to: CaseStatus::PendingApproval,
                lease,
                version: Some(row.version),
                checker: None,
                proposed: Some((
                    json!({ "decision": decision, "checks": checks }).to_string(),
                    actor.to_owned(),
                )),
                decision: None,
                event: (CaseEventKind::Propose, super::case_view::CaseEventDetail::of(&decision)),
            };
            let detail = json!({ "decision": DecisionKind::ForceUnbind });
            self.change(c, case_audit(now, actor, "case.propose", w.case_id, detail), now).await?;
            return Ok(DecisionOutcome::PendingApproval);
        }
        let plan = UnbindPlan {
            row: &row,
            decision: DecisionKind::ForceUnbind,
            note: &note,
            maker: actor,
            checker: None,
            checks: Some(checks),
            from,
            guard: UnbindGuard { lease, version: Some(row.version), outside_freeze: false },
        };
        self.apply_unbind(plan, now).await?;
        Ok(DecisionOutcome::Applied)
    }

    /// The states `op` may decide `row` from: an escalated case is a supervisor's
    /// (a refusal is audited).
    async fn decidable_by(
        &self,
        op: &OperatorInfo,
        row: &store::CaseRow,
        now: DateTime<Utc>,
    ) -> Result<&'static [CaseStatus]> {
        if op.role.allows(Permission::RecycledApprove) {
            return Ok(&DECIDABLE);
        }
        if row.status == CaseStatus::Escalated {
            let detail = json!({ "request": "force_unbind", "permission": Permission::RecycledApprove });
            self.store.append_audit(case_audit(now, &op.username, "access.denied", row.id, detail)).await?;
            return Err(ApiError::Forbidden { permission: Permission::RecycledApprove }.into());
        }
        Ok(&[CaseStatus::Open])
    }
}
