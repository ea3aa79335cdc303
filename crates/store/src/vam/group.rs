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

/// Groups in flight at once per desktop: two keep the database busy while the
/// desktop judges the next group (more only wait on each other's locks).
const COMMITTERS: usize = 1;

/// One posting waiting for its group.
pub(crate) struct Job {
    t: NewTransferRow,
    with: PostWith,
    audit: NewAudit,
    reply: oneshot::Sender<Result<PostOutcome>>,
}

/// The queue into a store's group committer, started on first use and again when
/// the runtime that ran it has ended.
pub(crate) type Poster = parking_lot::Mutex<Option<mpsc::UnboundedSender<Job>>>;

/// Whether a posting may be written in a group: reversals, approvals, hold payouts
/// and large transfers take the one-by-one path.
fn groupable(t: &NewTransferRow, with: &PostWith) -> bool {
    let mut accounts: Vec<Uuid> = t.lines.iter().map(|(a, _)| *a).collect();
    accounts.sort();
    accounts.dedup();
    // An account twice in one transfer (the domain refuses it; the store's callers
    // may not have asked) is judged line by line in SQL.
    t.reverses.is_none()
        && with.approval.is_none()
        && with.hold.is_none()
        && t.lines.len() <= 64
        && accounts.len() == t.lines.len()
}

/// What the group decided for one posting.
pub(crate) enum Verdict {
    /// Posted, repeated or refused.
    Done(Result<PostOutcome>),
    /// To be posted on its own after the group.
    Alone,
}

/// Kind, role and physical account of sharded accounts (which never change), by id.
#[allow(clippy::type_complexity)]
static SHARDED: std::sync::LazyLock<parking_lot::Mutex<HashMap<Uuid, (Uuid, AccountKind, String)>>> =
    std::sync::LazyLock::new(Default::default);

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
/// exactly as `apply_lines` would (lines in account order, the flag check first, a
/// refusal named by the account's status unless it is active); an accepted posting
/// moves `bals`.
fn judge(t: &NewTransferRow, metas: &HashMap<Uuid, Meta>, bals: &mut HashMap<Uuid, Bal>) -> Verdict {
    let mut sorted = t.lines.clone();
    sorted.sort_by_key(|(a, _)| (metas.get(a).is_some_and(|m| m.sharded), *a));
    let mut moved: Vec<(Uuid, Bal)> = Vec::with_capacity(sorted.len());
    for (account, amount) in &sorted {
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
        let flags = u32::try_from(bal.flags)
            .ok()
            .and_then(|b| AccountFlags::from_bits(b & 0xff).ok())
            .unwrap_or(AccountFlags::CUSTOMER);
        if (flags.credit_only && *amount > 0) || (flags.debit_only && *amount < 0) {
            return Verdict::Done(Err(conflict(Conflict::InsufficientFunds)));
        }
        let blocked = match meta.status {
            Some(VirtualStatus::Closed | VirtualStatus::Quarantined) => true,
            Some(VirtualStatus::Frozen) => grows < 0,
            Some(VirtualStatus::Closing) => grows > 0,
            _ => false,
        };
        let balance = if meta.kind.is_debit_normal() {
            bal.debits.checked_sub(bal.credits)
        } else {
            bal.credits.checked_sub(bal.debits)
        };
        let Some(available_after) =
            balance.and_then(|b| b.checked_sub(bal.held)).and_then(|a| a.checked_add(grows))
        else {
            return Verdict::Alone;
        };
        let short = flags.available_not_below_zero && grows < 0 && available_after < 0;
        if blocked || short || bal.flags & 256 != 0 {
            return Verdict::Done(Err(match meta.status {
                Some(status) if status != VirtualStatus::Active => {
                    conflict(Conflict::AccountStatus { status })
                }
                _ => conflict(Conflict::InsufficientFunds),
            }));
        }
        let mut after = bal;
        let sum = if *amount > 0 {
            after.debits.checked_add(*amount).map(|d| after.debits = d)
        } else {
            after.credits.checked_sub(*amount).map(|c| after.credits = c)
        };
        if sum.is_none() {
            return Verdict::Alone;
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

/// `None` when a sum would overflow (the group then goes one by one, where SQL
/// refuses it).
fn effects(accepted: &[&NewTransferRow], metas: &HashMap<Uuid, Meta>) -> Option<Effects> {
    let mut e = Effects::default();
    for t in accepted {
        for (account, amount) in &t.lines {
            let Some(meta) = metas.get(account) else { continue };
            let (debit, credit) = if *amount > 0 { (*amount, 0) } else { (0, amount.checked_neg()?) };
            let slot = if meta.sharded { &mut e.hot } else { &mut e.own };
            let entry = slot.entry(*account).or_default();
            entry.0 = entry.0.checked_add(debit)?;
            entry.1 = entry.1.checked_add(credit)?;
            if let Some(path) = &meta.path {
                for ancestor in parse_path(path) {
                    let total = e.subtree.entry(ancestor).or_default();
                    *total = total.checked_add(growth(meta.kind, *amount))?;
                }
            }
        }
    }
    e.subtree.retain(|_, a| *a != 0);
    Some(e)
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

            fn queue(s: &$store) -> Option<mpsc::UnboundedSender<Job>> {
                let mut poster = s.poster.lock();
                match poster.as_ref() {
                    Some(queue) if !queue.is_closed() => Some(queue.clone()),
                    _ => {
                        let handle = tokio::runtime::Handle::try_current().ok()?;
                        let (queue, jobs) = mpsc::unbounded_channel();
                        let jobs = std::sync::Arc::new(tokio::sync::Mutex::new(jobs));
                        for _ in 0..COMMITTERS {
                            handle.spawn(committer($store::new(s.pool.clone(), s.info.clone()), jobs.clone()));
                        }
                        *poster = Some(queue.clone());
                        Some(queue)
                    }
                }
            }

            /// Takes every posting waiting (up to [`MAX_GROUP`]) and writes them as
            /// one group, until the store is dropped. [`COMMITTERS`] of these share
            /// the queue, so one group is judged while another waits on the database.
            async fn committer(s: $store, jobs: std::sync::Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>>) {
                loop {
                    let group = {
                        let mut jobs = jobs.lock().await;
                        let Some(first) = jobs.recv().await else { return };
                        let mut group = vec![first];
                        while group.len() < MAX_GROUP {
                            match jobs.try_recv() {
                                Ok(job) => group.push(job),
                                Err(_) => break,
                            }
                        }
                        group
                    };
                    run_group(&s, group).await;
                }
            }

            async fn run_group(s: &$store, jobs: Vec<Job>) {
                // A caller that stopped waiting before its posting was judged gets
                // nothing written, as when a one-by-one transaction is dropped.
                let jobs: Vec<Job> = jobs.into_iter().filter(|j| !j.reply.is_closed()).collect();
                // Arrival order is kept: the group ends before a key it already holds
                // (the rest go one by one, and find the first).
                let mut keys = HashSet::new();
                let cut = jobs.iter().position(|j| !keys.insert(j.t.idempotency_key.clone())).unwrap_or(jobs.len());
                let mut group = jobs;
                let rest = group.split_off(cut);
                let items: Vec<(&NewTransferRow, &PostWith, &NewAudit)> =
                    group.iter().map(|j| (&j.t, &j.with, &j.audit)).collect();
                let verdicts = match post_group(s, &items, false).await {
                    Ok(Some(verdicts)) => verdicts,
                    Ok(None) => Vec::new(),
                    Err(e) => {
                        tracing::warn!(error = %e, size = items.len(), "a group of postings failed; posting them one by one");
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
                for job in alone.into_iter().chain(rest) {
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
                let ids: BTreeSet<Uuid> = items.iter().flat_map(|(t, _, _)| t.lines.iter().map(|(a, _)| *a)).collect();
                let ids: Vec<Uuid> = ids.into_iter().collect();
                let (mut bals, mut metas) = lock_accounts(&mut tx, &ids).await?;
                let rest: Vec<Uuid> = ids.iter().filter(|id| !metas.contains_key(id)).copied().collect();
                metas.extend(sharded_metas(&mut tx, &rest).await?);
                let mut verdicts = Vec::with_capacity(items.len());
                for (t, _, _) in items {
                    // After one that must go alone, the rest follow it, in order.
                    if matches!(verdicts.last(), Some(Verdict::Alone)) {
                        verdicts.push(Verdict::Alone);
                        continue;
                    }
                    verdicts.push(judge(t, &metas, &mut bals));
                }
                // A refused posting may be a retry of one that landed: it answers as
                // the first did. (A retry judged acceptable fails its insert below.)
                let refused: Vec<usize> =
                    (0..items.len()).filter(|&i| matches!(verdicts[i], Verdict::Done(Err(_)))).collect();
                if !refused.is_empty() {
                    let asked: Vec<&NewTransferRow> = refused.iter().map(|&i| items[i].0).collect();
                    let earlier = keys_seen(&mut tx, &asked).await?;
                    for i in refused {
                        let t = items[i].0;
                        if let Some((first, body)) = earlier.get(&t.idempotency_key) {
                            verdicts[i] = Verdict::Done(if *body == t.body_hash() {
                                Ok(PostOutcome::Repeat(*first))
                            } else {
                                Err(conflict(Conflict::KeyReused))
                            });
                        }
                    }
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
                let Some(effects) = effects(&transfers, &metas) else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                if !write_transfers(&mut tx, &transfers).await? {
                    // A key posted before (a retry) or meanwhile by another desktop:
                    // one by one, where each finds its first posting.
                    tx.rollback().await?;
                    return Ok(None);
                }
                write_effects(&mut tx, &effects, shard).await?;
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

            /// Keys of `transfers` already posted: key → (first transfer, its body hash).
            async fn keys_seen(
                tx: &mut Tx<'_>,
                transfers: &[&NewTransferRow],
            ) -> Result<HashMap<String, (Uuid, String)>> {
                let mut seen = HashMap::new();
                for chunk in transfers.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT idempotency_key, id, body_hash FROM transfers WHERE idempotency_key IN (",
                    );
                    let mut list = qb.separated(", ");
                    for t in chunk {
                        list.push_bind(t.idempotency_key.clone());
                    }
                    qb.push(")");
                    let rows: Vec<(String, Uuid, String)> = qb.build_query_as().fetch_all(&mut **tx).await?;
                    seen.extend(rows.into_iter().map(|(k, id, body)| (k, (id, body))));
                }
                Ok(seen)
            }

            /// Locks the own-balance rows (not the sharded totals) in id order and
            /// reads them with what judging needs.
            async fn lock_accounts(tx: &mut Tx<'_>, ids: &[Uuid]) -> Result<(HashMap<Uuid, Bal>, HashMap<Uuid, Meta>)> {
                let (mut bals, mut metas) = (HashMap::new(), HashMap::new());
                for chunk in ids.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT a.id, a.physical_id, a.kind, a.role, a.flags, a.debits_minor, a.credits_minor, \
                         a.held_minor, v.path, v.status \
                         FROM ledger_accounts a LEFT JOIN virtual_accounts v ON v.id = a.id \
                         WHERE NOT a.sharded AND a.id IN (",
                    );
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(concat!(") ORDER BY a.id", $lock));
                    #[allow(clippy::type_complexity)]
                    let rows: Vec<(Uuid, Uuid, String, String, i32, i64, i64, i64, Option<String>, Option<String>)> =
                        qb.build_query_as().fetch_all(&mut **tx).await?;
                    for (id, physical_id, kind, role, flags, debits, credits, held, path, status) in rows {
                        let kind = AccountKind::try_from(kind).map_err(|e| StoreError::Data(e.to_string()))?;
                        let status = status.as_deref().and_then(VirtualStatus::parse);
                        bals.insert(id, Bal { debits, credits, held, flags });
                        metas.insert(id, Meta { physical_id, kind, role, sharded: false, path, status });
                    }
                }
                Ok((bals, metas))
            }

            /// What judging needs of sharded accounts (never locked by a group; their
            /// kind, role and physical account never change, so they are cached).
            async fn sharded_metas(tx: &mut Tx<'_>, ids: &[Uuid]) -> Result<HashMap<Uuid, Meta>> {
                let mut metas = HashMap::new();
                let mut missing = Vec::new();
                {
                    let cache = SHARDED.lock();
                    for id in ids {
                        match cache.get(id) {
                            Some((physical_id, kind, role)) => {
                                let meta = Meta { physical_id: *physical_id, kind: *kind, role: role.clone(), sharded: true, path: None, status: None };
                                metas.insert(*id, meta);
                            }
                            None => missing.push(*id),
                        }
                    }
                }
                for chunk in missing.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT id, physical_id, kind, role FROM ledger_accounts WHERE sharded AND id IN (",
                    );
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(")");
                    let rows: Vec<(Uuid, Uuid, String, String)> = qb.build_query_as().fetch_all(&mut **tx).await?;
                    for (id, physical_id, kind, role) in rows {
                        let kind = AccountKind::try_from(kind).map_err(|e| StoreError::Data(e.to_string()))?;
                        SHARDED.lock().insert(id, (physical_id, kind, role.clone()));
                        metas.insert(id, Meta { physical_id, kind, role, sharded: true, path: None, status: None });
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
            async fn write_transfers(tx: &mut Tx<'_>, transfers: &[&NewTransferRow]) -> Result<bool> {
                // By key, so two desktops inserting the same keys wait in one order.
                let mut by_key = transfers.to_vec();
                by_key.sort_by(|a, b| a.idempotency_key.cmp(&b.idempotency_key));
                for chunk in by_key.chunks(500) {
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
                        return Ok(false);
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
                Ok(true)
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
group_sql!(pg, PgStore, sqlx::Postgres, None::<&'static str>, " FOR UPDATE OF a", true);
