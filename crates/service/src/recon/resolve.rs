//! Working on suspense items: claims, business actions (each posts its balanced
//! transfer and writes the item off in one transaction with its audit row), the
//! approvals a loss or an internal write-off needs, confirming and unmatching.

use super::run::{date_of, transfer};
use super::{CLAIM_MINUTES, ReconService, audit};
use crate::error::{Result, conflict, data_error, invalid, not_found, require_chars};
use crate::vam::amount_minor;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::auth::{OperatorInfo, Role};
use domain::ledger::{TransferKind, business_date};
use domain::suspense::{
    ActionKind, OurKind, SuspenseAction, SuspenseEvent, SuspenseFilter, SuspenseKind, SuspenseOutcome,
    SuspenseProposalView, SuspenseStatus,
};
use domain::{Conflict, Entity, InputProblem};
use sha2::Digest;
use std::collections::HashMap;
use store::{NewMatch, NewTransferRow, ResolveWrite, SuspenseItemRow, day_number};
use uuid::Uuid;

const REASON_CHARS: usize = 4;

fn event_json(e: &SuspenseEvent) -> String {
    serde_json::to_string(e).unwrap_or_default()
}

/// What a business action writes besides the status change.
#[derive(Default)]
struct Effect {
    posting: Option<NewTransferRow>,
    with_item: Option<Uuid>,
    record_match: Option<NewMatch>,
    outbox: Option<(String, String)>,
}

impl ReconService {
    /// Claims an item for [`CLAIM_MINUTES`].
    pub(crate) async fn claim(&self, actor: &str, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let until = now + Duration::minutes(CLAIM_MINUTES);
        let a = audit(now, actor, "recon.claim", format!("suspense:{id}"), serde_json::json!({}));
        Ok(self.store.claim_suspense(id, actor, now, until, a).await?)
    }

    /// Claims the oldest free item matching the filter.
    pub(crate) async fn claim_next(
        &self,
        actor: &str,
        filter: &SuspenseFilter,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>> {
        let until = now + Duration::minutes(CLAIM_MINUTES);
        let a = audit(now, actor, "recon.claim", "suspense:next".to_owned(), serde_json::json!({}));
        Ok(self.store.claim_next_suspense(filter, actor, now, until, a).await?)
    }

    /// Gives a claim back.
    pub(crate) async fn release(&self, actor: &str, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let a = audit(now, actor, "recon.release", format!("suspense:{id}"), serde_json::json!({}));
        Ok(self.store.release_suspense(id, actor, a).await?)
    }

    /// Resolves or works on an item; a request id answers a resend with the first answer.
    pub(crate) async fn resolve(
        &self,
        op: &OperatorInfo,
        id: Uuid,
        action: SuspenseAction,
        request_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<SuspenseOutcome> {
        let actor = op.username.as_str();
        if let Some(answer) = self.answered(actor, id, request_id).await? {
            return Ok(answer);
        }
        let item = self.store.suspense_item(id).await?.ok_or_else(|| not_found(Entity::SuspenseItem))?;
        let kind = action.kind();
        if !kind.applies_to(item.kind) {
            return Err(conflict(Conflict::ActionNotForKind { action: kind, kind: item.kind }));
        }
        self.check_input(&action, &item, now)?;
        // Whoever brought the statement in does not also pay its money out: a
        // forged file and its pay-out need two people.
        if matches!(
            kind,
            ActionKind::Match
                | ActionKind::CreditSubAccount
                | ActionKind::ReturnToPayer
                | ActionKind::OffsetSettlement
                | ActionKind::Recovered
        ) && let Some(line) = item.line_id
            && self.store.line_importer(line).await?.as_deref() == Some(actor)
        {
            return Err(conflict(Conflict::MakerIsChecker));
        }
        // Refused before a proposal too, not only when it would post (see `effect`).
        if kind == ActionKind::ReturnToPayer
            && super::returns::expected(self.store.as_ref(), &item).await?.bank_ref.is_none()
        {
            return Err(conflict(Conflict::ActionNotForKind { action: kind, kind: item.kind }));
        }
        let from = vec![SuspenseStatus::Open, SuspenseStatus::Explained, SuspenseStatus::Recovering];
        let mut w = ResolveWrite {
            item_id: id,
            from,
            to: SuspenseStatus::Resolved,
            action: Some(kind.as_str()),
            holder: Some(actor.to_owned()),
            posting: None,
            with_item: None,
            our_items: Vec::new(),
            record_match: None,
            explained_until: None,
            recovery_ref: None,
            outbox: None,
            proposal: None,
            new_proposal: None,
            event: event_json(&SuspenseEvent::Resolved { action: kind }),
            actor: actor.to_owned(),
            at: now,
            request: None,
        };
        let (finance, supervisor) = kind.approvals();
        let outcome = if finance || supervisor {
            w.to = SuspenseStatus::PendingApproval;
            w.action = None;
            w.new_proposal =
                Some((request_id, serde_json::to_string(&action).unwrap_or_default(), actor.to_owned()));
            w.event = event_json(&SuspenseEvent::Proposed { action: kind });
            SuspenseOutcome::Proposed { proposal_id: request_id }
        } else {
            match &action {
                SuspenseAction::Explain { until, .. } => {
                    w.to = SuspenseStatus::Explained;
                    w.action = None;
                    w.explained_until = Some(day_number(*until));
                    w.event = event_json(&SuspenseEvent::Worked { action: kind });
                    SuspenseOutcome::Worked
                }
                SuspenseAction::StartRecovery { reference } => {
                    w.to = SuspenseStatus::Recovering;
                    w.action = None;
                    w.recovery_ref = Some(reference.trim().to_owned());
                    w.event = event_json(&SuspenseEvent::Worked { action: kind });
                    SuspenseOutcome::Worked
                }
                _ => {
                    let effect = self.effect(&item, &action, actor, now).await?;
                    let transfer_id = effect.posting.as_ref().map(|t| t.id);
                    w.posting = effect.posting;
                    w.with_item = effect.with_item;
                    w.record_match = effect.record_match;
                    w.outbox = effect.outbox;
                    SuspenseOutcome::Resolved { transfer_id }
                }
            }
        };
        w.request = Some((request_id, serde_json::to_string(&outcome).unwrap_or_default()));
        // The digest of exactly what was asked: a proposal edited in the database
        // afterwards no longer matches its audit row.
        let action_sha256 =
            hex::encode(sha2::Sha256::digest(serde_json::to_string(&action).unwrap_or_default()));
        let detail = serde_json::json!({
            "action": kind.as_str(), "kind": item.kind.as_str(), "amount_minor": item.amount_minor,
            "request_id": request_id, "outcome": &outcome, "action_sha256": action_sha256,
        });
        let name = match outcome {
            SuspenseOutcome::Proposed { .. } => "recon.propose",
            SuspenseOutcome::Worked => "recon.work",
            _ => "recon.resolve",
        };
        let result = self
            .store
            .resolve_suspense(w, now, audit(now, actor, name, format!("suspense:{id}"), detail))
            .await;
        match result {
            Ok(()) => {
                if kind == ActionKind::ReturnToPayer && matches!(outcome, SuspenseOutcome::Resolved { .. }) {
                    // Committed: the dispatcher may send the instruction now.
                    super::returns::ring();
                }
                Ok(outcome)
            }
            // A resend that raced the first: the first's answer is the answer.
            Err(e) => match self.answered(actor, id, request_id).await? {
                Some(answer) => Ok(answer),
                None => Err(e.into()),
            },
        }
    }

    async fn answered(&self, actor: &str, id: Uuid, request_id: Uuid) -> Result<Option<SuspenseOutcome>> {
        match self.store.suspense_request(actor, request_id).await? {
            None => Ok(None),
            Some((item, _)) if item != id => Err(conflict(Conflict::KeyReused)),
            Some((_, answer)) => serde_json::from_str(&answer).map(Some).map_err(|_| data_error("answer")),
        }
    }

    fn check_input(&self, action: &SuspenseAction, item: &SuspenseItemRow, now: DateTime<Utc>) -> Result<()> {
        match action {
            SuspenseAction::ReturnToPayer { reason }
            | SuspenseAction::OffsetSettlement { reason }
            | SuspenseAction::WriteOffInternal { reason } => require_chars("reason", reason, REASON_CHARS),
            SuspenseAction::AcceptLoss { contract_ref, reason } => {
                require_chars("contract_ref", contract_ref, 2)?;
                require_chars("reason", reason, REASON_CHARS)
            }
            SuspenseAction::Explain { reason, until } => {
                require_chars("reason", reason, REASON_CHARS)?;
                if *until <= business_date(now) {
                    return Err(invalid("until", InputProblem::NotATime { text: until.to_string() }));
                }
                Ok(())
            }
            SuspenseAction::StartRecovery { reference } => require_chars("reference", reference, 2),
            SuspenseAction::CreditSubAccount { number } => require_chars("number", number, 1),
            SuspenseAction::Match { items, .. } if items.is_empty() => {
                Err(invalid("items", InputProblem::Required))
            }
            SuspenseAction::Recovered { with_item } if *with_item == item.id => {
                Err(conflict(Conflict::Changed))
            }
            _ => Ok(()),
        }
    }

    /// The transfer (and what goes with it) that writes `item` off by `action`:
    /// the suspense balance moves to where the action says.
    async fn effect(
        &self,
        item: &SuspenseItemRow,
        action: &SuspenseAction,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Effect> {
        let accounts = self.store.recon_accounts(item.physical_id).await?;
        let a = item.amount_minor;
        let sus = accounts.suspense_of(item.kind);
        let key = format!("sus:{}:resolve", item.id);
        let post = |kind: TransferKind, target: Uuid, memo: &str| {
            Some(transfer(
                kind,
                key.clone(),
                item.physical_id,
                memo,
                actor,
                now,
                vec![(sus, a), (target, -a)],
            ))
        };
        let mut effect = Effect::default();
        match action {
            SuspenseAction::CreditSubAccount { .. } | SuspenseAction::ReturnToPayer { .. } if a <= 0 => {
                // Only money the bank has can go to a sub-account or back to a payer.
                return Err(conflict(Conflict::ActionNotForKind { action: action.kind(), kind: item.kind }));
            }
            SuspenseAction::CreditSubAccount { number } => {
                let number: String = number.chars().filter(|c| !c.is_whitespace()).collect();
                let v = self
                    .store
                    .virtual_by_number(&number)
                    .await?
                    .ok_or_else(|| not_found(Entity::SubAccount))?;
                if v.physical_id != item.physical_id {
                    return Err(conflict(Conflict::OtherPhysicalAccount));
                }
                effect.posting = post(TransferKind::CreditIn, v.id, "credit_sub_account");
            }
            SuspenseAction::ReturnToPayer { reason } => {
                effect.posting = post(TransferKind::Refund, accounts.asset, "return_to_payer");
                // The instruction names what the bank needs (see `returns.rs`); it is
                // sent after this transaction commits, never inside it.
                let expected = super::returns::expected(self.store.as_ref(), item).await?;
                // Without the original credit's reference the bank can never return
                // it: refuse now rather than post and retry an unsendable instruction.
                // (No domain code says "no bank reference"; this is the closest.)
                if expected.bank_ref.is_none() {
                    return Err(conflict(Conflict::ActionNotForKind {
                        action: action.kind(),
                        kind: item.kind,
                    }));
                }
                let payload = super::returns::instruction(&expected, reason);
                effect.outbox = Some((store::RETURN_TOPIC.to_owned(), payload.to_string()));
            }
            SuspenseAction::Recovered { with_item } => {
                let other = self
                    .store
                    .suspense_item(*with_item)
                    .await?
                    .ok_or_else(|| not_found(Entity::SuspenseItem))?;
                if other.physical_id != item.physical_id {
                    return Err(conflict(Conflict::OtherPhysicalAccount));
                }
                if !matches!(other.kind, SuspenseKind::Overage | SuspenseKind::Unidentified) {
                    return Err(conflict(Conflict::ActionNotForKind {
                        action: ActionKind::Recovered,
                        kind: other.kind,
                    }));
                }
                if other.amount_minor != -a {
                    return Err(conflict(Conflict::AmountsDiffer {
                        difference_minor: -a - other.amount_minor,
                    }));
                }
                effect.posting =
                    post(TransferKind::InternalTransfer, accounts.suspense_of(other.kind), "recovered");
                effect.with_item = Some(other.id);
            }
            SuspenseAction::AcceptLoss { .. } => {
                effect.posting = post(TransferKind::InternalTransfer, accounts.loss, "accept_loss")
            }
            SuspenseAction::OffsetSettlement { .. } => {
                effect.posting =
                    post(TransferKind::InternalTransfer, accounts.settlement, "offset_settlement");
            }
            SuspenseAction::BookFee => {
                effect.posting = post(TransferKind::InternalTransfer, accounts.fee, "book_fee")
            }
            SuspenseAction::WriteOffInternal { .. } => {
                effect.posting = post(TransferKind::InternalTransfer, accounts.main, "write_off_internal");
            }
            SuspenseAction::Match { items, fee } => {
                let sign = a.signum();
                // A fee the bank kept (positive), or an overpayment (negative) booked
                // the other way: either way named, never silently absorbed.
                let fee_minor = match fee {
                    f if f.is_zero() => 0,
                    f if f.is_sign_negative() => -amount_minor("fee", f.abs())?,
                    f => amount_minor("fee", *f)?,
                };
                let ids: Vec<Uuid> = items.iter().map(|(i, _)| *i).collect();
                let ours = self.store.our_items(&ids).await?;
                let by_id: HashMap<Uuid, _> = ours.iter().map(|o| (o.id, o)).collect();
                let mut lines = vec![(sus, a)];
                let mut parts = Vec::new();
                let mut total = 0i64;
                for (id, amount) in items {
                    let o = by_id.get(id).ok_or_else(|| not_found(Entity::OurItem))?;
                    if o.physical_id != item.physical_id {
                        return Err(conflict(Conflict::OtherPhysicalAccount));
                    }
                    let part = sign * amount_minor("amount", *amount)?;
                    if o.open_minor.signum() != sign {
                        return Err(conflict(Conflict::Changed));
                    }
                    total += part.abs();
                    let target = match (o.kind, o.account_id) {
                        (OurKind::ExpectedIn, Some(account)) => account,
                        _ => accounts.asset,
                    };
                    lines.push((target, -part));
                    parts.push((*id, part));
                }
                let difference_minor = a.abs() + fee_minor - total;
                if difference_minor != 0 {
                    return Err(conflict(Conflict::AmountsDiffer { difference_minor }));
                }
                // A fee is a small difference (a bank charge, rounding), never a way to
                // write a shortage off or to credit more than arrived: a larger one is
                // a loss (two approvals) or no match at all.
                let allowed = max_match_fee_minor(a);
                if fee_minor.abs() > allowed {
                    return Err(conflict(Conflict::AmountsDiffer {
                        difference_minor: fee_minor.signum() * (fee_minor.abs() - allowed),
                    }));
                }
                if fee_minor != 0 {
                    lines.push((accounts.fee, sign * fee_minor));
                }
                // Items the bank already paid into the asset mirror (orders) take
                // the parked money back out of it: net, the posting is a match.
                let t = transfer(
                    TransferKind::InternalTransfer,
                    key.clone(),
                    item.physical_id,
                    "match",
                    actor,
                    now,
                    merge(lines),
                );
                effect.posting = Some(t);
                effect.record_match = Some(NewMatch {
                    id: Uuid::now_v7(),
                    physical_id: item.physical_id,
                    day: day_number(business_date(now)),
                    run_id: None,
                    rule: "manual".to_owned(),
                    status: "confirmed".to_owned(),
                    difference_minor: -fee_minor * sign,
                    score: 100,
                    posting: None,
                    made_by: actor.to_owned(),
                    made_at: now,
                    lines: item.line_id.map(|l| vec![(l, a)]).unwrap_or_default(),
                    items: parts,
                });
            }
            SuspenseAction::Explain { .. } | SuspenseAction::StartRecovery { .. } => {}
        }
        Ok(effect)
    }

    /// Proposals waiting for approvals.
    pub(crate) async fn proposals(&self) -> Result<Vec<SuspenseProposalView>> {
        let mut out = Vec::new();
        for p in self.store.suspense_proposals().await? {
            let Some(item) = self.store.suspense_item(p.item_id).await? else { continue };
            let action: SuspenseAction =
                serde_json::from_str(&p.action).map_err(|_| data_error("proposal"))?;
            out.push(SuspenseProposalView {
                id: p.id,
                item_id: p.item_id,
                item_kind: item.kind,
                amount: crate::vam::yuan(item.amount_minor),
                action,
                maker: p.maker,
                proposed_at: p.proposed_at,
                finance_by: p.finance_by,
                supervisor_by: p.supervisor_by,
            });
        }
        Ok(out)
    }

    /// Approves or rejects a proposal. A loss needs a finance reviewer **and** a
    /// supervisor, neither of them the maker nor each other; the last approval
    /// posts the transfer.
    pub(crate) async fn decide(
        &self,
        op: &OperatorInfo,
        id: Uuid,
        approve: bool,
        now: DateTime<Utc>,
    ) -> Result<SuspenseOutcome> {
        let actor = op.username.as_str();
        let p = self.store.suspense_proposal(id).await?.ok_or_else(|| not_found(Entity::Proposal))?;
        if p.status != "pending" {
            return Err(conflict(Conflict::ProposalDecided));
        }
        if p.maker == actor {
            return Err(conflict(Conflict::MakerIsChecker));
        }
        let action: SuspenseAction = serde_json::from_str(&p.action).map_err(|_| data_error("proposal"))?;
        // What is approved is what was proposed: the stored action must match the
        // digest in the proposal's audit row (the hash-chained log), so an edit in
        // the database is refused rather than approved.
        let digest = hex::encode(sha2::Sha256::digest(serde_json::to_string(&action).unwrap_or_default()));
        let proposed = self.store.proposal_audits(p.item_id).await?.into_iter().any(|(actor, detail)| {
            actor == p.maker
                && serde_json::from_str::<serde_json::Value>(&detail).is_ok_and(|d| {
                    d["request_id"].as_str() == Some(id.to_string().as_str())
                        && d["action_sha256"].as_str() == Some(digest.as_str())
                })
        });
        if !proposed {
            return Err(conflict(Conflict::Changed));
        }
        let kind = action.kind();
        let target = format!("suspense:{}", p.item_id);
        if !approve {
            let event = event_json(&SuspenseEvent::Rejected { action: kind });
            let a = audit(
                now,
                actor,
                "recon.reject",
                target,
                serde_json::json!({ "proposal": id, "action": kind.as_str() }),
            );
            self.store.reject_suspense(id, actor, &event, now, a).await?;
            return Ok(SuspenseOutcome::Rejected);
        }
        let (finance, supervisor) = kind.approvals();
        let need_finance = finance && p.finance_by.is_none();
        let need_supervisor = supervisor && p.supervisor_by.is_none();
        let column = match op.role {
            Role::FinanceReviewer if need_finance => "finance_by",
            Role::Supervisor if need_supervisor => "supervisor_by",
            _ => {
                let role = if need_supervisor { Role::Supervisor } else { Role::FinanceReviewer };
                return Err(conflict(Conflict::ApprovalNeedsRole { role }));
            }
        };
        let last = !(need_finance && column != "finance_by" || need_supervisor && column != "supervisor_by");
        let detail =
            serde_json::json!({ "proposal": id, "action": kind.as_str(), "as": column, "last": last });
        if !last {
            let event = event_json(&SuspenseEvent::Approved { action: kind });
            self.store
                .approve_suspense_partly(
                    id,
                    column,
                    actor,
                    &event,
                    now,
                    audit(now, actor, "recon.approve", target, detail),
                )
                .await?;
            return Ok(SuspenseOutcome::Approved);
        }
        let item =
            self.store.suspense_item(p.item_id).await?.ok_or_else(|| not_found(Entity::SuspenseItem))?;
        let effect = self.effect(&item, &action, &p.maker, now).await?;
        let transfer_id = effect.posting.as_ref().map(|t| t.id);
        let w = ResolveWrite {
            item_id: item.id,
            from: vec![SuspenseStatus::PendingApproval],
            to: SuspenseStatus::Resolved,
            action: Some(kind.as_str()),
            holder: None,
            posting: effect.posting,
            with_item: effect.with_item,
            our_items: Vec::new(),
            record_match: effect.record_match,
            explained_until: None,
            recovery_ref: None,
            outbox: effect.outbox,
            proposal: Some((id, column, actor.to_owned())),
            new_proposal: None,
            event: event_json(&SuspenseEvent::Resolved { action: kind }),
            actor: actor.to_owned(),
            at: now,
            request: None,
        };
        self.store.resolve_suspense(w, now, audit(now, actor, "recon.approve", target, detail)).await?;
        if kind == ActionKind::ReturnToPayer {
            super::returns::ring();
        }
        Ok(SuspenseOutcome::Resolved { transfer_id })
    }

    /// Confirms a suggested match (posting an expected payment's credit).
    pub(crate) async fn confirm_match(&self, actor: &str, match_id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let (m, parts) = self.store.match_parts(match_id).await?.ok_or_else(|| not_found(Entity::Match))?;
        if self.store.day_closed(m.physical_id, m.day).await? {
            return Err(conflict(Conflict::DayClosed { day: date_of(m.day) }));
        }
        let accounts = self.store.recon_accounts(m.physical_id).await?;
        let lines: Vec<(Uuid, i64)> = parts.iter().filter_map(|p| p.0.map(|l| (l, p.2))).collect();
        let items: Vec<(Uuid, i64)> = parts.iter().filter_map(|p| p.1.map(|i| (i, p.2))).collect();
        let ours = self.store.our_items(&items.iter().map(|(i, _)| *i).collect::<Vec<_>>()).await?;
        // As in `resolve`: whoever imported a statement line does not also move
        // its money by confirming a match of it.
        for (line, _) in &lines {
            if self.store.line_importer(*line).await?.as_deref() == Some(actor) {
                return Err(conflict(Conflict::MakerIsChecker));
            }
        }
        let by_id: HashMap<Uuid, _> = ours.iter().map(|o| (o.id, o)).collect();
        let posting = self.match_posting(
            &accounts,
            accounts.fee,
            m.physical_id,
            m.id,
            &lines,
            &items,
            &by_id,
            actor,
            now,
        );
        let detail = serde_json::json!({ "match": match_id, "rule": m.rule });
        let a = audit(now, actor, "recon.confirm_match", format!("match:{match_id}"), detail);
        Ok(self.store.set_match(match_id, true, posting, actor, None, now, a).await?)
    }

    /// Reverses a confirmed match: its posting is reversed, its lines go back to
    /// the queue and its items reopen. A closed day's match stays.
    pub(crate) async fn unmatch(
        &self,
        actor: &str,
        match_id: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        require_chars("reason", reason, REASON_CHARS)?;
        let (m, _) = self.store.match_parts(match_id).await?.ok_or_else(|| not_found(Entity::Match))?;
        // A person's match wrote a suspense item off: it is undone only by another
        // business action on the books, not by reopening its line (which would book
        // the money a second time).
        if m.run_id.is_none() {
            return Err(conflict(Conflict::MatchStatus { status: "manual".to_owned() }));
        }
        if self.store.day_closed(m.physical_id, m.day).await? {
            return Err(conflict(Conflict::DayClosed { day: date_of(m.day) }));
        }
        let reversal = match m.transfer_id {
            Some(t) => self.store.transfer_lines(t).await?.map(|(_, _, lines)| {
                let mut r = transfer(
                    TransferKind::Reversal,
                    format!("recon:unmatch:{match_id}"),
                    m.physical_id,
                    "unmatch",
                    actor,
                    now,
                    lines.iter().map(|(a, x)| (*a, -x)).collect(),
                );
                r.reverses = Some(t);
                r
            }),
            None => None,
        };
        let detail = serde_json::json!({ "match": match_id, "reason": reason.trim() });
        let a = audit(now, actor, "recon.unmatch", format!("match:{match_id}"), detail);
        Ok(self.store.set_match(match_id, false, reversal, actor, Some(reason.trim()), now, a).await?)
    }

    /// Closes a day for every physical account and keeps its report as a
    /// snapshot, in one transaction whose audit row names the snapshot's SHA-256.
    pub(crate) async fn close_day(&self, actor: &str, day: NaiveDate, now: DateTime<Utc>) -> Result<()> {
        // Only a day that has ended: closing the future would freeze it for good.
        if day >= business_date(now) {
            return Err(invalid("day", InputProblem::NotATime { text: day.to_string() }));
        }
        if self.store.report_snapshot(day_number(day)).await?.is_some() {
            return Err(conflict(Conflict::DayClosed { day }));
        }
        let physical_ids: Vec<Uuid> =
            self.store.physical_accounts().await?.into_iter().map(|p| p.id).collect();
        let (snapshot, sha256, facts) = self.snapshot_of(day, now).await?;
        let detail = serde_json::json!({ "day": day, "accounts": physical_ids.len(), "sha256": sha256 });
        let a = audit(now, actor, "recon.close_day", format!("report:{day}"), detail);
        let w = store::CloseWrite {
            day: day_number(day),
            physical_ids,
            actor: actor.to_owned(),
            at: now,
            snapshot,
            sha256,
            facts,
        };
        Ok(self.store.close_day_with_snapshot(w, a).await?)
    }
}

/// The largest fee a manual match may book: ¥1, or 1 % of the item, at most ¥50.
pub(crate) fn max_match_fee_minor(item_minor: i64) -> i64 {
    (item_minor.abs() / 100).clamp(100, 5_000)
}

/// Lines on the same account added together (a transfer names an account once).
pub(crate) fn merge(lines: Vec<(Uuid, i64)>) -> Vec<(Uuid, i64)> {
    let mut out: Vec<(Uuid, i64)> = Vec::new();
    for (account, amount) in lines {
        match out.iter_mut().find(|(a, _)| *a == account) {
            Some((_, x)) => *x += amount,
            None => out.push((account, amount)),
        }
    }
    out.retain(|(_, x)| *x != 0);
    out
}
