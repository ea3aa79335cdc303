//! The controls nobody may switch off alone, each shown failing for the attack it
//! stops, on both databases: escalated cases are a supervisor's, "not recycled"
//! needs a note, the wizard does not cut into another agent's claim, a checker
//! approves exactly the version reviewed, the database itself refuses a maker as
//! checker and a confirmation inside a freeze window, the four-eyes threshold reads
//! the live balance, parallel password guesses cannot pass the lock, and polling
//! a job does not keep an idle session alive.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use domain::auth::Permission;
use domain::cases::{CaseDecision, Claimant, DecisionOutcome, QueueFilter};
use domain::recycle::{CaseStatus, DecisionKind, FourEyesPolicy, NotRecycledReason, RecycleSettings};
use domain::{ApiError, Conflict, InputProblem, RecycledRequest, Request, Response};
use e2e::recycled::*;
use e2e::{Db, on_both_databases};
use rust_decimal::Decimal;
use service::Session;
use service::seed::{self, DEMO_PASSWORD};
use store::{LeaseRule, StoreError, Unbind, UnbindGuard};
use uuid::Uuid;

/// The demo world with its carrier notices imported, and agent cs1 logged in.
async fn imported(db: Db) -> (World, Session) {
    let w = world(db, 300).await;
    let mut cs1 = login(&w.s, "cs1").await;
    done(&w, &mut cs1, "n.csv", seed::carrier_notices_csv(&w.records).as_bytes()).await;
    (w, cs1)
}

fn decide(case_id: Uuid, decision: CaseDecision) -> RecycledRequest {
    RecycledRequest::DecideCase { case_id, decision }
}

fn not_recycled(note: &str) -> CaseDecision {
    CaseDecision::NotRecycled { reason: NotRecycledReason::SameHolder, note: note.into() }
}

async fn escalated_cases_are_for_supervisors(db: Db) {
    let (w, mut cs1) = imported(db).await;
    let case = case_of(&w, &mut cs1, &reissued(&w).phone).await;
    call(&w.s, &mut cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    let escalate = CaseDecision::Escalate { note: "需要主管判断".into() };
    call(&w.s, &mut cs1, decide(case.id, escalate)).await.unwrap();
    call(&w.s, &mut cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    // The agent who escalated cannot then close it themselves.
    let r = call(&w.s, &mut cs1, decide(case.id, not_recycled("自己关掉"))).await;
    assert_eq!(r, Err(ApiError::Forbidden { permission: Permission::RecycledApprove }));
    assert_eq!(w.s.store().case_row(case.id).await.unwrap().unwrap().status, CaseStatus::Escalated);
    call(&w.s, &mut cs1, RecycledRequest::ReleaseCase { case_id: case.id }).await.unwrap();
    let mut sup1 = login(&w.s, "sup1").await;
    call(&w.s, &mut sup1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    let r = call(&w.s, &mut sup1, decide(case.id, not_recycled("核实为同一机主"))).await;
    assert_eq!(r, Ok(Response::Decided(DecisionOutcome::Applied)));
}

async fn not_recycled_needs_a_note(db: Db) {
    let (w, mut cs1) = imported(db).await;
    let case = case_of(&w, &mut cs1, &reissued(&w).phone).await;
    call(&w.s, &mut cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    let r = call(&w.s, &mut cs1, decide(case.id, not_recycled(" "))).await;
    assert!(
        matches!(&r, Err(ApiError::InvalidInput { field, problem: InputProblem::TooShort { .. } }) if field == "note"),
        "{r:?}"
    );
    assert_eq!(w.s.store().case_row(case.id).await.unwrap().unwrap().status, CaseStatus::Open);
}

async fn the_wizard_respects_another_agents_claim(db: Db) {
    let (w, mut cs1) = imported(db).await;
    let phone = reissued(&w).phone.clone();
    let case = case_of(&w, &mut cs1, &phone).await;
    let mut cs2 = login(&w.s, "cs2").await;
    call(&w.s, &mut cs2, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    let holder = seed::new_holder(&phone);
    let claimant = Claimant { name: holder.name, id_number: holder.id_number, phone };
    let r = call(&w.s, &mut cs1, RecycledRequest::ForceUnbindStart { case_id: case.id, claimant }).await;
    assert_eq!(r, Err(ApiError::Conflict { conflict: Conflict::ClaimedBy { by: "cs2".into() } }));
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM verification_attempts").await,
        0,
        "no carrier check was spent"
    );
}

/// cs1 claims the reissued number's case and proposes "confirm recycled".
async fn proposed(w: &World, cs1: &mut Session) -> domain::cases::CaseRowView {
    let case = case_of(w, cs1, &reissued(w).phone).await;
    call(&w.s, cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    let confirm = CaseDecision::ConfirmRecycled { note: "入网晚于绑定".into() };
    let r = call(&w.s, cs1, decide(case.id, confirm)).await;
    assert_eq!(r, Ok(Response::Decided(DecisionOutcome::PendingApproval)));
    case
}

fn approve(case_id: Uuid, version: i32) -> RecycledRequest {
    RecycledRequest::ApproveCase { case_id, approve: true, note: "同意".into(), version }
}

async fn a_checker_approves_only_the_version_reviewed(db: Db) {
    let (w, mut cs1) = imported(db).await;
    let case = proposed(&w, &mut cs1).await;
    let seen = version(&w, case.id).await;
    // New evidence arrives after the checker opened the case: a cancellation ten days
    // ago, so the old user may still reclaim the number.
    let line = format!(
        "phone,entry_at,event,event_at,carrier,province\n{},,cancel,2026-11-14 09:00:00,中国移动,广东\n",
        reissued(&w).phone
    );
    done(&w, &mut cs1, "late.csv", line.as_bytes()).await;
    let mut sup1 = login(&w.s, "sup1").await;
    let r = call(&w.s, &mut sup1, approve(case.id, seen)).await;
    assert_eq!(
        r,
        Err(ApiError::Conflict { conflict: Conflict::Changed }),
        "the checker must see the new evidence"
    );
    // Reviewed again, the approval still may not land inside the new freeze window:
    // the unbind's own statement checks it.
    let r = call(&w.s, &mut sup1, approve(case.id, version(&w, case.id).await)).await;
    assert!(matches!(&r, Err(ApiError::Conflict { conflict: Conflict::InFreezeWindow { .. } })), "{r:?}");
    let user = w.s.store().user(case_old_user(&w, case.id).await).await.unwrap().unwrap();
    assert!(user.phone.is_some() && !user.sms_reset_blocked, "nothing was unbound");
}

async fn case_old_user(w: &World, case_id: Uuid) -> Uuid {
    w.s.store().case_row(case_id).await.unwrap().unwrap().core.old_user_id
}

async fn the_database_refuses_a_maker_as_checker(db: Db) {
    let (w, mut cs1) = imported(db).await;
    let case = proposed(&w, &mut cs1).await;
    // A path that skipped the service's check (a bug, or a tool calling the store)
    // still cannot let the maker approve: the guarded UPDATE refuses it.
    let unbind = Unbind {
        case_id: case.id,
        status: CaseStatus::Confirmed,
        decision: DecisionKind::ConfirmRecycled,
        reason: String::new(),
        decided_by: "cs1".into(),
        approved_by: Some("cs1".into()),
        at: t0() + Duration::minutes(2),
        evidence: "{}".into(),
        pack: None,
        guard: UnbindGuard { lease: LeaseRule::Any, version: None, outside_freeze: false },
    };
    let audit = store::NewAudit::new(t0(), "cs1", "case.unbind", "case:x", serde_json::json!({}));
    let r = w.s.store().unbind(&unbind, &[CaseStatus::PendingApproval], audit).await;
    assert!(matches!(r, Err(StoreError::Conflict(Conflict::MakerIsChecker))), "{r:?}");
    assert_eq!(w.s.store().case_row(case.id).await.unwrap().unwrap().status, CaseStatus::PendingApproval);
}

async fn the_threshold_reads_the_live_balance(db: Db) {
    let (w, mut cs1) = imported(db).await;
    let mut sup1 = login(&w.s, "sup1").await;
    let mut sup2 = login(&w.s, "sup2").await;
    let settings = RecycleSettings {
        four_eyes: FourEyesPolicy::AboveBalance { threshold: Decimal::new(1_000, 0) },
        ..RecycleSettings::default()
    };
    let Response::Settings(s) =
        call(&w.s, &mut sup1, RecycledRequest::UpdateRecycleSettings { settings }).await.unwrap()
    else {
        panic!()
    };
    let proposal_id = s.pending.unwrap().id;
    call(&w.s, &mut sup2, RecycledRequest::ApproveRecycleSettings { proposal_id }).await.unwrap();
    let case = case_of(&w, &mut cs1, &reissued(&w).phone).await;
    // Money reaches the old user's wallet after detection (the case still holds the
    // balance it was scored with).
    let user = case_old_user(&w, case.id).await;
    let user_sql = match db {
        Db::Sqlite => format!("X'{}'", user.simple()),
        Db::Postgres => format!("'{user}'"),
    };
    let sql =
        format!("UPDATE accounts SET balance_minor = 50000000 WHERE user_id = {user_sql} AND kind = 'cash'");
    assert_eq!(e2e::raw_execute(&w._db.url, &sql).await.unwrap(), 1);
    call(&w.s, &mut cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    let r = call(&w.s, &mut cs1, decide(case.id, CaseDecision::ConfirmRecycled { note: "x".into() })).await;
    assert_eq!(r, Ok(Response::Decided(DecisionOutcome::PendingApproval)), "500,000 yuan now: a checker");
}

async fn parallel_guesses_cannot_pass_the_lock(db: Db) {
    let w = world(db, 30).await;
    let s = std::sync::Arc::new(w.s);
    let guesses: Vec<_> = (0..12)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let session = Session::default();
                let guess = Request::Login { username: "cs1".into(), password: format!("guess-{i}") };
                s.handle(&session, guess, t0()).await
            })
        })
        .collect();
    let mut wrong = 0;
    let mut locked = 0;
    for g in guesses {
        match g.await.unwrap() {
            Err(ApiError::InvalidCredentials { .. }) => wrong += 1,
            Err(ApiError::OperatorLocked { .. }) => locked += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((wrong, locked), (4, 8), "every guess took its place in the count before its check");
    let right = Request::Login { username: "cs1".into(), password: DEMO_PASSWORD.into() };
    let r = s.handle(&Session::default(), right, t0() + Duration::minutes(1)).await;
    assert!(matches!(r, Err(ApiError::OperatorLocked { .. })), "{r:?}");
}

async fn polling_a_job_does_not_keep_a_session_alive(db: Db) {
    let w = world(db, 30).await;
    let session = Session::default();
    let login = Request::Login { username: "cs1".into(), password: DEMO_PASSWORD.into() };
    w.s.handle(&session, login, t0()).await.unwrap();
    for minutes in [5, 10, 14] {
        let poll = RecycledRequest::ImportStatus { job_id: Uuid::now_v7() };
        let r = w.s.handle(&session, poll, t0() + Duration::minutes(minutes)).await;
        assert_eq!(r, Err(ApiError::NotFound { entity: domain::Entity::ImportJob }));
    }
    let work = RecycledRequest::Queue { filter: QueueFilter::default(), after: None, limit: 10 };
    let r = w.s.handle(&session, work, t0() + Duration::minutes(16)).await;
    assert_eq!(r, Err(ApiError::SessionExpired), "16 idle minutes despite the polls");
}

async fn a_typed_age_cannot_overflow_the_clock(db: Db) {
    let w = world(db, 30).await;
    let mut cs1 = login(&w.s, "cs1").await;
    let filter = QueueFilter { older_than_hours: Some(3_000_000_000_000_000), ..QueueFilter::default() };
    let r = call(&w.s, &mut cs1, RecycledRequest::Queue { filter, after: None, limit: 10 }).await;
    assert!(
        matches!(&r, Err(ApiError::InvalidInput { problem: InputProblem::OutOfRange, .. })),
        "refused, not a panic: {r:?}"
    );
}

async fn an_escalated_case_is_not_force_unbound_by_an_agent(db: Db) {
    let (w, mut cs1) = imported(db).await;
    let phone = reissued(&w).phone.clone();
    let case = case_of(&w, &mut cs1, &phone).await;
    call(&w.s, &mut cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    call(&w.s, &mut cs1, decide(case.id, CaseDecision::Escalate { note: "需要主管判断".into() }))
        .await
        .unwrap();
    let holder = seed::new_holder(&phone);
    let claimant = Claimant { name: holder.name, id_number: holder.id_number, phone };
    let r = call(&w.s, &mut cs1, RecycledRequest::ForceUnbindStart { case_id: case.id, claimant }).await;
    assert_eq!(r, Err(ApiError::Forbidden { permission: Permission::RecycledApprove }));
    assert_eq!(count(&w, "SELECT COUNT(*) FROM verification_attempts").await, 0, "no check was spent");
}

async fn a_proposal_waiting_for_its_checker_cannot_be_claimed(db: Db) {
    let (w, mut cs1) = imported(db).await;
    let case = proposed(&w, &mut cs1).await;
    let seen = version(&w, case.id).await;
    let mut cs2 = login(&w.s, "cs2").await;
    let r = call(&w.s, &mut cs2, RecycledRequest::ClaimCase { case_id: case.id }).await;
    assert!(matches!(r, Err(ApiError::Conflict { .. })), "{r:?}");
    assert_eq!(version(&w, case.id).await, seen, "the checker's review still stands");
}

async fn an_older_notice_cannot_shorten_a_freeze(db: Db) {
    let (w, mut cs1) = imported(db).await;
    let case = proposed(&w, &mut cs1).await;
    let notice = |date: &str| {
        format!(
            "phone,entry_at,event,event_at,carrier,province\n{},,cancel,{date},中国移动,广东\n",
            reissued(&w).phone
        )
    };
    done(&w, &mut cs1, "late.csv", notice("2026-11-14 09:00:00").as_bytes()).await;
    let frozen = w.s.store().case_row(case.id).await.unwrap().unwrap().core.freeze_until;
    assert!(frozen.is_some());
    // A file (crafted, or just late) with an older cancellation keeps the later end.
    done(&w, &mut cs1, "older.csv", notice("2026-10-01 09:00:00").as_bytes()).await;
    assert_eq!(w.s.store().case_row(case.id).await.unwrap().unwrap().core.freeze_until, frozen);
}

async fn settings_stored_out_of_bounds_fall_back_to_always(db: Db) {
    let w = world(db, 30).await;
    let off = serde_json::json!({ "current": {
        "freeze_days": 90, "lease_minutes": 30, "sla_hours": 48,
        "four_eyes": { "mode": "above_balance", "threshold": "1000000000000" } } });
    let audit =
        store::NewAudit::new(t0(), "psql", "settings.update", "settings:recycle", serde_json::json!({}));
    w.s.store().put_setting("recycle", &off.to_string(), audit).await.unwrap();
    assert_eq!(w.s.recycle_settings().await.unwrap().four_eyes, FourEyesPolicy::Always);
}

async fn approving_a_four_eyes_change_changes_only_four_eyes(db: Db) {
    let w = world(db, 30).await;
    let mut sup1 = login(&w.s, "sup1").await;
    let mut sup2 = login(&w.s, "sup2").await;
    let threshold = FourEyesPolicy::AboveBalance { threshold: Decimal::new(5_000, 0) };
    let propose = RecycledRequest::UpdateRecycleSettings {
        settings: RecycleSettings { four_eyes: threshold, ..RecycleSettings::default() },
    };
    let Response::Settings(s) = call(&w.s, &mut sup1, propose).await.unwrap() else { panic!() };
    let proposal_id = s.pending.unwrap().id;
    // Meanwhile the freeze window is changed directly (no four-eyes change: applies at once).
    let freeze = RecycledRequest::UpdateRecycleSettings {
        settings: RecycleSettings { freeze_days: 30, ..RecycleSettings::default() },
    };
    call(&w.s, &mut sup1, freeze).await.unwrap();
    let approve = RecycledRequest::ApproveRecycleSettings { proposal_id };
    let Response::Settings(s) = call(&w.s, &mut sup2, approve).await.unwrap() else { panic!() };
    assert_eq!(
        (s.current.four_eyes, s.current.freeze_days),
        (threshold, 30),
        "the approval did not undo 30 days"
    );
}

on_both_databases!(
    an_escalated_case_is_not_force_unbound_by_an_agent,
    a_proposal_waiting_for_its_checker_cannot_be_claimed,
    an_older_notice_cannot_shorten_a_freeze,
    settings_stored_out_of_bounds_fall_back_to_always,
    approving_a_four_eyes_change_changes_only_four_eyes,
    escalated_cases_are_for_supervisors,
    not_recycled_needs_a_note,
    the_wizard_respects_another_agents_claim,
    a_checker_approves_only_the_version_reviewed,
    the_database_refuses_a_maker_as_checker,
    the_threshold_reads_the_live_balance,
    parallel_guesses_cannot_pass_the_lock,
    polling_a_job_does_not_keep_a_session_alive,
    a_typed_age_cannot_overflow_the_clock,
);
