//! A recycled-number world for service tests: a database with demo users and
//! operators, the simulator over HTTP as carrier and bank, and helpers to log in,
//! call, import and find cases.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use crate::{Db, TestDb, vault};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::cases::{ImportReport, ImportState, QueueFilter};
use domain::{ApiError, RecycledRequest, Request, Response};
use service::gateway::{HttpBankGateway, HttpCarrierGateway, HttpConfig};
use service::seed::{self, DEMO_PASSWORD};
use service::simulator::Simulator;
use service::{Services, Session, Workflow};
use store::CarrierRecordRow;
use uuid::Uuid;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

pub struct World {
    /// The database (dropped with the world).
    pub _db: TestDb,
    _dir: tempfile::TempDir,
    /// The services.
    pub s: Services,
    /// The carrier's record of every demo number.
    pub records: Vec<CarrierRecordRow>,
    /// A folder for files the test writes (carrier files, evidence).
    pub dir: std::path::PathBuf,
}

/// Services on the database at `url` with the simulator as carrier and bank over
/// HTTP (no rate limit); evidence goes under `dir`.
pub async fn recycled_services(url: &str, dir: &std::path::Path) -> Services {
    let store = store::open(url).await.unwrap();
    let sim = Simulator::new(store.clone(), vault());
    let addr = sim.serve(0).await.unwrap();
    let mut fast = HttpConfig::new(format!("http://{addr}"));
    fast.max_per_second = 0;
    let workflow = Workflow::new(
        Some(HttpCarrierGateway::new(fast.clone()).unwrap()),
        Some(HttpBankGateway::new(fast).unwrap()),
        dir.join("evidence"),
    );
    Services::new(store, vault(), domain::auth::LoginPolicy::default()).with_workflow(workflow)
}

pub async fn world(db: Db, users: usize) -> World {
    let t = TestDb::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let s = recycled_services(&t.url, dir.path()).await;
    seed::ensure_demo_operators(&s, t0()).await.unwrap();
    let (_, _, records) = seed::generate_into(&s, seed::DEMO_SEED, users, seed::demo_anchor()).await.unwrap();
    let path = dir.path().to_owned();
    World { _db: t, _dir: dir, s, records, dir: path }
}

/// The case's version now (what a checker reviewing it sees).
pub async fn version(w: &World, case_id: Uuid) -> i32 {
    w.s.store().case_row(case_id).await.unwrap().unwrap().version
}

pub async fn login(s: &Services, user: &str) -> Session {
    let session = Session::default();
    let req = Request::Login { username: user.into(), password: DEMO_PASSWORD.into() };
    s.handle(&session, req, t0()).await.unwrap();
    session
}

pub async fn call(
    s: &Services,
    session: &mut Session,
    req: impl Into<Request>,
) -> Result<Response, ApiError> {
    s.handle(session, req, t0() + Duration::minutes(1)).await
}

/// Imports `bytes` as a file named `name` and waits for the job to end.
pub async fn import(w: &World, session: &mut Session, name: &str, bytes: &[u8]) -> ImportState {
    let path = w.dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let req = RecycledRequest::ImportCarrierFile { path: path.display().to_string() };
    let Response::ImportStarted { job_id } = call(&w.s, session, req).await.unwrap() else { panic!() };
    loop {
        let Response::Import(state) =
            call(&w.s, session, RecycledRequest::ImportStatus { job_id }).await.unwrap()
        else {
            panic!()
        };
        if matches!(state, ImportState::Done(_) | ImportState::Rejected { .. } | ImportState::Failed { .. }) {
            return state;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

pub async fn done(w: &World, session: &mut Session, name: &str, bytes: &[u8]) -> ImportReport {
    match import(w, session, name, bytes).await {
        ImportState::Done(r) => r,
        other => panic!("import did not finish: {other:?}"),
    }
}

pub async fn queue(w: &World, session: &mut Session, filter: QueueFilter) -> Vec<domain::cases::CaseRowView> {
    let Response::Queue(page) =
        call(&w.s, session, RecycledRequest::Queue { filter, after: None, limit: 200 }).await.unwrap()
    else {
        panic!()
    };
    page.rows
}

pub async fn count(w: &World, sql: &str) -> i64 {
    crate::scalar(&w._db.url, sql).await
}

pub fn reissued(w: &World) -> &CarrierRecordRow {
    w.records.iter().find(|r| r.status == "reissued").expect("the demo world has reissued numbers")
}

pub async fn case_of(w: &World, session: &mut Session, phone: &str) -> domain::cases::CaseRowView {
    let filter = QueueFilter { phone: Some(phone.into()), ..QueueFilter::default() };
    queue(w, session, filter).await.into_iter().next().unwrap_or_else(|| panic!("no active case for {phone}"))
}
