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
use store::{NewAudit, RoleProblem, StoreError};

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
        // The batch form checks each row the same way (it appends through audit_write).
        "SELECT audit_write_many(ARRAY[4, 5]::bigint[], ARRAY[gen_random_uuid(), gen_random_uuid()], \
         ARRAY[now(), now()], ARRAY['m', 'm'], ARRAY['x', 'x'], ARRAY['t', 't'], ARRAY['{}', '{}'], \
         ARRAY['bad', 'bad'], ARRAY['bad', 'bad'])",
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
        Err(StoreError::NeedsMigration { found, supported }) => {
            assert_eq!((found, supported), (0, store::schema_version()))
        }
        other => panic!("expected NeedsMigration, got {:?}", other.map(|s| s.info())),
    }
    assert_eq!(
        e2e::scalar(&url, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
            .await,
        0
    );
    // The owner migrates; then it opens.
    assert_eq!(store::migrate_postgres(&url, None).await.unwrap(), store::schema_version());
    assert_eq!(store::open(&url).await.unwrap().info().schema_version, store::schema_version());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_grants_only_to_a_role_of_its_own() {
    let t = TestDb::new(Db::Postgres).await;
    let cases = [
        ("x; DROP TABLE operators", RoleProblem::NotPlainName),
        ("public", RoleProblem::Reserved),
        ("pg_monitor", RoleProblem::Reserved),
        ("no_such_role_here", RoleProblem::Missing),
        ("postgres", RoleProblem::Privileged),
    ];
    for (role, expected) in cases {
        match store::migrate_postgres(&t.owner_url, Some(role)).await {
            Err(StoreError::UnsuitableRole { problem, .. }) => assert_eq!(problem, expected, "{role}"),
            other => panic!("{role}: expected {expected:?}, got {other:?}"),
        }
    }
    // A role that writes every table through pg_write_all_data survives the REVOKE:
    // refused, and the grants rolled back.
    let wide = format!("{}_wide", t.url.rsplit('/').next().unwrap());
    raw_execute(&t.owner_url, &format!("CREATE ROLE {wide} LOGIN IN ROLE pg_write_all_data")).await.unwrap();
    match store::migrate_postgres(&t.owner_url, Some(&wide)).await {
        Err(StoreError::UnsuitableRole { problem, .. }) => assert_eq!(problem, RoleProblem::KeepsWriteRights),
        other => panic!("expected KeepsWriteRights, got {other:?}"),
    }
    let granted = format!("SELECT has_table_privilege('{wide}', 'public.operators', 'SELECT')::int::bigint");
    assert_eq!(e2e::scalar(&t.owner_url, &granted).await, 0);
    assert_eq!(e2e::scalar(&t.url, "SELECT COUNT(*) FROM operators").await, 0);
    // PUBLIC got nothing on the tables or the functions.
    let public_rights = "SELECT COUNT(*) FROM information_schema.role_table_grants WHERE grantee = 'PUBLIC' \
                         AND table_schema = 'public'";
    assert_eq!(e2e::scalar(&t.owner_url, public_rights).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_roles_rights_are_exactly_these() {
    let t = app_db_with_rows().await;
    let role = e2e::scalar_text(&t.url, "SELECT current_user::text").await;
    let right = |table: &str, privilege: &str| {
        format!("SELECT has_table_privilege('{role}', 'public.{table}', '{privilege}')::int::bigint")
    };
    for (table, privilege, expected) in [
        ("audit_log", "SELECT", 1),
        ("audit_log", "INSERT", 0),
        ("audit_log", "UPDATE", 0),
        ("audit_log", "DELETE", 0),
        ("audit_log", "TRUNCATE", 0),
        ("audit_head", "UPDATE", 0),
        ("_sqlx_migrations", "INSERT", 0),
        ("operators", "UPDATE", 1),
        ("operators", "TRUNCATE", 0),
        ("operators", "TRIGGER", 0),
        ("operators", "REFERENCES", 0),
    ] {
        assert_eq!(
            e2e::scalar(&t.owner_url, &right(table, privilege)).await,
            expected,
            "{table} {privilege}"
        );
    }
    let create = format!("SELECT has_schema_privilege('{role}', 'public', 'CREATE')::int::bigint");
    assert_eq!(e2e::scalar(&t.owner_url, &create).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_table_does_not_stand_in_for_the_audit_head() {
    // The role may create temporary tables (screening uses one); the functions must
    // still read and move the real head.
    let t = app_db_with_rows().await;
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&t.url).await.unwrap();
    for setup in [
        "CREATE TEMP TABLE audit_head (id INT, seq BIGINT, hash TEXT)",
        "CREATE TEMP TABLE audit_log (LIKE public.audit_log)",
        "INSERT INTO audit_head VALUES (1, 500, 'x')",
    ] {
        sqlx::query(setup).execute(&mut conn).await.unwrap();
    }
    let forged =
        "SELECT public.audit_write(500, gen_random_uuid(), now(), 'admin', 'forged', 't', '{}', 'x', 'y')";
    match sqlx::query(forged).execute(&mut conn).await {
        Err(sqlx::Error::Database(e)) => assert!(e.message().contains("out of order"), "{}", e.message()),
        other => panic!("the forged append ran: {other:?}"),
    }
    assert_eq!(e2e::scalar(&t.url, "SELECT COUNT(*) FROM audit_log WHERE seq = 500").await, 0);
    assert_eq!(e2e::scalar(&t.url, "SELECT seq FROM audit_head").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_falls_out_of_order_while_waiting_does_not_move_the_head() {
    use sqlx::{Connection, Row};
    let t = app_db_with_rows().await;
    // The attacker burns number 4, keeping the head's hash in hand.
    let mut attacker = sqlx::PgConnection::connect(&t.url).await.unwrap();
    let burned =
        sqlx::query("SELECT seq, hash FROM public.audit_next()").fetch_one(&mut attacker).await.unwrap();
    let (seq4, hash3): (i64, String) = (burned.get(0), burned.get(1));
    // A desktop appends number 5 and has not committed yet.
    let mut desktop = sqlx::PgConnection::connect(&t.url).await.unwrap();
    let mut tx = desktop.begin().await.unwrap();
    let next = sqlx::query("SELECT seq, hash FROM public.audit_next()").fetch_one(&mut *tx).await.unwrap();
    let (seq5, prev): (i64, String) = (next.get(0), next.get(1));
    assert_eq!((seq4, seq5, prev.as_str()), (4, 5, hash3.as_str()));
    sqlx::query("SELECT public.audit_write($1, gen_random_uuid(), now(), 'cs1', 'a', 't', '{}', $2, 'H5')")
        .bind(seq5)
        .bind(&prev)
        .execute(&mut *tx)
        .await
        .unwrap();
    // The attacker's write for number 4 was in order when it started; it waits
    // for the desktop's lock, and must then fail rather than overwrite the head.
    let url = t.url.clone();
    let forged = tokio::spawn(async move {
        let sql = format!(
            "SELECT public.audit_write({seq4}, gen_random_uuid(), now(), 'mallory', 'x', 't', '{{}}', '{hash3}', 'EVIL')"
        );
        raw_execute(&url, &sql).await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    tx.commit().await.unwrap();
    assert!(forged.await.unwrap().is_err());
    assert_eq!(e2e::scalar_text(&t.url, "SELECT hash FROM audit_head").await, "H5");
    assert_eq!(e2e::scalar(&t.url, "SELECT COUNT(*) FROM audit_log WHERE actor = 'mallory'").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_superuser_owner_migrates_and_its_application_role_is_bounded() {
    // As deployed: the database belongs to an ordinary role, not to a superuser.
    let admin = e2e::pg_admin_url();
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let (owner, app) = (format!("{name}_own"), format!("{name}_app"));
    raw_execute(&admin, &format!("CREATE ROLE {owner} LOGIN")).await.unwrap();
    raw_execute(&admin, &format!("CREATE ROLE {app} LOGIN")).await.unwrap();
    raw_execute(&admin, &format!("CREATE DATABASE {name} OWNER {owner}")).await.unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    let owner_url = e2e::with_user(&format!("{base}/{name}"), &owner);
    let app_url = e2e::with_user(&owner_url, &app);
    assert_eq!(store::migrate_postgres(&owner_url, Some(&app)).await.unwrap(), store::schema_version());
    let store = store::open(&app_url).await.unwrap();
    store.append_audit(NewAudit::new(Utc::now(), "tester", "a", "t", json!({}))).await.unwrap();
    for sql in [
        "TRUNCATE audit_log",
        "UPDATE audit_head SET seq = 0",
        "DROP TRIGGER audit_log_no_change ON audit_log",
    ] {
        assert!(raw_execute(&app_url, sql).await.is_err(), "{sql}");
    }
    // The owner can, by design: that is what checkpoints kept outside are for.
    assert!(raw_execute(&owner_url, "ALTER TABLE operators ADD COLUMN owner_can TEXT").await.is_ok());
    assert_eq!(e2e::scalar(&app_url, "SELECT seq FROM audit_head").await, 1);
}
