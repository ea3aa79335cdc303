//! Operations on sub-accounts, and four-eyes: an operation at or above the
//! threshold (every manual credit) is stored as a proposal; a second operator
//! approves it, and the posting takes the approval in its own transaction (the
//! store refuses the maker as checker and a proposal decided twice).

use super::{QUARANTINE_DAYS, VamService, amount_minor};
use crate::error::{Result, conflict, invalid, not_found, require_chars};
use chrono::{DateTime, Utc};
use domain::auth::{OperatorInfo, Permission};
use domain::ledger::{
    AccountId, CloseBlocker, CloseFacts, OwnerKind, TransferKind, TransferLine, VirtualStatus, close_blockers,
};
use domain::vam::{VamOutcome, VamProposalView};
use domain::{ApiError, Conflict, Entity, InputProblem, VamOperation};
use serde_json::json;
use store::{
    HoldRow, NewAudit, NewTransferRow, NewVirtual, PostOutcome, PostWith, ProposalGuard, ProposalRow,
};
use uuid::Uuid;

/// Levels of a virtual tree (platform → anchor → merchant → … → bidder).
const MAX_DEPTH: i32 = 8;

/// Shortest reason for a freeze, a reversal or a memo.
const MIN_REASON_CHARS: usize = 2;

impl VamService {
    /// Does `operation`, or proposes it when it needs a checker.
    pub(crate) async fn operate(
        &self,
        op: &OperatorInfo,
        operation: VamOperation,
        request: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<VamOutcome> {
        let amount = self.check(&operation).await?;
        let stored = serde_json::to_string(&operation).map_err(|_| crate::error::data_error("operation"))?;
        // A request filed as a proposal before stays that proposal, whatever the
        // maker's total says now (it would otherwise post directly as well).
        if let Some(id) = request
            && let Some(answer) = self.proposal_again(id, &op.username, &stored).await?
        {
            return answer;
        }
        let needs_checker = self.needs_checker(&op.username, &operation, amount, now).await?;
        if needs_checker {
            let proposal = ProposalRow {
                id: request.unwrap_or_else(Uuid::now_v7),
                operation: stored,
                amount_minor: amount,
                proposed_by: op.username.clone(),
                proposed_at: now,
                status: "pending".into(),
            };
            let detail = json!({ "operation": operation.name(), "amount_minor": amount });
            let audit =
                NewAudit::new(now, &op.username, "vam.propose", format!("proposal:{}", proposal.id), detail);
            if let Err(e) = self.store.insert_proposal(&proposal, audit).await {
                // The same request sent twice at once: the other one stored it.
                if let Some(id) = request
                    && let Some(answer) = self.proposal_again(id, &op.username, &proposal.operation).await?
                {
                    return answer;
                }
                return Err(e.into());
            }
            return Ok(VamOutcome::Proposed { proposal_id: proposal.id });
        }
        let key = request.map(|r| request_key(&op.username, r));
        self.execute(&op.username, operation, None, key, now).await
    }

    /// A request id seen before as a proposal: the same maker and operation get it
    /// back; anyone or anything else is refused. `None` when there is none.
    async fn proposal_again(
        &self,
        id: Uuid,
        maker: &str,
        stored: &str,
    ) -> Result<Option<Result<VamOutcome>>> {
        Ok(self.store.proposal(id).await?.map(|first| {
            if first.proposed_by == maker && first.operation == stored {
                Ok(VamOutcome::Proposed { proposal_id: id })
            } else {
                Err(conflict(Conflict::KeyReused))
            }
        }))
    }

    /// Whether `operation` (of `amount` fen, by `actor`) waits for a checker.
    pub(crate) async fn needs_checker(
        &self,
        actor: &str,
        operation: &VamOperation,
        amount: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let threshold = self.threshold_minor().await?;
        Ok(match operation {
            VamOperation::ManualCredit { .. } => true,
            // What the maker moved today counts too: splitting an amount below
            // the threshold does not dodge the checker.
            VamOperation::Transfer { .. }
            | VamOperation::Sweep { .. }
            | VamOperation::PostHold { .. }
            | VamOperation::PostInterest { .. }
            | VamOperation::Reverse { .. }
            | VamOperation::SettleTender { .. } => {
                let today = domain::ledger::business_date(now);
                let since = today
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc() - chrono::Duration::hours(8))
                    .unwrap_or(now);
                amount.saturating_add(self.store.maker_total_since(actor, since).await?) >= threshold
            }
            // Lifting a large freeze is as consequential as moving the money.
            VamOperation::Release { .. } => amount >= threshold,
            _ => false,
        })
    }

    /// Validates an operation before it is done or proposed; returns its amount
    /// (fen) for the threshold.
    pub(crate) async fn check(&self, operation: &VamOperation) -> Result<i64> {
        Ok(match operation {
            VamOperation::Open { owner_kind, owner_id, owner_name, parent, .. } => {
                // Every posting updates each ancestor's subtree total: keep trees shallow.
                if let Some(parent) = parent
                    && self.node(*parent).await?.depth + 1 >= MAX_DEPTH
                {
                    return Err(invalid("parent", InputProblem::TooMany { max: MAX_DEPTH as usize }));
                }
                match owner_kind {
                    OwnerKind::Customer | OwnerKind::User if owner_id.is_none() => {
                        return Err(invalid("owner_id", InputProblem::Required));
                    }
                    OwnerKind::Merchant | OwnerKind::Internal => require_chars("owner_name", owner_name, 2)?,
                    _ => {}
                }
                0
            }
            VamOperation::ManualCredit { amount, bank_ref, .. } => {
                require_chars("bank_ref", bank_ref, 4)?;
                amount_minor("amount", *amount)?
            }
            VamOperation::Transfer { amount, memo, from, to } => {
                if from == to {
                    return Err(invalid("to", InputProblem::SameAccount));
                }
                require_chars("memo", memo, MIN_REASON_CHARS)?;
                amount_minor("amount", *amount)?
            }
            VamOperation::Sweep { amount, .. }
            | VamOperation::Release { amount, .. }
            | VamOperation::PostHold { amount, .. } => amount_minor("amount", *amount)?,
            VamOperation::Freeze { amount, reason, .. } => {
                require_chars("reason", reason, MIN_REASON_CHARS)?;
                amount_minor("amount", *amount)?
            }
            VamOperation::PostInterest { interest, .. } => amount_minor("interest", *interest)?,
            VamOperation::Reverse { transfer, reason } => {
                require_chars("reason", reason, MIN_REASON_CHARS)?;
                let (_, _, lines) = self
                    .store
                    .transfer_lines(transfer.0)
                    .await?
                    .ok_or_else(|| not_found(Entity::Transfer))?;
                lines.iter().filter(|(_, a)| *a > 0).map(|(_, a)| *a).sum()
            }
            VamOperation::Close { .. } => 0,
            VamOperation::SettleTender { tender } => {
                let node = self.node(*tender).await?;
                self.bidders(node.physical_id, tender.0).await?.iter().map(|b| b.own_minor()).sum()
            }
        })
    }

    /// Does an operation; `approval` when a checker approved its proposal.
    pub(crate) async fn execute(
        &self,
        actor: &str,
        operation: VamOperation,
        approval: Option<ProposalGuard>,
        key: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<VamOutcome> {
        let with = PostWith { approval: approval.clone(), ..PostWith::default() };
        let key_base = key.unwrap_or_else(|| Uuid::now_v7().to_string());
        match operation {
            VamOperation::Open { physical_id, parent, owner_kind, owner_id, owner_name, purpose } => {
                let owner_name = match (owner_kind, owner_id) {
                    (OwnerKind::Customer, Some(id)) => {
                        self.store.customer(id).await?.ok_or_else(|| not_found(Entity::Customer))?.name
                    }
                    (OwnerKind::User, Some(id)) => {
                        let user = self.store.user(id).await?.ok_or_else(|| not_found(Entity::User))?;
                        self.store
                            .customer(user.customer_id)
                            .await?
                            .ok_or_else(|| not_found(Entity::Customer))?
                            .name
                    }
                    _ => owner_name.trim().to_owned(),
                };
                let v = NewVirtual {
                    id: Uuid::now_v7(),
                    physical_id,
                    parent_id: parent.map(|p| p.0),
                    owner_kind,
                    owner_id,
                    owner_name,
                    purpose,
                    opened_at: now,
                };
                let detail = json!({ "purpose": purpose, "owner_kind": owner_kind, "parent": parent });
                let audit = NewAudit::new(now, actor, "vam.open", format!("account:{}", v.id), detail);
                self.store.open_virtual(&v, domain::ledger::business_date(now), audit).await?;
                Ok(VamOutcome::Posted { id: v.id })
            }
            VamOperation::ManualCredit { physical_id, number, amount, bank_ref, payer } => {
                let notice = crate::gateway::CreditNotice {
                    bank_ref,
                    payee_number: number,
                    amount_minor: amount_minor("amount", amount)?,
                    payer_name: payer,
                    booked_at: now,
                    kind: "credit".into(),
                };
                let outcome = self.book_credit(actor, physical_id, &notice, approval, None, now).await?;
                Ok(VamOutcome::Credit(outcome))
            }
            VamOperation::Transfer { from, to, amount, memo } => {
                let amount = amount_minor("amount", amount)?;
                let (a, b) = (self.node(from).await?, self.node(to).await?);
                if a.physical_id != b.physical_id {
                    return Err(conflict(Conflict::OtherPhysicalAccount));
                }
                let lines = vec![(a.id, amount), (b.id, -amount)];
                let t = self.transfer(
                    TransferKind::InternalTransfer,
                    &key_base,
                    a.physical_id,
                    &memo,
                    actor,
                    now,
                    lines,
                );
                let detail = json!({ "from": a.id, "to": b.id, "amount_minor": amount, "approved": approval.is_some() });
                self.post(t, with, "vam.transfer", detail).await
            }
            VamOperation::Sweep { account, amount } => {
                let amount = amount_minor("amount", amount)?;
                let row = self.node(account).await?;
                let physical = self.physical_row(row.physical_id).await?;
                let lines = vec![(row.id, amount), (physical.main_account, -amount)];
                let t = self.transfer(TransferKind::Sweep, &key_base, row.physical_id, "", actor, now, lines);
                self.post(t, with, "vam.sweep", json!({ "account": row.id, "amount_minor": amount })).await
            }
            VamOperation::Freeze { account, amount, reason, expires_at } => {
                let row = self.node(account).await?;
                self.store.expire_holds(row.id, now).await?;
                let hold = HoldRow {
                    id: Uuid::now_v7(),
                    account_id: row.id,
                    amount_minor: amount_minor("amount", amount)?,
                    remaining_minor: 0,
                    status: domain::ledger::HoldStatus::Pending,
                    reason: reason.trim().to_owned(),
                    expires_at: match expires_at {
                        // An expiry in the past or beyond ten years is a typing mistake.
                        Some(e) if e <= now || e > now + chrono::Duration::days(3660) => {
                            return Err(invalid("expires_at", InputProblem::DateRange));
                        }
                        other => other,
                    },
                    placed_by: actor.to_owned(),
                    placed_at: now,
                };
                let detail =
                    json!({ "account": row.id, "amount_minor": hold.amount_minor, "reason": hold.reason });
                let audit = NewAudit::new(now, actor, "vam.freeze", format!("hold:{}", hold.id), detail);
                self.store.place_hold(&hold, audit).await?;
                Ok(VamOutcome::Posted { id: hold.id })
            }
            VamOperation::Release { hold, amount } => {
                let amount = amount_minor("amount", amount)?;
                let row = self.store.hold(hold.0).await?.ok_or_else(|| not_found(Entity::Hold))?;
                self.store.expire_holds(row.account_id, now).await?;
                let detail = json!({ "account": row.account_id, "amount_minor": amount, "approved": approval.is_some() });
                let audit = NewAudit::new(now, actor, "vam.release", format!("hold:{}", hold.0), detail);
                self.store.release_hold(hold.0, amount, now, approval.as_ref(), audit).await?;
                Ok(VamOutcome::Posted { id: hold.0 })
            }
            VamOperation::PostInterest { physical_id, from, to, interest, digest } => {
                self.post_interest(actor, physical_id, (from, to), interest, &digest, approval, now).await
            }
            VamOperation::Reverse { transfer, reason } => {
                let (kind, physical_id, lines) = self
                    .store
                    .transfer_lines(transfer.0)
                    .await?
                    .ok_or_else(|| not_found(Entity::Transfer))?;
                if kind == TransferKind::Reversal {
                    return Err(conflict(Conflict::AlreadyReversed));
                }
                let lines = lines.into_iter().map(|(a, m)| (a, -m)).collect();
                let mut t = self.transfer(
                    TransferKind::Reversal,
                    &format!("reverse:{}", transfer.0),
                    physical_id,
                    &reason,
                    actor,
                    now,
                    lines,
                );
                t.idempotency_key = format!("reverse:{}", transfer.0);
                t.reverses = Some(transfer.0);
                let detail = json!({ "reverses": transfer.0, "reason": reason.trim() });
                // Reversing twice is a mistake to say, not a retry to absorb.
                match self.post_outcome(t, with, "vam.reverse", detail).await? {
                    PostOutcome::New(id) => Ok(VamOutcome::Posted { id }),
                    PostOutcome::Repeat(_) => Err(conflict(Conflict::AlreadyReversed)),
                }
            }
            VamOperation::SettleTender { tender } => {
                self.settle_tender(actor, tender, approval, &key_base, now).await
            }
            VamOperation::PostHold { hold, amount, to } => {
                let amount = amount_minor("amount", amount)?;
                let h = self.store.hold(hold.0).await?.ok_or_else(|| not_found(Entity::Hold))?;
                // More than the hold reserves (the store re-checks it in the posting).
                if amount > h.remaining_minor {
                    return Err(conflict(Conflict::InsufficientFunds));
                }
                let (from, to) = (self.node(AccountId(h.account_id)).await?, self.node(to).await?);
                if from.physical_id != to.physical_id {
                    return Err(conflict(Conflict::OtherPhysicalAccount));
                }
                if from.id == to.id {
                    return Err(invalid("to", InputProblem::SameAccount));
                }
                let lines = vec![(from.id, amount), (to.id, -amount)];
                let t =
                    self.transfer(TransferKind::HoldPost, &key_base, from.physical_id, "", actor, now, lines);
                let detail = json!({ "hold": hold.0, "from": from.id, "to": to.id, "amount_minor": amount,
                                     "approved": approval.is_some() });
                let with = PostWith { hold: Some((hold.0, amount)), ..with };
                self.post(t, with, "vam.post_hold", detail).await
            }
            VamOperation::Close { account } => {
                let blockers = self.close_check(account).await?;
                if !blockers.is_empty() {
                    return Ok(VamOutcome::Blocked { blockers });
                }
                let reusable_from =
                    domain::ledger::reusable_from(domain::ledger::business_date(now), QUARANTINE_DAYS);
                let audit =
                    NewAudit::new(now, actor, "vam.close", format!("account:{}", account.0), json!({}));
                self.store.close_virtual(account.0, now, reusable_from, audit).await?;
                Ok(VamOutcome::Closed)
            }
        }
    }

    /// The live bid-deposit sub-accounts under a tender.
    pub(crate) async fn bidders(&self, physical_id: Uuid, tender: Uuid) -> Result<Vec<store::VirtualRow>> {
        Ok(self
            .store
            .virtual_children(physical_id, Some(tender), None, 1000)
            .await?
            .into_iter()
            .filter(|c| c.purpose == domain::ledger::VirtualPurpose::BidDeposit)
            .filter(|c| !matches!(c.status, VirtualStatus::Closed | VirtualStatus::Quarantined))
            .collect())
    }

    /// Refunds every bidder of a tender in one transfer (money leaves the
    /// physical account), then closes their sub-accounts. Refused while any bidder
    /// has a hold: nothing is refunded.
    async fn settle_tender(
        &self,
        actor: &str,
        tender: AccountId,
        approval: Option<ProposalGuard>,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<VamOutcome> {
        let node = self.node(tender).await?;
        let physical = self.physical_row(node.physical_id).await?;
        let bidders = self.bidders(node.physical_id, tender.0).await?;
        let mut blockers = Vec::new();
        for b in &bidders {
            if b.held_minor > 0 {
                blockers.push(CloseBlocker::ActiveHolds { count: 1, held_minor: b.held_minor });
            }
        }
        if !blockers.is_empty() {
            return Ok(VamOutcome::Blocked { blockers });
        }
        let mut lines: Vec<(Uuid, i64)> =
            bidders.iter().filter(|b| b.own_minor() > 0).map(|b| (b.id, b.own_minor())).collect();
        let total: i64 = lines.iter().map(|(_, m)| m).sum();
        let mut transfer_id = None;
        if total > 0 {
            lines.push((physical.asset_account, -total));
            let t = self.transfer(TransferKind::Refund, key, node.physical_id, "", actor, now, lines);
            let detail = json!({ "tender": tender.0, "bidders": bidders.len(), "refunded_minor": total,
                                 "approved": approval.is_some() });
            let VamOutcome::Posted { id } = self
                .post(t, PostWith { approval, ..PostWith::default() }, "vam.settle_tender", detail)
                .await?
            else {
                return Err(crate::error::data_error("refund"));
            };
            transfer_id = Some(id);
        }
        let reusable_from =
            domain::ledger::reusable_from(domain::ledger::business_date(now), QUARANTINE_DAYS);
        for b in &bidders {
            let audit = NewAudit::new(
                now,
                actor,
                "vam.close",
                format!("account:{}", b.id),
                json!({ "tender": tender.0 }),
            );
            self.store.close_virtual(b.id, now, reusable_from, audit).await?;
        }
        Ok(transfer_id.map_or(VamOutcome::Closed, |id| VamOutcome::Posted { id }))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn transfer(
        &self,
        kind: TransferKind,
        key: &str,
        physical_id: Uuid,
        memo: &str,
        actor: &str,
        now: DateTime<Utc>,
        lines: Vec<(Uuid, i64)>,
    ) -> NewTransferRow {
        NewTransferRow {
            id: Uuid::now_v7(),
            kind,
            idempotency_key: format!("{}:{key}", kind.as_str()),
            reverses: None,
            physical_id,
            memo: memo.trim().to_owned(),
            posted_by: actor.to_owned(),
            posted_at: now,
            lines,
        }
    }

    /// Checks the transfer's shape with the domain's rules, then posts it.
    pub(crate) async fn post(
        &self,
        t: NewTransferRow,
        with: PostWith,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<VamOutcome> {
        Ok(VamOutcome::Posted { id: self.post_outcome(t, with, action, detail).await?.id() })
    }

    /// [`post`](Self::post), telling a new posting from a repeated key.
    pub(crate) async fn post_outcome(
        &self,
        t: NewTransferRow,
        with: PostWith,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<PostOutcome> {
        let shape = domain::ledger::NewTransfer {
            kind: t.kind,
            lines: t
                .lines
                .iter()
                .map(|(a, m)| TransferLine { account: AccountId(*a), amount_minor: *m })
                .collect(),
            idempotency_key: t.idempotency_key.clone(),
            reverses: t.reverses.map(domain::ledger::TransferId),
        };
        if shape.validate().is_err() {
            return Err(invalid("amount", InputProblem::Amount));
        }
        let audit = NewAudit::new(t.posted_at, &t.posted_by, action, format!("transfer:{}", t.id), detail);
        Ok(self.store.post_transfer(&t, with, audit).await?)
    }

    pub(crate) async fn physical_row(&self, id: Uuid) -> Result<store::PhysicalRow> {
        self.store.physical(id).await?.ok_or_else(|| not_found(Entity::PhysicalAccount))
    }

    /// Every blocker that stands in the way of closing.
    pub(crate) async fn close_check(&self, account: AccountId) -> Result<Vec<CloseBlocker>> {
        let row = self.node(account).await?;
        if matches!(row.status, VirtualStatus::Closed | VirtualStatus::Quarantined) {
            return Err(conflict(Conflict::AccountStatus { status: row.status }));
        }
        let holds = self.store.holds(row.id).await?;
        let active: Vec<_> = holds
            .iter()
            .filter(|h| h.status == domain::ledger::HoldStatus::Pending && h.remaining_minor > 0)
            .collect();
        let open_children = self
            .store
            .virtual_children(row.physical_id, Some(row.id), None, 1000)
            .await?
            .iter()
            .filter(|c| !matches!(c.status, VirtualStatus::Closed | VirtualStatus::Quarantined))
            .count();
        let totals = self.store.physical_totals(row.physical_id).await?;
        // Only an account that has held money can be owed part of the interest.
        let had_money = !self.store.entries(row.id, None, None, None, None, 1).await?.is_empty();
        let facts = CloseFacts {
            balance_minor: row.own_minor(),
            active_holds: u32::try_from(active.len()).unwrap_or(u32::MAX),
            held_minor: active.iter().map(|h| h.remaining_minor).sum(),
            pending_credits: 0,
            open_children: u32::try_from(open_children).unwrap_or(u32::MAX),
            // Interest credited by the bank and not yet allocated may be partly this
            // account's: allocate the period first.
            unallocated_interest_minor: if had_money { totals.interest_minor.max(0) } else { 0 },
        };
        Ok(close_blockers(&facts))
    }

    pub(crate) async fn proposals(&self) -> Result<Vec<VamProposalView>> {
        let mut out = Vec::new();
        for p in self.store.pending_proposals().await? {
            let operation =
                serde_json::from_str(&p.operation).map_err(|_| crate::error::data_error("proposal"))?;
            out.push(VamProposalView {
                id: p.id,
                operation,
                proposed_by: p.proposed_by,
                proposed_at: p.proposed_at,
            });
        }
        Ok(out)
    }

    /// A checker decides a proposal: approving does exactly the stored operation,
    /// taking the approval in the same transaction.
    pub(crate) async fn approve(
        &self,
        op: &OperatorInfo,
        proposal_id: Uuid,
        approve: bool,
        now: DateTime<Utc>,
    ) -> Result<VamOutcome> {
        if !op.role.allows(Permission::VirtualAccountApprove) {
            return Err(ApiError::Forbidden { permission: Permission::VirtualAccountApprove }.into());
        }
        let p = self.store.proposal(proposal_id).await?.ok_or_else(|| not_found(Entity::Proposal))?;
        if p.proposed_by == op.username {
            return Err(conflict(Conflict::MakerIsChecker));
        }
        if p.status != "pending" {
            return Err(conflict(Conflict::ProposalDecided));
        }
        let guard = ProposalGuard { proposal_id, checker: op.username.clone(), at: now };
        if !approve {
            let audit =
                NewAudit::new(now, &op.username, "vam.reject", format!("proposal:{proposal_id}"), json!({}));
            self.store.decide_proposal(&guard, false, audit).await?;
            return Ok(VamOutcome::Rejected);
        }
        let operation: VamOperation =
            serde_json::from_str(&p.operation).map_err(|_| crate::error::data_error("proposal"))?;
        // The same key as the maker's direct posting under this id would have: a
        // request that was both posted and proposed (the maker's total crossed the
        // threshold between two sends) moves the money once.
        let key = request_key(&p.proposed_by, proposal_id);
        self.execute(&op.username, operation, Some(guard), Some(key), now).await
    }
}

/// The posting key of an operator's request (or of a proposal, whose id is the
/// maker's request id when it came from a screen).
fn request_key(maker: &str, request: Uuid) -> String {
    format!("req:{maker}:{request}")
}
