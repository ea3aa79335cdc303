//! Decisions: a maker decides (or proposes, under four-eyes), a checker approves,
//! and "confirmed" or "force-unbound" unbinds the phone in one transaction.

use super::case_view::{CaseEventDetail, stored_proposal};
use super::queue::holds;
use super::{MIN_REASON_CHARS, RecycledService, case_audit};
use crate::error::{Result, conflict, data_error, invalid, require_chars};
use chrono::{DateTime, Utc};
use domain::auth::{OperatorInfo, Permission};
use domain::cases::{CaseDecision, DecisionOutcome};
use domain::recycle::{CaseEventKind, CaseStatus, DecisionKind};
use domain::{ApiError, Conflict, InputProblem};
use serde_json::json;
use sha2::{Digest, Sha256};
use store::{CaseRow, LeaseRule, Transition, Unbind, UnbindGuard};
use uuid::Uuid;

/// A state change written by a decision: from which states, to which, and what the
/// case's timeline and the audit log say about it.
pub(super) struct Change<'a> {
    pub case_id: Uuid,
    pub from: &'a [CaseStatus],
    pub to: CaseStatus,
    /// Who may hold the lease.
    pub lease: LeaseRule,
    /// The version the change was decided on.
    pub version: Option<i32>,
    /// The operator who must not be the maker (a checker).
    pub checker: Option<&'a str>,
    /// Proposal JSON and maker, when the change waits for a checker.
    pub proposed: Option<(String, String)>,
    /// Final decision, stored reason text, maker, checker.
    pub decision: Option<(DecisionKind, String, String, Option<String>)>,
    pub event: (CaseEventKind, CaseEventDetail),
}

impl Change<'_> {
    fn into_transition(self, now: DateTime<Utc>) -> Transition {
        Transition {
            case_id: self.case_id,
            from: self.from.to_vec(),
            lease: self.lease,
            version: self.version,
            not_proposed_by: self.checker.map(str::to_owned),
            now,
            status: self.to,
            proposed: self.proposed,
            decision: self.decision,
            event: (self.event.0, self.event.1.to_json()),
        }
    }
}

/// Everything an unbind records: who decided, who checked, and (force-unbind) the
/// checks that make up the evidence pack.
pub(super) struct UnbindPlan<'a> {
    pub row: &'a CaseRow,
    pub decision: DecisionKind,
    pub note: &'a str,
    pub maker: &'a str,
    pub checker: Option<&'a str>,
    /// Masked record of the wizard's checks (force-unbind only).
    pub checks: Option<serde_json::Value>,
    /// States the case may be in.
    pub from: &'a [CaseStatus],
    /// What the unbind's own statement re-checks.
    pub guard: UnbindGuard,
}

/// A checker's verdict on a proposal, made on the case as it was at `version`.
pub(super) struct Verdict<'a> {
    pub approve: bool,
    pub note: &'a str,
    pub version: i32,
}

/// States a maker decides from.
pub(super) const DECIDABLE: [CaseStatus; 2] = [CaseStatus::Open, CaseStatus::Escalated];

impl RecycledService {
    /// The old user's balance now (fen): what four-eyes thresholds compare.
    pub(super) async fn live_balance_minor(&self, row: &CaseRow) -> Result<i64> {
        let facts = self.store.risk_facts(&[row.core.old_user_id]).await?;
        Ok(facts.first().map_or(0, |f| f.balance_minor))
    }

    pub(super) async fn change(
        &self,
        change: Change<'_>,
        audit: store::NewAudit,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.store.transition(change.into_transition(now), audit).await?;
        Ok(())
    }

    pub(super) async fn decide(
        &self,
        op: &OperatorInfo,
        case_id: Uuid,
        decision: CaseDecision,
        now: DateTime<Utc>,
    ) -> Result<DecisionOutcome> {
        let actor = op.username.as_str();
        let row = self.case_row(case_id).await?;
        // An escalated case is a supervisor's to decide.
        if row.status == CaseStatus::Escalated && !op.role.allows(Permission::RecycledApprove) {
            let detail = json!({ "request": "decide_case", "permission": Permission::RecycledApprove });
            self.store.append_audit(case_audit(now, actor, "access.denied", case_id, detail)).await?;
            return Err(ApiError::Forbidden { permission: Permission::RecycledApprove }.into());
        }
        let settings = self.settings().await?;
        let change = |to, kind| Change {
            case_id,
            from: &DECIDABLE,
            to,
            lease: LeaseRule::HeldBy(actor.to_owned()),
            version: Some(row.version),
            checker: None,
            proposed: None,
            decision: None,
            event: (kind, CaseEventDetail::of(&decision)),
        };
        match &decision {
            CaseDecision::ConfirmRecycled { note } => {
                if let Some(until) = row.core.freeze_until.filter(|u| *u > now) {
                    return Err(conflict(Conflict::InFreezeWindow { until }));
                }
                // The old user's balance now, not at detection: money that arrived since
                // must not let a confirmation skip its checker.
                let balance_minor = self.live_balance_minor(&row).await?;
                if settings.four_eyes.needs_checker(balance_minor) {
                    let mut c = change(CaseStatus::PendingApproval, CaseEventKind::Propose);
                    c.proposed = Some((json!({ "decision": decision }).to_string(), actor.to_owned()));
                    let a = case_audit(now, actor, "case.propose", case_id, json!({ "decision": decision }));
                    self.change(c, a, now).await?;
                    return Ok(DecisionOutcome::PendingApproval);
                }
                if !holds(&row, actor, now) {
                    return Err(conflict(Conflict::ClaimFirst));
                }
                let plan = UnbindPlan {
                    row: &row,
                    decision: DecisionKind::ConfirmRecycled,
                    note,
                    maker: actor,
                    checker: None,
                    checks: None,
                    from: &DECIDABLE,
                    guard: UnbindGuard {
                        lease: LeaseRule::HeldBy(actor.to_owned()),
                        version: Some(row.version),
                        outside_freeze: true,
                    },
                };
                self.apply_unbind(plan, now).await?;
            }
            CaseDecision::NotRecycled { reason, note } => {
                require_chars("note", note, MIN_REASON_CHARS)?;
                let mut c = change(CaseStatus::NotRecycled, CaseEventKind::Decide);
                let stored = format!("{}: {note}", reason.as_str());
                c.decision = Some((DecisionKind::NotRecycled, stored, actor.to_owned(), None));
                let a = case_audit(
                    now,
                    actor,
                    "case.not_recycled",
                    case_id,
                    json!({ "reason": reason, "note": note }),
                );
                self.change(c, a, now).await?;
            }
            CaseDecision::Escalate { note } => {
                require_chars("note", note, MIN_REASON_CHARS)?;
                let a = case_audit(now, actor, "case.escalate", case_id, json!({ "note": note }));
                self.change(change(CaseStatus::Escalated, CaseEventKind::Escalate), a, now).await?;
            }
            CaseDecision::ForceUnbind { .. } => return Err(invalid("decision", InputProblem::UseWizard)),
        }
        Ok(DecisionOutcome::Applied)
    }

    /// Unbinds the phone from the old user; the case closes in the same transaction.
    pub(super) async fn apply_unbind(&self, plan: UnbindPlan<'_>, now: DateTime<Utc>) -> Result<()> {
        let row = plan.row;
        let pack = plan.checks.map(|checks| {
            let json = json!({
                "case_id": row.id, "phone": domain::mask::phone(&row.core.phone), "old_user_id": row.core.old_user_id,
                "decision": plan.decision, "note": plan.note, "maker": plan.maker, "checker": plan.checker,
                "decided_at": now, "checks": checks,
            })
            .to_string();
            (hex::encode(Sha256::digest(json.as_bytes())), json)
        });
        let status = match plan.decision {
            DecisionKind::ForceUnbind => CaseStatus::ForceUnbound,
            _ => CaseStatus::Confirmed,
        };
        let evidence = json!({ "case_id": row.id, "source": row.core.source, "entry_at": row.core.entry_at, "bound_at": row.core.bound_at });
        let u = Unbind {
            case_id: row.id,
            status,
            decision: plan.decision,
            reason: plan.note.into(),
            decided_by: plan.maker.into(),
            approved_by: plan.checker.map(str::to_owned),
            at: now,
            evidence: evidence.to_string(),
            pack: pack.clone(),
            guard: plan.guard,
        };
        let detail = json!({
            "decision": plan.decision, "maker": plan.maker, "checker": plan.checker,
            "evidence_sha256": pack.as_ref().map(|p| p.0.clone()),
        });
        let a = case_audit(now, plan.checker.unwrap_or(plan.maker), "case.unbind", row.id, detail);
        let counts = self.store.unbind(&u, plan.from, a).await?;
        tracing::info!(case = %row.id, decision = %plan.decision, debits = counts.debits_ended, cards = counts.cards_flagged, "phone unbound");
        Ok(())
    }

    pub(super) async fn approve(
        &self,
        checker: &str,
        case_id: Uuid,
        verdict: Verdict<'_>,
        now: DateTime<Utc>,
    ) -> Result<DecisionOutcome> {
        let Verdict { approve, note, version } = verdict;
        let row = self.case_row(case_id).await?;
        let status = row.status;
        if status != CaseStatus::PendingApproval {
            return Err(conflict(Conflict::CaseStatus { status }));
        }
        // The checker decides on the proposal they saw; anything newer must be seen first.
        if row.version != version {
            return Err(conflict(Conflict::Changed));
        }
        let maker = row.proposed_by.clone().ok_or_else(|| data_error("proposal"))?;
        // Four-eyes: no role, not even a supervisor or admin, approves their own proposal.
        if maker == checker {
            let a = case_audit(
                now,
                checker,
                "case.approve_refused",
                case_id,
                json!({ "reason": "maker_is_checker" }),
            );
            self.store.append_audit(a).await?;
            return Err(conflict(Conflict::MakerIsChecker));
        }
        if !approve {
            let c = Change {
                case_id,
                from: &[CaseStatus::PendingApproval],
                to: CaseStatus::Open,
                lease: LeaseRule::Any,
                version: Some(version),
                checker: Some(checker),
                proposed: None,
                decision: None,
                event: (
                    CaseEventKind::ApprovalRejected,
                    CaseEventDetail { note: Some(note.to_owned()), ..CaseEventDetail::default() },
                ),
            };
            let a = case_audit(
                now,
                checker,
                "case.approval_rejected",
                case_id,
                json!({ "maker": maker, "note": note }),
            );
            self.change(c, a, now).await?;
            return Ok(DecisionOutcome::Applied);
        }
        let (decision, checks) = stored_proposal(row.proposed.as_deref().unwrap_or("{}"))?;
        let (kind, maker_note, checks) = match decision {
            CaseDecision::ConfirmRecycled { note } => (DecisionKind::ConfirmRecycled, note, None),
            CaseDecision::ForceUnbind { note } => (DecisionKind::ForceUnbind, note, Some(checks)),
            _ => return Err(data_error("proposal")),
        };
        let plan = UnbindPlan {
            row: &row,
            decision: kind,
            note: &maker_note,
            maker: &maker,
            checker: Some(checker),
            checks,
            from: &[CaseStatus::PendingApproval],
            // The checker approves the proposal they reviewed, at that version; a
            // confirmation still may not land inside a freeze window that new
            // evidence opened after the proposal.
            guard: UnbindGuard {
                lease: LeaseRule::Any,
                version: Some(version),
                outside_freeze: kind == DecisionKind::ConfirmRecycled,
            },
        };
        self.apply_unbind(plan, now).await?;
        Ok(DecisionOutcome::Applied)
    }
}
