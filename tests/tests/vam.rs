//! Virtual sub-accounts (虚拟子账户) through the services, on both databases: the
//! demo ledger adds up, bank credits land by suffix (unknown ones in 待识别入账),
//! holds and transfers respect available balances, four-eyes above the threshold,
//! interest allocates exactly and reverses, closing lists every blocker, the
//! ledger is append-only, and concurrent postings lose nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::auth::Permission;
use domain::ledger::{AccountId, CloseBlocker, OwnerKind, TransferKind, VirtualPurpose, VirtualStatus};
use domain::vam::{CreditOutcome, EntryFilter, PhysicalAccountView, VamOutcome, VirtualNodeView};
use domain::{ApiError, Conflict, InputProblem, Request, Response, VamOperation, VamRequest};
use e2e::{Db, TestDb, on_both_databases, vault};
use rust_decimal::Decimal;
use service::gateway::{CreditNotice, HttpBankGateway, HttpConfig};
use service::seed::{self, DEMO_PASSWORD};
use service::simulator::Simulator;
use service::{Services, Session, Workflow};
use std::sync::Arc;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

struct Bench {
    _db: TestDb,
    _dir: tempfile::TempDir,
    s: Services,
    sim: Arc<Simulator>,
    url: String,
}

/// Demo operators, 200 demo users and the demo ledger; the simulated bank holds
/// what the ledger booked and the demo's waiting notices.
async fn bench(db: Db) -> Bench {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    let sim = Simulator::new(store.clone(), vault());
    let addr = sim.clone().serve(0).await.unwrap();
    let mut fast = HttpConfig::new(format!("http://{addr}"));
    fast.max_per_second = 0;
    let dir = tempfile::tempdir().unwrap();
    let workflow =
        Workflow::new(None, Some(HttpBankGateway::new(fast).unwrap()), dir.path().join("evidence"));
    let s = Services::new(store, vault(), domain::auth::LoginPolicy::default()).with_workflow(workflow);
    seed::ensure_demo_operators(&s, now()).await.unwrap();
    seed::generate_into(&s, seed::DEMO_SEED, 200, seed::demo_anchor()).await.unwrap();
    s.vam().seed_demo(seed::demo_anchor()).await.unwrap();
    for (number, booked, pending) in s.vam().demo_bank().await.unwrap() {
        sim.open_bank_account(&number, booked);
        for notice in pending {
            sim.bank_credit(&number, notice);
        }
    }
    let url = t.url.clone();
    Bench { _db: t, _dir: dir, s, sim, url }
}

async fn login(s: &Services, user: &str) -> Session {
    let session = Session::default();
    let req = Request::Login { username: user.into(), password: DEMO_PASSWORD.into() };
    s.handle(&session, req, now()).await.unwrap();
    session
}

async fn call(s: &Services, session: &Session, req: VamRequest) -> Result<Response, ApiError> {
    s.handle(session, Request::Vam(req), now()).await
}

async fn physicals(b: &Bench, session: &Session) -> Vec<PhysicalAccountView> {
    let Response::PhysicalAccounts(list) = call(&b.s, session, VamRequest::PhysicalAccounts).await.unwrap()
    else {
        panic!()
    };
    list
}

/// Every node under a physical account, walking the tree page by page.
async fn all_nodes(b: &Bench, session: &Session, physical_id: Uuid) -> Vec<VirtualNodeView> {
    let mut out = Vec::new();
    let mut parents = vec![None];
    while let Some(parent) = parents.pop() {
        let mut after = None;
        loop {
            let req = VamRequest::Tree { physical_id, parent, after: after.clone(), limit: 7 };
            let Response::VirtualTree(page) = call(&b.s, session, req).await.unwrap() else { panic!() };
            for n in &page.nodes {
                if n.child_count > 0 {
                    parents.push(Some(n.id));
                }
            }
            out.extend(page.nodes);
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    out
}

async fn node(b: &Bench, session: &Session, account: AccountId) -> VirtualNodeView {
    let Response::SubAccount(d) = call(&b.s, session, VamRequest::SubAccount { account }).await.unwrap()
    else {
        panic!()
    };
    d.node
}

async fn proof(b: &Bench, session: &Session, physical_id: Uuid) -> domain::vam::ProofView {
    let Response::Proof(p) = call(&b.s, session, VamRequest::Proof { physical_id }).await.unwrap() else {
        panic!()
    };
    p
}

/// The whole audit chain verifies against its head (pages of postings append
/// their audit rows in one call on PostgreSQL).
async fn assert_chain(b: &Bench) {
    e2e::assert_chain_verifies(b.s.store().as_ref()).await;
}

/// Fen as the yuan the screens carry.
fn fen(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

fn wallet(nodes: &[VirtualNodeView]) -> &VirtualNodeView {
    nodes.iter().find(|n| n.purpose == VirtualPurpose::UserWallet && n.own_balance > fen(10_000)).unwrap()
}

async fn the_demo_ledger_adds_up(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let list = physicals(&b, &fin1).await;
    assert_eq!(list.len(), 3);
    for p in &list {
        let nodes = all_nodes(&b, &fin1, p.id).await;
        assert_eq!(nodes.len() as i64, p.virtual_count, "{p:?}");
        // The invariant: the physical account = Σ own balances + suspense + internal.
        let own: Decimal = nodes.iter().map(|n| n.own_balance).sum();
        assert_eq!(own, p.virtual_total);
        assert_eq!(p.ledger_balance, p.virtual_total + p.suspense_balance + p.internal_balance);
        // A parent's subtree = own + Σ children's subtrees.
        for parent in nodes.iter().filter(|n| n.child_count > 0) {
            let children: Decimal =
                nodes.iter().filter(|n| n.parent == Some(parent.id)).map(|n| n.subtree_balance).sum();
            assert_eq!(parent.subtree_balance, parent.own_balance + children);
        }
        let pr = proof(&b, &fin1, p.id).await;
        assert!(pr.holds, "{pr:?}");
        assert_eq!((pr.replay_breaks, pr.rollup_breaks), (0, 0));
        assert_eq!(pr.unexplained, Some(Decimal::ZERO), "the bank's balance is explained: {pr:?}");
    }
    // The platform account has unidentified credits and interest waiting, and the
    // bank holds credits the console has not fetched yet.
    let mybank = &list[0];
    assert!(mybank.suspense_balance > Decimal::ZERO);
    let pr = proof(&b, &fin1, mybank.id).await;
    assert!(pr.credits_in_transit > Decimal::ZERO && pr.unallocated_interest > Decimal::ZERO, "{pr:?}");
    // A customer-service agent sees the tree but cannot operate, and finds a
    // customer's sub-accounts in the three-tier lookup ("where is my money").
    let cs1 = login(&b.s, "cs1").await;
    let owned = all_nodes(&b, &fin1, mybank.id)
        .await
        .into_iter()
        .find(|n| n.owner.kind == OwnerKind::Customer)
        .unwrap();
    let customer_id = owned.owner.id.unwrap();
    let Response::CustomerTree(tree) =
        b.s.handle(&cs1, Request::CustomerTree { customer_id }, now()).await.unwrap()
    else {
        panic!()
    };
    let shown = tree.virtual_accounts.iter().find(|v| v.id == owned.id).expect("the wallet in the lookup");
    assert_eq!((shown.own_balance, &shown.number), (owned.own_balance, &owned.number));
    assert_eq!(physicals(&b, &cs1).await.len(), 3);
    let r = call(&b.s, &cs1, VamRequest::PollCredits { physical_id: mybank.id }).await;
    assert_eq!(r, Err(ApiError::Forbidden { permission: Permission::VirtualAccountOperate }));
}

async fn credits_land_by_suffix_and_unknown_ones_in_suspense(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let nodes = all_nodes(&b, &fin1, p.id).await;
    let target = wallet(&nodes);
    let full_number = b.s.store().virtual_node(target.id.0).await.unwrap().unwrap().number;
    let notice = |bank_ref: &str, payee: &str, amount_minor| CreditNotice {
        bank_ref: bank_ref.into(),
        payee_number: payee.into(),
        amount_minor,
        payer_name: "测试付款人".into(),
        booked_at: now(),
        kind: "credit".into(),
    };
    let physical_number = b.s.store().physical(p.id).await.unwrap().unwrap().number;
    b.sim.bank_credit(&physical_number, notice("T-1", &full_number, 12_345));
    b.sim.bank_credit(&physical_number, notice("T-2", &format!("{physical_number}7777770"), 500));
    // The bank sends the same notice twice: it is booked once.
    b.sim.bank_credit(&physical_number, notice("T-1", &full_number, 12_345));
    let before = node(&b, &fin1, target.id).await;
    let Response::Polled(summary) =
        call(&b.s, &fin1, VamRequest::PollCredits { physical_id: p.id }).await.unwrap()
    else {
        panic!()
    };
    // The demo's two waiting notices (one known, one unknown) came too.
    assert_eq!((summary.credited, summary.unidentified, summary.repeated), (2, 2, 1), "{summary:?}");
    let after = node(&b, &fin1, target.id).await;
    assert_eq!(after.own_balance - before.own_balance, fen(12_345));
    let again = physicals(&b, &fin1).await.remove(0);
    assert_eq!(again.suspense_balance - p.suspense_balance, fen(500 + 12_300));
    assert_chain(&b).await;
    let credits = e2e::scalar(&b.url, "SELECT COUNT(*) FROM audit_log WHERE action = 'vam.credit'").await;
    assert!(credits >= 5, "every booked notice has its audit row");
    // A second poll finds nothing new; the bank's balance is now fully explained.
    let Response::Polled(second) =
        call(&b.s, &fin1, VamRequest::PollCredits { physical_id: p.id }).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((second.credited, second.unidentified), (0, 0));
    let pr = proof(&b, &fin1, p.id).await;
    // The bank counted the duplicate twice; the ledger once: the drift names it.
    assert_eq!(pr.unexplained, Some(fen(12_345)), "{pr:?}");
    assert_eq!(pr.invariant_difference, Decimal::ZERO);
    // The credit is in the sub-account's entries with its running balance.
    let req =
        VamRequest::Entries { account: target.id, filter: EntryFilter::default(), before: None, limit: 5 };
    let Response::Entries(page) = call(&b.s, &fin1, req).await.unwrap() else { panic!() };
    assert_eq!(page.entries[0].kind, TransferKind::CreditIn);
    assert_eq!(page.entries[0].amount, fen(12_345));
    assert_eq!(page.entries[0].balance_after, after.own_balance);
    // A manual credit always waits for a checker; the checker's approval books it.
    let manual = VamOperation::ManualCredit {
        physical_id: p.id,
        number: full_number.clone(),
        amount: fen(100),
        bank_ref: "MANUAL-0001".into(),
        payer: "柜面补录".into(),
    };
    let Response::Vam(VamOutcome::Proposed { proposal_id }) =
        call(&b.s, &fin1, VamRequest::Do(manual)).await.unwrap()
    else {
        panic!()
    };
    let sup1 = login(&b.s, "sup1").await;
    let approve = VamRequest::Approve { proposal_id, approve: true };
    let r = call(&b.s, &sup1, approve.clone()).await.unwrap();
    assert_eq!(r, Response::Vam(VamOutcome::Credit(CreditOutcome::Credited { account: target.id })));
    assert_eq!(node(&b, &fin1, target.id).await.own_balance, after.own_balance + fen(100));
    let r = call(&b.s, &sup1, approve).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::ProposalDecided }));
}

async fn holds_and_transfers_respect_available_and_four_eyes(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let nodes = all_nodes(&b, &fin1, p.id).await;
    let from = wallet(&nodes).clone();
    let to =
        nodes.iter().find(|n| n.purpose == VirtualPurpose::UserWallet && n.id != from.id).unwrap().clone();
    let held = from.own_balance - fen(1_000);
    let freeze =
        VamOperation::Freeze {
            account: from.id, amount: held, reason: "司法冻结".into(), expires_at: None
        };
    let Response::Vam(VamOutcome::Posted { id: hold_id }) =
        call(&b.s, &fin1, VamRequest::Do(freeze)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(node(&b, &fin1, from.id).await.available, fen(1_000));
    // More than is available: refused, nothing moves.
    let too_much =
        VamOperation::Transfer { from: from.id, to: to.id, amount: fen(1_001), memo: "测试".into() };
    let r = call(&b.s, &fin1, VamRequest::Do(too_much)).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::InsufficientFunds }));
    assert_eq!(node(&b, &fin1, from.id).await.own_balance, from.own_balance);
    // Release part of the hold, then the transfer fits.
    let release = VamOperation::Release { hold: domain::ledger::HoldId(hold_id), amount: fen(500) };
    call(&b.s, &fin1, VamRequest::Do(release)).await.unwrap();
    assert_eq!(node(&b, &fin1, from.id).await.available, fen(1_500));
    let ok = VamOperation::Transfer { from: from.id, to: to.id, amount: fen(1_500), memo: "测试".into() };
    call(&b.s, &fin1, VamRequest::Do(ok)).await.unwrap();
    assert_eq!(node(&b, &fin1, to.id).await.own_balance, to.own_balance + fen(1_500));
    // Above the threshold a transfer waits for a supervisor, never its maker.
    let big_to = nodes.iter().find(|n| n.purpose == VirtualPurpose::Internal).unwrap();
    let platform_before = node(&b, &fin1, big_to.id).await;
    let big =
        VamOperation::Transfer { from: to.id, to: big_to.id, amount: fen(6_000_000), memo: "大额".into() };
    let Response::Vam(VamOutcome::Proposed { proposal_id }) =
        call(&b.s, &fin1, VamRequest::Do(big)).await.unwrap()
    else {
        panic!()
    };
    let r = call(&b.s, &fin1, VamRequest::Approve { proposal_id, approve: true }).await;
    assert_eq!(r, Err(ApiError::Forbidden { permission: Permission::VirtualAccountApprove }));
    let sup1 = login(&b.s, "sup1").await;
    // The wallet cannot pay ¥60,000: the approval is refused and changes nothing.
    let r = call(&b.s, &sup1, VamRequest::Approve { proposal_id, approve: true }).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::InsufficientFunds }));
    let Response::VamProposals(pending) = call(&b.s, &sup1, VamRequest::Proposals).await.unwrap() else {
        panic!()
    };
    assert!(pending.iter().any(|x| x.id == proposal_id), "still pending after a refused posting");
    call(&b.s, &sup1, VamRequest::Approve { proposal_id, approve: false }).await.unwrap();
    assert_eq!(node(&b, &fin1, big_to.id).await.own_balance, platform_before.own_balance);
    // A supervisor's own proposal needs the other supervisor.
    let small = VamOperation::Sweep { account: to.id, amount: fen(6_000_000) };
    let Response::Vam(VamOutcome::Proposed { proposal_id }) =
        call(&b.s, &sup1, VamRequest::Do(small)).await.unwrap()
    else {
        panic!()
    };
    let r = call(&b.s, &sup1, VamRequest::Approve { proposal_id, approve: true }).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::MakerIsChecker }));
    let pr = proof(&b, &fin1, p.id).await;
    assert_eq!((pr.invariant_difference, pr.replay_breaks, pr.rollup_breaks), (Decimal::ZERO, 0, 0));
}

async fn interest_allocates_exactly_and_reverses(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let (from, to) =
        (NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(), NaiveDate::from_ymd_opt(2026, 10, 31).unwrap());
    let interest = fen(12_345);
    let req = VamRequest::InterestPreview { physical_id: p.id, from, to, interest };
    let Response::InterestPreview(preview) = call(&b.s, &fin1, req.clone()).await.unwrap() else { panic!() };
    assert_eq!(preview.allocated, interest, "every fen allocated");
    assert!(preview.account_count > 1);
    let Response::InterestPreview(again) = call(&b.s, &fin1, req).await.unwrap() else { panic!() };
    assert_eq!(again, preview, "same input, same allocation");
    let before: Vec<_> = all_nodes(&b, &fin1, p.id).await;
    // A stale digest is refused.
    let stale = VamOperation::PostInterest { physical_id: p.id, from, to, interest, digest: "0".repeat(32) };
    let r = call(&b.s, &fin1, VamRequest::Do(stale)).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::StalePreview }));
    let post =
        VamOperation::PostInterest { physical_id: p.id, from, to, interest, digest: preview.digest.clone() };
    let Response::Vam(VamOutcome::Posted { id }) = call(&b.s, &fin1, VamRequest::Do(post)).await.unwrap()
    else {
        panic!()
    };
    let after = all_nodes(&b, &fin1, p.id).await;
    let gained: Decimal = after.iter().map(|n| n.own_balance).sum::<Decimal>()
        - before.iter().map(|n| n.own_balance).sum::<Decimal>();
    assert_eq!(gained, interest);
    let listed = preview.lines.iter().find(|l| l.share > Decimal::ZERO).unwrap();
    let was = before.iter().find(|n| n.id == listed.account).unwrap().own_balance;
    let now_ = after.iter().find(|n| n.id == listed.account).unwrap().own_balance;
    assert_eq!(now_ - was, listed.share);
    assert_eq!(physicals(&b, &fin1).await[0].internal_balance, p.internal_balance - interest);
    // The reversal restores every balance; a second reversal is refused.
    let reverse =
        VamOperation::Reverse { transfer: domain::ledger::TransferId(id), reason: "期间选错".into() };
    call(&b.s, &fin1, VamRequest::Do(reverse.clone())).await.unwrap();
    let restored = all_nodes(&b, &fin1, p.id).await;
    for n in &before {
        let r = restored.iter().find(|x| x.id == n.id).unwrap();
        assert_eq!(r.own_balance, n.own_balance, "{}", n.number);
    }
    let r = call(&b.s, &fin1, VamRequest::Do(reverse)).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::AlreadyReversed }));
    let pr = proof(&b, &fin1, p.id).await;
    assert_eq!((pr.invariant_difference, pr.replay_breaks, pr.rollup_breaks), (Decimal::ZERO, 0, 0));
}

async fn closing_lists_every_blocker_then_closes(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let cmb = physicals(&b, &fin1).await.remove(2);
    let nodes = all_nodes(&b, &fin1, cmb.id).await;
    let bidder = nodes.iter().find(|n| n.purpose == VirtualPurpose::BidDeposit).unwrap().clone();
    let freeze = VamOperation::Freeze {
        account: bidder.id,
        amount: fen(10_000),
        reason: "评标期间".into(),
        expires_at: None,
    };
    let Response::Vam(VamOutcome::Posted { id: hold }) =
        call(&b.s, &fin1, VamRequest::Do(freeze)).await.unwrap()
    else {
        panic!()
    };
    let Response::CloseCheck(blockers) =
        call(&b.s, &fin1, VamRequest::CloseCheck { account: bidder.id }).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(
        blockers,
        vec![
            CloseBlocker::NonZeroBalance { balance_minor: 5_000_000 },
            CloseBlocker::ActiveHolds { count: 1, held_minor: 10_000 },
        ]
    );
    let close = VamRequest::Do(VamOperation::Close { account: bidder.id });
    let r = call(&b.s, &fin1, close.clone()).await.unwrap();
    assert_eq!(r, Response::Vam(VamOutcome::Blocked { blockers }));
    // The tender closes: release, refund the deposit to the main account, close.
    call(
        &b.s,
        &fin1,
        VamRequest::Do(VamOperation::Release { hold: domain::ledger::HoldId(hold), amount: fen(10_000) }),
    )
    .await
    .unwrap();
    // ¥50,000 is at the threshold: the refund waits for a supervisor.
    let refund = VamOperation::Sweep { account: bidder.id, amount: fen(5_000_000) };
    let Response::Vam(VamOutcome::Proposed { proposal_id }) =
        call(&b.s, &fin1, VamRequest::Do(refund)).await.unwrap()
    else {
        panic!()
    };
    let sup2 = login(&b.s, "sup2").await;
    call(&b.s, &sup2, VamRequest::Approve { proposal_id, approve: true }).await.unwrap();
    assert_eq!(call(&b.s, &fin1, close).await.unwrap(), Response::Vam(VamOutcome::Closed));
    assert_eq!(node(&b, &fin1, bidder.id).await.status, VirtualStatus::Closed);
    assert_eq!(
        e2e::scalar(&b.url, "SELECT COUNT(*) FROM outbox WHERE topic = 'virtual_account.closed'").await,
        1
    );
    // Another bidder does not get the closed number before its quarantine ends.
    let open = VamOperation::Open {
        physical_id: cmb.id,
        parent: bidder.parent,
        owner_kind: OwnerKind::Merchant,
        owner_id: None,
        owner_name: "新投标人丁公司".into(),
        purpose: VirtualPurpose::BidDeposit,
    };
    let Response::Vam(VamOutcome::Posted { id }) = call(&b.s, &fin1, VamRequest::Do(open)).await.unwrap()
    else {
        panic!()
    };
    let new = node(&b, &fin1, AccountId(id)).await;
    assert_ne!(new.number, bidder.number);
    let pr = proof(&b, &fin1, cmb.id).await;
    assert!(pr.holds, "{pr:?}");
}

async fn the_ledger_is_append_only(db: Db) {
    let b = bench(db).await;
    for sql in [
        "UPDATE transfer_lines SET amount_minor = amount_minor + 1",
        "DELETE FROM transfer_lines",
        "UPDATE transfers SET memo = 'x'",
        "DELETE FROM transfers",
    ] {
        assert!(e2e::raw_execute(&b.url, sql).await.is_err(), "{sql} was allowed");
    }
    assert!(e2e::scalar(&b.url, "SELECT COUNT(*) FROM transfer_lines").await > 0);
}

/// The shape on PostgreSQL: 20 tasks × 10,000 credits across 1,000
/// sub-accounts of one physical account (about 40 s here); SQLite, one writer at a
/// time by design, runs 20 × 500 over the demo's wallets.
async fn concurrent_postings_lose_nothing(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let mut nodes: Vec<_> = all_nodes(&b, &fin1, p.id)
        .await
        .into_iter()
        .filter(|n| n.purpose == VirtualPurpose::UserWallet)
        .collect();
    let per_task = match db {
        Db::Postgres => 10_000_usize,
        Db::Sqlite => 500,
    };
    if db == Db::Postgres {
        for i in nodes.len()..1_000 {
            let open = VamOperation::Open {
                physical_id: p.id,
                parent: None,
                owner_kind: OwnerKind::Internal,
                owner_id: None,
                owner_name: format!("压测账户{i}"),
                purpose: VirtualPurpose::UserWallet,
            };
            let Response::Vam(VamOutcome::Posted { id }) =
                call(&b.s, &fin1, VamRequest::Do(open)).await.unwrap()
            else {
                panic!()
            };
            nodes.push(node(&b, &fin1, AccountId(id)).await);
        }
        assert_eq!(nodes.len(), 1_000);
    }
    let physical = b.s.store().physical(p.id).await.unwrap().unwrap();
    let store = b.s.store().clone();
    let mut tasks = Vec::new();
    for task in 0..20_usize {
        let store = store.clone();
        let nodes = nodes.clone();
        let asset = physical.asset_account;
        tasks.push(tokio::spawn(async move {
            let mut posted = 0_i64;
            for i in 0..per_task {
                let to = &nodes[(task * 7 + i * 3) % nodes.len()];
                let t = transfer_row(
                    TransferKind::CreditIn,
                    format!("load:{task}:{i}"),
                    p.id,
                    "load",
                    now() + Duration::seconds(i as i64),
                    vec![(asset, 100), (to.id.0, -100)],
                );
                let audit = store::NewAudit::new(now(), "load", "vam.credit", "load", serde_json::json!({}));
                loop {
                    match store.post_transfer(&t, store::PostWith::default(), audit.clone()).await {
                        Ok(store::PostOutcome::New(_)) => {
                            posted += 100;
                            break;
                        }
                        Ok(store::PostOutcome::Repeat(_)) => break,
                        // Twenty writers on SQLite: a busy answer means "try again".
                        Err(store::StoreError::Busy) => tokio::task::yield_now().await,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            posted
        }));
    }
    // The same key sent by five tasks at once posts once.
    let mut same = Vec::new();
    for _ in 0..5 {
        let store = store.clone();
        let (asset, to) = (physical.asset_account, nodes[0].id.0);
        same.push(tokio::spawn(async move {
            let t =
                transfer_row(TransferKind::CreditIn, "once", p.id, "load", now(), vec![(asset, 7), (to, -7)]);
            let audit = store::NewAudit::new(now(), "load", "vam.credit", "once", serde_json::json!({}));
            loop {
                match store.post_transfer(&t, store::PostWith::default(), audit.clone()).await {
                    Err(store::StoreError::Busy) => tokio::task::yield_now().await,
                    other => return other.unwrap(),
                }
            }
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    let mut ids = Vec::new();
    let mut new = 0;
    for task in same {
        let outcome = task.await.unwrap();
        new += usize::from(matches!(outcome, store::PostOutcome::New(_)));
        ids.push(outcome.id());
    }
    assert_eq!(new, 1, "one posting for one key");
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "every sender gets the first transfer's id");
    let after = physicals(&b, &fin1).await.remove(0);
    assert_eq!(after.ledger_balance - p.ledger_balance, fen(total + 7));
    assert_eq!(after.virtual_total - p.virtual_total, fen(total + 7));
    let pr = proof(&b, &fin1, p.id).await;
    assert_eq!((pr.invariant_difference, pr.replay_breaks, pr.rollup_breaks), (Decimal::ZERO, 0, 0));
    assert_chain(&b).await;
}

/// A transfer posted straight to the store (what another desktop, or the bank
/// feed, writes), for races and load.
fn transfer_row(
    kind: TransferKind,
    key: impl Into<String>,
    physical_id: Uuid,
    by: &str,
    at: DateTime<Utc>,
    lines: Vec<(Uuid, i64)>,
) -> store::NewTransferRow {
    store::NewTransferRow {
        id: Uuid::now_v7(),
        kind,
        idempotency_key: key.into(),
        reverses: None,
        physical_id,
        memo: String::new(),
        posted_by: by.to_owned(),
        posted_at: at,
        lines,
    }
}

/// Lowers the approval threshold (a configurable amount) for a test.
async fn threshold(b: &Bench, minor: i64) {
    let audit = store::NewAudit::new(now(), "test", "setting", "vam", serde_json::json!({}));
    b.s.store().put_setting(service::vam::THRESHOLD_KEY, &minor.to_string(), audit).await.unwrap();
}

/// Attacks an auditor found, each shown failing.
async fn the_interest_pool_cannot_be_overspent_by_parallel_postings(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let pool = b.s.store().physical_totals(p.id).await.unwrap().interest_minor;
    assert_eq!(pool, 12_345);
    // Two periods, each within the pool, together beyond it, posted at once.
    let periods = [((2026, 8, 1), (2026, 8, 31)), ((2026, 9, 1), (2026, 9, 30))];
    let mut posts = Vec::new();
    for ((fy, fm, fd), (ty, tm, td)) in periods {
        let (from, to) =
            (NaiveDate::from_ymd_opt(fy, fm, fd).unwrap(), NaiveDate::from_ymd_opt(ty, tm, td).unwrap());
        let req = VamRequest::InterestPreview { physical_id: p.id, from, to, interest: fen(10_000) };
        let Response::InterestPreview(preview) = call(&b.s, &fin1, req).await.unwrap() else { panic!() };
        posts.push(VamOperation::PostInterest {
            physical_id: p.id,
            from,
            to,
            interest: fen(10_000),
            digest: preview.digest,
        });
    }
    let (a, c) = tokio::join!(
        call(&b.s, &fin1, VamRequest::Do(posts[0].clone())),
        call(&b.s, &fin1, VamRequest::Do(posts[1].clone()))
    );
    let refused = [&a, &c]
        .iter()
        .filter(|r| **r == &Err(ApiError::Conflict { conflict: Conflict::InsufficientFunds }))
        .count();
    assert_eq!(refused, 1, "{a:?} {c:?}");
    assert_eq!(b.s.store().physical_totals(p.id).await.unwrap().interest_minor, 2_345);
    assert!(proof(&b, &fin1, p.id).await.holds);
    // The store itself refuses a posting that would take the pool below zero
    // (whatever the service checked before).
    let physical = b.s.store().physical(p.id).await.unwrap().unwrap();
    let wallet_id =
        all_nodes(&b, &fin1, p.id).await.iter().find(|n| n.purpose == VirtualPurpose::UserWallet).unwrap().id;
    let t = transfer_row(
        TransferKind::Interest,
        "drain",
        p.id,
        "fin1",
        now(),
        vec![(physical.interest_account, 2_346), (wallet_id.0, -2_346)],
    );
    let audit = store::NewAudit::new(now(), "fin1", "vam.interest", "drain", serde_json::json!({}));
    let r = b.s.store().post_transfer(&t, store::PostWith::default(), audit).await;
    assert!(matches!(r, Err(store::StoreError::Conflict(Conflict::InsufficientFunds))), "{r:?}");
    assert_eq!(b.s.store().physical_totals(p.id).await.unwrap().interest_minor, 2_345);
}

async fn a_credit_racing_a_close_never_leaves_money_in_a_closed_account(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let physical = b.s.store().physical(p.id).await.unwrap().unwrap();
    for round in 0..12 {
        let open = VamOperation::Open {
            physical_id: p.id,
            parent: None,
            owner_kind: OwnerKind::Internal,
            owner_id: None,
            owner_name: format!("临时账户{round}"),
            purpose: VirtualPurpose::Internal,
        };
        let Response::Vam(VamOutcome::Posted { id }) = call(&b.s, &fin1, VamRequest::Do(open)).await.unwrap()
        else {
            panic!()
        };
        let store = b.s.store().clone();
        let credit = async move {
            let t = transfer_row(
                TransferKind::CreditIn,
                format!("race:{round}"),
                p.id,
                "bank",
                now(),
                vec![(physical.asset_account, 100), (id, -100)],
            );
            let audit = store::NewAudit::new(now(), "bank", "vam.credit", "race", serde_json::json!({}));
            store.post_transfer(&t, store::PostWith::default(), audit).await
        };
        let close = call(&b.s, &fin1, VamRequest::Do(VamOperation::Close { account: AccountId(id) }));
        let (credited, closed) = tokio::join!(credit, close);
        let row = b.s.store().virtual_node(id).await.unwrap().unwrap();
        if row.status == VirtualStatus::Closed {
            assert_eq!(row.own_minor(), 0, "round {round}: closed with money ({credited:?}, {closed:?})");
        } else {
            assert!(credited.is_ok(), "round {round}: neither happened");
        }
    }
    let pr = proof(&b, &fin1, p.id).await;
    assert_eq!((pr.invariant_difference, pr.replay_breaks, pr.rollup_breaks), (Decimal::ZERO, 0, 0));
}

async fn splitting_an_amount_does_not_dodge_the_checker(db: Db) {
    let b = bench(db).await;
    threshold(&b, 1_000).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let nodes = all_nodes(&b, &fin1, p.id).await;
    let from = wallet(&nodes).clone();
    let to = nodes.iter().find(|n| n.purpose == VirtualPurpose::Internal).unwrap().clone();
    let piece =
        || VamOperation::Transfer { from: from.id, to: to.id, amount: fen(600), memo: "拆分".into() };
    let first = call(&b.s, &fin1, VamRequest::Do(piece())).await.unwrap();
    assert!(matches!(first, Response::Vam(VamOutcome::Posted { .. })), "{first:?}");
    // ¥6 + ¥6 reaches the ¥10 threshold: the second piece waits for a checker.
    let second = call(&b.s, &fin1, VamRequest::Do(piece())).await.unwrap();
    assert!(matches!(second, Response::Vam(VamOutcome::Proposed { .. })), "{second:?}");
    // Lifting a freeze at the threshold needs a checker too.
    let freeze = VamOperation::Freeze {
        account: from.id,
        amount: fen(2_000),
        reason: "冻结".into(),
        expires_at: None,
    };
    let Response::Vam(VamOutcome::Posted { id: hold }) =
        call(&b.s, &fin1, VamRequest::Do(freeze)).await.unwrap()
    else {
        panic!()
    };
    let release = VamOperation::Release { hold: domain::ledger::HoldId(hold), amount: fen(2_000) };
    let r = call(&b.s, &fin1, VamRequest::Do(release)).await.unwrap();
    assert!(matches!(r, Response::Vam(VamOutcome::Proposed { .. })), "{r:?}");
    assert_eq!(node(&b, &fin1, from.id).await.held, fen(2_000));
}

async fn a_bank_reference_books_once_however_it_is_typed(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let sup1 = login(&b.s, "sup1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let nodes = all_nodes(&b, &fin1, p.id).await;
    let target = wallet(&nodes);
    let number = b.s.store().virtual_node(target.id.0).await.unwrap().unwrap().number;
    let manual = VamOperation::ManualCredit {
        physical_id: p.id,
        number: number.clone(),
        amount: fen(5_000),
        bank_ref: " ref-2026-a ".into(),
        payer: "柜面".into(),
    };
    let Response::Vam(VamOutcome::Proposed { proposal_id }) =
        call(&b.s, &fin1, VamRequest::Do(manual)).await.unwrap()
    else {
        panic!()
    };
    call(&b.s, &sup1, VamRequest::Approve { proposal_id, approve: true }).await.unwrap();
    let booked = node(&b, &fin1, target.id).await.own_balance;
    // The bank then sends the same credit under its own spelling: booked once.
    let physical_number = b.s.store().physical(p.id).await.unwrap().unwrap().number;
    b.sim.bank_credit(
        &physical_number,
        CreditNotice {
            bank_ref: "REF-2026-A".into(),
            payee_number: number.clone(),
            amount_minor: 5_000,
            payer_name: "柜面".into(),
            booked_at: now(),
            kind: "credit".into(),
        },
    );
    let Response::Polled(summary) =
        call(&b.s, &fin1, VamRequest::PollCredits { physical_id: p.id }).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(summary.repeated, 1, "{summary:?}");
    assert_eq!(node(&b, &fin1, target.id).await.own_balance, booked);
    // The same reference with another amount is refused, never absorbed, and the
    // page it came in is booked whole or not at all.
    b.sim.bank_credit(
        &physical_number,
        CreditNotice {
            bank_ref: "REF-2026-B".into(),
            payee_number: number.clone(),
            amount_minor: 1_000,
            payer_name: "柜面".into(),
            booked_at: now(),
            kind: "credit".into(),
        },
    );
    b.sim.bank_credit(
        &physical_number,
        CreditNotice {
            bank_ref: "ref-2026-a".into(),
            payee_number: number,
            amount_minor: 9_999,
            payer_name: "柜面".into(),
            booked_at: now(),
            kind: "credit".into(),
        },
    );
    let r = call(&b.s, &fin1, VamRequest::PollCredits { physical_id: p.id }).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::KeyReused }));
    assert!(!b.s.store().credit_booked(p.id, "REF-2026-B").await.unwrap(), "half a page was booked");
    assert_eq!(node(&b, &fin1, target.id).await.own_balance, booked);
    // A date far away is a clear input error, not a crash.
    let far = NaiveDate::from_ymd_opt(262_000, 12, 31).unwrap();
    let r = call(&b.s, &fin1, VamRequest::BalanceSeries { account: target.id, from: far, to: far }).await;
    assert!(matches!(r, Err(ApiError::InvalidInput { .. })), "{r:?}");
}

/// Random operation sequences through the services (seeded, so a failure
/// repeats): after every step the invariant holds, every stored total equals the
/// replay of its entries, subtrees roll up, and no available balance is negative.
async fn random_operations_keep_the_ledger_whole(db: Db) {
    let b = bench(db).await;
    threshold(&b, 100_000_000).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(1);
    let nodes = all_nodes(&b, &fin1, p.id).await;
    let mut numbers = std::collections::HashMap::new();
    for n in &nodes {
        numbers.insert(n.id, b.s.store().virtual_node(n.id.0).await.unwrap().unwrap().number);
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |below: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % below.max(1)
    };
    let mut posted = Vec::new();
    let mut holds = Vec::new();
    for step in 0..60 {
        let a = nodes[next(nodes.len() as u64) as usize].id;
        let c = nodes[next(nodes.len() as u64) as usize].id;
        let amount = fen(1 + next(300_000) as i64);
        let op = match next(6) {
            0 => VamOperation::ManualCredit {
                physical_id: p.id,
                number: numbers[&a].clone(),
                amount,
                bank_ref: format!("RANDOM-{step}"),
                payer: "随机".into(),
            },
            1 | 2 => VamOperation::Transfer { from: a, to: c, amount, memo: "随机".into() },
            3 => VamOperation::Freeze { account: a, amount, reason: "随机".into(), expires_at: None },
            4 if !holds.is_empty() => {
                VamOperation::Release { hold: holds[next(holds.len() as u64) as usize], amount: fen(1) }
            }
            _ if !posted.is_empty() => VamOperation::Reverse {
                transfer: posted[next(posted.len() as u64) as usize],
                reason: "随机".into(),
            },
            _ => VamOperation::Sweep { account: a, amount },
        };
        match call(&b.s, &fin1, VamRequest::Do(op.clone())).await {
            Ok(Response::Vam(VamOutcome::Posted { id })) => match op {
                VamOperation::Freeze { .. } => holds.push(domain::ledger::HoldId(id)),
                VamOperation::Transfer { .. } | VamOperation::Sweep { .. } => {
                    posted.push(domain::ledger::TransferId(id))
                }
                _ => {}
            },
            Ok(Response::Vam(VamOutcome::Proposed { proposal_id })) => {
                let sup1 = login(&b.s, "sup1").await;
                let _ = call(&b.s, &sup1, VamRequest::Approve { proposal_id, approve: true }).await;
            }
            Ok(other) => panic!("step {step}: {other:?}"),
            // Refusals (too little available, already reversed, a released hold, the
            // same account on both sides) change nothing.
            Err(ApiError::Conflict { .. }) => {}
            Err(ApiError::InvalidInput { field, problem: InputProblem::SameAccount }) if field == "to" => {}
            Err(e) => panic!("step {step}: {op:?} -> {e:?}"),
        }
        let pr = proof(&b, &fin1, p.id).await;
        assert_eq!(
            (pr.invariant_difference, pr.replay_breaks, pr.rollup_breaks),
            (Decimal::ZERO, 0, 0),
            "step {step} after {op:?}"
        );
        for n in all_nodes(&b, &fin1, p.id).await {
            assert!(n.available >= Decimal::ZERO, "step {step}: {} available {}", n.number, n.available);
        }
    }
    assert!(!posted.is_empty() && !holds.is_empty(), "the sequence exercised postings and holds");
}

async fn a_tender_refunds_every_deposit_in_one_action(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let cmb = physicals(&b, &fin1).await.remove(2);
    let nodes = all_nodes(&b, &fin1, cmb.id).await;
    let tender = nodes.iter().find(|n| n.parent.is_none()).unwrap().clone();
    let bidders: Vec<_> = nodes.iter().filter(|n| n.purpose == VirtualPurpose::BidDeposit).cloned().collect();
    assert_eq!(bidders.len(), 3);
    let settle = VamRequest::Do(VamOperation::SettleTender { tender: tender.id });
    // ¥150,000 leaves the bank: a supervisor approves it.
    let Response::Vam(VamOutcome::Proposed { proposal_id }) = call(&b.s, &fin1, settle).await.unwrap() else {
        panic!()
    };
    let sup1 = login(&b.s, "sup1").await;
    let r = call(&b.s, &sup1, VamRequest::Approve { proposal_id, approve: true }).await.unwrap();
    let Response::Vam(VamOutcome::Posted { id }) = r else { panic!("{r:?}") };
    let (kind, _, lines) = b.s.store().transfer_lines(id).await.unwrap().unwrap();
    assert_eq!(kind, TransferKind::Refund);
    assert_eq!(lines.len(), 4, "one transfer: three deposits and the bank");
    for bidder in &bidders {
        let after = node(&b, &fin1, bidder.id).await;
        assert_eq!((after.status, after.own_balance), (VirtualStatus::Closed, Decimal::ZERO));
    }
    let after = physicals(&b, &fin1).await.remove(2);
    assert_eq!(cmb.ledger_balance - after.ledger_balance, fen(15_000_000));
    let pr = proof(&b, &fin1, cmb.id).await;
    assert_eq!((pr.invariant_difference, pr.replay_breaks, pr.rollup_breaks), (Decimal::ZERO, 0, 0));
}

async fn order_escrow_pays_out_of_its_hold_never_above_it(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let cz = physicals(&b, &fin1).await.remove(1);
    let nodes = all_nodes(&b, &fin1, cz.id).await;
    let escrow = nodes.iter().find(|n| n.purpose == VirtualPurpose::OrderEscrow).unwrap().clone();
    let merchant = nodes.iter().find(|n| Some(n.id) == escrow.parent).unwrap().clone();
    let Response::SubAccount(detail) =
        call(&b.s, &fin1, VamRequest::SubAccount { account: escrow.id }).await.unwrap()
    else {
        panic!()
    };
    let hold = detail.holds[0].clone();
    // Part of the hold goes to the merchant; the hold shrinks by as much.
    let part = VamOperation::PostHold { hold: hold.id, amount: fen(10_000), to: merchant.id };
    call(&b.s, &fin1, VamRequest::Do(part)).await.unwrap();
    let after = node(&b, &fin1, escrow.id).await;
    assert_eq!(after.own_balance, escrow.own_balance - fen(10_000));
    assert_eq!(after.held, escrow.held - fen(10_000));
    assert_eq!(after.available, escrow.available, "paying out of a hold leaves the available balance");
    assert_eq!(node(&b, &fin1, merchant.id).await.own_balance, merchant.own_balance + fen(10_000));
    // Never above what the hold still reserves.
    let remaining = hold.remaining - fen(10_000);
    let too_much = VamOperation::PostHold { hold: hold.id, amount: remaining + fen(1), to: merchant.id };
    let r = call(&b.s, &fin1, VamRequest::Do(too_much)).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::InsufficientFunds }));
    assert_eq!(node(&b, &fin1, escrow.id).await.own_balance, after.own_balance);
    let pr = proof(&b, &fin1, cz.id).await;
    assert_eq!((pr.invariant_difference, pr.replay_breaks, pr.rollup_breaks), (Decimal::ZERO, 0, 0));
}

async fn previews_show_every_account_and_change_nothing(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let cmb = physicals(&b, &fin1).await.remove(2);
    let nodes = all_nodes(&b, &fin1, cmb.id).await;
    let tender = nodes.iter().find(|n| n.parent.is_none()).unwrap().clone();
    let req = VamRequest::Preview(VamOperation::SettleTender { tender: tender.id });
    let Response::OperationPreview(p) = call(&b.s, &fin1, req).await.unwrap() else { panic!() };
    // Three deposits out, the bank balance down by as much, and a checker needed.
    assert_eq!(p.lines.len(), 4);
    let deposits: Decimal = p
        .lines
        .iter()
        .filter(|l| matches!(l.account, domain::vam::PreviewAccount::SubAccount { .. }))
        .map(|l| l.change)
        .sum();
    assert_eq!(deposits, fen(-15_000_000));
    let bank =
        p.lines.iter().find(|l| matches!(l.account, domain::vam::PreviewAccount::Pool { .. })).unwrap();
    assert_eq!((bank.change, bank.before), (fen(-15_000_000), cmb.ledger_balance));
    assert!(p.needs_checker && !p.short && p.blockers.is_empty(), "{p:?}");
    for l in &p.lines {
        assert_eq!(l.after, l.before + l.change);
    }
    // A sweep of more than is available is shown short, and nothing moved.
    let bidder = nodes.iter().find(|n| n.purpose == VirtualPurpose::BidDeposit).unwrap();
    let req =
        VamRequest::Preview(VamOperation::Sweep { account: bidder.id, amount: bidder.own_balance + fen(1) });
    let Response::OperationPreview(p) = call(&b.s, &fin1, req).await.unwrap() else { panic!() };
    assert!(p.short, "{p:?}");
    assert_eq!(physicals(&b, &fin1).await.remove(2), cmb);
}

/// Postings sent at once are written in groups (one transaction for many): each is
/// still judged on its own, in order, against what the earlier ones left. Thirty
/// debits of a tenth of a wallet, from this desktop and another one on the same
/// database, land exactly ten times; the rest are refused by name, with no audit row.
async fn a_group_judges_each_posting_on_its_own(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let wallets: Vec<_> = all_nodes(&b, &fin1, p.id)
        .await
        .into_iter()
        .filter(|n| n.purpose == VirtualPurpose::UserWallet && n.status == VirtualStatus::Active)
        .collect();
    let from = wallets.iter().max_by_key(|n| n.available).unwrap().clone();
    let available = i64::try_from((from.available * Decimal::from(100)).trunc().mantissa()).unwrap();
    assert!(available >= 10, "{from:?}");
    let tenth = available / 10;
    let other = store::open(&b.url).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..30_usize {
        let store = if i % 2 == 0 { b.s.store().clone() } else { other.clone() };
        let to = wallets.iter().filter(|n| n.id != from.id).nth(i % 5).unwrap().id.0;
        let from = from.id.0;
        tasks.push(tokio::spawn(async move {
            let t = transfer_row(
                TransferKind::InternalTransfer,
                format!("tenth:{i}"),
                p.id,
                "fin1",
                now(),
                vec![(from, tenth), (to, -tenth)],
            );
            let audit =
                store::NewAudit::new(now(), "fin1", "vam.tenth", format!("{i}"), serde_json::json!({}));
            loop {
                match store.post_transfer(&t, store::PostWith::default(), audit.clone()).await {
                    Err(store::StoreError::Busy) => tokio::task::yield_now().await,
                    other => return other,
                }
            }
        }));
    }
    let mut landed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(store::PostOutcome::New(_)) => landed += 1,
            Err(store::StoreError::Conflict(Conflict::InsufficientFunds)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(landed, available / tenth, "every tenth that fits lands, none more");
    let after = node(&b, &fin1, from.id).await;
    assert_eq!(after.own_balance, from.own_balance - fen(landed * tenth));
    assert!(after.available >= Decimal::ZERO);
    let audited =
        b.s.store().audit_page(None, 1_000).await.unwrap().iter().filter(|r| r.action == "vam.tenth").count();
    assert_eq!(audited as i64, landed, "one audit row per posting that landed");
    let pr = proof(&b, &fin1, p.id).await;
    assert_eq!((pr.invariant_difference, pr.replay_breaks, pr.rollup_breaks), (Decimal::ZERO, 0, 0));
    assert_chain(&b).await;
}

/// The proof is not a formality: a balance edited behind the ledger's back (what a
/// DBA with psql could do) shows as a replay break and an invariant difference, and
/// a subtree total edited shows as a roll-up break; the proof then does not hold.
async fn the_proof_finds_balances_edited_behind_its_back(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    assert!(proof(&b, &fin1, p.id).await.holds);
    let nodes = all_nodes(&b, &fin1, p.id).await;
    let leaf = nodes.iter().find(|n| n.child_count == 0 && n.parent.is_some()).unwrap();
    let id = |id: Uuid| match db {
        Db::Sqlite => format!("X'{}'", id.simple()),
        Db::Postgres => format!("'{id}'"),
    };
    e2e::raw_execute(
        &b.url,
        &format!("UPDATE ledger_accounts SET credits_minor = credits_minor + 1 WHERE id = {}", id(leaf.id.0)),
    )
    .await
    .unwrap();
    let pr = proof(&b, &fin1, p.id).await;
    assert!(!pr.holds, "{pr:?}");
    assert_eq!(pr.replay_breaks, 1, "{pr:?}");
    assert_eq!(pr.invariant_difference, fen(-1), "{pr:?}");
    // The leaf's parent now disagrees with its children too.
    assert_eq!(pr.rollup_breaks, 1, "{pr:?}");
    e2e::raw_execute(
        &b.url,
        &format!("UPDATE ledger_accounts SET credits_minor = credits_minor - 1 WHERE id = {}", id(leaf.id.0)),
    )
    .await
    .unwrap();
    assert!(proof(&b, &fin1, p.id).await.holds);
    let parent = leaf.parent.unwrap();
    e2e::raw_execute(
        &b.url,
        &format!(
            "INSERT INTO subtree_shards (account_id, shard, amount_minor) VALUES ({}, 15, 5) \
             ON CONFLICT (account_id, shard) DO UPDATE SET amount_minor = subtree_shards.amount_minor + 5",
            id(parent.0)
        ),
    )
    .await
    .unwrap();
    let pr = proof(&b, &fin1, p.id).await;
    assert!(!pr.holds && pr.rollup_breaks >= 1 && pr.replay_breaks == 0, "{pr:?}");
}

/// The screen's request id makes an operation retry-safe: the same transfer sent
/// twice at once (a double click) and again after a lost answer posts once; the id
/// with another operation is refused; the same for a proposal, whose id another
/// operator cannot claim.
async fn a_repeated_request_posts_once(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let nodes = all_nodes(&b, &fin1, p.id).await;
    let from = wallet(&nodes).clone();
    let to =
        nodes.iter().find(|n| n.purpose == VirtualPurpose::UserWallet && n.id != from.id).unwrap().clone();
    let transfer = |amount: i64| VamOperation::Transfer {
        from: from.id,
        to: to.id,
        amount: fen(amount),
        memo: "重试".into(),
    };
    let request_id = Uuid::now_v7();
    let once = || VamRequest::DoOnce { request_id, operation: transfer(100) };
    let (a, c) = tokio::join!(call(&b.s, &fin1, once()), call(&b.s, &fin1, once()));
    let again = call(&b.s, &fin1, once()).await;
    let ids: Vec<Uuid> = [a, c, again]
        .into_iter()
        .map(|r| match r {
            Ok(Response::Vam(VamOutcome::Posted { id })) => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(node(&b, &fin1, from.id).await.own_balance, from.own_balance - fen(100));
    // A new request is a new transfer; the old id with another amount is refused.
    let new = VamRequest::DoOnce { request_id: Uuid::now_v7(), operation: transfer(100) };
    call(&b.s, &fin1, new).await.unwrap();
    let r = call(&b.s, &fin1, VamRequest::DoOnce { request_id, operation: transfer(300) }).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::KeyReused }));
    assert_eq!(node(&b, &fin1, from.id).await.own_balance, from.own_balance - fen(200));
    // A freeze and a partial release sent twice at once happen once each.
    let freeze = VamOperation::Freeze {
        account: from.id,
        amount: fen(50),
        reason: "重复点击".into(),
        expires_at: None,
    };
    let request_id = Uuid::now_v7();
    let twice = || VamRequest::DoOnce { request_id, operation: freeze.clone() };
    let (a, c) = tokio::join!(call(&b.s, &fin1, twice()), call(&b.s, &fin1, twice()));
    assert_eq!(a, c);
    let Ok(Response::Vam(VamOutcome::Posted { id: hold })) = a else { panic!("{a:?}") };
    assert_eq!(node(&b, &fin1, from.id).await.held, from.held + fen(50));
    let release = VamOperation::Release { hold: domain::ledger::HoldId(hold), amount: fen(20) };
    let request_id = Uuid::now_v7();
    let twice = || VamRequest::DoOnce { request_id, operation: release.clone() };
    let (a, c) = tokio::join!(call(&b.s, &fin1, twice()), call(&b.s, &fin1, twice()));
    assert!(a.is_ok() && a == c, "{a:?} {c:?}");
    assert_eq!(node(&b, &fin1, from.id).await.held, from.held + fen(30));
    // Above the threshold: one proposal however often it is sent.
    threshold(&b, 1_000).await;
    let request_id = Uuid::now_v7();
    let big = || VamRequest::DoOnce { request_id, operation: transfer(5_000) };
    let (a, c) = tokio::join!(call(&b.s, &fin1, big()), call(&b.s, &fin1, big()));
    let again = call(&b.s, &fin1, big()).await;
    for r in [a, c, again] {
        assert_eq!(r, Ok(Response::Vam(VamOutcome::Proposed { proposal_id: request_id })));
    }
    let Response::VamProposals(pending) = call(&b.s, &fin1, VamRequest::Proposals).await.unwrap() else {
        panic!()
    };
    assert_eq!(pending.iter().filter(|p| p.id == request_id).count(), 1);
    let sup2 = login(&b.s, "sup2").await;
    let r = call(&b.s, &sup2, big()).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::KeyReused }));
}

/// A request sent again from a restarted desktop (its memory of requests gone)
/// after the maker's total crossed the threshold becomes a proposal; approving it
/// does not move the money a second time, because both postings carry the
/// request's key. And a request filed as a proposal stays that proposal.
async fn a_request_posted_then_proposed_moves_money_once(db: Db) {
    let b = bench(db).await;
    let fin1 = login(&b.s, "fin1").await;
    let p = physicals(&b, &fin1).await.remove(0);
    let nodes = all_nodes(&b, &fin1, p.id).await;
    let from = wallet(&nodes).clone();
    let to =
        nodes.iter().find(|n| n.purpose == VirtualPurpose::UserWallet && n.id != from.id).unwrap().clone();
    threshold(&b, 1_000).await;
    let op = VamOperation::Transfer { from: from.id, to: to.id, amount: fen(600), memo: "重发".into() };
    let request_id = Uuid::now_v7();
    let send = || VamRequest::DoOnce { request_id, operation: op.clone() };
    let Ok(Response::Vam(VamOutcome::Posted { id: first })) = call(&b.s, &fin1, send()).await else {
        panic!()
    };
    // The desktop restarts: a new service over the same database.
    let restarted = Services::new(b.s.store().clone(), vault(), domain::auth::LoginPolicy::default());
    let fin1_again = login(&restarted, "fin1").await;
    let Ok(Response::Vam(VamOutcome::Proposed { proposal_id })) = call(&restarted, &fin1_again, send()).await
    else {
        panic!("600 + 600 fen crosses the 1,000 fen threshold: a proposal")
    };
    assert_eq!(proposal_id, request_id);
    let sup1 = login(&b.s, "sup1").await;
    let approved = call(&b.s, &sup1, VamRequest::Approve { proposal_id, approve: true }).await;
    assert_eq!(
        approved,
        Ok(Response::Vam(VamOutcome::Posted { id: first })),
        "the first transfer, not a second"
    );
    assert_eq!(node(&b, &fin1, from.id).await.own_balance, from.own_balance - fen(600));
    let Response::VamProposals(pending) = call(&b.s, &sup1, VamRequest::Proposals).await.unwrap() else {
        panic!()
    };
    assert!(pending.iter().all(|p| p.id != proposal_id), "approved, not left pending");
    // Sent once more, the request is the proposal again, not a third posting.
    let r = call(&restarted, &fin1_again, send()).await;
    assert_eq!(r, Ok(Response::Vam(VamOutcome::Proposed { proposal_id })));
    assert_eq!(node(&b, &fin1, from.id).await.own_balance, from.own_balance - fen(600));
}

on_both_databases!(
    a_request_posted_then_proposed_moves_money_once,
    a_repeated_request_posts_once,
    the_proof_finds_balances_edited_behind_its_back,
    a_group_judges_each_posting_on_its_own,
    previews_show_every_account_and_change_nothing,
    order_escrow_pays_out_of_its_hold_never_above_it,
    a_tender_refunds_every_deposit_in_one_action,
    random_operations_keep_the_ledger_whole,
    the_interest_pool_cannot_be_overspent_by_parallel_postings,
    a_credit_racing_a_close_never_leaves_money_in_a_closed_account,
    splitting_an_amount_does_not_dodge_the_checker,
    a_bank_reference_books_once_however_it_is_typed,
    the_demo_ledger_adds_up,
    credits_land_by_suffix_and_unknown_ones_in_suspense,
    holds_and_transfers_respect_available_and_four_eyes,
    interest_allocates_exactly_and_reverses,
    closing_lists_every_blocker_then_closes,
    the_ledger_is_append_only,
    concurrent_postings_lose_nothing,
);
