//! A desktop on shared PostgreSQL connects as the application role that
//! `ops-console migrate --app-role` grants. These tests play a curious desktop
//! user who takes that role's credentials to psql: the audit log stays
//! append-only and in order, the schema cannot be changed, and a desktop never
//! migrates a database itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use domain::audit::ChainVerifier;
use e2e::{Db, TestDb, raw_execute};
use serde_json::json;
use store::{NewAudit, StoreError};

async fn app_db_with_rows() -> TestDb {
    let t = TestDb::new(Db::Postgres).await;
    assert_ne!(t.url, t.owner_url, "the tests connect as the application role");
    let store = store::open(&t.url).await.unwrap();
    for i in 0..3 {
        store
            .append_audit(NewAudit::new(Utc::now(), "tester", &format!("a{i}"), "t", json!({})))
            .await
            .unwrap();
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_role_appends_through_the_functions_and_the_chain_holds() {
    let t = app_db_with_rows().await;
    let store = store::open(&t.url).await.unwrap();
    let (head_seq, head_hash) = store.audit_head().await.unwrap();
    assert_eq!(head_seq, 3);
    let mut verifier = ChainVerifier::default();
    for row in store.audit_after(0, 100).await.unwrap() {
        verifier.push(&row).unwrap();
    }
    assert_eq!(verifier.verified_rows(), 3);
    assert_eq!(verifier.finish(head_seq, &head_hash), Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_role_cannot_switch_off_or_rewrite_the_audit_log() {
    let t = app_db_with_rows().await;
    let attacks = [
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
        "DROP TRIGGER audit_log_no_change ON audit_log",
        "TRUNCATE audit_log",
        "DELETE FROM audit_log WHERE seq = 3",
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
        "INSERT INTO audit_log (seq, id, at, actor, action, target, detail, prev_hash, hash) \
         SELECT 99, gen_random_uuid(), now(), 'mallory', 'x', 't', '{}', hash, hash FROM audit_head",
        "UPDATE audit_head SET seq = 1",
        "DROP TABLE operators",
        "ALTER TABLE operators ADD COLUMN backdoor TEXT",
        "DELETE FROM _sqlx_migrations",
        // The append function takes only the row the head has just numbered.
        "SELECT audit_write(1, gen_random_uuid(), now(), 'mallory', 'x', 't', '{}', 'bad', 'bad')",
    ];
    for sql in attacks {
        let outcome = raw_execute(&t.url, sql).await;
        // Refused for lack of rights (42501), or by the function's own check
        // (P0001) — not by a typo in the attack.
        let code = match outcome {
            Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()),
            other => panic!("the application role could run {sql}: {other:?}"),
        };
        let expected = if sql.starts_with("SELECT audit_write") { "P0001" } else { "42501" };
        assert_eq!(code.as_deref(), Some(expected), "{sql}");
    }
    // The owner's rights are intact (the same statement as the owner works), and
    // the log is exactly as written.
    assert!(raw_execute(&t.owner_url, "ALTER TABLE operators ADD COLUMN owner_can TEXT").await.is_ok());
    assert_eq!(e2e::scalar(&t.url, "SELECT COUNT(*) FROM audit_log").await, 3);
    assert_eq!(e2e::scalar(&t.url, "SELECT seq FROM audit_head").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_does_not_migrate_a_shared_database() {
    // A database nobody has migrated: the desktop says so instead of creating tables.
    let admin = e2e::pg_admin_url();
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    raw_execute(&admin, &format!("CREATE DATABASE {name}")).await.unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");
    match store::open(&url).await {
        Err(StoreError::NeedsMigration { found, supported }) => assert_eq!((found, supported), (0, 4)),
        other => panic!("expected NeedsMigration, got {:?}", other.map(|s| s.info())),
    }
    assert_eq!(
        e2e::scalar(&url, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
            .await,
        0
    );
    // The owner migrates; then it opens.
    assert_eq!(store::migrate_postgres(&url, None).await.unwrap(), 4);
    assert_eq!(store::open(&url).await.unwrap().info().schema_version, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_plain_role_name_is_granted() {
    let t = TestDb::new(Db::Postgres).await;
    let outcome = store::migrate_postgres(&t.owner_url, Some("x; DROP TABLE operators")).await;
    assert!(matches!(outcome, Err(StoreError::InvalidRoleName(_))), "{outcome:?}");
    assert_eq!(e2e::scalar(&t.url, "SELECT COUNT(*) FROM operators").await, 0);
}
