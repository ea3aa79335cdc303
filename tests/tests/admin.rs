//! Operator administration on both databases: the first administrator of an empty
//! database, the password policy, a new operator's first password replaced before
//! any work, administrators never changing their own account, disabling, unlocking,
//! and the audit rows of each change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use domain::api::AdminRequest;
use domain::auth::{LoginPolicy, PasswordRule, Permission, Role};
use domain::{ApiError, Conflict, InputProblem, Request, Response};
use e2e::{Db, TestDb, on_both_databases, vault};
use service::{Services, Session};

const ROOT_PASSWORD: &str = "Fjord-Lantern-58-Quiet";
const FIRST_PASSWORD: &str = "Handed-Over-2026-Once";
const OWN_PASSWORD: &str = "Chosen-By-Me-Myself-7";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap()
}

async fn empty(db: Db) -> (TestDb, Services) {
    let t = TestDb::new(db).await;
    let store = store::open(&t.url).await.unwrap();
    (t, Services::new(store, vault(), LoginPolicy::default()))
}

async fn login(s: &Services, username: &str, password: &str) -> (Session, Result<Response, ApiError>) {
    let session = Session::default();
    let r = s
        .handle(&session, Request::Login { username: username.into(), password: password.into() }, t0())
        .await;
    (session, r)
}

async fn actions(s: &Services) -> Vec<String> {
    s.store().audit_page(None, 100).await.unwrap().into_iter().map(|r| r.action).collect()
}

async fn the_first_administrator_only_for_a_database_without_operators(db: Db) {
    let (_t, s) = empty(db).await;
    let store = s.store().as_ref();
    let weak = service::admin::create_first_admin(store, "root.admin", "管理员", "short", t0()).await;
    assert!(weak.is_err(), "the policy applies to the first administrator too");
    service::admin::create_first_admin(store, "root.admin", "管理员 张伟", ROOT_PASSWORD, t0())
        .await
        .unwrap();
    let again = service::admin::create_first_admin(store, "second", "第二", ROOT_PASSWORD, t0()).await;
    assert!(again.is_err(), "only a database without usable operators gets a first administrator");
    let (_, r) = login(&s, "root.admin", ROOT_PASSWORD).await;
    assert!(matches!(r, Ok(Response::LoggedIn(op)) if op.role == Role::Admin && !op.must_change_password));
    assert!(actions(&s).await.contains(&"operator.create_first".to_owned()));
}

async fn administrators_manage_others_never_themselves(db: Db) {
    let (_t, s) = empty(db).await;
    service::admin::create_first_admin(s.store().as_ref(), "root.admin", "管理员", ROOT_PASSWORD, t0())
        .await
        .unwrap();
    let (admin, _) = login(&s, "root.admin", ROOT_PASSWORD).await;
    let create = |password: &str| AdminRequest::CreateOperator {
        username: "wang.fang".into(),
        display_name: "客服 王芳".into(),
        role: Role::CsAgent,
        initial_password: password.into(),
    };
    for (password, rule) in [
        ("Short-1", PasswordRule::TooShort),
        ("wang.fang-2026-pass", PasswordRule::ContainsUsername),
        ("Password1234", PasswordRule::Common),
    ] {
        let r = s.handle(&admin, create(password), t0()).await;
        assert_eq!(
            r,
            Err(ApiError::InvalidInput {
                field: "password".into(),
                problem: InputProblem::WeakPassword { rule }
            })
        );
    }
    assert_eq!(s.handle(&admin, create(FIRST_PASSWORD), t0()).await, Ok(Response::Done));

    // The first password was handed over: nothing works until the operator replaces it.
    let (agent, r) = login(&s, "wang.fang", FIRST_PASSWORD).await;
    assert!(matches!(r, Ok(Response::LoggedIn(op)) if op.must_change_password));
    let search = || Request::SearchCustomers { query: "13912393949".into() };
    assert_eq!(s.handle(&agent, search(), t0()).await, Err(ApiError::PasswordChangeRequired));
    let change = |new: &str| Request::ChangePassword { current: FIRST_PASSWORD.into(), new: new.into() };
    assert!(s.handle(&agent, change("too-short"), t0()).await.is_err());
    assert_eq!(s.handle(&agent, change(OWN_PASSWORD), t0()).await, Ok(Response::Done));
    assert!(matches!(s.handle(&agent, search(), t0()).await, Ok(Response::Customers(_))));

    // An administrator never changes their own account (no self-granted role, no self-unlock).
    let own = AdminRequest::SetRole { username: "root.admin".into(), role: Role::Supervisor };
    assert_eq!(s.handle(&admin, own, t0()).await, Err(ApiError::Conflict { conflict: Conflict::OwnAccount }));
    let own = AdminRequest::SetDisabled { username: "root.admin".into(), disabled: false };
    assert_eq!(s.handle(&admin, own, t0()).await, Err(ApiError::Conflict { conflict: Conflict::OwnAccount }));
    // Agents do not administer.
    let r = s.handle(&agent, AdminRequest::ListOperators, t0()).await;
    assert_eq!(r, Err(ApiError::Forbidden { permission: Permission::OperatorManage }));

    // Disabled: only the owner (who knows the password) is told so.
    let disable = AdminRequest::SetDisabled { username: "wang.fang".into(), disabled: true };
    assert_eq!(s.handle(&admin, disable, t0()).await, Ok(Response::Done));
    assert_eq!(login(&s, "wang.fang", OWN_PASSWORD).await.1, Err(ApiError::OperatorDisabled));
    assert!(matches!(
        login(&s, "wang.fang", "a-wrong-guess-0000").await.1,
        Err(ApiError::InvalidCredentials { .. })
    ));
    let enable = AdminRequest::SetDisabled { username: "wang.fang".into(), disabled: false };
    s.handle(&admin, enable, t0()).await.unwrap();

    // Locked after failures; an administrator unlocks.
    for _ in 0..5 {
        let _ = login(&s, "wang.fang", "a-wrong-guess-0000").await;
    }
    assert!(matches!(login(&s, "wang.fang", OWN_PASSWORD).await.1, Err(ApiError::OperatorLocked { .. })));
    s.handle(&admin, AdminRequest::Unlock { username: "wang.fang".into() }, t0()).await.unwrap();
    assert!(matches!(login(&s, "wang.fang", OWN_PASSWORD).await.1, Ok(Response::LoggedIn(_))));

    let Ok(Response::Operators(ops)) = s.handle(&admin, AdminRequest::ListOperators, t0()).await else {
        panic!()
    };
    assert_eq!(ops.iter().map(|o| o.username.as_str()).collect::<Vec<_>>(), ["root.admin", "wang.fang"]);
    let log = actions(&s).await;
    for action in ["operator.create", "operator.password_changed", "operator.disabled", "operator.unlock"] {
        assert!(log.contains(&action.to_owned()), "{action} audited");
    }
}

on_both_databases!(
    the_first_administrator_only_for_a_database_without_operators,
    administrators_manage_others_never_themselves,
);

mod screens {
    //! The same by the labels an administrator and a new operator read.
    use super::{FIRST_PASSWORD, OWN_PASSWORD};
    use e2e::ui::{block, harness, log_in, type_into};
    use e2e::{Db, TestDb, on_both_databases_sync};
    use egui::accesskit::Role;
    use egui_kittest::Harness;
    use egui_kittest::kittest::{NodeT, Queryable};
    use service::seed::DEMO_PASSWORD;
    use ui::OpsApp;

    /// Clicks the button labelled `label` (the same words may also be a plain label).
    fn press(h: &mut Harness<'_, OpsApp>, label: &str) {
        h.query_all_by_label(label).find(|n| n.accesskit_node().role() == Role::Button).unwrap().click();
        h.run();
    }

    fn an_administrator_creates_an_operator_who_chooses_a_password(db: Db) {
        let t = block(TestDb::new(db));
        let mut h = harness(&t.url);
        log_in(&mut h, "admin", DEMO_PASSWORD);
        press(&mut h, "操作员管理");
        type_into(&mut h, "用户名", "zhao.lei");
        type_into(&mut h, "显示名称", "客服 赵磊");
        h.query_by_role_and_label(Role::ComboBox, "角色").expect("the role picker").click();
        h.run();
        press(&mut h, "客服");
        type_into(&mut h, "初始密码", FIRST_PASSWORD);
        press(&mut h, "创建操作员");
        h.get_by_label("已完成并记入审计日志");
        h.get_by_label("zhao.lei");
        h.get_all_by_label("待改密").next().expect("the new operator must change the password");
        press(&mut h, "退出登录");

        log_in(&mut h, "zhao.lei", FIRST_PASSWORD);
        h.get_by_label("请设置新密码（至少 12 个字符，不含用户名）");
        assert!(h.query_by_label("客户查询").is_none(), "no work before the new password");
        type_into(&mut h, "当前密码", FIRST_PASSWORD);
        type_into(&mut h, "新密码", OWN_PASSWORD);
        press(&mut h, "设置新密码");
        h.get_all_by_label("客户查询")
            .next()
            .expect("the work areas, once the password is the operator's own");
    }

    on_both_databases_sync!(an_administrator_creates_an_operator_who_chooses_a_password);
}
