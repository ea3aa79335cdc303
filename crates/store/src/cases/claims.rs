//! Who works a case and what state it is in: claim, claim-next, reassign, and
//! the compare-and-set status transition. Each writes a timeline line and an
//! audit row in the same transaction.

use super::dialect::Dialect;
use super::{CLAIMABLE, Transition, case_event_tx, conflict};
use crate::{
    CaseRow, CaseStore, LeaseRule, NewAudit, PgStore, Result, SqliteStore, StoreError, truncate_micros,
};
use chrono::{DateTime, Utc};
use domain::recycle::CaseEventKind;
use domain::{Conflict, Entity};
use sqlx::{Postgres, QueryBuilder, Sqlite};
use uuid::Uuid;

macro_rules! claims {
    ($m:ident, $store:ident, $db:ty) => {
        pub(crate) mod $m {
            use super::*;

            pub(crate) async fn claim(
                s: &$store,
                case_id: Uuid,
                actor: &str,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                audit: NewAudit,
            ) -> Result<CaseRow> {
                let mut tx = s.pool.begin().await?;
                let row: Option<CaseRow> = sqlx::query_as(&format!(
                    "UPDATE recycle_cases SET claimed_by = $2, lease_until = $3, version = version + 1 \
                     WHERE id = $1 AND status IN {CLAIMABLE} \
                     AND (claimed_by IS NULL OR lease_until < $4 OR claimed_by = $2) RETURNING *"
                ))
                .bind(case_id)
                .bind(actor)
                .bind(truncate_micros(lease_until))
                .bind(truncate_micros(now))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    drop(tx);
                    return Err(match s.case_row(case_id).await? {
                        None => StoreError::NotFound(Entity::Case),
                        Some(c) => match c.claimed_by {
                            Some(by) if c.lease_until.is_some_and(|t| t >= now) => {
                                conflict(Conflict::ClaimedBy { by: by.clone() })
                            }
                            _ => conflict(Conflict::CaseStatus { status: c.status }),
                        },
                    });
                };
                case_event_tx(&mut tx, case_id, now, actor, (CaseEventKind::Claim, "{}")).await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(row)
            }

            pub(crate) async fn claim_next(
                s: &$store,
                actor: &str,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                mut audit: NewAudit,
            ) -> Result<Option<CaseRow>> {
                let mut tx = s.pool.begin().await?;
                let row: Option<CaseRow> = sqlx::query_as(&format!(
                    "UPDATE recycle_cases SET claimed_by = $1, lease_until = $2, version = version + 1 \
                     WHERE id = (SELECT id FROM recycle_cases WHERE status = 'open' \
                       AND (claimed_by IS NULL OR lease_until < $3) \
                       ORDER BY risk_score DESC, id LIMIT 1{}) \
                     AND (claimed_by IS NULL OR lease_until < $3) RETURNING *",
                    $store::CLAIM_NEXT_LOCK
                ))
                .bind(actor)
                .bind(truncate_micros(lease_until))
                .bind(truncate_micros(now))
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = &row {
                    case_event_tx(&mut tx, row.id, now, actor, (CaseEventKind::Claim, "{}")).await?;
                    audit.target = format!("case:{}", row.id);
                    $store::append_audit_tx(&mut tx, audit).await?;
                }
                tx.commit().await?;
                Ok(row)
            }

            pub(crate) async fn reassign(
                s: &$store,
                case_id: Uuid,
                to: Option<&str>,
                lease_until: Option<DateTime<Utc>>,
                now: DateTime<Utc>,
                event: (CaseEventKind, String),
                audit: NewAudit,
            ) -> Result<CaseRow> {
                let mut tx = s.pool.begin().await?;
                let row: Option<CaseRow> = sqlx::query_as(&format!(
                    "UPDATE recycle_cases SET claimed_by = $2, lease_until = $3, version = version + 1 \
                     WHERE id = $1 AND status IN {CLAIMABLE} RETURNING *"
                ))
                .bind(case_id)
                .bind(to)
                .bind(lease_until.map(truncate_micros))
                .fetch_optional(&mut *tx)
                .await?;
                let row = row.ok_or_else(|| conflict(Conflict::CaseClosed))?;
                case_event_tx(&mut tx, case_id, now, &audit.actor, (event.0, &event.1)).await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(row)
            }

            pub(crate) async fn transition(s: &$store, t: Transition, audit: NewAudit) -> Result<CaseRow> {
                let mut tx = s.pool.begin().await?;
                let mut b = QueryBuilder::<$db>::new("UPDATE recycle_cases SET status = ");
                b.push_bind(t.status.as_str());
                b.push(", updated_at = ").push_bind(truncate_micros(t.now));
                b.push(", version = version + 1, proposed = ");
                b.push_bind(t.proposed.as_ref().map(|p| p.0.clone()));
                b.push(", proposed_by = ").push_bind(t.proposed.as_ref().map(|p| p.1.clone()));
                if let Some((decision, reason, by, checker)) = &t.decision {
                    b.push(", decision = ").push_bind(decision.as_str());
                    b.push(", decision_reason = ").push_bind(reason.clone());
                    b.push(", decided_by = ").push_bind(by.clone());
                    b.push(", approved_by = ").push_bind(checker.clone());
                    b.push(", decided_at = ").push_bind(truncate_micros(t.now));
                }
                // A decided or proposed case leaves its holder's hands.
                b.push(", claimed_by = NULL, lease_until = NULL");
                b.push(" WHERE id = ").push_bind(t.case_id);
                b.push(" AND status IN (");
                let mut list = b.separated(", ");
                for status in &t.from {
                    list.push_bind(status.as_str());
                }
                b.push(")");
                let now = truncate_micros(t.now);
                match &t.lease {
                    LeaseRule::Any => {}
                    LeaseRule::HeldBy(by) => {
                        b.push(" AND claimed_by = ").push_bind(by.clone());
                        b.push(" AND lease_until >= ").push_bind(now);
                    }
                    LeaseRule::NotHeldByOthers(by) => {
                        b.push(" AND (claimed_by IS NULL OR claimed_by = ").push_bind(by.clone());
                        b.push(" OR lease_until IS NULL OR lease_until < ").push_bind(now).push(")");
                    }
                }
                if let Some(version) = t.version {
                    b.push(" AND version = ").push_bind(version);
                }
                if let Some(checker) = &t.not_proposed_by {
                    b.push(" AND proposed_by IS NOT NULL AND proposed_by <> ").push_bind(checker.clone());
                }
                b.push(" RETURNING *");
                let row: Option<CaseRow> = b.build_query_as().fetch_optional(&mut *tx).await?;
                let Some(row) = row else {
                    drop(tx);
                    return Err(match s.case_row(t.case_id).await? {
                        None => StoreError::NotFound(Entity::Case),
                        Some(c) if !t.from.contains(&c.status) => {
                            conflict(Conflict::CaseStatus { status: c.status })
                        }
                        Some(c) if t.version.is_some_and(|v| v != c.version) => conflict(Conflict::Changed),
                        Some(c) if t.not_proposed_by.is_some() && c.proposed_by == t.not_proposed_by => {
                            conflict(Conflict::MakerIsChecker)
                        }
                        Some(c) => match (&t.lease, c.claimed_by) {
                            (LeaseRule::NotHeldByOthers(_), Some(by)) => conflict(Conflict::ClaimedBy { by }),
                            _ => conflict(Conflict::ClaimFirst),
                        },
                    });
                };
                case_event_tx(&mut tx, t.case_id, t.now, &audit.actor, (t.event.0, &t.event.1)).await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(row)
            }
        }
    };
}

claims!(sqlite, SqliteStore, Sqlite);
claims!(pg, PgStore, Postgres);
