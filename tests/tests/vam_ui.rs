//! The 虚拟子账户 area, driven by the labels a person reads, against the real
//! services on both databases: a credit arrives and lands, an unknown suffix lands
//! in 待识别, interest is previewed then posted, a hold is placed and partly
//! released, a transfer above the threshold waits for a supervisor who approves
//! it, and a close is refused (with its blockers) then accepted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use domain::ledger::VirtualPurpose;
use domain::vam::VirtualNodeView;
use domain::{Request, Response, VamRequest};
use e2e::ui::{block, click, harness, log_in, type_into};
use e2e::{Db, Peek, TestDb, on_both_databases_sync};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use service::seed::DEMO_PASSWORD;

use ui::OpsApp;

/// What the tests read back through an auditor's [`Peek`].
trait Read {
    /// Asks the vam area.
    fn ask_area(&self, req: VamRequest) -> Response;

    fn platform(&self) -> domain::vam::PhysicalAccountView {
        let Response::PhysicalAccounts(mut list) = self.ask_area(VamRequest::PhysicalAccounts) else {
            panic!()
        };
        list.remove(0)
    }

    /// The node whose (masked) number or owner is `shown`, found by `query`.
    fn node(&self, query: &str, shown: &str) -> VirtualNodeView {
        let Response::VirtualTree(page) = self.ask_area(VamRequest::Search { query: query.into() }) else {
            panic!()
        };
        let found = page.nodes.iter().find(|n| n.number == shown || n.owner.name_masked == shown);
        found.unwrap_or_else(|| panic!("{shown} not among {:?}", page.nodes)).clone()
    }
}

impl Read for Peek {
    fn ask_area(&self, req: VamRequest) -> Response {
        self.ask(Request::Vam(req))
    }
}

/// Clicks the button labelled `label` (the same words may also be a heading).
fn press(h: &mut Harness<'_, OpsApp>, label: &str) {
    let button = h
        .query_all_by_label(label)
        .find(|n| n.accesskit_node().role() == Role::Button)
        .unwrap_or_else(|| panic!("no button labelled {label}"));
    button.click();
    h.run();
}

/// Replaces the text of the field labelled `label`.
fn retype(h: &mut Harness<'_, OpsApp>, label: &str, text: &str) {
    h.get_by_role_and_label(Role::TextInput, label).focus();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    h.run();
    type_into(h, label, text);
}

fn a_finance_reviewer_works_sub_accounts(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let peek = Peek::new(&t.url);
    log_in(&mut h, "fin1", DEMO_PASSWORD);
    click(&mut h, "虚拟子账户");
    h.get_by_label("物理账户");

    // Credits waiting at the bank: one for a wallet, one for a number never issued.
    let before = peek.platform();
    press(&mut h, "拉取银行入账");
    h.get_by_label("已拉取银行入账：入账 1 笔，待识别 1 笔，重复 0 笔");
    let after = peek.platform();
    assert_eq!(after.suspense_balance - before.suspense_balance, rust_decimal::Decimal::new(12_300, 2));
    assert_eq!(after.virtual_total - before.virtual_total, rust_decimal::Decimal::new(66_600, 2));

    // The quarter's interest: preview, then post (below the approval threshold).
    press(&mut h, "利息分配");
    retype(&mut h, "计息起始日", "2026-08-01");
    retype(&mut h, "计息截止日", "2026-10-31");
    retype(&mut h, "利息金额", "123.45");
    press(&mut h, "试算");
    h.get_by_label_contains("利息 ¥123.45，已分配 ¥123.45");
    press(&mut h, "过账");
    assert_eq!(
        peek.platform().internal_balance,
        after.internal_balance - rust_decimal::Decimal::new(12_345, 2)
    );

    // A wallet, found by its owner's number.
    let wallet = {
        let Response::VirtualTree(page) =
            peek.ask_area(VamRequest::Tree { physical_id: after.id, parent: None, after: None, limit: 10 })
        else {
            panic!()
        };
        let platform = &page.nodes[0];
        let Response::VirtualTree(children) = peek.ask_area(VamRequest::Tree {
            physical_id: after.id,
            parent: Some(platform.id),
            after: None,
            limit: 50,
        }) else {
            panic!()
        };
        children
            .nodes
            .into_iter()
            .find(|n| {
                n.purpose == VirtualPurpose::UserWallet && n.available > rust_decimal::Decimal::from(20)
            })
            .unwrap()
    };
    let suffix: String = wallet.number.chars().rev().take(7).collect::<Vec<_>>().into_iter().rev().collect();
    type_into(&mut h, "查找子账户", &suffix);
    press(&mut h, "搜索");
    press(&mut h, &wallet.number);
    h.get_by_label(&format!("子账户 {}", wallet.number));

    // Freeze ¥10, release ¥4 of it.
    press(&mut h, "冻结资金");
    type_into(&mut h, "冻结金额", "10.00");
    type_into(&mut h, "冻结原因", "司法协助冻结");
    press(&mut h, "确认冻结");
    h.get_by_label_contains("冻结成功");
    press(&mut h, "解冻第 1 笔");
    retype(&mut h, "解冻金额", "4.00");
    press(&mut h, "确认解冻");
    let held = peek.node(&suffix, &wallet.number);
    assert_eq!(held.held, rust_decimal::Decimal::new(600, 2));

    // Close refused: every blocker listed.
    press(&mut h, "销户检查");
    h.get_by_label("不能销户，请先处理：");
    h.get_by_label_contains("余额不为零");
    h.get_by_label_contains("有 1 笔冻结（¥6.00）");
}

fn a_transfer_above_the_threshold_needs_a_supervisor(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let peek = Peek::new(&t.url);
    // A small threshold for the test (the setting is bounded, never above ¥1,000,000).
    block(async {
        let store = store::open(&t.url).await.unwrap();
        let audit = store::NewAudit::new(Utc::now(), "test", "setting", "vam", serde_json::json!({}));
        store.put_setting(service::vam::THRESHOLD_KEY, "100", audit).await.unwrap();
    });
    log_in(&mut h, "fin1", DEMO_PASSWORD);
    click(&mut h, "虚拟子账户");
    let platform = peek.platform();
    let Response::VirtualTree(top) =
        peek.ask_area(VamRequest::Tree { physical_id: platform.id, parent: None, after: None, limit: 10 })
    else {
        panic!()
    };
    let internal = top.nodes[0].clone();
    let Response::VirtualTree(children) = peek.ask_area(VamRequest::Tree {
        physical_id: platform.id,
        parent: Some(internal.id),
        after: None,
        limit: 50,
    }) else {
        panic!()
    };
    let wallet =
        children.nodes.iter().find(|n| n.available > rust_decimal::Decimal::from(20)).unwrap().clone();
    let suffix: String = wallet.number.chars().rev().take(7).collect::<Vec<_>>().into_iter().rev().collect();
    type_into(&mut h, "查找子账户", &suffix);
    press(&mut h, "搜索");
    press(&mut h, &wallet.number);
    press(&mut h, "转账");
    type_into(&mut h, "转入账户 ID", &internal.id.0.to_string());
    type_into(&mut h, "转账金额", "5.00");
    type_into(&mut h, "转账附言", "手续费");
    // 预览 first: both accounts before and after, and that a checker is needed.
    press(&mut h, "预览");
    h.get_by_label("操作后");
    h.get_by_label("此操作需要另一位复核人批准");
    press(&mut h, "确认转账");
    h.get_by_label_contains("等待另一位复核人批准");
    assert_eq!(
        peek.node(&suffix, &wallet.number).own_balance,
        wallet.own_balance,
        "nothing moves before the approval"
    );

    click(&mut h, "退出登录");
    log_in(&mut h, "sup1", DEMO_PASSWORD);
    click(&mut h, "虚拟子账户");
    press(&mut h, "刷新待复核");
    press(&mut h, "批准第 1 条");
    h.get_by_label_contains("已批准并执行");
    assert_eq!(
        peek.node(&suffix, &wallet.number).own_balance,
        wallet.own_balance - rust_decimal::Decimal::from(5)
    );

    // A new, empty sub-account closes at once.
    press(&mut h, "开立顶层子账户");
    click(&mut h, "户主类型");
    click(&mut h, "平台内部");
    type_into(&mut h, "户主名称", "临时活动账户");
    press(&mut h, "确认开立");
    let opened = peek.node("临时活动账户", "临时活动账户");
    type_into(&mut h, "查找子账户", "");
    retype(&mut h, "查找子账户", "临时活动账户");
    press(&mut h, "搜索");
    press(&mut h, &opened.number);
    press(&mut h, "销户检查");
    h.get_by_label("可以销户：没有阻碍");
    press(&mut h, "销户");
    assert_eq!(peek.node("临时活动账户", "临时活动账户").status, domain::ledger::VirtualStatus::Closed);
}

on_both_databases_sync!(
    a_finance_reviewer_works_sub_accounts,
    a_transfer_above_the_threshold_needs_a_supervisor
);
