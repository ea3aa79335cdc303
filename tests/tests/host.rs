//! One desktop's backend under a slow gateway, on both databases: a bank that does
//! not answer must not freeze the desktop's other requests (the Tauri command used
//! to hold the whole host for the length of the call).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use domain::auth::{LoginPolicy, Role};
use domain::cases::Claimant;
use domain::{ApiError, RecycledRequest, Request, Response};
use e2e::{Db, TestDb, on_both_databases, vault};
use service::gateway::HttpConfig;
use service::seed::{self, DEMO_PASSWORD};
use service::simulator::Simulator;
use service::{GatewaySetup, Host, HostOptions, PiiVault, Services};
use std::sync::Arc;
use std::time::Duration;
use store::CaseQuery;

/// A "bank" that accepts connections and never answers; tells when the first arrives.
async fn silent_bank() -> (String, tokio::sync::oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut first = Some(tx);
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
            if let Some(tx) = first.take() {
                let _ = tx.send(());
            }
        }
    });
    (format!("http://{addr}"), rx)
}

async fn a_silent_bank_does_not_freeze_the_desktop(db: Db) {
    let t = TestDb::new(db).await;
    let evidence = tempfile::tempdir().unwrap();
    // The carrier is the simulator; the bank never answers.
    let sim = Simulator::new(store::open(&t.url).await.unwrap(), vault());
    let carrier = format!("http://{}", sim.serve(0).await.unwrap());
    let (bank, bank_called) = silent_bank().await;
    let options = HostOptions {
        demo_users: Some(300),
        gateways: GatewaySetup::Http { carrier: HttpConfig::new(carrier), bank: HttpConfig::new(bank) },
        evidence_dir: evidence.path().to_owned(),
    };
    let host = Arc::new(Host::open(&t.url, vault(), options, Utc::now()).await);
    let login = Request::Login { username: "cs1".into(), password: DEMO_PASSWORD.into() };
    host.handle(login, Utc::now()).await.unwrap();
    // An automatic reissued-number case of the demo data and its new holder.
    let cases =
        store::open(&t.url).await.unwrap().queue(&CaseQuery { limit: 500, ..CaseQuery::default() }).await;
    let case = cases
        .unwrap()
        .into_iter()
        .find(|c| c.core.source == domain::recycle::CaseSource::EntryTime && !c.core.manual_only)
        .expect("the demo data has reissued numbers");
    let holder = seed::new_holder(&case.core.phone);
    let claimant =
        Claimant { name: holder.name, id_number: holder.id_number, phone: case.core.phone.clone() };
    let start = RecycledRequest::ForceUnbindStart { case_id: case.id, claimant };
    let Ok(Response::ForceUnbind(state)) = host.handle(start.into(), Utc::now()).await else { panic!() };
    assert!(state.carrier_passed, "{state:?}");

    let bank_check =
        RecycledRequest::ForceUnbindBankCheck { wizard_id: state.wizard_id, card_number: holder.card_number };
    let waiting = {
        let host = host.clone();
        tokio::spawn(async move { host.handle(bank_check.into(), Utc::now()).await })
    };
    tokio::time::timeout(Duration::from_secs(10), bank_called).await.unwrap().unwrap();
    // While the bank keeps the card check waiting, the desktop still answers. (The
    // timeout only turns a hang into a failure; it measures nothing.)
    let status = tokio::time::timeout(Duration::from_secs(5), host.handle(Request::Status, Utc::now())).await;
    assert!(matches!(status, Ok(Ok(Response::Status { .. }))), "the desktop froze: {status:?}");
    let detail = RecycledRequest::CaseDetail { case_id: case.id };
    let detail = tokio::time::timeout(Duration::from_secs(5), host.handle(detail.into(), Utc::now())).await;
    assert!(matches!(detail, Ok(Ok(Response::Case(_)))), "the desktop froze: {detail:?}");
    assert!(!waiting.is_finished(), "the bank check is still waiting for the bank");
    waiting.abort();
}

fn options(evidence: &std::path::Path) -> HostOptions {
    HostOptions { demo_users: Some(30), gateways: GatewaySetup::Simulator, evidence_dir: evidence.to_owned() }
}

async fn status(host: &Host) -> Response {
    host.handle(Request::Status, Utc::now()).await.unwrap()
}

async fn a_desktop_with_another_pii_key_refuses_to_start(db: Db) {
    let t = TestDb::new(db).await;
    let evidence = tempfile::tempdir().unwrap();
    let first = Host::open(&t.url, vault(), options(evidence.path()), Utc::now()).await;
    assert!(matches!(status(&first).await, Response::Status { startup_error: None, demo: true, .. }));
    // Another desktop with another key would silently split attempt budgets and
    // miss the same-person check: it refuses to start, and says why.
    let other = Host::open(&t.url, PiiVault::new(&[7; 32]), options(evidence.path()), Utc::now()).await;
    let refused = status(&other).await;
    assert!(
        matches!(&refused, Response::Status { startup_error: Some(ApiError::PiiKeyMismatch), .. }),
        "{refused:?}"
    );
}

async fn a_database_with_real_operators_gets_no_demo_data(db: Db) {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    let services = Services::new(store.clone(), vault(), LoginPolicy::default());
    let now = Utc::now();
    seed::create_operator(&services, "ops.admin", "管理员 张伟", Role::Admin, "Str0ng!Passw0rd#2026", now)
        .await
        .unwrap();
    // A desktop started with demo data asked for (a wrong flag, an old script) adds none.
    let evidence = tempfile::tempdir().unwrap();
    let host = Host::open(&t.url, vault(), options(evidence.path()), now).await;
    assert!(matches!(status(&host).await, Response::Status { startup_error: None, demo: false, .. }));
    assert!(
        store.operator_by_username("cs1").await.unwrap().is_none(),
        "no demo operator with the public password"
    );
    assert_eq!(store.count_customers().await.unwrap(), 0, "no demo customers");
}

async fn files_with_pii_are_the_owners_only(db: Db) {
    let t = TestDb::new(db).await;
    let evidence = tempfile::tempdir().unwrap();
    let host = Host::open(&t.url, vault(), options(evidence.path()), Utc::now()).await;
    let login = Request::Login { username: "sup1".into(), password: DEMO_PASSWORD.into() };
    host.handle(login, Utc::now()).await.unwrap();
    let cases =
        store::open(&t.url).await.unwrap().queue(&CaseQuery { limit: 1, ..CaseQuery::default() }).await;
    let case_id = cases.unwrap()[0].id;
    let export = RecycledRequest::ExportEvidence { case_id };
    let Ok(Response::Evidence { json_path, html_path, .. }) = host.handle(export.into(), Utc::now()).await
    else {
        panic!()
    };
    let mut private = vec![json_path, html_path];
    if let Some(path) = t.url.strip_prefix("sqlite:") {
        private.extend([path.to_owned(), format!("{path}-wal"), format!("{path}-shm")]);
    }
    use std::os::unix::fs::PermissionsExt;
    for path in private {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{path} is readable by others: {mode:o}");
    }
}

async fn the_first_desktop_cannot_record_a_wrong_key(db: Db) {
    let t = TestDb::new(db).await;
    let evidence = tempfile::tempdir().unwrap();
    // A database from before the check value existed: data sealed, no check value.
    let first = Host::open(&t.url, vault(), options(evidence.path()), Utc::now()).await;
    assert!(matches!(status(&first).await, Response::Status { startup_error: None, .. }));
    e2e::raw_execute(&t.url, "DELETE FROM settings WHERE key = 'pii.key_check'").await.unwrap();
    // A desktop that generated its own key must not become the reference.
    let wrong = Host::open(&t.url, PiiVault::new(&[7; 32]), options(evidence.path()), Utc::now()).await;
    assert!(matches!(
        status(&wrong).await,
        Response::Status { startup_error: Some(ApiError::PiiKeyMismatch), .. }
    ));
    let right = Host::open(&t.url, vault(), options(evidence.path()), Utc::now()).await;
    assert!(matches!(status(&right).await, Response::Status { startup_error: None, .. }));
}

async fn demo_operators_left_in_a_real_database_are_locked(db: Db) {
    let t = TestDb::new(db).await;
    let evidence = tempfile::tempdir().unwrap();
    // An earlier console put the demo operators (public password) into this database,
    // which is not (or no longer) a demo.
    drop(Host::open(&t.url, vault(), options(evidence.path()), Utc::now()).await);
    e2e::raw_execute(&t.url, "DELETE FROM settings WHERE key = 'demo'").await.unwrap();
    let real = HostOptions { demo_users: None, ..options(evidence.path()) };
    let host = Host::open(&t.url, vault(), real, Utc::now()).await;
    let sup1 = Request::Login { username: "sup1".into(), password: DEMO_PASSWORD.into() };
    let r = host.handle(sup1, Utc::now()).await;
    assert!(matches!(r, Err(ApiError::OperatorLocked { .. })), "{r:?}");
}

async fn a_real_database_never_gets_the_simulator(db: Db) {
    let t = TestDb::new(db).await;
    let evidence = tempfile::tempdir().unwrap();
    let real = HostOptions {
        demo_users: None,
        gateways: GatewaySetup::SimulatorForDemo,
        evidence_dir: evidence.path().to_owned(),
    };
    let host = Host::open(&t.url, vault(), real, Utc::now()).await;
    let refused = status(&host).await;
    assert!(
        matches!(&refused, Response::Status { startup_error: Some(ApiError::GatewaysMissing), .. }),
        "{refused:?}"
    );
}

/// A DBA reading `customers` learns no digit of an ID number: the birth date and
/// last four used to be kept in clear (12 of 18 digits).
async fn id_numbers_keep_no_clear_digits(db: Db) {
    let t = TestDb::new(db).await;
    let evidence = tempfile::tempdir().unwrap();
    drop(Host::open(&t.url, vault(), options(evidence.path()), Utc::now()).await);
    for column in ["id_last4", "birth_date"] {
        let read = e2e::raw_execute(&t.url, &format!("SELECT {column} FROM customers")).await;
        assert!(read.is_err(), "customers.{column} still exists");
    }
    let store = store::open(&t.url).await.unwrap();
    assert!(store.customers_without_last4_hash(10).await.unwrap().is_empty(), "demo rows lack the hash");
    let sample = store.sealed_id_sample().await.unwrap().unwrap();
    let id_number = vault().open(&sample).unwrap();
    let row = sqlx_row_text(&t.url, &sample).await;
    for clear in [&id_number[6..14], &id_number[14..], &id_number[..]] {
        assert!(!row.contains(clear), "{clear} stored in clear: {row}");
    }

    // Rows from before the hash (an upgraded database) get it at the next start,
    // and search by the last four finds them.
    e2e::raw_execute(&t.url, "UPDATE customers SET id_last4_hash = NULL").await.unwrap();
    assert!(!store.customers_without_last4_hash(10).await.unwrap().is_empty());
    let host = Host::open(&t.url, vault(), options(evidence.path()), Utc::now()).await;
    assert!(store.customers_without_last4_hash(10).await.unwrap().is_empty());
    let login = Request::Login { username: "cs1".into(), password: DEMO_PASSWORD.into() };
    host.handle(login, Utc::now()).await.unwrap();
    let search = Request::SearchCustomers { query: id_number[14..].to_owned() };
    let Ok(Response::Customers(hits)) = host.handle(search, Utc::now()).await else { panic!() };
    let masked = domain::mask::id_number(&id_number);
    let candidates: Vec<_> = hits
        .iter()
        .filter(|h| h.id_number_masked.as_deref() == Some(masked.as_str()))
        .map(|h| h.id)
        .collect();
    assert!(!candidates.is_empty(), "search by the last four lost {masked}: {hits:?}");
    // The tree still shows the birth year, read from the sealed number.
    let mut years = Vec::new();
    for customer_id in candidates {
        let tree = host.handle(Request::CustomerTree { customer_id }, Utc::now()).await;
        let Ok(Response::CustomerTree(tree)) = tree else { panic!("{tree:?}") };
        years.push(tree.birth_year);
    }
    assert!(years.contains(&id_number[6..10].parse().ok()), "{years:?}");
}

/// Every column of the customer whose sealed ID number is `sealed`, as one text.
async fn sqlx_row_text(url: &str, sealed: &str) -> String {
    let sql = format!(
        "SELECT name || '|' || COALESCE(id_number_hash, '') || '|' || COALESCE(id_last4_hash, '') \
         FROM customers WHERE id_number_enc = '{sealed}'"
    );
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap()
    } else {
        e2e::scalar_text(url, &sql).await
    }
}

on_both_databases!(
    id_numbers_keep_no_clear_digits,
    the_first_desktop_cannot_record_a_wrong_key,
    demo_operators_left_in_a_real_database_are_locked,
    a_real_database_never_gets_the_simulator,
    a_silent_bank_does_not_freeze_the_desktop,
    a_desktop_with_another_pii_key_refuses_to_start,
    a_database_with_real_operators_gets_no_demo_data,
    files_with_pii_are_the_owners_only,
);
