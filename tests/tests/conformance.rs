//! The storage conformance suite: the same cases on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use domain::audit::ChainVerifier;
use domain::model::SearchField;
use e2e::{Db, TestDb, on_both_databases, raw_execute, vault};
use serde_json::json;
use service::seed::Generator;
use std::sync::Arc;
use store::{LoginUpdate, NewAudit, OperatorRow, Store, StoreError};
use uuid::Uuid;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap()
}

fn operator(username: &str) -> OperatorRow {
    OperatorRow {
        id: Uuid::now_v7(),
        username: username.into(),
        display_name: "测试".into(),
        role: "cs_agent".into(),
        password_hash: "x".into(),
        failed_attempts: 0,
        locked_until: None,
        last_login_at: None,
        created_at: t0(),
        disabled: false,
        must_change_password: false,
    }
}

fn audit(action: &str) -> NewAudit {
    NewAudit::new(t0(), "tester", action, "t", json!({ "k": 1 }))
}

async fn verify_all(store: &dyn Store) -> Result<i64, domain::audit::ChainBreak> {
    let mut v = ChainVerifier::default();
    loop {
        let page = store.audit_after(v.verified_rows(), 1000).await.unwrap();
        if page.is_empty() {
            return Ok(v.verified_rows());
        }
        for r in &page {
            v.push(r)?;
        }
    }
}

async fn migrates_and_reopens(db: Db) {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    let info = store.info();
    assert_eq!(info.schema_version, store::schema_version());
    assert_eq!(store::schema_version(), store::sqlite_schema_version(), "both databases at one version");
    assert!(store::schema_version() >= 5);
    assert_eq!(info.kind, if db == Db::Sqlite { "sqlite" } else { "postgres" });
    drop(store);
    // Opening an up-to-date database again applies nothing and keeps the data.
    let store = store::open(&t.url).await.unwrap();
    assert_eq!(store.count_customers().await.unwrap(), 0);
}

async fn operators_are_unique_and_audited(db: Db) {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    store.insert_operator(&operator("cs9"), audit("operator.create")).await.unwrap();
    let err = store.insert_operator(&operator("cs9"), audit("operator.create")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // The failed insert wrote no audit row: change and audit are one transaction.
    let rows = store.audit_page(None, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    let got = store.operator_by_username("cs9").await.unwrap().unwrap();
    assert_eq!(got.display_name, "测试");
    assert!(store.operator_by_username("nobody").await.unwrap().is_none());
}

async fn login_updates_are_stored(db: Db) {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    let op = operator("cs8");
    store.insert_operator(&op, audit("operator.create")).await.unwrap();
    let until = t0() + Duration::minutes(15);
    let update = LoginUpdate {
        operator_id: op.id,
        failed_attempts: 3,
        locked_until: Some(until),
        last_login_at: None,
    };
    store.record_login(update, audit("login.locked")).await.unwrap();
    let got = store.operator_by_username("cs8").await.unwrap().unwrap();
    assert_eq!((got.failed_attempts, got.locked_until, got.last_login_at), (3, Some(until), None));
    let update = LoginUpdate {
        operator_id: op.id,
        failed_attempts: 0,
        locked_until: None,
        last_login_at: Some(until),
    };
    store.record_login(update, audit("login.ok")).await.unwrap();
    let got = store.operator_by_username("cs8").await.unwrap().unwrap();
    assert_eq!((got.failed_attempts, got.locked_until, got.last_login_at), (0, None, Some(until)));
}

async fn concurrent_audit_appends_form_one_chain(db: Db) {
    let t = TestDb::new(db).await;
    let store: Arc<dyn Store> = store::open(&t.url).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for j in 0..10 {
                    store.append_audit(audit(&format!("task{i}.{j}"))).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(verify_all(store.as_ref()).await, Ok(200));
    let newest = store.audit_page(None, 5).await.unwrap();
    assert_eq!(newest.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![200, 199, 198, 197, 196]);
    let older = store.audit_page(Some(3), 5).await.unwrap();
    assert_eq!(older.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2, 1]);
}

async fn audit_log_is_append_only_and_tampering_is_detected(db: Db) {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    for i in 0..5 {
        store.append_audit(audit(&format!("a{i}"))).await.unwrap();
    }
    assert!(raw_execute(&t.url, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3").await.is_err());
    assert!(raw_execute(&t.url, "DELETE FROM audit_log WHERE seq = 3").await.is_err());
    assert_eq!(verify_all(store.as_ref()).await, Ok(5));
    // Someone with DDL rights disables the guard and edits a row: the chain shows it.
    let drop_guard = if db == Db::Sqlite {
        "DROP TRIGGER audit_log_no_update"
    } else {
        "DROP TRIGGER audit_log_no_change ON audit_log"
    };
    raw_execute(&t.owner_url, drop_guard).await.unwrap();
    raw_execute(&t.owner_url, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3").await.unwrap();
    let brk = verify_all(store.as_ref()).await.unwrap_err();
    assert_eq!(brk.seq, 3);
}

async fn a_deleted_tail_is_caught_by_the_head(db: Db) {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    for i in 0..5 {
        store.append_audit(audit(&format!("a{i}"))).await.unwrap();
    }
    // Someone with DDL rights removes the guard and the last two rows: what is left
    // still chains, but the head (moved in the same transaction as every append) does not.
    let drop_guard = if db == Db::Sqlite {
        "DROP TRIGGER audit_log_no_delete"
    } else {
        "DROP TRIGGER audit_log_no_change ON audit_log"
    };
    raw_execute(&t.owner_url, drop_guard).await.unwrap();
    raw_execute(&t.owner_url, "DELETE FROM audit_log WHERE seq > 3").await.unwrap();
    let (head_seq, head_hash) = store.audit_head().await.unwrap();
    let mut verifier = domain::audit::ChainVerifier::default();
    for row in store.audit_after(0, 100).await.unwrap() {
        verifier.push(&row).unwrap();
    }
    let brk = verifier.finish(head_seq, &head_hash).unwrap_err();
    assert_eq!((brk.seq, brk.reason), (4, domain::audit::BreakReason::TailMissing { head_seq: 5 }));
}

async fn customers_search_and_tree(db: Db) {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    let v = vault();
    let batch = Generator::new(11, 40, &v, t0()).next_batch(40).unwrap();
    store.insert_customer_batch(&batch).await.unwrap();
    assert_eq!(store.count_customers().await.unwrap(), 40);

    let user =
        batch.users.iter().find(|u| u.phone.is_some() && u.email.is_some() && u.nickname.is_some()).unwrap();
    let owner = user.customer_id;
    for (field, term) in [
        (SearchField::Phone, user.phone.clone().unwrap()),
        (SearchField::UserId, user.id.to_string()),
        (SearchField::Email, user.email.clone().unwrap()),
        (SearchField::Nickname, user.nickname.clone().unwrap()),
    ] {
        let hits = store.search_customers(field, &term, 50).await.unwrap();
        assert_eq!(hits.len(), 1, "{field:?}");
        assert_eq!(hits[0].customer.id, owner, "{field:?}");
        assert_eq!(hits[0].matched_on, field);
        let users_of_owner = batch.users.iter().filter(|u| u.customer_id == owner).count() as i64;
        assert_eq!(hits[0].user_count, users_of_owner);
    }
    // The store sees only the keyed hash of the last four.
    let with_id = batch.customers.iter().find(|c| c.id_last4_hash.is_some()).unwrap();
    let last4 = with_id.id_last4_hash.clone().unwrap();
    let hits = store.search_customers(SearchField::IdLast4, &last4, 50).await.unwrap();
    let expected = batch.customers.iter().filter(|c| c.id_last4_hash.as_deref() == Some(&last4)).count();
    assert_eq!(hits.len(), expected);
    assert!(hits.iter().any(|h| h.customer.id == with_id.id));
    assert!(store.search_customers(SearchField::Phone, "13000000000", 50).await.unwrap().is_empty());

    let tree = store.customer_tree(owner).await.unwrap().unwrap();
    let user_ids: Vec<_> = tree.users.iter().map(|u| u.id).collect();
    assert!(user_ids.contains(&user.id));
    assert_eq!(tree.accounts.len(), batch.accounts.iter().filter(|a| user_ids.contains(&a.user_id)).count());
    assert_eq!(tree.cards.len(), batch.cards.iter().filter(|k| user_ids.contains(&k.user_id)).count());
    assert_eq!(
        tree.phone_bindings.len(),
        batch.phone_bindings.iter().filter(|b| user_ids.contains(&b.user_id)).count()
    );
    assert!(tree.phone_bindings.windows(2).all(|w| w[0].bound_at >= w[1].bound_at), "newest first");
    // Balances come back exactly (integer fen, no float anywhere).
    let stored: i64 = tree.accounts.iter().map(|a| a.balance_minor).sum();
    let generated: i64 =
        batch.accounts.iter().filter(|a| user_ids.contains(&a.user_id)).map(|a| a.balance_minor).sum();
    assert_eq!(stored, generated);
    assert!(store.customer_tree(Uuid::now_v7()).await.unwrap().is_none());
    assert_eq!(store.customer(owner).await.unwrap().as_ref(), Some(&tree.customer));
    assert!(store.customer(Uuid::now_v7()).await.unwrap().is_none());
}

async fn a_phone_is_one_users_login_and_batches_are_atomic(db: Db) {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    let v = vault();
    let batch = Generator::new(5, 10, &v, t0()).next_batch(10).unwrap();
    store.insert_customer_batch(&batch).await.unwrap();
    // The same world again: every phone is taken, so nothing of it may land.
    let mut again = Generator::new(6, 10, &v, t0()).next_batch(10).unwrap();
    again.users[0].phone = batch.users[0].phone.clone();
    let err = store.insert_customer_batch(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.count_customers().await.unwrap(), 10);
}

async fn refuses_a_database_from_a_newer_console(db: Db) {
    let t = TestDb::new(db).await;
    drop(store::open(&t.url).await.unwrap());
    let fake = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                VALUES (9999, 'from the future', TRUE, X'00', 1)";
    let fake = if db == Db::Postgres { fake.replace("X'00'", "'\\x00'::bytea") } else { fake.to_owned() };
    raw_execute(&t.owner_url, &fake).await.unwrap();
    match store::open(&t.url).await {
        Err(StoreError::TooNew { found, supported }) => {
            assert_eq!((found, supported), (9999, store::schema_version()))
        }
        other => panic!("expected TooNew, got {:?}", other.map(|s| s.info())),
    }
}

on_both_databases!(
    migrates_and_reopens,
    operators_are_unique_and_audited,
    login_updates_are_stored,
    concurrent_audit_appends_form_one_chain,
    audit_log_is_append_only_and_tampering_is_detected,
    a_deleted_tail_is_caught_by_the_head,
    customers_search_and_tree,
    a_phone_is_one_users_login_and_batches_are_atomic,
    refuses_a_database_from_a_newer_console,
);

mod bad_input {
    use super::*;

    #[tokio::test]
    async fn corrupt_sqlite_file_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.db");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        match store::open(&format!("sqlite:{}", path.display())).await {
            Err(StoreError::Corrupt { path: p, .. }) => assert!(p.ends_with("broken.db")),
            other => panic!("expected Corrupt, got {:?}", other.map(|s| s.info())),
        }
    }

    #[tokio::test]
    async fn unreachable_postgres_is_reported_without_password() {
        let err = store::open("postgres://ops:hunter2@127.0.0.1:1/ops").await.map(|s| s.info()).unwrap_err();
        match err {
            StoreError::Unreachable { location, reason } => {
                assert_eq!(location, "postgres://ops@127.0.0.1:1/ops");
                assert!(reason.to_lowercase().contains("refused"), "the real cause is kept: {reason}");
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn malformed_urls_are_rejected() {
        for url in ["mysql://x/y", "", "ops.db"] {
            let err = store::open(url).await.map(|s| s.info()).unwrap_err();
            assert!(matches!(err, StoreError::InvalidUrl(_)), "{url}: {err:?}");
        }
        let err = store::open("postgres://u:p@host:notaport/db").await.map(|s| s.info()).unwrap_err();
        assert!(matches!(err, StoreError::InvalidUrl(_)), "{err:?}");
    }
}
