//! Return to the payer (退回付款人) through the bank gateway, on both databases:
//! the resolution only writes the instruction; the dispatcher sends it through the
//! real HTTP client to the simulator on a local port after the commit and records
//! the bank's answer; a resend or a retry never pays twice (requests counted at the
//! server); a refused return brings the money back to an open suspense item with
//! balanced postings and the proof holding; a gateway that is down leaves the
//! instruction pending until a later retry sends it, and one that never goes
//! through is given up as `stuck`. An instruction edited in the outbox, a second
//! one for the same item, and an unclear refusal (already returned, an unknown
//! code) are never sent or never posted back: they wait for a person.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::ledger::business_date;
use domain::suspense::{
    ActionKind, ReconReport, SuspenseAction, SuspenseEvent, SuspenseFilter, SuspenseItemView, SuspenseKind,
    SuspenseOutcome, SuspenseRow, SuspenseStatus,
};
use domain::{ApiError, Conflict, ReconRequest, Request, Response};
use e2e::{Db, TestDb, on_both_databases, scalar, vault};
use rust_decimal::Decimal;
use service::gateway::{
    BankGateway, HttpBankGateway, HttpConfig, ReturnAnswer, ReturnRejection, ReturnRequest,
};
use service::recon::demo::{self, DemoLine};
use service::recon::returns::{ReturnDelivery, ReturnDispatcher, ReturnsPass};
use service::seed::{self, DEMO_PASSWORD};
use service::simulator::Simulator;
use service::{Services, Session, Workflow};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use store::{ReturnInstructionRow, ReturnLease, ReturnOutcomeWrite, ReturnStatus, ReturnWrite};
use uuid::Uuid;

const KEY: &str = "test-bank-key";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

fn day() -> NaiveDate {
    business_date(now()) - Duration::days(1)
}

/// Three payments nobody expected, each with the payer's account as the bank
/// statement shows it: (bank reference, fen, payer, payer account). The second
/// payer's account ends `0004`: the simulated bank says it is closed.
const PAYERS: [(&str, i64, &str, &str); 3] = [
    ("RTN-T-0001", 50_000, "李四", "6222020200112233"),
    ("RTN-T-0002", 70_000, "王五", "6222020200110004"),
    ("RTN-T-0003", 30_000, "赵六", "6222020200115678"),
];

struct Bench {
    _db: TestDb,
    db: Db,
    _dir: tempfile::TempDir,
    s: Services,
    url: String,
    sim: Arc<Simulator>,
    endpoint: String,
    number: String,
    physical: Uuid,
    fin1: Session,
}

impl Bench {
    fn store(&self) -> &Arc<dyn store::Store> {
        self.s.store()
    }

    /// The bank client as the desktop builds it, against `endpoint`.
    fn bank_at(&self, endpoint: &str) -> Arc<dyn BankGateway> {
        let config = HttpConfig {
            timeout_ms: 2_000,
            retries: 1,
            backoff_ms: 10,
            max_per_second: 0,
            ..HttpConfig::new(endpoint)
        };
        HttpBankGateway::new(config.with_api_key(KEY)).unwrap()
    }

    fn dispatcher(&self) -> ReturnDispatcher {
        ReturnDispatcher::new(self.store().clone(), self.bank_at(&self.endpoint))
    }
}

/// Demo operators, users and ledger; the simulated bank on a local port keeping
/// the first physical account; a statement of [`PAYERS`] imported (by `svc1`) and
/// reconciled, so each payment is an open overage.
async fn bench(db: Db) -> Bench {
    bench_imported_by(db, "svc1").await
}

/// [`bench`] with the statement imported by `importer`.
async fn bench_imported_by(db: Db, importer: &str) -> Bench {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let workflow = Workflow::new(None, None, dir.path().join("evidence"));
    let s =
        Services::new(store.clone(), vault(), domain::auth::LoginPolicy::default()).with_workflow(workflow);
    seed::ensure_demo_operators(&s, now()).await.unwrap();
    seed::generate_into(&s, seed::DEMO_SEED, 100, seed::demo_anchor()).await.unwrap();
    s.vam().seed_demo(seed::demo_anchor()).await.unwrap();
    let p = store.physical_accounts().await.unwrap().into_iter().next().unwrap();
    let opening = store.physical_totals(p.id).await.unwrap().asset_minor;
    let sim = Simulator::with_api_key(store.clone(), vault(), KEY);
    sim.open_bank_account(&p.number, opening + PAYERS.iter().map(|x| x.1).sum::<i64>());
    let addr = sim.clone().serve(0).await.unwrap();
    // The statement, with each payer's account (DbtrAcct) added to its entry.
    let lines: Vec<DemoLine> = PAYERS
        .iter()
        .map(|(r, amount, name, _)| DemoLine {
            bank_ref: (*r).into(),
            amount_minor: *amount,
            day: day(),
            name: (*name).into(),
            addressed: None,
            remittance: "转账".into(),
            return_reason: None,
        })
        .collect();
    let mut xml =
        String::from_utf8(demo::camt053("STMT-RTN", 1, &p.number, day(), opening, &lines, 0)).unwrap();
    for (_, _, name, account) in PAYERS {
        let party = format!("<Dbtr><Nm>{name}</Nm></Dbtr>");
        let with_account = format!("{party}<DbtrAcct><Id><Othr><Id>{account}</Id></Othr></Id></DbtrAcct>");
        xml = xml.replace(&party, &with_account);
    }
    let path = dir.path().join("returns.xml");
    std::fs::write(&path, xml).unwrap();
    let svc1 = login(&s, importer).await;
    let import = ReconRequest::ImportStatement {
        path: path.display().to_string(),
        account: None,
        preset: None,
        dry_run: false,
        acknowledge_difference: false,
    };
    call(&s, &svc1, import).await.unwrap();
    let fin1 = login(&s, "fin1").await;
    call(&s, &fin1, ReconRequest::Reconcile { day: day(), physical_id: None, dry_run: false }).await.unwrap();
    let url = t.url.clone();
    Bench {
        _db: t,
        db,
        _dir: dir,
        s,
        url,
        sim,
        endpoint: format!("http://{addr}"),
        number: p.number,
        physical: p.id,
        fin1,
    }
}

async fn login(s: &Services, user: &str) -> Session {
    let session = Session::default();
    let req = Request::Login { username: user.into(), password: DEMO_PASSWORD.into() };
    s.handle(&session, req, now()).await.unwrap();
    session
}

async fn call(s: &Services, session: &Session, req: ReconRequest) -> Result<Response, ApiError> {
    s.handle(session, Request::Recon(req), now()).await
}

async fn queue(b: &Bench, kind: SuspenseKind) -> Vec<SuspenseRow> {
    let filter = SuspenseFilter { kind: Some(kind), ..SuspenseFilter::default() };
    match call(&b.s, &b.fin1, ReconRequest::Queue { filter, after: None, limit: 200 }).await.unwrap() {
        Response::SuspenseQueue(p) => p.rows,
        other => panic!("{other:?}"),
    }
}

async fn item(b: &Bench, id: Uuid) -> SuspenseItemView {
    match call(&b.s, &b.fin1, ReconRequest::Item { id }).await.unwrap() {
        Response::SuspenseItem(v) => *v,
        other => panic!("{other:?}"),
    }
}

async fn report(b: &Bench) -> ReconReport {
    match call(&b.s, &b.fin1, ReconRequest::Report { day: day() }).await.unwrap() {
        Response::ReconReport(r) => r,
        other => panic!("{other:?}"),
    }
}

/// The overage of the payer with this bank reference.
async fn overage(b: &Bench, payer: usize) -> SuspenseRow {
    let amount = Decimal::new(PAYERS[payer].1, 2);
    queue(b, SuspenseKind::Overage).await.into_iter().find(|r| r.amount == amount).unwrap()
}

/// `fin1` claims the item and resolves it by `action`.
async fn resolve(b: &Bench, id: Uuid, action: SuspenseAction) -> SuspenseOutcome {
    call(&b.s, &b.fin1, ReconRequest::Claim { id }).await.unwrap();
    let req = ReconRequest::Resolve { id, action, request_id: Uuid::now_v7() };
    match call(&b.s, &b.fin1, req).await.unwrap() {
        Response::SuspenseOutcome(o) => o,
        other => panic!("{other:?}"),
    }
}

fn return_to_payer() -> SuspenseAction {
    SuspenseAction::ReturnToPayer { reason: "付款人汇错账户，原路退回".into() }
}

/// The item's one return instruction.
async fn instruction(b: &Bench, item: Uuid) -> ReturnInstructionRow {
    let mut rows = b.store().returns_of_item(item).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.remove(0)
}

/// Σ of every transfer's lines is zero.
async fn ledger_balances(url: &str) {
    let unbalanced = "SELECT COUNT(*) FROM (SELECT transfer_id FROM transfer_lines GROUP BY transfer_id \
                      HAVING SUM(amount_minor) <> 0) x";
    assert_eq!(scalar(url, unbalanced).await, 0);
}

async fn audits(url: &str, action: &str) -> i64 {
    scalar(url, &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")).await
}

async fn a_return_is_sent_after_the_resolution_commits(db: Db) {
    let b = bench(db).await;
    let asset_before = b.store().physical_totals(b.physical).await.unwrap().asset_minor;
    let bank_before = b.sim.bank_balance_of(&b.number).unwrap();
    // The dispatcher runs as a desktop runs it: a pass at start, then one each
    // time a resolution commits a return (the retry interval is far away here).
    let relay = Arc::new(b.dispatcher()).spawn(std::time::Duration::from_secs(3_600), now);
    let o = overage(&b, 0).await;
    let outcome = resolve(&b, o.id, return_to_payer()).await;
    assert!(matches!(outcome, SuspenseOutcome::Resolved { transfer_id: Some(_) }), "{outcome:?}");
    // Sent after the commit, through the HTTP client, and recorded.
    let mut sent = None;
    for _ in 0..300 {
        let row = instruction(&b, o.id).await;
        if row.status != ReturnStatus::Pending {
            sent = Some(row);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    relay.abort();
    let row = sent.expect("the dispatcher sent the return");
    assert_eq!(row.status, ReturnStatus::Sent, "{row:?}");
    assert_eq!(row.bank_ref.as_deref(), Some("RT00000001"));
    assert_eq!((row.attempts, row.sent_at.is_some()), (1, true));
    assert_eq!((b.sim.return_requests(), b.sim.returns_booked()), (1, 1));
    // What the bank got: the line's reference, payer and account, our id as key.
    let payload: serde_json::Value = serde_json::from_str(&row.payload).unwrap();
    assert_eq!(payload["bank_ref"], PAYERS[0].0);
    assert_eq!(payload["payee_account"], PAYERS[0].3);
    assert_eq!(payload["payee_name"], PAYERS[0].2);
    assert_eq!(payload["account_number"], b.number.as_str());
    assert_eq!(payload["reason_code"], "CUST");
    // The money left the bank once and the books once.
    assert_eq!(b.sim.bank_balance_of(&b.number).unwrap(), bank_before - PAYERS[0].1);
    let asset_after = b.store().physical_totals(b.physical).await.unwrap().asset_minor;
    assert_eq!(asset_after, asset_before - PAYERS[0].1);
    assert_eq!(audits(&b.url, "recon.return_sent").await, 1);
    // Another pass (a retry, a restart) sends nothing: accepted is final.
    let again = b.dispatcher().send_due(now() + Duration::hours(2)).await.unwrap();
    assert_eq!(again, ReturnsPass::default());
    assert_eq!(b.sim.return_requests(), 1);
    assert_eq!(item(&b, o.id).await.row.status, SuspenseStatus::Resolved);
    ledger_balances(&b.url).await;
    assert!(report(&b).await.proof_holds());
}

async fn a_send_whose_answer_was_lost_is_sent_again_and_deduped(db: Db) {
    let b = bench(db).await;
    let o = overage(&b, 2).await;
    resolve(&b, o.id, return_to_payer()).await;
    // Nothing is sent inside the resolution.
    assert_eq!(b.sim.return_requests(), 0);
    let row = instruction(&b, o.id).await;
    assert_eq!((row.status, row.attempts), (ReturnStatus::Pending, 0));
    // A dispatcher takes it and the bank books it, then the desktop dies before
    // the answer is recorded.
    let store = b.store();
    let lease = store.lease_return(row.id, o.id, now(), now() + Duration::minutes(2)).await.unwrap();
    assert_eq!(lease, ReturnLease::Taken);
    let p: serde_json::Value = serde_json::from_str(&row.payload).unwrap();
    let text = |k: &str| p[k].as_str().map(str::to_owned);
    let req = ReturnRequest {
        account_number: text("account_number").unwrap(),
        original_bank_ref: text("bank_ref").unwrap(),
        amount_minor: p["amount_minor"].as_i64().unwrap(),
        payer_name: text("payee_name"),
        payer_account: text("payee_account"),
        instruction_id: row.id,
        reason_code: text("reason_code").unwrap(),
    };
    let first = b.bank_at(&b.endpoint).return_payment(&req).await.unwrap();
    assert!(matches!(&first, ReturnAnswer::Accepted { .. }), "{first:?}");
    // While the lease lasts no other dispatcher sends it.
    assert_eq!(b.dispatcher().send_due(now() + Duration::seconds(30)).await.unwrap(), ReturnsPass::default());
    assert_eq!(b.sim.return_requests(), 1);
    // After it, the next pass sends it again with the same id: the bank answers
    // its first answer and pays nothing more.
    let pass = b.dispatcher().send_due(now() + Duration::minutes(3)).await.unwrap();
    assert_eq!(pass, ReturnsPass { sent: 1, ..ReturnsPass::default() });
    assert_eq!((b.sim.return_requests(), b.sim.returns_booked()), (2, 1));
    let row = instruction(&b, o.id).await;
    let ReturnAnswer::Accepted { bank_ref } = first else { unreachable!() };
    assert_eq!((row.status, row.bank_ref), (ReturnStatus::Sent, Some(bank_ref)));
    // A second resolution of the same credit cannot happen (resolved once), and
    // a pass after it sends nothing.
    assert_eq!(b.dispatcher().send_due(now() + Duration::hours(1)).await.unwrap(), ReturnsPass::default());
    assert_eq!(b.sim.return_requests(), 2);
    assert_eq!(audits(&b.url, "recon.return_sent").await, 1);
}

async fn a_refused_return_comes_back_to_suspense(db: Db) {
    let b = bench(db).await;
    let o = overage(&b, 1).await;
    let asset_before = b.store().physical_totals(b.physical).await.unwrap().asset_minor;
    let bank_before = b.sim.bank_balance_of(&b.number).unwrap();
    resolve(&b, o.id, return_to_payer()).await;
    let row = instruction(&b, o.id).await;
    // The payer's account is closed: the bank refuses.
    let delivered = b.dispatcher().deliver(&row, now()).await.unwrap();
    let ReturnDelivery::Rejected { reason, returned_item } = delivered else { panic!("{delivered:?}") };
    assert_eq!(reason, "account_closed");
    let row = instruction(&b, o.id).await;
    assert_eq!(row.status, ReturnStatus::Rejected);
    assert_eq!(
        (row.reject_reason.as_deref(), row.returned_item_id),
        (Some("account_closed"), Some(returned_item))
    );
    // The money never left the bank, and it is back on the books, in suspense:
    // a new open item of kind Returned, on the payer's line, parked by a balanced
    // transfer of its own; the return's posting stays as it was.
    assert_eq!(b.sim.bank_balance_of(&b.number).unwrap(), bank_before);
    assert_eq!(b.store().physical_totals(b.physical).await.unwrap().asset_minor, asset_before);
    let back = item(&b, returned_item).await;
    assert_eq!(
        (back.row.kind, back.row.status, back.row.amount),
        (SuspenseKind::Returned, SuspenseStatus::Open, Decimal::new(PAYERS[1].1, 2))
    );
    assert_eq!(back.lines.len(), 1);
    assert_eq!(back.lines[0].bank_ref, PAYERS[1].0);
    let rejected = SuspenseEvent::Rejected { action: ActionKind::ReturnToPayer };
    let events: Vec<_> = back.history.iter().map(|e| e.event.clone()).collect();
    assert_eq!(events, vec![SuspenseEvent::Found, rejected.clone()]);
    let parking = &back.postings[0].lines;
    let amount = Decimal::new(PAYERS[1].1, 2);
    assert!(parking.contains(&("asset".to_owned(), amount)), "{parking:?}");
    assert!(parking.contains(&("sus_returned".to_owned(), -amount)), "{parking:?}");
    let original = item(&b, o.id).await;
    assert_eq!(original.row.status, SuspenseStatus::Resolved);
    assert_eq!(original.history.last().map(|e| &e.event), Some(&rejected));
    ledger_balances(&b.url).await;
    let r = report(&b).await;
    assert!(r.proof_holds(), "{:?}", r.proof);
    assert!(
        r.proof.iter().any(|(k, items, _)| *k == SuspenseKind::Returned && *items == amount),
        "{:?}",
        r.proof
    );
    assert_eq!(audits(&b.url, "recon.return_rejected").await, 1);
    // Refused is final too: nothing is sent again.
    assert_eq!(b.dispatcher().send_due(now() + Duration::hours(1)).await.unwrap(), ReturnsPass::default());
    assert_eq!(b.sim.return_requests(), 1);
    // The money is worked on like any other item (here: offset in this period).
    let offset = SuspenseAction::OffsetSettlement { reason: "退款失败，并入今日待结算".into() };
    assert!(matches!(resolve(&b, returned_item, offset).await, SuspenseOutcome::Resolved { .. }));
    ledger_balances(&b.url).await;
    assert!(report(&b).await.proof_holds());
    // A reason this build does not know may mean the money left after all: it
    // is not posted back (that could create money) but held for a person.
    b.sim.reject_returns(Some(ReturnRejection::Other("regulatory_hold".into())));
    let other = overage(&b, 2).await;
    resolve(&b, other.id, return_to_payer()).await;
    let transfers = scalar(&b.url, "SELECT COUNT(*) FROM transfers").await;
    let pass = b.dispatcher().send_due(now()).await.unwrap();
    assert_eq!(pass, ReturnsPass { held: 1, ..ReturnsPass::default() });
    let row = instruction(&b, other.id).await;
    assert_eq!(
        (row.status, row.last_error.as_deref()),
        (ReturnStatus::NeedsReview, Some("rejected:regulatory_hold"))
    );
    assert_eq!(scalar(&b.url, "SELECT COUNT(*) FROM transfers").await, transfers);
    // No new item: the earlier one was offset above, nothing came back.
    assert!(queue(&b, SuspenseKind::Returned).await.is_empty());
    assert_eq!(audits(&b.url, "recon.return_needs_review").await, 1);
    ledger_balances(&b.url).await;
    e2e::assert_chain_verifies(b.store().as_ref()).await;
}

/// The bank says another instruction returned the credit already: the money
/// may well have left, so nothing is posted back; a person decides.
async fn an_already_returned_answer_posts_nothing(db: Db) {
    let b = bench(db).await;
    b.sim.reject_returns(Some(ReturnRejection::AlreadyReturned));
    let o = overage(&b, 0).await;
    resolve(&b, o.id, return_to_payer()).await;
    let asset_before = b.store().physical_totals(b.physical).await.unwrap().asset_minor;
    let transfers = scalar(&b.url, "SELECT COUNT(*) FROM transfers").await;
    let row = instruction(&b, o.id).await;
    let delivered = b.dispatcher().deliver(&row, now()).await.unwrap();
    assert_eq!(
        delivered,
        ReturnDelivery::Held { status: ReturnStatus::NeedsReview, code: "rejected:already_returned".into() }
    );
    let row = instruction(&b, o.id).await;
    assert_eq!((row.status, row.returned_item_id), (ReturnStatus::NeedsReview, None));
    assert_eq!(scalar(&b.url, "SELECT COUNT(*) FROM transfers").await, transfers);
    assert_eq!(b.store().physical_totals(b.physical).await.unwrap().asset_minor, asset_before);
    assert!(queue(&b, SuspenseKind::Returned).await.is_empty());
    assert_eq!(audits(&b.url, "recon.return_needs_review").await, 1);
    assert_eq!(audits(&b.url, "recon.return_rejected").await, 0);
    // Final: never sent again.
    assert_eq!(b.dispatcher().send_due(now() + Duration::days(1)).await.unwrap(), ReturnsPass::default());
    assert_eq!(b.sim.return_requests(), 1);
    ledger_balances(&b.url).await;
    e2e::assert_chain_verifies(b.store().as_ref()).await;
}

/// The application role can write the outbox: an instruction redirected there
/// (another account, another amount) is not sent, and neither is a second
/// instruction for an item that was returned already (a new id is a new payout).
async fn an_edited_or_second_instruction_is_never_sent(db: Db) {
    let b = bench(db).await;
    let lit = |id: Uuid| match b.db {
        Db::Sqlite => format!("X'{}'", id.simple()),
        Db::Postgres => format!("'{id}'"),
    };
    let o = overage(&b, 0).await;
    resolve(&b, o.id, return_to_payer()).await;
    let row = instruction(&b, o.id).await;
    let asset_before = b.store().physical_totals(b.physical).await.unwrap().asset_minor;
    let transfers = scalar(&b.url, "SELECT COUNT(*) FROM transfers").await;
    let mut p: serde_json::Value = serde_json::from_str(&row.payload).unwrap();
    p["payee_account"] = "6222029999990001".into();
    p["payee_name"] = "马六".into();
    p["amount_minor"] = 5_000_000.into();
    let sql = format!("UPDATE outbox SET payload = '{}' WHERE id = {}", p, lit(row.id));
    assert_eq!(e2e::raw_execute(&b.url, &sql).await.unwrap(), 1);
    let pass = b.dispatcher().send_due(now()).await.unwrap();
    assert_eq!(pass, ReturnsPass { held: 1, ..ReturnsPass::default() });
    assert_eq!(b.sim.return_requests(), 0, "nothing reached the bank");
    let row = instruction(&b, o.id).await;
    assert_eq!(row.status, ReturnStatus::RefusedTampered);
    assert_eq!(row.last_error.as_deref(), Some("tampered:amount_minor"));
    assert_eq!(audits(&b.url, "recon.return_refused").await, 1);
    assert_eq!(scalar(&b.url, "SELECT COUNT(*) FROM transfers").await, transfers);
    assert_eq!(b.store().physical_totals(b.physical).await.unwrap().asset_minor, asset_before);
    // Only the account changed: refused as well (before any answer of the bank).
    let other = overage(&b, 1).await;
    resolve(&b, other.id, return_to_payer()).await;
    let row = instruction(&b, other.id).await;
    let mut p: serde_json::Value = serde_json::from_str(&row.payload).unwrap();
    p["payee_account"] = "6222029999990001".into();
    let sql = format!("UPDATE outbox SET payload = '{}' WHERE id = {}", p, lit(row.id));
    assert_eq!(e2e::raw_execute(&b.url, &sql).await.unwrap(), 1);
    assert_eq!(b.dispatcher().send_due(now()).await.unwrap().held, 1);
    let row = instruction(&b, other.id).await;
    assert_eq!(
        (row.status, row.last_error.as_deref()),
        (ReturnStatus::RefusedTampered, Some("tampered:payee_account"))
    );
    assert_eq!(b.sim.return_requests(), 0);
    // Held for good: later passes send nothing.
    assert_eq!(b.dispatcher().send_due(now() + Duration::days(1)).await.unwrap(), ReturnsPass::default());

    // A return sent as it should be, then a copy inserted under a new id.
    let sent = overage(&b, 2).await;
    resolve(&b, sent.id, return_to_payer()).await;
    let first = instruction(&b, sent.id).await;
    let dispatcher = b.dispatcher();
    assert_eq!(dispatcher.send_due(now()).await.unwrap().sent, 1);
    assert_eq!(b.sim.return_requests(), 1);
    let copy = Uuid::now_v7();
    let sql = format!(
        "INSERT INTO outbox (id, topic, payload, at) SELECT {}, topic, payload, at FROM outbox WHERE id = {}",
        lit(copy),
        lit(first.id)
    );
    assert_eq!(e2e::raw_execute(&b.url, &sql).await.unwrap(), 1);
    let pass = dispatcher.send_due(now() + Duration::minutes(1)).await.unwrap();
    assert_eq!(pass, ReturnsPass { held: 1, ..ReturnsPass::default() });
    assert_eq!(b.sim.return_requests(), 1, "the copy never reached the bank");
    let copy_row = b.store().return_instruction(copy).await.unwrap().unwrap();
    assert_eq!(copy_row.status, ReturnStatus::RefusedDuplicate);
    assert_eq!(b.store().return_instruction(first.id).await.unwrap().unwrap().status, ReturnStatus::Sent);
    assert_eq!(audits(&b.url, "recon.return_refused").await, 3);
    assert_eq!(dispatcher.send_due(now() + Duration::days(1)).await.unwrap(), ReturnsPass::default());
    assert_eq!((b.sim.return_requests(), b.sim.returns_booked()), (1, 1));
    ledger_balances(&b.url).await;
    e2e::assert_chain_verifies(b.store().as_ref()).await;
}

/// An instruction the bank never takes is given up after a bounded number of
/// attempts (`stuck`, audited) instead of retrying forever unseen; and a
/// dispatcher whose lease was taken over records nothing.
async fn a_return_that_never_goes_through_gets_stuck(db: Db) {
    let b = bench(db).await;
    let o = overage(&b, 0).await;
    resolve(&b, o.id, return_to_payer()).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let down = ReturnDispatcher::new(b.store().clone(), b.bank_at(&closed));
    let mut at = now();
    for attempt in 1..=8 {
        let pass = down.send_due(at).await.unwrap();
        let row = instruction(&b, o.id).await;
        assert_eq!(row.attempts, attempt);
        if attempt < 8 {
            assert_eq!(pass.failed, 1);
            assert_eq!(row.status, ReturnStatus::Pending);
            at = row.retry_at.unwrap();
        } else {
            assert_eq!(pass, ReturnsPass { held: 1, ..ReturnsPass::default() });
            assert_eq!((row.status, row.last_error.as_deref()), (ReturnStatus::Stuck, Some("stuck:connect")));
        }
    }
    assert_eq!(audits(&b.url, "recon.return_stuck").await, 1);
    assert_eq!(b.dispatcher().send_due(at + Duration::days(1)).await.unwrap(), ReturnsPass::default());
    assert_eq!(b.sim.return_requests(), 0);

    // Leases: a dispatcher whose lease ran out and was taken over cannot record.
    let other = overage(&b, 2).await;
    resolve(&b, other.id, return_to_payer()).await;
    let row = instruction(&b, other.id).await;
    let store = b.store();
    let old = now() + Duration::minutes(2);
    assert_eq!(store.lease_return(row.id, other.id, now(), old).await.unwrap(), ReturnLease::Taken);
    let later = now() + Duration::minutes(3);
    let new = later + Duration::minutes(2);
    assert_eq!(store.lease_return(row.id, other.id, later, new).await.unwrap(), ReturnLease::Taken);
    let write = |lease_until| ReturnWrite {
        id: row.id,
        item_id: other.id,
        lease_until,
        outcome: ReturnOutcomeWrite::Sent { bank_ref: "RT-LATE".into() },
        actor: "system".into(),
        at: later,
    };
    let a = |n: &str| store::NewAudit {
        id: Uuid::now_v7(),
        at: later,
        actor: "system".into(),
        action: "recon.return_sent".into(),
        target: format!("suspense:{}", other.id),
        detail: serde_json::json!({ "who": n }),
    };
    assert!(!store.record_return(write(old), a("stale")).await.unwrap(), "the stale lease records nothing");
    assert!(store.record_return(write(new), a("current")).await.unwrap());
    assert_eq!(instruction(&b, other.id).await.bank_ref.as_deref(), Some("RT-LATE"));
}

async fn a_gateway_that_is_down_leaves_it_pending_until_a_retry(db: Db) {
    let b = bench(db).await;
    let o = overage(&b, 0).await;
    resolve(&b, o.id, return_to_payer()).await;
    // Nobody listens: the connection fails, the instruction stays pending.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let down = ReturnDispatcher::new(b.store().clone(), b.bank_at(&closed));
    let pass = down.send_due(now()).await.unwrap();
    assert_eq!(pass, ReturnsPass { failed: 1, ..ReturnsPass::default() });
    let row = instruction(&b, o.id).await;
    assert_eq!(
        (row.status, row.attempts, row.last_error.as_deref()),
        (ReturnStatus::Pending, 1, Some("connect"))
    );
    let first_retry = row.retry_at.unwrap();
    assert!(first_retry > now());
    // Before its retry time it is left alone.
    assert_eq!(b.dispatcher().send_due(now()).await.unwrap(), ReturnsPass::default());
    // The bank answers 503 (both attempts of the client): still pending, waiting longer.
    b.sim.faults.fail_next.store(2, Ordering::SeqCst);
    let pass = b.dispatcher().send_due(first_retry).await.unwrap();
    assert_eq!(pass.failed, 1);
    let row = instruction(&b, o.id).await;
    assert_eq!(
        (row.status, row.attempts, row.last_error.as_deref()),
        (ReturnStatus::Pending, 2, Some("http_503"))
    );
    assert!(row.retry_at.unwrap() - first_retry > first_retry - now(), "the wait doubles");
    assert_eq!(b.sim.return_requests(), 0, "nothing reached the bank");
    assert_eq!(audits(&b.url, "recon.return_failed").await, 2);
    // Back up: the later retry sends it, once.
    let pass = b.dispatcher().send_due(row.retry_at.unwrap()).await.unwrap();
    assert_eq!(pass, ReturnsPass { sent: 1, ..ReturnsPass::default() });
    let row = instruction(&b, o.id).await;
    assert_eq!((row.status, row.attempts), (ReturnStatus::Sent, 3));
    assert_eq!((b.sim.return_requests(), b.sim.returns_booked()), (1, 1));
    assert_eq!(b.dispatcher().send_due(now() + Duration::days(1)).await.unwrap(), ReturnsPass::default());
    assert_eq!(b.sim.return_requests(), 1);
    ledger_balances(&b.url).await;
    assert!(report(&b).await.proof_holds());
    e2e::assert_chain_verifies(b.store().as_ref()).await;
}

/// Whoever imported a statement line does not also confirm a match that moves
/// its money (as for a resolution): a forged file and its pay-out need two people.
async fn the_importer_cannot_confirm_a_match_of_their_line(db: Db) {
    let b = bench_imported_by(db, "fin1").await;
    let lit = |id: Uuid| match b.db {
        Db::Sqlite => format!("X'{}'", id.simple()),
        Db::Postgres => format!("'{id}'"),
    };
    let o = overage(&b, 0).await;
    let line = b.store().suspense_item(o.id).await.unwrap().unwrap().line_id.unwrap();
    // A suggested match of that line, as a run leaves one for a person.
    let m = Uuid::now_v7();
    let sql = format!(
        "INSERT INTO recon_matches (id, physical_id, day, run_id, rule, status, difference_minor, score, made_by, made_at) \
         SELECT {}, physical_id, found_day, NULL, 'amount', 'suggested', 0, 50, 'system', found_at \
         FROM suspense_items WHERE id = {}",
        lit(m),
        lit(o.id)
    );
    assert_eq!(e2e::raw_execute(&b.url, &sql).await.unwrap(), 1);
    let sql = format!(
        "INSERT INTO recon_match_parts (match_id, line_id, item_id, amount_minor) VALUES ({}, {}, NULL, {})",
        lit(m),
        lit(line),
        PAYERS[0].1
    );
    assert_eq!(e2e::raw_execute(&b.url, &sql).await.unwrap(), 1);
    let transfers = scalar(&b.url, "SELECT COUNT(*) FROM transfers").await;
    let r = call(&b.s, &b.fin1, ReconRequest::ConfirmMatch { match_id: m }).await;
    assert!(matches!(&r, Err(ApiError::Conflict { conflict: Conflict::MakerIsChecker })), "{r:?}");
    assert_eq!(scalar(&b.url, "SELECT COUNT(*) FROM transfers").await, transfers);
    assert_eq!(audits(&b.url, "recon.confirm_match").await, 0);
    // Someone else passes that check (the store then refuses this hand-made
    // match, whose line was parked already; without the check so would the importer be).
    let sup1 = login(&b.s, "sup1").await;
    let r = call(&b.s, &sup1, ReconRequest::ConfirmMatch { match_id: m }).await;
    assert!(!matches!(&r, Err(ApiError::Conflict { conflict: Conflict::MakerIsChecker })), "{r:?}");
    // And the importer cannot return the line's money either (the existing check).
    call(&b.s, &b.fin1, ReconRequest::Claim { id: o.id }).await.unwrap();
    let req = ReconRequest::Resolve { id: o.id, action: return_to_payer(), request_id: Uuid::now_v7() };
    let r = call(&b.s, &b.fin1, req).await;
    assert!(matches!(&r, Err(ApiError::Conflict { conflict: Conflict::MakerIsChecker })), "{r:?}");
}

on_both_databases!(
    the_importer_cannot_confirm_a_match_of_their_line,
    a_return_is_sent_after_the_resolution_commits,
    a_send_whose_answer_was_lost_is_sent_again_and_deduped,
    a_refused_return_comes_back_to_suspense,
    a_gateway_that_is_down_leaves_it_pending_until_a_retry,
    an_already_returned_answer_posts_nothing,
    an_edited_or_second_instruction_is_never_sent,
    a_return_that_never_goes_through_gets_stuck,
);
