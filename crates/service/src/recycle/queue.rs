//! The queue: pages, claims (leases), release, reassignment, saved views.

use super::{MIN_REASON_CHARS, RecycledService, case_audit};
use crate::error::{Result, conflict, data_error, invalid, not_found, require_chars};
use chrono::{DateTime, Duration, Utc};
use domain::auth::{Permission, Role};
use domain::cases::{CaseRowView, QueueCursor, QueueFilter, QueuePage, QueueSort, SavedView};
use domain::phone::Phone;
use domain::recycle::CaseEventKind;
use domain::{Conflict, Entity, InputProblem};
use serde_json::json;
use store::{CaseOrder, CaseQuery, CaseRow, NewAudit};
use uuid::Uuid;

/// Most rows per queue page.
const MAX_QUEUE_ROWS: u32 = 200;
/// Oldest age filter (hours): ten years.
const MAX_AGE_HOURS: i64 = 24 * 366 * 10;

/// Whether `actor` holds the case's lease at `now`.
pub(super) fn holds(row: &CaseRow, actor: &str, now: DateTime<Utc>) -> bool {
    row.claimed_by.as_deref() == Some(actor) && row.lease_until.is_some_and(|t| t >= now)
}

impl RecycledService {
    pub(super) async fn case_row(&self, case_id: Uuid) -> Result<CaseRow> {
        self.store.case_row(case_id).await?.ok_or_else(|| not_found(Entity::Case))
    }

    async fn lease_until(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        Ok(now + Duration::minutes(self.settings().await?.lease_minutes))
    }

    pub(super) fn row_view(r: &CaseRow, now: DateTime<Utc>, sla_hours: i64) -> CaseRowView {
        let (status, core) = (r.status, &r.core);
        let age_hours = (now - core.detected_at).num_hours();
        let lease_live = r.lease_until.is_some_and(|t| t >= now);
        CaseRowView {
            id: r.id,
            phone_masked: domain::mask::phone(&core.phone),
            status,
            source: core.source,
            manual_only: core.manual_only,
            risk_score: core.risk_score,
            carrier: core.carrier.clone(),
            province: core.province.clone(),
            detected_at: core.detected_at,
            age_hours,
            sla_breached: status.is_active() && age_hours >= sla_hours,
            claimed_by: r.claimed_by.clone().filter(|_| lease_live),
            lease_until: r.lease_until.filter(|_| lease_live),
            evidence_count: r.evidence_count,
            proposed_by: r.proposed_by.clone(),
            freeze_until: core.freeze_until,
            version: r.version,
        }
    }

    pub(super) async fn queue(
        &self,
        actor: &str,
        f: &QueueFilter,
        after: Option<QueueCursor>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<QueuePage> {
        let phone = match f.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(String::from(Phone::parse(p).map_err(|e| invalid("phone", e))?)),
            None => None,
        };
        let limit = limit.clamp(1, MAX_QUEUE_ROWS);
        // A typed number of hours: bounded, and the subtraction cannot overflow.
        let detected_before = match f.older_than_hours {
            None => None,
            Some(h) if (0..=MAX_AGE_HOURS).contains(&h) => now.checked_sub_signed(Duration::hours(h)),
            Some(_) => return Err(invalid("older_than_hours", InputProblem::OutOfRange)),
        };
        let q = CaseQuery {
            statuses: f.status.into_iter().collect(),
            source: f.source,
            min_risk: f.min_risk,
            carrier: f.carrier.clone().filter(|c| !c.is_empty()),
            province: f.province.clone().filter(|c| !c.is_empty()),
            detected_before,
            phone,
            claimed_by: f.mine_only.then(|| actor.to_owned()),
            sort: match f.sort {
                QueueSort::RiskDesc => CaseOrder::RiskDesc,
                QueueSort::OldestFirst => CaseOrder::OldestFirst,
                QueueSort::NewestFirst => CaseOrder::NewestFirst,
            },
            after: after.map(|c| (c.risk_score, c.detected_at, c.id)),
            limit,
        };
        let sla_hours = self.settings().await?.sla_hours;
        let rows = self.store.queue(&q).await?;
        let next = rows.last().filter(|_| rows.len() == limit as usize).map(|r| QueueCursor {
            risk_score: r.core.risk_score,
            detected_at: r.core.detected_at,
            id: r.id,
        });
        let rows = rows.iter().map(|r| Self::row_view(r, now, sla_hours)).collect();
        Ok(QueuePage { rows, next })
    }

    pub(super) async fn claim(&self, actor: &str, case_id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let lease = self.lease_until(now).await?;
        let a = case_audit(now, actor, "case.claim", case_id, json!({ "lease_until": lease }));
        self.store.claim(case_id, actor, now, lease, a).await?;
        Ok(())
    }

    pub(super) async fn claim_next(&self, actor: &str, now: DateTime<Utc>) -> Result<Option<Uuid>> {
        let lease = self.lease_until(now).await?;
        let a =
            NewAudit::new(now, actor, "case.claim", "case:?", json!({ "lease_until": lease, "next": true }));
        Ok(self.store.claim_next(actor, now, lease, a).await?.map(|r| r.id))
    }

    pub(super) async fn release(&self, actor: &str, case_id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let row = self.case_row(case_id).await?;
        if row.claimed_by.as_deref() != Some(actor) {
            return Err(conflict(Conflict::NotHolder));
        }
        let a = case_audit(now, actor, "case.release", case_id, json!({}));
        let event = (CaseEventKind::Release, "{}".to_owned());
        self.store.reassign(case_id, None, None, now, event, a).await?;
        Ok(())
    }

    pub(super) async fn reassign(
        &self,
        actor: &str,
        case_id: Uuid,
        to: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        require_chars("reason", reason, MIN_REASON_CHARS)?;
        let op = self
            .store
            .operator_by_username(to.trim())
            .await?
            .ok_or_else(|| invalid("to", InputProblem::NoSuchOperator))?;
        if !Role::parse(&op.role).is_some_and(|r| r.allows(Permission::RecycledReview)) {
            return Err(invalid("to", InputProblem::CannotWorkCases));
        }
        let lease = self.lease_until(now).await?;
        let a = case_audit(
            now,
            actor,
            "case.reassign",
            case_id,
            json!({ "to": op.username, "reason": reason.trim() }),
        );
        let event =
            (CaseEventKind::Reassign, json!({ "to": op.username, "note": reason.trim() }).to_string());
        self.store.reassign(case_id, Some(&op.username), Some(lease), now, event, a).await?;
        Ok(())
    }

    /// An operator's saved queue views (kept in the shared settings, per operator).
    pub(super) async fn queue_views(&self, actor: &str) -> Result<Vec<SavedView>> {
        let Some(v) = self.store.setting(&format!("views:{actor}")).await? else { return Ok(Vec::new()) };
        if let Ok(views) = serde_json::from_str(&v) {
            return Ok(views);
        }
        // Views saved before they had names as fields were (name, filter) pairs.
        let pairs: Vec<(String, QueueFilter)> =
            serde_json::from_str(&v).map_err(|_| data_error("queue views"))?;
        Ok(pairs.into_iter().map(|(name, filter)| SavedView { name, filter }).collect())
    }

    pub(super) async fn save_queue_view(
        &self,
        actor: &str,
        name: &str,
        filter: QueueFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<SavedView>> {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(invalid("view_name", InputProblem::Required));
        }
        let mut views = self.queue_views(actor).await?;
        views.retain(|v| v.name != name);
        views.push(SavedView { name: name.clone(), filter });
        let value = serde_json::to_string(&views).map_err(|_| data_error("queue views"))?;
        let a = NewAudit::new(
            now,
            actor,
            "queue.view_saved",
            format!("operator:{actor}"),
            json!({ "name": name }),
        );
        self.store.put_setting(&format!("views:{actor}"), &value, a).await?;
        Ok(views)
    }
}
