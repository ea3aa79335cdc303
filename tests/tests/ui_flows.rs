//! The real UI, driven by the labels a person reads, against real databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::ui::{audit_actions, block, harness, harness_with_clock, log_in, type_into};
use e2e::{Db, TestDb, on_both_databases_sync};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use service::seed::{self, DEMO_PASSWORD};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

fn wrong_password_is_refused_on_screen(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    log_in(&mut h, "cs1", "wrong-password");
    h.get_by_label("用户名或密码错误（连续错误 5 次将锁定 15 分钟）");
    assert!(h.query_by_label("退出登录").is_none(), "still on the login screen");
    assert!(h.state().operator().is_none());
    let log = audit_actions(&t.url);
    assert_eq!((log[0].0.as_str(), log[0].1.as_str()), ("system", "login.failed"));
}

/// Errors are kept typed and worded while drawing: switching language after the
/// error arrived shows it in the new language.
fn a_login_error_follows_the_language_switch(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    log_in(&mut h, "cs1", "wrong-password");
    h.get_by_label("用户名或密码错误（连续错误 5 次将锁定 15 分钟）");
    h.get_by_label("English").click();
    h.run();
    h.get_by_label("Wrong username or password (5 failures in a row lock the operator for 15 minutes)");
    assert!(h.query_by_label("用户名或密码错误（连续错误 5 次将锁定 15 分钟）").is_none());
    h.get_by_label("中文").click();
    h.run();
    h.get_by_label("用户名或密码错误（连续错误 5 次将锁定 15 分钟）");
}

fn agent_searches_opens_and_reveals_with_audit(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    log_in(&mut h, "cs1", DEMO_PASSWORD);
    h.get_by_label("退出登录");
    h.get_by_label("虚拟子账户").click();
    h.run();
    h.get_by_label("物理账户");
    assert!(h.query_by_label("拉取银行入账").is_none(), "an agent only looks");
    h.get_by_label("客户查询").click();
    h.run();

    let phone = seed::demo_phone(1);
    type_into(&mut h, "搜索客户", &phone);
    h.get_by_label("搜索").click();
    h.run();
    h.get_by_label("找到 1 位客户");
    h.get_by_label("打开").click();
    h.run();
    let masked = domain::mask::phone(&phone);
    assert!(h.query_by_label(&phone).is_none(), "phone is masked until revealed");
    h.get_all_by_label(&masked).next().expect("masked phone shown");

    h.get_all_by_label("显示手机号").next().unwrap().click();
    h.run();
    h.get_by_label("查看敏感信息");
    // Too short a reason is refused by the backend and said on screen.
    type_into(&mut h, "查看原因", "看看");
    h.get_by_label("确认查看").click();
    h.run();
    h.get_by_label("输入有误：查看原因至少需要 4 个字");
    type_into(&mut h, "查看原因", "客户来电核实");
    h.get_by_label("确认查看").click();
    h.run();
    h.get_by_label(&phone);
    // 隐藏 masks it again without another request.
    h.get_by_label("隐藏").click();
    h.run();
    assert!(h.query_by_label(&phone).is_none());
    let log = audit_actions(&t.url);
    let (actor, action, detail) = &log[0];
    assert_eq!((actor.as_str(), action.as_str()), ("cs1", "pii.reveal"));
    assert!(detail.contains("看看客户来电核实") && !detail.contains(&phone), "{detail}");
}

fn auditor_verifies_the_chain_in_english(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    h.get_by_label("English").click();
    h.run();
    type_into(&mut h, "Username", "aud1");
    type_into(&mut h, "Password", DEMO_PASSWORD);
    h.get_by_label("Log in").click();
    h.run();
    assert!(h.query_by_label("Recycled numbers").is_none(), "auditors do not review numbers");
    // Auditors see customers masked, with no way to reveal.
    type_into(&mut h, "Search customers", &seed::demo_phone(1));
    h.get_by_label("Search").click();
    h.run();
    h.get_by_label("Open").click();
    h.run();
    h.get_by_label("Phone-binding history");
    assert!(h.query_by_label("Reveal phone").is_none() && h.query_by_label("Reveal ID number").is_none());
    h.get_by_label("Audit log").click();
    h.run();
    h.get_all_by_label("logged in").next().expect("the auditor's own login is listed");
    h.get_by_label("Verify hash chain").click();
    h.run();
    h.get_by_label_contains("Hash chain intact");
    h.get_by_label("Log out").click();
    h.run();
    h.get_by_label("Log in");
}

fn an_idle_session_goes_back_to_login(db: Db) {
    let t = block(TestDb::new(db));
    let skew = Arc::new(AtomicI64::new(0));
    let mut h = harness_with_clock(&t.url, Arc::clone(&skew));
    log_in(&mut h, "cs2", DEMO_PASSWORD);
    type_into(&mut h, "搜索客户", "0000");
    skew.store(16, Ordering::SeqCst);
    h.get_by_label("搜索").click();
    h.run();
    h.get_by_label("长时间未操作，会话已超时，请重新登录");
    assert!(h.state().operator().is_none());
    assert!(h.query_by_label("退出登录").is_none());
    let log = audit_actions(&t.url);
    assert_eq!((log[0].0.as_str(), log[0].1.as_str()), ("cs2", "session.expired"));
}

on_both_databases_sync!(
    an_idle_session_goes_back_to_login,
    wrong_password_is_refused_on_screen,
    a_login_error_follows_the_language_switch,
    agent_searches_opens_and_reveals_with_audit,
    auditor_verifies_the_chain_in_english,
);

#[test]
fn a_bad_database_url_is_explained_on_screen() {
    let h = harness("mysql://nowhere/db");
    h.get_by_label("无法打开数据库");
    h.get_by_label_contains("数据库地址无效");
    assert!(h.query_by_label("登录").is_none());
}

#[test]
fn a_corrupt_database_file_is_explained_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ops.db");
    std::fs::write(&path, b"this is not a sqlite database, it is a text file".repeat(200)).unwrap();
    let h = harness(&format!("sqlite:{}", path.display()));
    h.get_by_label_contains("已损坏或不是数据库");
}

fn every_text_the_ui_draws() -> String {
    use ui::i18n::{Lang, T};
    let mut text: Vec<&str> = T::ALL.iter().flat_map(|k| [k.text(Lang::Zh), k.text(Lang::En)]).collect();
    text.extend(seed::SURNAMES.iter().chain(seed::GIVEN).chain(seed::RARE_GIVEN));
    text.join(" ")
}

/// kittest panics on any character no font can draw, so this fails if the bundled
/// font lacks a catalogue string's glyph or a rare name character such as 䶮.
#[test]
fn the_bundled_font_draws_the_catalogue_and_rare_name_characters() {
    let text = every_text_the_ui_draws();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1200.0))
        .with_context_setup(|ctx| ui::fonts::install(ctx, ui::fonts::bundled()))
        .build_ui(move |ui| {
            ui.label(&text);
        });
    h.run();
}

/// The control for the test above: without the bundled font the same text fails.
#[test]
#[should_panic]
fn without_the_bundled_font_chinese_cannot_be_drawn() {
    let text = every_text_the_ui_draws();
    let mut h = Harness::builder().build_ui(move |ui| {
        ui.label(&text);
    });
    h.run();
}
