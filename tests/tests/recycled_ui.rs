//! The recycled-number screens, driven by the labels a person reads, on both
//! databases: claim → review → confirm → a second operator approves; the
//! force-unbind wizard's pass and failure paths; keyboard shortcuts; import.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::recycle::CaseStatus;
use e2e::ui::{block, click, harness, log_in, type_into};
use e2e::{Db, TestDb, on_both_databases_sync};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use service::seed::{self, DEMO_PASSWORD};
use store::{CaseQuery, CaseRow};
use ui::OpsApp;

/// An open, automatic (not ported) demo case of a reissued number, and its phone.
fn demo_case(url: &str) -> CaseRow {
    block(async {
        let store = store::open(url).await.unwrap();
        let q = CaseQuery { limit: 500, ..CaseQuery::default() };
        let rows = store.queue(&q).await.unwrap();
        rows.into_iter()
            .find(|r| {
                r.core.source == domain::recycle::CaseSource::EntryTime
                    && !r.core.manual_only
                    && r.core.freeze_until.is_none()
            })
            .expect("the demo data has reissued numbers")
    })
}

fn case_now(url: &str, id: uuid::Uuid) -> CaseRow {
    block(async { store::open(url).await.unwrap().case_row(id).await.unwrap().unwrap() })
}

/// Opens the queue filtered to `phone` and the case on it.
fn open_case(h: &mut Harness<'_, OpsApp>, phone: &str) {
    click(h, "二次号审核");
    type_into(h, "号码", phone);
    click(h, "刷新");
    h.get_by_label_contains(&domain::mask::phone(phone));
    click(h, "打开");
    h.get_by_label("号码时间线");
}

fn log_out(h: &mut Harness<'_, OpsApp>) {
    click(h, "退出登录");
    h.get_by_label("登录");
}

fn claim_confirm_and_a_second_operator_approves(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let case = demo_case(&t.url);
    log_in(&mut h, "cs1", DEMO_PASSWORD);
    open_case(&mut h, &case.core.phone);
    assert!(h.query_by_label(&case.core.phone).is_none(), "the number stays masked");
    click(&mut h, "领取");
    h.get_by_label("释放");
    type_into(&mut h, "备注", "入网时间晚于绑定，核实为二次号");
    click(&mut h, "确认二次号");
    h.get_by_label("已提交，等待复核");
    assert!(h.query_by_label("复核通过").is_none(), "agents cannot approve");
    assert_eq!(case_now(&t.url, case.id).status, CaseStatus::PendingApproval);
    log_out(&mut h);

    log_in(&mut h, "sup1", DEMO_PASSWORD);
    open_case(&mut h, &case.core.phone);
    h.get_by_label_contains("cs1 提议");
    click(&mut h, "复核通过");
    h.get_by_label("已确认二次号");
    let row = case_now(&t.url, case.id);
    assert_eq!(
        (row.status.as_str(), row.decided_by.as_deref(), row.approved_by.as_deref()),
        ("confirmed", Some("cs1"), Some("sup1"))
    );
    let user = block(async {
        store::open(&t.url).await.unwrap().user(case.core.old_user_id).await.unwrap().unwrap()
    });
    assert_eq!(user.phone, None, "the old user's login phone is removed");
    assert!(user.sms_reset_blocked, "SMS reset is blocked");
    h.get_by_label_contains("封禁短信重置密码");
}

fn the_maker_cannot_approve_on_screen(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let case = demo_case(&t.url);
    log_in(&mut h, "sup1", DEMO_PASSWORD);
    open_case(&mut h, &case.core.phone);
    click(&mut h, "领取");
    click(&mut h, "确认二次号");
    h.get_by_label("已提交，等待复核");
    click(&mut h, "复核通过");
    h.get_by_label_contains("无法执行：提议人不能复核自己的提议");
    assert_eq!(case_now(&t.url, case.id).status, CaseStatus::PendingApproval);
}

/// A refusal shown on a case, then the language switched in Settings: back on the
/// case the same refusal reads in English.
fn a_case_error_follows_the_language_switch_in_settings(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let case = demo_case(&t.url);
    log_in(&mut h, "sup1", DEMO_PASSWORD);
    open_case(&mut h, &case.core.phone);
    click(&mut h, "领取");
    h.get_by_label("已领取此案件");
    click(&mut h, "确认二次号");
    click(&mut h, "复核通过");
    h.get_by_label_contains("无法执行：提议人不能复核自己的提议");
    click(&mut h, "设置");
    click(&mut h, "English");
    click(&mut h, "Recycled numbers");
    h.get_by_label_contains("Cannot do that: the maker cannot approve their own proposal");
    assert!(h.query_by_label_contains("无法执行").is_none(), "no Chinese left from before the switch");
}

fn force_unbind_pass_through_the_wizard(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let case = demo_case(&t.url);
    let holder = seed::new_holder(&case.core.phone);
    log_in(&mut h, "cs1", DEMO_PASSWORD);
    open_case(&mut h, &case.core.phone);
    click(&mut h, "为新号主强制解绑");
    h.get_by_label("第二步：新号主身份（运营商三要素）");
    type_into(&mut h, "新号主手机号", &case.core.phone);
    type_into(&mut h, "新号主姓名", &holder.name);
    type_into(&mut h, "新号主证件号", &holder.id_number);
    click(&mut h, "运营商核验");
    h.get_by_label("运营商核验通过");
    type_into(&mut h, "卡号", &holder.card_number);
    click(&mut h, "银行卡核验");
    h.get_by_label("银行卡核验通过");
    click(&mut h, "提交解绑");
    h.get_by_label("已提交，等待复核");
    log_out(&mut h);
    log_in(&mut h, "sup1", DEMO_PASSWORD);
    open_case(&mut h, &case.core.phone);
    click(&mut h, "复核通过");
    h.get_by_label("已强制解绑");
    let user = block(async {
        store::open(&t.url).await.unwrap().user(case.core.old_user_id).await.unwrap().unwrap()
    });
    assert_eq!(user.phone, None);
    click(&mut h, "导出证据包");
    h.get_by_label_contains("证据包已导出");
}

fn force_unbind_failures_are_shown(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let case = demo_case(&t.url);
    let holder = seed::new_holder(&case.core.phone);
    log_in(&mut h, "cs1", DEMO_PASSWORD);
    click(&mut h, "强制解绑");
    type_into(&mut h, "新号主手机号", &case.core.phone);
    click(&mut h, "查找案件");
    h.get_by_label_contains("案件：");
    // A malformed ID number: refused with the field named.
    type_into(&mut h, "新号主姓名", &holder.name);
    type_into(&mut h, "新号主证件号", "110105199001011234");
    click(&mut h, "运营商核验");
    h.get_by_label_contains("输入有误：证件号");
    // Wrong name: the carrier says mismatch and the wizard stops.
    clear_and_type(&mut h, "新号主姓名", "王错名");
    clear_and_type(&mut h, "新号主证件号", &holder.id_number);
    click(&mut h, "运营商核验");
    h.get_by_label("运营商核验未通过，不能继续");
    h.get_by_label_contains("姓名 不一致");
    // Right identity, then a restricted card and an abnormal card: budget spent.
    clear_and_type(&mut h, "新号主姓名", &holder.name);
    click(&mut h, "运营商核验");
    h.get_by_label("运营商核验通过");
    for (tail, answer) in [("0002", "受限卡"), ("0001", "卡状态异常")] {
        type_into(&mut h, "卡号", &card_ending(tail));
        click(&mut h, "银行卡核验");
        h.get_by_label_contains(answer);
    }
    h.get_by_label_contains("已锁定至");
    type_into(&mut h, "卡号", &holder.card_number);
    click(&mut h, "银行卡核验");
    h.get_by_label_contains("核验次数已用尽");
    assert!(h.query_by_label("提交解绑").is_none());
    assert_eq!(case_now(&t.url, case.id).status, CaseStatus::Open, "nothing unbound");
}

fn the_same_person_is_sent_to_account_recovery(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let case = demo_case(&t.url);
    let (name, id) = block(async {
        let store = store::open(&t.url).await.unwrap();
        let c = store.customer(case.core.old_customer_id).await.unwrap().unwrap();
        (c.name, c.id_number_enc.map(|sealed| e2e::vault().open(&sealed).unwrap()))
    });
    let id = id.expect("the demo case's customer is real-name verified");
    log_in(&mut h, "cs1", DEMO_PASSWORD);
    open_case(&mut h, &case.core.phone);
    click(&mut h, "为新号主强制解绑");
    type_into(&mut h, "新号主手机号", &case.core.phone);
    type_into(&mut h, "新号主姓名", &name);
    type_into(&mut h, "新号主证件号", &id);
    click(&mut h, "运营商核验");
    h.get_by_label("申请人与原客户是同一人：这不是二次号，请走账户找回流程。");
    assert!(h.query_by_label("卡号").is_none(), "the wizard stops");
    assert_eq!(case_now(&t.url, case.id).status, CaseStatus::Open);
}

fn clear_and_type(h: &mut Harness<'_, OpsApp>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.run();
    h.key_press(egui::Key::End);
    for _ in 0..40 {
        h.key_press(egui::Key::Backspace);
    }
    h.run();
    type_into(h, label, text);
}

/// A Luhn-valid ICBC-BIN card number ending in `tail` (the simulator's test cards).
fn card_ending(tail: &str) -> String {
    (0..10_000u32)
        .map(|n| {
            let body = format!("62220212{n:04}{}", &tail[..3]);
            format!("{body}{}", domain::card::luhn_check_digit(&body).unwrap())
        })
        .find(|c| c.ends_with(tail))
        .unwrap()
}

fn keyboard_moves_opens_and_claims(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    log_in(&mut h, "cs2", DEMO_PASSWORD);
    click(&mut h, "二次号审核");
    h.get_by_label_contains("▶");
    h.key_press(egui::Key::J);
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    h.get_by_label("号码时间线");
    h.key_press(egui::Key::C);
    h.run();
    h.get_by_label("释放");
    h.key_press(egui::Key::Escape);
    h.run();
    h.get_by_label("领取下一件");
    let held = block(async {
        let store = store::open(&t.url).await.unwrap();
        let q = CaseQuery { claimed_by: Some("cs2".into()), limit: 10, ..CaseQuery::default() };
        store.queue(&q).await.unwrap().len()
    });
    assert_eq!(held, 1, "C claimed the case opened with Enter");
}

fn saved_views_are_kept_per_operator(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    log_in(&mut h, "cs1", DEMO_PASSWORD);
    click(&mut h, "二次号审核");
    type_into(&mut h, "最低风险", "15");
    type_into(&mut h, "视图名称", "我的高风险");
    click(&mut h, "保存视图");
    h.get_by_label("我的高风险");
    log_out(&mut h);
    log_in(&mut h, "cs2", DEMO_PASSWORD);
    click(&mut h, "二次号审核");
    assert!(h.query_by_label("我的高风险").is_none(), "views are per operator");
    log_out(&mut h);
    log_in(&mut h, "cs1", DEMO_PASSWORD);
    click(&mut h, "二次号审核");
    click(&mut h, "我的高风险");
    h.get_by_label_contains("▶");
    let rows = h.query_all_by_label("打开").count();
    let expected = block(async {
        let store = store::open(&t.url).await.unwrap();
        let q = CaseQuery { min_risk: Some(15), limit: 50, ..CaseQuery::default() };
        store.queue(&q).await.unwrap().len()
    });
    assert_eq!(rows, expected, "the saved view's filter applies");
}

fn a_bad_carrier_file_is_explained(db: Db) {
    let t = block(TestDb::new(db));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("carrier-bad.csv");
    std::fs::write(
        &path,
        "phone,entry_at,event,event_at,carrier\n13912393949,2026-01-01,关机,2026-01-02,中国移动\n",
    )
    .unwrap();
    let mut h = harness(&t.url);
    log_in(&mut h, "cs1", DEMO_PASSWORD);
    click(&mut h, "二次号审核");
    click(&mut h, "导入运营商文件");
    type_into(&mut h, "文件路径", &path.display().to_string());
    click(&mut h, "导入");
    for _ in 0..50 {
        if h.query_by_label_contains("未导入任何数据").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.run();
    }
    h.get_by_label("文件有 1 处错误，未导入任何数据：");
    h.get_by_label_contains("carrier-bad.csv 第 2 行：事件「关机」无法识别");
}

on_both_databases_sync!(
    claim_confirm_and_a_second_operator_approves,
    the_maker_cannot_approve_on_screen,
    a_case_error_follows_the_language_switch_in_settings,
    force_unbind_pass_through_the_wizard,
    force_unbind_failures_are_shown,
    the_same_person_is_sent_to_account_recovery,
    keyboard_moves_opens_and_claims,
    saved_views_are_kept_per_operator,
    a_bad_carrier_file_is_explained,
);
