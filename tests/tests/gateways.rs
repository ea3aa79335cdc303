//! The carrier and bank HTTP clients against the simulator over local HTTP:
//! answers and error codes of the protocol, timeouts, retries with backoff,
//! the rate limit. The simulator answers from a real database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use domain::recycle::{BankAnswer, FieldMatch, TwiceTelAnswer};
use e2e::{Db, TestDb, vault};
use service::gateway::{
    BankGateway, CarrierGateway, FourElementRequest, GatewayError, HttpBankGateway, HttpCarrierGateway,
    HttpConfig,
};
use service::seed;
use service::simulator::Simulator;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use store::CarrierRecordRow;

struct Fixture {
    _db: TestDb,
    sim: Arc<Simulator>,
    endpoint: String,
    records: Vec<CarrierRecordRow>,
    store: Arc<dyn store::Store>,
}

async fn fixture() -> Fixture {
    let t = TestDb::new(Db::Sqlite).await;
    let store = store::open(&t.url).await.unwrap();
    let services = service::Services::new(store.clone(), vault(), domain::auth::LoginPolicy::default());
    let (_, _, records) =
        seed::generate_into(&services, seed::DEMO_SEED, 300, seed::demo_anchor()).await.unwrap();
    let sim = Simulator::new(store.clone(), vault());
    let addr = sim.clone().serve(0).await.unwrap();
    Fixture { _db: t, sim, endpoint: format!("http://{addr}"), records, store }
}

fn config(endpoint: &str) -> HttpConfig {
    HttpConfig {
        endpoint: endpoint.into(),
        timeout_ms: 500,
        retries: 2,
        backoff_ms: 10,
        max_per_second: 0,
        api_key: None,
    }
}

fn record<'a>(f: &'a Fixture, status: &str) -> &'a CarrierRecordRow {
    f.records.iter().find(|r| r.status == status).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twice_tel_answers_and_error_codes() {
    let f = fixture().await;
    let carrier = HttpCarrierGateway::new(config(&f.endpoint)).unwrap();
    let long_ago = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
    let reissued = record(&f, "reissued");
    assert_eq!(
        carrier.twice_tel(&reissued.phone, reissued.entry_at - Duration::days(1)).await.unwrap(),
        TwiceTelAnswer::Reassigned
    );
    assert_eq!(
        carrier.twice_tel(&reissued.phone, reissued.entry_at + Duration::days(1)).await.unwrap(),
        TwiceTelAnswer::NotReassigned
    );
    let cancelled = record(&f, "cancelled");
    assert_eq!(
        carrier.twice_tel(&cancelled.phone, cancelled.updated_at - Duration::days(1)).await.unwrap(),
        TwiceTelAnswer::Cancelled
    );
    let ported = record(&f, "ported");
    assert_eq!(carrier.twice_tel(&ported.phone, long_ago).await.unwrap(), TwiceTelAnswer::PortedNotSupported);
    assert_eq!(carrier.twice_tel("13000000000", long_ago).await.unwrap(), TwiceTelAnswer::Unsupported);
    assert_eq!(carrier.twice_tel("17012345678", long_ago).await.unwrap(), TwiceTelAnswer::Unknown);
    let tenure = carrier.tenure(&reissued.phone).await.unwrap();
    assert_eq!((tenure.entry_at, tenure.status.as_str()), (reissued.entry_at, "reissued"));
    match carrier.tenure("13000000000").await {
        Err(GatewayError::Rejected { code, .. }) => assert_eq!(code, "UnsupportedNumber"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_and_four_element_checks() {
    let f = fixture().await;
    let carrier = HttpCarrierGateway::new(config(&f.endpoint)).unwrap();
    let bank = HttpBankGateway::new(config(&f.endpoint)).unwrap();
    let phone = &record(&f, "reissued").phone;
    let holder = seed::new_holder(phone);
    let a = carrier.three_elements(&holder.name, &holder.id_number, phone).await.unwrap();
    assert!(a.passed());
    let a = carrier.three_elements("王错名", &holder.id_number, phone).await.unwrap();
    assert_eq!((a.name, a.id_number, a.phone), (FieldMatch::Mismatch, FieldMatch::Match, FieldMatch::Match));
    let a = carrier
        .three_elements(&holder.name, &holder.id_number, &record(&f, "cancelled").phone)
        .await
        .unwrap();
    assert_eq!(a.phone, FieldMatch::NoRecord, "a cancelled number has no subscriber");
    // The current subscriber of an active number is our own customer.
    let active = (1..50).map(seed::demo_phone).find(|p| !f.records.iter().any(|r| &r.phone == p)).unwrap();
    let user = f.store.user_by_phone(&active).await.unwrap().unwrap();
    let customer = f.store.customer(user.customer_id).await.unwrap().unwrap();
    if let Some(sealed) = &customer.id_number_enc {
        let id = vault().open(sealed).unwrap();
        assert!(carrier.three_elements(&customer.name, &id, &active).await.unwrap().passed());
    }

    let req = |card: &str, name: &str| FourElementRequest {
        name: name.into(),
        id_number: holder.id_number.clone(),
        card_number: card.into(),
        phone: phone.clone(),
    };
    let ok = bank.four_elements(&req(&holder.card_number, &holder.name)).await.unwrap();
    assert_eq!(ok.result, BankAnswer::Match);
    assert!(ok.bank_name.is_some(), "BIN → bank name");
    assert_eq!(
        bank.four_elements(&req(&holder.card_number, "王错名")).await.unwrap().result,
        BankAnswer::Mismatch
    );
    let mut bad_luhn = holder.card_number.clone();
    let last = bad_luhn.pop().unwrap();
    bad_luhn.push(if last == '0' { '1' } else { '0' });
    assert_eq!(
        bank.four_elements(&req(&bad_luhn, &holder.name)).await.unwrap().result,
        BankAnswer::InvalidCard
    );
    assert_eq!(
        bank.four_elements(&req("12345", &holder.name)).await.unwrap().result,
        BankAnswer::InvalidCard
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_retries_and_http_errors() {
    let f = fixture().await;
    let phone = record(&f, "reissued").phone.clone();
    let since = Utc::now();
    // Slower than the timeout on every attempt: a timeout error after 1 + retries attempts.
    f.sim.faults.delay_ms.store(300, Ordering::SeqCst);
    let served_before = f.sim.faults.served.load(Ordering::SeqCst);
    let slow = HttpCarrierGateway::new(HttpConfig { timeout_ms: 100, ..config(&f.endpoint) }).unwrap();
    match slow.twice_tel(&phone, since).await {
        Err(GatewayError::Timeout { timeout_ms, attempts }) => assert_eq!((timeout_ms, attempts), (100, 3)),
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(f.sim.faults.served.load(Ordering::SeqCst) - served_before, 3, "one try and two retries");
    f.sim.faults.delay_ms.store(0, Ordering::SeqCst);

    // Two 503s, then an answer: retries hide transient failures.
    let carrier = HttpCarrierGateway::new(config(&f.endpoint)).unwrap();
    f.sim.faults.fail_next.store(2, Ordering::SeqCst);
    assert_eq!(carrier.twice_tel(&phone, since).await.unwrap(), TwiceTelAnswer::NotReassigned);
    // More failures than retries: the HTTP status is reported.
    f.sim.faults.fail_next.store(3, Ordering::SeqCst);
    match carrier.twice_tel(&phone, since).await {
        Err(GatewayError::Http { status, .. }) => assert_eq!(status, 503),
        other => panic!("{other:?}"),
    }
    // Unknown endpoint and nothing listening.
    let wrong =
        HttpBankGateway::new(HttpConfig { endpoint: format!("{}/nope", f.endpoint), ..config(&f.endpoint) })
            .unwrap();
    let req = FourElementRequest {
        name: "x".into(),
        id_number: "x".into(),
        card_number: "x".into(),
        phone: phone.clone(),
    };
    assert!(matches!(wrong.four_elements(&req).await, Err(GatewayError::Http { status: 404, .. })));
    let closed = HttpCarrierGateway::new(HttpConfig {
        endpoint: "http://127.0.0.1:9".into(),
        retries: 0,
        ..config(&f.endpoint)
    })
    .unwrap();
    assert!(matches!(closed.twice_tel(&phone, since).await, Err(GatewayError::Connect { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_spaces_requests() {
    let f = fixture().await;
    let phone = record(&f, "reissued").phone.clone();
    let limited = HttpCarrierGateway::new(HttpConfig { max_per_second: 20, ..config(&f.endpoint) }).unwrap();
    let started = std::time::Instant::now();
    for _ in 0..6 {
        limited.twice_tel(&phone, Utc::now()).await.unwrap();
    }
    // Six requests at 20/s need at least five 50 ms gaps: a lower bound, not a speed claim.
    assert!(started.elapsed() >= std::time::Duration::from_millis(250), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_gateway_refuses_requests_without_the_key() {
    let f = fixture().await;
    let keyed = Simulator::with_api_key(f.store.clone(), vault(), "k-2026-secret");
    let endpoint = format!("http://{}", keyed.clone().serve(0).await.unwrap());
    let reissued = record(&f, "reissued");
    let since = reissued.entry_at - Duration::days(1);
    let anonymous = HttpCarrierGateway::new(config(&endpoint)).unwrap();
    let r = anonymous.twice_tel(&reissued.phone, since).await;
    assert!(matches!(r, Err(GatewayError::Http { status: 401, .. })), "{r:?}");
    let wrong = HttpCarrierGateway::new(config(&endpoint).with_api_key("guess")).unwrap();
    assert!(matches!(
        wrong.twice_tel(&reissued.phone, since).await,
        Err(GatewayError::Http { status: 401, .. })
    ));
    let right = HttpCarrierGateway::new(config(&endpoint).with_api_key("k-2026-secret")).unwrap();
    assert_eq!(right.twice_tel(&reissued.phone, since).await.unwrap(), TwiceTelAnswer::Reassigned);
    assert!(!format!("{:?}", config(&endpoint).with_api_key("k-2026-secret")).contains("k-2026-secret"));
}
