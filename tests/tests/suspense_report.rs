//! The 挂账处理 daily report on both databases: it opens on the latest reconciled
//! day (yesterday before any run); each statement of the day proves its closing
//! balance against the ledger's asset mirror plus the itemised drift, and a line
//! or a ledger entry changed by SQL is left unexplained; a closed day is shown
//! from the snapshot its close stored (hash in the audit row), later work in the
//! console does not count as a change, an edit behind its back does. Then the
//! same through the screen, by its labels, without typing a day.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::ledger::business_date;
use domain::suspense::{
    ClosedFact, DayReport, DriftKind, ReconReport, ReportDaySource, StatementProof, SuspenseAction,
    SuspenseFilter, SuspenseKind,
};
use domain::{ApiError, Conflict, ReconRequest, Request, Response};
use e2e::ui::{block, click, harness, log_in};
use e2e::{Db, TestDb, on_both_databases, on_both_databases_sync, raw_execute, scalar, vault};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use rust_decimal::Decimal;
use service::seed::{self, DEMO_PASSWORD};
use service::{Services, Session};
use ui::OpsApp;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

/// The day the demo statement covers (the day before the demo's "today").
fn demo_day() -> NaiveDate {
    business_date(seed::demo_anchor()) - Duration::days(1)
}

struct Bench {
    t: TestDb,
    dir: tempfile::TempDir,
    s: Services,
}

/// Demo operators, 100 users and the demo ledger; with `recon`, the suspense
/// demo too (its statement imported and reconciled).
async fn bench(db: Db, recon: bool) -> Bench {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = Services::new(store, vault(), domain::auth::LoginPolicy::default());
    seed::ensure_demo_operators(&s, now()).await.unwrap();
    seed::generate_into(&s, seed::DEMO_SEED, 100, seed::demo_anchor()).await.unwrap();
    s.vam().seed_demo(seed::demo_anchor()).await.unwrap();
    if recon {
        s.recon().seed_demo(seed::demo_anchor(), dir.path()).await.unwrap();
    }
    Bench { t, dir, s }
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

async fn day_report(b: &Bench, session: &Session, day: Option<NaiveDate>) -> DayReport {
    match call(&b.s, session, ReconRequest::DayReport { day }).await.unwrap() {
        Response::ReconDayReport(r) => *r,
        other => panic!("{other:?}"),
    }
}

/// The demo day's one statement (网商银行's).
fn the_statement(r: &DayReport) -> &StatementProof {
    assert_eq!(r.statements.len(), 1, "{:#?}", r.statements);
    &r.statements[0]
}

fn group(p: &StatementProof, kind: DriftKind) -> Option<&domain::suspense::DriftGroup> {
    p.drift.iter().find(|g| g.kind == kind)
}

fn yuan(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

/// The demo overage (张三's ¥1,234.56, parked the day after the statement).
async fn overage_ref(url: &str) -> String {
    let store = store::open(url).await.unwrap();
    let filter = SuspenseFilter { kind: Some(SuspenseKind::Overage), ..SuspenseFilter::default() };
    let (rows, _, _) = store.suspense_page(&filter, (None, None), None, 10).await.unwrap();
    let line = rows.iter().find(|r| r.amount_minor == 123_456).unwrap().line_id.unwrap();
    store.lines(&[line]).await.unwrap().remove(0).0.bank_ref
}

async fn default_day_is_the_latest_run(db: Db) {
    // Nothing reconciled yet: yesterday, and it says so.
    let b = bench(db, false).await;
    let fin1 = login(&b.s, "fin1").await;
    let r = day_report(&b, &fin1, None).await;
    assert_eq!((r.day, r.source), (business_date(now()) - Duration::days(1), ReportDaySource::Yesterday));
    assert!(r.statements.is_empty() && r.closed.is_none());

    // The demo reconciled its day: that is the day shown.
    let b = bench(db, true).await;
    let fin1 = login(&b.s, "fin1").await;
    let r = day_report(&b, &fin1, None).await;
    assert_eq!((r.day, r.source), (demo_day(), ReportDaySource::LatestRun));
    assert_eq!(r.report.day, demo_day());
    assert!(r.report.proof_holds(), "{:?}", r.report.proof);
    assert!(the_statement(&r).holds(), "{:#?}", r.statements);
    // A later run moves it; a day asked for is that day.
    let later = demo_day() + Duration::days(10);
    call(&b.s, &fin1, ReconRequest::Reconcile { day: later, physical_id: None, dry_run: false })
        .await
        .unwrap();
    let r = day_report(&b, &fin1, None).await;
    assert_eq!((r.day, r.source), (later, ReportDaySource::LatestRun));
    let r = day_report(&b, &fin1, Some(demo_day())).await;
    assert_eq!((r.day, r.source), (demo_day(), ReportDaySource::Asked));
    // A customer-service agent may not read it.
    let cs1 = login(&b.s, "cs1").await;
    let denied = call(&b.s, &cs1, ReconRequest::DayReport { day: None }).await.unwrap_err();
    assert!(matches!(denied, ApiError::Forbidden { .. }), "{denied:?}");
}

async fn the_statement_proof_holds_and_finds_a_changed_entry(db: Db) {
    let b = bench(db, true).await;
    let fin1 = login(&b.s, "fin1").await;
    let r = day_report(&b, &fin1, Some(demo_day())).await;
    let p = the_statement(&r).clone();
    assert!(p.holds(), "{p:#?}");
    assert_eq!(p.closing.unwrap(), p.ledger + p.explained);
    assert_eq!(p.explained, p.drift.iter().map(|g| g.total).sum::<Decimal>());
    // The demo's opening is the ledger as it stood when the demo was made, with
    // postings dated on and after the statement's day: brought forward. Among
    // them the bank's interest, booked on the statement's day, is a notice no
    // line of the statement reconciles.
    assert!(group(&p, DriftKind::OpeningDifference).unwrap().total >= yuan(12_345));
    let notice = group(&p, DriftKind::NoticeNotOnStatement).unwrap();
    assert_eq!(notice.total, yuan(-12_345));
    assert!(notice.items[0].reference.starts_with("INT"), "{notice:?}");
    // The run was the next morning: the day's lines are posted a day later.
    let overage = overage_ref(&b.t.url).await;
    let later = group(&p, DriftKind::PostedLater).unwrap();
    let item = later.items.iter().find(|i| i.reference == overage).unwrap();
    assert_eq!((item.amount, item.day), (yuan(123_456), Some(demo_day() + Duration::days(1))));
    // Orders matched to their lines: the order system books that money, not this ledger.
    let outside = group(&p, DriftKind::OutsideLedger).unwrap();
    assert!(outside.count > 10 && outside.total > Decimal::ZERO, "{outside:?}");
    assert!(outside.items.iter().all(|i| i.reference.starts_with("ORD") || i.reference.starts_with("RFD")));
    assert!(group(&p, DriftKind::DiffersFromLedger).is_none(), "{p:#?}");

    // An asset entry added by SQL on the statement's day: the ledger moves,
    // nothing explains it.
    let dayn = store::day_number(demo_day());
    let number = b.s.store().physical_accounts().await.unwrap()[0].number.clone();
    let added = raw_execute(
        &b.t.owner_url,
        &format!(
            "INSERT INTO transfer_lines (transfer_id, line, account_id, amount_minor, business_day, posted_at) \
             SELECT transfer_id, 99, account_id, 500, business_day, posted_at FROM transfer_lines \
             WHERE account_id = (SELECT asset_account FROM physical_accounts WHERE number = '{number}') \
             AND business_day = {dayn} ORDER BY transfer_id LIMIT 1"
        ),
    )
    .await
    .unwrap();
    assert_eq!(added, 1);
    let p = the_statement(&day_report(&b, &fin1, Some(demo_day())).await).clone();
    assert!(!p.holds());
    assert_eq!(p.unexplained, Some(yuan(-500)), "{p:#?}");
    assert_eq!(p.ledger, the_statement(&r).ledger + yuan(500));
}

async fn a_changed_statement_line_is_unexplained(db: Db) {
    let b = bench(db, true).await;
    let fin1 = login(&b.s, "fin1").await;
    let overage = overage_ref(&b.t.url).await;
    let n = raw_execute(
        &b.t.owner_url,
        &format!("UPDATE statement_lines SET amount_minor = amount_minor + 100 WHERE bank_ref = '{overage}'"),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    let p = the_statement(&day_report(&b, &fin1, Some(demo_day())).await).clone();
    assert_eq!(p.unexplained, Some(yuan(-100)), "{p:#?}");
    // The line now says more than the ledger booked for it.
    let differs = group(&p, DriftKind::DiffersFromLedger).unwrap();
    assert_eq!((differs.total, differs.items[0].reference.as_str()), (yuan(100), overage.as_str()));
}

async fn a_closed_day_is_its_snapshot(db: Db) {
    let b = bench(db, true).await;
    let fin1 = login(&b.s, "fin1").await;
    let fin2 = login(&b.s, "fin2").await;
    let before = day_report(&b, &fin1, Some(demo_day())).await;
    assert!(before.closed.is_none());
    let line = overage_ref(&b.t.url).await;
    // Closing takes a finance approver; closed once, with the snapshot's hash audited.
    let svc = login(&b.s, "svc1").await;
    let denied = call(&b.s, &svc, ReconRequest::CloseDay { day: demo_day() }).await.unwrap_err();
    assert!(matches!(denied, ApiError::Forbidden { .. }), "{denied:?}");
    assert_eq!(call(&b.s, &fin1, ReconRequest::CloseDay { day: demo_day() }).await.unwrap(), Response::Done);
    let again = call(&b.s, &fin2, ReconRequest::CloseDay { day: demo_day() }).await.unwrap_err();
    assert!(matches!(again, ApiError::Conflict { conflict: Conflict::DayClosed { .. } }), "{again:?}");
    let closed = day_report(&b, &fin2, Some(demo_day())).await;
    let c = closed.closed.clone().unwrap();
    assert_eq!((c.closed_by.as_str(), c.closed_at), ("fin1", now()));
    let check = c.snapshot.clone().unwrap();
    assert!(check.intact && check.differences.is_empty(), "{check:?}");
    assert_eq!((&closed.report, &closed.statements), (&before.report, &before.statements));
    let audits = scalar(
        &b.t.url,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'recon.close_day' AND target = 'report:{}' \
             AND actor = 'fin1' AND detail LIKE '%{}%'",
            demo_day(),
            check.sha256
        ),
    )
    .await;
    assert_eq!(audits, 1);
    assert_eq!(scalar(&b.t.url, "SELECT COUNT(*) FROM recon_closed_days").await, 3, "every account");

    // Work the console does afterwards is no change to the day: the overage is
    // credited to a sub-account, and the report stays the snapshot.
    let store = b.s.store();
    let wallet = {
        let p = store.physical_accounts().await.unwrap().remove(0);
        let top = store.virtual_children(p.id, None, None, 1).await.unwrap().remove(0);
        store.virtual_children(p.id, Some(top.id), None, 1).await.unwrap().remove(0).number
    };
    let filter = SuspenseFilter { kind: Some(SuspenseKind::Overage), ..SuspenseFilter::default() };
    let (rows, _, _) = store.suspense_page(&filter, (None, None), None, 10).await.unwrap();
    let overage = rows.iter().find(|r| r.amount_minor == 123_456).unwrap().id;
    call(&b.s, &fin2, ReconRequest::Claim { id: overage }).await.unwrap();
    let credit = ReconRequest::Resolve {
        id: overage,
        action: SuspenseAction::CreditSubAccount { number: wallet },
        request_id: Uuid::now_v7(),
    };
    assert!(matches!(call(&b.s, &fin2, credit).await.unwrap(), Response::SuspenseOutcome(_)));
    let after = day_report(&b, &fin1, Some(demo_day())).await;
    assert_eq!(after.report, before.report, "the snapshot, not today's figures");
    assert!(after.closed.unwrap().snapshot.unwrap().differences.is_empty());
    let Response::ReconReport(plain) =
        call(&b.s, &fin1, ReconRequest::Report { day: demo_day() }).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(plain, before.report);

    // A line edited behind the console's back is seen.
    raw_execute(
        &b.t.owner_url,
        &format!("UPDATE statement_lines SET amount_minor = amount_minor + 100 WHERE bank_ref = '{line}'"),
    )
    .await
    .unwrap();
    let tampered = day_report(&b, &fin1, Some(demo_day())).await;
    let check = tampered.closed.unwrap().snapshot.unwrap();
    assert!(check.intact, "the snapshot itself is untouched");
    let facts: Vec<ClosedFact> = check.differences.iter().map(|d| d.fact).collect();
    for fact in [ClosedFact::LinesSum, ClosedFact::LinesDigest, ClosedFact::ProofRemainder] {
        assert!(facts.contains(&fact), "{fact:?} in {:#?}", check.differences);
    }
    let sum = check.differences.iter().find(|d| d.fact == ClosedFact::LinesSum).unwrap();
    let (domain::suspense::FactValue::Amount(then), domain::suspense::FactValue::Amount(now)) =
        (&sum.snapshot, &sum.live)
    else {
        panic!("{sum:?}")
    };
    assert_eq!(*now - *then, yuan(100));
    // The shown figures are still the snapshot's.
    assert_eq!(tampered.statements, before.statements);

    // The snapshot cannot be changed by the console's own rights; forced by the
    // owner, its hash no longer matches the audit row.
    let day = store::day_number(demo_day());
    let refused = raw_execute(
        &b.t.url,
        &format!("UPDATE recon_report_snapshots SET snapshot = snapshot || ' ' WHERE day = {day}"),
    )
    .await;
    assert!(refused.is_err(), "append-only: {refused:?}");
    let unlock = match db {
        Db::Sqlite => "DROP TRIGGER recon_report_snapshots_no_update",
        Db::Postgres => "ALTER TABLE recon_report_snapshots DISABLE TRIGGER recon_report_snapshots_no_change",
    };
    raw_execute(&b.t.owner_url, unlock).await.unwrap();
    raw_execute(
        &b.t.owner_url,
        &format!("UPDATE recon_report_snapshots SET snapshot = snapshot || ' ' WHERE day = {day}"),
    )
    .await
    .unwrap();
    let forced = day_report(&b, &fin1, Some(demo_day())).await;
    assert!(!forced.closed.unwrap().snapshot.unwrap().intact);
    let _ = &b.dir;
}

/// The first physical account (网商银行): id, number, and its wallets.
async fn mybank(b: &Bench) -> (Uuid, String, Vec<(Uuid, String, String)>) {
    let store = b.s.store();
    let p = store.physical_accounts().await.unwrap().remove(0);
    let mut leaves = Vec::new();
    for top in store.virtual_children(p.id, None, None, 50).await.unwrap() {
        for v in store.virtual_children(p.id, Some(top.id), None, 8).await.unwrap() {
            leaves.push((v.id, v.number, v.owner_name));
        }
    }
    (p.id, p.number, leaves)
}

async fn resolve(b: &Bench, session: &Session, id: Uuid, action: SuspenseAction) {
    call(&b.s, session, ReconRequest::Claim { id }).await.unwrap();
    let req = ReconRequest::Resolve { id, action, request_id: Uuid::now_v7() };
    assert!(matches!(call(&b.s, session, req).await.unwrap(), Response::SuspenseOutcome(_)));
}

async fn open_of(b: &Bench, kind: SuspenseKind) -> Vec<domain::suspense::SuspenseRow> {
    let filter = SuspenseFilter { kind: Some(kind), ..SuspenseFilter::default() };
    let fin1 = login(&b.s, "fin1").await;
    match call(&b.s, &fin1, ReconRequest::Queue { filter, after: None, limit: 200 }).await.unwrap() {
        Response::SuspenseQueue(p) => p.rows,
        other => panic!("{other:?}"),
    }
}

/// Today's statement reconciled today: its postings fall on its own day. Every
/// kind of work afterwards keeps closing = ledger + drift, each in its kind.
async fn every_kind_of_work_keeps_the_proof(db: Db) {
    // Without the suspense demo: its day has the same references.
    let b = bench(db, false).await;
    let fin1 = login(&b.s, "fin1").await;
    let svc1 = login(&b.s, "svc1").await;
    let today = business_date(now());
    let (physical, number, wallets) = mybank(&b).await;
    let set = service::recon::demo::generate(7, 40, physical, &wallets, today, now());
    let audit = store::NewAudit::new(now(), "system", "test.items", "t", serde_json::json!({}));
    b.s.store().insert_our_items(&set.items, audit).await.unwrap();
    let opening = b.s.store().physical_totals(physical).await.unwrap().asset_minor;
    let path = b.dir.path().join("today.xml");
    std::fs::write(
        &path,
        service::recon::demo::camt053("STMT-TODAY", 2, &number, today, opening, &set.lines, 0),
    )
    .unwrap();
    let import = ReconRequest::ImportStatement {
        path: path.display().to_string(),
        account: None,
        preset: None,
        dry_run: false,
        acknowledge_difference: false,
    };
    call(&b.s, &svc1, import).await.unwrap();
    call(&b.s, &svc1, ReconRequest::Reconcile { day: today, physical_id: None, dry_run: false })
        .await
        .unwrap();
    let proof = |r: &DayReport| r.statements.iter().find(|p| p.statement == "STMT-TODAY").unwrap().clone();
    let holds = |p: &StatementProof| {
        assert!(p.holds(), "{p:#?}");
        assert_eq!(p.closing.unwrap(), p.ledger + p.explained);
    };
    let p = proof(&day_report(&b, &fin1, Some(today)).await);
    holds(&p);
    // Posted on its own day: nothing later; orders outside this ledger; our
    // orders the bank never paid are parked (the ledger took them out).
    assert!(group(&p, DriftKind::PostedLater).is_none(), "{p:#?}");
    assert!(group(&p, DriftKind::OpeningDifference).is_none(), "{p:#?}");
    assert!(group(&p, DriftKind::OutsideLedger).unwrap().total > Decimal::ZERO);
    let short = group(&p, DriftKind::OurItemShort).unwrap();
    assert!(short.total > Decimal::ZERO && short.items[0].reference.starts_with("ORD"), "{short:?}");

    // A suggested match confirmed, an automatic one unmatched.
    let store = b.s.store();
    let matches = store.matches_of_day(store::day_number(today), false).await.unwrap();
    if let Some(m) = matches.iter().find(|m| m.status == "suggested") {
        call(&b.s, &fin1, ReconRequest::ConfirmMatch { match_id: m.id }).await.unwrap();
        holds(&proof(&day_report(&b, &fin1, Some(today)).await));
    }
    let posted = matches.iter().find(|m| m.status == "confirmed" && m.transfer_id.is_some()).unwrap();
    let unmatch = ReconRequest::Unmatch { match_id: posted.id, reason: "客户称汇错账户".into() };
    call(&b.s, &fin1, unmatch).await.unwrap();
    let p = proof(&day_report(&b, &fin1, Some(today)).await);
    holds(&p);
    assert!(group(&p, DriftKind::Reversal).is_some(), "{p:#?}");

    // Today's overage matched by hand to an order of ours: the parked money leaves
    // the asset mirror again, the order's money is outside this ledger.
    let overage = open_of(&b, SuspenseKind::Overage)
        .await
        .into_iter()
        .find(|r| r.amount == yuan(123_456) && r.found_on == today)
        .unwrap();
    let mut order = store::OurItemRow {
        id: Uuid::now_v7(),
        physical_id: physical,
        kind: domain::suspense::OurKind::OrderPaid,
        amount_minor: 123_456,
        open_minor: 123_456,
        date_from: store::day_number(today),
        date_to: store::day_number(today + Duration::days(3)),
        reference: "ORD-HAND-1".into(),
        counterparty_name: None,
        virtual_number: None,
        account_id: None,
        expected_fee_minor: 0,
        state: "open".into(),
        created_at: now(),
    };
    let audit = store::NewAudit::new(now(), "system", "test.items", "t", serde_json::json!({}));
    store.insert_our_items(std::slice::from_ref(&order), audit).await.unwrap();
    order.open_minor = 0;
    let outside = |p: &StatementProof| group(p, DriftKind::OutsideLedger).map_or(Decimal::ZERO, |g| g.total);
    let before = outside(&p);
    let by_hand = SuspenseAction::Match { items: vec![(order.id, yuan(123_456))], fee: Decimal::ZERO };
    resolve(&b, &fin1, overage.id, by_hand).await;
    let p = proof(&day_report(&b, &fin1, Some(today)).await);
    holds(&p);
    assert_eq!(outside(&p) - before, yuan(123_456), "{p:#?}");

    // An unidentified credit paid back to its payer: money left the account
    // today, the bank's debit is on no statement yet.
    let unidentified = open_of(&b, SuspenseKind::Unidentified).await.remove(0);
    let back = SuspenseAction::ReturnToPayer { reason: "付款人要求退回".into() };
    resolve(&b, &fin1, unidentified.id, back).await;
    let p = proof(&day_report(&b, &fin1, Some(today)).await);
    holds(&p);
    assert_eq!(group(&p, DriftKind::ReturnedToPayer).unwrap().total, unidentified.amount);
}

async fn report_of(b: &Bench, session: &Session, day: NaiveDate) -> Result<Response, ApiError> {
    call(&b.s, session, ReconRequest::Report { day }).await
}

/// A closed day's report and export are refused (`Changed`) and its day report
/// says not intact, showing today's figures rather than the stored ones.
async fn refused_and_not_intact(b: &Bench, session: &Session, day: NaiveDate, stored: Option<&ReconReport>) {
    let r = day_report(b, session, Some(day)).await;
    let check = r.closed.clone().unwrap().snapshot.unwrap();
    assert!(!check.intact, "{day}: {check:?}");
    if let Some(stored) = stored {
        assert_ne!(&r.report, stored, "{day}: the stored figures are shown");
    }
    let changed = |e: ApiError| matches!(e, ApiError::Conflict { conflict: Conflict::Changed });
    assert!(changed(report_of(b, session, day).await.unwrap_err()), "{day}: report");
    let export = call(&b.s, session, ReconRequest::ExportReport { day, xlsx: false }).await;
    assert!(changed(export.unwrap_err()), "{day}: export");
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

async fn a_snapshot_that_does_not_verify_is_not_the_day(db: Db) {
    let b = bench(db, true).await;
    let fin1 = login(&b.s, "fin1").await;
    let at = sql_text(&now().to_rfc3339());

    // A snapshot inserted by the console's own role for a day never closed, hash
    // consistent with itself: no close audit row, no closed days.
    let never = demo_day() - Duration::days(1);
    let mut forged = match report_of(&b, &fin1, never).await.unwrap() {
        Response::ReconReport(r) => r,
        other => panic!("{other:?}"),
    };
    forged.rows.push(domain::suspense::ReportRow {
        account: "****0000".into(),
        channel: "forged".into(),
        matched: 7,
        matched_amount: yuan(700),
        open: Vec::new(),
    });
    let snapshot = domain::suspense::ReportSnapshot {
        report: forged.clone(),
        statements: Vec::new(),
        facts: domain::suspense::ClosedFacts::default(),
    };
    let json = serde_json::to_string(&snapshot).unwrap();
    raw_execute(
        &b.t.url,
        &format!(
            "INSERT INTO recon_report_snapshots (day, closed_by, closed_at, snapshot, sha256) \
             VALUES ({}, 'fin1', {at}, {}, '{}')",
            store::day_number(never),
            sql_text(&json),
            sha256_hex(&json)
        ),
    )
    .await
    .unwrap();
    refused_and_not_intact(&b, &fin1, never, Some(&forged)).await;

    // Closed days written without a snapshot are not a close either.
    let bare = demo_day() - Duration::days(3);
    raw_execute(
        &b.t.url,
        &format!(
            "INSERT INTO recon_closed_days (physical_id, day, closed_by, closed_at) \
             SELECT id, {}, 'fin1', {at} FROM physical_accounts ORDER BY number LIMIT 1",
            store::day_number(bare)
        ),
    )
    .await
    .unwrap();
    let r = day_report(&b, &fin1, Some(bare)).await;
    assert!(!r.closed.unwrap().snapshot.unwrap().intact);
    assert!(report_of(&b, &fin1, bare).await.is_err());

    // Closed properly: intact, and the plain report is the snapshot's.
    let edited = demo_day();
    let other = demo_day() - Duration::days(2);
    for day in [edited, other] {
        assert_eq!(call(&b.s, &fin1, ReconRequest::CloseDay { day }).await.unwrap(), Response::Done);
        assert!(day_report(&b, &fin1, Some(day)).await.closed.unwrap().snapshot.unwrap().intact);
        assert!(matches!(report_of(&b, &fin1, day).await.unwrap(), Response::ReconReport(_)));
    }

    // The owner lifts the append-only trigger and edits the JSON, storing its new
    // hash with it: the close's audit row still names the old one.
    let unlock = match db {
        Db::Sqlite => "DROP TRIGGER recon_report_snapshots_no_update",
        Db::Postgres => "ALTER TABLE recon_report_snapshots DISABLE TRIGGER recon_report_snapshots_no_change",
    };
    raw_execute(&b.t.owner_url, unlock).await.unwrap();
    let row = b.s.store().report_snapshot(store::day_number(edited)).await.unwrap().unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&row.snapshot).unwrap();
    value["report"]["rows"][0]["matched"] = serde_json::json!(9_999);
    let json = serde_json::to_string(&value).unwrap();
    raw_execute(
        &b.t.owner_url,
        &format!(
            "UPDATE recon_report_snapshots SET snapshot = {}, sha256 = '{}' WHERE day = {}",
            sql_text(&json),
            sha256_hex(&json),
            store::day_number(edited)
        ),
    )
    .await
    .unwrap();
    let stored: ReconReport = serde_json::from_value(value["report"].clone()).unwrap();
    refused_and_not_intact(&b, &fin1, edited, Some(&stored)).await;

    // The snapshot and closed days rewritten to name another closer: the close's
    // audit row names fin1.
    let dayn = store::day_number(other);
    for table in ["recon_report_snapshots", "recon_closed_days"] {
        raw_execute(&b.t.owner_url, &format!("UPDATE {table} SET closed_by = 'fin2' WHERE day = {dayn}"))
            .await
            .unwrap();
    }
    // A day without statements: its stored figures are today's, only the answer differs.
    refused_and_not_intact(&b, &fin1, other, None).await;
    let _ = &b.dir;
}

/// The close re-checks the open items inside its transaction: one resolved
/// after its snapshot was made refuses it.
async fn a_resolution_after_the_snapshot_refuses_the_close(db: Db) {
    let b = bench(db, true).await;
    let store = b.s.store();
    let day = store::day_number(demo_day());
    let facts = store.day_facts(day, now()).await.unwrap();
    assert!(!facts.open.is_empty(), "the demo parks items");
    let n = raw_execute(
        &b.t.url,
        "UPDATE suspense_items SET status = 'resolved' WHERE amount_minor = 123456 AND status <> 'resolved'",
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    let w = store::CloseWrite {
        day,
        physical_ids: store.physical_accounts().await.unwrap().into_iter().map(|p| p.id).collect(),
        actor: "fin1".into(),
        at: now(),
        snapshot: "{}".into(),
        sha256: sha256_hex("{}"),
        facts,
    };
    let audit = store::NewAudit::new(now(), "fin1", "recon.close_day", "t", serde_json::json!({}));
    let refused = store.close_day_with_snapshot(w, audit).await.unwrap_err();
    assert!(matches!(refused, store::StoreError::Conflict(Conflict::Changed)), "{refused:?}");
    assert_eq!(scalar(&b.t.url, "SELECT COUNT(*) FROM recon_report_snapshots").await, 0);
    let _ = &b.dir;
}

on_both_databases!(
    default_day_is_the_latest_run,
    the_statement_proof_holds_and_finds_a_changed_entry,
    a_changed_statement_line_is_unexplained,
    a_closed_day_is_its_snapshot,
    a_snapshot_that_does_not_verify_is_not_the_day,
    a_resolution_after_the_snapshot_refuses_the_close,
    every_kind_of_work_keeps_the_proof
);

// ---------------------------------------------------------------------------
// Through the screen
// ---------------------------------------------------------------------------

/// The report screen, driven by the labels a person reads.
mod screen {
    use super::*;

    /// Clicks the button labelled `label` (the same words may also be a heading).
    fn press(h: &mut Harness<'_, OpsApp>, label: &str) {
        let button = h
            .query_all_by_label(label)
            .find(|n| n.accesskit_node().role() == Role::Button)
            .unwrap_or_else(|| panic!("no button labelled {label}"));
        button.click();
        h.run();
    }

    fn the_report_opens_on_the_reconciled_day_with_its_proof(db: Db) {
        let t = block(TestDb::new(db));
        let mut h = harness(&t.url);
        log_in(&mut h, "fin1", DEMO_PASSWORD);
        press(&mut h, "挂账处理");
        h.get_by_label("挂账队列");
        press(&mut h, "对账报表");
        // No day typed: the backend names the demo's reconciled day.
        let day = demo_day().to_string();
        h.get_by_label(&format!("对账报表 {day}"));
        h.get_by_label("（最近一次对账的日期）");
        h.get_by_label("√ 全部一致");
        h.get_by_label_contains("对账单余额证明");
        h.get_by_label_contains(&format!("对账单 STMT-{}", demo_day().format("%Y%m%d")));
        h.get_by_label("√ 成立：期末余额 = 账面余额 + 差异合计");
        h.get_by_label_contains("对账单日之后才入账：");
        h.get_by_label_contains("我方订单与退款资金（由订单系统记账，不在本账簿）：");
        h.get_by_label_contains("期初余额与前一日账面余额之差：1 笔，合计 +¥");
        assert!(h.query_by_label_contains("已关账").is_none());

        // Closed (by a finance reviewer elsewhere): shown as its snapshot.
        block(async {
            let store = store::open(&t.url).await.unwrap();
            let s = Services::new(store, vault(), domain::auth::LoginPolicy::default());
            let session = Session::default();
            let login = Request::Login { username: "fin2".into(), password: DEMO_PASSWORD.into() };
            s.handle(&session, login, Utc::now()).await.unwrap();
            let close = Request::Recon(ReconRequest::CloseDay { day: demo_day() });
            s.handle(&session, close, Utc::now()).await.unwrap();
        });
        press(&mut h, "查看报表");
        h.get_by_label_contains("已关账：fin2 于 ");
        h.get_by_label_contains("快照 SHA-256：");
        h.get_by_label("√ 快照完好（与关账审计记录中的 SHA-256 一致）");
        h.get_by_label("√ 数据库与快照一致");
        h.get_by_label("√ 成立：期末余额 = 账面余额 + 差异合计");
        click(&mut h, "退出登录");
    }

    on_both_databases_sync!(the_report_opens_on_the_reconciled_day_with_its_proof);
}
