//! Posting transfers: idempotent, balances checked in the `UPDATE`s, hot totals by
//! shard, one transaction per posting or per page; and reading entries back.

use super::*;
use crate::error::is_unique_violation;
use crate::{StoreError, truncate_micros};
use domain::Conflict;
use domain::ledger::AccountFlags;
use std::collections::BTreeMap;

macro_rules! posting_sql {
    ($m:ident, $store:ident, $db:ty) => {
        pub(crate) mod $m {
            use super::*;

            #[allow(dead_code)]
            type Tx<'c> = sqlx::Transaction<'c, $db>;

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
                // Set-based when every posting lands or repeats; otherwise one by one
                // below, which names the posting that failed the page.
                let items: Vec<_> = batch.iter().map(|(t, w, a)| (t, w, a)).collect();
                match crate::vam::group::$m::post_group(s, &items, true).await {
                    Ok(Some(verdicts)) => {
                        let outcomes: Vec<PostOutcome> = verdicts
                            .into_iter()
                            .filter_map(|v| match v {
                                crate::vam::group::Verdict::Done(Ok(o)) => Some(o),
                                _ => None,
                            })
                            .collect();
                        if outcomes.len() == batch.len() {
                            return Ok(outcomes);
                        }
                    }
                    // A group that failed (a deadlock with another desktop, a key it
                    // posted meanwhile) is tried once more posting by posting.
                    Ok(None) | Err(_) => {}
                }
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
            pub(crate) async fn post_in_tx(
                tx: &mut Tx<'_>,
                t: &NewTransferRow,
                with: PostWith,
                shard: i32,
            ) -> Result<PostOutcome> {
                let at = truncate_micros(t.posted_at);
                let body = t.body_hash();
                // The approval first (a write: SQLite takes its lock here): a proposal
                // whose request was also posted directly is approved onto that posting
                // (the key below finds it) instead of staying pending.
                if let Some(guard) = &with.approval {
                    crate::vam::holds::$m::approve_tx(tx, guard, true).await?;
                }
                // Otherwise the first statement writes; a repeated key waits for the
                // first posting to commit, then finds it.
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
                if let Some((hold, amount)) = with.hold {
                    // The money the hold frees is the money the lines then move.
                    let account = crate::vam::holds::$m::take_from_hold(tx, hold, amount, "posted", at).await?;
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
                // Own balances first, then the sharded totals, each in account order:
                // the order a group of postings locks them in too.
                let mut sorted = t.lines.clone();
                sorted.sort_by_key(|(a, _)| (accounts.get(a).is_some_and(|(row, _)| row.sharded), *a));
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
            pub(crate) async fn refusal(tx: &mut Tx<'_>, account: Uuid) -> StoreError {
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

            pub(crate) async fn set_credit_cursor(s: &$store, physical_id: Uuid, cursor: &str) -> Result<()> {
                sqlx::query("UPDATE physical_accounts SET credit_cursor = $2 WHERE id = $1")
                    .bind(physical_id)
                    .bind(cursor)
                    .execute(&s.pool)
                    .await?;
                Ok(())
            }
        }
    };
}

posting_sql!(sqlite, SqliteStore, sqlx::Sqlite);
posting_sql!(pg, PgStore, sqlx::Postgres);
