//! Faults a deployment meets: two desktops writing one SQLite file at once (one of
//! them importing), a PostgreSQL restart under a logged-in desktop, and a desktop
//! killed (SIGKILL) in the middle of a carrier import or of decisions that unbind
//! phones — a separate process (`fault_worker`), killed while its transaction is
//! open, as the database shows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use e2e::{Db, TestDb, assert_chain_verifies};
use serde_json::json;
use store::NewAudit;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_desktops_on_one_sqlite_file_keep_one_audit_chain() {
    // Two consoles opened on the same file (a shared folder, two windows): each
    // has its own pool, so only SQLite's file lock orders their appends.
    let t = TestDb::new(Db::Sqlite).await;
    let first = store::open(&t.url).await.unwrap();
    let second = store::open(&t.url).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        for (desk, store) in [("a", first.clone()), ("b", second.clone())] {
            tasks.push(tokio::spawn(async move {
                store
                    .append_audit(NewAudit::new(Utc::now(), desk, &format!("act{i}"), "t", json!({ "i": i })))
                    .await
            }));
        }
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(assert_chain_verifies(first.as_ref()).await, 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_is_survived_by_a_logged_in_desktop() {
    // What a desktop sees of a server restart: every connection it holds is cut.
    // (Only this test's database, so the other tests on the server go on.)
    let t = TestDb::new(Db::Postgres).await;
    let store = store::open(&t.url).await.unwrap();
    store.append_audit(NewAudit::new(Utc::now(), "tester", "before", "t", json!({}))).await.unwrap();
    let db = t.owner_url.rsplit('/').next().unwrap().to_owned();
    let cut = format!(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()"
    );
    assert!(e2e::scalar(&e2e::pg_admin_url(), &cut).await >= 1, "the desktop held connections to cut");
    // The next action reconnects by itself and lands with its audit row.
    store.append_audit(NewAudit::new(Utc::now(), "tester", "after", "t", json!({}))).await.unwrap();
    assert_eq!(assert_chain_verifies(store.as_ref()).await, 2);
}

/// A `fault_worker` process, started and logged in.
struct Worker {
    child: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Worker {
    fn start(args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fault_worker"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        Self { child, lines }
    }

    /// SIGKILL: no destructor, no rollback by the process, as a power cut or the
    /// task manager would.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn finish(mut self) {
        assert_eq!(self.lines.next().unwrap().unwrap(), "done");
        assert!(self.child.wait().unwrap().success());
    }
}

/// Watches the database for another process's open write transaction: on SQLite
/// the write lock (a `BEGIN IMMEDIATE` that cannot start), on PostgreSQL a backend
/// with a transaction id whose statement matches `statement`.
enum WriteProbe {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgPool, String, String),
}

impl WriteProbe {
    async fn new(t: &TestDb, statement: &str) -> Self {
        use sqlx::ConnectOptions;
        use std::str::FromStr;
        if t.url.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&t.url)
                .unwrap()
                .busy_timeout(std::time::Duration::ZERO);
            Self::Sqlite(options.connect().await.unwrap())
        } else {
            let db = t.owner_url.rsplit('/').next().unwrap().to_owned();
            let pool = sqlx::PgPool::connect(&e2e::pg_admin_url()).await.unwrap();
            Self::Postgres(pool, db, statement.to_owned())
        }
    }

    async fn writing(&mut self) -> bool {
        match self {
            Self::Sqlite(conn) => match sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
                Ok(_) => {
                    sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
                    false
                }
                Err(e) => {
                    assert!(e.to_string().contains("locked"), "{e}");
                    true
                }
            },
            Self::Postgres(pool, db, statement) => {
                let busy: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND backend_xid IS NOT NULL \
                     AND query ILIKE $2",
                )
                .bind(&*db)
                .bind(format!("%{statement}%"))
                .fetch_one(&*pool)
                .await
                .unwrap();
                busy > 0
            }
        }
    }

    /// Waits until a write has been seen in flight `polls` times in a row (a long
    /// transaction, not a login's audit row); panics after `limit`.
    async fn wait_for_long_write(&mut self, polls: u32, limit: std::time::Duration) {
        let started = std::time::Instant::now();
        let mut seen = 0;
        while seen < polls {
            assert!(started.elapsed() < limit, "never saw the worker's transaction in flight");
            seen = if self.writing().await { seen + 1 } else { 0 };
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}

async fn a_desktop_killed_mid_import_leaves_nothing_half_written(db: Db) {
    let w = e2e::recycled::world(db, 20_000).await;
    let store = w.s.store().clone();
    let path = w.dir.join("notices.csv");
    std::fs::write(&path, service::seed::carrier_notices_csv(&w.records)).unwrap();
    let cases_before = e2e::recycled::count(&w, "SELECT COUNT(*) FROM recycle_cases").await;
    let audit_before = assert_chain_verifies(store.as_ref()).await;

    let url = w._db.url.clone();
    let worker = Worker::start(&["import", &url, &path.display().to_string()]);
    let mut probe = WriteProbe::new(&w._db, "carrier").await;
    probe.wait_for_long_write(3, std::time::Duration::from_secs(120)).await;
    worker.kill();
    drop(probe);

    // Nothing of the import is there, the chain verifies (the worker's logins may
    // have landed, nothing more), and the same file imports in full afterwards.
    for table in ["carrier_imports", "carrier_events"] {
        assert_eq!(e2e::recycled::count(&w, &format!("SELECT COUNT(*) FROM {table}")).await, 0, "{table}");
    }
    assert_eq!(e2e::recycled::count(&w, "SELECT COUNT(*) FROM recycle_cases").await, cases_before);
    let audit_after_kill = assert_chain_verifies(store.as_ref()).await;
    assert!(audit_after_kill >= audit_before);
    let imports =
        e2e::recycled::count(&w, "SELECT COUNT(*) FROM audit_log WHERE action = 'carrier.import'").await;
    assert_eq!(imports, 0, "an import audit row without its import");

    Worker::start(&["import", &url, &path.display().to_string()]).finish();
    assert_eq!(e2e::recycled::count(&w, "SELECT COUNT(*) FROM carrier_imports").await, 1);
    assert!(e2e::recycled::count(&w, "SELECT COUNT(*) FROM recycle_cases").await > cases_before);
    assert_chain_verifies(store.as_ref()).await;
}

/// Decisions and unbinds are whole: every audit row has its case change and
/// every unbound case its ended binding, however the process died.
async fn assert_cases_whole(w: &e2e::recycled::World) {
    let n = |sql: &'static str| e2e::recycled::count(w, sql);
    let confirmed = n("SELECT COUNT(*) FROM recycle_cases WHERE status = 'confirmed'").await;
    assert_eq!(n("SELECT COUNT(*) FROM audit_log WHERE action = 'case.unbind'").await, confirmed);
    assert_eq!(n("SELECT COUNT(*) FROM case_events WHERE kind = 'unbind'").await, confirmed);
    assert_eq!(
        n("SELECT COUNT(*) FROM audit_log WHERE action = 'case.propose'").await,
        n("SELECT COUNT(*) FROM case_events WHERE kind = 'propose'").await
    );
    let still_bound = n("SELECT COUNT(*) FROM recycle_cases c JOIN phone_bindings b \
         ON b.user_id = c.old_user_id AND b.phone = c.phone \
         WHERE c.status = 'confirmed' AND b.unbound_at IS NULL")
    .await;
    assert_eq!(still_bound, 0, "a confirmed case whose phone is still bound");
    assert_chain_verifies(w.s.store().as_ref()).await;
}

async fn a_desktop_killed_mid_decisions_leaves_every_case_whole(db: Db) {
    let w = e2e::recycled::world(db, 3_000).await;
    let mut cs1 = e2e::recycled::login(&w.s, "cs1").await;
    e2e::recycled::done(&w, &mut cs1, "n.csv", service::seed::carrier_notices_csv(&w.records).as_bytes())
        .await;
    let url = w._db.url.clone();
    let worker = Worker::start(&["decide", &url]);
    // Kill it inside one of its write transactions (claim, proposal, approval with
    // its unbind), once a few cases are through.
    let mut probe = WriteProbe::new(&w._db, "").await;
    while e2e::recycled::count(&w, "SELECT COUNT(*) FROM recycle_cases WHERE status = 'confirmed'").await < 3
    {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    probe.wait_for_long_write(1, std::time::Duration::from_secs(120)).await;
    worker.kill();
    drop(probe);
    assert_cases_whole(&w).await;
    // A restarted desktop carries on where the dead one stopped (its claims are
    // its own operator's).
    Worker::start(&["decide", &url]).finish();
    assert_cases_whole(&w).await;
    assert!(
        e2e::recycled::count(&w, "SELECT COUNT(*) FROM recycle_cases WHERE status = 'confirmed'").await > 3,
        "the second desktop confirmed more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_desktop_waits_or_is_told_busy_while_one_imports() {
    // One desktop imports a large carrier file into a shared SQLite file while
    // another keeps working: the other's writes wait for the lock (or fail with a
    // clear "busy"), its reads go on, and nothing is corrupt afterwards.
    let w = e2e::recycled::world(Db::Sqlite, 20_000).await;
    let path = w.dir.join("notices.csv");
    std::fs::write(&path, service::seed::carrier_notices_csv(&w.records)).unwrap();
    let url = w._db.url.clone();
    let worker = Worker::start(&["import", &url, &path.display().to_string()]);
    let mut probe = WriteProbe::new(&w._db, "carrier").await;
    probe.wait_for_long_write(3, std::time::Duration::from_secs(120)).await;
    // The second desktop: a read and a write (an audited login) during the import.
    let second = store::open(&url).await.unwrap();
    let services = service::Services::new(second.clone(), e2e::vault(), domain::auth::LoginPolicy::default());
    assert!(second.count_customers().await.unwrap() > 0, "reads go on during an import");
    let session = service::Session::default();
    let login =
        domain::Request::Login { username: "cs2".into(), password: service::seed::DEMO_PASSWORD.into() };
    match services.handle(&session, login, Utc::now()).await {
        Ok(_) => {}
        Err(domain::ApiError::DatabaseBusy) => {}
        Err(other) => panic!("neither waited nor said busy: {other:?}"),
    }
    worker.finish();
    drop(probe);
    let check: String = {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap()
    };
    assert_eq!(check, "ok");
    assert_chain_verifies(second.as_ref()).await;
    assert_eq!(e2e::recycled::count(&w, "SELECT COUNT(*) FROM carrier_imports").await, 1);
}

e2e::on_both_databases!(
    a_desktop_killed_mid_import_leaves_nothing_half_written,
    a_desktop_killed_mid_decisions_leaves_every_case_whole,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_lock_held_too_long_is_a_clear_busy_answer() {
    // Another desktop holds SQLite's write lock longer than a desktop waits (five
    // seconds): the action is refused as "busy", changes nothing, and the same
    // action succeeds once the lock is released.
    use sqlx::Connection;
    let w = e2e::recycled::world(Db::Sqlite, 50).await;
    let mut other = sqlx::SqliteConnection::connect(&w._db.url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    let audit_before = e2e::recycled::count(&w, "SELECT COUNT(*) FROM audit_log").await;
    let session = service::Session::default();
    let login =
        || domain::Request::Login { username: "cs2".into(), password: service::seed::DEMO_PASSWORD.into() };
    let refused = w.s.handle(&session, login(), Utc::now()).await;
    assert_eq!(refused.err(), Some(domain::ApiError::DatabaseBusy));
    assert_eq!(e2e::recycled::count(&w, "SELECT COUNT(*) FROM audit_log").await, audit_before);
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    assert!(w.s.handle(&session, login(), Utc::now()).await.is_ok());
    assert_chain_verifies(w.s.store().as_ref()).await;
}
