//! The SQL of the virtual sub-account ledger, expanded once per database.

use super::*;
use crate::error::is_unique_violation;
use crate::{StoreError, truncate_micros};
use domain::Conflict;
use domain::ledger::{AccountFlags, NumberingScheme};
use std::collections::BTreeMap;

/// A node with its balances: the select list every virtual query shares.
macro_rules! node_select {
    () => {
        "SELECT v.id, v.physical_id, v.parent_id, v.path, v.depth, v.number, v.suffix, v.owner_kind, \
         v.owner_id, v.owner_name, v.purpose, v.status, v.child_count, v.opened_at, v.closed_at, \
         a.debits_minor, a.credits_minor, a.held_minor, \
         CAST(COALESCE((SELECT SUM(s.amount_minor) FROM subtree_shards s WHERE s.account_id = v.id), 0) AS BIGINT) \
         AS subtree_extra_minor \
         FROM virtual_accounts v JOIN ledger_accounts a ON a.id = v.id "
    };
}

// Bit 256 of `ledger_accounts.flags` marks a closed sub-account, in the same row
// every posting updates: a posting racing a close re-reads it after the close
// commits (a check on `virtual_accounts` in a subquery would read the statement's
// old snapshot on PostgreSQL). The SQL spells it `256`.

/// A closed-number or frozen-account guard for `UPDATE ledger_accounts … WHERE id = $1`,
/// given the line's growth as `$5`.
macro_rules! status_guard {
    () => {
        " AND NOT EXISTS (SELECT 1 FROM virtual_accounts v WHERE v.id = $1 AND (v.status IN ('closed', 'quarantined') \
         OR (v.status = 'frozen' AND $5 < 0) OR (v.status = 'closing' AND $5 > 0)))"
    };
}

fn conflict(c: Conflict) -> StoreError {
    StoreError::Conflict(c)
}

/// A line's effect: how much it grows the account on its normal side.
fn growth(kind: AccountKind, amount_minor: i64) -> i64 {
    if kind.is_debit_normal() { amount_minor } else { -amount_minor }
}

macro_rules! vam_sql {
    ($m:ident, $store:ident, $db:ty) => {
        pub(crate) mod $m {
            use super::*;

            type Tx<'c> = sqlx::Transaction<'c, $db>;

            pub(crate) async fn create_physical(s: &$store, p: &NewPhysical, audit: NewAudit) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let at = truncate_micros(p.created_at);
                let inserted = sqlx::query(
                    "INSERT INTO physical_accounts (id, bank, number, purpose, supervised, suffix_len, asset_account, \
                     main_account, suspense_account, interest_account, next_suffix, credit_cursor, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, NULL, $11)",
                )
                .bind(p.id)
                .bind(p.bank.as_str())
                .bind(&p.number)
                .bind(&p.purpose)
                .bind(p.supervised)
                .bind(i32::from(p.suffix_len))
                .bind(p.asset_account)
                .bind(p.main_account)
                .bind(p.suspense_account)
                .bind(p.interest_account)
                .bind(at)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(e) if is_unique_violation(&e) => {
                        return Err(conflict(Conflict::Exists { entity: domain::Entity::PhysicalAccount }));
                    }
                    other => other?,
                };
                for (id, kind, role) in [
                    (p.asset_account, AccountKind::Asset, "asset"),
                    (p.main_account, AccountKind::Liability, "main"),
                    (p.suspense_account, AccountKind::Liability, "suspense"),
                    (p.interest_account, AccountKind::Liability, "interest"),
                ] {
                    sqlx::query(
                        "INSERT INTO ledger_accounts (id, physical_id, kind, role, flags, sharded, created_at) \
                         VALUES ($1, $2, $3, $4, 0, TRUE, $5)",
                    )
                    .bind(id)
                    .bind(p.id)
                    .bind(kind.as_str())
                    .bind(role)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn physical_accounts(s: &$store) -> Result<Vec<PhysicalRow>> {
                Ok(sqlx::query_as("SELECT * FROM physical_accounts ORDER BY created_at, id")
                    .fetch_all(&s.pool)
                    .await?)
            }

            pub(crate) async fn physical(s: &$store, id: Uuid) -> Result<Option<PhysicalRow>> {
                Ok(sqlx::query_as("SELECT * FROM physical_accounts WHERE id = $1").bind(id).fetch_optional(&s.pool).await?)
            }

            pub(crate) async fn physical_totals(s: &$store, id: Uuid) -> Result<PhysicalTotals> {
                let hot: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT a.role, CAST(COALESCE(SUM(b.credits_minor - b.debits_minor), 0) AS BIGINT) \
                     FROM ledger_accounts a LEFT JOIN balance_shards b ON b.account_id = a.id \
                     WHERE a.physical_id = $1 AND a.sharded GROUP BY a.role",
                )
                .bind(id)
                .fetch_all(&s.pool)
                .await?;
                let (virtual_minor, virtual_count): (i64, i64) = sqlx::query_as(
                    "SELECT CAST(COALESCE(SUM(a.credits_minor - a.debits_minor), 0) AS BIGINT), \
                     CAST(COUNT(CASE WHEN v.status NOT IN ('closed', 'quarantined') THEN 1 END) AS BIGINT) \
                     FROM ledger_accounts a JOIN virtual_accounts v ON v.id = a.id \
                     WHERE a.physical_id = $1 AND a.role = 'virtual'",
                )
                .bind(id)
                .fetch_one(&s.pool)
                .await?;
                let mut t = PhysicalTotals { virtual_minor, virtual_count, ..PhysicalTotals::default() };
                for (role, credit_normal) in hot {
                    match role.as_str() {
                        "asset" => t.asset_minor = -credit_normal,
                        "suspense" => t.suspense_minor = credit_normal,
                        "interest" => {
                            t.interest_minor = credit_normal;
                            t.internal_minor += credit_normal;
                        }
                        _ => t.internal_minor += credit_normal,
                    }
                }
                Ok(t)
            }

            pub(crate) async fn open_virtual(
                s: &$store,
                v: &NewVirtual,
                today: NaiveDate,
                audit: NewAudit,
            ) -> Result<String> {
                let mut tx = s.pool.begin().await?;
                // Writes first: takes SQLite's lock before anything is read.
                let allocated: Option<(i64, String, i32)> = sqlx::query_as(
                    "UPDATE physical_accounts SET next_suffix = next_suffix + 1 WHERE id = $1 \
                     RETURNING next_suffix - 1, number, suffix_len",
                )
                .bind(v.physical_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((fresh_suffix, physical_number, suffix_len)) = allocated else {
                    return Err(StoreError::NotFound(domain::Entity::PhysicalAccount));
                };
                let (path, depth) = match v.parent_id {
                    None => (String::new(), 0),
                    Some(parent) => {
                        let row: Option<(Uuid, String, i32, String)> = sqlx::query_as(
                            "UPDATE virtual_accounts SET child_count = child_count + 1 \
                             WHERE id = $1 RETURNING physical_id, path, depth, status",
                        )
                        .bind(parent)
                        .fetch_optional(&mut *tx)
                        .await?;
                        let Some((physical, path, depth, status)) = row else {
                            return Err(StoreError::NotFound(domain::Entity::SubAccount));
                        };
                        if physical != v.physical_id {
                            return Err(conflict(Conflict::OtherPhysicalAccount));
                        }
                        let status = VirtualStatus::try_from(status).map_err(|e| StoreError::Data(e.to_string()))?;
                        if matches!(status, VirtualStatus::Closed | VirtualStatus::Quarantined | VirtualStatus::Closing) {
                            return Err(conflict(Conflict::AccountStatus { status }));
                        }
                        (format!("{path}{}/", parent.simple()), depth + 1)
                    }
                };
                // Bid-deposit numbers go back to a pool: reuse one whose quarantine
                // has passed (or this owner's own), never a live one.
                let reused: Option<(String, i64)> = if v.purpose == VirtualPurpose::BidDeposit {
                    sqlx::query_as(
                        "SELECT c.number, c.suffix FROM virtual_accounts c \
                         WHERE c.physical_id = $1 AND c.purpose = 'bid_deposit' AND c.status = 'closed' \
                         AND (c.reusable_from <= $2 OR c.owner_id = $3) \
                         AND c.closed_at = (SELECT MAX(x.closed_at) FROM virtual_accounts x WHERE x.number = c.number) \
                         AND NOT EXISTS (SELECT 1 FROM virtual_accounts l WHERE l.number = c.number \
                                         AND l.status NOT IN ('closed', 'quarantined')) \
                         ORDER BY c.closed_at LIMIT 1",
                    )
                    .bind(v.physical_id)
                    .bind(today)
                    .bind(v.owner_id)
                    .fetch_optional(&mut *tx)
                    .await?
                } else {
                    None
                };
                let (number, suffix) = match reused {
                    Some(found) => found,
                    None => {
                        let scheme = u8::try_from(suffix_len)
                            .ok()
                            .and_then(|len| NumberingScheme::new(physical_number, len).ok())
                            .ok_or_else(|| StoreError::Data("physical account numbering".into()))?;
                        let number = u64::try_from(fresh_suffix)
                            .ok()
                            .and_then(|n| scheme.number_for(n).ok())
                            .ok_or_else(|| StoreError::Data("virtual numbers exhausted".into()))?;
                        (number, fresh_suffix)
                    }
                };
                let at = truncate_micros(v.opened_at);
                sqlx::query(
                    "INSERT INTO ledger_accounts (id, physical_id, kind, role, flags, sharded, created_at) \
                     VALUES ($1, $2, 'liability', 'virtual', $3, FALSE, $4)",
                )
                .bind(v.id)
                .bind(v.physical_id)
                .bind(i32::try_from(AccountFlags::CUSTOMER.bits()).unwrap_or(0))
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO virtual_accounts (id, physical_id, parent_id, path, depth, number, suffix, owner_kind, \
                     owner_id, owner_name, purpose, status, child_count, opened_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', 0, $12)",
                )
                .bind(v.id)
                .bind(v.physical_id)
                .bind(v.parent_id)
                .bind(&path)
                .bind(depth)
                .bind(&number)
                .bind(suffix)
                .bind(v.owner_kind.as_str())
                .bind(v.owner_id)
                .bind(&v.owner_name)
                .bind(v.purpose.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                let mut audit = audit;
                audit.detail["number"] = number.clone().into();
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(number)
            }

            pub(crate) async fn virtual_children(
                s: &$store,
                physical_id: Uuid,
                parent: Option<Uuid>,
                after: Option<&str>,
                limit: u32,
            ) -> Result<Vec<VirtualRow>> {
                // One plain range per shape, so the (physical_id, parent_id, number)
                // index serves the page: no OR, no NULL tests on parameters.
                let after = after.unwrap_or("");
                let rows = match parent {
                    None => {
                        sqlx::query_as(concat!(
                            node_select!(),
                            "WHERE v.physical_id = $1 AND v.parent_id IS NULL AND v.number > $2 \
                             ORDER BY v.number LIMIT $3"
                        ))
                        .bind(physical_id)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&s.pool)
                        .await?
                    }
                    Some(parent) => {
                        sqlx::query_as(concat!(
                            node_select!(),
                            "WHERE v.physical_id = $1 AND v.parent_id = $2 AND v.number > $3 \
                             ORDER BY v.number LIMIT $4"
                        ))
                        .bind(physical_id)
                        .bind(parent)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&s.pool)
                        .await?
                    }
                };
                Ok(rows)
            }

            pub(crate) async fn search_virtual(
                s: &$store,
                number_like: &str,
                owner_ids: &[Uuid],
                limit: u32,
            ) -> Result<Vec<VirtualRow>> {
                let mut qb = sqlx::QueryBuilder::<$db>::new(node_select!());
                qb.push("WHERE (v.number = ").push_bind(number_like.to_owned());
                // A typed suffix (with or without its check digit) finds the number too;
                // at least four digits, or it would match half the tree.
                if number_like.chars().count() >= 4 {
                    qb.push(" OR v.number LIKE ").push_bind(format!("%{number_like}"));
                    qb.push(" OR v.number LIKE ").push_bind(format!("%{number_like}_"));
                    qb.push(" OR v.owner_name = ").push_bind(number_like.to_owned());
                }
                for id in owner_ids.iter().take(200) {
                    qb.push(" OR v.owner_id = ").push_bind(*id);
                }
                qb.push(") ORDER BY v.number LIMIT ").push_bind(i64::from(limit));
                Ok(qb.build_query_as().fetch_all(&s.pool).await?)
            }

            pub(crate) async fn virtual_node(s: &$store, id: Uuid) -> Result<Option<VirtualRow>> {
                Ok(sqlx::query_as(concat!(node_select!(), "WHERE v.id = $1")).bind(id).fetch_optional(&s.pool).await?)
            }

            pub(crate) async fn virtual_by_number(s: &$store, number: &str) -> Result<Option<VirtualRow>> {
                Ok(sqlx::query_as(concat!(
                    node_select!(),
                    "WHERE v.number = $1 ORDER BY CASE WHEN v.status IN ('closed', 'quarantined') THEN 1 ELSE 0 END, \
                     v.opened_at DESC LIMIT 1"
                ))
                .bind(number)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn previous_holders(s: &$store, number: &str, except: Uuid) -> Result<Vec<VirtualRow>> {
                Ok(sqlx::query_as(concat!(
                    node_select!(),
                    "WHERE v.number = $1 AND v.id <> $2 ORDER BY v.opened_at DESC LIMIT 20"
                ))
                .bind(number)
                .bind(except)
                .fetch_all(&s.pool)
                .await?)
            }

            pub(crate) async fn ledger_accounts(s: &$store, ids: &[Uuid]) -> Result<Vec<LedgerAccountRow>> {
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT id, physical_id, kind, role, flags, sharded FROM ledger_accounts WHERE id IN (",
                    );
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(")");
                    out.extend(qb.build_query_as::<LedgerAccountRow>().fetch_all(&s.pool).await?);
                }
                Ok(out)
            }

            /// Takes `amount` out of a pending, unexpired hold (never more than it still
            /// reserves; `emptied` is its status when nothing remains) and out of its
            /// account's held total. Returns the account.
            async fn take_from_hold(
                tx: &mut Tx<'_>,
                hold: Uuid,
                amount: i64,
                emptied: &str,
                now: DateTime<Utc>,
            ) -> Result<Uuid> {
                let account: Option<Uuid> = sqlx::query_scalar(
                    "UPDATE holds SET remaining_minor = remaining_minor - $2, \
                     status = CASE WHEN remaining_minor = $2 THEN $4 ELSE status END, updated_at = $3 \
                     WHERE id = $1 AND status = 'pending' AND $2 > 0 AND remaining_minor >= $2 \
                     AND (expires_at IS NULL OR expires_at > $3) RETURNING account_id",
                )
                .bind(hold)
                .bind(amount)
                .bind(now)
                .bind(emptied)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(account) = account else { return Err(conflict(Conflict::Changed)) };
                sqlx::query("UPDATE ledger_accounts SET held_minor = held_minor - $2 WHERE id = $1")
                    .bind(account)
                    .bind(amount)
                    .execute(&mut **tx)
                    .await?;
                Ok(account)
            }

            /// Takes a checker's approval: pending, and not the checker's own.
            async fn approve_tx(tx: &mut Tx<'_>, g: &ProposalGuard, approve: bool) -> Result<()> {
                let n = sqlx::query(
                    "UPDATE vam_proposals SET status = $4, decided_by = $2, decided_at = $3 \
                     WHERE id = $1 AND status = 'pending' AND proposed_by <> $2",
                )
                .bind(g.proposal_id)
                .bind(&g.checker)
                .bind(truncate_micros(g.at))
                .bind(if approve { "approved" } else { "rejected" })
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if n == 1 {
                    return Ok(());
                }
                let maker: Option<String> = sqlx::query_scalar("SELECT proposed_by FROM vam_proposals WHERE id = $1")
                    .bind(g.proposal_id)
                    .fetch_optional(&mut **tx)
                    .await?;
                Err(match maker {
                    None => StoreError::NotFound(domain::Entity::Proposal),
                    Some(maker) if maker == g.checker => conflict(Conflict::MakerIsChecker),
                    Some(_) => conflict(Conflict::ProposalDecided),
                })
            }

            pub(crate) async fn post_transfer(
                s: &$store,
                t: &NewTransferRow,
                with: PostWith,
                audit: NewAudit,
            ) -> Result<PostOutcome> {
                let mut tx = s.pool.begin().await?;
                let outcome = post_in_tx(&mut tx, t, with, shard_of(t.id)).await?;
                if let PostOutcome::New(_) = outcome {
                    // Last: the audit head is locked only from here to the commit.
                    $store::append_audit_tx(&mut tx, audit).await?;
                }
                tx.commit().await?;
                Ok(outcome)
            }

            /// Several postings in one transaction (a page of bank notices): all land,
            /// each with its audit row, or none does. A repeated key is skipped.
            pub(crate) async fn post_transfers(
                s: &$store,
                batch: Vec<(NewTransferRow, PostWith, NewAudit)>,
            ) -> Result<Vec<PostOutcome>> {
                // One shard of each hot total for the whole batch (a batch holds its
                // rows to the commit), and postings in account order, so concurrent
                // batches take their locks in the same order.
                let shard = batch.first().map_or(0, |(t, _, _)| shard_of(t.id));
                let mut order: Vec<usize> = (0..batch.len()).collect();
                order.sort_by_key(|&i| {
                    let mut ids: Vec<Uuid> = batch[i].0.lines.iter().map(|(a, _)| *a).collect();
                    ids.sort();
                    ids
                });
                let mut slots: Vec<Option<(NewTransferRow, PostWith, NewAudit)>> = batch.into_iter().map(Some).collect();
                let mut outcomes = vec![None; slots.len()];
                let mut audits = Vec::new();
                let mut tx = s.pool.begin().await?;
                for i in order {
                    if let Some((t, with, audit)) = slots[i].take() {
                        let outcome = post_in_tx(&mut tx, &t, with, shard).await?;
                        if let PostOutcome::New(_) = outcome {
                            audits.push(audit);
                        }
                        outcomes[i] = Some(outcome);
                    }
                }
                // The audit rows last, together: the chain's head is held only for them
                // and the commit, not for the whole page.
                $store::append_audits_tx(&mut tx, audits).await?;
                tx.commit().await?;
                Ok(outcomes.into_iter().flatten().collect())
            }

            /// One posting inside `tx`, without its audit row (the caller appends it
            /// when the posting is new). A repeated key with the same body writes
            /// nothing and answers the first transfer's id.
            async fn post_in_tx(
                tx: &mut Tx<'_>,
                t: &NewTransferRow,
                with: PostWith,
                shard: i32,
            ) -> Result<PostOutcome> {
                let at = truncate_micros(t.posted_at);
                let body = t.body_hash();
                // The first statement writes (SQLite takes its lock here); a repeated key
                // waits for the first posting to commit, then finds it.
                let inserted = sqlx::query(
                    "INSERT INTO transfers (id, kind, idempotency_key, body_hash, reverses, physical_id, memo, \
                     posted_by, posted_at, amount_minor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (idempotency_key) DO NOTHING",
                )
                .bind(t.id)
                .bind(t.kind.as_str())
                .bind(&t.idempotency_key)
                .bind(&body)
                .bind(t.reverses)
                .bind(t.physical_id)
                .bind(&t.memo)
                .bind(&t.posted_by)
                .bind(at)
                .bind(t.lines.iter().map(|(_, m)| (*m).max(0)).sum::<i64>())
                .execute(&mut **tx)
                .await;
                let inserted = match inserted {
                    Err(e) if is_unique_violation(&e) && t.reverses.is_some() => {
                        return Err(conflict(Conflict::AlreadyReversed));
                    }
                    other => other?.rows_affected(),
                };
                if inserted == 0 {
                    let (first, first_body): (Uuid, String) =
                        sqlx::query_as("SELECT id, body_hash FROM transfers WHERE idempotency_key = $1")
                            .bind(&t.idempotency_key)
                            .fetch_one(&mut **tx)
                            .await?;
                    return if first_body == body { Ok(PostOutcome::Repeat(first)) } else { Err(conflict(Conflict::KeyReused)) };
                }
                if let Some(guard) = &with.approval {
                    approve_tx(tx, guard, true).await?;
                }
                if let Some((hold, amount)) = with.hold {
                    // The money the hold frees is the money the lines then move.
                    let account = take_from_hold(tx, hold, amount, "posted", at).await?;
                    if !t.lines.iter().any(|(a, m)| *a == account && *m == amount) {
                        return Err(conflict(Conflict::Changed));
                    }
                }
                apply_lines(tx, t, at, shard).await?;
                if let Some(c) = &with.credit {
                    sqlx::query(
                        "INSERT INTO bank_credits (id, physical_id, bank_ref, number, amount_minor, payer, received_at, \
                         raw, outcome, reason, account_id, transfer_id, booked_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(c.id)
                    .bind(c.physical_id)
                    .bind(&c.bank_ref)
                    .bind(&c.number)
                    .bind(c.amount_minor)
                    .bind(&c.payer)
                    .bind(truncate_micros(c.received_at))
                    .bind(&c.raw)
                    .bind(&c.outcome)
                    .bind(&c.reason)
                    .bind(c.account_id)
                    .bind(t.id)
                    .bind(at)
                    .execute(&mut **tx)
                    .await?;
                }
                if let Some((physical, cursor)) = &with.cursor {
                    sqlx::query("UPDATE physical_accounts SET credit_cursor = $2 WHERE id = $1")
                        .bind(physical)
                        .bind(cursor)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(PostOutcome::New(t.id))
            }

            /// Moves every balance the transfer touches, checked in the same
            /// statements: own balances (flags, status), hot totals by shard, and the
            /// subtree totals of every ancestor.
            async fn apply_lines(tx: &mut Tx<'_>, t: &NewTransferRow, at: DateTime<Utc>, shard: i32) -> Result<()> {
                let ids: Vec<Uuid> = t.lines.iter().map(|(id, _)| *id).collect();
                let mut accounts: BTreeMap<Uuid, (LedgerAccountRow, Option<String>)> = BTreeMap::new();
                for chunk in ids.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT a.id, a.physical_id, a.kind, a.role, a.flags, a.sharded, v.path \
                         FROM ledger_accounts a LEFT JOIN virtual_accounts v ON v.id = a.id WHERE a.id IN (",
                    );
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(")");
                    let rows: Vec<(Uuid, Uuid, String, String, i32, bool, Option<String>)> =
                        qb.build_query_as().fetch_all(&mut **tx).await?;
                    for (id, physical_id, kind, role, flags, sharded, path) in rows {
                        let kind = AccountKind::try_from(kind).map_err(|e| StoreError::Data(e.to_string()))?;
                        accounts.insert(id, (LedgerAccountRow { id, physical_id, kind, role, flags, sharded }, path));
                    }
                }
                let day = business_day(t.posted_at);
                let mut sorted = t.lines.clone();
                sorted.sort();
                let mut subtree: BTreeMap<Uuid, i64> = BTreeMap::new();
                let mut bulk: Vec<(Uuid, i64, i64)> = Vec::new();
                for (account, amount) in &sorted {
                    let Some((row, path)) = accounts.get(account) else {
                        return Err(StoreError::NotFound(domain::Entity::SubAccount));
                    };
                    if row.physical_id != t.physical_id {
                        return Err(conflict(Conflict::OtherPhysicalAccount));
                    }
                    let (debit, credit) = if *amount > 0 { (*amount, 0) } else { (0, -*amount) };
                    let grows = growth(row.kind, *amount);
                    if let Some(path) = path {
                        for ancestor in parse_path(path) {
                            *subtree.entry(ancestor).or_default() += grows;
                        }
                    }
                    if row.sharded {
                        // Internal pools and suspense never go below zero. Debits of
                        // them (rare: allocations, resolutions) serialise on the ledger
                        // row; credits (the hot path) do not touch it.
                        let guarded = grows < 0 && matches!(row.role.as_str(), "main" | "interest" | "suspense");
                        if guarded {
                            sqlx::query("UPDATE ledger_accounts SET held_minor = held_minor WHERE id = $1")
                                .bind(account)
                                .execute(&mut **tx)
                                .await?;
                        }
                        sqlx::query(
                            "INSERT INTO balance_shards (account_id, shard, debits_minor, credits_minor) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, shard) DO UPDATE SET \
                             debits_minor = balance_shards.debits_minor + excluded.debits_minor, \
                             credits_minor = balance_shards.credits_minor + excluded.credits_minor",
                        )
                        .bind(account)
                        .bind(shard)
                        .bind(debit)
                        .bind(credit)
                        .execute(&mut **tx)
                        .await?;
                        if guarded {
                            let left: i64 = sqlx::query_scalar(
                                "SELECT CAST(COALESCE(SUM(credits_minor - debits_minor), 0) AS BIGINT) \
                                 FROM balance_shards WHERE account_id = $1",
                            )
                            .bind(account)
                            .fetch_one(&mut **tx)
                            .await?;
                            if left < 0 {
                                return Err(conflict(Conflict::InsufficientFunds));
                            }
                        }
                        continue;
                    }
                    let flags = u32::try_from(row.flags)
                        .ok()
                        .and_then(|b| AccountFlags::from_bits(b & 0xff).ok())
                        .unwrap_or(AccountFlags::CUSTOMER);
                    if (flags.credit_only && *amount > 0) || (flags.debit_only && *amount < 0) {
                        return Err(conflict(Conflict::InsufficientFunds));
                    }
                    if grows >= 0 && sorted.len() > 64 {
                        bulk.push((*account, debit, credit));
                        continue;
                    }
                    let check = i32::from(flags.available_not_below_zero && grows < 0);
                    let sql = if row.kind.is_debit_normal() {
                        concat!(
                            "UPDATE ledger_accounts SET debits_minor = debits_minor + $2, credits_minor = credits_minor + $3 \
                             WHERE id = $1 AND (flags & 256) = 0 \
                             AND ($4 = 0 OR debits_minor - credits_minor - held_minor + $5 >= 0)",
                            status_guard!()
                        )
                    } else {
                        concat!(
                            "UPDATE ledger_accounts SET debits_minor = debits_minor + $2, credits_minor = credits_minor + $3 \
                             WHERE id = $1 AND (flags & 256) = 0 \
                             AND ($4 = 0 OR credits_minor - debits_minor - held_minor + $5 >= 0)",
                            status_guard!()
                        )
                    };
                    let n = sqlx::query(sql)
                        .bind(account)
                        .bind(debit)
                        .bind(credit)
                        .bind(check)
                        .bind(grows)
                        .execute(&mut **tx)
                        .await?
                        .rows_affected();
                    if n != 1 {
                        return Err(refusal(tx, *account).await);
                    }
                }
                // Large credits-only transfers (interest allocation): one statement per
                // thousand accounts.
                for chunk in bulk.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "UPDATE ledger_accounts SET debits_minor = ledger_accounts.debits_minor + d.column2, \
                         credits_minor = ledger_accounts.credits_minor + d.column3 FROM (",
                    );
                    qb.push_values(chunk, |mut b, (id, debit, credit)| {
                        b.push_bind(*id).push_bind(*debit).push_bind(*credit);
                    });
                    qb.push(
                        ") AS d WHERE ledger_accounts.id = d.column1 AND (ledger_accounts.flags & 256) = 0 AND NOT EXISTS (SELECT 1 FROM virtual_accounts v \
                         WHERE v.id = d.column1 AND v.status IN ('closed', 'quarantined', 'closing'))",
                    );
                    let n = qb.build().execute(&mut **tx).await?.rows_affected();
                    if n != chunk.len() as u64 {
                        return Err(conflict(Conflict::Changed));
                    }
                }
                for (ancestor, amount) in subtree.into_iter().filter(|(_, a)| *a != 0) {
                    sqlx::query(
                        "INSERT INTO subtree_shards (account_id, shard, amount_minor) VALUES ($1, $2, $3) \
                         ON CONFLICT (account_id, shard) DO UPDATE SET \
                         amount_minor = subtree_shards.amount_minor + excluded.amount_minor",
                    )
                    .bind(ancestor)
                    .bind(shard)
                    .bind(amount)
                    .execute(&mut **tx)
                    .await?;
                }
                let numbered: Vec<(i32, Uuid, i64)> =
                    t.lines.iter().enumerate().map(|(i, (a, m))| (i32::try_from(i).unwrap_or(i32::MAX), *a, *m)).collect();
                for chunk in numbered.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO transfer_lines (transfer_id, line, account_id, amount_minor, business_day, posted_at) ",
                    );
                    qb.push_values(chunk, |mut b, (line, account, amount)| {
                        b.push_bind(t.id).push_bind(*line).push_bind(*account).push_bind(*amount).push_bind(day).push_bind(at);
                    });
                    qb.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// Why a conditional balance update matched no row.
            async fn refusal(tx: &mut Tx<'_>, account: Uuid) -> StoreError {
                let status: std::result::Result<Option<String>, sqlx::Error> =
                    sqlx::query_scalar("SELECT status FROM virtual_accounts WHERE id = $1")
                        .bind(account)
                        .fetch_optional(&mut **tx)
                        .await;
                match status.map(|s| s.as_deref().and_then(VirtualStatus::parse)) {
                    Ok(Some(status)) if status != VirtualStatus::Active => conflict(Conflict::AccountStatus { status }),
                    Ok(_) => conflict(Conflict::InsufficientFunds),
                    Err(e) => e.into(),
                }
            }

            pub(crate) async fn transfer_lines(
                s: &$store,
                id: Uuid,
            ) -> Result<Option<(TransferKind, Uuid, Vec<(Uuid, i64)>)>> {
                let head: Option<(String, Uuid)> =
                    sqlx::query_as("SELECT kind, physical_id FROM transfers WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&s.pool)
                        .await?;
                let Some((kind, physical)) = head else { return Ok(None) };
                let kind = TransferKind::try_from(kind).map_err(|e| StoreError::Data(e.to_string()))?;
                let lines: Vec<(Uuid, i64)> = sqlx::query_as(
                    "SELECT account_id, amount_minor FROM transfer_lines WHERE transfer_id = $1 ORDER BY line",
                )
                .bind(id)
                .fetch_all(&s.pool)
                .await?;
                Ok(Some((kind, physical, lines)))
            }

            pub(crate) async fn entries(
                s: &$store,
                account: Uuid,
                from_day: Option<i32>,
                to_day: Option<i32>,
                kind: Option<TransferKind>,
                before: Option<Uuid>,
                limit: u32,
            ) -> Result<Vec<EntryRow>> {
                Ok(sqlx::query_as(
                    "SELECT transfer_id, kind, posted_at, amount_minor, running_minor, memo, reverses, reversed, \
                     counterparty FROM ( \
                       SELECT l.transfer_id, t.kind, l.posted_at, l.amount_minor, l.business_day, \
                         CAST(SUM(l.amount_minor) OVER (ORDER BY l.posted_at, l.transfer_id ROWS UNBOUNDED PRECEDING) \
                              AS BIGINT) AS running_minor, \
                         t.memo, t.reverses, \
                         EXISTS (SELECT 1 FROM transfers r WHERE r.reverses = l.transfer_id) AS reversed, \
                         (SELECT COALESCE(v2.number, a2.role) FROM transfer_lines o \
                            JOIN ledger_accounts a2 ON a2.id = o.account_id \
                            LEFT JOIN virtual_accounts v2 ON v2.id = o.account_id \
                          WHERE o.transfer_id = l.transfer_id AND o.account_id <> l.account_id \
                          ORDER BY o.line LIMIT 1) AS counterparty \
                       FROM transfer_lines l JOIN transfers t ON t.id = l.transfer_id \
                       WHERE l.account_id = $1 \
                     ) e \
                     WHERE ($2 IS NULL OR e.business_day >= $2) AND ($3 IS NULL OR e.business_day <= $3) \
                       AND ($4 IS NULL OR e.kind = $4) \
                       AND ($5 IS NULL OR e.posted_at < (SELECT posted_at FROM transfers WHERE id = $6) \
                            OR (e.posted_at = (SELECT posted_at FROM transfers WHERE id = $6) AND e.transfer_id < $6)) \
                     ORDER BY e.posted_at DESC, e.transfer_id DESC LIMIT $7",
                )
                .bind(account)
                .bind(from_day)
                .bind(to_day)
                .bind(kind.map(TransferKind::as_str))
                .bind(before.map(|b| b.to_string()))
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(&s.pool)
                .await?)
            }

            pub(crate) async fn day_sums(
                s: &$store,
                account: Uuid,
                from_day: i32,
                to_day: i32,
            ) -> Result<(i64, Vec<(i32, i64)>)> {
                let opening: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM transfer_lines \
                     WHERE account_id = $1 AND business_day < $2",
                )
                .bind(account)
                .bind(from_day)
                .fetch_one(&s.pool)
                .await?;
                let days: Vec<(i32, i64)> = sqlx::query_as(
                    "SELECT business_day, CAST(SUM(amount_minor) AS BIGINT) FROM transfer_lines \
                     WHERE account_id = $1 AND business_day >= $2 AND business_day <= $3 \
                     GROUP BY business_day ORDER BY business_day",
                )
                .bind(account)
                .bind(from_day)
                .bind(to_day)
                .fetch_all(&s.pool)
                .await?;
                Ok((opening, days))
            }

            pub(crate) async fn place_hold(s: &$store, h: &HoldRow, audit: NewAudit) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let n = sqlx::query(
                    "UPDATE ledger_accounts SET held_minor = held_minor + $2 \
                     WHERE id = $1 AND $2 > 0 AND credits_minor - debits_minor - held_minor >= $2 \
                     AND NOT EXISTS (SELECT 1 FROM virtual_accounts v WHERE v.id = $1 \
                                     AND v.status IN ('closed', 'quarantined'))",
                )
                .bind(h.account_id)
                .bind(h.amount_minor)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(refusal(&mut tx, h.account_id).await);
                }
                let at = truncate_micros(h.placed_at);
                sqlx::query(
                    "INSERT INTO holds (id, account_id, amount_minor, remaining_minor, status, reason, expires_at, \
                     placed_by, placed_at, updated_at) VALUES ($1, $2, $3, $3, 'pending', $4, $5, $6, $7, $7)",
                )
                .bind(h.id)
                .bind(h.account_id)
                .bind(h.amount_minor)
                .bind(&h.reason)
                .bind(h.expires_at.map(truncate_micros))
                .bind(&h.placed_by)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn release_hold(
                s: &$store,
                hold: Uuid,
                amount_minor: i64,
                now: DateTime<Utc>,
                approval: Option<&ProposalGuard>,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let now = truncate_micros(now);
                if let Some(guard) = approval {
                    approve_tx(&mut tx, guard, true).await?;
                }
                take_from_hold(&mut tx, hold, amount_minor, "voided", now).await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn expire_holds(s: &$store, account: Uuid, now: DateTime<Utc>) -> Result<u64> {
                let now = truncate_micros(now);
                let mut tx = s.pool.begin().await?;
                // SQLite: take the write lock before reading (a read-then-write
                // transaction can fail to upgrade under another writer).
                sqlx::query("UPDATE ledger_accounts SET held_minor = held_minor WHERE id = $1")
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
                let released: Vec<i64> = sqlx::query_scalar(
                    "UPDATE holds SET status = 'expired', updated_at = $2 WHERE account_id = $1 AND status = 'pending' \
                     AND expires_at IS NOT NULL AND expires_at <= $2 RETURNING remaining_minor",
                )
                .bind(account)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                if !released.is_empty() {
                    let total: i64 = released.iter().sum();
                    sqlx::query("UPDATE ledger_accounts SET held_minor = held_minor - $2 WHERE id = $1")
                        .bind(account)
                        .bind(total)
                        .execute(&mut *tx)
                        .await?;
                    let detail = serde_json::json!({ "holds": released.len(), "released_minor": total });
                    let audit = NewAudit::new(now, "system", "vam.hold_expired", format!("account:{account}"), detail);
                    $store::append_audit_tx(&mut tx, audit).await?;
                }
                tx.commit().await?;
                Ok(released.len() as u64)
            }

            pub(crate) async fn holds(s: &$store, account: Uuid) -> Result<Vec<HoldRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, account_id, amount_minor, remaining_minor, status, reason, expires_at, placed_by, \
                     placed_at FROM holds WHERE account_id = $1 ORDER BY placed_at DESC LIMIT 200",
                )
                .bind(account)
                .fetch_all(&s.pool)
                .await?)
            }

            pub(crate) async fn hold(s: &$store, id: Uuid) -> Result<Option<HoldRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, account_id, amount_minor, remaining_minor, status, reason, expires_at, placed_by, \
                     placed_at FROM holds WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn close_virtual(
                s: &$store,
                id: Uuid,
                now: DateTime<Utc>,
                reusable_from: NaiveDate,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let at = truncate_micros(now);
                // The ledger row first: it is the row postings update, so a close and a
                // posting serialise on it, and whichever comes second sees the other.
                let emptied = sqlx::query(
                    "UPDATE ledger_accounts SET flags = flags | 256 WHERE id = $1 AND (flags & 256) = 0 \
                     AND debits_minor = credits_minor AND held_minor = 0",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if emptied != 1 {
                    return Err(conflict(Conflict::Changed));
                }
                let number: Option<String> = sqlx::query_scalar(concat!(
                    "UPDATE virtual_accounts SET status = 'closed', closed_at = $2, reusable_from = $3 \
                     WHERE id = $1 AND status NOT IN ",
                    "('closed', 'quarantined')",
                    " AND NOT EXISTS (SELECT 1 FROM virtual_accounts c WHERE c.parent_id = $1 \
                       AND c.status NOT IN ('closed', 'quarantined')) \
                     AND EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = $1 \
                       AND a.debits_minor = a.credits_minor AND a.held_minor = 0) \
                     RETURNING number"
                ))
                .bind(id)
                .bind(at)
                .bind(reusable_from)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(number) = number else { return Err(conflict(Conflict::Changed)) };
                sqlx::query("INSERT INTO outbox (id, topic, payload, at) VALUES ($1, 'virtual_account.closed', $2, $3)")
                    .bind(Uuid::now_v7())
                    .bind(serde_json::json!({ "account": id, "number": number }).to_string())
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn insert_proposal(s: &$store, p: &ProposalRow, audit: NewAudit) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO vam_proposals (id, operation, amount_minor, proposed_by, proposed_at, status) \
                     VALUES ($1, $2, $3, $4, $5, 'pending')",
                )
                .bind(p.id)
                .bind(&p.operation)
                .bind(p.amount_minor)
                .bind(&p.proposed_by)
                .bind(truncate_micros(p.proposed_at))
                .execute(&mut *tx)
                .await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn pending_proposals(s: &$store) -> Result<Vec<ProposalRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, operation, amount_minor, proposed_by, proposed_at, status FROM vam_proposals \
                     WHERE status = 'pending' ORDER BY proposed_at LIMIT 500",
                )
                .fetch_all(&s.pool)
                .await?)
            }

            pub(crate) async fn proposal(s: &$store, id: Uuid) -> Result<Option<ProposalRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, operation, amount_minor, proposed_by, proposed_at, status FROM vam_proposals WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn decide_proposal(
                s: &$store,
                guard: &ProposalGuard,
                approve: bool,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                approve_tx(&mut tx, guard, approve).await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn record_proof(
                s: &$store,
                physical_id: Uuid,
                at: DateTime<Utc>,
                holds: bool,
                detail: &str,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                sqlx::query("INSERT INTO vam_proofs (id, physical_id, at, holds, detail) VALUES ($1, $2, $3, $4, $5)")
                    .bind(Uuid::now_v7())
                    .bind(physical_id)
                    .bind(truncate_micros(at))
                    .bind(holds)
                    .bind(detail)
                    .execute(&mut *tx)
                    .await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn last_proof(s: &$store, physical_id: Uuid) -> Result<Option<(DateTime<Utc>, bool)>> {
                Ok(sqlx::query_as(
                    "SELECT at, holds FROM vam_proofs WHERE physical_id = $1 ORDER BY at DESC, id DESC LIMIT 1",
                )
                .bind(physical_id)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn replay_breaks(s: &$store, physical_id: Uuid) -> Result<u32> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM ledger_accounts a \
                     LEFT JOIN (SELECT l.account_id, \
                                  CAST(SUM(CASE WHEN l.amount_minor > 0 THEN l.amount_minor ELSE 0 END) AS BIGINT) AS d, \
                                  CAST(SUM(CASE WHEN l.amount_minor < 0 THEN -l.amount_minor ELSE 0 END) AS BIGINT) AS c \
                                FROM transfer_lines l GROUP BY l.account_id) r ON r.account_id = a.id \
                     LEFT JOIN (SELECT b.account_id, CAST(SUM(b.debits_minor) AS BIGINT) AS d, \
                                  CAST(SUM(b.credits_minor) AS BIGINT) AS c \
                                FROM balance_shards b GROUP BY b.account_id) h ON h.account_id = a.id \
                     WHERE a.physical_id = $1 AND ( \
                       (CASE WHEN a.sharded THEN COALESCE(h.d, 0) ELSE a.debits_minor END) <> COALESCE(r.d, 0) \
                       OR (CASE WHEN a.sharded THEN COALESCE(h.c, 0) ELSE a.credits_minor END) <> COALESCE(r.c, 0))",
                )
                .bind(physical_id)
                .fetch_one(&s.pool)
                .await?;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            }

            pub(crate) async fn rollup_breaks(s: &$store, physical_id: Uuid) -> Result<u32> {
                let n: i64 = sqlx::query_scalar(
                    "WITH extra AS (SELECT account_id, SUM(amount_minor) AS x FROM subtree_shards GROUP BY account_id), \
                     node AS (SELECT v.id, v.parent_id, COALESCE(e.x, 0) AS extra, \
                                (a.credits_minor - a.debits_minor) + COALESCE(e.x, 0) AS subtree \
                              FROM virtual_accounts v JOIN ledger_accounts a ON a.id = v.id \
                              LEFT JOIN extra e ON e.account_id = v.id WHERE v.physical_id = $1), \
                     kids AS (SELECT parent_id, SUM(subtree) AS total FROM node WHERE parent_id IS NOT NULL \
                              GROUP BY parent_id) \
                     SELECT COUNT(*) FROM node n LEFT JOIN kids k ON k.parent_id = n.id \
                     WHERE n.extra <> COALESCE(k.total, 0)",
                )
                .bind(physical_id)
                .fetch_one(&s.pool)
                .await?;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            }

            pub(crate) async fn interest_products(
                s: &$store,
                physical_id: Uuid,
                from_day: i32,
                to_day: i32,
            ) -> Result<Vec<(Uuid, i64)>> {
                // EOD balance × days, as Σ over lines: a line before the period counts
                // every day of it; a line inside counts from its day to the end.
                Ok(sqlx::query_as(
                    "SELECT a.id, p.product FROM ( \
                       SELECT l.account_id, CAST(SUM(CASE WHEN l.business_day < $2 \
                         THEN -l.amount_minor * ($3 - $2 + 1) \
                         ELSE -l.amount_minor * ($3 - l.business_day + 1) END) AS BIGINT) AS product \
                       FROM transfer_lines l WHERE l.business_day <= $3 GROUP BY l.account_id) p \
                     JOIN ledger_accounts a ON a.id = p.account_id \
                     WHERE a.physical_id = $1 AND a.role = 'virtual' AND (a.flags & 256) = 0 \
                     ORDER BY a.id",
                )
                .bind(physical_id)
                .bind(from_day)
                .bind(to_day)
                .fetch_all(&s.pool)
                .await?)
            }

            pub(crate) async fn set_credit_cursor(s: &$store, physical_id: Uuid, cursor: &str) -> Result<()> {
                sqlx::query("UPDATE physical_accounts SET credit_cursor = $2 WHERE id = $1")
                    .bind(physical_id)
                    .bind(cursor)
                    .execute(&s.pool)
                    .await?;
                Ok(())
            }

            pub(crate) async fn customer_sample(s: &$store, limit: u32) -> Result<Vec<(Uuid, String)>> {
                Ok(sqlx::query_as("SELECT id, name FROM customers ORDER BY id LIMIT $1")
                    .bind(i64::from(limit))
                    .fetch_all(&s.pool)
                    .await?)
            }

            pub(crate) async fn maker_total_since(s: &$store, actor: &str, since: DateTime<Utc>) -> Result<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(t.amount_minor), 0) AS BIGINT) FROM transfers t \
                     WHERE t.posted_by = $1 AND t.posted_at >= $2 \
                     AND t.kind IN ('internal_transfer', 'sweep', 'reversal', 'interest', 'hold_post', 'refund')",
                )
                .bind(actor)
                .bind(truncate_micros(since))
                .fetch_one(&s.pool)
                .await?)
            }

            pub(crate) async fn credit_booked(s: &$store, physical_id: Uuid, bank_ref: &str) -> Result<bool> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM bank_credits WHERE physical_id = $1 AND bank_ref = $2",
                )
                .bind(physical_id)
                .bind(bank_ref)
                .fetch_one(&s.pool)
                .await?;
                Ok(n > 0)
            }

            pub(crate) async fn unidentified_count(s: &$store, physical_id: Uuid) -> Result<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM bank_credits WHERE physical_id = $1 AND outcome = 'unidentified'",
                )
                .bind(physical_id)
                .fetch_one(&s.pool)
                .await?)
            }
        }
    };
}

vam_sql!(sqlite, SqliteStore, sqlx::Sqlite);
vam_sql!(pg, PgStore, sqlx::Postgres);
