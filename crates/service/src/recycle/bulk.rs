//! Bulk "not recycled" (supervisor): a dry run says what would close and what is
//! skipped and why; the real run closes each eligible case in its own transaction.

use super::case_view::CaseEventDetail;
use super::decisions::{Change, DECIDABLE};
use super::{MIN_REASON_CHARS, RecycledService, case_audit};
use crate::error::{Result, invalid, require_chars};
use chrono::{DateTime, Utc};
use domain::cases::{BulkSkip, BulkSummary, SkipReason};
use domain::recycle::{CaseEventKind, CaseStatus, DecisionKind, NotRecycledReason};
use domain::{ApiError, InputProblem};
use serde_json::json;
use store::NewAudit;
use uuid::Uuid;

/// Most cases per bulk action.
const MAX_BULK: usize = 1_000;

/// What a supervisor asked for.
pub(super) struct BulkRequest<'a> {
    pub ids: &'a [Uuid],
    pub reason: NotRecycledReason,
    pub note: &'a str,
    pub dry_run: bool,
}

impl RecycledService {
    pub(super) async fn bulk_not_recycled(
        &self,
        actor: &str,
        req: BulkRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<BulkSummary> {
        if req.ids.len() > MAX_BULK {
            return Err(invalid("case_ids", InputProblem::TooMany { max: MAX_BULK }));
        }
        require_chars("note", req.note, MIN_REASON_CHARS)?;
        let (eligible, mut skipped) = self.bulk_eligible(actor, req.ids, now).await?;
        if !req.dry_run {
            for id in &eligible {
                if let Err(e) = self.close_not_recycled(actor, *id, &req, now).await {
                    let error = ApiError::from(e);
                    skipped.push(BulkSkip { case_id: *id, reason: SkipReason::Failed { error } });
                }
            }
            let done = eligible.len() - skipped.iter().filter(|s| eligible.contains(&s.case_id)).count();
            let detail = json!({ "requested": req.ids.len(), "closed": done, "reason": req.reason });
            self.store
                .append_audit(NewAudit::new(now, actor, "case.bulk_not_recycled", "cases", detail))
                .await?;
        }
        Ok(BulkSummary { dry_run: req.dry_run, eligible: eligible.len(), skipped })
    }

    /// Splits `ids` into the cases the action applies to and the ones it skips.
    async fn bulk_eligible(
        &self,
        actor: &str,
        ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<(Vec<Uuid>, Vec<BulkSkip>)> {
        let mut eligible = Vec::new();
        let mut skipped = Vec::new();
        for &case_id in ids {
            let reason = match self.store.case_row(case_id).await? {
                None => Some(SkipReason::NotFound),
                Some(r) => match (r.status, &r.claimed_by) {
                    (CaseStatus::Open | CaseStatus::Escalated, Some(by))
                        if by != actor && r.lease_until.is_some_and(|t| t >= now) =>
                    {
                        Some(SkipReason::ClaimedBy { by: by.clone() })
                    }
                    (CaseStatus::Open | CaseStatus::Escalated, _) => None,
                    (status, _) => Some(SkipReason::Status { status }),
                },
            };
            match reason {
                None => eligible.push(case_id),
                Some(reason) => skipped.push(BulkSkip { case_id, reason }),
            }
        }
        Ok((eligible, skipped))
    }

    async fn close_not_recycled(
        &self,
        actor: &str,
        case_id: Uuid,
        req: &BulkRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let detail = CaseEventDetail {
            decision: Some(DecisionKind::NotRecycled),
            reason: Some(req.reason),
            note: Some(req.note.to_owned()),
            to: None,
        };
        let stored = format!("{}: {}", req.reason.as_str(), req.note);
        let c = Change {
            case_id,
            from: &DECIDABLE,
            to: CaseStatus::NotRecycled,
            lease: store::LeaseRule::Any,
            version: None,
            checker: None,
            proposed: None,
            decision: Some((DecisionKind::NotRecycled, stored, actor.into(), None)),
            event: (CaseEventKind::DecideBulk, detail),
        };
        let a = case_audit(
            now,
            actor,
            "case.not_recycled",
            case_id,
            json!({ "reason": req.reason, "note": req.note, "bulk": true }),
        );
        self.change(c, a, now).await
    }
}
