//! The 挂账处理 area, driven by the labels a person reads, against the real services
//! on both databases (the demo data imported and reconciled the day before the demo
//! anchor, so the queue holds an overage from 张三, a returned payment, shortages…):
//! a statement checked then imported (one that does not add up only with an
//! acknowledgement), the day reconciled (dry run first) and a suggested match
//! confirmed; an item opened from the queue and matched to one of its ranked
//! candidates; a loss proposed by a finance reviewer and approved by a second
//! finance reviewer and a supervisor; the daily report with its proof and exports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, NaiveDate};
use domain::api::ReconRequest;
use domain::ledger::business_date;
use domain::suspense::{SuspenseFilter, SuspenseKind, SuspenseRow, SuspenseStatus};
use domain::{Request, Response};
use e2e::ui::{block, click, harness, log_in, type_into};
use e2e::{Db, Peek, TestDb, on_both_databases_sync};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use service::recon::demo::{DemoLine, camt053};
use service::seed::{self, DEMO_PASSWORD};
use ui::OpsApp;

/// The day the demo statement covers (the day before the demo's "today").
fn demo_day() -> NaiveDate {
    business_date(seed::demo_anchor()) - Duration::days(1)
}

/// What the tests read back through an auditor's [`Peek`].
trait Read {
    /// Asks the recon area.
    fn ask_area(&self, req: ReconRequest) -> Response;

    /// Every open item of `kind`.
    fn open_items(&self, kind: SuspenseKind) -> Vec<SuspenseRow> {
        let filter = SuspenseFilter { kind: Some(kind), ..SuspenseFilter::default() };
        let Response::SuspenseQueue(page) =
            self.ask_area(ReconRequest::Queue { filter, after: None, limit: 200 })
        else {
            panic!()
        };
        page.rows
    }

    fn status(&self, id: uuid::Uuid) -> SuspenseStatus {
        let Response::SuspenseItem(item) = self.ask_area(ReconRequest::Item { id }) else { panic!() };
        item.row.status
    }
}

impl Read for Peek {
    fn ask_area(&self, req: ReconRequest) -> Response {
        self.ask(Request::Recon(req))
    }
}

/// Clicks the button labelled `label` (the same words may also be a heading or a cell).
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
    h.run();
    h.key_press(egui::Key::End);
    for _ in 0..120 {
        h.key_press(egui::Key::Backspace);
    }
    h.run();
    type_into(h, label, text);
}

fn open_area(h: &mut Harness<'_, OpsApp>, user: &str) {
    log_in(h, user, DEMO_PASSWORD);
    press(h, "挂账处理");
    h.get_by_label("挂账队列");
}

fn log_out(h: &mut Harness<'_, OpsApp>) {
    click(h, "退出登录");
    h.get_by_label("登录");
}

/// Two statement files of the demo day in a folder of the test's own: a new payment
/// from 李四 on the first physical account, and the second account's statement
/// ¥1.00 off.
fn statement_files(url: &str, dir: &std::path::Path) -> (String, String) {
    let (first, second) = block(async {
        let store = store::open(url).await.unwrap();
        let accounts = store.physical_accounts().await.unwrap();
        (accounts[0].number.clone(), accounts[1].number.clone())
    });
    let day = demo_day();
    let line = |bank_ref: &str, amount_minor: i64, name: &str| DemoLine {
        bank_ref: bank_ref.into(),
        amount_minor,
        day,
        name: name.into(),
        addressed: None,
        remittance: "补发".into(),
        return_reason: None,
    };
    let good = camt053("STMT-E2E-1", 900, &first, day, 0, &[line("E2E0000000001", 50_000, "李四")], 0);
    let odd = camt053("CZ-E2E-1", 901, &second, day, 0, &[line("E2E0000000002", 30_000, "王五")], 100);
    let (good_path, odd_path) = (dir.join("e2e-camt053.xml"), dir.join("e2e-odd-camt053.xml"));
    std::fs::write(&good_path, good).unwrap();
    std::fs::write(&odd_path, odd).unwrap();
    (good_path.display().to_string(), odd_path.display().to_string())
}

fn a_statement_is_imported_and_the_day_reconciled(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let dir = tempfile::tempdir().unwrap();
    let (good, odd) = statement_files(&t.url, dir.path());
    open_area(&mut h, "fin1");
    press(&mut h, "导入与对账");

    // Checked first: nothing stored, what is wrong with it listed.
    type_into(&mut h, "文件路径", &odd);
    press(&mut h, "仅检查（试运行）");
    h.get_by_label("试运行：未写入任何数据");
    h.get_by_label("格式：camt.053 日终对账单");
    h.get_by_label("CZ-E2E-1");
    h.get_by_label("期初加发生额与期末相差 ¥1.00");
    // Stored only once the difference is acknowledged.
    press(&mut h, "导入");
    h.get_by_label_contains("对账单 CZ-E2E-1 不平衡（相差 ¥1.00），确认差异后才能入库");
    click(&mut h, "确认差异，仍然入库");
    press(&mut h, "导入");
    h.get_by_label("已入库");

    retype(&mut h, "文件路径", &good);
    press(&mut h, "仅检查（试运行）");
    h.get_by_label("试运行：未写入任何数据");
    h.get_by_label("STMT-E2E-1");
    press(&mut h, "导入");
    h.get_by_label("已入库");
    // The same file again adds nothing.
    press(&mut h, "导入");
    h.get_by_label("该文件已导入过，未重复入库");

    // The day: a dry run, then for real.
    let day = demo_day().to_string();
    retype(&mut h, "日期", &day);
    press(&mut h, "试运行");
    h.get_by_label(&format!("试运行（未写入）：{day}"));
    assert!(Peek::new(&t.url).open_items(SuspenseKind::Overage).iter().all(|r| r.counterparty != "李*"));
    press(&mut h, "对账");
    h.get_by_label(&format!("已对账：{day}"));
    h.get_by_label_contains("长款");
    let overages = Peek::new(&t.url).open_items(SuspenseKind::Overage);
    assert!(overages.iter().any(|r| r.counterparty == "李*"), "the new payment is an overage: {overages:?}");

    // The day's matches: a suggested one (a fee deducted on the way) confirmed.
    h.get_by_label_contains("当日匹配");
    h.get_all_by_label("编号＋相近金额").next().expect("a suggested match");
    let confirm = h
        .query_all(egui_kittest::kittest::By::new().role(Role::Button))
        .find(|n| n.accesskit_node().label().is_some_and(|l| l.starts_with("确认第 ")))
        .expect("a suggested match to confirm");
    confirm.click();
    h.run();
    h.get_by_label("已确认匹配");

    // The queue has it.
    press(&mut h, "挂账队列");
    h.get_by_label("+¥500.00");
    h.get_by_label("李*");
}

fn an_item_is_opened_and_matched_to_a_candidate(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let peek = Peek::new(&t.url);
    let zhang = peek.open_items(SuspenseKind::Overage).into_iter().find(|r| r.counterparty == "张*").unwrap();
    open_area(&mut h, "fin1");
    h.get_by_label("张*");
    press(&mut h, "+¥1,234.56");
    h.get_by_label("已认领");
    h.get_by_label("释放认领");
    for label in
        ["对账单明细", "候选匹配（按得分排序）", "处理方式", "入账到子账户", "退回付款人", "处理记录"]
    {
        h.get_by_label(label);
    }
    h.get_all_by_label_contains("金额 ").next().expect("the amount part of a score");
    h.get_all_by_label_contains("日期 ").next().expect("the date part of a score");
    h.get_by_label("对账发现，记入挂账");
    assert!(h.query_by_label("确认损失").is_none(), "not for an overage");

    // The best candidate differs: only with its difference booked as a fee — and a
    // difference this large is no fee: refused, the item stays open.
    press(&mut h, "匹配第 1 个候选");
    h.get_by_label("第 1 个候选金额不同：请先勾选“差额计为手续费”");
    click(&mut h, "差额计为手续费（第 1 个候选）");
    press(&mut h, "匹配第 1 个候选");
    h.get_by_label_contains("金额相差");
    assert_eq!(peek.status(zhang.id), SuspenseStatus::Open);

    // Its parking posting is shown; the sub-account credit is `suspense.rs`'s.
    h.get_by_label("记账分录");
}

fn a_loss_needs_a_finance_reviewer_and_a_supervisor(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    let peek = Peek::new(&t.url);
    let short = peek.open_items(SuspenseKind::Shortage).into_iter().next().unwrap();
    let amount = domain::money::Cny(short.amount).to_string();

    open_area(&mut h, "fin1");
    press(&mut h, &amount);
    h.get_by_label("我方单据");
    press(&mut h, "确认损失");
    h.get_by_label("需财务复核人和主管各一人批准（不能是提议人）");
    type_into(&mut h, "合同条款", "渠道协议第 7 条");
    type_into(&mut h, "处理原因", "渠道已倒闭，无法追回");
    press(&mut h, "提交：确认损失");
    h.get_by_label_contains("已提交审批（申请 ");
    h.get_by_label("待审批的处理");
    h.get_by_label("财务复核：尚未批准");
    h.get_by_label("主管：尚未批准");
    // The maker cannot approve their own proposal.
    press(&mut h, "挂账审批");
    press(&mut h, "批准第 1 条");
    h.get_by_label_contains("提议人不能复核自己的提议");
    log_out(&mut h);

    open_area(&mut h, "fin2");
    press(&mut h, "挂账审批");
    h.get_by_label_contains("确认损失（合同 渠道协议第 7 条：渠道已倒闭，无法追回）");
    press(&mut h, "批准第 1 条");
    h.get_by_label("已批准，还需另一人批准");
    h.get_by_label("fin2");
    assert_eq!(peek.status(short.id), SuspenseStatus::PendingApproval, "one approval is not enough");
    log_out(&mut h);

    open_area(&mut h, "sup1");
    press(&mut h, "挂账审批");
    press(&mut h, "批准第 1 条");
    h.get_by_label_contains("已核销（转账 ");
    h.get_by_label("没有待审批的处理");
    assert_eq!(peek.status(short.id), SuspenseStatus::Resolved);
}

fn the_report_shows_the_day_and_exports_it(db: Db) {
    let t = block(TestDb::new(db));
    let mut h = harness(&t.url);
    open_area(&mut h, "fin1");
    press(&mut h, "对账报表");
    retype(&mut h, "日期", &demo_day().to_string());
    press(&mut h, "查看报表");
    h.get_by_label(&format!("对账报表 {}", demo_day()));
    h.get_by_label("账龄分布（未结挂账）");
    h.get_by_label_contains("0–1天：");
    h.get_by_label_contains("30天以上：");
    h.get_by_label("√ 全部一致");
    h.get_by_label("长款 1 笔 +¥1,234.56");
    h.get_by_label("银行来账通知");
    press(&mut h, "导出 CSV");
    h.get_by_label_contains(".csv");
    press(&mut h, "导出 XLSX");
    let node = h.get_by_label_contains(".xlsx");
    let notice = node.accesskit_node().label().or(node.accesskit_node().value()).unwrap();
    let path = notice.split_once('：').unwrap().1;
    assert!(std::fs::metadata(path).unwrap().len() > 0, "{path} written");
}

on_both_databases_sync!(
    a_statement_is_imported_and_the_day_reconciled,
    an_item_is_opened_and_matched_to_a_candidate,
    a_loss_needs_a_finance_reviewer_and_a_supervisor,
    the_report_shows_the_day_and_exports_it
);
