//! Recycled numbers (二次号) through the services, on both databases: carrier
//! intake (atomic, idempotent, UTF-8/GBK), detection rules, claims, decisions with
//! four-eyes, hooks, the force-unbind wizard with attempt budgets, evidence packs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, Utc};
use domain::cases::{
    CaseDecision, Claimant, DecisionOutcome, ImportState, Party, QueueFilter, TimelineEvent,
};
use domain::recycle::{
    BankAnswer, CarrierEventKind, CaseEventKind, CaseStatus, DecisionKind, FourEyesPolicy, HookReason,
    NotRecycledReason, RecycleSettings,
};
use domain::{ApiError, Conflict, RecycledRequest, Request, Response};
use e2e::recycled::*;
use e2e::{Db, on_both_databases, vault};
use rust_decimal::Decimal;
use service::Session;
use service::seed::{self, DEMO_PASSWORD};
use uuid::Uuid;

async fn import_is_atomic_idempotent_and_reads_gbk(db: Db) {
    let w = world(db, 300).await;
    let mut cs1 = login(&w.s, "cs1").await;
    let csv = seed::carrier_notices_csv(&w.records);
    let lines = csv.lines().count() as u64 - 1;
    // A bad line anywhere: nothing is written, and the error says where and why.
    let mut bad = csv.clone();
    bad.push_str("1391239394,2026-01-01,销户,2026-01-02,中国移动,北京\n");
    match import(&w, &mut cs1, "bad.csv", bad.as_bytes()).await {
        ImportState::Rejected { errors, error_count } => {
            assert_eq!(error_count, 1);
            assert_eq!(
                (errors[0].file.as_str(), errors[0].line, errors[0].field.as_str()),
                ("bad.csv", lines + 2, "phone")
            );
        }
        other => panic!("accepted a bad file: {other:?}"),
    }
    assert_eq!(count(&w, "SELECT COUNT(*) FROM recycle_cases").await, 0);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM carrier_events").await, 0);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM carrier_imports").await, 0);

    let first = done(&w, &mut cs1, "notices.csv", csv.as_bytes()).await;
    assert_eq!(first.lines, lines);
    assert_eq!(first.matched, lines, "every notice is about a bound number");
    let reissues = w.records.iter().filter(|r| r.status == "reissued").count() as i64;
    let cancels = w.records.iter().filter(|r| r.status == "cancelled").count() as i64;
    let ports = w.records.iter().filter(|r| r.status == "ported").count() as i64;
    assert_eq!(first.cases_opened, reissues + cancels + ports);
    let cases = count(&w, "SELECT COUNT(*) FROM recycle_cases").await;
    let manual = count(&w, "SELECT COUNT(*) FROM recycle_cases WHERE manual_only").await;
    assert_eq!(manual, ports, "ported numbers go to manual review");

    // The same file again: nothing added.
    let again = done(&w, &mut cs1, "notices-copy.csv", csv.as_bytes()).await;
    assert!(again.already_imported);
    assert_eq!(count(&w, "SELECT COUNT(*) FROM recycle_cases").await, cases);

    // The same events in GBK (a different file): no new evidence, no new cases.
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    let r = done(&w, &mut cs1, "notices-gbk.csv", &gbk).await;
    assert_eq!((r.encoding.as_str(), r.cases_opened, r.cases_updated), ("gbk", 0, 0));

    // A new notice about an open case's number adds evidence to that case.
    let phone = &reissued(&w).phone;
    let extra = format!("号码,入网时间,事件,事件时间,运营商\n{phone},,过户,2026-11-20 10:00:00,中国移动\n");
    let (extra_gbk, _, _) = encoding_rs::GBK.encode(&extra);
    let r = done(&w, &mut cs1, "transfer.csv", &extra_gbk).await;
    assert_eq!((r.cases_opened, r.cases_updated), (0, 1));
    let case = case_of(&w, &mut cs1, phone).await;
    assert_eq!(case.evidence_count, 2);
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM recycle_cases").await,
        cases,
        "one case per phone and old user"
    );
    let actions: Vec<String> =
        w.s.store().audit_page(None, 50).await.unwrap().into_iter().map(|a| a.action).collect();
    assert!(actions.contains(&"carrier.import".to_owned()));
    assert!(actions.contains(&"carrier.import_rejected".to_owned()));
}

async fn detection_rule_entry_time_and_old_notices(db: Db) {
    let w = world(db, 60).await;
    let mut cs1 = login(&w.s, "cs1").await;
    let bound: Vec<(String, DateTime<Utc>)> = {
        let phones: Vec<String> = (1..=4).map(seed::demo_phone).collect();
        let rows = w.s.store().bound_phones(&phones).await.unwrap();
        rows.into_iter().map(|b| (b.phone, b.bound_at)).collect()
    };
    let beijing = |t: DateTime<Utc>| (t + Duration::hours(8)).format("%Y-%m-%d %H:%M:%S").to_string();
    let (p_after, at_after) = &bound[0];
    let (p_before, at_before) = &bound[1];
    let (p_old, at_old) = &bound[2];
    let csv = format!(
        "phone,entry_at,event,event_at,carrier,province\n\
         {p_after},{},reissue,{},中国移动,北京\n\
         {p_before},{},reissue,{},中国移动,北京\n\
         {p_old},,cancel,{},中国移动,北京\n",
        beijing(*at_after + Duration::days(120)),
        beijing(*at_after + Duration::days(120)),
        beijing(*at_before - Duration::days(30)),
        beijing(*at_before - Duration::days(30)),
        beijing(*at_old - Duration::days(400)),
    );
    let r = done(&w, &mut cs1, "rule.csv", csv.as_bytes()).await;
    assert_eq!(r.cases_opened, 1, "only the entry time after our binding is suspect");
    let case = case_of(&w, &mut cs1, p_after).await;
    assert_eq!(case.source, domain::recycle::CaseSource::EntryTime);
    assert!(!case.manual_only);
}

async fn claims_are_exclusive_and_leases_expire(db: Db) {
    let w = world(db, 120).await;
    let mut cs1 = login(&w.s, "cs1").await;
    let mut cs2 = login(&w.s, "cs2").await;
    done(&w, &mut cs1, "n.csv", seed::carrier_notices_csv(&w.records).as_bytes()).await;
    let case = case_of(&w, &mut cs1, &reissued(&w).phone).await;
    call(&w.s, &mut cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    let refused = call(&w.s, &mut cs2, RecycledRequest::ClaimCase { case_id: case.id }).await;
    assert!(
        matches!(&refused, Err(ApiError::Conflict { conflict: Conflict::ClaimedBy { by } }) if by == "cs1"),
        "{refused:?}"
    );
    // cs2 cannot decide a case cs1 holds.
    let decision = CaseDecision::NotRecycled {
        reason: NotRecycledReason::SameHolder,
        note: "同一机主核实".into(),
    };
    let r = call(&w.s, &mut cs2, RecycledRequest::DecideCase { case_id: case.id, decision }).await;
    assert!(matches!(r, Err(ApiError::Conflict { .. })), "{r:?}");
    // After the 30-minute lease, cs2 may take it.
    let later = t0() + Duration::minutes(45);
    let cs2_late = Session::default();
    w.s.handle(&cs2_late, Request::Login { username: "cs2".into(), password: DEMO_PASSWORD.into() }, later)
        .await
        .unwrap();
    w.s.handle(&cs2_late, RecycledRequest::ClaimCase { case_id: case.id }, later).await.unwrap();
    let row = w.s.store().case_row(case.id).await.unwrap().unwrap();
    assert_eq!(row.claimed_by.as_deref(), Some("cs2"));
    // Only the holder releases.
    let r = call(&w.s, &mut cs1, RecycledRequest::ReleaseCase { case_id: case.id }).await;
    assert!(matches!(r, Err(ApiError::Conflict { .. })));
}

async fn confirm_needs_a_checker_and_unbinds(db: Db) {
    let w = world(db, 300).await;
    let mut cs1 = login(&w.s, "cs1").await;
    let mut sup1 = login(&w.s, "sup1").await;
    done(&w, &mut cs1, "n.csv", seed::carrier_notices_csv(&w.records).as_bytes()).await;
    let phone = reissued(&w).phone.clone();
    let case = case_of(&w, &mut cs1, &phone).await;
    let old_user = w.s.store().user_by_phone(&phone).await.unwrap().unwrap();
    // Give the old user a direct debit and make sure a card reserves the phone.
    call(&w.s, &mut cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    let confirm = || RecycledRequest::DecideCase {
        case_id: case.id,
        decision: CaseDecision::ConfirmRecycled { note: "入网时间晚于绑定".into() },
    };
    assert_eq!(
        call(&w.s, &mut cs1, confirm()).await.unwrap(),
        Response::Decided(DecisionOutcome::PendingApproval)
    );
    // The agent's role has no approval; the maker cannot approve even with it.
    let r = call(
        &w.s,
        &mut cs1,
        RecycledRequest::ApproveCase {
            case_id: case.id,
            approve: true,
            note: String::new(),
            version: version(&w, case.id).await,
        },
    )
    .await;
    assert!(matches!(r, Err(ApiError::Forbidden { .. })), "{r:?}");
    assert!(w.s.store().user_by_phone(&phone).await.unwrap().is_some(), "nothing unbound before approval");

    // A supervisor as maker cannot approve their own proposal (no bypass for any role).
    let other = w.records.iter().filter(|r| r.status == "reissued").nth(1).unwrap();
    let case2 = case_of(&w, &mut sup1, &other.phone).await;
    call(&w.s, &mut sup1, RecycledRequest::ClaimCase { case_id: case2.id }).await.unwrap();
    let req = RecycledRequest::DecideCase {
        case_id: case2.id,
        decision: CaseDecision::ConfirmRecycled { note: "x".into() },
    };
    call(&w.s, &mut sup1, req).await.unwrap();
    let r = call(
        &w.s,
        &mut sup1,
        RecycledRequest::ApproveCase {
            case_id: case2.id,
            approve: true,
            note: String::new(),
            version: version(&w, case2.id).await,
        },
    )
    .await;
    assert!(matches!(&r, Err(ApiError::Conflict { conflict: Conflict::MakerIsChecker })), "{r:?}");

    let cards_before = count(
        &w,
        &format!("SELECT COUNT(*) FROM bank_cards WHERE reserved_phone = '{phone}' AND status = 'active'"),
    )
    .await;
    call(
        &w.s,
        &mut sup1,
        RecycledRequest::ApproveCase {
            case_id: case.id,
            approve: true,
            note: "同意".into(),
            version: version(&w, case.id).await,
        },
    )
    .await
    .unwrap();
    let user = w.s.store().user(old_user.id).await.unwrap().unwrap();
    assert_eq!(user.phone, None, "the phone is no longer the old user's login");
    assert!(user.sms_reset_blocked);
    assert!(user.nickname == old_user.nickname && user.email == old_user.email, "other logins stay");
    let tree = w.s.store().customer_tree(old_user.customer_id).await.unwrap().unwrap();
    assert!(tree.accounts.iter().any(|a| a.user_id == old_user.id), "the accounts stay");
    assert_eq!(
        count(
            &w,
            &format!("SELECT COUNT(*) FROM phone_bindings WHERE phone = '{phone}' AND unbound_at IS NULL")
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &w,
            &format!("SELECT COUNT(*) FROM direct_debits WHERE phone = '{phone}' AND ended_at IS NULL")
        )
        .await,
        0
    );
    assert_eq!(count(&w, &format!("SELECT COUNT(*) FROM bank_cards WHERE reserved_phone = '{phone}' AND status = 'resign_required'")).await, cards_before);
    let row = w.s.store().case_row(case.id).await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.decided_by.as_deref(), row.approved_by.as_deref()),
        ("confirmed", Some("cs1"), Some("sup1"))
    );

    // The hooks now: SMS reset blocked for the old user, the number free to register.
    let sms = w.s.check_sms_reset(old_user.id, t0()).await.unwrap();
    assert!(
        !sms.allowed
            && sms.reason == HookReason::SmsResetBlocked { decision: Some(DecisionKind::ConfirmRecycled) },
        "{sms:?}"
    );
    let reg = w.s.check_registration(&phone, t0()).await.unwrap();
    assert!(reg.allowed, "{reg:?}");
    // And the case view tells the story.
    let Response::Case(detail) =
        call(&w.s, &mut cs1, RecycledRequest::CaseDetail { case_id: case.id }).await.unwrap()
    else {
        panic!()
    };
    assert!(!detail.still_bound && detail.sms_reset_blocked);
    let has = |f: &dyn Fn(&TimelineEvent) -> bool| detail.timeline.iter().any(|e| f(&e.event));
    assert!(has(&|e| matches!(e, TimelineEvent::Bound { user: Party::OldUser })), "bound");
    assert!(
        has(&|e| matches!(e, TimelineEvent::Unbound { user: Party::OldUser, reason: Some(_) })),
        "unbound"
    );
    assert!(has(&|e| matches!(e, TimelineEvent::CarrierNotice { event: CarrierEventKind::Reissue, .. })));
    for kind in [CaseEventKind::Claim, CaseEventKind::Propose, CaseEventKind::Unbind] {
        assert!(
            has(&|e| matches!(e, TimelineEvent::Case { event, .. } if *event == kind)),
            "case event {kind}"
        );
    }
    assert!(has(&|e| matches!(
        e,
        TimelineEvent::SmsBlocked { decision: Some(DecisionKind::ConfirmRecycled), .. }
    )));
    let json = serde_json::to_string(&detail.timeline).unwrap();
    assert!(!json.contains(&phone), "the number is masked in the timeline");
}

async fn lifting_an_sms_block_needs_a_carrier_check_and_a_checker(db: Db) {
    let w = world(db, 600).await;
    let mut cs1 = login(&w.s, "cs1").await;
    let mut sup1 = login(&w.s, "sup1").await;
    done(&w, &mut cs1, "n.csv", seed::carrier_notices_csv(&w.records).as_bytes()).await;
    // A reissued number whose customer also holds another number (a second user's login).
    let mut found = None;
    for r in w.records.iter().filter(|r| r.status == "reissued") {
        let user = w.s.store().user_by_phone(&r.phone).await.unwrap().unwrap();
        let tree = w.s.store().customer_tree(user.customer_id).await.unwrap().unwrap();
        let other = tree.users.iter().find(|u| u.id != user.id && u.phone.is_some()).cloned();
        let verified = tree.customer.id_number_enc.is_some();
        let other_active = match &other {
            Some(o) => !w.records.iter().any(|x| Some(&x.phone) == o.phone.as_ref()),
            None => false,
        };
        if let (Some(o), true, true) = (other, verified, other_active) {
            found = Some((r.phone.clone(), user, o.phone.unwrap()));
            break;
        }
    }
    let (phone, user, other_phone) = found.expect("a customer with two numbers");
    let case = case_of(&w, &mut cs1, &phone).await;
    call(&w.s, &mut cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    let confirm = CaseDecision::ConfirmRecycled { note: "x".into() };
    call(&w.s, &mut cs1, RecycledRequest::DecideCase { case_id: case.id, decision: confirm }).await.unwrap();
    call(
        &w.s,
        &mut sup1,
        RecycledRequest::ApproveCase {
            case_id: case.id,
            approve: true,
            note: String::new(),
            version: version(&w, case.id).await,
        },
    )
    .await
    .unwrap();
    assert!(w.s.store().user(user.id).await.unwrap().unwrap().sms_reset_blocked);
    // A number the customer does not hold fails the fresh carrier check.
    let stranger = reissued(&w).phone.clone();
    let r =
        call(&w.s, &mut cs1, RecycledRequest::RequestSmsUnblock { user_id: user.id, phone: stranger }).await;
    assert!(matches!(r, Err(ApiError::Conflict { .. })), "{r:?}");
    // The customer's other number, freed from the other user: the check passes.
    e2e::raw_execute(&w._db.url, &format!("UPDATE users SET phone = NULL WHERE phone = '{other_phone}'"))
        .await
        .unwrap();
    e2e::raw_execute(
        &w._db.url,
        &format!("UPDATE phone_bindings SET unbound_at = bound_at WHERE phone = '{other_phone}'"),
    )
    .await
    .unwrap();
    call(&w.s, &mut cs1, RecycledRequest::RequestSmsUnblock { user_id: user.id, phone: other_phone.clone() })
        .await
        .unwrap();
    let Response::Case(detail) =
        call(&w.s, &mut sup1, RecycledRequest::CaseDetail { case_id: case.id }).await.unwrap()
    else {
        panic!()
    };
    let pending = detail.sms_unblock.clone().expect("the request waits for a checker");
    assert_eq!(pending.by, "cs1");
    let request_id = pending.id;
    let r = call(&w.s, &mut cs1, RecycledRequest::ApproveSmsUnblock { user_id: user.id, request_id }).await;
    assert!(matches!(r, Err(ApiError::Forbidden { .. })), "agents do not approve");
    // A request id that is not the pending one (e.g. reviewed before a new request) lifts nothing.
    let stale = RecycledRequest::ApproveSmsUnblock { user_id: user.id, request_id: Uuid::now_v7() };
    let r = call(&w.s, &mut sup1, stale).await;
    assert!(matches!(r, Err(ApiError::Conflict { conflict: Conflict::Changed })), "{r:?}");
    // A day later the carrier check is stale: the request must be made again.
    let late = t0() + Duration::hours(25);
    let sup2 = Session::default();
    let login = Request::Login { username: "sup2".into(), password: seed::DEMO_PASSWORD.into() };
    w.s.handle(&sup2, login, late).await.unwrap();
    let stale = RecycledRequest::ApproveSmsUnblock { user_id: user.id, request_id };
    let r = w.s.handle(&sup2, stale, late).await;
    assert!(matches!(r, Err(ApiError::Conflict { conflict: Conflict::Expired })), "{r:?}");
    call(&w.s, &mut sup1, RecycledRequest::ApproveSmsUnblock { user_id: user.id, request_id }).await.unwrap();
    let after = w.s.store().user(user.id).await.unwrap().unwrap();
    assert!(!after.sms_reset_blocked);
    assert_eq!(after.phone.as_deref(), Some(other_phone.as_str()), "the checked number is the new login");
    assert!(w.s.store().sms_block(user.id).await.unwrap().is_none());
}

async fn threshold_setting_and_freeze_window(db: Db) {
    let w = world(db, 300).await;
    let mut cs1 = login(&w.s, "cs1").await;
    let mut sup1 = login(&w.s, "sup1").await;
    done(&w, &mut cs1, "n.csv", seed::carrier_notices_csv(&w.records).as_bytes()).await;
    // Agents cannot change the workflow settings.
    let settings = RecycleSettings {
        four_eyes: FourEyesPolicy::AboveBalance { threshold: Decimal::new(10_000_000, 0) },
        ..RecycleSettings::default()
    };
    let r = call(&w.s, &mut cs1, RecycledRequest::UpdateRecycleSettings { settings }).await;
    assert!(matches!(r, Err(ApiError::Forbidden { .. })));
    // No one supervisor switches four-eyes off: beyond the bounds is refused outright …
    let off = RecycleSettings {
        four_eyes: FourEyesPolicy::AboveBalance { threshold: Decimal::new(1_000_000_000_000, 0) },
        ..RecycleSettings::default()
    };
    let r = call(&w.s, &mut sup1, RecycledRequest::UpdateRecycleSettings { settings: off }).await;
    assert!(matches!(r, Err(ApiError::InvalidInput { .. })), "{r:?}");
    // … and within them the change waits for a second supervisor.
    let Response::Settings(proposed) =
        call(&w.s, &mut sup1, RecycledRequest::UpdateRecycleSettings { settings }).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(proposed.current.four_eyes, FourEyesPolicy::Always, "not in force yet");
    let proposal = proposed.pending.expect("a proposal");
    assert_eq!(w.s.recycle_settings().await.unwrap().four_eyes, FourEyesPolicy::Always);
    let approve = RecycledRequest::ApproveRecycleSettings { proposal_id: proposal.id };
    let r = call(&w.s, &mut sup1, approve.clone()).await;
    assert!(matches!(r, Err(ApiError::Conflict { conflict: Conflict::MakerIsChecker })), "{r:?}");
    let mut sup2 = login(&w.s, "sup2").await;
    let Response::Settings(approved) = call(&w.s, &mut sup2, approve).await.unwrap() else { panic!() };
    assert_eq!((approved.current, approved.pending), (settings, None));
    let case = case_of(&w, &mut cs1, &reissued(&w).phone).await;
    call(&w.s, &mut cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
    let req = RecycledRequest::DecideCase {
        case_id: case.id,
        decision: CaseDecision::ConfirmRecycled { note: "x".into() },
    };
    assert_eq!(
        call(&w.s, &mut cs1, req).await.unwrap(),
        Response::Decided(DecisionOutcome::Applied),
        "below the threshold: no checker"
    );
    // A cancellation inside the freeze window cannot be confirmed.
    let cancelled =
        w.records.iter().find(|r| r.status == "cancelled" && r.updated_at > t0() - Duration::days(80));
    if let Some(c) = cancelled {
        let case = case_of(&w, &mut cs1, &c.phone).await;
        assert!(case.freeze_until.is_some());
        call(&w.s, &mut cs1, RecycledRequest::ClaimCase { case_id: case.id }).await.unwrap();
        let req = RecycledRequest::DecideCase {
            case_id: case.id,
            decision: CaseDecision::ConfirmRecycled { note: "x".into() },
        };
        let r = call(&w.s, &mut cs1, req).await;
        assert!(matches!(&r, Err(ApiError::Conflict { conflict: Conflict::InFreezeWindow { .. } })), "{r:?}");
    }
}

async fn bulk_dry_run_changes_nothing(db: Db) {
    let w = world(db, 300).await;
    let mut cs1 = login(&w.s, "cs1").await;
    let mut cs2 = login(&w.s, "cs2").await;
    let mut sup1 = login(&w.s, "sup1").await;
    done(&w, &mut cs1, "n.csv", seed::carrier_notices_csv(&w.records).as_bytes()).await;
    let rows = queue(&w, &mut cs1, QueueFilter::default()).await;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    call(&w.s, &mut cs2, RecycledRequest::ClaimCase { case_id: ids[0] }).await.unwrap();
    let bulk = |dry_run| RecycledRequest::BulkNotRecycled {
        case_ids: ids.clone(),
        reason: NotRecycledReason::DataError,
        note: "运营商数据错误批次".into(),
        dry_run,
    };
    let r = call(&w.s, &mut cs1, bulk(true)).await;
    assert!(matches!(r, Err(ApiError::Forbidden { .. })), "agents have no bulk actions");
    let Response::Bulk(dry) = call(&w.s, &mut sup1, bulk(true)).await.unwrap() else { panic!() };
    assert_eq!((dry.eligible, dry.skipped.len()), (ids.len() - 1, 1), "the claimed case is skipped");
    assert_eq!(
        queue(&w, &mut cs1, QueueFilter::default()).await.len(),
        ids.len(),
        "a dry run changes nothing"
    );
    let Response::Bulk(real) = call(&w.s, &mut sup1, bulk(false)).await.unwrap() else { panic!() };
    assert!(!real.dry_run);
    assert_eq!(queue(&w, &mut cs1, QueueFilter::default()).await.len(), 1);
    let closed = QueueFilter { status: Some(CaseStatus::NotRecycled), ..QueueFilter::default() };
    assert_eq!(queue(&w, &mut cs1, closed).await.len(), ids.len() - 1);
}

async fn hooks_open_cases_and_block(db: Db) {
    let w = world(db, 200).await;
    let phone = reissued(&w).phone.clone();
    let user = w.s.store().user_by_phone(&phone).await.unwrap().unwrap();
    // The carrier says the number changed hands: SMS reset blocked, a case opened.
    let d = w.s.check_sms_reset(user.id, t0()).await.unwrap();
    assert!(!d.allowed, "{d:?}");
    let case_id = d.case_id.unwrap();
    // Registration of the same number by someone else: blocked, same case gets evidence.
    let r = w.s.check_registration(&phone, t0()).await.unwrap();
    assert!(!r.allowed);
    assert_eq!(r.case_id, Some(case_id));
    let row = w.s.store().case_row(case_id).await.unwrap().unwrap();
    assert_eq!(row.evidence_count, 2);
    // A number the carrier says did not change: reset allowed.
    let active = w.records.iter().map(|r| r.phone.clone()).collect::<Vec<_>>();
    let quiet = (1..60).map(seed::demo_phone).find(|p| !active.contains(p)).unwrap();
    if let Some(u) = w.s.store().user_by_phone(&quiet).await.unwrap() {
        let d = w.s.check_sms_reset(u.id, t0()).await.unwrap();
        assert!(d.allowed, "{d:?}");
    }
    assert!(count(&w, "SELECT COUNT(*) FROM hook_events").await >= 2);
}

async fn force_unbind_passes_with_both_checks(db: Db) {
    let w = world(db, 300).await;
    let mut cs1 = login(&w.s, "cs1").await;
    let mut sup1 = login(&w.s, "sup1").await;
    done(&w, &mut cs1, "n.csv", seed::carrier_notices_csv(&w.records).as_bytes()).await;
    let phone = reissued(&w).phone.clone();
    let holder = seed::new_holder(&phone);
    let case = case_of(&w, &mut cs1, &phone).await;
    let claimant =
        Claimant { name: holder.name.clone(), id_number: holder.id_number.clone(), phone: phone.clone() };
    let Response::ForceUnbind(state) =
        call(&w.s, &mut cs1, RecycledRequest::ForceUnbindStart { case_id: case.id, claimant }).await.unwrap()
    else {
        panic!()
    };
    assert!(state.carrier_passed && !state.same_person, "{state:?}");
    let Response::ForceUnbind(state) = call(
        &w.s,
        &mut cs1,
        RecycledRequest::ForceUnbindBankCheck {
            wizard_id: state.wizard_id,
            card_number: holder.card_number.clone(),
        },
    )
    .await
    .unwrap() else {
        panic!()
    };
    assert!(state.bank_passed, "{state:?}");
    assert_eq!(state.bank_checks[0].answer, BankAnswer::Match);
    assert!(
        state.bank_checks[0].card_masked.contains("******"),
        "card masked: {}",
        state.bank_checks[0].card_masked
    );
    let Response::ForceUnbind(state) =
        call(&w.s, &mut cs1, RecycledRequest::ForceUnbindSubmit { wizard_id: state.wizard_id })
            .await
            .unwrap()
    else {
        panic!()
    };
    assert_eq!(state.outcome, Some(DecisionOutcome::PendingApproval));
    call(
        &w.s,
        &mut sup1,
        RecycledRequest::ApproveCase {
            case_id: case.id,
            approve: true,
            note: "核验齐全".into(),
            version: version(&w, case.id).await,
        },
    )
    .await
    .unwrap();
    assert!(w.s.store().user_by_phone(&phone).await.unwrap().is_none());
    assert!(w.s.check_registration(&phone, t0()).await.unwrap().allowed, "the new holder can register");
    let row = w.s.store().case_row(case.id).await.unwrap().unwrap();
    assert_eq!(row.status, CaseStatus::ForceUnbound);
    // The evidence pack: stored, hash in the audit log, files readable, no clear PII.
    let (sha, json) = w.s.store().evidence_pack(case.id).await.unwrap().unwrap();
    let audit = w.s.store().audit_page(None, 20).await.unwrap();
    let unbind = audit.iter().find(|a| a.action == "case.unbind").unwrap();
    assert!(unbind.detail.contains(&sha));
    for secret in [&holder.id_number, &holder.card_number, &phone] {
        assert!(!json.contains(secret.as_str()), "evidence pack holds clear PII");
        assert!(audit.iter().all(|a| !a.detail.contains(secret.as_str())), "audit holds clear PII");
    }
    assert!(json.contains("carrier_3_elements") && json.contains("bank_4_elements"));
    let Response::Evidence { sha256, html_path, json_path } =
        call(&w.s, &mut cs1, RecycledRequest::ExportEvidence { case_id: case.id }).await.unwrap()
    else {
        panic!()
    };
    let html = std::fs::read_to_string(html_path).unwrap();
    assert!(html.contains(&sha256) && html.contains("二次号案件证据包"));
    let text = std::fs::read_to_string(json_path).unwrap();
    assert_eq!(sha256, sha256_hex(text.as_bytes()));
    assert!(!text.contains(&holder.id_number) && !html.contains(&holder.card_number));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn force_unbind_failure_paths_and_budget(db: Db) {
    let w = world(db, 300).await;
    let mut cs1 = login(&w.s, "cs1").await;
    done(&w, &mut cs1, "n.csv", seed::carrier_notices_csv(&w.records).as_bytes()).await;
    let phone = reissued(&w).phone.clone();
    let holder = seed::new_holder(&phone);
    let case = case_of(&w, &mut cs1, &phone).await;
    let start = |name: &str, id: &str| RecycledRequest::ForceUnbindStart {
        case_id: case.id,
        claimant: Claimant { name: name.into(), id_number: id.into(), phone: phone.clone() },
    };
    // Bad input: a clear, specific error.
    let r = call(&w.s, &mut cs1, start(&holder.name, "110105199001011234")).await;
    assert!(matches!(&r, Err(ApiError::InvalidInput { field, .. }) if field == "id_number"), "{r:?}");
    // The old customer is the same person: stop.
    let old = w.s.store().user_by_phone(&phone).await.unwrap().unwrap();
    let customer = w.s.store().customer(old.customer_id).await.unwrap().unwrap();
    if let Some(sealed) = &customer.id_number_enc {
        let id = vault().open(sealed).unwrap();
        let Response::ForceUnbind(s) = call(&w.s, &mut cs1, start(&customer.name, &id)).await.unwrap() else {
            panic!()
        };
        assert!(s.same_person && !s.carrier_passed);
    }
    // Wrong name: the carrier check fails.
    let Response::ForceUnbind(s) = call(&w.s, &mut cs1, start("王错名", &holder.id_number)).await.unwrap()
    else {
        panic!()
    };
    assert!(!s.carrier_passed);
    assert_eq!(s.carrier_check.unwrap().name, domain::recycle::FieldMatch::Mismatch);
    assert_eq!(s.claimant_budget.remaining, 1, "one carrier failure used");
    // Right identity: passes; then bank failures by kind.
    let Response::ForceUnbind(s) =
        call(&w.s, &mut cs1, start(&holder.name, &holder.id_number)).await.unwrap()
    else {
        panic!()
    };
    assert!(s.carrier_passed);
    let bank = |card: &str| RecycledRequest::ForceUnbindBankCheck {
        wizard_id: s.wizard_id,
        card_number: card.into(),
    };
    let r = call(&w.s, &mut cs1, bank("12ab")).await;
    assert!(matches!(&r, Err(ApiError::InvalidInput { field, .. }) if field == "card_number"));
    let luhn = |body: &str| format!("{body}{}", domain::card::luhn_check_digit(body).unwrap());
    let abnormal = luhn_ending(&luhn, "0001");
    let Response::ForceUnbind(after) = call(&w.s, &mut cs1, bank(&abnormal)).await.unwrap() else { panic!() };
    assert_eq!(after.bank_checks.last().unwrap().answer, BankAnswer::AbnormalStatus);
    let restricted = luhn_ending(&luhn, "0002");
    let Response::ForceUnbind(after) = call(&w.s, &mut cs1, bank(&restricted)).await.unwrap() else {
        panic!()
    };
    assert_eq!(after.bank_checks.last().unwrap().answer, BankAnswer::RestrictedCard);
    assert_eq!(after.claimant_budget.remaining, 0, "two consecutive failures spend the budget");
    assert!(after.claimant_budget.locked_until.is_some());
    // Spent: even the right card is refused before the bank is asked.
    let r = call(&w.s, &mut cs1, bank(&holder.card_number)).await;
    assert!(matches!(r, Err(ApiError::BudgetExhausted { .. })), "{r:?}");
    let bank4 = count(&w, "SELECT COUNT(*) FROM verification_attempts WHERE kind = 'bank4'").await;
    assert_eq!(bank4, 2, "the refused attempt never reached the bank");
    assert!(w.s.store().user_by_phone(&phone).await.unwrap().is_some(), "nothing unbound");
    let r = call(&w.s, &mut cs1, RecycledRequest::ForceUnbindSubmit { wizard_id: s.wizard_id }).await;
    assert!(matches!(r, Err(ApiError::Conflict { .. })), "cannot submit without a passed bank check");
}

/// A Luhn-valid 16-digit number with a known BIN ending in `tail`.
fn luhn_ending(luhn: &dyn Fn(&str) -> String, tail: &str) -> String {
    for n in 0..10_000u32 {
        let c = luhn(&format!("62220212{n:04}{}", &tail[..3]));
        if c.ends_with(tail) {
            return c;
        }
    }
    panic!("no number ending {tail}")
}

on_both_databases!(
    import_is_atomic_idempotent_and_reads_gbk,
    detection_rule_entry_time_and_old_notices,
    claims_are_exclusive_and_leases_expire,
    confirm_needs_a_checker_and_unbinds,
    lifting_an_sms_block_needs_a_carrier_check_and_a_checker,
    threshold_setting_and_freeze_window,
    bulk_dry_run_changes_nothing,
    hooks_open_cases_and_block,
    force_unbind_passes_with_both_checks,
    force_unbind_failure_paths_and_budget,
);
