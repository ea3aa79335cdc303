//! Unbinding a recycled number from its old user, with every effect in one
//! transaction: the login, the binding history, the SMS-reset block, direct debits,
//! quick-pay cards, the evidence pack, the timeline and the audit row.

use super::{case_event_tx, conflict};
use crate::truncate_micros;
use crate::{
    CaseRow, CaseStore, LeaseRule, NewAudit, PgStore, Result, SqliteStore, StoreError, Unbind, UnbindCounts,
};
use chrono::{DateTime, Utc};
use domain::recycle::{CaseEventKind, CaseStatus, UnbindReason};
use domain::{Conflict, Entity};
use sqlx::{Postgres, QueryBuilder, Sqlite};
use uuid::Uuid;

/// Why the guarded `UPDATE` changed no row, from the case as it is now.
fn refusal(c: &CaseRow, u: &Unbind, from: &[CaseStatus], at: DateTime<Utc>) -> StoreError {
    let live = |by: &str| c.claimed_by.as_deref() == Some(by) && c.lease_until.is_some_and(|t| t >= at);
    let other_holder = c.claimed_by.as_deref().filter(|_| c.lease_until.is_some_and(|t| t >= at));
    let conflict_of = match &u.guard.lease {
        _ if !from.contains(&c.status) => Conflict::CaseStatus { status: c.status },
        _ if u.guard.version.is_some_and(|v| v != c.version) => Conflict::Changed,
        LeaseRule::HeldBy(by) if !live(by) => Conflict::ClaimFirst,
        LeaseRule::NotHeldByOthers(by) if other_holder.is_some_and(|h| h != by) => {
            Conflict::ClaimedBy { by: other_holder.unwrap_or_default().to_owned() }
        }
        _ if u.approved_by.is_some() && c.proposed_by.as_deref() == u.approved_by.as_deref() => {
            Conflict::MakerIsChecker
        }
        _ => match c.core.freeze_until.filter(|f| u.guard.outside_freeze && *f > at) {
            Some(until) => Conflict::InFreezeWindow { until },
            None => Conflict::Changed,
        },
    };
    conflict(conflict_of)
}

macro_rules! unbind {
    ($m:ident, $store:ident, $db:ty) => {
        pub(crate) mod $m {
            use super::*;

            /// The guard's conditions, appended to the `UPDATE`'s `WHERE`.
            pub(super) fn push_guard(b: &mut QueryBuilder<'_, $db>, u: &Unbind, at: DateTime<Utc>) {
                match &u.guard.lease {
                    LeaseRule::Any => {}
                    LeaseRule::HeldBy(by) => {
                        b.push(" AND claimed_by = ").push_bind(by.clone());
                        b.push(" AND lease_until >= ").push_bind(at);
                    }
                    LeaseRule::NotHeldByOthers(by) => {
                        b.push(" AND (claimed_by IS NULL OR claimed_by = ").push_bind(by.clone());
                        b.push(" OR lease_until IS NULL OR lease_until < ").push_bind(at).push(")");
                    }
                }
                if let Some(version) = u.guard.version {
                    b.push(" AND version = ").push_bind(version);
                }
                // Four-eyes in SQL too: the checker is never the maker.
                if let Some(checker) = &u.approved_by {
                    b.push(" AND proposed_by IS NOT NULL AND proposed_by <> ").push_bind(checker.clone());
                }
                if u.guard.outside_freeze {
                    b.push(" AND (freeze_until IS NULL OR freeze_until <= ").push_bind(at).push(")");
                }
            }

            pub(crate) async fn unbind(
                s: &$store,
                u: &Unbind,
                from: &[CaseStatus],
                audit: NewAudit,
            ) -> Result<UnbindCounts> {
                let mut tx = s.pool.begin().await?;
                let at = truncate_micros(u.at);
                let mut b = QueryBuilder::<$db>::new("UPDATE recycle_cases SET status = ");
                b.push_bind(u.status.as_str())
                    .push(", decision = ")
                    .push_bind(u.decision.as_str())
                    .push(", decision_reason = ")
                    .push_bind(u.reason.clone())
                    .push(", decided_by = ")
                    .push_bind(u.decided_by.clone())
                    .push(", approved_by = ")
                    .push_bind(u.approved_by.clone())
                    .push(", decided_at = ")
                    .push_bind(at)
                    .push(", updated_at = ")
                    .push_bind(at)
                    .push(", proposed = NULL, proposed_by = NULL, claimed_by = NULL, lease_until = NULL, ")
                    .push("version = version + 1 WHERE id = ")
                    .push_bind(u.case_id)
                    .push(" AND status IN (");
                let mut list = b.separated(", ");
                for status in from {
                    list.push_bind(status.as_str());
                }
                b.push(")");
                push_guard(&mut b, u, at);
                b.push(" RETURNING *");
                let case: Option<CaseRow> = b.build_query_as().fetch_optional(&mut *tx).await?;
                let Some(case) = case else {
                    drop(tx);
                    return Err(match s.case_row(u.case_id).await? {
                        None => StoreError::NotFound(Entity::Case),
                        Some(c) => refusal(&c, u, from, at),
                    });
                };
                // The user and accounts stay; only the phone stops being a login.
                let unbound = sqlx::query(
                    "UPDATE users SET phone = NULL, sms_reset_blocked = TRUE WHERE id = $1 AND phone = $2",
                )
                .bind(case.core.old_user_id)
                .bind(&case.core.phone)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if unbound != 1 {
                    return Err(conflict(Conflict::NoLongerBound));
                }
                sqlx::query(
                    "UPDATE phone_bindings SET unbound_at = $3, unbind_reason = $4 \
                     WHERE user_id = $1 AND phone = $2 AND unbound_at IS NULL",
                )
                .bind(case.core.old_user_id)
                .bind(&case.core.phone)
                .bind(at)
                .bind(UnbindReason::RecycledNumber { decision: u.decision }.code())
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO sms_reset_blocks (id, user_id, case_id, reason, evidence, blocked_at, blocked_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(Uuid::now_v7())
                .bind(case.core.old_user_id)
                .bind(case.id)
                .bind(UnbindReason::RecycledNumber { decision: u.decision }.code())
                .bind(&u.evidence)
                .bind(at)
                .bind(&u.decided_by)
                .execute(&mut *tx)
                .await?;
                let debits_ended = sqlx::query(
                    "UPDATE direct_debits SET ended_at = $3, end_reason = 'recycled_number' \
                     WHERE user_id = $1 AND phone = $2 AND ended_at IS NULL",
                )
                .bind(case.core.old_user_id)
                .bind(&case.core.phone)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected() as i64;
                let cards_flagged = sqlx::query(
                    "UPDATE bank_cards SET status = 'resign_required' \
                     WHERE user_id = $1 AND reserved_phone = $2 AND status = 'active'",
                )
                .bind(case.core.old_user_id)
                .bind(&case.core.phone)
                .execute(&mut *tx)
                .await?
                .rows_affected() as i64;
                if let Some((sha, json)) = &u.pack {
                    sqlx::query(
                        "INSERT INTO evidence_packs (id, case_id, sha256, json, created_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(Uuid::now_v7())
                    .bind(case.id)
                    .bind(sha)
                    .bind(json)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                let detail = serde_json::json!({
                    "decision": u.decision, "approved_by": u.approved_by,
                    "debits_ended": debits_ended, "cards_flagged": cards_flagged,
                })
                .to_string();
                case_event_tx(&mut tx, case.id, at, &u.decided_by, (CaseEventKind::Unbind, &detail)).await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(UnbindCounts { debits_ended, cards_flagged })
            }
        }
    };
}

unbind!(sqlite, SqliteStore, Sqlite);
unbind!(pg, PgStore, Postgres);
