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
        ca_file: None,
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

/// The test CA and server certificate `./dev test` makes (`OPS_TEST_TLS_DIR`).
fn tls_dir() -> std::path::PathBuf {
    std::env::var_os("OPS_TEST_TLS_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| {
        panic!("OPS_TEST_TLS_DIR is not set: run the tests through `./dev test`, which makes a test CA")
    })
}

/// A TLS front for the simulator on 127.0.0.1 with the test server certificate
/// (for 127.0.0.1), passing the decrypted bytes to the plain simulator.
async fn tls_front(backend: std::net::SocketAddr) -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = tls_dir();
    let certs: Vec<_> =
        CertificateDer::pem_file_iter(dir.join("server.crt")).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A failed handshake (the client refused our certificate) just ends here.
                if let Ok(mut tls) = acceptor.accept(tcp).await
                    && let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_gateways_are_verified_against_the_configured_ca() {
    let f = fixture().await;
    let backend: std::net::SocketAddr = f.endpoint.trim_start_matches("http://").parse().unwrap();
    let front = tls_front(backend).await;
    let reissued = record(&f, "reissued");
    let since = reissued.entry_at - Duration::days(1);
    let dir = tls_dir();
    let with_ca = |endpoint: String, ca: &str| HttpConfig {
        ca_file: Some(dir.join(ca)),
        retries: 0,
        ..config(&endpoint)
    };

    // The whole protocol over HTTPS, the server proven by the private CA.
    let verified = HttpCarrierGateway::new(with_ca(format!("https://{front}"), "ca.pem")).unwrap();
    assert_eq!(verified.twice_tel(&reissued.phone, since).await.unwrap(), TwiceTelAnswer::Reassigned);

    // Someone in between with a certificate from another CA, the right certificate
    // under another name, or no private CA (the public roots do not know the test
    // CA): the handshake fails, nothing is sent.
    for (endpoint, ca) in [
        (format!("https://{front}"), Some("other-ca.pem")),
        (format!("https://localhost:{}", front.port()), Some("ca.pem")),
        (format!("https://{front}"), None),
    ] {
        let cfg = match ca {
            Some(ca) => with_ca(endpoint.clone(), ca),
            None => HttpConfig { retries: 0, ..config(&endpoint) },
        };
        match HttpCarrierGateway::new(cfg).unwrap().twice_tel(&reissued.phone, since).await {
            Err(GatewayError::Connect { reason, .. }) => {
                assert!(reason.to_lowercase().contains("certificate"), "{endpoint} {ca:?}: {reason}")
            }
            other => panic!("{endpoint} {ca:?}: expected a certificate failure, got {other:?}"),
        }
    }
}

#[test]
fn plain_http_only_to_this_machine_and_the_ca_file_must_hold_certificates() {
    for refused in ["http://10.0.0.7:8080", "http://carrier.example.com", "ftp://127.0.0.1/", "not a url"] {
        let r = HttpCarrierGateway::new(config(refused));
        assert!(matches!(r, Err(GatewayError::NeedsTls { .. })), "{refused}: {:?}", r.err());
        assert!(matches!(HttpBankGateway::new(config(refused)), Err(GatewayError::NeedsTls { .. })));
    }
    for allowed in
        ["http://127.0.0.1:7301", "http://localhost:7301", "http://[::1]:7301", "https://carrier.example.com"]
    {
        assert!(HttpCarrierGateway::new(config(allowed)).is_ok(), "{allowed}");
    }
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("ca.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    for ca in [garbage, dir.path().join("missing.pem")] {
        let cfg = HttpConfig { ca_file: Some(ca.clone()), ..config("https://carrier.example.com") };
        assert!(matches!(HttpCarrierGateway::new(cfg), Err(GatewayError::BadCaFile { .. })), "{ca:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed_with_the_key_and_the_data() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Where a redirect would send the request: it must see no connection at all.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere_addr = elsewhere.local_addr().unwrap();
    let reached = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = reached.clone();
    tokio::spawn(async move {
        while elsewhere.accept().await.is_ok() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    // A gateway that answers every request with 307 to there.
    let gateway = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_addr = gateway.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = gateway.accept().await {
            let mut buf = [0u8; 4096];
            let _ = tcp.read(&mut buf).await;
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{elsewhere_addr}/steal\r\nContent-Length: 0\r\n\r\n"
            );
            let _ = tcp.write_all(answer.as_bytes()).await;
        }
    });
    let cfg = HttpConfig { retries: 0, ..config(&format!("http://{gateway_addr}")).with_api_key("k-secret") };
    let r = HttpCarrierGateway::new(cfg).unwrap().twice_tel("13800000000", Utc::now()).await;
    assert!(matches!(r, Err(GatewayError::Http { status: 307, .. })), "{r:?}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(reached.load(Ordering::SeqCst), 0);
}

#[test]
fn endpoint_credentials_stay_out_of_errors_and_debug() {
    let endpoint = "http://ops:pa55word@10.0.0.7:8080/api?token=t0ken";
    let Err(GatewayError::NeedsTls { endpoint: shown }) = HttpCarrierGateway::new(config(endpoint)) else {
        panic!("expected NeedsTls");
    };
    assert_eq!(shown, "http://10.0.0.7:8080/api");
    let debug = format!("{:?}", config(endpoint));
    assert!(!debug.contains("pa55word") && !debug.contains("t0ken") && !debug.contains("ops:"), "{debug}");
}
