//! Storage of the recycled-number workflow: carrier intake, cases, claims,
//! decisions, unbinding, hooks, verification attempts.
//!
//! The SQL is shared by SQLite and PostgreSQL; where they differ, [`dialect::Dialect`]
//! names the difference. Each concern's module holds one `macro_rules!` body, expanded
//! once per store into a module of free functions (`claims::sqlite`, `claims::pg`, …);
//! the `CaseStore` impls below only delegate to them. A macro rather than generic code
//! because sqlx's bounds for "any database that can bind these types" would have to be
//! repeated on every function.

mod attempts;
mod claims;
mod dialect;
mod intake;
mod lookups;
mod queue;
mod sms;
mod unbind;

use crate::{
    AttemptRow, BankCardRow, BoundPhone, CarrierEventRow, CarrierImportRow, CaseFacts, CaseQuery, CaseRow,
    HookEventRow, NewAudit, NewCase, PgStore, Result, RiskFacts, SmsBlockRow, SqliteStore, StoreError,
    Unbind, UnbindCounts, UpsertCounts, UserRow, truncate_micros,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Conflict;
use domain::recycle::{CaseEventKind, CaseStatus, DecisionKind};
use sqlx::{Database, Encode, Executor, IntoArguments, Type};
use uuid::Uuid;

/// Statuses of a case still being worked, as an SQL list (`CaseStatus::ACTIVE`;
/// a literal so it can be spliced into `concat!`, checked by a test below).
const ACTIVE: &str = "('open', 'pending_approval', 'escalated')";
/// Statuses an operator may claim: a proposal waiting for its checker is nobody's
/// to hold (a claim would bump its version and void the checker's review).
const CLAIMABLE: &str = "('open', 'escalated')";

/// A case to open or extend, with the events (indexes into the import's events) behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The case.
    pub case: NewCase,
    /// Indexes of the events that triggered it.
    pub events: Vec<usize>,
}

/// A state change of one case, applied only if the case is in one of `from`, its
/// lease satisfies `lease` at `now`, and (when given) it is still at `version`.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// Case.
    pub case_id: Uuid,
    /// Allowed current statuses.
    pub from: Vec<CaseStatus>,
    /// Who may hold the lease.
    pub lease: crate::LeaseRule,
    /// The version the change was decided on (optimistic lock).
    pub version: Option<i32>,
    /// The operator who must *not* be the maker (four-eyes checker).
    pub not_proposed_by: Option<String>,
    /// Now.
    pub now: DateTime<Utc>,
    /// New status.
    pub status: CaseStatus,
    /// Proposal JSON and maker (pending approval), or `None` to clear.
    pub proposed: Option<(String, String)>,
    /// Final decision, stored reason text, maker, checker.
    pub decision: Option<(DecisionKind, String, String, Option<String>)>,
    /// Timeline line: kind and JSON detail.
    pub event: (CaseEventKind, String),
}

/// Storage of the recycled-number workflow (a supertrait of [`crate::Store`]).
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// A JSON setting.
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Writes a setting, audited.
    async fn put_setting(&self, key: &str, value: &str, audit: NewAudit) -> Result<()>;
    /// Writes a setting only if it still holds `expected` (`None`: absent), audited;
    /// `Conflict::Changed` otherwise — two supervisors cannot overwrite each other.
    async fn swap_setting(
        &self,
        key: &str,
        expected: Option<&str>,
        value: &str,
        audit: NewAudit,
    ) -> Result<()>;

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
        event: (CaseEventKind, String),
        audit: NewAudit,
    ) -> Result<CaseRow>;
    /// Applies a state change; `Conflict` if the case moved on meanwhile.
    async fn transition(&self, t: Transition, audit: NewAudit) -> Result<CaseRow>;
    /// Unbinds the case's phone from its old user with all effects, in one
    /// transaction; the case must be in one of `from`.
    async fn unbind(&self, u: &Unbind, from: &[CaseStatus], audit: NewAudit) -> Result<UnbindCounts>;

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
        reviewed: &str,
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

fn conflict(c: Conflict) -> StoreError {
    StoreError::Conflict(c)
}

/// Appends a line to a case's timeline inside `tx`.
async fn case_event_tx<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    case_id: Uuid,
    at: DateTime<Utc>,
    actor: &str,
    (kind, detail): (CaseEventKind, &str),
) -> Result<()>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "INSERT INTO case_events (id, case_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::now_v7())
    .bind(case_id)
    .bind(truncate_micros(at))
    .bind(actor)
    .bind(kind.as_str())
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `impl CaseStore` for one store: every method delegates to the function of the
/// same name in the concern's module generated for that store (`$m`).
macro_rules! impl_case_store {
    ($store:ident, $m:ident) => {
        #[async_trait]
        impl CaseStore for $store {
            async fn setting(&self, key: &str) -> Result<Option<String>> {
                lookups::$m::setting(self, key).await
            }

            async fn swap_setting(
                &self,
                key: &str,
                expected: Option<&str>,
                value: &str,
                audit: NewAudit,
            ) -> Result<()> {
                lookups::$m::swap_setting(self, key, expected, value, audit).await
            }

            async fn put_setting(&self, key: &str, value: &str, audit: NewAudit) -> Result<()> {
                lookups::$m::put_setting(self, key, value, audit).await
            }

            async fn bound_phones(&self, phones: &[String]) -> Result<Vec<BoundPhone>> {
                intake::$m::bound_phones(self, phones).await
            }

            async fn candidate_bindings(
                &self,
                phones: &[(String, Option<DateTime<Utc>>)],
            ) -> Result<Vec<BoundPhone>> {
                intake::$m::candidate_bindings(self, phones).await
            }

            async fn risk_facts(&self, user_ids: &[Uuid]) -> Result<Vec<RiskFacts>> {
                intake::$m::risk_facts(self, user_ids).await
            }

            async fn import_carrier(
                &self,
                import: &CarrierImportRow,
                events: &[CarrierEventRow],
                detections: &[Detection],
                audit: NewAudit,
            ) -> Result<Option<UpsertCounts>> {
                intake::$m::import_carrier(self, import, events, detections, audit).await
            }

            async fn upsert_cases(
                &self,
                cases: &[NewCase],
                events: &[CarrierEventRow],
                audit: NewAudit,
            ) -> Result<Vec<Uuid>> {
                intake::$m::upsert_cases(self, cases, events, audit).await
            }

            async fn queue(&self, q: &CaseQuery) -> Result<Vec<CaseRow>> {
                queue::$m::queue(self, q).await
            }

            async fn case_row(&self, case_id: Uuid) -> Result<Option<CaseRow>> {
                queue::$m::case_row(self, case_id).await
            }

            async fn case_facts(&self, case_id: Uuid) -> Result<Option<CaseFacts>> {
                queue::$m::case_facts(self, case_id).await
            }

            async fn claim(
                &self,
                case_id: Uuid,
                actor: &str,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                audit: NewAudit,
            ) -> Result<CaseRow> {
                claims::$m::claim(self, case_id, actor, now, lease_until, audit).await
            }

            async fn claim_next(
                &self,
                actor: &str,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                audit: NewAudit,
            ) -> Result<Option<CaseRow>> {
                claims::$m::claim_next(self, actor, now, lease_until, audit).await
            }

            async fn reassign(
                &self,
                case_id: Uuid,
                to: Option<&str>,
                lease_until: Option<DateTime<Utc>>,
                now: DateTime<Utc>,
                event: (CaseEventKind, String),
                audit: NewAudit,
            ) -> Result<CaseRow> {
                claims::$m::reassign(self, case_id, to, lease_until, now, event, audit).await
            }

            async fn transition(&self, t: Transition, audit: NewAudit) -> Result<CaseRow> {
                claims::$m::transition(self, t, audit).await
            }

            async fn unbind(&self, u: &Unbind, from: &[CaseStatus], audit: NewAudit) -> Result<UnbindCounts> {
                unbind::$m::unbind(self, u, from, audit).await
            }

            async fn record_hook(&self, event: &HookEventRow) -> Result<()> {
                sms::$m::record_hook(self, event).await
            }

            async fn sms_block(&self, user_id: Uuid) -> Result<Option<SmsBlockRow>> {
                sms::$m::sms_block(self, user_id).await
            }

            async fn request_sms_unblock(&self, user_id: Uuid, detail: &str, audit: NewAudit) -> Result<()> {
                sms::$m::request_sms_unblock(self, user_id, detail, audit).await
            }

            async fn lift_sms_block(
                &self,
                user_id: Uuid,
                by: &str,
                reviewed: &str,
                new_phone: Option<&str>,
                now: DateTime<Utc>,
                audit: NewAudit,
            ) -> Result<()> {
                sms::$m::lift_sms_block(self, user_id, by, reviewed, new_phone, now, audit).await
            }

            async fn attempts(
                &self,
                claimant_hash: &str,
                card_hash: Option<&str>,
                since: DateTime<Utc>,
            ) -> Result<Vec<AttemptRow>> {
                attempts::$m::attempts(self, claimant_hash, card_hash, since).await
            }

            async fn record_attempt(&self, a: &AttemptRow, audit: NewAudit) -> Result<()> {
                attempts::$m::record_attempt(self, a, audit).await
            }

            async fn evidence_pack(&self, case_id: Uuid) -> Result<Option<(String, String)>> {
                attempts::$m::evidence_pack(self, case_id).await
            }

            async fn user_by_phone(&self, phone: &str) -> Result<Option<UserRow>> {
                lookups::$m::user_by_phone(self, phone).await
            }

            async fn phone_holder(&self, phone: &str) -> Result<Option<Uuid>> {
                lookups::$m::phone_holder(self, phone).await
            }

            async fn carrier_record(&self, phone: &str) -> Result<Option<crate::CarrierRecordRow>> {
                lookups::$m::carrier_record(self, phone).await
            }

            async fn card_by_hash(
                &self,
                card_hash: &str,
            ) -> Result<Option<(BankCardRow, String, Option<String>)>> {
                lookups::$m::card_by_hash(self, card_hash).await
            }
        }
    };
}

impl_case_store!(SqliteStore, sqlite);
impl_case_store!(PgStore, pg);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_sql_list_is_the_active_statuses() {
        let list: Vec<String> = CaseStatus::ACTIVE.iter().map(|s| format!("'{s}'")).collect();
        assert_eq!(ACTIVE, format!("({})", list.join(", ")));
    }
}
