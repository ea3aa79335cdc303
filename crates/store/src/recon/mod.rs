//! Storage of reconciliation (对账) and suspense (挂账): statements and their lines,
//! our expected items, matches, suspense items with their history and proposals.
//!
//! Money moves only through the ledger of `vam/` (`post_in_tx`), inside the same
//! transaction as the item's change and its audit row: an item is parked and
//! written off by transfers, never by editing a balance. The SQL is one
//! `macro_rules!` body expanded once per database, like `vam/`.

mod bulk;
mod report;
mod returns;
mod rows;

pub use report::*;
pub use returns::*;
pub use rows::*;

use crate::error::is_unique_violation;
use crate::vam::{PostOutcome, PostWith, shard_of};
use crate::{NewAudit, NewTransferRow, PgStore, Result, SqliteStore, StoreError, truncate_micros};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Conflict;
use domain::ledger::AccountKind;
use domain::suspense::{SuspenseFilter, SuspenseKind, SuspenseStatus};
use uuid::Uuid;

/// Ledger roles reconciliation adds to a physical account: (role, kind).
const RECON_ROLES: [(&str, AccountKind); 8] = [
    ("sus_overage", AccountKind::Liability),
    ("sus_shortage", AccountKind::Liability),
    ("sus_returned", AccountKind::Liability),
    ("sus_fee", AccountKind::Liability),
    ("sus_one_sided", AccountKind::Liability),
    ("loss", AccountKind::Expense),
    ("fee", AccountKind::Expense),
    ("settlement", AccountKind::Liability),
];

/// Storage of reconciliation and suspense (a supertrait of [`crate::Store`]).
#[async_trait]
pub trait ReconStore: Send + Sync {
    /// The ledger accounts reconciliation books to, created on first use.
    async fn recon_accounts(&self, physical_id: Uuid) -> Result<ReconAccounts>;
    /// Whether a file with this digest was imported.
    async fn statement_file_known(&self, digest: &str) -> Result<bool>;
    /// The live statement with this id, if any.
    async fn statement_by_ref(&self, physical_id: Uuid, statement_ref: &str) -> Result<Option<StatementRow>>;
    /// The live statement ending last on or before `day` (other than `except`).
    async fn statement_before(
        &self,
        physical_id: Uuid,
        day: i32,
        except: &str,
    ) -> Result<Option<StatementRow>>;
    /// Which of these bank references live lines of other statements carry.
    async fn known_bank_refs(
        &self,
        physical_id: Uuid,
        statement_ref: &str,
        refs: &[String],
    ) -> Result<Vec<String>>;
    /// Stores a file's statements and lines in one transaction; a resent statement
    /// (same account and id) replaces the earlier one, whose lines hand their state
    /// to the new lines with the same reference and amount. `false`: the file was
    /// imported before and nothing was written.
    async fn store_statements(
        &self,
        file: &NewStatementFile,
        statements: &[NewStatementRow],
        audit: NewAudit,
    ) -> Result<bool>;
    /// Lines still open (not reconciled) booked on or before `day`.
    async fn open_lines(&self, physical_id: Uuid, day: i32) -> Result<Vec<LineRow>>;
    /// Our open items.
    async fn open_our_items(&self, physical_id: Uuid) -> Result<Vec<OurItemRow>>;
    /// Our items by reference or counterparty (open ones first).
    async fn search_our_items(&self, query: &str, limit: u32) -> Result<Vec<OurItemRow>>;
    /// Our items by id.
    async fn our_items(&self, ids: &[Uuid]) -> Result<Vec<OurItemRow>>;
    /// Adds our items (orders, refunds, expected payments); a repeated reference is skipped.
    async fn insert_our_items(&self, items: &[OurItemRow], audit: NewAudit) -> Result<u64>;
    /// Bank notices of these references: (bank_ref, notice id, outcome, transfer).
    async fn notices_by_ref(
        &self,
        physical_id: Uuid,
        refs: &[String],
    ) -> Result<Vec<(String, Uuid, String, Uuid)>>;
    /// Unidentified bank notices with no suspense item yet: (id, amount, payer, transfer, received).
    async fn unitemised_notices(
        &self,
        physical_id: Uuid,
    ) -> Result<Vec<(Uuid, i64, String, Uuid, DateTime<Utc>)>>;
    /// Automatic confirmed matches whose lines were replaced by a resent statement.
    async fn replaced_auto_matches(&self, physical_id: Uuid) -> Result<Vec<MatchRow>>;
    /// Open items whose statement line a resent statement replaced.
    async fn replaced_open_items(&self, physical_id: Uuid) -> Result<Vec<SuspenseItemRow>>;
    /// Writes a reconciliation run in one transaction with its audit row.
    async fn apply_run(&self, w: RunWrite, audit: NewAudit) -> Result<()>;
    /// A page of the queue: rows, whether more follow, open count.
    async fn suspense_page(
        &self,
        filter: &SuspenseFilter,
        found_between: (Option<i32>, Option<i32>),
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<(Vec<SuspenseItemRow>, bool, i64)>;
    /// One item.
    async fn suspense_item(&self, id: Uuid) -> Result<Option<SuspenseItemRow>>;
    /// Its events (at, actor, JSON), oldest first.
    async fn suspense_events(&self, id: Uuid) -> Result<Vec<(DateTime<Utc>, String, String)>>;
    /// Lines by id.
    async fn lines(&self, ids: &[Uuid]) -> Result<Vec<(LineRow, String)>>;
    /// Lines of a transfer with each account's role or number.
    async fn posting_lines(&self, transfer_id: Uuid) -> Result<Vec<(String, i64)>>;
    /// Claims an item until `until` if free, expired or already the actor's.
    async fn claim_suspense(
        &self,
        id: Uuid,
        actor: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        audit: NewAudit,
    ) -> Result<()>;
    /// Claims the oldest free open item matching the filter.
    async fn claim_next_suspense(
        &self,
        filter: &SuspenseFilter,
        actor: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        audit: NewAudit,
    ) -> Result<Option<Uuid>>;
    /// Gives a claim back.
    async fn release_suspense(&self, id: Uuid, actor: &str, audit: NewAudit) -> Result<()>;
    /// Applies a resolution step in one transaction with its audit row.
    async fn resolve_suspense(&self, w: ResolveWrite, now: DateTime<Utc>, audit: NewAudit) -> Result<()>;
    /// The answer kept for a request id.
    async fn suspense_request(&self, actor: &str, request_id: Uuid) -> Result<Option<(Uuid, String)>>;
    /// Pending proposals, oldest first.
    async fn suspense_proposals(&self) -> Result<Vec<SuspenseProposalRow>>;
    /// One proposal.
    async fn suspense_proposal(&self, id: Uuid) -> Result<Option<SuspenseProposalRow>>;
    /// Records one approval of a pending proposal (compare-and-set on the column).
    async fn approve_suspense_partly(
        &self,
        id: Uuid,
        column: &'static str,
        actor: &str,
        event: &str,
        now: DateTime<Utc>,
        audit: NewAudit,
    ) -> Result<()>;
    /// Rejects a pending proposal; the item goes back to open.
    async fn reject_suspense(
        &self,
        id: Uuid,
        actor: &str,
        event: &str,
        now: DateTime<Utc>,
        audit: NewAudit,
    ) -> Result<()>;
    /// Matches of a day.
    async fn matches_of_day(&self, day: i32, suggested_only: bool) -> Result<Vec<MatchRow>>;
    /// One match with its parts (line or item, amount).
    async fn match_parts(
        &self,
        id: Uuid,
    ) -> Result<Option<(MatchRow, Vec<(Option<Uuid>, Option<Uuid>, i64)>)>>;
    /// Confirms a suggested match (posting it), or reverses a confirmed one.
    #[allow(clippy::too_many_arguments)]
    async fn set_match(
        &self,
        id: Uuid,
        confirm: bool,
        posting: Option<NewTransferRow>,
        actor: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
        audit: NewAudit,
    ) -> Result<()>;
    /// Figures of the daily report.
    async fn report_figures(&self, day: i32) -> Result<ReportFigures>;
    /// Closes a day for a physical account.
    async fn close_day(
        &self,
        physical_id: Uuid,
        day: i32,
        actor: &str,
        now: DateTime<Utc>,
        audit: NewAudit,
    ) -> Result<()>;
    /// Whether the day is closed.
    async fn day_closed(&self, physical_id: Uuid, day: i32) -> Result<bool>;
    /// (actor, detail) of the audit rows that proposed resolutions of an item, newest first.
    async fn proposal_audits(&self, item_id: Uuid) -> Result<Vec<(String, String)>>;
    /// Who imported the file a statement line came in.
    async fn line_importer(&self, line_id: Uuid) -> Result<Option<String>>;
}

fn conflict(c: Conflict) -> StoreError {
    StoreError::Conflict(c)
}

const ITEM_SELECT: &str = "SELECT id, physical_id, kind, amount_minor, status, found_day, found_at, line_id, item_id, \
     credit_id, booking_id, resolution_id, action, channel, counterparty, claimed_by, claim_until, explained_until, \
     recovery_ref, updated_at FROM suspense_items ";

const LINE_COLUMNS: &str = "id, statement_id, physical_id, seq, at, amount_minor, booking_day, bank_ref, end_to_end, \
     counterparty_name, counterparty_account, addressed_account, remittance, bank_code, reversal, return_reason, \
     fee_minor, our_ref, state";

const OUR_SELECT: &str = "SELECT id, physical_id, kind, amount_minor, open_minor, date_from, date_to, reference, \
     counterparty_name, virtual_number, account_id, expected_fee_minor, state, created_at FROM our_items ";

const MATCH_SELECT: &str = "SELECT id, physical_id, day, run_id, rule, status, difference_minor, score, transfer_id FROM recon_matches ";

/// Rows written per `INSERT` when many are written at once.
const CHUNK: usize = 1_000;

macro_rules! recon_impl {
    ($store:ident, $db:ty, $m:ident) => {
        mod $m {
            use super::*;
            type Tx<'c> = sqlx::Transaction<'c, $db>;

            /// Posts inside `tx`; a repeated key answers the first transfer. A
            /// journal that does not balance, names an account twice or moves
            /// nothing is refused here, whatever built it.
            pub(super) async fn post(tx: &mut Tx<'_>, t: &NewTransferRow) -> Result<Uuid> {
                let sum = t.lines.iter().try_fold(0i64, |s, (_, m)| s.checked_add(*m));
                let mut accounts: Vec<Uuid> = t.lines.iter().map(|(a, _)| *a).collect();
                accounts.sort();
                accounts.dedup();
                if sum != Some(0) || t.lines.len() < 2 || accounts.len() != t.lines.len() || t.lines.iter().any(|(_, m)| *m == 0) {
                    return Err(StoreError::Data(format!("transfer {} does not balance", t.idempotency_key)));
                }
                match crate::vam::posting::$m::post_in_tx(tx, t, PostWith::default(), shard_of(t.id)).await? {
                    PostOutcome::New(id) | PostOutcome::Repeat(id) => Ok(id),
                }
            }

            pub(super) async fn event(tx: &mut Tx<'_>, item: Uuid, at: DateTime<Utc>, actor: &str, event: &str) -> Result<()> {
                sqlx::query("INSERT INTO suspense_events (id, item_id, at, actor, event) VALUES ($1, $2, $3, $4, $5)")
                    .bind(Uuid::now_v7())
                    .bind(item)
                    .bind(truncate_micros(at))
                    .bind(actor)
                    .bind(event)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            pub(super) async fn insert_match(tx: &mut Tx<'_>, m: &NewMatch) -> Result<()> {
                // A person's match takes the line of the suspense item it resolves.
                insert_matches(tx, std::slice::from_ref(m), "suspense").await
            }

            /// Matches in bulk: their postings, rows and parts; confirmed ones take
            /// their lines and items. One-to-one matches keep their line and item on
            /// their row (no part rows); whole takes are set-based, checked by the
            /// count of items they changed.
            pub(super) async fn insert_matches(tx: &mut Tx<'_>, ms: &[NewMatch], lines_from: &str) -> Result<()> {
                let mut rows = Vec::with_capacity(ms.len());
                for m in ms {
                    let transfer = match &m.posting {
                        Some(t) => Some(post(tx, t).await?),
                        None => None,
                    };
                    rows.push(bulk::MatchInsert::new(m, transfer));
                }
                bulk::$m::insert_matches(tx, &rows).await?;
                let parts: Vec<(Uuid, Option<Uuid>, Option<Uuid>, i64)> = rows
                    .iter()
                    .filter(|r| r.has_parts())
                    .flat_map(|r| {
                        let m = r.m;
                        m.lines
                            .iter()
                            .map(|(l, a)| (m.id, Some(*l), None, *a))
                            .chain(m.items.iter().map(|(i, a)| (m.id, None, Some(*i), *a)))
                    })
                    .collect();
                for chunk in parts.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO recon_match_parts (match_id, line_id, item_id, amount_minor) ",
                    );
                    qb.push_values(chunk, |mut b, (m, l, i, a)| {
                        b.push_bind(*m).push_bind(*l).push_bind(*i).push_bind(*a);
                    });
                    qb.build().execute(&mut **tx).await?;
                }
                let confirmed: Vec<&NewMatch> = ms.iter().filter(|m| m.status == "confirmed").collect();
                let lines: Vec<Uuid> = confirmed.iter().flat_map(|m| m.lines.iter().map(|(l, _)| *l)).collect();
                set_lines_state(tx, &lines, lines_from, "matched").await?;
                let items: Vec<(Uuid, i64)> = confirmed.iter().flat_map(|m| m.items.iter().copied()).collect();
                take_from_items(tx, &items).await
            }

            /// Moves each line from one state to another, or refuses (`Changed`) if
            /// one is no longer in the first.
            pub(super) async fn move_lines(tx: &mut Tx<'_>, ids: &[Uuid], from: &str, to: &str) -> Result<()> {
                for id in ids {
                    let n = sqlx::query("UPDATE statement_lines SET state = $3 WHERE id = $1 AND state = $2")
                        .bind(id)
                        .bind(from)
                        .bind(to)
                        .execute(&mut **tx)
                        .await?
                        .rows_affected();
                    if n == 0 {
                        return Err(conflict(Conflict::Changed));
                    }
                }
                Ok(())
            }

            /// Moves every line from `from` to `to`, or refuses (`Changed`) if one is
            /// no longer in `from`: a run read its lines before its transaction, and
            /// a person may have matched one meanwhile.
            pub(super) async fn set_lines_state(tx: &mut Tx<'_>, ids: &[Uuid], from: &str, to: &str) -> Result<()> {
                let mut distinct = ids.to_vec();
                distinct.sort_unstable();
                distinct.dedup();
                if bulk::$m::move_lines(tx, &distinct, from, to).await? != distinct.len() as u64 {
                    return Err(conflict(Conflict::Changed));
                }
                Ok(())
            }

            /// Takes amounts of our items; an item taken beyond what is open is a
            /// conflict (another reviewer matched it first). Whole takes (the usual
            /// case) go set-based under a savepoint, checked by the count of items
            /// they changed; anything else is taken one by one.
            pub(super) async fn take_from_items(tx: &mut Tx<'_>, items: &[(Uuid, i64)]) -> Result<()> {
                if items.is_empty() {
                    return Ok(());
                }
                let mut savepoint = sqlx::Connection::begin(&mut **tx).await?;
                if bulk::$m::take_whole(&mut savepoint, items).await? == items.len() as u64 {
                    savepoint.commit().await?;
                    return Ok(());
                }
                savepoint.rollback().await?;
                for (id, amount) in items {
                    // Signed amounts: the open part shrinks towards zero on its own side.
                    let n = sqlx::query(
                        "UPDATE our_items SET open_minor = open_minor - $2, \
                         state = CASE WHEN open_minor - $2 = 0 THEN 'matched' ELSE state END \
                         WHERE id = $1 AND state = 'open' AND ((open_minor >= 0 AND $2 > 0 AND open_minor - $2 >= 0) \
                         OR (open_minor <= 0 AND $2 < 0 AND open_minor - $2 <= 0))",
                    )
                    .bind(id)
                    .bind(amount)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(conflict(Conflict::Changed));
                    }
                }
                Ok(())
            }

            /// A match's reversal takes back the fee difference its own posting
            /// parked: the item closes as superseded by the reversal. One already
            /// resolved or waiting for approval refuses the reversal (`Changed`).
            pub(super) async fn supersede_fee_items(
                tx: &mut Tx<'_>,
                match_id: Uuid,
                reversal: Uuid,
                actor: &str,
                at: DateTime<Utc>,
            ) -> Result<()> {
                let items: Vec<(Uuid, String)> = sqlx::query_as(
                    "SELECT s.id, s.status FROM suspense_items s JOIN recon_matches m ON m.transfer_id = s.booking_id \
                     WHERE m.id = $1 AND s.kind = 'fee_difference'",
                )
                .bind(match_id)
                .fetch_all(&mut **tx)
                .await?;
                for (item, status) in items {
                    let n = sqlx::query(
                        "UPDATE suspense_items SET status = 'resolved', action = 'superseded', resolved_by = $3, \
                         resolved_at = $2, updated_at = $2, claimed_by = NULL, claim_until = NULL, resolution_id = $4 \
                         WHERE id = $1 AND status = $5 AND status IN ('open', 'explained', 'recovering')",
                    )
                    .bind(item)
                    .bind(truncate_micros(at))
                    .bind(actor)
                    .bind(reversal)
                    .bind(&status)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(conflict(Conflict::Changed));
                    }
                    event(tx, item, at, actor, r#"{"event":"unmatched"}"#).await?;
                }
                Ok(())
            }

            pub(super) async fn give_back_to_items(tx: &mut Tx<'_>, items: &[(Uuid, i64)]) -> Result<()> {
                for (id, amount) in items {
                    sqlx::query("UPDATE our_items SET open_minor = open_minor + $2, state = 'open' WHERE id = $1")
                        .bind(id)
                        .bind(amount)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// A found item with its parking transfer and its first event.
            pub(super) async fn insert_item(tx: &mut Tx<'_>, s: &NewSuspense, actor: &str) -> Result<()> {
                let i = &s.item;
                let booking = match &s.booking {
                    Some(t) => post(tx, t).await?,
                    None => i.booking_id,
                };
                sqlx::query(
                    "INSERT INTO suspense_items (id, physical_id, kind, amount_minor, status, found_day, found_at, \
                     line_id, item_id, credit_id, booking_id, channel, counterparty, updated_at) \
                     VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, $10, $11, $12, $6)",
                )
                .bind(i.id)
                .bind(i.physical_id)
                .bind(i.kind.as_str())
                .bind(i.amount_minor)
                .bind(i.found_day)
                .bind(truncate_micros(i.found_at))
                .bind(i.line_id)
                .bind(i.item_id)
                .bind(i.credit_id)
                .bind(booking)
                .bind(&i.channel)
                .bind(&i.counterparty)
                .execute(&mut **tx)
                .await?;
                event(tx, i.id, i.found_at, actor, r#"{"event":"found"}"#).await
            }
        }

        #[async_trait]
        impl ReconStore for $store {
            async fn recon_accounts(&self, physical_id: Uuid) -> Result<ReconAccounts> {
                let read = |rows: &[(String, Uuid)], role: &str| rows.iter().find(|(r, _)| r == role).map(|(_, id)| *id);
                let mut rows: Vec<(String, Uuid)> =
                    sqlx::query_as("SELECT role, id FROM ledger_accounts WHERE physical_id = $1 AND sharded")
                        .bind(physical_id)
                        .fetch_all(&self.pool)
                        .await?;
                if rows.is_empty() {
                    return Err(StoreError::NotFound(domain::Entity::PhysicalAccount));
                }
                if RECON_ROLES.iter().any(|(role, _)| read(&rows, role).is_none()) {
                    let mut tx = self.pool.begin().await?;
                    // Locks the physical account's row: two desktops creating the
                    // accounts at once create them once.
                    sqlx::query("UPDATE physical_accounts SET next_suffix = next_suffix WHERE id = $1")
                        .bind(physical_id)
                        .execute(&mut *tx)
                        .await?;
                    rows = sqlx::query_as("SELECT role, id FROM ledger_accounts WHERE physical_id = $1 AND sharded")
                        .bind(physical_id)
                        .fetch_all(&mut *tx)
                        .await?;
                    for (role, kind) in RECON_ROLES {
                        if read(&rows, role).is_none() {
                            let id = Uuid::now_v7();
                            sqlx::query(
                                "INSERT INTO ledger_accounts (id, physical_id, kind, role, flags, sharded, created_at) \
                                 VALUES ($1, $2, $3, $4, 0, TRUE, $5)",
                            )
                            .bind(id)
                            .bind(physical_id)
                            .bind(kind.as_str())
                            .bind(role)
                            .bind(truncate_micros(Utc::now()))
                            .execute(&mut *tx)
                            .await?;
                            rows.push((role.to_owned(), id));
                        }
                    }
                    tx.commit().await?;
                }
                let need = |role: &str| read(&rows, role).ok_or(StoreError::NotFound(domain::Entity::SubAccount));
                let mut suspense = [Uuid::nil(); 6];
                for (i, kind) in SuspenseKind::ALL.iter().enumerate() {
                    suspense[i] = need(kind.ledger_role())?;
                }
                Ok(ReconAccounts {
                    asset: need("asset")?,
                    main: need("main")?,
                    loss: need("loss")?,
                    fee: need("fee")?,
                    settlement: need("settlement")?,
                    suspense,
                })
            }

            async fn statement_file_known(&self, digest: &str) -> Result<bool> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM statement_files WHERE digest = $1")
                    .bind(digest)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n > 0)
            }

            async fn statement_by_ref(&self, physical_id: Uuid, statement_ref: &str) -> Result<Option<StatementRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, physical_id, statement_ref, sequence, opening_minor, closing_minor, from_day, to_day \
                     FROM statements WHERE physical_id = $1 AND statement_ref = $2 AND replaced_by IS NULL",
                )
                .bind(physical_id)
                .bind(statement_ref)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn statement_before(&self, physical_id: Uuid, day: i32, except: &str) -> Result<Option<StatementRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, physical_id, statement_ref, sequence, opening_minor, closing_minor, from_day, to_day \
                     FROM statements WHERE physical_id = $1 AND to_day <= $2 AND statement_ref <> $3 \
                     AND replaced_by IS NULL ORDER BY to_day DESC, sequence DESC, id DESC LIMIT 1",
                )
                .bind(physical_id)
                .bind(day)
                .bind(except)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn known_bank_refs(&self, physical_id: Uuid, statement_ref: &str, refs: &[String]) -> Result<Vec<String>> {
                bulk::$m::known_bank_refs(&self.pool, physical_id, statement_ref, refs).await
            }

            async fn store_statements(
                &self,
                file: &NewStatementFile,
                statements: &[NewStatementRow],
                audit: NewAudit,
            ) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let inserted = sqlx::query(
                    "INSERT INTO statement_files (id, digest, file_name, format, imported_by, imported_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (digest) DO NOTHING",
                )
                .bind(file.id)
                .bind(&file.digest)
                .bind(&file.file_name)
                .bind(&file.format)
                .bind(&file.imported_by)
                .bind(truncate_micros(file.imported_at))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    return Ok(false);
                }
                for s in statements {
                    let old: Option<Uuid> = sqlx::query_scalar(
                        "SELECT id FROM statements WHERE physical_id = $1 AND statement_ref = $2 AND replaced_by IS NULL",
                    )
                    .bind(s.physical_id)
                    .bind(&s.statement_ref)
                    .fetch_optional(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO statements (id, file_id, physical_id, statement_ref, format, version, currency, \
                         sequence, opening_minor, closing_minor, from_day, to_day, entries, difference_minor, \
                         acknowledged_by, findings, imported_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                    )
                    .bind(s.id)
                    .bind(file.id)
                    .bind(s.physical_id)
                    .bind(&s.statement_ref)
                    .bind(&s.format)
                    .bind(&s.version)
                    .bind(&s.currency)
                    .bind(s.sequence)
                    .bind(s.opening_minor)
                    .bind(s.closing_minor)
                    .bind(s.from_day)
                    .bind(s.to_day)
                    .bind(i32::try_from(s.lines.len()).unwrap_or(i32::MAX))
                    .bind(s.difference_minor)
                    .bind(&s.acknowledged_by)
                    .bind(&s.findings)
                    .bind(truncate_micros(file.imported_at))
                    .execute(&mut *tx)
                    .await?;
                    bulk::$m::insert_lines(&mut tx, &s.lines).await?;
                    if let Some(old) = old {
                        sqlx::query("UPDATE statements SET replaced_by = $2 WHERE id = $1")
                            .bind(old)
                            .bind(s.id)
                            .execute(&mut *tx)
                            .await?;
                        // A line the resent file repeats (same reference and amount)
                        // keeps its state, its match parts and its suspense item.
                        // Paired one to one, in file order: a reference repeated
                        // with one amount hands each old line to one new line.
                        let olds: Vec<(Uuid, String, i64, String)> = sqlx::query_as(
                            "SELECT id, bank_ref, amount_minor, state FROM statement_lines WHERE statement_id = $1 ORDER BY seq",
                        )
                        .bind(old)
                        .fetch_all(&mut *tx)
                        .await?;
                        let mut fresh: std::collections::HashMap<(String, i64), std::collections::VecDeque<Uuid>> =
                            std::collections::HashMap::new();
                        for l in &s.lines {
                            fresh.entry((l.bank_ref.clone(), l.amount_minor)).or_default().push_back(l.id);
                        }
                        let carried: Vec<(Uuid, Uuid, String)> = olds
                            .into_iter()
                            .filter_map(|(o, r, a, state)| {
                                fresh.get_mut(&(r, a)).and_then(|q| q.pop_front()).map(|n| (o, n, state))
                            })
                            .collect();
                        bulk::$m::carry_lines(&mut tx, &carried).await?;
                        sqlx::query("UPDATE statement_lines SET state = 'replaced' WHERE statement_id = $1")
                            .bind(old)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn open_lines(&self, physical_id: Uuid, day: i32) -> Result<Vec<LineRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {LINE_COLUMNS} FROM statement_lines WHERE physical_id = $1 AND state = 'open' \
                     AND booking_day <= $2 ORDER BY booking_day, id"
                ))
                .bind(physical_id)
                .bind(day)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn open_our_items(&self, physical_id: Uuid) -> Result<Vec<OurItemRow>> {
                Ok(sqlx::query_as(&format!("{OUR_SELECT} WHERE physical_id = $1 AND state = 'open' ORDER BY id"))
                    .bind(physical_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn search_our_items(&self, query: &str, limit: u32) -> Result<Vec<OurItemRow>> {
                let like = format!("%{}%", query.replace(['%', '_'], ""));
                Ok(sqlx::query_as(&format!(
                    "{OUR_SELECT} WHERE reference LIKE $1 OR COALESCE(counterparty_name, '') LIKE $1 \
                     ORDER BY CASE WHEN state = 'open' THEN 0 ELSE 1 END, id LIMIT $2"
                ))
                .bind(like)
                .bind(i64::from(limit.min(200)))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn our_items(&self, ids: &[Uuid]) -> Result<Vec<OurItemRow>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(OUR_SELECT);
                    qb.push(" WHERE id IN (");
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(")");
                    out.extend(qb.build_query_as::<OurItemRow>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn insert_our_items(&self, items: &[OurItemRow], audit: NewAudit) -> Result<u64> {
                let mut tx = self.pool.begin().await?;
                let mut n = 0;
                for chunk in items.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO our_items (id, physical_id, kind, amount_minor, open_minor, date_from, date_to, \
                         reference, counterparty_name, virtual_number, account_id, expected_fee_minor, state, created_at) ",
                    );
                    qb.push_values(chunk, |mut b, i| {
                        b.push_bind(i.id)
                            .push_bind(i.physical_id)
                            .push_bind(i.kind.as_str())
                            .push_bind(i.amount_minor)
                            .push_bind(i.open_minor)
                            .push_bind(i.date_from)
                            .push_bind(i.date_to)
                            .push_bind(&i.reference)
                            .push_bind(&i.counterparty_name)
                            .push_bind(&i.virtual_number)
                            .push_bind(i.account_id)
                            .push_bind(i.expected_fee_minor)
                            .push_bind(&i.state)
                            .push_bind(truncate_micros(i.created_at));
                    });
                    qb.push(" ON CONFLICT DO NOTHING");
                    n += qb.build().execute(&mut *tx).await?.rows_affected();
                }
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(n)
            }

            async fn notices_by_ref(&self, physical_id: Uuid, refs: &[String]) -> Result<Vec<(String, Uuid, String, Uuid)>> {
                let mut out = Vec::new();
                for chunk in refs.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT bank_ref, id, outcome, transfer_id FROM bank_credits WHERE physical_id = ",
                    );
                    qb.push_bind(physical_id);
                    qb.push(" AND bank_ref IN (");
                    let mut list = qb.separated(", ");
                    for r in chunk {
                        list.push_bind(r.clone());
                    }
                    qb.push(")");
                    out.extend(qb.build_query_as::<(String, Uuid, String, Uuid)>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn unitemised_notices(&self, physical_id: Uuid) -> Result<Vec<(Uuid, i64, String, Uuid, DateTime<Utc>)>> {
                Ok(sqlx::query_as(
                    "SELECT c.id, c.amount_minor, c.payer, c.transfer_id, c.received_at FROM bank_credits c \
                     WHERE c.physical_id = $1 AND c.outcome = 'unidentified' \
                     AND NOT EXISTS (SELECT 1 FROM suspense_items s WHERE s.credit_id = c.id) ORDER BY c.id",
                )
                .bind(physical_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn replaced_auto_matches(&self, physical_id: Uuid) -> Result<Vec<MatchRow>> {
                Ok(sqlx::query_as(&format!(
                    "{MATCH_SELECT} WHERE physical_id = $1 AND status = 'confirmed' AND run_id IS NOT NULL \
                     AND id IN (SELECT match_id FROM recon_parts WHERE line_id IN \
                                (SELECT id FROM statement_lines WHERE physical_id = $1 AND state = 'replaced')) \
                     ORDER BY id"
                ))
                .bind(physical_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn replaced_open_items(&self, physical_id: Uuid) -> Result<Vec<SuspenseItemRow>> {
                Ok(sqlx::query_as(&format!(
                    "{ITEM_SELECT} WHERE physical_id = $1 AND status IN ('open', 'explained', 'recovering') \
                     AND line_id IN (SELECT id FROM statement_lines WHERE physical_id = $1 AND state = 'replaced') ORDER BY id"
                ))
                .bind(physical_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn apply_run(&self, w: RunWrite, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                if let Some((id, day, physical_id, by, at, report)) = &w.run {
                    sqlx::query(
                        "INSERT INTO recon_runs (id, day, physical_id, run_by, at, report) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(id)
                    .bind(day)
                    .bind(physical_id)
                    .bind(by)
                    .bind(truncate_micros(*at))
                    .bind(report)
                    .execute(&mut *tx)
                    .await?;
                }
                for (match_id, reversal) in &w.reversals {
                    let n = sqlx::query(
                        "UPDATE recon_matches SET status = 'reversed', reversed_by = 'system', reversed_at = $2, \
                         reversal_reason = 'resent_statement' WHERE id = $1 AND status = 'confirmed'",
                    )
                    .bind(match_id)
                    .bind(truncate_micros(audit.at))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(conflict(Conflict::Changed));
                    }
                    if let Some(t) = reversal {
                        let reversed = $m::post(&mut tx, t).await?;
                        $m::supersede_fee_items(&mut tx, *match_id, reversed, "system", audit.at).await?;
                    }
                    let items: Vec<(Uuid, i64)> = sqlx::query_as(
                        "SELECT item_id, amount_minor FROM recon_parts WHERE match_id = $1 AND item_id IS NOT NULL",
                    )
                    .bind(match_id)
                    .fetch_all(&mut *tx)
                    .await?;
                    $m::give_back_to_items(&mut tx, &items).await?;
                }
                for (item, reversal) in &w.superseded {
                    // The bank took the line back in its resent statement: the money
                    // it parked leaves suspense by a reversal, and the item closes.
                    let n = sqlx::query(
                        "UPDATE suspense_items SET status = 'resolved', action = 'superseded', resolved_by = 'system', \
                         resolved_at = $2, updated_at = $2, claimed_by = NULL, claim_until = NULL \
                         WHERE id = $1 AND status IN ('open', 'explained', 'recovering')",
                    )
                    .bind(item)
                    .bind(truncate_micros(audit.at))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(conflict(Conflict::Changed));
                    }
                    let t = $m::post(&mut tx, reversal).await?;
                    sqlx::query("UPDATE suspense_items SET resolution_id = $2 WHERE id = $1")
                        .bind(item)
                        .bind(t)
                        .execute(&mut *tx)
                        .await?;
                    $m::event(&mut tx, *item, audit.at, "system", r#"{"event":"unmatched"}"#).await?;
                }
                $m::insert_matches(&mut tx, &w.matches, "open").await?;
                let mut by_state: std::collections::BTreeMap<&str, Vec<Uuid>> = Default::default();
                for (line, state) in &w.line_states {
                    by_state.entry(state).or_default().push(*line);
                }
                for (state, lines) in by_state {
                    $m::set_lines_state(&mut tx, &lines, "open", state).await?;
                }
                for s in &w.suspense {
                    $m::insert_item(&mut tx, s, "system").await?;
                }
                let lines: Vec<Uuid> = w.suspense.iter().filter_map(|s| s.item.line_id).collect();
                $m::set_lines_state(&mut tx, &lines, "open", "suspense").await?;
                for chunk in w.short_items.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE our_items SET state = 'short' WHERE state = 'open' AND id IN (");
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(")");
                    let n = qb.build().execute(&mut *tx).await?.rows_affected();
                    if n != chunk.len() as u64 {
                        return Err(conflict(Conflict::Changed));
                    }
                }
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn suspense_page(
                &self,
                filter: &SuspenseFilter,
                found_between: (Option<i32>, Option<i32>),
                after: Option<Uuid>,
                limit: u32,
            ) -> Result<(Vec<SuspenseItemRow>, bool, i64)> {
                let push_filter = |qb: &mut sqlx::QueryBuilder<'_, $db>| {
                    // Spelt out even with a status: it lets the queue's partial indexes serve.
                    match filter.status {
                        Some(SuspenseStatus::Resolved) => {
                            qb.push(" WHERE status = 'resolved'");
                        }
                        Some(s) => {
                            qb.push(" WHERE status <> 'resolved' AND status = ");
                            qb.push_bind(s.as_str());
                        }
                        None => {
                            qb.push(" WHERE status <> 'resolved'");
                        }
                    }
                    if let Some(k) = filter.kind {
                        qb.push(" AND kind = ");
                        qb.push_bind(k.as_str());
                    }
                    if let Some(p) = filter.physical_id {
                        qb.push(" AND physical_id = ");
                        qb.push_bind(p);
                    }
                    if let Some(from) = found_between.0 {
                        qb.push(" AND found_day >= ");
                        qb.push_bind(from);
                    }
                    if let Some(to) = found_between.1 {
                        qb.push(" AND found_day <= ");
                        qb.push_bind(to);
                    }
                };
                let mut qb = sqlx::QueryBuilder::<$db>::new(ITEM_SELECT);
                push_filter(&mut qb);
                if let Some(after) = after {
                    // Keyset on (found_day, id): the queue's index order.
                    qb.push(" AND (found_day, id) > (SELECT found_day, id FROM suspense_items WHERE id = ");
                    qb.push_bind(after);
                    qb.push(")");
                }
                qb.push(" ORDER BY found_day, id LIMIT ");
                qb.push_bind(i64::from(limit) + 1);
                let mut rows: Vec<SuspenseItemRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let more = rows.len() > limit as usize;
                rows.truncate(limit as usize);
                // Counted up to the cap: a million open items are "10000+", not a full scan per page.
                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM (SELECT 1 FROM suspense_items");
                push_filter(&mut qb);
                qb.push(" LIMIT ");
                qb.push_bind(i64::try_from(domain::suspense::OPEN_COUNT_CAP).unwrap_or(i64::MAX) + 1);
                qb.push(") capped");
                let count: i64 = qb.build_query_scalar().fetch_one(&self.pool).await?;
                Ok((rows, more, count))
            }

            async fn suspense_item(&self, id: Uuid) -> Result<Option<SuspenseItemRow>> {
                Ok(sqlx::query_as(&format!("{ITEM_SELECT} WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?)
            }

            async fn suspense_events(&self, id: Uuid) -> Result<Vec<(DateTime<Utc>, String, String)>> {
                Ok(sqlx::query_as("SELECT at, actor, event FROM suspense_events WHERE item_id = $1 ORDER BY at, id")
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn lines(&self, ids: &[Uuid]) -> Result<Vec<(LineRow, String)>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT l.{}, s.statement_ref FROM statement_lines l JOIN statements s ON s.id = l.statement_id WHERE l.id IN (",
                        LINE_COLUMNS.replace(", ", ", l.")
                    ));
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(")");
                    let rows = qb.build().fetch_all(&self.pool).await?;
                    for row in rows {
                        use sqlx::{FromRow, Row};
                        let line = LineRow::from_row(&row)?;
                        let statement: String = row.try_get("statement_ref")?;
                        out.push((line, statement));
                    }
                }
                Ok(out)
            }

            async fn posting_lines(&self, transfer_id: Uuid) -> Result<Vec<(String, i64)>> {
                Ok(sqlx::query_as(
                    "SELECT COALESCE(v.number, a.role), l.amount_minor FROM transfer_lines l \
                     JOIN ledger_accounts a ON a.id = l.account_id LEFT JOIN virtual_accounts v ON v.id = l.account_id \
                     WHERE l.transfer_id = $1 ORDER BY l.line",
                )
                .bind(transfer_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn claim_suspense(&self, id: Uuid, actor: &str, now: DateTime<Utc>, until: DateTime<Utc>, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let n = sqlx::query(
                    "UPDATE suspense_items SET claimed_by = $2, claim_until = $3, updated_at = $4 \
                     WHERE id = $1 AND status <> 'resolved' AND (claimed_by IS NULL OR claimed_by = $2 OR claim_until < $4)",
                )
                .bind(id)
                .bind(actor)
                .bind(truncate_micros(until))
                .bind(truncate_micros(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    let row: Option<(String, Option<String>)> =
                        sqlx::query_as("SELECT status, claimed_by FROM suspense_items WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    return Err(match row {
                        None => StoreError::NotFound(domain::Entity::SuspenseItem),
                        Some((status, _)) if status == "resolved" => {
                            conflict(Conflict::SuspenseStatus { status: SuspenseStatus::Resolved })
                        }
                        Some((_, by)) => conflict(Conflict::ClaimedBy { by: by.unwrap_or_default() }),
                    });
                }
                $m::event(&mut tx, id, now, actor, r#"{"event":"claimed"}"#).await?;
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn claim_next_suspense(
                &self,
                filter: &SuspenseFilter,
                actor: &str,
                now: DateTime<Utc>,
                until: DateTime<Utc>,
                audit: NewAudit,
            ) -> Result<Option<Uuid>> {
                // Candidates in queue order; the compare-and-set claim decides, so two
                // desktops asking at once get different items.
                for _ in 0..5 {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT id FROM suspense_items WHERE status <> 'resolved' AND (status = 'open' \
                         OR (status = 'explained' AND explained_until < ",
                    );
                    // An explanation holds until its day: the item comes back after it.
                    qb.push_bind(crate::business_day(now));
                    qb.push(")) AND (claimed_by IS NULL OR claim_until < ");
                    qb.push_bind(truncate_micros(now));
                    qb.push(")");
                    if let Some(k) = filter.kind {
                        qb.push(" AND kind = ");
                        qb.push_bind(k.as_str());
                    }
                    if let Some(p) = filter.physical_id {
                        qb.push(" AND physical_id = ");
                        qb.push_bind(p);
                    }
                    qb.push(" ORDER BY found_day, id LIMIT 5");
                    let ids: Vec<Uuid> = qb.build_query_scalar().fetch_all(&self.pool).await?;
                    if ids.is_empty() {
                        return Ok(None);
                    }
                    for id in ids {
                        match self.claim_suspense(id, actor, now, until, audit.clone()).await {
                            Ok(()) => return Ok(Some(id)),
                            Err(StoreError::Conflict(_)) => continue,
                            Err(e) => return Err(e),
                        }
                    }
                }
                Ok(None)
            }

            async fn release_suspense(&self, id: Uuid, actor: &str, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let n = sqlx::query(
                    "UPDATE suspense_items SET claimed_by = NULL, claim_until = NULL WHERE id = $1 AND claimed_by = $2",
                )
                .bind(id)
                .bind(actor)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(conflict(Conflict::NotHolder));
                }
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn resolve_suspense(&self, w: ResolveWrite, now: DateTime<Utc>, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let at = truncate_micros(w.at);
                // Compare-and-set first (the write takes the row lock; a second
                // reviewer on the same item waits here, then finds it changed).
                let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE suspense_items SET status = ");
                qb.push_bind(w.to.as_str());
                qb.push(", updated_at = ");
                qb.push_bind(at);
                if let Some(until) = w.explained_until {
                    qb.push(", explained_until = ");
                    qb.push_bind(until);
                }
                if let Some(r) = &w.recovery_ref {
                    qb.push(", recovery_ref = ");
                    qb.push_bind(r.clone());
                }
                if w.to == SuspenseStatus::Resolved {
                    qb.push(", resolved_by = ");
                    qb.push_bind(w.actor.clone());
                    qb.push(", resolved_at = ");
                    qb.push_bind(at);
                    qb.push(", action = ");
                    qb.push_bind(w.action.unwrap_or(""));
                    qb.push(", claimed_by = NULL, claim_until = NULL");
                }
                qb.push(" WHERE id = ");
                qb.push_bind(w.item_id);
                qb.push(" AND status IN (");
                let mut list = qb.separated(", ");
                for s in &w.from {
                    list.push_bind(s.as_str());
                }
                qb.push(")");
                if let Some(holder) = &w.holder {
                    qb.push(" AND claimed_by = ");
                    qb.push_bind(holder.clone());
                    qb.push(" AND claim_until >= ");
                    qb.push_bind(truncate_micros(now));
                }
                let n = qb.build().execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    let row: Option<(String, Option<String>, Option<DateTime<Utc>>)> =
                        sqlx::query_as("SELECT status, claimed_by, claim_until FROM suspense_items WHERE id = $1")
                            .bind(w.item_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    return Err(match row {
                        None => StoreError::NotFound(domain::Entity::SuspenseItem),
                        Some((status, by, until)) => {
                            let status = SuspenseStatus::try_from(status).map_err(|e| StoreError::Data(e.to_string()))?;
                            if !w.from.contains(&status) {
                                conflict(Conflict::SuspenseStatus { status })
                            } else if by.is_some() && by != w.holder && until.is_some_and(|u| u >= now) {
                                conflict(Conflict::ClaimedBy { by: by.unwrap_or_default() })
                            } else {
                                conflict(Conflict::ClaimFirst)
                            }
                        }
                    });
                }
                if let Some(other) = w.with_item {
                    let n = sqlx::query(
                        "UPDATE suspense_items SET status = 'resolved', resolved_by = $2, resolved_at = $3, \
                         action = $4, resolution_id = NULL, updated_at = $3, claimed_by = NULL, claim_until = NULL \
                         WHERE id = $1 AND status IN ('open', 'explained') \
                         AND (claimed_by IS NULL OR claimed_by = $2 OR claim_until < $5)",
                    )
                    .bind(other)
                    .bind(&w.actor)
                    .bind(at)
                    .bind(w.action.unwrap_or(""))
                    .bind(truncate_micros(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(conflict(Conflict::Changed));
                    }
                    $m::event(&mut tx, other, w.at, &w.actor, &w.event).await?;
                }
                if let Some((proposal, column, actor)) = &w.proposal {
                    let sql = format!(
                        "UPDATE suspense_proposals SET {column} = $2, status = 'approved', decided_at = $3 \
                         WHERE id = $1 AND status = 'pending' AND {column} IS NULL AND maker <> $2 \
                         AND COALESCE(finance_by, '') <> $2 AND COALESCE(supervisor_by, '') <> $2"
                    );
                    let n = sqlx::query(&sql).bind(proposal).bind(actor).bind(at).execute(&mut *tx).await?.rows_affected();
                    if n == 0 {
                        return Err(conflict(Conflict::ProposalDecided));
                    }
                }
                if let Some((id, action, maker)) = &w.new_proposal {
                    let inserted = sqlx::query(
                        "INSERT INTO suspense_proposals (id, item_id, action, maker, proposed_at, status) \
                         VALUES ($1, $2, $3, $4, $5, 'pending')",
                    )
                    .bind(id)
                    .bind(w.item_id)
                    .bind(action)
                    .bind(maker)
                    .bind(at)
                    .execute(&mut *tx)
                    .await;
                    match inserted {
                        Err(e) if is_unique_violation(&e) => return Err(conflict(Conflict::Changed)),
                        other => other?,
                    };
                }
                $m::take_from_items(&mut tx, &w.our_items).await?;
                let transfer = match &w.posting {
                    Some(t) => Some($m::post(&mut tx, t).await?),
                    None => None,
                };
                if transfer.is_some() {
                    sqlx::query("UPDATE suspense_items SET resolution_id = $2 WHERE id = $1")
                        .bind(w.item_id)
                        .bind(transfer)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(m) = &w.record_match {
                    $m::insert_match(&mut tx, m).await?;
                }
                if let Some((topic, payload)) = &w.outbox {
                    sqlx::query("INSERT INTO outbox (id, topic, payload, at) VALUES ($1, $2, $3, $4)")
                        .bind(Uuid::now_v7())
                        .bind(topic)
                        .bind(payload)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
                $m::event(&mut tx, w.item_id, w.at, &w.actor, &w.event).await?;
                if let Some((request_id, answer)) = &w.request {
                    sqlx::query(
                        "INSERT INTO suspense_requests (actor, request_id, item_id, answer) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&w.actor)
                    .bind(request_id)
                    .bind(w.item_id)
                    .bind(answer)
                    .execute(&mut *tx)
                    .await?;
                }
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn suspense_request(&self, actor: &str, request_id: Uuid) -> Result<Option<(Uuid, String)>> {
                Ok(sqlx::query_as("SELECT item_id, answer FROM suspense_requests WHERE actor = $1 AND request_id = $2")
                    .bind(actor)
                    .bind(request_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn suspense_proposals(&self) -> Result<Vec<SuspenseProposalRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, item_id, action, maker, proposed_at, finance_by, supervisor_by, status \
                     FROM suspense_proposals WHERE status = 'pending' ORDER BY proposed_at, id",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn suspense_proposal(&self, id: Uuid) -> Result<Option<SuspenseProposalRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, item_id, action, maker, proposed_at, finance_by, supervisor_by, status \
                     FROM suspense_proposals WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn approve_suspense_partly(&self, id: Uuid, column: &'static str, actor: &str, event: &str, now: DateTime<Utc>, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let sql = format!(
                    "UPDATE suspense_proposals SET {column} = $2 WHERE id = $1 AND status = 'pending' AND {column} IS NULL \
                     AND maker <> $2 AND COALESCE(finance_by, '') <> $2 AND COALESCE(supervisor_by, '') <> $2"
                );
                let n = sqlx::query(&sql).bind(id).bind(actor).execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    return Err(conflict(Conflict::ProposalDecided));
                }
                let item: Uuid = sqlx::query_scalar("SELECT item_id FROM suspense_proposals WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                $m::event(&mut tx, item, now, actor, event).await?;
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn reject_suspense(&self, id: Uuid, actor: &str, event: &str, now: DateTime<Utc>, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let n = sqlx::query(
                    "UPDATE suspense_proposals SET status = 'rejected', decided_at = $3 \
                     WHERE id = $1 AND status = 'pending' AND maker <> $2",
                )
                .bind(id)
                .bind(actor)
                .bind(truncate_micros(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(conflict(Conflict::ProposalDecided));
                }
                let item: Uuid = sqlx::query_scalar("SELECT item_id FROM suspense_proposals WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query("UPDATE suspense_items SET status = 'open', updated_at = $2 WHERE id = $1 AND status = 'pending_approval'")
                    .bind(item)
                    .bind(truncate_micros(now))
                    .execute(&mut *tx)
                    .await?;
                $m::event(&mut tx, item, now, actor, event).await?;
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn matches_of_day(&self, day: i32, suggested_only: bool) -> Result<Vec<MatchRow>> {
                let filter = if suggested_only { " AND status = 'suggested'" } else { "" };
                Ok(sqlx::query_as(&format!(
                    "{MATCH_SELECT} WHERE day = $1{filter} ORDER BY CASE status WHEN 'suggested' THEN 0 ELSE 1 END, id LIMIT 500"
                ))
                .bind(day)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn match_parts(&self, id: Uuid) -> Result<Option<(MatchRow, Vec<(Option<Uuid>, Option<Uuid>, i64)>)>> {
                let Some(m) = sqlx::query_as::<_, MatchRow>(&format!("{MATCH_SELECT} WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                else {
                    return Ok(None);
                };
                let parts = sqlx::query_as("SELECT line_id, item_id, amount_minor FROM recon_parts WHERE match_id = $1")
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(Some((m, parts)))
            }

            #[allow(clippy::too_many_arguments)]
            async fn set_match(&self, id: Uuid, confirm: bool, posting: Option<NewTransferRow>, actor: &str, reason: Option<&str>, now: DateTime<Utc>, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let (from, to) = if confirm { ("suggested", "confirmed") } else { ("confirmed", "reversed") };
                let n = sqlx::query(
                    "UPDATE recon_matches SET status = $2, reversed_by = CASE WHEN $2 = 'reversed' THEN $4 END, \
                     reversed_at = CASE WHEN $2 = 'reversed' THEN $5 END, reversal_reason = $6 \
                     WHERE id = $1 AND status = $3 AND ($2 = 'confirmed' OR run_id IS NOT NULL)",
                )
                .bind(id)
                .bind(to)
                .bind(from)
                .bind(actor)
                .bind(truncate_micros(now))
                .bind(reason)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    let status: Option<String> = sqlx::query_scalar("SELECT status FROM recon_matches WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    return Err(match status {
                        None => StoreError::NotFound(domain::Entity::Match),
                        Some(status) => conflict(Conflict::MatchStatus { status }),
                    });
                }
                let parts: Vec<(Option<Uuid>, Option<Uuid>, i64)> =
                    sqlx::query_as("SELECT line_id, item_id, amount_minor FROM recon_parts WHERE match_id = $1")
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await?;
                let lines: Vec<Uuid> = parts.iter().filter_map(|p| p.0).collect();
                let items: Vec<(Uuid, i64)> = parts.iter().filter_map(|p| p.1.map(|i| (i, p.2))).collect();
                if confirm {
                    // Only lines still open: a line booked meanwhile refuses the match.
                    $m::move_lines(&mut tx, &lines, "open", "matched").await?;
                    $m::take_from_items(&mut tx, &items).await?;
                    if let Some(t) = &posting {
                        let transfer = $m::post(&mut tx, t).await?;
                        sqlx::query("UPDATE recon_matches SET transfer_id = $2 WHERE id = $1")
                            .bind(id)
                            .bind(transfer)
                            .execute(&mut *tx)
                            .await?;
                    }
                } else {
                    // Only lines this match holds go back to the queue: a line since
                    // replaced by a resent statement stays replaced.
                    $m::move_lines(&mut tx, &lines, "matched", "open").await?;
                    $m::give_back_to_items(&mut tx, &items).await?;
                    if let Some(t) = &posting {
                        let reversed = $m::post(&mut tx, t).await?;
                        $m::supersede_fee_items(&mut tx, id, reversed, actor, now).await?;
                    }
                }
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn report_figures(&self, day: i32) -> Result<ReportFigures> {
                let matched: Vec<(Uuid, String, i64, i64)> = sqlx::query_as(
                    "SELECT l.physical_id, COALESCE(l.bank_code, ''), CAST(COUNT(*) AS BIGINT), \
                     CAST(COALESCE(SUM(l.amount_minor), 0) AS BIGINT) FROM statement_lines l \
                     WHERE l.booking_day = $1 AND l.state IN ('matched', 'booked') GROUP BY l.physical_id, COALESCE(l.bank_code, '')",
                )
                .bind(day)
                .fetch_all(&self.pool)
                .await?;
                let open: Vec<(Uuid, String, String, i64, i64)> = sqlx::query_as(
                    "SELECT physical_id, channel, kind, CAST(COUNT(*) AS BIGINT), CAST(SUM(amount_minor) AS BIGINT) \
                     FROM suspense_items WHERE status <> 'resolved' AND found_day <= $1 \
                     GROUP BY physical_id, channel, kind ORDER BY physical_id, channel, kind",
                )
                .bind(day)
                .fetch_all(&self.pool)
                .await?;
                let aging: Vec<(i32, i64, i64)> = sqlx::query_as(
                    "SELECT found_day, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN amount_minor < 0 THEN -amount_minor ELSE amount_minor END) AS BIGINT) \
                     FROM suspense_items WHERE status <> 'resolved' AND found_day <= $1 GROUP BY found_day",
                )
                .bind(day)
                .fetch_all(&self.pool)
                .await?;
                let items: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT kind, CAST(SUM(amount_minor) AS BIGINT) FROM suspense_items WHERE status <> 'resolved' GROUP BY kind",
                )
                .fetch_all(&self.pool)
                .await?;
                let ledger: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT a.role, CAST(COALESCE(SUM(b.credits_minor - b.debits_minor), 0) AS BIGINT) \
                     FROM ledger_accounts a LEFT JOIN balance_shards b ON b.account_id = a.id \
                     WHERE a.sharded AND (a.role = 'suspense' OR a.role LIKE 'sus%') GROUP BY a.role",
                )
                .fetch_all(&self.pool)
                .await?;
                let proof = SuspenseKind::ALL
                    .iter()
                    .map(|k| {
                        let items = items.iter().find(|(c, _)| c == k.as_str()).map_or(0, |(_, s)| *s);
                        let ledger = ledger.iter().find(|(r, _)| r == k.ledger_role()).map_or(0, |(_, s)| *s);
                        (k.as_str().to_owned(), items, ledger)
                    })
                    .collect();
                Ok(ReportFigures { matched, open, aging, proof })
            }

            async fn close_day(&self, physical_id: Uuid, day: i32, actor: &str, now: DateTime<Utc>, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO recon_closed_days (physical_id, day, closed_by, closed_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (physical_id, day) DO NOTHING",
                )
                .bind(physical_id)
                .bind(day)
                .bind(actor)
                .bind(truncate_micros(now))
                .execute(&mut *tx)
                .await?;
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn proposal_audits(&self, item_id: Uuid) -> Result<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT actor, detail FROM audit_log WHERE action = 'recon.propose' AND target = $1 ORDER BY seq DESC LIMIT 20",
                )
                .bind(format!("suspense:{item_id}"))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn line_importer(&self, line_id: Uuid) -> Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT f.imported_by FROM statement_lines l JOIN statements s ON s.id = l.statement_id \
                     JOIN statement_files f ON f.id = s.file_id WHERE l.id = $1",
                )
                .bind(line_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn day_closed(&self, physical_id: Uuid, day: i32) -> Result<bool> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recon_closed_days WHERE physical_id = $1 AND day = $2")
                    .bind(physical_id)
                    .bind(day)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n > 0)
            }
        }
    };
}

recon_impl!(SqliteStore, sqlx::Sqlite, sqlite);
recon_impl!(PgStore, sqlx::Postgres, pg);
