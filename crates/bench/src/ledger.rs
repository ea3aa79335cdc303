//! Ledger figures (虚拟子账户) over one physical account holding `--accounts`
//! sub-accounts (default 1,000,000) and `--entries` ledger entries (lines; default
//! 10,000,000, i.e. 5,000,000 credits of two lines each) spread over a year:
//! - a tree page (50 nodes) under the physical account, p50/p99, through the services;
//! - the proof (invariant + replay of every entry + roll-up), through the services;
//! - interest allocation over every sub-account: preview and posting;
//! - transfers through the services (with audit), p50/p99 one at a time;
//! - credits from 20 concurrent writers into the same (hot) physical account.
//!
//! The world is bulk-loaded with SQL (accounts, transfers, lines and the totals they
//! imply), then checked by the same proof the console runs: the figures are only
//! printed when the loaded ledger adds up.

use crate::percentile;
use chrono::{Duration, Utc};
use domain::ledger::{AccountId, Bank, NumberingScheme, OwnerKind, TransferKind, VirtualPurpose};
use domain::vam::VamOutcome;
use domain::{Request, Response, VamOperation, VamRequest};
use service::{Services, Session};
use std::time::Instant;
use uuid::Uuid;

/// What was loaded.
struct World {
    physical_id: Uuid,
    asset: Uuid,
    interest_pool: Uuid,
    top: Uuid,
    accounts: Vec<Uuid>,
    numbers: Vec<String>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn vam(services: &Services, session: &Session, req: VamRequest) -> Result<Response, String> {
    services.handle(session, Request::Vam(req), Utc::now()).await.map_err(|e| format!("{e:?}"))
}

macro_rules! bulk_load {
    ($pool:expr, $db:ty, $w:expr, $entries:expr, $analyze:literal) => {{
        let pool = $pool;
        let w: &World = $w;
        let now = Utc::now();
        let year_ago = now - Duration::days(365);
        let mut credits = vec![0_i64; w.accounts.len()];
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |below: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % below
        };
        let mut tx = pool.begin().await.map_err(err)?;
        for (chunk_start, chunk) in w.accounts.chunks(2_000).enumerate().map(|(i, c)| (i * 2_000, c)) {
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO ledger_accounts (id, physical_id, kind, role, flags, sharded, created_at) ",
            );
            qb.push_values(chunk, |mut b, id| {
                b.push_bind(*id).push_bind(w.physical_id).push_bind("liability").push_bind("virtual").push_bind(1_i32)
                    .push_bind(false).push_bind(year_ago);
            });
            qb.build().execute(&mut *tx).await.map_err(err)?;
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO virtual_accounts (id, physical_id, parent_id, path, depth, number, suffix, owner_kind, \
                 owner_id, owner_name, purpose, status, child_count, opened_at) ",
            );
            let path = format!("{}/", w.top.simple());
            qb.push_values(chunk.iter().enumerate(), |mut b, (i, id)| {
                let n = chunk_start + i;
                b.push_bind(*id).push_bind(w.physical_id).push_bind(w.top).push_bind(path.clone()).push_bind(1_i32)
                    .push_bind(w.numbers[n].clone()).push_bind(n as i64 + 2).push_bind("internal")
                    .push_bind(None::<Uuid>).push_bind("bench").push_bind("user_wallet").push_bind("active")
                    .push_bind(0_i32).push_bind(year_ago);
            });
            qb.build().execute(&mut *tx).await.map_err(err)?;
        }
        let mut done = 0_usize;
        while done < $entries {
            let n = (2_000).min($entries - done);
            let rows: Vec<(Uuid, usize, i64, chrono::DateTime<Utc>)> = (0..n)
                .map(|_| {
                    let account = next(w.accounts.len() as u64) as usize;
                    let amount = 100 + next(100_000) as i64;
                    let at = year_ago + Duration::seconds(next(365 * 86_400) as i64);
                    credits[account] += amount;
                    (Uuid::now_v7(), account, amount, at)
                })
                .collect();
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO transfers (id, kind, idempotency_key, body_hash, reverses, physical_id, memo, posted_by, posted_at) ",
            );
            qb.push_values(&rows, |mut b, (id, _, _, at)| {
                b.push_bind(*id).push_bind("credit_in").push_bind(format!("bench:{id}")).push_bind("")
                    .push_bind(None::<Uuid>).push_bind(w.physical_id).push_bind("").push_bind("bench").push_bind(*at);
            });
            qb.build().execute(&mut *tx).await.map_err(err)?;
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO transfer_lines (transfer_id, line, account_id, amount_minor, business_day, posted_at) ",
            );
            qb.push_values(&rows, |mut b, (id, account, amount, at)| {
                b.push_bind(*id).push_bind(0_i32).push_bind(w.accounts[*account]).push_bind(-*amount)
                    .push_bind(store::business_day(*at)).push_bind(*at);
            });
            qb.build().execute(&mut *tx).await.map_err(err)?;
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO transfer_lines (transfer_id, line, account_id, amount_minor, business_day, posted_at) ",
            );
            qb.push_values(&rows, |mut b, (id, _, amount, at)| {
                b.push_bind(*id).push_bind(1_i32).push_bind(w.asset).push_bind(*amount)
                    .push_bind(store::business_day(*at)).push_bind(*at);
            });
            qb.build().execute(&mut *tx).await.map_err(err)?;
            done += n;
        }
        // The totals the lines imply: own balances, the asset's shard, the top's subtree.
        for (ids, sums) in w.accounts.chunks(2_000).zip(credits.chunks(2_000)) {
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "UPDATE ledger_accounts SET credits_minor = d.column2 FROM (",
            );
            qb.push_values(ids.iter().zip(sums), |mut b, (id, sum)| {
                b.push_bind(*id).push_bind(*sum);
            });
            qb.push(") AS d WHERE ledger_accounts.id = d.column1");
            qb.build().execute(&mut *tx).await.map_err(err)?;
        }
        let total: i64 = credits.iter().sum();
        sqlx::query("INSERT INTO balance_shards (account_id, shard, debits_minor, credits_minor) VALUES ($1, 0, $2, 0)")
            .bind(w.asset).bind(total).execute(&mut *tx).await.map_err(err)?;
        sqlx::query("INSERT INTO subtree_shards (account_id, shard, amount_minor) VALUES ($1, 0, $2)")
            .bind(w.top).bind(total).execute(&mut *tx).await.map_err(err)?;
        sqlx::query("UPDATE virtual_accounts SET child_count = $2 WHERE id = $1")
            .bind(w.top).bind(w.accounts.len() as i32).execute(&mut *tx).await.map_err(err)?;
        sqlx::query("UPDATE physical_accounts SET next_suffix = $2 WHERE id = $1")
            .bind(w.physical_id).bind(w.accounts.len() as i64 + 2).execute(&mut *tx).await.map_err(err)?;
        tx.commit().await.map_err(err)?;
        // What autovacuum gives a live database: statistics, and (PostgreSQL) the
        // visibility map that lets the proof read `transfer_lines` from its index alone.
        sqlx::query($analyze).execute(&pool).await.map_err(err)?;
        credits
    }};
}

/// Prints the ledger figures for `kind` at `url`.
pub async fn ledger(
    kind: &str,
    url: &str,
    services: &Services,
    accounts: usize,
    entries: usize,
    writes: usize,
    queries: usize,
) -> Result<(), String> {
    let store = services.store();
    let session = Session::default();
    let login = Request::Login { username: "fin1".into(), password: service::seed::DEMO_PASSWORD.into() };
    services.handle(&session, login, Utc::now()).await.map_err(|e| format!("{e:?}"))?;
    let physical_number = "6226090012345678";
    let p = store::NewPhysical {
        id: Uuid::now_v7(),
        bank: Bank::Mybank,
        number: physical_number.into(),
        purpose: "bench".into(),
        supervised: true,
        suffix_len: 7,
        asset_account: Uuid::now_v7(),
        main_account: Uuid::now_v7(),
        suspense_account: Uuid::now_v7(),
        interest_account: Uuid::now_v7(),
        created_at: Utc::now() - Duration::days(400),
    };
    let audit = store::NewAudit::new(Utc::now(), "bench", "vam.physical", "bench", serde_json::json!({}));
    store.create_physical(&p, audit).await.map_err(err)?;
    let open = VamOperation::Open {
        physical_id: p.id,
        parent: None,
        owner_kind: OwnerKind::Internal,
        owner_id: None,
        owner_name: "平台".into(),
        purpose: VirtualPurpose::Internal,
    };
    let Response::Vam(VamOutcome::Posted { id: top }) = vam(services, &session, VamRequest::Do(open)).await?
    else {
        return Err("open".into());
    };
    let scheme = NumberingScheme::new(physical_number.into(), 7).map_err(err)?;
    let ids: Vec<Uuid> = (0..accounts).map(|_| Uuid::now_v7()).collect();
    let numbers: Vec<String> =
        (0..accounts).map(|n| scheme.number_for(n as u64 + 2)).collect::<Result<_, _>>().map_err(err)?;
    let w = World {
        physical_id: p.id,
        asset: p.asset_account,
        interest_pool: p.interest_account,
        top,
        accounts: ids,
        numbers,
    };
    let started = Instant::now();
    let lines = entries / 2 * 2;
    let entries = entries / 2;
    let credits = if url.starts_with("sqlite:") {
        bulk_load!(sqlx::SqlitePool::connect(url).await.map_err(err)?, sqlx::Sqlite, &w, entries, "ANALYZE")
    } else {
        bulk_load!(
            sqlx::PgPool::connect(url).await.map_err(err)?,
            sqlx::Postgres,
            &w,
            entries,
            "VACUUM ANALYZE"
        )
    };
    // Accounts with money to pay from.
    let funded: Vec<Uuid> =
        w.accounts.iter().zip(&credits).filter(|(_, c)| **c >= 1_000).map(|(a, _)| *a).collect();
    println!(
        "{kind}: ledger loaded: {accounts} sub-accounts, {entries} credits ({lines} lines) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The proof over everything (no bank gateway here: the ledger side only).
    let started = Instant::now();
    let Response::Proof(proof) = vam(services, &session, VamRequest::Proof { physical_id: p.id }).await?
    else {
        return Err("proof".into());
    };
    let secs = started.elapsed().as_secs_f64();
    if !proof.holds {
        return Err(format!("the loaded ledger does not add up: {proof:?}"));
    }
    println!(
        "{kind}: proof (invariant + replay of {lines} lines + roll-up) over {accounts} sub-accounts: {secs:.2} s"
    );
    // Its parts: the invariant and roll-up read the stored balances (one row per
    // account); the replay re-adds every line.
    let started = Instant::now();
    store.physical_totals(p.id).await.map_err(err)?;
    let rollup_breaks = store.rollup_breaks(p.id).await.map_err(err)?;
    let invariant_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let replay_breaks = store.replay_breaks(p.id).await.map_err(err)?;
    println!(
        "{kind}:   of which invariant + roll-up {invariant_secs:.2} s, replay of every line {:.2} s (breaks {rollup_breaks}/{replay_breaks})",
        started.elapsed().as_secs_f64()
    );

    // Tree pages under the physical account's top node.
    let mut times = Vec::with_capacity(queries);
    for i in 0..queries {
        let after = w.numbers.get((i * 7_919) % accounts.max(1)).cloned();
        let req = VamRequest::Tree { physical_id: p.id, parent: Some(AccountId(top)), after, limit: 50 };
        let t = Instant::now();
        let Response::VirtualTree(page) = vam(services, &session, req).await? else {
            return Err("tree".into());
        };
        times.push(t.elapsed());
        if page.nodes.is_empty() && i == 0 {
            return Err("empty tree page".into());
        }
    }
    times.sort();
    println!(
        "{kind}: tree page (50 nodes) of {accounts}   p50 {:>7.3} ms  p99 {:>7.3} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3
    );

    // Interest: the bank credits ¥10,000 for the last 90 ended days; allocate it.
    let inflow = store::NewTransferRow {
        id: Uuid::now_v7(),
        kind: TransferKind::Interest,
        idempotency_key: "bench:interest".into(),
        reverses: None,
        physical_id: p.id,
        memo: String::new(),
        posted_by: "bench".into(),
        posted_at: Utc::now(),
        lines: vec![(w.asset, 1_000_000), (w.interest_pool, -1_000_000)],
    };
    let audit = store::NewAudit::new(Utc::now(), "bench", "vam.credit", "bench", serde_json::json!({}));
    store.post_transfer(&inflow, store::PostWith::default(), audit).await.map_err(err)?;
    let today = domain::ledger::business_date(Utc::now());
    let (from, to) = (today - Duration::days(90), today - Duration::days(1));
    let interest = rust_decimal::Decimal::new(1_000_000, 2);
    let started = Instant::now();
    let req = VamRequest::InterestPreview { physical_id: p.id, from, to, interest };
    let Response::InterestPreview(preview) = vam(services, &session, req).await? else {
        return Err("preview".into());
    };
    let preview_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let post = VamOperation::PostInterest { physical_id: p.id, from, to, interest, digest: preview.digest };
    let posted = vam(services, &session, VamRequest::Do(post)).await?;
    let post_secs = started.elapsed().as_secs_f64();
    if !matches!(posted, Response::Vam(VamOutcome::Posted { .. })) || preview.allocated != interest {
        return Err(format!("interest not posted: {posted:?}"));
    }
    println!(
        "{kind}: interest over {} sub-accounts: preview {preview_secs:.2} s, posting {post_secs:.2} s (allocated {} exactly)",
        preview.account_count, preview.allocated
    );

    // Transfers through the services, one at a time (with audit).
    let mut times = Vec::with_capacity(500);
    for i in 0..500 {
        let op = VamOperation::Transfer {
            from: AccountId(funded[i % funded.len()]),
            to: AccountId(w.accounts[(i * 31 + 7) % accounts]),
            amount: rust_decimal::Decimal::new(1, 2),
            memo: "bench".into(),
        };
        let t = Instant::now();
        vam(services, &session, VamRequest::Do(op)).await?;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "{kind}: transfer through the services   p50 {:>7.3} ms  p99 {:>7.3} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3
    );

    // 20 writers crediting 1,000 sub-accounts of the one physical account at once
    // (the shape of the concurrency test), each posting with its audit row.
    let per_writer = writes;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..20_usize {
        let store = store.clone();
        let targets: Vec<Uuid> =
            (0..per_writer).map(|i| w.accounts[(writer * 7_907 + i * 13) % accounts.min(1_000)]).collect();
        let (asset, physical_id) = (w.asset, p.id);
        tasks.push(tokio::spawn(async move {
            let mut busy = 0_u32;
            for (i, to) in targets.into_iter().enumerate() {
                let t = store::NewTransferRow {
                    id: Uuid::now_v7(),
                    kind: TransferKind::CreditIn,
                    idempotency_key: format!("load:{writer}:{i}"),
                    reverses: None,
                    physical_id,
                    memo: String::new(),
                    posted_by: "bench".into(),
                    posted_at: Utc::now(),
                    lines: vec![(asset, 100), (to, -100)],
                };
                let audit =
                    store::NewAudit::new(Utc::now(), "bench", "vam.credit", "load", serde_json::json!({}));
                loop {
                    match store.post_transfer(&t, store::PostWith::default(), audit.clone()).await {
                        Ok(_) => break,
                        Err(store::StoreError::Busy) => busy += 1,
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
            Ok(busy)
        }));
    }
    let mut retries = 0;
    for task in tasks {
        retries += task.await.map_err(err)??;
    }
    let secs = started.elapsed().as_secs_f64();
    let Response::Proof(proof) = vam(services, &session, VamRequest::Proof { physical_id: p.id }).await?
    else {
        return Err("proof".into());
    };
    println!(
        "{kind}: 20 concurrent writers, 1,000 sub-accounts of one physical account: {} credits in {secs:.2} s = {:.0} transfers/s \
         ({retries} busy retries; proof after: {})",
        20 * per_writer,
        (20 * per_writer) as f64 / secs,
        if proof.holds { "holds, no lost update" } else { "BROKEN" }
    );

    // The same 20 writers booking pages of 50 notices, one transaction a page (as
    // the bank poll books them): each posting still has its own audit row.
    let per_writer = 1_000;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..20_usize {
        let store = store.clone();
        let targets: Vec<Uuid> =
            (0..per_writer).map(|i| w.accounts[(writer * 7_919 + i * 17) % accounts]).collect();
        let (asset, physical_id) = (w.asset, p.id);
        tasks.push(tokio::spawn(async move {
            for (page, chunk) in targets.chunks(50).enumerate() {
                let batch: Vec<_> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, to)| {
                        let t = store::NewTransferRow {
                            id: Uuid::now_v7(),
                            kind: TransferKind::CreditIn,
                            idempotency_key: format!("page:{writer}:{page}:{i}"),
                            reverses: None,
                            physical_id,
                            memo: String::new(),
                            posted_by: "bench".into(),
                            posted_at: Utc::now(),
                            lines: vec![(asset, 100), (*to, -100)],
                        };
                        let audit = store::NewAudit::new(
                            Utc::now(),
                            "bench",
                            "vam.credit",
                            "page",
                            serde_json::json!({}),
                        );
                        (t, store::PostWith::default(), audit)
                    })
                    .collect();
                loop {
                    match store.post_transfers(batch.clone()).await {
                        Ok(_) => break,
                        Err(store::StoreError::Busy) => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await.map_err(err)??;
    }
    let secs = started.elapsed().as_secs_f64();
    let Response::Proof(proof) = vam(services, &session, VamRequest::Proof { physical_id: p.id }).await?
    else {
        return Err("proof".into());
    };
    println!(
        "{kind}: 20 concurrent writers booking pages of 50: {} credits in {secs:.2} s = {:.0} transfers/s (proof after: {})",
        20 * per_writer,
        (20 * per_writer) as f64 / secs,
        if proof.holds { "holds, no lost update" } else { "BROKEN" }
    );

    // The bound: every posting appends to the one audit chain, whose head row is
    // held from the append to the commit. The same 20 writers appending audit rows
    // alone, with nothing else in their transactions:
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..20_usize {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let audit = store::NewAudit::new(
                    Utc::now(),
                    "bench",
                    "bench.audit",
                    format!("{writer}:{i}"),
                    serde_json::json!({}),
                );
                loop {
                    match store.append_audit(audit.clone()).await {
                        Ok(_) => break,
                        Err(store::StoreError::Busy) => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await.map_err(err)??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{kind}: reference, audit appends alone from 20 writers: {:.0} appends/s",
        (20 * per_writer) as f64 / secs
    );
    Ok(())
}
