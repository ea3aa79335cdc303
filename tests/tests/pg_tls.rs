//! PostgreSQL over TLS: the network between a desktop and the shared database.
//! `./dev test` gives its throwaway server a certificate for 127.0.0.1 signed by a
//! test CA (`OPS_TEST_PG_CA`) and makes an unrelated CA (`OPS_TEST_PG_OTHER_CA`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{Db, TestDb};
use store::StoreError;

fn ca(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests through `./dev test`, which gives its PostgreSQL a test CA")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_with_the_servers_ca_connects_encrypted() {
    let t = TestDb::new(Db::Postgres).await;
    let url = format!("{}?sslmode=verify-full&sslrootcert={}", t.url, ca("OPS_TEST_PG_CA"));
    let store = store::open(&url).await.unwrap();
    assert_eq!(store.info().schema_version, store::schema_version());
    assert_eq!(
        e2e::scalar(&url, "SELECT COUNT(*) FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl").await,
        1
    );
}

/// The connection fails in the TLS handshake, on the server's certificate.
async fn assert_refused_for_its_certificate(url: &str) {
    match store::open(url).await {
        Err(StoreError::Unreachable { reason, .. }) => {
            assert!(reason.to_lowercase().contains("certificate"), "{reason}")
        }
        other => panic!("expected a certificate failure, got {:?}", other.map(|s| s.info())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_the_ca_did_not_sign_is_refused() {
    // Someone in between presenting their own certificate looks like this.
    let t = TestDb::new(Db::Postgres).await;
    let url = format!("{}?sslmode=verify-full&sslrootcert={}", t.url, ca("OPS_TEST_PG_OTHER_CA"));
    assert_refused_for_its_certificate(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_refused() {
    // The certificate names 127.0.0.1, not localhost.
    let t = TestDb::new(Db::Postgres).await;
    let url = format!("{}?sslmode=verify-full&sslrootcert={}", t.url, ca("OPS_TEST_PG_CA"))
        .replace("@127.0.0.1:", "@localhost:");
    assert!(url.contains("@localhost:"), "{url}");
    assert_refused_for_its_certificate(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_server_without_verified_tls_is_refused_before_connecting() {
    for url in [
        "postgres://ops:secret@db.internal/ops",
        "postgres://ops:secret@10.1.2.3:5432/ops?sslmode=prefer",
        "postgres://ops:secret@db.internal/ops?sslmode=require",
        "postgres://ops:secret@[2001:db8::1]/ops?sslmode=disable",
        // verify-ca skips the name check, and sqlx trusts the public roots too.
        "postgres://ops:secret@db.internal/ops?sslmode=verify-ca&sslrootcert=/etc/ops/ca.pem",
    ] {
        match store::open(url).await {
            Err(StoreError::NeedsTls { host }) => assert!(!host.is_empty()),
            other => panic!("{url}: expected NeedsTls, got {:?}", other.map(|s| s.info())),
        }
        assert!(
            matches!(store::migrate_postgres(url, None).await, Err(StoreError::NeedsTls { .. })),
            "{url}"
        );
    }
    // Loopback stays usable without TLS (the test server itself).
    let t = TestDb::new(Db::Postgres).await;
    assert!(store::open(&t.url).await.is_ok());
}
