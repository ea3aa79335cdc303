//! `./dev bench` runs this: it generates `--users` users (default 1,000,000) with
//! the demo generator into a fresh SQLite file and a fresh PostgreSQL database,
//! then prints:
//! - customer search through the services, p50/p99 per search kind;
//! - screening a `--lines` carrier file (default 1,000,000) end to end, with the
//!   csv-crate floor and the SQL-join reference;
//! - queue pages over `--cases` cases (default 1,000,000), p50/p99;
//! - UI CPU per frame with the queue open (SQLite run).
#![allow(clippy::print_stdout)]

mod frame;
mod ledger;
mod recon;
mod recycled;

use chrono::Utc;
use domain::auth::LoginPolicy;
use domain::{Request, Response};
use service::seed::{self, Generator};
use service::{PiiVault, Services, Session};
use std::time::{Duration, Instant};

struct Options {
    users: usize,
    queries: usize,
    lines: usize,
    cases: usize,
    frames: usize,
    /// Ledger: sub-accounts and credits.
    accounts: usize,
    entries: usize,
    /// Ledger: postings per concurrent writer.
    writes: usize,
    databases: Vec<String>,
    /// Which figures: search, screening, queue, frames.
    parts: Vec<String>,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        users: 1_000_000,
        queries: 2_000,
        lines: 1_000_000,
        cases: 1_000_000,
        frames: 600,
        accounts: 1_000_000,
        entries: 10_000_000,
        writes: 10_000,
        databases: vec!["sqlite".into(), "postgres".into()],
        parts: ["search", "screening", "queue", "frames"].map(String::from).to_vec(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--users" => o.users = v()?.parse().map_err(|e| format!("--users: {e}"))?,
            "--queries" => o.queries = v()?.parse().map_err(|e| format!("--queries: {e}"))?,
            "--db" => o.databases = vec![v()?],
            "--lines" => o.lines = v()?.parse().map_err(|e| format!("--lines: {e}"))?,
            "--cases" => o.cases = v()?.parse().map_err(|e| format!("--cases: {e}"))?,
            "--frames" => o.frames = v()?.parse().map_err(|e| format!("--frames: {e}"))?,
            "--parts" => o.parts = v()?.split(',').map(str::to_owned).collect(),
            "--accounts" => o.accounts = v()?.parse().map_err(|e| format!("--accounts: {e}"))?,
            "--entries" => o.entries = v()?.parse().map_err(|e| format!("--entries: {e}"))?,
            "--writes" => o.writes = v()?.parse().map_err(|e| format!("--writes: {e}"))?,
            other => {
                return Err(format!(
                    "unknown option {other}; use --users N --queries N --lines N --cases N --frames N --accounts N --entries N --writes N --db sqlite|postgres --parts search,screening,queue,frames,ledger,recon"
                ));
            }
        }
    }
    Ok(o)
}

/// Search terms sampled while generating, one list per kind.
#[derive(Default)]
struct Samples {
    phone: Vec<String>,
    user_id: Vec<String>,
    email: Vec<String>,
    nickname: Vec<String>,
    id_last4: Vec<String>,
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

async fn fresh_url(kind: &str, dir: &std::path::Path) -> Result<String, String> {
    match kind {
        "sqlite" => {
            let path = dir.join("bench.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            Ok(format!("sqlite:{}", path.display()))
        }
        "postgres" => {
            let admin =
                std::env::var("OPS_TEST_PG_URL").map_err(|_| "OPS_TEST_PG_URL is not set".to_owned())?;
            let pool = sqlx::PgPool::connect(&admin).await.map_err(|e| e.to_string())?;
            let _ = sqlx::query("DROP DATABASE IF EXISTS ops_bench").execute(&pool).await;
            sqlx::query("CREATE DATABASE ops_bench").execute(&pool).await.map_err(|e| e.to_string())?;
            let (base, _) = admin.rsplit_once('/').ok_or("bad OPS_TEST_PG_URL")?;
            let url = format!("{base}/ops_bench");
            store::migrate_postgres(&url, None).await.map_err(|e| e.to_string())?;
            Ok(url)
        }
        other => Err(format!("unknown database {other}")),
    }
}

async fn bench_one(kind: &str, o: &Options, dir: &std::path::Path) -> Result<(), String> {
    let url = fresh_url(kind, dir).await?;
    let store = store::open(&url).await.map_err(|e| e.to_string())?;
    let vault = PiiVault::new(&[7; 32]);
    let services = Services::new(store, vault.clone(), LoginPolicy::default());
    seed::ensure_demo_operators(&services, Utc::now()).await.map_err(|e| e.to_string())?;

    // Customers average ~1.45 users; generate until the user target is reached.
    let started = Instant::now();
    let mut generator = Generator::new(seed::DEMO_SEED, o.users, &vault, seed::demo_anchor());
    let (mut users, mut samples) = (0usize, Samples::default());
    let mut bound = Vec::with_capacity(o.users);
    while users < o.users {
        let Some(batch) = generator.next_batch(seed::BATCH_CUSTOMERS) else { break };
        users += batch.users.len();
        let customer_of: std::collections::HashMap<_, _> =
            batch.users.iter().map(|u| (u.id, u.customer_id)).collect();
        for b in batch.phone_bindings.iter().filter(|b| b.unbound_at.is_none()) {
            if let Some(&customer_id) = customer_of.get(&b.user_id) {
                bound.push(recycled::Bound {
                    phone: b.phone.clone(),
                    bound_at: b.bound_at,
                    user_id: b.user_id,
                    customer_id,
                });
            }
        }
        for u in batch.users.iter().step_by(97) {
            samples.user_id.push(u.id.to_string());
            samples.phone.extend(u.phone.clone());
            samples.email.extend(u.email.clone());
            samples.nickname.extend(u.nickname.clone());
        }
        // Only the sealed number is stored; the bench holds the key, as a desktop does.
        samples.id_last4.extend(batch.customers.iter().step_by(97).filter_map(|c| {
            let id = vault.open(c.id_number_enc.as_deref()?).ok()?;
            Some(id[id.len().saturating_sub(4)..].to_owned())
        }));
        services.store().insert_customer_batch(&batch).await.map_err(|e| e.to_string())?;
    }
    let load = started.elapsed();
    // A live database has statistics (autovacuum); a freshly loaded one needs ANALYZE.
    analyze(&url).await?;
    println!(
        "{kind}: generated and inserted {users} users ({} customers) in {:.1} s ({:.0} users/s)",
        services.store().count_customers().await.map_err(|e| e.to_string())?,
        load.as_secs_f64(),
        users as f64 / load.as_secs_f64()
    );

    let part = |name: &str| o.parts.iter().any(|p| p == name);
    if part("search") {
        search(kind, &services, &samples, o.queries, users).await?;
    }
    if part("screening") {
        recycled::screening(kind, &url, &services, &bound, o.lines, dir).await?;
    }
    if part("queue") {
        recycled::queue(kind, &url, &services, &bound, o.cases, o.queries / 4).await?;
    }
    if part("ledger") {
        ledger::ledger(kind, &url, &services, o.accounts, o.entries, o.writes, o.queries / 4).await?;
    }
    if part("recon") {
        recon::recon_figures(kind, &url, &services, o.lines, o.cases).await?;
    }
    if kind == "sqlite" && part("frames") {
        // The UI benchmark owns its runtime: run it off this one.
        let (url, frames) = (url.clone(), o.frames);
        tokio::task::spawn_blocking(move || frame::frames("sqlite", &url, vault, frames))
            .await
            .map_err(|e| e.to_string())??;
    }
    Ok(())
}

async fn search(
    kind: &str,
    services: &Services,
    samples: &Samples,
    queries: usize,
    users: usize,
) -> Result<(), String> {
    let session = Session::default();
    let login = Request::Login { username: "cs1".into(), password: seed::DEMO_PASSWORD.into() };
    services.handle(&session, login, Utc::now()).await.map_err(|e| e.to_string())?;
    let kinds: [(&str, &Vec<String>); 5] = [
        ("phone", &samples.phone),
        ("user id", &samples.user_id),
        ("email", &samples.email),
        ("nickname", &samples.nickname),
        ("ID last 4", &samples.id_last4),
    ];
    let mut all = Vec::new();
    for (name, terms) in kinds {
        let mut times = Vec::with_capacity(queries);
        let mut hits = 0usize;
        for i in 0..queries {
            let term = &terms[(i * 7919) % terms.len()];
            let t = Instant::now();
            let reply =
                services.handle(&session, Request::SearchCustomers { query: term.clone() }, Utc::now()).await;
            times.push(t.elapsed());
            if matches!(reply, Ok(Response::Customers(rows)) if !rows.is_empty()) {
                hits += 1;
            }
        }
        times.sort();
        println!(
            "{kind}: search by {name:<9} p50 {:>7.3} ms  p99 {:>7.3} ms  ({} queries, {} found)",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.len(),
            hits
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "{kind}: search, all kinds     p50 {:>7.3} ms  p99 {:>7.3} ms  over {users} users",
        percentile(&all, 0.5).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3
    );
    Ok(())
}

async fn analyze(url: &str) -> Result<(), String> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.map_err(|e| e.to_string())?;
        sqlx::query("ANALYZE").execute(&pool).await.map_err(|e| e.to_string())?;
    } else {
        let pool = sqlx::PgPool::connect(url).await.map_err(|e| e.to_string())?;
        sqlx::query("ANALYZE").execute(&pool).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The generator alone (no database), so its share of the load time is known.
fn time_generator(users: usize) {
    let vault = PiiVault::new(&[7; 32]);
    let started = Instant::now();
    let mut generator = Generator::new(seed::DEMO_SEED, users, &vault, seed::demo_anchor());
    let mut made = 0;
    while made < users {
        let Some(batch) = generator.next_batch(seed::BATCH_CUSTOMERS) else { break };
        made += batch.users.len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!("generator alone: {made} users in {secs:.1} s ({:.0} users/s)", made as f64 / secs);
}

#[tokio::main]
async fn main() {
    // Phase timings of the services (e.g. "carrier file screened") go to stderr.
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter("info,sqlx=warn").init();
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let dir = std::env::temp_dir().join("ops-console-bench");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        std::process::exit(1);
    }
    time_generator(o.users);
    for kind in &o.databases {
        if let Err(e) = bench_one(kind, &o, &dir).await {
            eprintln!("{kind}: {e}");
            std::process::exit(1);
        }
    }
    // The million-user SQLite file is ~0.5 GB: do not leave it behind.
    let _ = std::fs::remove_dir_all(&dir);
}
