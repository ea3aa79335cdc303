//! Storage of the recycled-number workflow: carrier intake, cases, claims,
//! decisions, unbinding, hooks, verification attempts. One macro body serves
//! SQLite and PostgreSQL, like `imp.rs`; the only dialect difference is how
//! "claim the next case" locks (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has
//! one writer, so the single UPDATE is already atomic).

use crate::error::is_unique_violation;
use crate::{
    AttemptRow, BankCardRow, BoundPhone, CarrierEventRow, CarrierImportRow, CaseEventRow, CaseFacts,
    CaseOrder, CaseQuery, CaseRow, CustomerRow, DirectDebitRow, HookEventRow, NewAudit, NewCase, PgStore,
    PhoneBindingRow, Result, RiskFacts, SmsBlockRow, SqliteStore, StoreError, Unbind, UnbindCounts,
    UpsertCounts, UserRow, truncate_micros,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::audit::AuditRecord;
use sqlx::{Postgres, QueryBuilder, Sqlite};
use std::collections::HashSet;
use uuid::Uuid;

/// Rows per multi-row statement (parameters stay under both databases' limits).
const CHUNK: usize = 1000;
/// Phones per lookup statement (one list parameter each).
const LOOKUP_CHUNK: usize = 50_000;
/// From this many numbers on, matching scans all bindings once instead of probing.
const FULL_SCAN_PHONES: usize = 200_000;
/// Statuses of a case still being worked.
const ACTIVE: &str = "('open', 'pending_approval', 'escalated')";

/// A case to open or extend, with the events (indexes into the import's events) behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The case.
    pub case: NewCase,
    /// Indexes of the events that triggered it.
    pub events: Vec<usize>,
}

/// A state change of one case, applied only if the case is in one of `from`
/// (and, when `holder` is set, leased by that operator at `now`).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// Case.
    pub case_id: Uuid,
    /// Allowed current statuses.
    pub from: Vec<String>,
    /// The operator who must hold the lease.
    pub holder: Option<String>,
    /// The operator who must *not* be the maker (four-eyes checker).
    pub not_proposed_by: Option<String>,
    /// Now.
    pub now: DateTime<Utc>,
    /// New status.
    pub status: String,
    /// Proposal JSON and maker (pending approval), or `None` to clear.
    pub proposed: Option<(String, String)>,
    /// Final decision, reason, maker, checker.
    pub decision: Option<(String, String, String, Option<String>)>,
    /// Keep the lease (`false` releases it).
    pub keep_claim: bool,
    /// Timeline line: kind and JSON detail.
    pub event: (String, String),
}

/// Storage of the recycled-number workflow (a supertrait of [`crate::Store`]).
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// A JSON setting.
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Writes a setting, audited.
    async fn put_setting(&self, key: &str, value: &str, audit: NewAudit) -> Result<()>;

    /// Current bindings of these phones.
    async fn bound_phones(&self, phones: &[String]) -> Result<Vec<BoundPhone>>;
    /// Current bindings of these phones that a fact dated `before` could make
    /// suspect: bound before it (`None` = any binding). A permissive pre-filter
    /// (whole seconds); the rule itself runs in the domain crate on what comes back.
    async fn candidate_bindings(&self, phones: &[(String, Option<DateTime<Utc>>)])
    -> Result<Vec<BoundPhone>>;
    /// Risk facts of these users.
    async fn risk_facts(&self, user_ids: &[Uuid]) -> Result<Vec<RiskFacts>>;
    /// Applies one carrier file in one transaction. `None` when a file with the same
    /// SHA-256 was imported before (nothing changes). Only events not seen before
    /// (same phone, event and time) count as new evidence.
    async fn import_carrier(
        &self,
        import: &CarrierImportRow,
        events: &[CarrierEventRow],
        detections: &[Detection],
        audit: NewAudit,
    ) -> Result<Option<UpsertCounts>>;
    /// Opens or extends cases outside a file import (hooks, gateway answers).
    async fn upsert_cases(
        &self,
        cases: &[NewCase],
        events: &[CarrierEventRow],
        audit: NewAudit,
    ) -> Result<Vec<Uuid>>;

    /// A page of the queue.
    async fn queue(&self, q: &CaseQuery) -> Result<Vec<CaseRow>>;
    /// One case.
    async fn case_row(&self, case_id: Uuid) -> Result<Option<CaseRow>>;
    /// Everything about a case for its timeline.
    async fn case_facts(&self, case_id: Uuid) -> Result<Option<CaseFacts>>;
    /// Leases a case to `actor` if it is active and free (or its lease ran out, or
    /// `actor` already holds it). Compare-and-set: two agents never both win.
    async fn claim(
        &self,
        case_id: Uuid,
        actor: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        audit: NewAudit,
    ) -> Result<CaseRow>;
    /// Leases the riskiest free open case to `actor`; the audit row's target is set to it.
    async fn claim_next(
        &self,
        actor: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        audit: NewAudit,
    ) -> Result<Option<CaseRow>>;
    /// Gives a lease to another operator (or to nobody).
    async fn reassign(
        &self,
        case_id: Uuid,
        to: Option<&str>,
        lease_until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        event: (String, String),
        audit: NewAudit,
    ) -> Result<CaseRow>;
    /// Applies a state change; `Conflict` if the case moved on meanwhile.
    async fn transition(&self, t: Transition, audit: NewAudit) -> Result<CaseRow>;
    /// Unbinds the case's phone from its old user with all effects, in one
    /// transaction; the case must be in one of `from`.
    async fn unbind(&self, u: &Unbind, from: &[&str], audit: NewAudit) -> Result<UnbindCounts>;

    /// Records a registration / SMS-reset check.
    async fn record_hook(&self, event: &HookEventRow) -> Result<()>;
    /// The active SMS block of a user.
    async fn sms_block(&self, user_id: Uuid) -> Result<Option<SmsBlockRow>>;
    /// Records a maker's request to lift a user's SMS block (after a fresh carrier check).
    async fn request_sms_unblock(&self, user_id: Uuid, detail: &str, audit: NewAudit) -> Result<()>;
    /// Lifts a user's SMS block (a checker approved) and, when given, makes `new_phone`
    /// the user's login (it must be free).
    async fn lift_sms_block(
        &self,
        user_id: Uuid,
        by: &str,
        new_phone: Option<&str>,
        now: DateTime<Utc>,
        audit: NewAudit,
    ) -> Result<()>;

    /// Verification attempts of a claimant or a card since `since`.
    async fn attempts(
        &self,
        claimant_hash: &str,
        card_hash: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<AttemptRow>>;
    /// Records an attempt, audited.
    async fn record_attempt(&self, a: &AttemptRow, audit: NewAudit) -> Result<()>;
    /// The stored evidence pack of a case: (sha256, json).
    async fn evidence_pack(&self, case_id: Uuid) -> Result<Option<(String, String)>>;
    /// The user a phone is the login of.
    async fn user_by_phone(&self, phone: &str) -> Result<Option<UserRow>>;
    /// The customer who last had `phone` bound (the simulator's stand-in for the
    /// carrier's subscriber register).
    async fn phone_holder(&self, phone: &str) -> Result<Option<Uuid>>;
    /// The carrier's own record of a number (the simulator's source of truth).
    async fn carrier_record(&self, phone: &str) -> Result<Option<crate::CarrierRecordRow>>;
    /// A card by its keyed hash, with its holder: (card, holder's name, holder's ID hash).
    async fn card_by_hash(&self, card_hash: &str) -> Result<Option<(BankCardRow, String, Option<String>)>>;
}

fn conflict(what: impl Into<String>) -> StoreError {
    StoreError::Conflict(what.into())
}

macro_rules! impl_case_store {
    ($store:ident, $db:ty, $skip_locked:expr, $phones_from:expr, $list_param:expr, $users_from:expr, $id_param:expr,
     $candidates:path, $candidate_chunk:expr) => {
        impl $store {
            async fn audit_tx(tx: &mut sqlx::Transaction<'_, $db>, a: NewAudit) -> Result<AuditRecord> {
                Self::append_audit_tx(tx, a).await
            }

            async fn case_event_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                case_id: Uuid,
                at: DateTime<Utc>,
                actor: &str,
                (kind, detail): (&str, &str),
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO case_events (id, case_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(Uuid::now_v7())
                .bind(case_id)
                .bind(truncate_micros(at))
                .bind(actor)
                .bind(kind)
                .bind(detail)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

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
                        let at = truncate_micros(c.detected_at);
                        q.push_bind(c.id)
                            .push_bind(&c.phone)
                            .push_bind(c.old_user_id)
                            .push_bind(c.old_customer_id)
                            .push_bind("open")
                            .push_bind(&c.source)
                            .push_bind(c.manual_only)
                            .push_bind(c.risk_score)
                            .push_bind(&c.risk_inputs)
                            .push_bind(c.balance_minor)
                            .push_bind(&c.carrier)
                            .push_bind(&c.province)
                            .push_bind(truncate_micros(c.bound_at))
                            .push_bind(c.entry_at.map(truncate_micros))
                            .push_bind(c.freeze_until.map(truncate_micros))
                            .push_bind(at)
                            .push_bind(at)
                            .push_bind(c.evidence)
                            .push_bind(1);
                    })
                    // Re-detection: more evidence, the newest risk and facts; a
                    // manual-only flag sticks once any evidence was ambiguous.
                    .push(concat!(
                        " ON CONFLICT (phone, old_user_id) WHERE status IN ('open', 'pending_approval', 'escalated') ",
                        "DO UPDATE SET evidence_count = recycle_cases.evidence_count + excluded.evidence_count, ",
                        "updated_at = excluded.updated_at, risk_score = excluded.risk_score, ",
                        "risk_inputs = excluded.risk_inputs, balance_minor = excluded.balance_minor, ",
                        "entry_at = COALESCE(excluded.entry_at, recycle_cases.entry_at), ",
                        "freeze_until = COALESCE(excluded.freeze_until, recycle_cases.freeze_until), ",
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
        }

        #[async_trait]
        impl CaseStore for $store {
            async fn setting(&self, key: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn put_setting(&self, key: &str, value: &str, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
                Self::audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn bound_phones(&self, phones: &[String]) -> Result<Vec<BoundPhone>> {
                let sql = format!(
                    "SELECT u.phone AS phone, u.id AS user_id, u.customer_id AS customer_id, \
                     b.bound_at AS bound_at FROM {} \
                     JOIN phone_bindings b ON b.user_id = u.id AND b.phone = u.phone AND b.unbound_at IS NULL \
                     WHERE {}",
                    $phones_from.0,
                    $phones_from.1
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
                    .fetch(&self.pool);
                    while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
                        if wanted.contains(row.phone.as_str()) {
                            out.push(row);
                        }
                    }
                    return Ok(out);
                }
                for chunk in phones.chunks(LOOKUP_CHUNK) {
                    let rows = sqlx::query_as::<_, BoundPhone>(&sql).bind($list_param(chunk)).fetch_all(&self.pool);
                    out.extend(rows.await?);
                }
                Ok(out)
            }

            async fn candidate_bindings(
                &self,
                phones: &[(String, Option<DateTime<Utc>>)],
            ) -> Result<Vec<BoundPhone>> {
                let mut out = Vec::new();
                for chunk in phones.chunks($candidate_chunk) {
                    let rows = $candidates(&self.pool, chunk).await?;
                    out.extend(rows);
                }
                Ok(out)
            }

            async fn risk_facts(&self, user_ids: &[Uuid]) -> Result<Vec<RiskFacts>> {
                let sql = format!(
                    "SELECT u.id AS user_id, \
                     CAST(COALESCE((SELECT SUM(a.balance_minor) FROM accounts a \
                          WHERE a.user_id = u.id AND a.kind = 'cash'), 0) AS BIGINT) AS balance_minor, \
                     (SELECT COUNT(*) FROM bank_cards k WHERE k.user_id = u.id AND k.status = 'active') \
                         AS active_cards, \
                     (SELECT COUNT(*) FROM direct_debits d WHERE d.user_id = u.id AND d.ended_at IS NULL) \
                         AS direct_debits, \
                     u.last_login_at AS last_login_at FROM {} WHERE {}",
                    $users_from.0,
                    $users_from.1
                );
                let mut out = Vec::with_capacity(user_ids.len());
                for chunk in user_ids.chunks(LOOKUP_CHUNK) {
                    let rows = sqlx::query_as::<_, RiskFacts>(&sql).bind($id_param(chunk)).fetch_all(&self.pool);
                    out.extend(rows.await?);
                }
                Ok(out)
            }

            async fn import_carrier(
                &self,
                import: &CarrierImportRow,
                events: &[CarrierEventRow],
                detections: &[Detection],
                mut audit: NewAudit,
            ) -> Result<Option<UpsertCounts>> {
                let mut tx = self.pool.begin().await?;
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
                let inserted = Self::insert_events_tx(&mut tx, events).await?;
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
                let (counts, _) = Self::upsert_cases_tx(&mut tx, &refs).await?;
                sqlx::query("UPDATE carrier_imports SET cases_opened = $2, cases_updated = $3 WHERE id = $1")
                    .bind(import.id)
                    .bind(counts.opened)
                    .bind(counts.updated)
                    .execute(&mut *tx)
                    .await?;
                audit.detail["cases_opened"] = counts.opened.into();
                audit.detail["cases_updated"] = counts.updated.into();
                Self::audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(Some(counts))
            }

            async fn upsert_cases(
                &self,
                cases: &[NewCase],
                events: &[CarrierEventRow],
                audit: NewAudit,
            ) -> Result<Vec<Uuid>> {
                let mut tx = self.pool.begin().await?;
                Self::insert_events_tx(&mut tx, events).await?;
                let refs: Vec<&NewCase> = cases.iter().collect();
                let (_, ids) = Self::upsert_cases_tx(&mut tx, &refs).await?;
                Self::audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(ids)
            }

            async fn queue(&self, q: &CaseQuery) -> Result<Vec<CaseRow>> {
                let mut b = QueryBuilder::<$db>::new("SELECT * FROM recycle_cases WHERE ");
                if q.statuses.is_empty() {
                    b.push(format!("status IN {ACTIVE}"));
                } else {
                    b.push("status IN (");
                    let mut list = b.separated(", ");
                    for s in &q.statuses {
                        list.push_bind(s.clone());
                    }
                    b.push(")");
                }
                if let Some(v) = &q.source {
                    b.push(" AND source = ").push_bind(v.clone());
                }
                if let Some(v) = q.min_risk {
                    b.push(" AND risk_score >= ").push_bind(v);
                }
                if let Some(v) = &q.carrier {
                    b.push(" AND carrier = ").push_bind(v.clone());
                }
                if let Some(v) = &q.province {
                    b.push(" AND province = ").push_bind(v.clone());
                }
                if let Some(v) = q.detected_before {
                    b.push(" AND detected_at < ").push_bind(truncate_micros(v));
                }
                if let Some(v) = &q.phone {
                    b.push(" AND phone = ").push_bind(v.clone());
                }
                if let Some(v) = &q.claimed_by {
                    b.push(" AND claimed_by = ").push_bind(v.clone());
                }
                // Keyset pagination: deep pages cost the same as the first.
                if let Some((risk, detected, id)) = q.after {
                    match q.sort {
                        CaseOrder::RiskDesc => {
                            b.push(" AND (risk_score < ")
                                .push_bind(risk)
                                .push(" OR (risk_score = ")
                                .push_bind(risk)
                                .push(" AND id > ")
                                .push_bind(id)
                                .push("))");
                        }
                        CaseOrder::OldestFirst => {
                            b.push(" AND (detected_at > ")
                                .push_bind(detected)
                                .push(" OR (detected_at = ")
                                .push_bind(detected)
                                .push(" AND id > ")
                                .push_bind(id)
                                .push("))");
                        }
                        CaseOrder::NewestFirst => {
                            b.push(" AND (detected_at < ")
                                .push_bind(detected)
                                .push(" OR (detected_at = ")
                                .push_bind(detected)
                                .push(" AND id < ")
                                .push_bind(id)
                                .push("))");
                        }
                    }
                }
                b.push(match q.sort {
                    CaseOrder::RiskDesc => " ORDER BY risk_score DESC, id",
                    CaseOrder::OldestFirst => " ORDER BY detected_at, id",
                    CaseOrder::NewestFirst => " ORDER BY detected_at DESC, id DESC",
                });
                b.push(" LIMIT ").push_bind(i64::from(q.limit));
                Ok(b.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn case_row(&self, case_id: Uuid) -> Result<Option<CaseRow>> {
                Ok(sqlx::query_as("SELECT * FROM recycle_cases WHERE id = $1")
                    .bind(case_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn case_facts(&self, case_id: Uuid) -> Result<Option<CaseFacts>> {
                let Some(case) = self.case_row(case_id).await? else { return Ok(None) };
                let user: UserRow = sqlx::query_as("SELECT * FROM users WHERE id = $1")
                    .bind(case.old_user_id)
                    .fetch_one(&self.pool)
                    .await?;
                let customer: CustomerRow = sqlx::query_as("SELECT * FROM customers WHERE id = $1")
                    .bind(case.old_customer_id)
                    .fetch_one(&self.pool)
                    .await?;
                let bindings: Vec<PhoneBindingRow> =
                    sqlx::query_as("SELECT * FROM phone_bindings WHERE phone = $1 ORDER BY bound_at")
                        .bind(&case.phone)
                        .fetch_all(&self.pool)
                        .await?;
                let carrier_events: Vec<CarrierEventRow> =
                    sqlx::query_as("SELECT * FROM carrier_events WHERE phone = $1 ORDER BY event_at")
                        .bind(&case.phone)
                        .fetch_all(&self.pool)
                        .await?;
                let hook_events: Vec<HookEventRow> =
                    sqlx::query_as("SELECT * FROM hook_events WHERE phone = $1 ORDER BY at")
                        .bind(&case.phone)
                        .fetch_all(&self.pool)
                        .await?;
                let cards: Vec<BankCardRow> =
                    sqlx::query_as("SELECT * FROM bank_cards WHERE reserved_phone = $1 ORDER BY bound_at")
                        .bind(&case.phone)
                        .fetch_all(&self.pool)
                        .await?;
                let direct_debits: Vec<DirectDebitRow> =
                    sqlx::query_as("SELECT * FROM direct_debits WHERE phone = $1 ORDER BY signed_at")
                        .bind(&case.phone)
                        .fetch_all(&self.pool)
                        .await?;
                let case_events: Vec<CaseEventRow> =
                    sqlx::query_as("SELECT * FROM case_events WHERE case_id = $1 ORDER BY at, id")
                        .bind(case_id)
                        .fetch_all(&self.pool)
                        .await?;
                let attempts: Vec<AttemptRow> =
                    sqlx::query_as("SELECT * FROM verification_attempts WHERE case_id = $1 ORDER BY at")
                        .bind(case_id)
                        .fetch_all(&self.pool)
                        .await?;
                let sms_blocks: Vec<SmsBlockRow> =
                    sqlx::query_as("SELECT * FROM sms_reset_blocks WHERE user_id = $1 ORDER BY blocked_at")
                        .bind(case.old_user_id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(Some(CaseFacts {
                    case,
                    user,
                    customer,
                    bindings,
                    carrier_events,
                    hook_events,
                    cards,
                    direct_debits,
                    case_events,
                    attempts,
                    sms_blocks,
                }))
            }

            async fn claim(
                &self,
                case_id: Uuid,
                actor: &str,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                audit: NewAudit,
            ) -> Result<CaseRow> {
                let mut tx = self.pool.begin().await?;
                let row: Option<CaseRow> = sqlx::query_as(&format!(
                    "UPDATE recycle_cases SET claimed_by = $2, lease_until = $3, version = version + 1 \
                     WHERE id = $1 AND status IN {ACTIVE} \
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
                    return Err(match self.case_row(case_id).await? {
                        None => StoreError::NotFound(format!("case {case_id}")),
                        Some(c) => match c.claimed_by {
                            Some(by) if c.lease_until.is_some_and(|t| t >= now) => {
                                conflict(format!("case is claimed by {by}"))
                            }
                            _ => conflict(format!("case is {}", c.status)),
                        },
                    });
                };
                Self::case_event_tx(&mut tx, case_id, now, actor, ("claim", "{}")).await?;
                Self::audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn claim_next(
                &self,
                actor: &str,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                mut audit: NewAudit,
            ) -> Result<Option<CaseRow>> {
                let mut tx = self.pool.begin().await?;
                let row: Option<CaseRow> = sqlx::query_as(&format!(
                    "UPDATE recycle_cases SET claimed_by = $1, lease_until = $2, version = version + 1 \
                     WHERE id = (SELECT id FROM recycle_cases WHERE status = 'open' \
                       AND (claimed_by IS NULL OR lease_until < $3) \
                       ORDER BY risk_score DESC, id LIMIT 1{}) \
                     AND (claimed_by IS NULL OR lease_until < $3) RETURNING *",
                    $skip_locked
                ))
                .bind(actor)
                .bind(truncate_micros(lease_until))
                .bind(truncate_micros(now))
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = &row {
                    Self::case_event_tx(&mut tx, row.id, now, actor, ("claim", "{}")).await?;
                    audit.target = format!("case:{}", row.id);
                    Self::audit_tx(&mut tx, audit).await?;
                }
                tx.commit().await?;
                Ok(row)
            }

            async fn reassign(
                &self,
                case_id: Uuid,
                to: Option<&str>,
                lease_until: Option<DateTime<Utc>>,
                now: DateTime<Utc>,
                event: (String, String),
                audit: NewAudit,
            ) -> Result<CaseRow> {
                let mut tx = self.pool.begin().await?;
                let row: Option<CaseRow> = sqlx::query_as(&format!(
                    "UPDATE recycle_cases SET claimed_by = $2, lease_until = $3, version = version + 1 \
                     WHERE id = $1 AND status IN {ACTIVE} RETURNING *"
                ))
                .bind(case_id)
                .bind(to)
                .bind(lease_until.map(truncate_micros))
                .fetch_optional(&mut *tx)
                .await?;
                let row = row.ok_or_else(|| conflict("case is closed or does not exist"))?;
                Self::case_event_tx(&mut tx, case_id, now, &audit.actor.clone(), (&event.0, &event.1)).await?;
                Self::audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn transition(&self, t: Transition, audit: NewAudit) -> Result<CaseRow> {
                let mut tx = self.pool.begin().await?;
                let mut b = QueryBuilder::<$db>::new("UPDATE recycle_cases SET status = ");
                b.push_bind(t.status.clone());
                b.push(", updated_at = ").push_bind(truncate_micros(t.now));
                b.push(", version = version + 1, proposed = ");
                b.push_bind(t.proposed.as_ref().map(|p| p.0.clone()));
                b.push(", proposed_by = ").push_bind(t.proposed.as_ref().map(|p| p.1.clone()));
                if let Some((decision, reason, by, checker)) = &t.decision {
                    b.push(", decision = ").push_bind(decision.clone());
                    b.push(", decision_reason = ").push_bind(reason.clone());
                    b.push(", decided_by = ").push_bind(by.clone());
                    b.push(", approved_by = ").push_bind(checker.clone());
                    b.push(", decided_at = ").push_bind(truncate_micros(t.now));
                }
                if !t.keep_claim {
                    b.push(", claimed_by = NULL, lease_until = NULL");
                }
                b.push(" WHERE id = ").push_bind(t.case_id);
                b.push(" AND status IN (");
                let mut list = b.separated(", ");
                for s in &t.from {
                    list.push_bind(s.clone());
                }
                b.push(")");
                if let Some(holder) = &t.holder {
                    b.push(" AND claimed_by = ").push_bind(holder.clone());
                    b.push(" AND lease_until >= ").push_bind(truncate_micros(t.now));
                }
                if let Some(checker) = &t.not_proposed_by {
                    b.push(" AND proposed_by IS NOT NULL AND proposed_by <> ").push_bind(checker.clone());
                }
                b.push(" RETURNING *");
                let row: Option<CaseRow> = b.build_query_as().fetch_optional(&mut *tx).await?;
                let Some(row) = row else {
                    drop(tx);
                    return Err(match self.case_row(t.case_id).await? {
                        None => StoreError::NotFound(format!("case {}", t.case_id)),
                        Some(c) if !t.from.contains(&c.status) => conflict(format!("case is {}", c.status)),
                        Some(c) if t.not_proposed_by.is_some() && c.proposed_by == t.not_proposed_by => {
                            conflict("the maker cannot approve their own proposal")
                        }
                        Some(_) => conflict("claim the case first (or your claim has expired)"),
                    });
                };
                Self::case_event_tx(&mut tx, t.case_id, t.now, &audit.actor.clone(), (&t.event.0, &t.event.1))
                    .await?;
                Self::audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn unbind(&self, u: &Unbind, from: &[&str], audit: NewAudit) -> Result<UnbindCounts> {
                let mut tx = self.pool.begin().await?;
                let at = truncate_micros(u.at);
                let mut b = QueryBuilder::<$db>::new("UPDATE recycle_cases SET status = ");
                b.push_bind(u.status.clone())
                    .push(", decision = ")
                    .push_bind(u.decision.clone())
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
                for s in from {
                    list.push_bind(*s);
                }
                b.push(") RETURNING *");
                let case: Option<CaseRow> = b.build_query_as().fetch_optional(&mut *tx).await?;
                let Some(case) = case else {
                    drop(tx);
                    return Err(match self.case_row(u.case_id).await? {
                        None => StoreError::NotFound(format!("case {}", u.case_id)),
                        Some(c) => conflict(format!("case is {}", c.status)),
                    });
                };
                // The user and accounts stay; only the phone stops being a login.
                let unbound = sqlx::query(
                    "UPDATE users SET phone = NULL, sms_reset_blocked = TRUE WHERE id = $1 AND phone = $2",
                )
                .bind(case.old_user_id)
                .bind(&case.phone)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if unbound != 1 {
                    return Err(conflict("the phone is no longer this user's login"));
                }
                sqlx::query(
                    "UPDATE phone_bindings SET unbound_at = $3, unbind_reason = $4 \
                     WHERE user_id = $1 AND phone = $2 AND unbound_at IS NULL",
                )
                .bind(case.old_user_id)
                .bind(&case.phone)
                .bind(at)
                .bind(format!("二次号:{}", u.decision))
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO sms_reset_blocks (id, user_id, case_id, reason, evidence, blocked_at, blocked_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(Uuid::now_v7())
                .bind(case.old_user_id)
                .bind(case.id)
                .bind(format!("recycled_number:{}", u.decision))
                .bind(&u.evidence)
                .bind(at)
                .bind(&u.decided_by)
                .execute(&mut *tx)
                .await?;
                let debits_ended = sqlx::query(
                    "UPDATE direct_debits SET ended_at = $3, end_reason = 'recycled_number' \
                     WHERE user_id = $1 AND phone = $2 AND ended_at IS NULL",
                )
                .bind(case.old_user_id)
                .bind(&case.phone)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected() as i64;
                let cards_flagged = sqlx::query(
                    "UPDATE bank_cards SET status = 'resign_required' \
                     WHERE user_id = $1 AND reserved_phone = $2 AND status = 'active'",
                )
                .bind(case.old_user_id)
                .bind(&case.phone)
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
                Self::case_event_tx(&mut tx, case.id, at, &u.decided_by, ("unbind", &detail)).await?;
                Self::audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(UnbindCounts { debits_ended, cards_flagged })
            }

            async fn record_hook(&self, e: &HookEventRow) -> Result<()> {
                sqlx::query(
                    "INSERT INTO hook_events (id, phone, user_id, kind, at, allowed, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(e.id)
                .bind(&e.phone)
                .bind(e.user_id)
                .bind(&e.kind)
                .bind(truncate_micros(e.at))
                .bind(e.allowed)
                .bind(&e.reason)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn sms_block(&self, user_id: Uuid) -> Result<Option<SmsBlockRow>> {
                Ok(sqlx::query_as(
                    "SELECT * FROM sms_reset_blocks WHERE user_id = $1 AND lifted_at IS NULL \
                     ORDER BY blocked_at DESC LIMIT 1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn request_sms_unblock(&self, user_id: Uuid, detail: &str, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let n = sqlx::query(
                    "UPDATE sms_reset_blocks SET lift_detail = $2 WHERE user_id = $1 AND lifted_at IS NULL",
                )
                .bind(user_id)
                .bind(detail)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(conflict("the user has no SMS-reset block"));
                }
                Self::audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn lift_sms_block(
                &self,
                user_id: Uuid,
                by: &str,
                new_phone: Option<&str>,
                now: DateTime<Utc>,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let now = truncate_micros(now);
                let lifted = sqlx::query(
                    "UPDATE sms_reset_blocks SET lifted_at = $2, lifted_by = $3 \
                     WHERE user_id = $1 AND lifted_at IS NULL AND lift_detail IS NOT NULL",
                )
                .bind(user_id)
                .bind(now)
                .bind(by)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if lifted == 0 {
                    return Err(conflict("no pending request to lift an SMS-reset block"));
                }
                sqlx::query("UPDATE users SET sms_reset_blocked = FALSE WHERE id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                if let Some(phone) = new_phone {
                    let bound = sqlx::query("UPDATE users SET phone = $2 WHERE id = $1 AND phone IS NULL")
                        .bind(user_id)
                        .bind(phone)
                        .execute(&mut *tx)
                        .await;
                    match bound {
                        Err(e) if is_unique_violation(&e) => {
                            return Err(conflict("that number is another user's login"));
                        }
                        other => other?,
                    };
                    sqlx::query(
                        "INSERT INTO phone_bindings (id, user_id, phone, bound_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(Uuid::now_v7())
                    .bind(user_id)
                    .bind(phone)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                Self::audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn attempts(
                &self,
                claimant_hash: &str,
                card_hash: Option<&str>,
                since: DateTime<Utc>,
            ) -> Result<Vec<AttemptRow>> {
                Ok(sqlx::query_as(
                    "SELECT * FROM verification_attempts WHERE at >= $3 \
                     AND (claimant_hash = $1 OR card_hash = $2) ORDER BY at",
                )
                .bind(claimant_hash)
                .bind(card_hash)
                .bind(truncate_micros(since))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn record_attempt(&self, a: &AttemptRow, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO verification_attempts (id, kind, claimant_hash, card_hash, case_id, at, \
                     passed, answer, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(a.id)
                .bind(&a.kind)
                .bind(&a.claimant_hash)
                .bind(&a.card_hash)
                .bind(a.case_id)
                .bind(truncate_micros(a.at))
                .bind(a.passed)
                .bind(&a.answer)
                .bind(&a.actor)
                .execute(&mut *tx)
                .await?;
                Self::audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn evidence_pack(&self, case_id: Uuid) -> Result<Option<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT sha256, json FROM evidence_packs WHERE case_id = $1 ORDER BY created_at DESC LIMIT 1",
                )
                .bind(case_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn user_by_phone(&self, phone: &str) -> Result<Option<UserRow>> {
                Ok(sqlx::query_as("SELECT * FROM users WHERE phone = $1")
                    .bind(phone)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn phone_holder(&self, phone: &str) -> Result<Option<Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT u.customer_id FROM phone_bindings b JOIN users u ON u.id = b.user_id \
                     WHERE b.phone = $1 ORDER BY b.bound_at DESC LIMIT 1",
                )
                .bind(phone)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn carrier_record(&self, phone: &str) -> Result<Option<crate::CarrierRecordRow>> {
                Ok(sqlx::query_as("SELECT * FROM carrier_records WHERE phone = $1 ORDER BY updated_at DESC LIMIT 1")
                    .bind(phone)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn card_by_hash(&self, card_hash: &str) -> Result<Option<(BankCardRow, String, Option<String>)>> {
                let card: Option<BankCardRow> =
                    sqlx::query_as("SELECT * FROM bank_cards WHERE card_hash = $1 ORDER BY bound_at DESC LIMIT 1")
                        .bind(card_hash)
                        .fetch_optional(&self.pool)
                        .await?;
                let Some(card) = card else { return Ok(None) };
                let holder: (String, Option<String>) = sqlx::query_as(
                    "SELECT c.name, c.id_number_hash FROM customers c JOIN users u ON u.customer_id = c.id \
                     WHERE u.id = $1",
                )
                .bind(card.user_id)
                .fetch_one(&self.pool)
                .await?;
                Ok(Some((card, holder.0, holder.1)))
            }
        }
    };
}

/// SQLite takes a list as one JSON parameter (no parameter-count limit, one statement).
fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// PostgreSQL takes a list as one array parameter.
fn array_list(items: &[String]) -> Vec<String> {
    items.to_vec()
}

/// SQLite stores UUIDs as 16-byte blobs: pass them as hex in JSON and `unhex` them.
fn json_id_list(ids: &[Uuid]) -> String {
    serde_json::to_string(&ids.iter().map(|id| id.simple().to_string()).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

fn array_id_list(ids: &[Uuid]) -> Vec<Uuid> {
    ids.to_vec()
}

/// SQLite: the rule's time bound is checked in SQL, so only candidate rows cross
/// sqlx's row channel (its per-row cost dominates a million-row match).
async fn sqlite_candidates(
    pool: &sqlx::Pool<Sqlite>,
    chunk: &[(String, Option<DateTime<Utc>>)],
) -> Result<Vec<BoundPhone>> {
    let list: Vec<(&str, Option<i64>)> =
        chunk.iter().map(|(p, t)| (p.as_str(), t.map(|t| t.timestamp()))).collect();
    let json = serde_json::to_string(&list).map_err(|e| StoreError::Data(e.to_string()))?;
    Ok(sqlx::query_as(
        "SELECT u.phone AS phone, u.id AS user_id, u.customer_id AS customer_id, b.bound_at AS bound_at \
         FROM json_each($1) j CROSS JOIN users u ON u.phone = json_extract(j.value, '$[0]') \
         JOIN phone_bindings b ON b.user_id = u.id AND b.phone = u.phone AND b.unbound_at IS NULL \
         WHERE json_extract(j.value, '$[1]') IS NULL OR unixepoch(b.bound_at) <= json_extract(j.value, '$[1]')",
    )
    .bind(json)
    .fetch_all(pool)
    .await?)
}

/// PostgreSQL: the numbers and their time bounds go into a temporary table (one
/// `unnest` insert per chunk), which the planner then joins like any table — a
/// million probes through `= ANY` took 7 s, the staged join about 2 s.
async fn pg_candidates(
    pool: &sqlx::Pool<Postgres>,
    chunk: &[(String, Option<DateTime<Utc>>)],
) -> Result<Vec<BoundPhone>> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "CREATE TEMPORARY TABLE screen_numbers (phone TEXT NOT NULL, before TIMESTAMPTZ) ON COMMIT DROP",
    )
    .execute(&mut *tx)
    .await?;
    let phones: Vec<&str> = chunk.iter().map(|(p, _)| p.as_str()).collect();
    let before: Vec<Option<DateTime<Utc>>> = chunk.iter().map(|(_, t)| *t).collect();
    sqlx::query("INSERT INTO screen_numbers SELECT * FROM unnest($1::text[], $2::timestamptz[])")
        .bind(phones)
        .bind(before)
        .execute(&mut *tx)
        .await?;
    sqlx::query("ANALYZE screen_numbers").execute(&mut *tx).await?;
    let rows = sqlx::query_as(
        "SELECT u.phone AS phone, u.id AS user_id, u.customer_id AS customer_id, b.bound_at AS bound_at \
         FROM screen_numbers s JOIN users u ON u.phone = s.phone \
         JOIN phone_bindings b ON b.user_id = u.id AND b.phone = u.phone AND b.unbound_at IS NULL \
         WHERE s.before IS NULL OR b.bound_at < s.before",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

// Lists are one parameter. On SQLite the list drives the join (CROSS JOIN fixes the
// loop order: probe the index per listed value instead of scanning all users); on
// PostgreSQL `= ANY($1)` lets the planner probe the index.
impl_case_store!(
    SqliteStore,
    Sqlite,
    "",
    ("json_each($1) j CROSS JOIN users u ON u.phone = j.value", "TRUE"),
    json_list,
    ("json_each($1) j CROSS JOIN users u ON u.id = unhex(j.value)", "TRUE"),
    json_id_list,
    sqlite_candidates,
    LOOKUP_CHUNK
);
impl_case_store!(
    PgStore,
    Postgres,
    " FOR UPDATE SKIP LOCKED",
    ("users u", "u.phone = ANY($1)"),
    array_list,
    ("users u", "u.id = ANY($1)"),
    array_id_list,
    pg_candidates,
    usize::MAX
);
