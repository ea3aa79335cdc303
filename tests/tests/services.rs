//! Services on both databases: login and lock-out, idle expiry, the permission
//! table enforced in the backend, audited reveals, masking, demo data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::auth::{LoginPolicy, Permission};
use domain::model::PiiTarget;
use domain::{ApiError, Request, Response};
use e2e::{Db, TestDb, on_both_databases, vault};
use service::seed::{self, DEMO_PASSWORD};
use service::{Services, Session};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

async fn demo(db: Db) -> (TestDb, Services) {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    let services = Services::new(store, vault(), LoginPolicy::default());
    seed::ensure_demo_operators(&services, t0()).await.unwrap();
    seed::generate_into(&services, seed::DEMO_SEED, 90, seed::demo_anchor()).await.unwrap();
    (t, services)
}

async fn login(services: &Services, user: &str, now: DateTime<Utc>) -> Session {
    let session = Session::default();
    let req = Request::Login { username: user.into(), password: DEMO_PASSWORD.into() };
    services.handle(&session, req, now).await.unwrap();
    session
}

async fn actions(services: &Services) -> Vec<String> {
    services.store().audit_page(None, 200).await.unwrap().into_iter().map(|r| r.action).collect()
}

async fn wrong_passwords_lock_the_operator(db: Db) {
    let (_t, s) = demo(db).await;
    let session = Session::default();
    let wrong = || Request::Login { username: "cs1".into(), password: "nope".into() };
    let refused = ApiError::InvalidCredentials { max_failures: 5, lock_minutes: 15 };
    for _ in 1..5 {
        let err = s.handle(&session, wrong(), t0()).await.unwrap_err();
        assert_eq!(err, refused);
    }
    // An unknown username gets the very same answers, lock included: nothing tells who exists.
    let unknown = || Request::Login { username: "no-such-operator".into(), password: "nope".into() };
    for _ in 1..5 {
        assert_eq!(s.handle(&session, unknown(), t0()).await.unwrap_err(), refused);
    }
    let until = t0() + Duration::minutes(15);
    assert_eq!(s.handle(&session, unknown(), t0()).await.unwrap_err(), ApiError::OperatorLocked { until });
    let logged: Vec<String> =
        s.store().audit_page(None, 50).await.unwrap().into_iter().map(|r| r.target).collect();
    assert!(!logged.iter().any(|t| t.contains("no-such-operator")), "typed names are not kept: {logged:?}");
    let err = s.handle(&session, wrong(), t0()).await.unwrap_err();
    let until = t0() + Duration::minutes(15);
    assert_eq!(err, ApiError::OperatorLocked { until });
    // Locked: even the right password is refused until the lock ends.
    let right = Request::Login { username: "cs1".into(), password: DEMO_PASSWORD.into() };
    let err = s.handle(&session, right.clone(), t0() + Duration::minutes(1)).await.unwrap_err();
    assert_eq!(err, ApiError::OperatorLocked { until });
    assert!(session.operator().is_none());
    let ok = s.handle(&session, right, until + Duration::seconds(1)).await.unwrap();
    assert!(matches!(ok, Response::LoggedIn(op) if op.username == "cs1"));
    let log = actions(&s).await;
    assert_eq!(log.iter().filter(|a| *a == "login.failed").count(), 8, "four for cs1, four unknown");
    assert!(log.contains(&"login.locked".to_owned()));
    assert!(log.contains(&"login.refused_locked".to_owned()));
    assert_eq!(log[0], "login.ok");
    let err = s
        .handle(&Session::default(), Request::Login { username: "ghost".into(), password: "x".into() }, t0())
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::InvalidCredentials { .. }));
}

async fn idle_sessions_expire(db: Db) {
    let (_t, s) = demo(db).await;
    let session = login(&s, "cs1", t0()).await;
    let search = || Request::SearchCustomers { query: "1234".into() };
    s.handle(&session, search(), t0() + Duration::minutes(14)).await.unwrap();
    // Activity at minute 14 restarts the clock: minute 28 is still fine.
    s.handle(&session, search(), t0() + Duration::minutes(28)).await.unwrap();
    let err = s.handle(&session, search(), t0() + Duration::minutes(44)).await.unwrap_err();
    assert_eq!(err, ApiError::SessionExpired);
    let err = s.handle(&session, search(), t0() + Duration::minutes(45)).await.unwrap_err();
    assert_eq!(err, ApiError::NotLoggedIn);
    assert_eq!(actions(&s).await[0], "session.expired");
}

async fn the_backend_enforces_the_permission_table(db: Db) {
    let (_t, s) = demo(db).await;
    let nobody = Session::default();
    let search = Request::SearchCustomers { query: "13800000000".into() };
    assert_eq!(s.handle(&nobody, search.clone(), t0()).await.unwrap_err(), ApiError::NotLoggedIn);

    let admin = login(&s, "admin", t0()).await;
    let err = s.handle(&admin, search, t0()).await.unwrap_err();
    assert_eq!(err, ApiError::Forbidden { permission: Permission::CustomerView });

    let mut auditor = login(&s, "aud1", t0()).await;
    let customer_id = first_customer(&s, &mut auditor).await;
    let reveal =
        Request::RevealPii { target: PiiTarget::IdNumber { customer_id }, reason: "稽核抽查".into() };
    let err = s.handle(&auditor, reveal, t0()).await.unwrap_err();
    assert_eq!(err, ApiError::Forbidden { permission: Permission::PiiReveal });
    let denied = s.store().audit_page(None, 1).await.unwrap().remove(0);
    assert_eq!((denied.action.as_str(), denied.actor.as_str()), ("access.denied", "aud1"));
    assert!(denied.detail.contains("reveal_pii"));

    let agent = login(&s, "cs1", t0()).await;
    let err = s.handle(&agent, Request::VerifyAudit { checkpoints: vec![] }, t0()).await.unwrap_err();
    assert_eq!(err, ApiError::Forbidden { permission: Permission::AuditView });
}

async fn first_customer(s: &Services, session: &mut Session) -> uuid::Uuid {
    let phone = seed::demo_phone(1);
    match s.handle(session, Request::SearchCustomers { query: phone }, t0()).await.unwrap() {
        Response::Customers(rows) => rows[0].id,
        other => panic!("{other:?}"),
    }
}

async fn reveal_needs_a_reason_and_is_audited(db: Db) {
    let (_t, s) = demo(db).await;
    let mut agent = login(&s, "cs1", t0()).await;
    let customer_id = first_customer(&s, &mut agent).await;
    let target = PiiTarget::IdNumber { customer_id };
    let before = s.store().audit_page(None, 1).await.unwrap()[0].seq;
    let err = s.handle(&agent, Request::RevealPii { target, reason: " 看 ".into() }, t0()).await.unwrap_err();
    assert!(matches!(err, ApiError::InvalidInput { ref field, .. } if field == "reason"), "{err:?}");
    assert_eq!(
        s.store().audit_page(None, 1).await.unwrap()[0].seq,
        before,
        "a refused reveal writes nothing"
    );

    let reply =
        s.handle(&agent, Request::RevealPii { target, reason: "客户来电核实身份".into() }, t0()).await;
    let Ok(Response::Revealed { value, .. }) = reply else { panic!("{reply:?}") };
    let id = domain::id_number::IdNumber::parse(&value).unwrap();
    let row = s.store().audit_page(None, 1).await.unwrap().remove(0);
    assert_eq!((row.action.as_str(), row.actor.as_str()), ("pii.reveal", "cs1"));
    assert!(row.detail.contains("客户来电核实身份"));
    assert!(!row.detail.contains(id.as_str()), "the audit log never holds the clear value");
    assert_eq!(s.verify_audit(&[]).await.unwrap().first_break, None);
    // A checkpoint an auditor kept is checked, and a malformed one is refused, not ignored.
    let auditor = login(&s, "aud1", t0()).await;
    let Ok(Response::Checkpoint(kept)) = s.handle(&auditor, Request::AuditCheckpoint, t0()).await else {
        panic!()
    };
    let upper = domain::audit::AuditCheckpoint { seq: kept.seq, hash: kept.hash.to_uppercase() };
    let verify = |checkpoints| Request::VerifyAudit { checkpoints };
    let Ok(Response::AuditVerified(v)) = s.handle(&auditor, verify(vec![upper]), t0()).await else {
        panic!()
    };
    assert_eq!((v.first_break, v.checkpoints_checked), (None, 1));
    let bad = domain::audit::AuditCheckpoint { seq: 0, hash: kept.hash };
    let r = s.handle(&auditor, verify(vec![bad]), t0()).await;
    assert!(matches!(r, Err(ApiError::InvalidInput { .. })), "{r:?}");
}

async fn lookups_are_masked(db: Db) {
    let (_t, s) = demo(db).await;
    let mut agent = login(&s, "cs1", t0()).await;
    let phone = seed::demo_phone(1);
    let customer_id = first_customer(&s, &mut agent).await;
    let reply = s.handle(&agent, Request::CustomerTree { customer_id }, t0()).await.unwrap();
    let Response::CustomerTree(tree) = &reply else { panic!() };
    let viewed = s.store().audit_page(None, 1).await.unwrap().remove(0);
    assert_eq!((viewed.action.as_str(), viewed.target), ("customer.view", format!("customer:{customer_id}")));
    let json = serde_json::to_string(&reply).unwrap();
    assert!(!json.contains(&phone), "clear phone crossed IPC: {json}");
    let user = tree.users.iter().find(|u| u.phone_masked.is_some()).unwrap();
    assert_eq!(user.phone_masked.as_deref(), Some(domain::mask::phone(&phone).as_str()));
    assert!(tree.id_number_masked.as_deref().is_none_or(|m| m.contains("****")));
    let reveal = Request::RevealPii {
        target: PiiTarget::Phone { user_id: user.id },
        reason: "核实来电号码".into(),
    };
    let Response::Revealed { value, .. } = s.handle(&agent, reveal, t0()).await.unwrap() else { panic!() };
    assert_eq!(value, phone);
}

async fn demo_data_is_deterministic_across_databases(db: Db) {
    let (_t, s) = demo(db).await;
    let mut agent = login(&s, "cs1", t0()).await;
    let customer_id = first_customer(&s, &mut agent).await;
    let Response::CustomerTree(tree) =
        s.handle(&agent, Request::CustomerTree { customer_id }, t0()).await.unwrap()
    else {
        panic!()
    };
    // The first demo customer is the same person on every machine and database.
    let (_t2, other) = demo(Db::Sqlite).await;
    let mut agent2 = login(&other, "cs1", t0()).await;
    assert_eq!(first_customer(&other, &mut agent2).await, customer_id);
    assert_eq!(tree.id, customer_id);
}

on_both_databases!(
    wrong_passwords_lock_the_operator,
    idle_sessions_expire,
    the_backend_enforces_the_permission_table,
    reveal_needs_a_reason_and_is_audited,
    lookups_are_masked,
    demo_data_is_deterministic_across_databases,
);
