//! Reconciliation figures (挂账/对账):
//! - parse rate of a camt.053 with `--lines` entries (default 1,000,000);
//! - a `--lines`-line bank CSV (网商银行 preset) against as many open items, end to
//!   end through the services: import (parse, check, store) then the day's run
//!   (match, write), lines/s for each and together;
//! - matching quality of the standard rules on a generated day with ground truth;
//! - queue pages over `--cases` suspense items (default 1,000,000), p50/p99.

use crate::percentile;
use chrono::{Duration, NaiveDate, Utc};
use domain::ledger::{Bank, business_date};
use domain::suspense::{OurKind, SuspenseFilter, SuspenseKind};
use domain::{ReconRequest, Request, Response};
use service::{Services, Session};
use std::fmt::Write as _;
use std::time::Instant;
use store::{NewAudit, NewPhysical, OurItemRow, day_number};
use uuid::Uuid;

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

const ACCOUNT: &str = "8888100099990001";

/// A 网商银行 export (preset `mybank`) of `lines` credits paying orders `ORD{i}`.
fn bank_csv(lines: usize, day: NaiveDate) -> Vec<u8> {
    let mut x = String::with_capacity(lines * 120);
    x.push_str("交易时间,交易流水号,子账号,对方户名,对方账号,交易金额,账户余额,摘要,备注\n");
    let mut balance = 0i64;
    for i in 0..lines {
        let amount = amount_of(i);
        balance += amount;
        let _ = writeln!(
            x,
            "{day} {:02}:{:02}:{:02},B{i:010},,付款人{},6222{:012},{}.{:02},{}.{:02},货款,ORD{i:010}",
            i % 24,
            i % 60,
            (i / 60) % 60,
            i % 997,
            i,
            amount / 100,
            amount % 100,
            balance / 100,
            balance % 100
        );
    }
    x.into_bytes()
}

fn amount_of(i: usize) -> i64 {
    1_000 + ((i as i64).wrapping_mul(7_919) % 900_000)
}

async fn recon(services: &Services, session: &Session, req: ReconRequest) -> Result<Response, String> {
    services.handle(session, Request::Recon(req), Utc::now()).await.map_err(err)
}

/// Runs the reconciliation figures on one database.
pub async fn recon_figures(
    kind: &str,
    url: &str,
    services: &Services,
    lines: usize,
    cases: usize,
) -> Result<(), String> {
    let now = Utc::now();
    let day = business_date(now) - Duration::days(1);
    // camt.053 parse rate (the parser alone, no database).
    if kind == "sqlite" {
        let camt = statements::synth_camt053(lines, 7);
        let t = Instant::now();
        let parsed = statements::parse(&camt, &statements::ParseOptions::default()).map_err(err)?;
        let secs = t.elapsed().as_secs_f64();
        let n: usize = parsed.iter().map(|s| s.entries.len()).sum();
        println!(
            "camt.053: parsed {n} entries ({} MB) in {secs:.2} s: {:.0} entries/s",
            camt.len() / 1_000_000,
            n as f64 / secs
        );
        let csv = bank_csv(lines, day);
        let mapping = statements::presets().into_iter().find(|(n, _)| *n == "mybank").map(|(_, m)| m);
        let t = Instant::now();
        let options =
            statements::ParseOptions { mapping, account: Some(ACCOUNT.into()), ..Default::default() };
        let parsed = statements::parse(&csv, &options).map_err(err)?;
        let secs = t.elapsed().as_secs_f64();
        let n: usize = parsed.iter().map(|s| s.entries.len()).sum();
        println!(
            "bank CSV: parsed {n} lines ({} MB) in {secs:.2} s: {:.0} lines/s",
            csv.len() / 1_000_000,
            n as f64 / secs
        );
        // Matching quality on a generated day with its ground truth.
        let wallets: Vec<(Uuid, String, String)> = (0..2_000)
            .map(|i| (Uuid::now_v7(), format!("{ACCOUNT}{:06}", i + 1), format!("客户{i}")))
            .collect();
        let set = service::recon::demo::generate(20261124, 100_000, Uuid::now_v7(), &wallets, day, now);
        let q = service::recon::demo::quality(&set);
        println!(
            "matching quality: {} lines with a true match; {} confirmed, {} right: precision {:.2} %, recall {:.2} %; {} suggested ({} right)",
            q.true_lines,
            q.confirmed_lines,
            q.confirmed_right,
            q.precision() * 100.0,
            q.recall() * 100.0,
            q.suggested_lines,
            q.suggested_right
        );
    }
    // End to end: a CSV of `lines` lines against `lines` open items.
    let physical = NewPhysical {
        id: Uuid::now_v7(),
        bank: Bank::Mybank,
        number: ACCOUNT.into(),
        purpose: "bench".into(),
        supervised: true,
        suffix_len: 6,
        asset_account: Uuid::now_v7(),
        main_account: Uuid::now_v7(),
        suspense_account: Uuid::now_v7(),
        interest_account: Uuid::now_v7(),
        created_at: now,
    };
    let store = services.store();
    store
        .create_physical(&physical, NewAudit::new(now, "bench", "bench", "p", serde_json::json!({})))
        .await
        .map_err(err)?;
    let t = Instant::now();
    for start in (0..lines).step_by(50_000) {
        let items: Vec<OurItemRow> = (start..(start + 50_000).min(lines))
            .map(|i| OurItemRow {
                id: Uuid::now_v7(),
                physical_id: physical.id,
                kind: OurKind::OrderPaid,
                amount_minor: amount_of(i),
                open_minor: amount_of(i),
                date_from: day_number(day - Duration::days(1)),
                date_to: day_number(day + Duration::days(1)),
                reference: format!("ORD{i:010}"),
                counterparty_name: Some(format!("付款人{}", i % 997)),
                virtual_number: None,
                account_id: None,
                expected_fee_minor: 0,
                state: "open".into(),
                created_at: now,
            })
            .collect();
        store
            .insert_our_items(&items, NewAudit::new(now, "bench", "bench", "items", serde_json::json!({})))
            .await
            .map_err(err)?;
    }
    println!("{kind}: loaded {lines} open items in {:.1} s", t.elapsed().as_secs_f64());
    crate::analyze(url).await?;
    // Floors, same run: reading the open items once through the store.
    let t = Instant::now();
    let open = store.open_our_items(physical.id).await.map_err(err)?;
    println!(
        "{kind}: floor: read {} open items through the store in {:.2} s",
        open.len(),
        t.elapsed().as_secs_f64()
    );
    drop(open);
    let session = Session::default();
    let login = Request::Login { username: "fin1".into(), password: service::seed::DEMO_PASSWORD.into() };
    services.handle(&session, login, Utc::now()).await.map_err(err)?;
    let dir = std::env::temp_dir().join("ops-console-bench");
    let path = dir.join("statement.csv");
    std::fs::write(&path, bank_csv(lines, day)).map_err(err)?;
    let import = ReconRequest::ImportStatement {
        path: path.display().to_string(),
        account: Some(ACCOUNT.into()),
        preset: Some("mybank".into()),
        dry_run: false,
        acknowledge_difference: true,
    };
    let t = Instant::now();
    recon(services, &session, import).await?;
    let import_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let run = recon(
        services,
        &session,
        ReconRequest::Reconcile { day, physical_id: Some(physical.id), dry_run: false },
    )
    .await?;
    let run_secs = t.elapsed().as_secs_f64();
    let Response::Reconciled(run) = run else { return Err("no run report".into()) };
    println!(
        "{kind}: {lines}-line CSV against {lines} open items: import {import_secs:.1} s ({:.0} lines/s), \
         run {run_secs:.1} s ({:.0} lines/s; {} confirmed, {} suggested, {} parked), end to end {:.0} lines/s",
        lines as f64 / import_secs,
        lines as f64 / run_secs,
        run.confirmed,
        run.suggested,
        run.found.iter().map(|(_, n)| n).sum::<u64>(),
        lines as f64 / (import_secs + run_secs)
    );
    let _ = std::fs::remove_file(&path);
    copy_floor(kind, url).await?;
    // Queue pages over `cases` open items.
    load_items(url, physical.id, cases, day).await?;
    crate::analyze(url).await?;
    let kinds = [None, Some(SuspenseKind::Overage), Some(SuspenseKind::Shortage)];
    let mut all = Vec::new();
    for (name, kind_filter) in [("all kinds", kinds[0]), ("one kind", kinds[1]), ("another kind", kinds[2])] {
        let mut times = Vec::new();
        let mut after = None;
        for _ in 0..100 {
            let filter = SuspenseFilter { kind: kind_filter, ..SuspenseFilter::default() };
            let t = Instant::now();
            let Response::SuspenseQueue(page) =
                recon(services, &session, ReconRequest::Queue { filter, after, limit: 50 }).await?
            else {
                return Err("no page".into());
            };
            times.push(t.elapsed());
            // Walk on by key; back to the first page at the end.
            after = if page.more { page.rows.last().map(|r| r.id) } else { None };
        }
        times.sort();
        println!(
            "{kind}: suspense queue page (50 rows + open count), {name}, over {cases} items: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "{kind}: suspense queue page, all filters: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&all, 0.5).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3
    );
    Ok(())
}

/// Floor, same run: the database copying the statement's lines into a table with
/// the same indexes inside one statement — what writing each line once costs with
/// no client in between.
async fn copy_floor(kind: &str, url: &str) -> Result<(), String> {
    macro_rules! copy {
        ($pool:expr) => {{
            let pool = $pool;
            let mut tx = pool.begin().await.map_err(err)?;
            for ddl in [
                "CREATE TABLE floor_lines AS SELECT * FROM statement_lines WHERE 1 = 0",
                "CREATE INDEX floor_lines_day ON floor_lines (physical_id, state, booking_day)",
                "CREATE INDEX floor_lines_ref ON floor_lines (physical_id, bank_ref)",
                "CREATE INDEX floor_lines_statement ON floor_lines (statement_id)",
                "CREATE UNIQUE INDEX floor_lines_id ON floor_lines (id)",
            ] {
                sqlx::query(ddl).execute(&mut *tx).await.map_err(err)?;
            }
            let t = Instant::now();
            let n = sqlx::query("INSERT INTO floor_lines SELECT * FROM statement_lines")
                .execute(&mut *tx)
                .await
                .map_err(err)?
                .rows_affected();
            let secs = t.elapsed().as_secs_f64();
            tx.rollback().await.map_err(err)?;
            println!(
                "{kind}: floor: the database copies {n} line rows (same indexes) in {secs:.2} s: {:.0} rows/s",
                n as f64 / secs
            );
        }};
    }
    if url.starts_with("sqlite:") {
        copy!(sqlx::SqlitePool::connect(url).await.map_err(err)?);
    } else {
        copy!(sqlx::PgPool::connect(url).await.map_err(err)?);
    }
    Ok(())
}

/// `cases` open suspense items, bulk-loaded (their parking transfers are not the
/// figure: the queue reads the items).
async fn load_items(url: &str, physical_id: Uuid, cases: usize, day: NaiveDate) -> Result<(), String> {
    macro_rules! load {
        ($pool:expr, $db:ty) => {{
            let pool = $pool;
            let kinds = SuspenseKind::ALL;
            let now = Utc::now();
            for start in (0..cases).step_by(1_000) {
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO suspense_items (id, physical_id, kind, amount_minor, status, found_day, found_at, \
                     booking_id, channel, counterparty, updated_at) ",
                );
                qb.push_values(start..(start + 1_000).min(cases), |mut b, i| {
                    b.push_bind(Uuid::now_v7())
                        .push_bind(physical_id)
                        .push_bind(kinds[i % kinds.len()].as_str())
                        .push_bind(1_000 + i as i64)
                        .push_bind(if i % 10 == 0 { "explained" } else { "open" })
                        .push_bind(day_number(day) - (i % 60) as i32)
                        .push_bind(now)
                        .push_bind(Uuid::now_v7())
                        .push_bind("bench")
                        .push_bind("付款人")
                        .push_bind(now);
                });
                qb.build().execute(&pool).await.map_err(err)?;
            }
        }};
    }
    if url.starts_with("sqlite:") {
        load!(sqlx::SqlitePool::connect(url).await.map_err(err)?, sqlx::Sqlite);
    } else {
        load!(sqlx::PgPool::connect(url).await.map_err(err)?, sqlx::Postgres);
    }
    Ok(())
}
