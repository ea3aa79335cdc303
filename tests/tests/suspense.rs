//! Suspense (挂账) and reconciliation through the services, on both databases:
//! statement imports are checked, atomic and idempotent; a day reconciles against
//! the demo's ground truth with no wrong automatic match; every business action
//! posts balanced transfers and writes its item off exactly once; a loss needs a
//! finance reviewer and a supervisor; a resent file reverses the earlier automatic
//! matches it changes; unmatching is a reversal; a closed day cannot change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::ledger::business_date;
use domain::statement::{Location, StatementFinding, StatementProblem};
use domain::suspense::{
    ImportReport, ReconReport, ReconRunReport, SuspenseAction, SuspenseFilter, SuspenseItemView,
    SuspenseKind, SuspenseOutcome, SuspenseRow, SuspenseStatus,
};
use domain::{ApiError, Conflict, ReconRequest, Request, Response};
use e2e::{Db, TestDb, on_both_databases, scalar, vault};
use rust_decimal::Decimal;
use service::recon::demo::{self, DemoLine};
use service::seed::{self, DEMO_PASSWORD};
use service::{Services, Session, Workflow};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

fn day() -> NaiveDate {
    business_date(now()) - Duration::days(1)
}

struct Bench {
    _db: TestDb,
    dir: tempfile::TempDir,
    s: Services,
    url: String,
}

/// Demo operators, 100 users and the demo ledger (no recon demo: each test makes its day).
async fn bench(db: Db) -> Bench {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let workflow = Workflow::new(None, None, dir.path().join("evidence"));
    let s = Services::new(store, vault(), domain::auth::LoginPolicy::default()).with_workflow(workflow);
    seed::ensure_demo_operators(&s, now()).await.unwrap();
    seed::generate_into(&s, seed::DEMO_SEED, 100, seed::demo_anchor()).await.unwrap();
    s.vam().seed_demo(seed::demo_anchor()).await.unwrap();
    let url = t.url.clone();
    Bench { _db: t, dir, s, url }
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

/// The demo's first physical account (网商银行) and its wallets.
async fn mybank(b: &Bench) -> (Uuid, String, Vec<(Uuid, String, String)>) {
    let store = b.s.store();
    let p = store.physical_accounts().await.unwrap().into_iter().next().unwrap();
    let mut leaves = Vec::new();
    for top in store.virtual_children(p.id, None, None, 50).await.unwrap() {
        for v in store.virtual_children(p.id, Some(top.id), None, 8).await.unwrap() {
            leaves.push((v.id, v.number, v.owner_name));
        }
    }
    (p.id, p.number, leaves)
}

/// Generates a day, stores our items and writes its statement to a file.
async fn day_file(b: &Bench, orders: usize) -> (demo::DemoSet, std::path::PathBuf, Uuid) {
    let (physical, number, wallets) = mybank(b).await;
    let set = demo::generate(7, orders, physical, &wallets, day(), now());
    let audit = store::NewAudit::new(now(), "system", "test.items", "t", serde_json::json!({}));
    b.s.store().insert_our_items(&set.items, audit).await.unwrap();
    let opening = b.s.store().physical_totals(physical).await.unwrap().asset_minor;
    let bytes = demo::camt053("STMT-T1", 1, &number, day(), opening, &set.lines, 0);
    let path = b.dir.path().join("day.xml");
    std::fs::write(&path, bytes).unwrap();
    (set, path, physical)
}

fn import(path: &std::path::Path, dry_run: bool, acknowledge: bool) -> ReconRequest {
    ReconRequest::ImportStatement {
        path: path.display().to_string(),
        account: None,
        preset: None,
        dry_run,
        acknowledge_difference: acknowledge,
    }
}

async fn imported(b: &Bench, session: &Session, req: ReconRequest) -> ImportReport {
    match call(&b.s, session, req).await.unwrap() {
        Response::StatementImported(r) => r,
        other => panic!("{other:?}"),
    }
}

async fn reconcile(b: &Bench, session: &Session, dry_run: bool) -> ReconRunReport {
    match call(&b.s, session, ReconRequest::Reconcile { day: day(), physical_id: None, dry_run })
        .await
        .unwrap()
    {
        Response::Reconciled(r) => r,
        other => panic!("{other:?}"),
    }
}

async fn queue(b: &Bench, session: &Session, kind: Option<SuspenseKind>) -> Vec<SuspenseRow> {
    let filter = SuspenseFilter { kind, ..SuspenseFilter::default() };
    match call(&b.s, session, ReconRequest::Queue { filter, after: None, limit: 200 }).await.unwrap() {
        Response::SuspenseQueue(p) => p.rows,
        other => panic!("{other:?}"),
    }
}

async fn item(b: &Bench, session: &Session, id: Uuid) -> SuspenseItemView {
    match call(&b.s, session, ReconRequest::Item { id }).await.unwrap() {
        Response::SuspenseItem(v) => *v,
        other => panic!("{other:?}"),
    }
}

async fn report(b: &Bench, session: &Session) -> ReconReport {
    match call(&b.s, session, ReconRequest::Report { day: day() }).await.unwrap() {
        Response::ReconReport(r) => r,
        other => panic!("{other:?}"),
    }
}

async fn resolve(
    b: &Bench,
    session: &Session,
    id: Uuid,
    action: SuspenseAction,
) -> Result<SuspenseOutcome, ApiError> {
    let req = ReconRequest::Resolve { id, action, request_id: Uuid::now_v7() };
    call(&b.s, session, req).await.map(|r| match r {
        Response::SuspenseOutcome(o) => o,
        other => panic!("{other:?}"),
    })
}

/// Σ of every ledger line is zero and each transfer balances.
async fn ledger_balances(url: &str) {
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM (SELECT transfer_id FROM transfer_lines GROUP BY transfer_id HAVING SUM(amount_minor) <> 0) x").await, 0);
}

async fn statement_lines(url: &str) -> i64 {
    scalar(url, "SELECT COUNT(*) FROM statement_lines").await
}

async fn import_is_checked_atomic_and_idempotent(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let (set, path, _) = day_file(&b, 20).await;
    // A dry run reads and checks, and writes nothing.
    let dry = imported(&b, &fin1, import(&path, true, false)).await;
    assert!(dry.dry_run);
    assert_eq!(dry.statements.len(), 1);
    let s = &dry.statements[0];
    assert!(s.known_account && s.adds_up, "{s:?}");
    assert_eq!(s.entries, set.lines.len() as u64);
    assert!(
        s.findings.iter().any(|f| matches!(f, StatementFinding::Returns { count: 1 })),
        "{:?}",
        s.findings
    );
    assert_eq!(statement_lines(&b.url).await, 0);
    // Imported once; the same file again changes nothing.
    let first = imported(&b, &fin1, import(&path, false, false)).await;
    assert!(!first.repeat);
    assert_eq!(statement_lines(&b.url).await, set.lines.len() as i64);
    let again = imported(&b, &fin1, import(&path, false, false)).await;
    assert!(again.repeat);
    assert_eq!(statement_lines(&b.url).await, set.lines.len() as i64);
    // A statement that does not add up is refused unless acknowledged.
    let (_, number, _) = mybank(&b).await;
    let odd = b.dir.path().join("odd.xml");
    let next_day: Vec<DemoLine> =
        set.lines[..2].iter().map(|l| DemoLine { day: day() + Duration::days(1), ..l.clone() }).collect();
    std::fs::write(&odd, demo::camt053("STMT-ODD", 2, &number, day() + Duration::days(1), 0, &next_day, 100))
        .unwrap();
    let refused = call(&b.s, &fin1, import(&odd, false, false)).await.unwrap_err();
    assert!(
        matches!(
            &refused,
            ApiError::Conflict { conflict: Conflict::StatementDoesNotAddUp { difference_minor: 100, .. } }
        ),
        "{refused:?}"
    );
    assert_eq!(statement_lines(&b.url).await, set.lines.len() as i64);
    let dry = imported(&b, &fin1, import(&odd, true, false)).await;
    let findings = &dry.statements[0].findings;
    assert!(findings.contains(&StatementFinding::DoesNotAddUp { difference_minor: 100 }), "{findings:?}");
    // Its lines are the first file's: duplicates by bank reference across files; and
    // its opening does not chain onto the first statement's closing.
    assert!(
        findings.iter().any(|f| matches!(f, StatementFinding::Duplicates { count: 2, .. })),
        "{findings:?}"
    );
    assert!(findings.iter().any(|f| matches!(f, StatementFinding::ChainBreak { .. })), "{findings:?}");
    let acked = imported(&b, &fin1, import(&odd, false, true)).await;
    assert!(!acked.repeat);
    assert_eq!(
        scalar(
            &b.url,
            "SELECT COUNT(*) FROM statements WHERE difference_minor = 100 AND acknowledged_by = 'fin1'"
        )
        .await,
        1
    );
    assert_eq!(scalar(&b.url, "SELECT COUNT(*) FROM statement_lines WHERE state = 'duplicate'").await, 2);
    // Malformed: a truncated file names where it broke and changes nothing.
    let bytes = std::fs::read(&path).unwrap();
    let cut = b.dir.path().join("cut.xml");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let before = statement_lines(&b.url).await;
    match call(&b.s, &fin1, import(&cut, false, false)).await.unwrap_err() {
        ApiError::StatementFile { file, error } => {
            assert_eq!(file, "cut.xml");
            assert!(matches!(error.problem, StatementProblem::MalformedXml { .. }), "{error:?}");
            assert!(matches!(error.at, Location::Element { .. }), "{error:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(statement_lines(&b.url).await, before);
    // An unknown account: a dry run answers, an import refuses.
    let unknown = b.dir.path().join("unknown.xml");
    std::fs::write(&unknown, demo::camt053("STMT-X", 1, "9999000011112222", day(), 0, &set.lines[..1], 0))
        .unwrap();
    let dry = imported(&b, &fin1, import(&unknown, true, false)).await;
    assert!(!dry.statements[0].known_account);
    let refused = call(&b.s, &fin1, import(&unknown, false, false)).await.unwrap_err();
    assert!(
        matches!(refused, ApiError::Conflict { conflict: Conflict::UnknownAccount { .. } }),
        "{refused:?}"
    );
    // A customer-service agent may not import.
    let cs1 = login(&b.s, "cs1").await;
    assert!(matches!(call(&b.s, &cs1, import(&path, true, false)).await, Err(ApiError::Forbidden { .. })));
}

async fn a_day_reconciles_with_no_wrong_automatic_match(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let (set, path, _) = day_file(&b, 40).await;
    imported(&b, &fin1, import(&path, false, false)).await;
    let dry = reconcile(&b, &fin1, true).await;
    assert_eq!(scalar(&b.url, "SELECT COUNT(*) FROM recon_matches").await, 0, "a dry run writes nothing");
    assert_eq!(scalar(&b.url, "SELECT COUNT(*) FROM suspense_items").await, 0);
    let run = reconcile(&b, &fin1, false).await;
    assert_eq!(
        (run.confirmed, run.suggested, run.found.clone()),
        (dry.confirmed, dry.suggested, dry.found.clone())
    );
    // Precision: every confirmed match is true. Recall: most true lines are confirmed.
    let truth: HashMap<String, HashSet<Uuid>> =
        set.truth.iter().map(|(r, items)| (r.clone(), items.iter().copied().collect())).collect();
    let store = b.s.store();
    let mut confirmed_true = 0;
    for m in store.matches_of_day(store::day_number(day()), false).await.unwrap() {
        let (_, parts) = store.match_parts(m.id).await.unwrap().unwrap();
        let lines: Vec<Uuid> = parts.iter().filter_map(|p| p.0).collect();
        let items: HashSet<Uuid> = parts.iter().filter_map(|p| p.1).collect();
        if m.status != "confirmed" {
            continue;
        }
        for (line, _) in store.lines(&lines).await.unwrap() {
            let want =
                truth.get(&line.bank_ref).unwrap_or_else(|| panic!("{} has no true match", line.bank_ref));
            assert!(
                want.is_subset(&items) || items.is_subset(want),
                "{} matched {items:?}, truly {want:?}",
                line.bank_ref
            );
            confirmed_true += 1;
        }
    }
    let true_lines = truth.len();
    assert!(confirmed_true * 100 >= true_lines * 80, "recall {confirmed_true}/{true_lines}");
    // The noise becomes the right items: an overage, a returned payment, a shortage.
    let found: HashMap<SuspenseKind, u64> = run.found.iter().copied().collect();
    assert_eq!(found.get(&SuspenseKind::Overage), Some(&1), "{found:?}");
    assert_eq!(found.get(&SuspenseKind::Returned), Some(&1), "{found:?}");
    assert_eq!(found.get(&SuspenseKind::Shortage), Some(&2), "{found:?}");
    // Every item is booked: open items = suspense ledger balances, per kind.
    let r = report(&b, &fin1).await;
    assert!(r.proof_holds(), "{:?}", r.proof);
    assert!(r.proof.iter().any(|(k, items, _)| *k == SuspenseKind::Shortage && *items < Decimal::ZERO));
    // A fee the bank deducted: the reference match is confirmed and its difference
    // parked as a fee difference (not written off), one item per such match, each
    // booked by the match's own posting.
    let near = scalar(
        &b.url,
        "SELECT COUNT(*) FROM recon_matches WHERE rule = 'reference_near' AND status = 'confirmed' AND difference_minor <> 0",
    )
    .await;
    assert!(near > 0, "the generated day has fees deducted");
    let parked = scalar(
        &b.url,
        "SELECT COUNT(*) FROM suspense_items s JOIN recon_matches m ON m.transfer_id = s.booking_id \
         WHERE s.kind = 'fee_difference' AND m.rule = 'reference_near' AND s.amount_minor = m.difference_minor \
         AND s.line_id IS NULL AND s.item_id = m.item_id",
    )
    .await;
    assert_eq!(parked, near);
    assert_eq!(found.get(&SuspenseKind::FeeDifference).copied(), Some(near as u64), "{found:?}");
    // One-to-one matches keep their line and item on their row; only the others
    // have part rows.
    assert_eq!(
        scalar(&b.url, "SELECT COUNT(*) FROM recon_match_parts p JOIN recon_matches m ON m.id = p.match_id WHERE m.line_id IS NOT NULL").await,
        0
    );
    assert!(
        scalar(
            &b.url,
            "SELECT COUNT(*) FROM recon_matches WHERE line_id IS NOT NULL AND item_id IS NOT NULL"
        )
        .await
            > 0
    );
    ledger_balances(&b.url).await;
    // Running the day again finds nothing new.
    let again = reconcile(&b, &fin1, false).await;
    assert_eq!((again.confirmed, again.found.len()), (0, 0), "{again:?}");
}

async fn each_action_posts_balanced_and_writes_off_once(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let fin2 = login(&b.s, "fin2").await;
    let sup1 = login(&b.s, "sup1").await;
    let (_, path, _) = day_file(&b, 40).await;
    imported(&b, &login(&b.s, "svc1").await, import(&path, false, false)).await;
    reconcile(&b, &fin1, false).await;
    let (_, _, wallets) = mybank(&b).await;
    // The overage: credit an identified sub-account. Needs a claim first.
    let overage = queue(&b, &fin1, Some(SuspenseKind::Overage)).await.remove(0);
    let action = SuspenseAction::CreditSubAccount { number: wallets[0].1.clone() };
    let unclaimed = resolve(&b, &fin1, overage.id, action.clone()).await.unwrap_err();
    assert!(matches!(unclaimed, ApiError::Conflict { conflict: Conflict::ClaimFirst }), "{unclaimed:?}");
    call(&b.s, &fin1, ReconRequest::Claim { id: overage.id }).await.unwrap();
    // Another reviewer cannot take it meanwhile.
    let taken = call(&b.s, &fin2, ReconRequest::Claim { id: overage.id }).await.unwrap_err();
    assert!(matches!(taken, ApiError::Conflict { conflict: Conflict::ClaimedBy { .. } }), "{taken:?}");
    let balance_before = b.s.store().virtual_node(wallets[0].0).await.unwrap().unwrap();
    let request_id = Uuid::now_v7();
    let req = ReconRequest::Resolve { id: overage.id, action: action.clone(), request_id };
    let first = call(&b.s, &fin1, req.clone()).await.unwrap();
    // The same request again answers the same and posts nothing more.
    let repeat = call(&b.s, &fin1, req).await.unwrap();
    assert_eq!(first, repeat);
    let after = b.s.store().virtual_node(wallets[0].0).await.unwrap().unwrap();
    assert_eq!(after.credits_minor - balance_before.credits_minor, 123_456);
    let view = item(&b, &fin1, overage.id).await;
    assert_eq!(view.row.status, SuspenseStatus::Resolved);
    assert_eq!(view.postings.len(), 2, "found and resolved");
    // Resolved once: a second action is refused.
    let again = resolve(&b, &fin1, overage.id, SuspenseAction::BookFee).await.unwrap_err();
    assert!(matches!(again, ApiError::Conflict { .. }), "{again:?}");
    // The returned payment goes back to the payer through the bank's outbox.
    let returned = queue(&b, &fin1, Some(SuspenseKind::Returned)).await.remove(0);
    call(&b.s, &fin1, ReconRequest::Claim { id: returned.id }).await.unwrap();
    let wrong = resolve(&b, &fin1, returned.id, SuspenseAction::BookFee).await.unwrap_err();
    assert!(matches!(wrong, ApiError::Conflict { conflict: Conflict::ActionNotForKind { .. } }), "{wrong:?}");
    let back = SuspenseAction::OffsetSettlement { reason: "退票款并入今日待结算".into() };
    assert!(matches!(resolve(&b, &fin1, returned.id, back).await.unwrap(), SuspenseOutcome::Resolved { .. }));
    // A shortage: the loss needs a finance reviewer and a supervisor, not the maker.
    let short = queue(&b, &fin1, Some(SuspenseKind::Shortage)).await.remove(0);
    call(&b.s, &fin1, ReconRequest::Claim { id: short.id }).await.unwrap();
    let loss = SuspenseAction::AcceptLoss {
        contract_ref: "渠道协议 第7.2条".into(),
        reason: "渠道确认未到账且不赔付".into(),
    };
    let SuspenseOutcome::Proposed { proposal_id } = resolve(&b, &fin1, short.id, loss).await.unwrap() else {
        panic!()
    };
    let decide = |approve| ReconRequest::Decide { proposal_id, approve };
    let own = call(&b.s, &fin1, decide(true)).await.unwrap_err();
    assert!(matches!(own, ApiError::Conflict { conflict: Conflict::MakerIsChecker }), "{own:?}");
    assert_eq!(
        call(&b.s, &sup1, decide(true)).await.unwrap(),
        Response::SuspenseOutcome(SuspenseOutcome::Approved)
    );
    // The supervisor cannot give the finance approval too.
    let twice = call(&b.s, &sup1, decide(true)).await.unwrap_err();
    assert!(
        matches!(twice, ApiError::Conflict { conflict: Conflict::ApprovalNeedsRole { .. } }),
        "{twice:?}"
    );
    assert_eq!(item(&b, &fin1, short.id).await.row.status, SuspenseStatus::PendingApproval);
    let Response::SuspenseOutcome(SuspenseOutcome::Resolved { transfer_id: Some(t) }) =
        call(&b.s, &fin2, decide(true)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(item(&b, &fin1, short.id).await.row.status, SuspenseStatus::Resolved);
    let lines = b.s.store().posting_lines(t).await.unwrap();
    assert!(lines.iter().any(|(role, m)| role == "loss" && *m > 0), "{lines:?}");
    // Explained: no money moves, the item stays in suspense with its date.
    let short2 = queue(&b, &fin1, Some(SuspenseKind::Shortage)).await.remove(0);
    call(&b.s, &fin1, ReconRequest::Claim { id: short2.id }).await.unwrap();
    let until = business_date(now()) + Duration::days(7);
    let explain = SuspenseAction::Explain { reason: "渠道T+3结算".into(), until };
    assert_eq!(resolve(&b, &fin1, short2.id, explain).await.unwrap(), SuspenseOutcome::Worked);
    let v = item(&b, &fin1, short2.id).await;
    assert_eq!((v.row.status, v.explained_until), (SuspenseStatus::Explained, Some(until)));
    let r = report(&b, &fin1).await;
    assert!(r.proof_holds(), "{:?}", r.proof);
    ledger_balances(&b.url).await;
    // Every step has its audit row.
    for action in [
        "recon.statement_import",
        "recon.run",
        "recon.claim",
        "recon.resolve",
        "recon.propose",
        "recon.approve",
    ] {
        let n = scalar(&b.url, &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")).await;
        assert!(n > 0, "{action}");
    }
}

async fn a_resent_file_reverses_what_it_changes(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let (set, path, physical) = day_file(&b, 40).await;
    imported(&b, &fin1, import(&path, false, false)).await;
    let first = reconcile(&b, &fin1, false).await;
    assert!(first.confirmed > 0);
    // The bank resends the statement: one confirmed line corrected (1 fen more),
    // one line added.
    let store = b.s.store();
    let confirmed = store.matches_of_day(store::day_number(day()), false).await.unwrap();
    let m = confirmed.iter().find(|m| m.status == "confirmed" && m.rule != "manual").unwrap();
    let (_, parts) = store.match_parts(m.id).await.unwrap().unwrap();
    let line = store.lines(&[parts.iter().find_map(|p| p.0).unwrap()]).await.unwrap().remove(0).0;
    let mut lines: Vec<DemoLine> = set.lines.clone();
    for l in &mut lines {
        if l.bank_ref == line.bank_ref {
            l.amount_minor += 1;
        }
    }
    lines.push(DemoLine {
        bank_ref: "MYB-LATE-1".into(),
        amount_minor: 777,
        day: day(),
        name: "李四".into(),
        addressed: None,
        remittance: "补".into(),
        return_reason: None,
    });
    let (_, number, _) = mybank(&b).await;
    let opening = scalar(&b.url, "SELECT opening_minor FROM statements").await;
    let resent = b.dir.path().join("resent.xml");
    std::fs::write(&resent, demo::camt053("STMT-T1", 1, &number, day(), opening, &lines, 0)).unwrap();
    let r = imported(&b, &fin1, import(&resent, false, false)).await;
    assert!(r.statements[0].replaces);
    let again = reconcile(&b, &fin1, false).await;
    assert_eq!(again.reversed, 1, "{again:?}");
    assert_eq!(reversed(&b.url, m.id).await, 1);
    // The added line is an overage; the untouched matches stay confirmed.
    let found: HashMap<SuspenseKind, u64> = again.found.iter().copied().collect();
    assert!(found.get(&SuspenseKind::Overage).copied().unwrap_or(0) >= 1, "{again:?}");
    let still = scalar(
        &b.url,
        "SELECT COUNT(*) FROM recon_matches WHERE status = 'confirmed' AND run_id IS NOT NULL",
    )
    .await;
    assert!(still as u64 >= first.confirmed - 1, "{still} of {}", first.confirmed);
    let _ = physical;
    ledger_balances(&b.url).await;
    assert!(report(&b, &fin1).await.proof_holds());
}

/// Whether the match is reversed, read through the store (ids bind differently per database).
async fn reversed(url: &str, id: Uuid) -> i64 {
    let store = store::open(url).await.unwrap();
    let (m, _) = store.match_parts(id).await.unwrap().unwrap();
    i64::from(m.status == "reversed")
}

async fn unmatching_is_a_reversal_and_a_closed_day_stays(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let (_, path, _) = day_file(&b, 40).await;
    imported(&b, &fin1, import(&path, false, false)).await;
    reconcile(&b, &fin1, false).await;
    let store = b.s.store();
    let matches = store.matches_of_day(store::day_number(day()), false).await.unwrap();
    // A confirmed match that posted (an expected payment credited to its sub-account).
    let posted = matches.iter().find(|m| m.status == "confirmed" && m.transfer_id.is_some()).unwrap();
    let short = call(&b.s, &fin1, ReconRequest::Unmatch { match_id: posted.id, reason: "x".into() })
        .await
        .unwrap_err();
    assert!(matches!(short, ApiError::InvalidInput { .. }), "{short:?}");
    call(&b.s, &fin1, ReconRequest::Unmatch { match_id: posted.id, reason: "客户称汇错账户".into() })
        .await
        .unwrap();
    let n = scalar(
        &b.url,
        "SELECT COUNT(*) FROM transfers WHERE kind = 'reversal' AND idempotency_key LIKE 'recon:unmatch:%'",
    )
    .await;
    assert_eq!(n, 1);
    ledger_balances(&b.url).await;
    // Unmatching twice is refused.
    let twice = call(&b.s, &fin1, ReconRequest::Unmatch { match_id: posted.id, reason: "再来一次".into() })
        .await
        .unwrap_err();
    assert!(matches!(twice, ApiError::Conflict { conflict: Conflict::MatchStatus { .. } }), "{twice:?}");
    // Close the day: its matches stay, and it cannot be reconciled again.
    call(&b.s, &fin1, ReconRequest::CloseDay { day: day() }).await.unwrap();
    let other = matches.iter().find(|m| m.status == "confirmed" && m.id != posted.id).unwrap();
    let closed = call(&b.s, &fin1, ReconRequest::Unmatch { match_id: other.id, reason: "关账后撤销".into() })
        .await
        .unwrap_err();
    assert!(matches!(closed, ApiError::Conflict { conflict: Conflict::DayClosed { .. } }), "{closed:?}");
    let (physical, _, _) = mybank(&b).await;
    let req = ReconRequest::Reconcile { day: day(), physical_id: Some(physical), dry_run: false };
    let refused = call(&b.s, &fin1, req).await.unwrap_err();
    assert!(matches!(refused, ApiError::Conflict { conflict: Conflict::DayClosed { .. } }), "{refused:?}");
}

async fn unmatching_a_fee_match_takes_its_fee_item_back(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let (_, path, _) = day_file(&b, 40).await;
    imported(&b, &fin1, import(&path, false, false)).await;
    reconcile(&b, &fin1, false).await;
    let store = b.s.store();
    let fee_matches: Vec<_> = store
        .matches_of_day(store::day_number(day()), false)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.rule == "reference_near" && m.status == "confirmed" && m.difference_minor != 0)
        .collect();
    assert!(fee_matches.len() >= 2, "the generated day has fees deducted: {}", fee_matches.len());
    let open_fee_items = || {
        scalar(
            &b.url,
            "SELECT COUNT(*) FROM suspense_items WHERE kind = 'fee_difference' AND status <> 'resolved'",
        )
    };
    let before = open_fee_items().await;
    // Unmatching reverses the match's posting, fee leg included: its fee item
    // closes with it, so open items still equal the suspense balances.
    let first = &fee_matches[0];
    call(&b.s, &fin1, ReconRequest::Unmatch { match_id: first.id, reason: "参考号相同但非同一笔".into() })
        .await
        .unwrap();
    assert_eq!(open_fee_items().await, before - 1);
    assert!(report(&b, &fin1).await.proof_holds());
    ledger_balances(&b.url).await;
    // A fee item someone already booked as a fee keeps its match: unmatching it
    // would take back money that has left suspense.
    let second = &fee_matches[1];
    let item = store
        .suspense_page(
            &domain::suspense::SuspenseFilter {
                kind: Some(SuspenseKind::FeeDifference),
                ..Default::default()
            },
            (None, None),
            None,
            100,
        )
        .await
        .unwrap()
        .0
        .into_iter()
        .find(|i| Some(i.booking_id) == second.transfer_id)
        .unwrap();
    call(&b.s, &fin1, ReconRequest::Claim { id: item.id }).await.unwrap();
    resolve(&b, &fin1, item.id, SuspenseAction::BookFee).await.unwrap();
    let refused = call(
        &b.s,
        &fin1,
        ReconRequest::Unmatch { match_id: second.id, reason: "参考号相同但非同一笔".into() },
    )
    .await
    .unwrap_err();
    assert!(matches!(refused, ApiError::Conflict { conflict: Conflict::Changed }), "{refused:?}");
    assert!(report(&b, &fin1).await.proof_holds());
    ledger_balances(&b.url).await;
}

async fn two_reviewers_resolve_one_item_once(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let (_, path, _) = day_file(&b, 20).await;
    imported(&b, &login(&b.s, "svc1").await, import(&path, false, false)).await;
    reconcile(&b, &fin1, false).await;
    let overage = queue(&b, &fin1, Some(SuspenseKind::Overage)).await.remove(0);
    // Two reviewers race for the claim: one gets it.
    let fin2 = login(&b.s, "fin2").await;
    let sup1 = login(&b.s, "sup1").await;
    let (a, c) = tokio::join!(
        call(&b.s, &fin2, ReconRequest::Claim { id: overage.id }),
        call(&b.s, &sup1, ReconRequest::Claim { id: overage.id })
    );
    assert_eq!(a.is_ok() as u8 + c.is_ok() as u8, 1, "{a:?} {c:?}");
    let holder = if a.is_ok() { &fin2 } else { &sup1 };
    // The holder sends two different resolutions at once (two windows): one lands.
    let offset = SuspenseAction::OffsetSettlement { reason: "并入今日待结算".into() };
    let ret = SuspenseAction::ReturnToPayer { reason: "付款人要求退回".into() };
    let (x, y) = tokio::join!(resolve(&b, holder, overage.id, offset), resolve(&b, holder, overage.id, ret));
    assert_eq!(x.is_ok() as u8 + y.is_ok() as u8, 1, "{x:?} {y:?}");
    let key = format!("sus:{}:resolve", overage.id);
    assert_eq!(
        scalar(&b.url, &format!("SELECT COUNT(*) FROM transfers WHERE idempotency_key = '{key}'")).await,
        1
    );
    ledger_balances(&b.url).await;
    assert!(report(&b, &fin1).await.proof_holds());
}

async fn the_command_line_imports_and_reconciles_as_the_service_operator(db: Db) {
    use service::cli::{exit, job};
    let b = bench(db).await;
    // A demo database (elsewhere the demo operators' public password is locked at open).
    let audit = store::NewAudit::new(now(), "system", "demo.marked", "database", serde_json::json!({}));
    b.s.store().swap_setting(seed::DEMO_KEY, None, "true", audit).await.unwrap();
    let (_, path, _) = day_file(&b, 20).await;
    let data = b.dir.path().join("cli");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("pii.key"), "2a".repeat(32)).unwrap();
    let password = data.join("password");
    std::fs::write(&password, format!("{DEMO_PASSWORD}\n")).unwrap();
    let run = |command: &'static str, user: &'static str, args: Vec<String>| {
        let mut all = args;
        let common = ["--database-url", &b.url, "--data-dir", &data.display().to_string(), "--user", user];
        all.extend(common.iter().map(|s| s.to_string()));
        all.extend(["--password-file".to_owned(), password.display().to_string()]);
        async move { job(command, &all, std::path::PathBuf::from("/nonexistent"), String::new).await }
    };
    let file = path.display().to_string();
    // A dry run in JSON: the typed answer, nothing stored.
    let out =
        run("statement", "svc1", vec!["import".into(), file.clone(), "--dry-run".into(), "--json".into()])
            .await;
    assert_eq!(out.code, exit::OK, "{out:?}");
    let reply: Response = serde_json::from_str(&out.stdout).unwrap();
    let Response::StatementImported(r) = reply else { panic!("{reply:?}") };
    assert!(r.dry_run && r.statements[0].adds_up && r.statements[0].known_account);
    assert_eq!(statement_lines(&b.url).await, 0);
    // Imported, in words.
    let out = run("statement", "svc1", vec!["import".into(), file.clone()]).await;
    assert_eq!(out.code, exit::OK, "{out:?}");
    assert!(out.stdout.contains("已入库"), "{}", out.stdout);
    assert!(statement_lines(&b.url).await > 0);
    let day = day().to_string();
    let out =
        run("reconcile", "svc1", vec!["run".into(), "--date".into(), day.clone(), "--json".into()]).await;
    assert_eq!(out.code, exit::OK, "{out:?}");
    let Response::Reconciled(r) = serde_json::from_str(&out.stdout).unwrap() else { panic!() };
    assert!(r.confirmed > 0 && !r.found.is_empty(), "{r:?}");
    let audited = scalar(&b.url, "SELECT COUNT(*) FROM audit_log WHERE actor = 'svc1' AND action IN ('recon.statement_import', 'recon.run')").await;
    assert!(audited >= 2, "{audited}");
    // Exit codes a script can act on.
    let out = run("reconcile", "svc1", vec!["run".into()]).await;
    assert_eq!(out.code, exit::USAGE, "{out:?}");
    let bytes = std::fs::read(&path).unwrap();
    let cut = b.dir.path().join("cut.xml");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let out = run("statement", "svc1", vec!["import".into(), cut.display().to_string()]).await;
    assert_eq!(out.code, exit::BAD_FILE, "{out:?}");
    assert!(out.stderr.contains("cut.xml"), "{}", out.stderr);
    let out = run("statement", "cs1", vec!["import".into(), file.clone(), "--dry-run".into()]).await;
    assert_eq!(out.code, exit::DENIED, "a customer-service agent may not import: {out:?}");
    // The service operator imports and runs, nothing else: it cannot resolve an item.
    let svc = login(&b.s, "svc1").await;
    let id = queue(&b, &login(&b.s, "fin1").await, None).await.remove(0).id;
    let denied = call(&b.s, &svc, ReconRequest::Claim { id }).await.unwrap_err();
    assert!(matches!(denied, ApiError::Forbidden { .. }), "{denied:?}");
}

/// The attacks an attacker/auditor review found, each shown failing.
async fn one_reviewer_cannot_move_money_alone(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let fin2 = login(&b.s, "fin2").await;
    let (_, path, physical) = day_file(&b, 40).await;
    // A statement of one account booked as another's: refused.
    let other =
        b.s.store().physical_accounts().await.unwrap().into_iter().find(|p| p.id != physical).unwrap();
    let req = ReconRequest::ImportStatement {
        path: path.display().to_string(),
        account: Some(other.number.clone()),
        preset: None,
        dry_run: false,
        acknowledge_difference: false,
    };
    let refused = call(&b.s, &fin1, req).await.unwrap_err();
    assert!(
        matches!(refused, ApiError::Conflict { conflict: Conflict::UnknownAccount { .. } }),
        "{refused:?}"
    );
    assert_eq!(statement_lines(&b.url).await, 0);
    // fin1 imports; fin1 cannot then pay the statement's money out.
    imported(&b, &fin1, import(&path, false, false)).await;
    reconcile(&b, &fin1, false).await;
    let (_, _, wallets) = mybank(&b).await;
    let overage = queue(&b, &fin1, Some(SuspenseKind::Overage)).await.remove(0);
    call(&b.s, &fin1, ReconRequest::Claim { id: overage.id }).await.unwrap();
    let own =
        resolve(&b, &fin1, overage.id, SuspenseAction::CreditSubAccount { number: wallets[0].1.clone() })
            .await;
    assert!(matches!(own, Err(ApiError::Conflict { conflict: Conflict::MakerIsChecker })), "{own:?}");
    call(&b.s, &fin1, ReconRequest::Release { id: overage.id }).await.unwrap();
    // fin2 may, but a "fee" cannot make ¥1,234.56 into a larger credit.
    call(&b.s, &fin2, ReconRequest::Claim { id: overage.id }).await.unwrap();
    let store = b.s.store();
    // An accomplice's expected deposit of ¥5,000.00, still open.
    let mut expected = set_item(physical, 500_000);
    expected.kind = domain::suspense::OurKind::ExpectedIn;
    expected.account_id = Some(wallets[1].0);
    expected.reference = "DEP-T-1".into();
    let audit = store::NewAudit::new(now(), "system", "test.items", "t", serde_json::json!({}));
    store.insert_our_items(std::slice::from_ref(&expected), audit).await.unwrap();
    let before = store.virtual_node(expected.account_id.unwrap()).await.unwrap().unwrap();
    let open = Decimal::new(expected.open_minor, 2);
    let fee = open - Decimal::new(123_456, 2);
    let inflate = SuspenseAction::Match { items: vec![(expected.id, open)], fee };
    let refused = resolve(&b, &fin2, overage.id, inflate).await.unwrap_err();
    assert!(
        matches!(refused, ApiError::Conflict { conflict: Conflict::AmountsDiffer { .. } }),
        "{refused:?}"
    );
    let after = store.virtual_node(expected.account_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(before.credits_minor, after.credits_minor);
    // A match by a person is not "unmatched" into a second booking.
    let item = Decimal::new(123_456, 2);
    let small = store
        .open_our_items(physical)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.kind == domain::suspense::OurKind::OrderPaid && i.open_minor == 123_456);
    let target = match small {
        Some(i) => i,
        None => {
            let audit = store::NewAudit::new(now(), "system", "test.items", "t", serde_json::json!({}));
            let mut i = set_item(physical, 123_456);
            i.reference = "ORD-T-1".into();
            store.insert_our_items(std::slice::from_ref(&i), audit).await.unwrap();
            i
        }
    };
    let matched = resolve(
        &b,
        &fin2,
        overage.id,
        SuspenseAction::Match { items: vec![(target.id, item)], fee: Decimal::ZERO },
    )
    .await
    .unwrap();
    assert!(matches!(matched, SuspenseOutcome::Resolved { .. }), "{matched:?}");
    let manual = store
        .matches_of_day(store::day_number(business_date(now())), false)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.rule == "manual")
        .unwrap();
    let undo = call(&b.s, &fin2, ReconRequest::Unmatch { match_id: manual.id, reason: "想再记一次".into() })
        .await
        .unwrap_err();
    assert!(matches!(undo, ApiError::Conflict { conflict: Conflict::MatchStatus { .. } }), "{undo:?}");
    // Closing a day that has not ended is refused; the job cannot close days at all.
    let future = call(&b.s, &fin2, ReconRequest::CloseDay { day: business_date(now()) }).await.unwrap_err();
    assert!(matches!(future, ApiError::InvalidInput { .. }), "{future:?}");
    let svc = login(&b.s, "svc1").await;
    let job = call(&b.s, &svc, ReconRequest::CloseDay { day: day() }).await.unwrap_err();
    assert!(matches!(job, ApiError::Forbidden { .. }), "{job:?}");
    ledger_balances(&b.url).await;
    assert!(report(&b, &fin1).await.proof_holds());
}

fn set_item(physical_id: Uuid, amount_minor: i64) -> store::OurItemRow {
    store::OurItemRow {
        id: Uuid::now_v7(),
        physical_id,
        kind: domain::suspense::OurKind::OrderPaid,
        amount_minor,
        open_minor: amount_minor,
        date_from: store::day_number(day()),
        date_to: store::day_number(day() + Duration::days(5)),
        reference: String::new(),
        counterparty_name: None,
        virtual_number: None,
        account_id: None,
        expected_fee_minor: 0,
        state: "open".into(),
        created_at: now(),
    }
}

/// A resent statement that corrects a parked line: the old item leaves suspense by
/// a reversal, the corrected line is parked afresh, the proof holds.
async fn a_resent_file_supersedes_what_it_parked(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let (set, path, _) = day_file(&b, 20).await;
    imported(&b, &fin1, import(&path, false, false)).await;
    reconcile(&b, &fin1, false).await;
    let overage = queue(&b, &fin1, Some(SuspenseKind::Overage)).await.remove(0);
    assert_eq!(overage.amount, Decimal::new(123_456, 2));
    let mut lines = set.lines.clone();
    for l in &mut lines {
        if l.amount_minor == 123_456 {
            l.amount_minor = 12_345;
        }
    }
    let (_, number, _) = mybank(&b).await;
    let opening = scalar(&b.url, "SELECT opening_minor FROM statements").await;
    let resent = b.dir.path().join("resent.xml");
    std::fs::write(&resent, demo::camt053("STMT-T1", 1, &number, day(), opening, &lines, 0)).unwrap();
    imported(&b, &fin1, import(&resent, false, false)).await;
    let run = reconcile(&b, &fin1, false).await;
    assert!(run.reversed >= 1, "{run:?}");
    let old = item(&b, &fin1, overage.id).await;
    assert_eq!(old.row.status, SuspenseStatus::Resolved);
    let now_open: Vec<Decimal> =
        queue(&b, &fin1, Some(SuspenseKind::Overage)).await.iter().map(|r| r.amount).collect();
    assert_eq!(now_open, vec![Decimal::new(12_345, 2)]);
    ledger_balances(&b.url).await;
    assert!(report(&b, &fin1).await.proof_holds());
}

/// A DBA who edits a pending loss (its contract, or into a write-off to the
/// platform's money) gets it refused, not approved.
async fn a_proposal_edited_in_the_database_is_not_approved(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let sup1 = login(&b.s, "sup1").await;
    let (_, path, _) = day_file(&b, 40).await;
    imported(&b, &login(&b.s, "svc1").await, import(&path, false, false)).await;
    reconcile(&b, &fin1, false).await;
    let short = queue(&b, &fin1, Some(SuspenseKind::Shortage)).await.remove(0);
    call(&b.s, &fin1, ReconRequest::Claim { id: short.id }).await.unwrap();
    let loss =
        SuspenseAction::AcceptLoss { contract_ref: "协议7.2".into(), reason: "渠道不赔付".into() };
    let SuspenseOutcome::Proposed { proposal_id } = resolve(&b, &fin1, short.id, loss).await.unwrap() else {
        panic!()
    };
    e2e::raw_execute(&b.url, "UPDATE suspense_proposals SET action = replace(action, '协议7.2', '协议9.9')")
        .await
        .unwrap();
    let refused = call(&b.s, &sup1, ReconRequest::Decide { proposal_id, approve: true }).await.unwrap_err();
    assert!(matches!(refused, ApiError::Conflict { conflict: Conflict::Changed }), "{refused:?}");
    // Put back, it is approvable again.
    e2e::raw_execute(&b.url, "UPDATE suspense_proposals SET action = replace(action, '协议9.9', '协议7.2')")
        .await
        .unwrap();
    let ok = call(&b.s, &sup1, ReconRequest::Decide { proposal_id, approve: true }).await.unwrap();
    assert_eq!(ok, Response::SuspenseOutcome(SuspenseOutcome::Approved));
}

/// A Chinese bank's CSV (GBK, no account column) takes the account given, and a
/// bad amount names its line and column and stores nothing.
async fn a_bank_csv_takes_the_given_account(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let (_, number, _) = mybank(&b).await;
    let text = format!(
        "交易时间,交易流水号,子账号,对方户名,对方账号,交易金额,账户余额,摘要,备注\n\
         {d} 10:01:02,MYB-CSV-1,,杭州甲商贸有限公司,6222000011112222,1200.50,1200.50,货款,ORD1\n\
         {d} 11:00:00,MYB-CSV-2,,张三,6222000033334444,-200.00,1000.50,退款,RFD1\n",
        d = day()
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let path = b.dir.path().join("mybank.csv");
    std::fs::write(&path, &gbk).unwrap();
    let req = |dry_run| ReconRequest::ImportStatement {
        path: path.display().to_string(),
        account: Some(number.clone()),
        preset: Some("mybank".into()),
        dry_run,
        acknowledge_difference: false,
    };
    let dry = imported(&b, &fin1, req(true)).await;
    let s = &dry.statements[0];
    assert!(s.known_account, "{s:?}");
    assert_eq!((s.entries, s.credits, s.debits), (2, Decimal::new(120_050, 2), Decimal::new(20_000, 2)));
    imported(&b, &fin1, req(false)).await;
    assert_eq!(statement_lines(&b.url).await, 2);
    let bad = text.replace("-200.00", "-2O0.00");
    let (gbk, _, _) = encoding_rs::GBK.encode(&bad);
    std::fs::write(&path, &gbk).unwrap();
    match call(&b.s, &fin1, req(false)).await.unwrap_err() {
        ApiError::StatementFile { error, .. } => {
            assert_eq!(error.at, Location::Line { line: 3 });
            assert!(matches!(error.problem, StatementProblem::BadAmount { .. }), "{error:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(statement_lines(&b.url).await, 2);
}

on_both_databases!(
    a_bank_csv_takes_the_given_account,
    a_proposal_edited_in_the_database_is_not_approved,
    one_reviewer_cannot_move_money_alone,
    a_resent_file_supersedes_what_it_parked,
    the_command_line_imports_and_reconciles_as_the_service_operator,
    import_is_checked_atomic_and_idempotent,
    a_day_reconciles_with_no_wrong_automatic_match,
    each_action_posts_balanced_and_writes_off_once,
    a_resent_file_reverses_what_it_changes,
    unmatching_is_a_reversal_and_a_closed_day_stays,
    unmatching_a_fee_match_takes_its_fee_item_back,
    two_reviewers_resolve_one_item_once,
);
