//! Helpers shared by the end-to-end tests: fresh SQLite files and fresh
//! PostgreSQL databases, so every test starts from an empty, migrated store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use service::PiiVault;

pub mod backend;
pub mod recycled;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A new SQLite file in a temporary directory.
    Sqlite,
    /// A new database on the test PostgreSQL server (`OPS_TEST_PG_URL`).
    Postgres,
}

/// A database that lives as long as this value (the SQLite directory is removed on drop).
pub struct TestDb {
    /// The URL desktops open. On PostgreSQL this connects as the database's own
    /// application role (no DDL, no writes to the audit tables), as deployed.
    pub url: String,
    /// The owner's URL, for tests that play a DBA (dropping a guard, tampering).
    pub owner_url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL server for tests. The README's test command starts one and sets this.
pub fn pg_admin_url() -> String {
    std::env::var("OPS_TEST_PG_URL").expect(
        "OPS_TEST_PG_URL is not set: run the tests through `./dev test`, which starts a throwaway PostgreSQL",
    )
}

impl TestDb {
    /// A fresh, empty database of kind `db`.
    pub async fn new(db: Db) -> Self {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite:{}", dir.path().join("test.db").display());
                Self { owner_url: url.clone(), url, _dir: Some(dir) }
            }
            Db::Postgres => {
                let admin = pg_admin_url();
                let name = format!("t_{}", uuid::Uuid::now_v7().simple());
                let pool = sqlx::PgPool::connect(&admin).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
                let role = format!("{name}_app");
                sqlx::query(&format!("CREATE ROLE {role} LOGIN")).execute(&pool).await.unwrap();
                pool.close().await;
                let (base, _) = admin.rsplit_once('/').unwrap();
                let owner_url = format!("{base}/{name}");
                // The owner migrates and grants; desktops only check the version.
                store::migrate_postgres(&owner_url, Some(&role)).await.unwrap();
                let url = with_user(&owner_url, &role);
                Self { url, owner_url, _dir: None }
            }
        }
    }
}

/// `url` with its user replaced (the test server trusts loopback connections).
pub fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

/// A fixed PII key for tests.
pub fn vault() -> PiiVault {
    PiiVault::new(&[42; 32])
}

/// Runs raw SQL on the test database, bypassing the store (for tampering tests).
pub async fn raw_execute(url: &str, sql: &str) -> Result<u64, sqlx::Error> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let done = sqlx::query(sql).execute(&pool).await.map(|r| r.rows_affected());
        pool.close().await;
        done
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let done = sqlx::query(sql).execute(&pool).await.map(|r| r.rows_affected());
        pool.close().await;
        done
    }
}

/// One text value from raw SQL on a PostgreSQL test database.
pub async fn scalar_text(url: &str, sql: &str) -> String {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
}

/// One integer from raw SQL on the test database (for assertions the store has no method for).
pub async fn scalar(url: &str, sql: &str) -> i64 {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    }
}

/// Verifies the whole audit chain against its head; returns the head's number.
pub async fn assert_chain_verifies(store: &dyn store::Store) -> i64 {
    let (head_seq, head_hash) = store.audit_head().await.unwrap();
    let mut verifier = domain::audit::ChainVerifier::default();
    let mut after = 0;
    loop {
        let rows = store.audit_after(after, 1000).await.unwrap();
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            verifier.push(row).unwrap();
        }
    }
    assert_eq!(verifier.finish(head_seq, &head_hash), Ok(()));
    head_seq
}

/// Defines one `#[tokio::test]` per database for each listed async fn taking `Db`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Db::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Db::Postgres).await })*
        }
    };
}

/// Defines one plain `#[test]` per database for each listed fn taking `Db` (UI
/// tests: the UI's backend owns its own runtime).
#[macro_export]
macro_rules! on_both_databases_sync {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(#[test] fn $name() { super::$name($crate::Db::Sqlite) })* }
        mod postgres { $(#[test] fn $name() { super::$name($crate::Db::Postgres) })* }
    };
}

/// What the database says, read through a second desktop's services (an auditor's
/// session). Its own runtime: a pool's connections belong to the runtime that made them.
pub struct Peek {
    rt: tokio::runtime::Runtime,
    s: service::Services,
    session: service::Session,
}

impl Peek {
    /// Logs in as `aud1` on the database at `url`.
    pub fn new(url: &str) -> Self {
        let rt = tokio::runtime::Runtime::new().expect("a runtime");
        let (s, session) = rt.block_on(async {
            let store = store::open(url).await.expect("the database");
            let s = service::Services::new(store, vault(), domain::auth::LoginPolicy::default());
            let session = service::Session::default();
            let login = domain::Request::Login {
                username: "aud1".into(),
                password: service::seed::DEMO_PASSWORD.into(),
            };
            s.handle(&session, login, chrono::Utc::now()).await.expect("aud1 logs in");
            (s, session)
        });
        Self { rt, s, session }
    }

    /// The answer to `req` (which must succeed).
    pub fn ask(&self, req: domain::Request) -> domain::Response {
        self.rt.block_on(self.s.handle(&self.session, req, chrono::Utc::now())).expect("an answer")
    }
}

/// Driving the real UI by the labels a person reads.
pub mod ui {
    use super::vault;
    use crate::backend::InProcessBackend;
    use chrono::{Duration, Utc};
    use egui::accesskit::Role;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use service::seed;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};
    use ui::OpsApp;

    /// Runs a future on a fresh runtime (UI tests are not async).
    pub fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Runtime::new().unwrap().block_on(f)
    }

    /// The console on `url` with the demo data, at real time.
    pub fn harness(url: &str) -> Harness<'static, OpsApp> {
        harness_with_clock(url, Arc::default())
    }

    /// A harness whose backend clock runs `skew_minutes` ahead of real time.
    pub fn harness_with_clock(url: &str, skew_minutes: Arc<AtomicI64>) -> Harness<'static, OpsApp> {
        let mut backend = InProcessBackend::open(url, vault(), Some(seed::DEMO_USERS)).unwrap();
        backend.set_clock(move || Utc::now() + Duration::minutes(skew_minutes.load(Ordering::SeqCst)));
        let app = OpsApp::new(Box::new(backend));
        let mut harness = Harness::builder()
            .with_size(egui::vec2(1400.0, 900.0))
            .with_context_setup(|ctx| ui::fonts::install(ctx, ui::fonts::bundled()))
            .build_ui_state(|ui, app: &mut OpsApp| app.root_ui(ui), app);
        harness.run();
        harness
    }

    /// Types into the text field labelled `label`.
    pub fn type_into(h: &mut Harness<'_, OpsApp>, label: &str, text: &str) {
        let field = h
            .query_by_role_and_label(Role::TextInput, label)
            .or_else(|| h.query_by_role_and_label(Role::PasswordInput, label))
            .unwrap_or_else(|| panic!("no text field labelled {label}"));
        field.focus();
        field.type_text(text);
        h.run();
    }

    /// Logs in through the login screen.
    pub fn log_in(h: &mut Harness<'_, OpsApp>, user: &str, password: &str) {
        type_into(h, "用户名", user);
        type_into(h, "密码", password);
        h.get_by_label("登录").click();
        h.run();
    }

    /// Clicks the widget labelled `label` and runs the frame.
    pub fn click(h: &mut Harness<'_, OpsApp>, label: &str) {
        h.get_by_label(label).click();
        h.run();
    }

    /// The newest audit rows as (actor, action, detail): what the UI's actions wrote.
    pub fn audit_actions(url: &str) -> Vec<(String, String, String)> {
        block(async {
            let store = store::open(url).await.unwrap();
            store
                .audit_page(None, 50)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.actor, r.action, r.detail))
                .collect()
        })
    }
}
