//! Faults a deployment meets: two desktops writing one SQLite file at once, a
//! PostgreSQL restart under a logged-in desktop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use domain::audit::ChainVerifier;
use e2e::{Db, TestDb};
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
    let (head_seq, head_hash) = second.audit_head().await.unwrap();
    assert_eq!(head_seq, 80);
    let mut verifier = ChainVerifier::default();
    for row in first.audit_after(0, 1000).await.unwrap() {
        verifier.push(&row).unwrap();
    }
    assert_eq!(verifier.verified_rows(), 80);
    assert_eq!(verifier.finish(head_seq, &head_hash), Ok(()));
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
    let (head_seq, head_hash) = store.audit_head().await.unwrap();
    assert_eq!(head_seq, 2);
    let mut verifier = ChainVerifier::default();
    for row in store.audit_after(0, 10).await.unwrap() {
        verifier.push(&row).unwrap();
    }
    assert_eq!(verifier.finish(head_seq, &head_hash), Ok(()));
}
