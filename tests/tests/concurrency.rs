//! Twenty agents at once: 20 tasks, each its own operator and session, claim and
//! decide 5,000 cases through the services. No case is claimed twice, no phone
//! ends up bound to two users, every case is decided once, the audit chain verifies.
//! Same scenario on SQLite (one writer, compare-and-set) and PostgreSQL
//! (`FOR UPDATE SKIP LOCKED`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use domain::auth::Role;
use domain::cases::CaseDecision;
use domain::recycle::{FourEyesPolicy, NotRecycledReason, RecycleSettings};
use domain::{RecycledRequest, Request, Response};
use e2e::{Db, TestDb, on_both_databases, scalar, vault};
use rust_decimal::Decimal;
use service::seed;
use service::{Services, Session};
use std::collections::HashSet;
use std::sync::Arc;
use store::NewAudit;
use uuid::Uuid;

const AGENTS: usize = 20;
const CASES: usize = 5_000;

async fn twenty_agents_work_five_thousand_cases(db: Db) {
    let t = TestDb::new(db).await;
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let store = store::open(&t.url).await.unwrap();
    let s = Arc::new(Services::new(store, vault(), domain::auth::LoginPolicy::default()));
    seed::generate_into(&s, seed::DEMO_SEED, 6_500, seed::demo_anchor()).await.unwrap();

    // Every bound number gets a reissue notice with an entry time after its binding.
    let phones: Vec<String> = (1..=9_000).map(seed::demo_phone).collect();
    let bound = s.store().bound_phones(&phones).await.unwrap();
    assert!(bound.len() >= CASES, "only {} bound phones", bound.len());
    let beijing = |t: chrono::DateTime<Utc>| (t + Duration::hours(8)).format("%Y-%m-%d %H:%M:%S").to_string();
    let mut csv = String::from("phone,entry_at,event,event_at,carrier\n");
    for b in bound.iter().take(CASES) {
        let entry = beijing(b.bound_at + Duration::days(100));
        csv.push_str(&format!("{},{entry},reissue,{entry},中国移动\n", b.phone));
    }
    let parsed = service::intake::parse_carrier_csv("load.csv", csv.as_bytes(), |_, _| {}).unwrap();
    let settings = RecycleSettings {
        // Confirmations apply at once here, so unbinding runs concurrently too.
        four_eyes: FourEyesPolicy::AboveBalance {
            threshold: Decimal::new(RecycleSettings::MAX_THRESHOLD_YUAN, 0),
        },
        ..RecycleSettings::default()
    };
    let report = service::recycle::screen_carrier_file(
        s.store().as_ref(),
        &parsed,
        "load.csv",
        "system",
        &settings,
        now,
    )
    .await
    .unwrap();
    assert_eq!(report.cases_opened as usize, CASES);
    let value = serde_json::to_string(&settings).unwrap();
    s.store()
        .put_setting(
            "recycle",
            &value,
            NewAudit::new(now, "system", "settings.update", "settings", serde_json::json!({})),
        )
        .await
        .unwrap();

    for i in 0..AGENTS {
        let name = format!("agent{i:02}");
        seed::create_operator(&s, &name, &format!("坐席{i}"), Role::CsAgent, "Agent@2026", now)
            .await
            .unwrap();
    }

    let mut tasks = Vec::new();
    for i in 0..AGENTS {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let session = Session::default();
            let login = Request::Login { username: format!("agent{i:02}"), password: "Agent@2026".into() };
            s.handle(&session, login, now).await.unwrap();
            let mut decided = Vec::new();
            loop {
                let Response::Claimed(claimed) =
                    s.handle(&session, RecycledRequest::ClaimNext, now).await.unwrap()
                else {
                    panic!("unexpected reply")
                };
                let Some(case_id) = claimed else { break };
                let decision = if case_id.as_u128() % 2 == 0 {
                    CaseDecision::ConfirmRecycled { note: "批量核实".into() }
                } else {
                    CaseDecision::NotRecycled {
                        reason: NotRecycledReason::SameHolder,
                        note: "核实为本人".into(),
                    }
                };
                s.handle(&session, RecycledRequest::DecideCase { case_id, decision }, now).await.unwrap();
                decided.push(case_id);
            }
            decided
        }));
    }
    let mut all = Vec::new();
    let mut busy_agents = 0;
    for task in tasks {
        let decided = task.await.unwrap();
        busy_agents += usize::from(!decided.is_empty());
        all.extend(decided);
    }
    let unique: HashSet<Uuid> = all.iter().copied().collect();
    assert_eq!(all.len(), CASES, "every case decided exactly once");
    assert_eq!(unique.len(), CASES, "no case decided by two agents");
    assert!(busy_agents > 1, "the work was shared");

    let url = &t.url;
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM (SELECT case_id FROM case_events WHERE kind = 'claim' GROUP BY case_id HAVING COUNT(*) > 1) x").await, 0, "no case claimed twice");
    assert_eq!(
        scalar(
            url,
            "SELECT COUNT(*) FROM recycle_cases WHERE status IN ('open', 'pending_approval', 'escalated')"
        )
        .await,
        0
    );
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM (SELECT phone FROM users WHERE phone IS NOT NULL GROUP BY phone HAVING COUNT(*) > 1) x").await, 0, "no phone bound to two users");
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM (SELECT phone FROM phone_bindings WHERE unbound_at IS NULL GROUP BY phone HAVING COUNT(*) > 1) x").await, 0);
    let confirmed = scalar(url, "SELECT COUNT(*) FROM recycle_cases WHERE status = 'confirmed'").await;
    let blocked = scalar(url, "SELECT COUNT(*) FROM sms_reset_blocks").await;
    assert_eq!(confirmed, blocked, "each confirmation blocked SMS reset once");
    let verification = s.verify_audit(&[]).await.unwrap();
    assert_eq!(verification.first_break, None);
    assert!(verification.rows as usize >= 2 * CASES);
}

on_both_databases!(twenty_agents_work_five_thousand_cases);
