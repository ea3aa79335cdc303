//! Intake: which of our users a carrier file is about, their risk facts, and
//! opening or extending cases from carrier files, hooks and gateway answers.

use super::Detection;
use super::dialect::{Dialect, LOOKUP_CHUNK};
use crate::error::is_unique_violation;
use crate::{
    BoundPhone, CarrierEventRow, CarrierImportRow, NewAudit, NewCase, PgStore, Result, RiskFacts,
    SqliteStore, UpsertCounts, truncate_micros,
};
use chrono::{DateTime, Utc};
use domain::recycle::CaseStatus;
use sqlx::{Postgres, QueryBuilder, Sqlite};
use std::collections::HashSet;
use uuid::Uuid;

/// Rows per multi-row statement (parameters stay under both databases' limits).
const CHUNK: usize = 1000;
/// From this many numbers on, matching scans all bindings once instead of probing.
const FULL_SCAN_PHONES: usize = 200_000;

macro_rules! intake {
    ($m:ident, $store:ident, $db:ty) => {
        pub(crate) mod $m {
            use super::*;

            /// Inserts events, skipping ones already stored; returns the ids inserted.
            async fn insert_events_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                events: &[CarrierEventRow],
            ) -> Result<HashSet<Uuid>> {
                let mut inserted = HashSet::with_capacity(events.len());
                for chunk in events.chunks(CHUNK) {
                    let ids: Vec<Uuid> = QueryBuilder::<$db>::new(
                        "INSERT INTO carrier_events (id, phone, carrier, province, event, event_at, entry_at, source) ",
                    )
                    .push_values(chunk, |mut q, e| {
                        q.push_bind(e.id)
                            .push_bind(&e.phone)
                            .push_bind(&e.carrier)
                            .push_bind(&e.province)
                            .push_bind(&e.event)
                            .push_bind(truncate_micros(e.event_at))
                            .push_bind(e.entry_at.map(truncate_micros))
                            .push_bind(&e.source);
                    })
                    .push(" ON CONFLICT (phone, event, event_at) DO NOTHING RETURNING id")
                    .build_query_scalar()
                    .fetch_all(&mut **tx)
                    .await?;
                    inserted.extend(ids);
                }
                Ok(inserted)
            }

            /// Opens cases or adds evidence to the active one for the same (phone,
            /// old user). Callers pass at most one case per key.
            async fn upsert_cases_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                cases: &[&NewCase],
            ) -> Result<(UpsertCounts, Vec<Uuid>)> {
                let mut counts = UpsertCounts::default();
                let mut ids = Vec::with_capacity(cases.len());
                for chunk in cases.chunks(CHUNK / 2) {
                    let rows: Vec<(Uuid, i32, i32)> = QueryBuilder::<$db>::new(
                        "INSERT INTO recycle_cases (id, phone, old_user_id, old_customer_id, status, source, \
                         manual_only, risk_score, risk_inputs, balance_minor, carrier, province, bound_at, \
                         entry_at, freeze_until, detected_at, updated_at, evidence_count, version) ",
                    )
                    .push_values(chunk, |mut q, c| {
                        let k = &c.core;
                        let at = truncate_micros(k.detected_at);
                        q.push_bind(c.id)
                            .push_bind(&k.phone)
                            .push_bind(k.old_user_id)
                            .push_bind(k.old_customer_id)
                            .push_bind(CaseStatus::Open.as_str())
                            .push_bind(k.source.as_str())
                            .push_bind(k.manual_only)
                            .push_bind(k.risk_score)
                            .push_bind(&k.risk_inputs)
                            .push_bind(k.balance_minor)
                            .push_bind(&k.carrier)
                            .push_bind(&k.province)
                            .push_bind(truncate_micros(k.bound_at))
                            .push_bind(k.entry_at.map(truncate_micros))
                            .push_bind(k.freeze_until.map(truncate_micros))
                            .push_bind(at)
                            .push_bind(at)
                            .push_bind(c.evidence)
                            .push_bind(1);
                    })
                    // Re-detection: more evidence, the newest risk and facts; a
                    // manual-only flag sticks once any evidence was ambiguous.
                    // The status list is `ACTIVE` (a literal here for `concat!`).
                    .push(concat!(
                        " ON CONFLICT (phone, old_user_id) WHERE status IN ('open', 'pending_approval', 'escalated') ",
                        "DO UPDATE SET evidence_count = recycle_cases.evidence_count + excluded.evidence_count, ",
                        "updated_at = excluded.updated_at, risk_score = excluded.risk_score, ",
                        "risk_inputs = excluded.risk_inputs, balance_minor = excluded.balance_minor, ",
                        "entry_at = COALESCE(excluded.entry_at, recycle_cases.entry_at), ",
                        // The later freeze end wins: an older notice (a late file, or a
                        // crafted one) must not shorten the window.
                        "freeze_until = CASE WHEN excluded.freeze_until IS NULL THEN recycle_cases.freeze_until ",
                        "WHEN recycle_cases.freeze_until IS NULL OR excluded.freeze_until > recycle_cases.freeze_until ",
                        "THEN excluded.freeze_until ELSE recycle_cases.freeze_until END, ",
                        "manual_only = (recycle_cases.manual_only OR excluded.manual_only), ",
                        "version = recycle_cases.version + 1 ",
                        "RETURNING id, evidence_count, version"
                    ))
                    .build_query_as()
                    .fetch_all(&mut **tx)
                    .await?;
                    for (id, _, version) in rows {
                        if version == 1 {
                            counts.opened += 1;
                        } else {
                            counts.updated += 1;
                        }
                        ids.push(id);
                    }
                }
                Ok((counts, ids))
            }

            pub(crate) async fn bound_phones(s: &$store, phones: &[String]) -> Result<Vec<BoundPhone>> {
                let users = $store::USERS_IN_PHONE_LIST;
                let sql = format!(
                    "SELECT u.phone AS phone, u.id AS user_id, u.customer_id AS customer_id, \
                     b.bound_at AS bound_at FROM {} \
                     JOIN phone_bindings b ON b.user_id = u.id AND b.phone = u.phone AND b.unbound_at IS NULL \
                     WHERE {}",
                    users.from, users.filter
                );
                let mut out = Vec::with_capacity(phones.len());
                if phones.len() >= FULL_SCAN_PHONES {
                    // A file about a large share of all numbers: one pass over the
                    // bindings beats a million index probes.
                    let wanted: HashSet<&str> = phones.iter().map(String::as_str).collect();
                    let mut rows = sqlx::query_as::<_, BoundPhone>(
                        "SELECT u.phone AS phone, u.id AS user_id, u.customer_id AS customer_id, \
                         b.bound_at AS bound_at FROM users u JOIN phone_bindings b \
                         ON b.user_id = u.id AND b.phone = u.phone AND b.unbound_at IS NULL",
                    )
                    .fetch(&s.pool);
                    while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
                        if wanted.contains(row.phone.as_str()) {
                            out.push(row);
                        }
                    }
                    return Ok(out);
                }
                for chunk in phones.chunks(LOOKUP_CHUNK) {
                    let rows = sqlx::query_as::<_, BoundPhone>(&sql)
                        .bind($store::phone_list(chunk))
                        .fetch_all(&s.pool);
                    out.extend(rows.await?);
                }
                Ok(out)
            }

            pub(crate) async fn candidate_bindings(
                s: &$store,
                phones: &[(String, Option<DateTime<Utc>>)],
            ) -> Result<Vec<BoundPhone>> {
                let mut out = Vec::new();
                for chunk in phones.chunks($store::CANDIDATE_CHUNK) {
                    out.extend($store::candidates(&s.pool, chunk).await?);
                }
                Ok(out)
            }

            pub(crate) async fn risk_facts(s: &$store, user_ids: &[Uuid]) -> Result<Vec<RiskFacts>> {
                let users = $store::USERS_IN_ID_LIST;
                let sql = format!(
                    "SELECT u.id AS user_id, \
                     CAST(COALESCE((SELECT SUM(a.balance_minor) FROM accounts a \
                          WHERE a.user_id = u.id AND a.kind = 'cash'), 0) AS BIGINT) AS balance_minor, \
                     (SELECT COUNT(*) FROM bank_cards k WHERE k.user_id = u.id AND k.status = 'active') \
                         AS active_cards, \
                     (SELECT COUNT(*) FROM direct_debits d WHERE d.user_id = u.id AND d.ended_at IS NULL) \
                         AS direct_debits, \
                     u.last_login_at AS last_login_at FROM {} WHERE {}",
                    users.from, users.filter
                );
                let mut out = Vec::with_capacity(user_ids.len());
                for chunk in user_ids.chunks(LOOKUP_CHUNK) {
                    let rows =
                        sqlx::query_as::<_, RiskFacts>(&sql).bind($store::id_list(chunk)).fetch_all(&s.pool);
                    out.extend(rows.await?);
                }
                Ok(out)
            }

            pub(crate) async fn import_carrier(
                s: &$store,
                import: &CarrierImportRow,
                events: &[CarrierEventRow],
                detections: &[Detection],
                mut audit: NewAudit,
            ) -> Result<Option<UpsertCounts>> {
                let mut tx = s.pool.begin().await?;
                // First statement writes: takes SQLite's write lock up front.
                let claimed = sqlx::query(
                    "INSERT INTO carrier_imports (id, file_name, sha256, encoding, lines, matched, \
                     cases_opened, cases_updated, imported_by, imported_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 0, 0, $7, $8)",
                )
                .bind(import.id)
                .bind(&import.file_name)
                .bind(&import.sha256)
                .bind(&import.encoding)
                .bind(import.lines)
                .bind(import.matched)
                .bind(&import.imported_by)
                .bind(truncate_micros(import.imported_at))
                .execute(&mut *tx)
                .await;
                match claimed {
                    Err(e) if is_unique_violation(&e) => return Ok(None),
                    other => other?,
                };
                let inserted = insert_events_tx(&mut tx, events).await?;
                let mut fresh: Vec<NewCase> = Vec::new();
                for d in detections {
                    let new_events = d.events.iter().filter(|&&i| inserted.contains(&events[i].id)).count();
                    if new_events > 0 {
                        let mut case = d.case.clone();
                        case.evidence = new_events as i32;
                        fresh.push(case);
                    }
                }
                let refs: Vec<&NewCase> = fresh.iter().collect();
                let (counts, _) = upsert_cases_tx(&mut tx, &refs).await?;
                sqlx::query("UPDATE carrier_imports SET cases_opened = $2, cases_updated = $3 WHERE id = $1")
                    .bind(import.id)
                    .bind(counts.opened)
                    .bind(counts.updated)
                    .execute(&mut *tx)
                    .await?;
                audit.detail["cases_opened"] = counts.opened.into();
                audit.detail["cases_updated"] = counts.updated.into();
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(Some(counts))
            }

            pub(crate) async fn upsert_cases(
                s: &$store,
                cases: &[NewCase],
                events: &[CarrierEventRow],
                audit: NewAudit,
            ) -> Result<Vec<Uuid>> {
                let mut tx = s.pool.begin().await?;
                insert_events_tx(&mut tx, events).await?;
                let refs: Vec<&NewCase> = cases.iter().collect();
                let (_, ids) = upsert_cases_tx(&mut tx, &refs).await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(ids)
            }
        }
    };
}

intake!(sqlite, SqliteStore, Sqlite);
intake!(pg, PgStore, Postgres);
