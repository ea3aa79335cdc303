//! Recycled-number figures over the loaded world:
//! - screening a 1M-line carrier file end to end (parse + match + cases written),
//!   beside two references on the same file: parsing alone with the `csv` crate
//!   (the floor), and the same rule as one SQL join inside the same database;
//! - queue pages (50 rows, filtered, sorted) over 1M cases, p50/p99.

use crate::percentile;
use chrono::{DateTime, Duration, Utc};
use domain::cases::{QueueCursor, QueueFilter, QueueSort};
use domain::recycle::{CaseSource, CaseStatus, RecycleSettings};
use domain::{RecycledRequest, Request, Response};
use service::{Services, Session};
use std::fmt::Write as _;
use std::time::Instant;
use store::{CaseCore, NewAudit, NewCase};
use uuid::Uuid;

/// What the loader kept about each user with a phone.
pub struct Bound {
    /// Login phone.
    pub phone: String,
    /// When it was bound.
    pub bound_at: DateTime<Utc>,
    /// User.
    pub user_id: Uuid,
    /// Customer.
    pub customer_id: Uuid,
}

fn beijing(t: DateTime<Utc>) -> String {
    (t + Duration::hours(8)).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A carrier file of `lines` lines: 70% about our numbers (1 in 20 of those
/// reissued after our binding, the rest old notices about earlier holders), 30%
/// about numbers we do not know.
fn carrier_file(bound: &[Bound], lines: usize) -> String {
    let mut out = String::with_capacity(lines * 70);
    out.push_str("phone,entry_at,event,event_at,carrier,province\n");
    for i in 0..lines {
        if i % 10 < 7 {
            let b = &bound[(i * 7_919) % bound.len()];
            if i % 20 == 0 {
                let entry = beijing(b.bound_at + Duration::days(100));
                let _ = writeln!(out, "{},{entry},二次放号,{entry},中国移动,广东", b.phone);
            } else {
                let entry = beijing(b.bound_at - Duration::days(400));
                let at = beijing(b.bound_at - Duration::days(300));
                let _ = writeln!(out, "{},{entry},过户,{at},中国联通,北京", b.phone);
            }
        } else {
            let _ = writeln!(out, "147{:08},2025-03-01 10:00:00,销户,2026-10-01 09:00:00,中国移动,上海", i);
        }
    }
    out
}

/// Screening figures; returns the number of cases the import opened.
pub async fn screening(
    kind: &str,
    url: &str,
    services: &Services,
    bound: &[Bound],
    lines: usize,
    dir: &std::path::Path,
) -> Result<(), String> {
    let text = carrier_file(bound, lines);
    let path = dir.join("carrier-1m.csv");
    std::fs::write(&path, &text).map_err(|e| e.to_string())?;
    let mb = text.len() as f64 / 1e6;

    // Floor: the csv crate alone, reading every record.
    let t = Instant::now();
    let mut reader = csv::ReaderBuilder::new().from_path(&path).map_err(|e| e.to_string())?;
    let mut record = csv::ByteRecord::new();
    let mut n = 0u64;
    while reader.read_byte_record(&mut record).map_err(|e| e.to_string())? {
        n += 1;
    }
    let floor = t.elapsed().as_secs_f64();
    println!(
        "{kind}: screening floor (csv crate parse only): {n} lines, {mb:.1} MB in {:.3} s = {:.0} lines/s",
        floor,
        n as f64 / floor
    );

    // End to end: read + check every line + match + write events and cases, one transaction.
    let settings = RecycleSettings::default();
    let t = Instant::now();
    let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
    let parsed = service::intake::parse_carrier_csv("carrier-1m.csv", bytes.as_slice(), |_, _| {})
        .map_err(|e| format!("{e:?}"))?;
    let parse = t.elapsed().as_secs_f64();
    let report = service::recycle::screen_carrier_file(
        services.store().as_ref(),
        &parsed,
        "carrier-1m.csv",
        "bench",
        &settings,
        Utc::now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let total = t.elapsed().as_secs_f64();
    println!(
        "{kind}: screening end to end: {} lines in {total:.3} s = {:.0} records/s (parse+check {parse:.3} s, match+write {:.3} s); {} matched, {} cases opened",
        report.lines,
        report.lines as f64 / total,
        total - parse,
        report.matched,
        report.cases_opened
    );
    sql_join_reference(kind, url, &parsed).await
}

/// The same rule as one SQL join: the file's lines in a staging table, joined to
/// current bindings. The load into the table is timed separately.
async fn sql_join_reference(
    kind: &str,
    url: &str,
    parsed: &service::intake::ParsedFile,
) -> Result<(), String> {
    let rows = &parsed.lines;
    let join = "SELECT COUNT(*) FROM staging s JOIN users u ON u.phone = s.phone \
                JOIN phone_bindings b ON b.user_id = u.id AND b.phone = u.phone AND b.unbound_at IS NULL \
                WHERE s.entry_at > b.bound_at \
                   OR (s.event IN ('cancel', 'transfer', 'reissue') AND s.event_at > b.bound_at)";
    macro_rules! run {
        ($pool:expr, $db:ty, $create:expr) => {{
            let pool = $pool;
            sqlx::query("DROP TABLE IF EXISTS staging").execute(pool).await.map_err(|e| e.to_string())?;
            sqlx::query($create).execute(pool).await.map_err(|e| e.to_string())?;
            let t = Instant::now();
            let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
            for chunk in rows.chunks(5_000) {
                sqlx::QueryBuilder::<$db>::new("INSERT INTO staging (phone, entry_at, event, event_at) ")
                    .push_values(chunk, |mut q, l| {
                        q.push_bind(&l.phone).push_bind(l.entry_at).push_bind(l.event.as_str()).push_bind(l.event_at);
                    })
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            tx.commit().await.map_err(|e| e.to_string())?;
            let load = t.elapsed().as_secs_f64();
            let _ = sqlx::query("ANALYZE").execute(pool).await;
            let t = Instant::now();
            let hits: i64 = sqlx::query_scalar(join).fetch_one(pool).await.map_err(|e| e.to_string())?;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{kind}: SQL join reference: {hits} suspects from {} lines in {secs:.3} s = {:.0} lines/s (loading the staging table took {load:.3} s more)",
                rows.len(),
                rows.len() as f64 / secs
            );
            sqlx::query("DROP TABLE staging").execute(pool).await.map_err(|e| e.to_string())?;
        }};
    }
    match kind {
        "sqlite" => {
            let pool = sqlx::SqlitePool::connect(url).await.map_err(|e| e.to_string())?;
            run!(
                &pool,
                sqlx::Sqlite,
                "CREATE TABLE staging (phone TEXT, entry_at TEXT, event TEXT, event_at TEXT)"
            );
        }
        _ => {
            let pool = sqlx::PgPool::connect(url).await.map_err(|e| e.to_string())?;
            run!(
                &pool,
                sqlx::Postgres,
                "CREATE UNLOGGED TABLE staging (phone TEXT, entry_at TIMESTAMPTZ, event TEXT, event_at TIMESTAMPTZ)"
            );
        }
    }
    Ok(())
}

/// Fills the case table to `cases` cases (one per user), 30% active, then times
/// queue pages through the services.
pub async fn queue(
    kind: &str,
    url: &str,
    services: &Services,
    bound: &[Bound],
    cases: usize,
    queries: usize,
) -> Result<(), String> {
    let now = Utc::now();
    let t = Instant::now();
    let carriers = ["中国移动", "中国联通", "中国电信"];
    let provinces = ["北京", "上海", "广东", "浙江", "四川", "湖北", "江苏", "陕西"];
    let mut made = 0;
    for chunk in bound.chunks(20_000).take(cases.div_ceil(20_000)) {
        let rows: Vec<NewCase> = chunk
            .iter()
            .enumerate()
            .map(|(i, b)| NewCase {
                id: Uuid::now_v7(),
                core: CaseCore {
                    phone: b.phone.clone(),
                    old_user_id: b.user_id,
                    old_customer_id: b.customer_id,
                    source: CaseSource::EntryTime,
                    manual_only: i % 50 == 0,
                    risk_score: ((made + i) * 37 % 101) as i32,
                    risk_inputs: "{}".into(),
                    balance_minor: 0,
                    carrier: carriers[(made + i) % 3].into(),
                    province: provinces[(made + i) % 8].into(),
                    bound_at: b.bound_at,
                    entry_at: Some(b.bound_at + Duration::days(100)),
                    freeze_until: None,
                    detected_at: now - Duration::minutes(((made + i) % 100_000) as i64),
                },
                evidence: 1,
            })
            .collect();
        made += rows.len();
        let audit =
            NewAudit::new(now, "bench", "bench.cases", "cases", serde_json::json!({ "rows": rows.len() }));
        services.store().upsert_cases(&rows, &[], audit).await.map_err(|e| e.to_string())?;
    }
    // 70% decided, as in a queue that has been worked for a while.
    let close = "UPDATE recycle_cases SET status = 'not_recycled' WHERE (risk_score % 10) < 7";
    match kind {
        "sqlite" => {
            let pool = sqlx::SqlitePool::connect(url).await.map_err(|e| e.to_string())?;
            sqlx::query(close).execute(&pool).await.map_err(|e| e.to_string())?;
            sqlx::query("ANALYZE").execute(&pool).await.map_err(|e| e.to_string())?;
        }
        _ => {
            let pool = sqlx::PgPool::connect(url).await.map_err(|e| e.to_string())?;
            sqlx::query(close).execute(&pool).await.map_err(|e| e.to_string())?;
            sqlx::query("VACUUM ANALYZE recycle_cases").execute(&pool).await.map_err(|e| e.to_string())?;
        }
    }
    println!("{kind}: wrote {made} cases in {:.1} s", t.elapsed().as_secs_f64());

    let session = Session::default();
    let login = Request::Login { username: "cs1".into(), password: service::seed::DEMO_PASSWORD.into() };
    services.handle(&session, login, Utc::now()).await.map_err(|e| e.to_string())?;
    let filters: Vec<(&str, QueueFilter)> = vec![
        ("active, risk desc", QueueFilter::default()),
        (
            "open, risk ≥ 60",
            QueueFilter { status: Some(CaseStatus::Open), min_risk: Some(60), ..Default::default() },
        ),
        (
            "carrier, oldest",
            QueueFilter {
                carrier: Some("中国联通".into()),
                sort: QueueSort::OldestFirst,
                ..Default::default()
            },
        ),
        (
            "province, newest",
            QueueFilter {
                province: Some("广东".into()), sort: QueueSort::NewestFirst, ..Default::default()
            },
        ),
        ("closed, risk desc", QueueFilter { status: Some(CaseStatus::NotRecycled), ..Default::default() }),
    ];
    let mut all = Vec::new();
    for (name, filter) in filters {
        let mut times = Vec::with_capacity(queries);
        let mut cursor: Option<QueueCursor> = None;
        for i in 0..queries {
            // Walk pages with the keyset cursor; start over every 20 pages.
            if i % 20 == 0 {
                cursor = None;
            }
            let req = RecycledRequest::Queue { filter: filter.clone(), after: cursor, limit: 50 };
            let t = Instant::now();
            let reply = services.handle(&session, req, Utc::now()).await.map_err(|e| e.to_string())?;
            times.push(t.elapsed());
            let Response::Queue(page) = reply else { return Err("unexpected reply".into()) };
            cursor = page.next;
        }
        times.sort();
        println!(
            "{kind}: queue page (50 rows) {name:<18} p50 {:>7.3} ms  p99 {:>7.3} ms",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "{kind}: queue page, all filters      p50 {:>7.3} ms  p99 {:>7.3} ms over {made} cases",
        percentile(&all, 0.5).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3
    );
    Ok(())
}
