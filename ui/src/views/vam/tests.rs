//! The view by itself, without a backend: replies are handed in, the screen is read
//! by its labels (as the end-to-end flows do) and the requests it queues are checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::contract::Abilities;
use domain::auth::{OperatorInfo, Role};
use domain::ledger::{
    Bank, HoldId, HoldStatus, OwnerKind, TransferId, TransferKind, VirtualPurpose, VirtualStatus,
};
use domain::vam::{
    DayBalanceView, EntryPage, EntryView, HoldView, OwnerView, PhysicalAccountView, ProofSummary,
    SubAccountDetail, TreePage, VamProposalView, VirtualNodeView,
};
use egui::accesskit::Role as A11y;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

#[test]
fn amounts_are_positive_yuan_with_at_most_two_decimals() {
    assert_eq!(parse_amount(" 12.50 "), Some(Decimal::new(1250, 2)));
    assert_eq!(parse_amount("¥1,234.5"), Some(Decimal::new(12345, 1)));
    assert_eq!(parse_amount("1.500"), Some(Decimal::new(15, 1)));
    assert_eq!(parse_amount("0"), None);
    assert_eq!(parse_amount("-3"), None);
    assert_eq!(parse_amount("1.234"), None);
    assert_eq!(parse_amount("abc"), None);
}

#[test]
fn dates_and_expiries_are_beijing_days() {
    let date = parse_date("2025-01-31").unwrap();
    assert_eq!(end_of_day(date).unwrap().to_rfc3339(), "2025-01-31T16:00:00+00:00");
    assert_eq!(parse_date("2025/01/31"), None);
}

const PHYSICAL: Uuid = Uuid::from_u128(0x10);
const PARENT: AccountId = AccountId(Uuid::from_u128(0x21));
const CHILD: AccountId = AccountId(Uuid::from_u128(0x22));
const PARENT_NUMBER: &str = "5711****00017";
const CHILD_NUMBER: &str = "5711****00025";

struct Fixture {
    view: VamView,
    outbox: Outbox,
    lang: Lang,
    operator: OperatorInfo,
    abilities: Abilities,
}

fn harness(role: Role, lang: Lang) -> Harness<'static, Fixture> {
    let operator = OperatorInfo {
        id: Uuid::from_u128(1),
        username: "sup1".into(),
        display_name: "sup1".into(),
        role,
        must_change_password: false,
    };
    let fixture = Fixture {
        view: VamView::default(),
        outbox: Outbox::default(),
        lang,
        operator,
        abilities: Abilities::of(role),
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 4000.0))
        .with_context_setup(|ctx| crate::fonts::install(ctx, crate::fonts::bundled()))
        .build_ui_state(
            |ui, f: &mut Fixture| {
                let mut ctx = ViewCtx {
                    lang: f.lang,
                    operator: &f.operator,
                    abilities: f.abilities,
                    database: None,
                    outbox: &mut f.outbox,
                };
                f.view.ui(ui, &mut ctx);
            },
            fixture,
        );
    h.run();
    h
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_000_000, 0).unwrap()
}

fn yuan_of(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

fn node(id: AccountId, number: &str, parent: Option<AccountId>, children: i64) -> VirtualNodeView {
    VirtualNodeView {
        id,
        physical_id: PHYSICAL,
        parent,
        number: number.into(),
        owner: OwnerView { kind: OwnerKind::Customer, id: None, name_masked: "张*".into() },
        purpose: VirtualPurpose::UserWallet,
        status: VirtualStatus::Active,
        own_balance: yuan_of(120_000),
        subtree_balance: yuan_of(150_000),
        held: yuan_of(1_200),
        available: yuan_of(118_800),
        child_count: children,
        opened_at: at(),
    }
}

/// The replies a supervisor's screen gets: accounts (one proof broken), the tree's
/// top level, the parent selected with a hold, an entry and the chart, a proposal.
fn fill_screen(h: &mut Harness<'_, Fixture>) {
    let physical = PhysicalAccountView {
        id: PHYSICAL,
        bank: Bank::Czbank,
        number_masked: "5711****0001".into(),
        purpose: "平台备付金".into(),
        supervised: true,
        suffix_len: 4,
        ledger_balance: yuan_of(900_000),
        virtual_total: yuan_of(800_000),
        suspense_balance: yuan_of(50_000),
        internal_balance: yuan_of(50_000),
        virtual_count: 2,
        last_proof: Some(ProofSummary { at: at(), holds: false }),
    };
    let reply = |h: &mut Harness<'_, Fixture>, purpose, response| {
        let f = h.state_mut();
        f.view.on_reply(purpose, Ok(response), &mut f.outbox);
        h.run();
    };
    reply(h, VamPurpose::Physical, Response::PhysicalAccounts(vec![physical]));
    let top = TreePage { nodes: vec![node(PARENT, PARENT_NUMBER, None, 1)], next_after: Some("x".into()) };
    let purpose = VamPurpose::Tree { physical_id: PHYSICAL, parent: None, more: false };
    reply(h, purpose, Response::VirtualTree(top));
    h.get_by_label(PARENT_NUMBER).click();
    h.run();
    let hold = HoldView {
        id: HoldId(Uuid::from_u128(0x31)),
        remaining: yuan_of(1_200),
        amount: yuan_of(1_200),
        status: HoldStatus::Pending,
        reason: "法院裁定".into(),
        expires_at: None,
        placed_at: at(),
        placed_by: "fin1".into(),
    };
    let detail = SubAccountDetail {
        node: node(PARENT, PARENT_NUMBER, None, 1),
        holds: vec![hold],
        previous_holders: vec![],
    };
    reply(h, VamPurpose::SubAccount(PARENT), Response::SubAccount(Box::new(detail)));
    let entry = EntryView {
        transfer_id: TransferId(Uuid::from_u128(0x41)),
        at: at(),
        kind: TransferKind::CreditIn,
        amount: yuan_of(120_000),
        balance_after: yuan_of(120_000),
        counterparty: "5711****0001".into(),
        reverses: None,
        reversed: false,
        memo: "货款".into(),
    };
    let page = EntryPage { entries: vec![entry], next_before: Some(TransferId(Uuid::from_u128(0x40))) };
    reply(h, VamPurpose::Entries { account: PARENT, more: false }, Response::Entries(page));
    let date = |d| NaiveDate::from_ymd_opt(2025, 11, d).unwrap();
    let series = vec![
        DayBalanceView { date: date(1), balance: yuan_of(0) },
        DayBalanceView { date: date(2), balance: yuan_of(120_000) },
    ];
    reply(h, VamPurpose::Series(PARENT), Response::BalanceSeries(series));
    let proposal = VamProposalView {
        id: Uuid::from_u128(0x51),
        operation: VamOperation::Transfer {
            from: PARENT,
            to: CHILD,
            amount: yuan_of(50_000),
            memo: "调拨".into(),
        },
        proposed_by: "fin1".into(),
        proposed_at: at(),
    };
    reply(h, VamPurpose::Proposals, Response::VamProposals(vec![proposal]));
}

/// The requests queued since the last call.
fn sent(h: &mut Harness<'_, Fixture>) -> Vec<(Purpose, Request)> {
    std::mem::take(&mut h.state_mut().outbox.requests)
}

fn click(h: &mut Harness<'_, Fixture>, label: &str) {
    h.get_by_label(label).click();
    h.run();
}

fn type_into(h: &mut Harness<'_, Fixture>, label: &str, text: &str) {
    let field = h.get_by_role_and_label(A11y::TextInput, label);
    field.focus();
    field.type_text(text);
    h.run();
}

#[test]
fn a_supervisor_sees_every_part_by_its_labels() {
    let mut h = harness(Role::Supervisor, Lang::Zh);
    assert!(matches!(
        &sent(&mut h)[..],
        [(_, Request::Vam(VamRequest::PhysicalAccounts)), (_, Request::Vam(VamRequest::Proposals))]
    ));
    fill_screen(&mut h);
    h.get_by_label_contains("最近一次核对不平衡");
    for label in [
        "物理账户",
        "浙商银行",
        "不平衡（2025-11-25 00:00）",
        "拉取银行入账",
        "核对",
        "利息分配",
        "手工入账",
        "待复核",
        "批准第 1 条",
        "驳回第 1 条",
        "子账户树",
        "开立顶层子账户",
        "展开 5711****00017",
        "更多子账户",
        "子账户 5711****00017",
        "解冻第 1 笔",
        "冻结资金",
        "转账",
        "归集到主账户",
        "开立下级子账户",
        "销户检查",
        "销户",
        "冲正第 1 行",
        "更早的流水",
        "导出 CSV",
        "近 90 天余额",
        "最低 ¥0.00，最高 ¥1,200.00，最新 ¥1,200.00",
    ] {
        h.get_by_label(label);
    }
    h.get_by_label_contains("转账 ¥500.00");
}

#[test]
fn clicks_become_requests() {
    let mut h = harness(Role::Supervisor, Lang::Zh);
    fill_screen(&mut h);
    sent(&mut h);

    click(&mut h, "展开 5711****00017");
    let expected =
        VamRequest::Tree { physical_id: PHYSICAL, parent: Some(PARENT), after: None, limit: TREE_PAGE };
    assert_eq!(sent(&mut h).pop().unwrap().1, Request::Vam(expected));
    let children = TreePage { nodes: vec![node(CHILD, CHILD_NUMBER, Some(PARENT), 0)], next_after: None };
    let f = h.state_mut();
    let purpose = VamPurpose::Tree { physical_id: PHYSICAL, parent: Some(PARENT), more: false };
    f.view.on_reply(purpose, Ok(Response::VirtualTree(children)), &mut f.outbox);
    h.run();
    h.get_by_label("收起 5711****00017");

    // The child becomes the transfer's target; the parent stays selected.
    click(&mut h, "设为转入方 5711****00025");
    h.get_by_label("转入方：5711****00025");
    type_into(&mut h, "转账金额", "500");
    type_into(&mut h, "转账附言", "调拨");
    click(&mut h, "确认转账");
    let op =
        VamOperation::Transfer { from: PARENT, to: CHILD, amount: yuan_of(50_000), memo: "调拨".into() };
    let once = |sent: (Purpose, Request)| match sent {
        (
            Purpose::Vam(VamPurpose::Do(OpKind::Transfer, purpose_id)),
            Request::Vam(VamRequest::DoOnce { request_id, operation }),
        ) => {
            assert_eq!((operation, purpose_id), (op.clone(), request_id));
            request_id
        }
        other => panic!("{other:?}"),
    };
    let first = once(sent(&mut h).pop().unwrap());
    // A second click before the answer is the same request: it cannot post twice.
    click(&mut h, "确认转账");
    assert_eq!(once(sent(&mut h).pop().unwrap()), first);
    // Once confirmed, the same transfer typed again is a new one.
    let f = h.state_mut();
    let outcome = VamOutcome::Posted { id: Uuid::from_u128(0x77) };
    f.view.on_reply(VamPurpose::Do(OpKind::Transfer, first), Ok(Response::Vam(outcome)), &mut f.outbox);
    h.run();
    let _ = sent(&mut h);
    click(&mut h, "设为转入方 5711****00025");
    type_into(&mut h, "转账金额", "500");
    type_into(&mut h, "转账附言", "调拨");
    click(&mut h, "确认转账");
    let second = once(sent(&mut h).pop().unwrap());
    assert_ne!(second, first);

    click(&mut h, "冻结资金");
    type_into(&mut h, "冻结金额", "12.5");
    click(&mut h, "确认冻结");
    assert!(sent(&mut h).is_empty(), "no reason: nothing sent");
    h.get_by_label("冻结原因：不能为空");
    type_into(&mut h, "冻结原因", "法院裁定");
    click(&mut h, "确认冻结");
    let op = VamOperation::Freeze {
        account: PARENT,
        amount: yuan_of(1_250),
        reason: "法院裁定".into(),
        expires_at: None,
    };
    let freeze_id = match sent(&mut h).pop().unwrap().1 {
        Request::Vam(VamRequest::DoOnce { operation, request_id }) if operation == op => request_id,
        other => panic!("{other:?}"),
    };
    // The answer to another operation does not forget this one's id.
    let f = h.state_mut();
    let outcome = VamOutcome::Posted { id: Uuid::from_u128(0x78) };
    f.view.on_reply(VamPurpose::Do(OpKind::Transfer, second), Ok(Response::Vam(outcome)), &mut f.outbox);
    h.run();
    let _ = sent(&mut h);
    click(&mut h, "冻结资金");
    type_into(&mut h, "冻结金额", "12.5");
    type_into(&mut h, "冻结原因", "法院裁定");
    click(&mut h, "确认冻结");
    assert!(matches!(
        sent(&mut h).pop().unwrap().1,
        Request::Vam(VamRequest::DoOnce { request_id, .. }) if request_id == freeze_id
    ));

    // A proposal, not a posting: the notice says it waits for a checker.
    let f = h.state_mut();
    let outcome = VamOutcome::Proposed { proposal_id: Uuid::from_u128(0x99) };
    f.view.on_reply(VamPurpose::Do(OpKind::Freeze, freeze_id), Ok(Response::Vam(outcome)), &mut f.outbox);
    h.run();
    h.get_by_label_contains("等待另一位复核人批准");

    click(&mut h, "解冻第 1 笔");
    click(&mut h, "确认解冻");
    let op = VamOperation::Release { hold: HoldId(Uuid::from_u128(0x31)), amount: yuan_of(1_200) };
    assert!(
        matches!(sent(&mut h).pop().unwrap().1, Request::Vam(VamRequest::DoOnce { operation, .. }) if operation == op)
    );

    click(&mut h, "冲正第 1 行");
    type_into(&mut h, "冲正原因", "重复入账");
    click(&mut h, "确认冲正");
    let op =
        VamOperation::Reverse { transfer: TransferId(Uuid::from_u128(0x41)), reason: "重复入账".into() };
    assert!(
        matches!(sent(&mut h).pop().unwrap().1, Request::Vam(VamRequest::DoOnce { operation, .. }) if operation == op)
    );

    click(&mut h, "批准第 1 条");
    let approve = VamRequest::Approve { proposal_id: Uuid::from_u128(0x51), approve: true };
    assert_eq!(sent(&mut h).pop().unwrap().1, Request::Vam(approve));

    click(&mut h, "销户");
    let f = h.state_mut();
    let blocked =
        VamOutcome::Blocked { blockers: vec![CloseBlocker::NonZeroBalance { balance_minor: 1200 }] };
    f.view.on_reply(
        VamPurpose::Do(OpKind::Close, Uuid::from_u128(0x79)),
        Ok(Response::Vam(blocked)),
        &mut f.outbox,
    );
    h.run();
    h.get_by_label("不能销户，请先处理：");
    h.get_by_label("余额不为零（¥12.00）");
}

#[test]
fn an_agent_sees_no_operations_and_no_banner() {
    let mut h = harness(Role::CsAgent, Lang::Zh);
    assert_eq!(sent(&mut h).len(), 1, "no proposals asked for");
    fill_screen(&mut h);
    assert!(h.query_by_label_contains("最近一次核对不平衡").is_none());
    for label in ["拉取银行入账", "手工入账", "冻结资金", "解冻第 1 笔", "冲正第 1 行", "销户", "待复核"]
    {
        assert!(h.query_by_label(label).is_none(), "{label}");
    }
    h.get_by_label("核对");
    h.get_by_label("销户检查");
}

/// Every text on screen, with the forms open.
fn texts(h: &Harness<'_, Fixture>) -> Vec<String> {
    let root = h.root();
    std::iter::once(root)
        .chain(root.children_recursive())
        .flat_map(|node| {
            let n = node.accesskit_node();
            [n.label(), n.value()]
        })
        .flatten()
        .collect()
}

/// Opens every form and hands in a proof and an interest preview: all words shown.
fn open_everything(h: &mut Harness<'_, Fixture>, labels: [&str; 5]) {
    for label in labels {
        click(h, label);
    }
    let proof = domain::vam::ProofView {
        physical_id: PHYSICAL,
        at: at(),
        bank_balance: None,
        ledger_balance: yuan_of(900_000),
        virtual_total: yuan_of(800_000),
        suspense_balance: yuan_of(50_000),
        internal_balance: yuan_of(50_000),
        invariant_difference: Decimal::ZERO,
        rollup_breaks: 0,
        replay_breaks: 1,
        bank_difference: None,
        credits_in_transit: Decimal::ZERO,
        unexplained: None,
        unallocated_interest: Decimal::ZERO,
        holds: false,
    };
    let preview = domain::vam::InterestPreviewView {
        physical_id: PHYSICAL,
        from: NaiveDate::from_ymd_opt(2025, 10, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2025, 10, 31).unwrap(),
        interest: yuan_of(1_000),
        allocated: yuan_of(1_000),
        lines: vec![domain::vam::InterestShareView {
            account: PARENT,
            number: PARENT_NUMBER.into(),
            product: Decimal::new(3_720_000, 2),
            share: yuan_of(1_000),
        }],
        account_count: 2,
        digest: "d1".into(),
    };
    let f = h.state_mut();
    f.view.on_reply(VamPurpose::Proof, Ok(Response::Proof(proof)), &mut f.outbox);
    f.view.on_reply(VamPurpose::InterestPreview, Ok(Response::InterestPreview(preview)), &mut f.outbox);
    f.view.on_reply(VamPurpose::CloseCheck(PARENT), Ok(Response::CloseCheck(vec![])), &mut f.outbox);
    h.run();
}

const DATA: [&str; 5] = ["张*", "平台备付金", "法院裁定", "货款", "调拨"];

#[test]
fn the_english_screen_has_no_chinese_words() {
    let mut h = harness(Role::Supervisor, Lang::En);
    fill_screen(&mut h);
    open_everything(
        &mut h,
        ["Allocate interest", "Freeze funds", "Release hold 1", "Reverse line 1", "Check closing"],
    );
    h.get_by_label("Post");
    for text in texts(&h) {
        let mut rest = text.clone();
        DATA.iter().for_each(|d| rest = rest.replace(d, ""));
        let han = |c: char| ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c);
        assert!(!rest.chars().any(han), "{text}");
    }
}

#[test]
fn the_chinese_screen_has_no_english_words() {
    let mut h = harness(Role::Supervisor, Lang::Zh);
    fill_screen(&mut h);
    open_everything(&mut h, ["利息分配", "冻结资金", "解冻第 1 笔", "冲正第 1 行", "销户检查"]);
    h.get_by_label("过账");
    h.get_by_label("可以销户：没有阻碍");
    for text in texts(&h) {
        let rest = ["CSV", "ID", "sup1", "fin1"].iter().fold(text.clone(), |t, term| t.replace(term, ""));
        for token in rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            let word = token.len() >= 2 && !token.bytes().any(|b| b.is_ascii_digit());
            assert!(!word || !token.bytes().any(|b| b.is_ascii_alphabetic()), "{token} in {text}");
        }
    }
}
