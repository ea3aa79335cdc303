//! Group commit of postings. Postings that arrive while another group is being
//! written wait for the next group and are written together: one transaction, a
//! handful of set-based statements and one run of audit appends for the lot, instead
//! of about six statements and one chain-head lock per posting.
//!
//! The accounts a group touches are locked (PostgreSQL: `FOR UPDATE` in id order;
//! SQLite: `BEGIN IMMEDIATE`) and read, every posting is judged in arrival order
//! against the balances the earlier ones left, exactly as the one-by-one path would
//! judge it, and the accepted postings' effects are written in aggregate. A refused
//! posting gets its own answer; the others still land. Anything unusual (a key twice
//! in one group, a debit of a guarded pool, a write that does not match what was
//! read) goes the one-by-one path, which is safe because every posting carries its
//! idempotency key.

use super::*;
use crate::truncate_micros;
use domain::Entity;
use domain::ledger::AccountFlags;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use tokio::sync::{mpsc, oneshot};

/// Most postings one group takes.
const MAX_GROUP: usize = 256;

/// One posting waiting for its group.
pub(crate) struct Job {
    t: NewTransferRow,
    with: PostWith,
    audit: NewAudit,
    reply: oneshot::Sender<Result<PostOutcome>>,
}

/// The queue into a store's group committer, started on first use.
pub(crate) type Poster = std::sync::OnceLock<mpsc::UnboundedSender<Job>>;

/// Whether a posting may be written in a group: reversals, approvals, hold payouts
/// and large transfers take the one-by-one path.
fn groupable(t: &NewTransferRow, with: &PostWith) -> bool {
    t.reverses.is_none() && with.approval.is_none() && with.hold.is_none() && t.lines.len() <= 64
}

/// What the group decided for one posting.
pub(crate) enum Verdict {
    /// Posted, repeated or refused.
    Done(Result<PostOutcome>),
    /// To be posted on its own after the group.
    Alone,
}

/// What a group needs to know of an account.
struct Meta {
    physical_id: Uuid,
    kind: AccountKind,
    role: String,
    sharded: bool,
    path: Option<String>,
    status: Option<VirtualStatus>,
}

/// A locked own-balance row.
#[derive(Clone, Copy)]
struct Bal {
    debits: i64,
    credits: i64,
    held: i64,
    flags: i32,
}

/// Judges one posting against the balances the earlier postings of its group left,
/// with the one-by-one path's rules and answers; an accepted posting moves `bals`.
fn judge(t: &NewTransferRow, metas: &HashMap<Uuid, Meta>, bals: &mut HashMap<Uuid, Bal>) -> Verdict {
    let mut moved: Vec<(Uuid, Bal)> = Vec::with_capacity(t.lines.len());
    for (account, amount) in &t.lines {
        let Some(meta) = metas.get(account) else {
            return Verdict::Done(Err(StoreError::NotFound(Entity::SubAccount)));
        };
        if meta.physical_id != t.physical_id {
            return Verdict::Done(Err(conflict(Conflict::OtherPhysicalAccount)));
        }
        let grows = growth(meta.kind, *amount);
        if meta.sharded {
            // Internal pools are re-summed under a lock when debited: one by one.
            if grows < 0 && matches!(meta.role.as_str(), "main" | "interest" | "suspense") {
                return Verdict::Alone;
            }
            continue;
        }
        let Some(bal) = bals.get(account).copied() else {
            return Verdict::Alone;
        };
        let blocked = match meta.status {
            Some(VirtualStatus::Closed | VirtualStatus::Quarantined) => true,
            Some(VirtualStatus::Frozen) => grows < 0,
            Some(VirtualStatus::Closing) => grows > 0,
            _ => false,
        };
        if blocked || bal.flags & 256 != 0 {
            return Verdict::Done(Err(match meta.status {
                Some(status) if status != VirtualStatus::Active => {
                    conflict(Conflict::AccountStatus { status })
                }
                _ => conflict(Conflict::InsufficientFunds),
            }));
        }
        let flags = u32::try_from(bal.flags)
            .ok()
            .and_then(|b| AccountFlags::from_bits(b & 0xff).ok())
            .unwrap_or(AccountFlags::CUSTOMER);
        if (flags.credit_only && *amount > 0) || (flags.debit_only && *amount < 0) {
            return Verdict::Done(Err(conflict(Conflict::InsufficientFunds)));
        }
        let balance =
            if meta.kind.is_debit_normal() { bal.debits - bal.credits } else { bal.credits - bal.debits };
        if flags.available_not_below_zero && grows < 0 && balance - bal.held + grows < 0 {
            return Verdict::Done(Err(conflict(Conflict::InsufficientFunds)));
        }
        let mut after = bal;
        if *amount > 0 {
            after.debits += amount;
        } else {
            after.credits -= amount;
        }
        moved.push((*account, after));
    }
    bals.extend(moved);
    Verdict::Done(Ok(PostOutcome::New(t.id)))
}

/// The aggregate effect of the accepted postings: own balances (debits, credits),
/// hot totals (debits, credits) and ancestors' subtree totals.
#[derive(Default)]
struct Effects {
    own: BTreeMap<Uuid, (i64, i64)>,
    hot: BTreeMap<Uuid, (i64, i64)>,
    subtree: BTreeMap<Uuid, i64>,
}

fn effects(accepted: &[&NewTransferRow], metas: &HashMap<Uuid, Meta>) -> Effects {
    let mut e = Effects::default();
    for t in accepted {
        for (account, amount) in &t.lines {
            let Some(meta) = metas.get(account) else { continue };
            let (debit, credit) = if *amount > 0 { (*amount, 0) } else { (0, -*amount) };
            let slot = if meta.sharded { &mut e.hot } else { &mut e.own };
            let entry = slot.entry(*account).or_default();
            entry.0 += debit;
            entry.1 += credit;
            if let Some(path) = &meta.path {
                for ancestor in parse_path(path) {
                    *e.subtree.entry(ancestor).or_default() += growth(meta.kind, *amount);
                }
            }
        }
    }
    e.subtree.retain(|_, a| *a != 0);
    e
}

macro_rules! group_sql {
    ($m:ident, $store:ident, $db:ty, $begin:expr, $lock:literal, $set_based:literal) => {
        pub(crate) mod $m {
            use super::*;

            type Tx<'c> = sqlx::Transaction<'c, $db>;

            /// Posts through the store's group committer when the posting may be
            /// grouped (and a runtime is there to run the committer), else alone.
            pub(crate) async fn post_transfer(
                s: &$store,
                t: &NewTransferRow,
                with: PostWith,
                audit: NewAudit,
            ) -> Result<PostOutcome> {
                if groupable(t, &with) {
                    if let Some(queue) = queue(s) {
                        let (reply, answer) = oneshot::channel();
                        let job = Job { t: t.clone(), with: with.clone(), audit: audit.clone(), reply };
                        if queue.send(job).is_ok() {
                            if let Ok(outcome) = answer.await {
                                return outcome;
                            }
                        }
                        // The committer is gone (its runtime ended): posting alone is
                        // safe even if the group wrote it, by the idempotency key.
                    }
                }
                crate::vam::posting::$m::post_transfer(s, t, with, audit).await
            }

            fn queue(s: &$store) -> Option<&mpsc::UnboundedSender<Job>> {
                if s.poster.get().is_none() {
                    let handle = tokio::runtime::Handle::try_current().ok()?;
                    let (queue, jobs) = mpsc::unbounded_channel();
                    if s.poster.set(queue).is_ok() {
                        let own = $store::new(s.pool.clone(), s.info.clone());
                        handle.spawn(committer(own, jobs));
                    }
                }
                s.poster.get()
            }

            /// Takes every posting waiting (up to [`MAX_GROUP`]) and writes them as
            /// one group, until the store is dropped.
            async fn committer(s: $store, mut jobs: mpsc::UnboundedReceiver<Job>) {
                while let Some(first) = jobs.recv().await {
                    let mut group = vec![first];
                    while group.len() < MAX_GROUP {
                        match jobs.try_recv() {
                            Ok(job) => group.push(job),
                            Err(_) => break,
                        }
                    }
                    run_group(&s, group).await;
                }
            }

            async fn run_group(s: &$store, jobs: Vec<Job>) {
                // A key twice in one group: the later ones after the group, where
                // they find the first.
                let mut keys = HashSet::new();
                let (group, later): (Vec<Job>, Vec<Job>) =
                    jobs.into_iter().partition(|j| keys.insert(j.t.idempotency_key.clone()));
                let items: Vec<(&NewTransferRow, &PostWith, &NewAudit)> =
                    group.iter().map(|j| (&j.t, &j.with, &j.audit)).collect();
                let verdicts = match post_group(s, &items, false).await {
                    Ok(Some(verdicts)) => verdicts,
                    Ok(None) => Vec::new(),
                    Err(e) => {
                        tracing::debug!(error = %e, size = items.len(), "group posting fell back to one by one");
                        Vec::new()
                    }
                };
                let mut alone = Vec::new();
                let mut verdicts = verdicts.into_iter();
                for job in group {
                    match verdicts.next() {
                        Some(Verdict::Done(outcome)) => {
                            // The caller may have stopped waiting; the posting stands.
                            let _ = job.reply.send(outcome);
                        }
                        Some(Verdict::Alone) | None => alone.push(job),
                    }
                }
                for job in alone.into_iter().chain(later) {
                    let outcome = crate::vam::posting::$m::post_transfer(s, &job.t, job.with, job.audit).await;
                    let _ = job.reply.send(outcome);
                }
            }

            /// Posts `items` in one transaction. With `all_or_none`, answers `None`
            /// (writing nothing) unless every posting lands or repeats.
            pub(crate) async fn post_group(
                s: &$store,
                items: &[(&NewTransferRow, &PostWith, &NewAudit)],
                all_or_none: bool,
            ) -> Result<Option<Vec<Verdict>>> {
                if items.iter().any(|(t, with, _)| !groupable(t, with)) {
                    return Ok(None);
                }
                let mut tx: Tx<'_> = match $begin {
                    Some(begin) => s.pool.begin_with(begin).await?,
                    None => s.pool.begin().await?,
                };
                let earlier = keys_seen(&mut tx, items).await?;
                let ids: BTreeSet<Uuid> = items.iter().flat_map(|(t, _, _)| t.lines.iter().map(|(a, _)| *a)).collect();
                let ids: Vec<Uuid> = ids.into_iter().collect();
                // Lock first, then read the rest, so what is read is at least as new
                // as the locks.
                let mut bals = lock_balances(&mut tx, &ids).await?;
                let metas = metas(&mut tx, &ids).await?;
                let mut verdicts = Vec::with_capacity(items.len());
                for (t, _, _) in items {
                    verdicts.push(match earlier.get(&t.idempotency_key) {
                        Some((first, body)) if *body == t.body_hash() => Verdict::Done(Ok(PostOutcome::Repeat(*first))),
                        Some(_) => Verdict::Done(Err(conflict(Conflict::KeyReused))),
                        None => judge(t, &metas, &mut bals),
                    });
                }
                let landed = |v: &Verdict| matches!(v, Verdict::Done(Ok(PostOutcome::New(_))));
                if all_or_none && verdicts.iter().any(|v| !matches!(v, Verdict::Done(Ok(_)))) {
                    tx.rollback().await?;
                    return Ok(None);
                }
                let accepted: Vec<usize> = (0..items.len()).filter(|&i| landed(&verdicts[i])).collect();
                if accepted.is_empty() {
                    tx.rollback().await?;
                    return Ok(Some(verdicts));
                }
                let transfers: Vec<&NewTransferRow> = accepted.iter().map(|&i| items[i].0).collect();
                let shard = shard_of(transfers[0].id);
                write_effects(&mut tx, &effects(&transfers, &metas), shard).await?;
                write_transfers(&mut tx, &transfers).await?;
                let credits: Vec<(&BankCreditRow, &NewTransferRow)> =
                    accepted.iter().filter_map(|&i| items[i].1.credit.as_ref().map(|c| (c, items[i].0))).collect();
                write_credits(&mut tx, &credits).await?;
                let mut cursors: BTreeMap<Uuid, &str> = BTreeMap::new();
                for &i in &accepted {
                    if let Some((physical, cursor)) = &items[i].1.cursor {
                        cursors.insert(*physical, cursor);
                    }
                }
                for (physical, cursor) in cursors {
                    sqlx::query("UPDATE physical_accounts SET credit_cursor = $2 WHERE id = $1")
                        .bind(physical)
                        .bind(cursor)
                        .execute(&mut *tx)
                        .await?;
                }
                // Last: the chain's head is held only for these and the commit.
                let audits = accepted.iter().map(|&i| items[i].2.clone()).collect();
                $store::append_audits_tx(&mut tx, audits).await?;
                tx.commit().await?;
                Ok(Some(verdicts))
            }

            /// Keys of `items` already posted: key → (first transfer, its body hash).
            async fn keys_seen(
                tx: &mut Tx<'_>,
                items: &[(&NewTransferRow, &PostWith, &NewAudit)],
            ) -> Result<HashMap<String, (Uuid, String)>> {
                let mut seen = HashMap::new();
                for chunk in items.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT idempotency_key, id, body_hash FROM transfers WHERE idempotency_key IN (",
                    );
                    let mut list = qb.separated(", ");
                    for (t, _, _) in chunk {
                        list.push_bind(t.idempotency_key.clone());
                    }
                    qb.push(")");
                    let rows: Vec<(String, Uuid, String)> = qb.build_query_as().fetch_all(&mut **tx).await?;
                    seen.extend(rows.into_iter().map(|(k, id, body)| (k, (id, body))));
                }
                Ok(seen)
            }

            /// Locks the own-balance rows (not the sharded totals) in id order.
            async fn lock_balances(tx: &mut Tx<'_>, ids: &[Uuid]) -> Result<HashMap<Uuid, Bal>> {
                let mut bals = HashMap::new();
                for chunk in ids.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT id, debits_minor, credits_minor, held_minor, flags FROM ledger_accounts \
                         WHERE NOT sharded AND id IN (",
                    );
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(concat!(") ORDER BY id", $lock));
                    let rows: Vec<(Uuid, i64, i64, i64, i32)> = qb.build_query_as().fetch_all(&mut **tx).await?;
                    for (id, debits, credits, held, flags) in rows {
                        bals.insert(id, Bal { debits, credits, held, flags });
                    }
                }
                Ok(bals)
            }

            async fn metas(tx: &mut Tx<'_>, ids: &[Uuid]) -> Result<HashMap<Uuid, Meta>> {
                let mut metas = HashMap::new();
                for chunk in ids.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT a.id, a.physical_id, a.kind, a.role, a.sharded, v.path, v.status \
                         FROM ledger_accounts a LEFT JOIN virtual_accounts v ON v.id = a.id WHERE a.id IN (",
                    );
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(")");
                    let rows: Vec<(Uuid, Uuid, String, String, bool, Option<String>, Option<String>)> =
                        qb.build_query_as().fetch_all(&mut **tx).await?;
                    for (id, physical_id, kind, role, sharded, path, status) in rows {
                        let kind = AccountKind::try_from(kind).map_err(|e| StoreError::Data(e.to_string()))?;
                        let status = status.as_deref().and_then(VirtualStatus::parse);
                        metas.insert(id, Meta { physical_id, kind, role, sharded, path, status });
                    }
                }
                Ok(metas)
            }

            /// Writes the aggregate effects; a row that is not there any more fails
            /// the group (which then goes one by one).
            async fn write_effects(tx: &mut Tx<'_>, e: &Effects, shard: i32) -> Result<()> {
                let own: Vec<(&Uuid, &(i64, i64))> = e.own.iter().collect();
                if !$set_based {
                    // SQLite: no round trips to save, and its planner may scan the
                    // table for a small `UPDATE … FROM (VALUES …)`.
                    for (id, (debit, credit)) in &own {
                        let n = sqlx::query(
                            "UPDATE ledger_accounts SET debits_minor = debits_minor + $2, \
                             credits_minor = credits_minor + $3 WHERE id = $1 AND (flags & 256) = 0",
                        )
                        .bind(**id)
                        .bind(*debit)
                        .bind(*credit)
                        .execute(&mut **tx)
                        .await?
                        .rows_affected();
                        if n != 1 {
                            return Err(conflict(Conflict::Changed));
                        }
                    }
                }
                for chunk in own.chunks(1000).filter(|_| $set_based) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "UPDATE ledger_accounts SET debits_minor = ledger_accounts.debits_minor + d.column2, \
                         credits_minor = ledger_accounts.credits_minor + d.column3 FROM (",
                    );
                    qb.push_values(chunk, |mut b, (id, (debit, credit))| {
                        b.push_bind(**id).push_bind(*debit).push_bind(*credit);
                    });
                    qb.push(") AS d WHERE ledger_accounts.id = d.column1 AND (ledger_accounts.flags & 256) = 0");
                    if qb.build().execute(&mut **tx).await?.rows_affected() != chunk.len() as u64 {
                        return Err(conflict(Conflict::Changed));
                    }
                }
                let hot: Vec<(&Uuid, &(i64, i64))> = e.hot.iter().collect();
                for chunk in hot.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO balance_shards (account_id, shard, debits_minor, credits_minor) ",
                    );
                    qb.push_values(chunk, |mut b, (id, (debit, credit))| {
                        b.push_bind(**id).push_bind(shard).push_bind(*debit).push_bind(*credit);
                    });
                    qb.push(
                        " ON CONFLICT (account_id, shard) DO UPDATE SET \
                         debits_minor = balance_shards.debits_minor + excluded.debits_minor, \
                         credits_minor = balance_shards.credits_minor + excluded.credits_minor",
                    );
                    qb.build().execute(&mut **tx).await?;
                }
                let subtree: Vec<(&Uuid, &i64)> = e.subtree.iter().collect();
                for chunk in subtree.chunks(1000) {
                    let mut qb =
                        sqlx::QueryBuilder::<$db>::new("INSERT INTO subtree_shards (account_id, shard, amount_minor) ");
                    qb.push_values(chunk, |mut b, (id, amount)| {
                        b.push_bind(**id).push_bind(shard).push_bind(**amount);
                    });
                    qb.push(
                        " ON CONFLICT (account_id, shard) DO UPDATE SET \
                         amount_minor = subtree_shards.amount_minor + excluded.amount_minor",
                    );
                    qb.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// The transfers and their lines. A key another desktop posted since
            /// `keys_seen` fails the group (which then goes one by one).
            async fn write_transfers(tx: &mut Tx<'_>, transfers: &[&NewTransferRow]) -> Result<()> {
                for chunk in transfers.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO transfers (id, kind, idempotency_key, body_hash, reverses, physical_id, memo, \
                         posted_by, posted_at, amount_minor) ",
                    );
                    qb.push_values(chunk, |mut b, t| {
                        b.push_bind(t.id)
                            .push_bind(t.kind.as_str())
                            .push_bind(t.idempotency_key.clone())
                            .push_bind(t.body_hash())
                            .push_bind(t.reverses)
                            .push_bind(t.physical_id)
                            .push_bind(t.memo.clone())
                            .push_bind(t.posted_by.clone())
                            .push_bind(truncate_micros(t.posted_at))
                            .push_bind(t.lines.iter().map(|(_, m)| (*m).max(0)).sum::<i64>());
                    });
                    qb.push(" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id");
                    let inserted: Vec<(Uuid,)> = qb.build_query_as().fetch_all(&mut **tx).await?;
                    if inserted.len() != chunk.len() {
                        return Err(conflict(Conflict::Changed));
                    }
                }
                let lines: Vec<(&NewTransferRow, i32, Uuid, i64)> = transfers
                    .iter()
                    .flat_map(|t| {
                        t.lines
                            .iter()
                            .enumerate()
                            .map(move |(i, (a, m))| (*t, i32::try_from(i).unwrap_or(i32::MAX), *a, *m))
                    })
                    .collect();
                for chunk in lines.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO transfer_lines (transfer_id, line, account_id, amount_minor, business_day, posted_at) ",
                    );
                    qb.push_values(chunk, |mut b, (t, line, account, amount)| {
                        b.push_bind(t.id)
                            .push_bind(*line)
                            .push_bind(*account)
                            .push_bind(*amount)
                            .push_bind(business_day(t.posted_at))
                            .push_bind(truncate_micros(t.posted_at));
                    });
                    qb.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            async fn write_credits(tx: &mut Tx<'_>, credits: &[(&BankCreditRow, &NewTransferRow)]) -> Result<()> {
                for chunk in credits.chunks(200) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO bank_credits (id, physical_id, bank_ref, number, amount_minor, payer, received_at, \
                         raw, outcome, reason, account_id, transfer_id, booked_at) ",
                    );
                    qb.push_values(chunk, |mut b, (c, t)| {
                        b.push_bind(c.id)
                            .push_bind(c.physical_id)
                            .push_bind(c.bank_ref.clone())
                            .push_bind(c.number.clone())
                            .push_bind(c.amount_minor)
                            .push_bind(c.payer.clone())
                            .push_bind(truncate_micros(c.received_at))
                            .push_bind(c.raw.clone())
                            .push_bind(c.outcome.clone())
                            .push_bind(c.reason.clone())
                            .push_bind(c.account_id)
                            .push_bind(t.id)
                            .push_bind(truncate_micros(t.posted_at));
                    });
                    qb.build().execute(&mut **tx).await?;
                }
                Ok(())
            }
        }
    };
}

group_sql!(sqlite, SqliteStore, sqlx::Sqlite, Some("BEGIN IMMEDIATE"), "", false);
group_sql!(pg, PgStore, sqlx::Postgres, None::<&'static str>, " FOR UPDATE", true);
