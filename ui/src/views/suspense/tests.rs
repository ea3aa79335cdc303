//! The view by itself, without a backend: replies are handed in, the screen is read
//! by its labels (as the end-to-end flows do) and the requests it queues are checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::contract::Abilities;
use chrono::{DateTime, Utc};
use domain::auth::{OperatorInfo, Role};
use domain::recon::{ScoreDetail, ScoreFactor, ScorePart, Suggestion};
use domain::statement::{Location, StatementError, StatementFinding, StatementFormat, StatementProblem};
use domain::suspense::{
    AgeBucket, CandidateView, ImportReport, LineView, MatchView, OurItemView, OurKind, PostingView,
    ReconReport, ReconRunReport, ReportRow, StatementSummary, SuspenseEvent, SuspenseEventView,
    SuspenseFilter, SuspenseItemView, SuspenseKind, SuspensePage, SuspenseProposalView, SuspenseRow,
    SuspenseStatus,
};
use egui::accesskit::Role as A11y;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

const OVERAGE: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0a01);
const SHORTAGE: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0a02);
const LINE: Uuid = Uuid::from_u128(0x0b01);
const EXACT: Uuid = Uuid::from_u128(0x0c01);
const NEAR: Uuid = Uuid::from_u128(0x0c02);
const ORDER: Uuid = Uuid::from_u128(0x0c03);
const PROPOSAL: Uuid = Uuid::from_u128(0x0d01);
const MATCH: Uuid = Uuid::from_u128(0x0e01);
const TRANSFER: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_7a7a);

struct Fixture {
    view: SuspenseView,
    outbox: Outbox,
    lang: Lang,
    operator: OperatorInfo,
    abilities: Abilities,
}

fn harness_with(role: Role, lang: Lang, keyboard: bool) -> Harness<'static, Fixture> {
    let username = match role {
        Role::Supervisor => "sup1",
        Role::Auditor => "aud1",
        _ => "fin1",
    };
    let operator = OperatorInfo {
        id: Uuid::from_u128(1),
        username: username.into(),
        display_name: username.into(),
        role,
        must_change_password: false,
    };
    let fixture = Fixture {
        view: SuspenseView::default(),
        outbox: Outbox::default(),
        lang,
        operator,
        abilities: Abilities { keyboard, ..Abilities::of(role) },
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1800.0, 3000.0))
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

fn harness(role: Role, lang: Lang) -> Harness<'static, Fixture> {
    harness_with(role, lang, false)
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_000_000, 0).unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn yuan_of(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

fn row(id: Uuid, kind: SuspenseKind, fen: i64, counterparty: &str) -> SuspenseRow {
    SuspenseRow {
        id,
        kind,
        amount: yuan_of(fen),
        found_on: day(24),
        age_days: 1,
        account: "****0001".into(),
        channel: "PMNT/RCDT/OTHR".into(),
        counterparty: counterparty.into(),
        status: SuspenseStatus::Open,
        claimed_by: None,
    }
}

fn page() -> SuspensePage {
    SuspensePage {
        rows: vec![
            row(OVERAGE, SuspenseKind::Overage, 123_456, "张三"),
            row(SHORTAGE, SuspenseKind::Shortage, -200_000, "杭州甲商贸有限公司"),
        ],
        more: true,
        open_count: 2,
    }
}

fn our(id: Uuid, kind: OurKind, fen: i64, reference: &str) -> OurItemView {
    OurItemView {
        id,
        kind,
        amount: yuan_of(fen),
        open: yuan_of(fen),
        date_from: day(23),
        date_to: day(26),
        reference: reference.into(),
        counterparty: Some("张三".into()),
        virtual_number: None,
    }
}

fn parts(amount: ScoreDetail, amount_points: u8) -> Vec<ScorePart> {
    vec![
        ScorePart { factor: ScoreFactor::Amount, points: amount_points, detail: amount },
        ScorePart { factor: ScoreFactor::Date, points: 15, detail: ScoreDetail::DaysApart { days: 0 } },
        ScorePart { factor: ScoreFactor::Reference, points: 0, detail: ScoreDetail::ReferenceMissing },
        ScorePart {
            factor: ScoreFactor::Name,
            points: 10,
            detail: ScoreDetail::NameSimilarity { percent: 100 },
        },
        ScorePart { factor: ScoreFactor::Suffix, points: 0, detail: ScoreDetail::SuffixUnknown },
    ]
}

fn line() -> LineView {
    LineView {
        id: LINE,
        statement: "STMT-20261124".into(),
        at: Location::Element { path: "Document/BkToCstmrStmt/Stmt[1]/Ntry[41]".into() },
        amount: yuan_of(123_456),
        booking_date: day(24),
        bank_ref: "MYB0000000041".into(),
        counterparty: Some("张三".into()),
        remittance: Some("转账".into()),
        addressed_account: None,
        return_reason: None,
    }
}

/// The overage, claimed by `claimed_by`: its line, two candidates (one exact, one
/// ¥0.60 apart), history and the posting that parked it.
fn overage_item(claimed_by: Option<&str>) -> SuspenseItemView {
    let mut r = row(OVERAGE, SuspenseKind::Overage, 123_456, "张三");
    r.claimed_by = claimed_by.map(str::to_owned);
    let exact = CandidateView {
        item: our(EXACT, OurKind::ExpectedIn, 123_456, "DEP000001"),
        suggestion: Suggestion {
            item: EXACT,
            score: 65,
            parts: parts(ScoreDetail::AmountDifference { difference_minor: 0, fee_difference_minor: 0 }, 40),
        },
    };
    let near = CandidateView {
        item: our(NEAR, OurKind::OrderPaid, 123_516, "ORD00010003"),
        suggestion: Suggestion {
            item: NEAR,
            score: 60,
            parts: parts(
                ScoreDetail::AmountDifference { difference_minor: -60, fee_difference_minor: 0 },
                35,
            ),
        },
    };
    SuspenseItemView {
        row: r,
        lines: vec![line()],
        ours: None,
        candidates: vec![exact, near],
        history: vec![
            SuspenseEventView { at: at(), actor: "system".into(), event: SuspenseEvent::Found },
            SuspenseEventView { at: at(), actor: "fin1".into(), event: SuspenseEvent::Claimed },
        ],
        postings: vec![PostingView {
            transfer_id: TRANSFER,
            lines: vec![("asset".into(), yuan_of(123_456)), ("sus_overage".into(), yuan_of(-123_456))],
        }],
        proposal: None,
        explained_until: None,
        recovery_ref: None,
    }
}

fn shortage_item() -> SuspenseItemView {
    let mut r = row(SHORTAGE, SuspenseKind::Shortage, -200_000, "杭州甲商贸有限公司");
    r.claimed_by = Some("fin1".into());
    SuspenseItemView {
        row: r,
        lines: vec![],
        ours: Some(our(ORDER, OurKind::OrderPaid, 200_000, "ORD00010011")),
        candidates: vec![],
        history: vec![SuspenseEventView { at: at(), actor: "system".into(), event: SuspenseEvent::Found }],
        postings: vec![],
        proposal: None,
        explained_until: None,
        recovery_ref: None,
    }
}

fn proposal() -> SuspenseProposalView {
    SuspenseProposalView {
        id: PROPOSAL,
        item_id: SHORTAGE,
        item_kind: SuspenseKind::Shortage,
        amount: yuan_of(-200_000),
        action: SuspenseAction::AcceptLoss {
            contract_ref: "合同第 7 条".into(),
            reason: "渠道倒闭无法追回".into(),
        },
        maker: "fin1".into(),
        proposed_at: at(),
        finance_by: Some("fin2".into()),
        supervisor_by: None,
    }
}

fn reply(h: &mut Harness<'_, Fixture>, purpose: SuspensePurpose, response: Reply) {
    let f = h.state_mut();
    f.view.on_reply(purpose, response, &mut f.outbox);
    h.run();
}

/// The requests queued since the last call.
fn sent(h: &mut Harness<'_, Fixture>) -> Vec<(Purpose, Request)> {
    std::mem::take(&mut h.state_mut().outbox.requests)
}

fn recon(sent: Vec<(Purpose, Request)>) -> Vec<(SuspensePurpose, ReconRequest)> {
    sent.into_iter()
        .map(|(p, r)| match (p, r) {
            (Purpose::Suspense(p), Request::Recon(r)) => (p, r),
            other => panic!("not a suspense request: {other:?}"),
        })
        .collect()
}

fn click(h: &mut Harness<'_, Fixture>, label: &str) {
    h.get_by_label(label).click();
    h.run();
}

/// Clicks the button labelled `label` (the same words may also be a heading or a cell).
fn press(h: &mut Harness<'_, Fixture>, label: &str) {
    h.query_all_by_label(label)
        .find(|n| n.accesskit_node().role() == A11y::Button)
        .unwrap_or_else(|| panic!("no button labelled {label}"))
        .click();
    h.run();
}

fn has_button(h: &Harness<'_, Fixture>, label: &str) -> bool {
    h.query_all_by_label(label).any(|n| n.accesskit_node().role() == A11y::Button)
}

fn type_into(h: &mut Harness<'_, Fixture>, label: &str, text: &str) {
    let field = h.get_by_role_and_label(A11y::TextInput, label);
    field.focus();
    field.type_text(text);
    h.run();
}

fn retype(h: &mut Harness<'_, Fixture>, label: &str, text: &str) {
    h.get_by_role_and_label(A11y::TextInput, label).focus();
    h.run();
    h.key_press(egui::Key::End);
    for _ in 0..20 {
        h.key_press(egui::Key::Backspace);
    }
    h.run();
    type_into(h, label, text);
}

/// A finance reviewer with the queue on screen and the overage opened and claimed.
fn with_overage_open() -> Harness<'static, Fixture> {
    let mut h = harness(Role::FinanceReviewer, Lang::Zh);
    sent(&mut h);
    reply(&mut h, SuspensePurpose::Queue { more: false }, Ok(Response::SuspenseQueue(page())));
    click(&mut h, "+¥1,234.56");
    sent(&mut h);
    reply(
        &mut h,
        SuspensePurpose::Item(OVERAGE),
        Ok(Response::SuspenseItem(Box::new(overage_item(Some("fin1"))))),
    );
    h
}

#[test]
fn the_queue_shows_filters_rows_and_paging_by_their_labels() {
    let mut h = harness(Role::FinanceReviewer, Lang::Zh);
    let first = recon(sent(&mut h));
    assert_eq!(
        first,
        vec![(
            SuspensePurpose::Queue { more: false },
            ReconRequest::Queue { filter: SuspenseFilter::default(), after: None, limit: PAGE_ROWS }
        )]
    );
    reply(&mut h, SuspensePurpose::Queue { more: false }, Ok(Response::SuspenseQueue(page())));
    for label in [
        "挂账队列",
        "挂账审批",
        "导入与对账",
        "对账报表",
        "发现日期",
        "账龄（天）",
        "渠道",
        "认领人",
        "长款",
        "短款",
        "+¥1,234.56",
        "-¥2,000.00",
        "张三",
        "未结 2 笔",
        "认领下一笔",
        "更多",
    ] {
        h.get_by_label(label);
    }
    h.get_by_role_and_label(A11y::ComboBox, "类型");
    h.get_by_role_and_label(A11y::ComboBox, "账龄");

    // "More": keyset, after the last row shown; the page is appended.
    click(&mut h, "更多");
    let expected =
        ReconRequest::Queue { filter: SuspenseFilter::default(), after: Some(SHORTAGE), limit: PAGE_ROWS };
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Queue { more: true }, expected)]);
    let mut next = row(Uuid::from_u128(0x0a03), SuspenseKind::Returned, 88_800, "上海丙信息技术有限公司");
    next.status = SuspenseStatus::Explained;
    let more = SuspensePage { rows: vec![next], more: false, open_count: 3 };
    reply(&mut h, SuspensePurpose::Queue { more: true }, Ok(Response::SuspenseQueue(more)));
    h.get_by_label("+¥1,234.56");
    h.get_by_label("+¥888.00");
    h.get_by_label("退票·退款失败");
    assert!(h.query_by_label("更多").is_none());

    // A filter: the first page again, with the filter.
    h.get_by_role_and_label(A11y::ComboBox, "类型").click();
    h.run();
    press(&mut h, "短款");
    let filter = SuspenseFilter { kind: Some(SuspenseKind::Shortage), ..SuspenseFilter::default() };
    assert_eq!(
        recon(sent(&mut h)),
        vec![(
            SuspensePurpose::Queue { more: false },
            ReconRequest::Queue { filter, after: None, limit: PAGE_ROWS }
        )]
    );

    click(&mut h, "认领下一笔");
    let filter = SuspenseFilter { kind: Some(SuspenseKind::Shortage), ..SuspenseFilter::default() };
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::ClaimNext, ReconRequest::ClaimNext { filter })]);
    reply(&mut h, SuspensePurpose::ClaimNext, Ok(Response::SuspenseClaimed(None)));
    h.get_by_label("没有可认领的挂账");
    reply(&mut h, SuspensePurpose::ClaimNext, Ok(Response::SuspenseClaimed(Some(SHORTAGE))));
    let asked = recon(sent(&mut h));
    assert!(
        asked.contains(&(SuspensePurpose::Item(SHORTAGE), ReconRequest::Item { id: SHORTAGE })),
        "{asked:?}"
    );
}

#[test]
fn opening_a_row_claims_it_and_shows_line_candidates_and_actions() {
    let mut h = harness(Role::FinanceReviewer, Lang::Zh);
    sent(&mut h);
    reply(&mut h, SuspensePurpose::Queue { more: false }, Ok(Response::SuspenseQueue(page())));
    click(&mut h, "+¥1,234.56");
    let asked = recon(sent(&mut h));
    assert_eq!(
        asked,
        vec![
            (SuspensePurpose::Item(OVERAGE), ReconRequest::Item { id: OVERAGE }),
            (SuspensePurpose::Claim(OVERAGE), ReconRequest::Claim { id: OVERAGE }),
        ]
    );
    reply(&mut h, SuspensePurpose::Claim(OVERAGE), Ok(Response::Done));
    h.get_by_label("已认领");
    assert!(
        recon(sent(&mut h)).contains(&(SuspensePurpose::Item(OVERAGE), ReconRequest::Item { id: OVERAGE }))
    );
    reply(
        &mut h,
        SuspensePurpose::Item(OVERAGE),
        Ok(Response::SuspenseItem(Box::new(overage_item(Some("fin1"))))),
    );
    for label in [
        "返回队列",
        "释放认领",
        "对账单明细",
        "STMT-20261124",
        "元素 Document/BkToCstmrStmt/Stmt[1]/Ntry[41]",
        "MYB0000000041",
        "候选匹配（按得分排序）",
        "DEP000001",
        "预期来账",
        "渠道订单",
        "65",
        "金额 40/40：金额一致",
        "金额 35/40：相差 -¥0.60",
        "匹配第 1 个候选",
        "匹配第 2 个候选",
        "差额计为手续费（第 2 个候选）",
        "处理方式",
        "入账到子账户",
        "退回付款人",
        "冲抵当日结算",
        "说明原因",
        "直接核销（内部差错）",
        "处理记录",
        "对账发现，记入挂账",
        "系统",
        "记账分录",
        "实体账户（银行存款）",
        "长款挂账",
        "-¥1,234.56",
    ] {
        h.get_by_label(label);
    }
    h.get_by_label("挂账 00000a01");
    for label in
        ["编号 0/25：附言不含我方编号", "户名 10/10：户名相似 100%", "虚拟账号 0/10：没有虚拟账号可比"]
    {
        assert_eq!(h.get_all_by_label(label).count(), 2, "{label}");
    }
    // Only the actions that apply to an overage.
    for label in ["确认损失", "发起追偿", "计为手续费", "已追回（与另一笔挂账对冲）"]
    {
        assert!(h.query_by_label(label).is_none(), "{label}");
    }
    assert!(h.query_by_label("差额计为手续费（第 1 个候选）").is_none(), "no difference, no fee");

    press(&mut h, "释放认领");
    assert_eq!(
        recon(sent(&mut h)),
        vec![(SuspensePurpose::Release(OVERAGE), ReconRequest::Release { id: OVERAGE })]
    );
    click(&mut h, "返回队列");
    h.get_by_label("认领下一笔");
}

#[test]
fn a_match_sends_the_open_amount_and_a_difference_only_as_an_explicit_fee() {
    let mut h = with_overage_open();
    click(&mut h, "匹配第 1 个候选");
    let exact = SuspenseAction::Match { items: vec![(EXACT, yuan_of(123_456))], fee: Decimal::ZERO };
    let first = match recon(sent(&mut h)).pop().unwrap() {
        (
            SuspensePurpose::Resolve { action: ActionKind::Match, request_id },
            ReconRequest::Resolve { id, action, request_id: sent_id },
        ) => {
            assert_eq!((id, action, request_id), (OVERAGE, exact.clone(), sent_id));
            request_id
        }
        other => panic!("{other:?}"),
    };
    // A second click before the answer is the same request: it runs once.
    click(&mut h, "匹配第 1 个候选");
    assert!(
        matches!(recon(sent(&mut h)).pop().unwrap().1, ReconRequest::Resolve { request_id, .. } if request_id == first)
    );

    // ¥0.60 apart: not without "book the difference as a fee".
    click(&mut h, "匹配第 2 个候选");
    assert!(sent(&mut h).is_empty());
    h.get_by_label("第 2 个候选金额不同：请先勾选“差额计为手续费”");
    click(&mut h, "差额计为手续费（第 2 个候选）");
    click(&mut h, "匹配第 2 个候选");
    let near = SuspenseAction::Match { items: vec![(NEAR, yuan_of(123_516))], fee: yuan_of(60) };
    assert!(
        matches!(recon(sent(&mut h)).pop().unwrap().1, ReconRequest::Resolve { action, .. } if action == near)
    );

    // Answered: a notice, the item and the queue again; the same match is new.
    let outcome = SuspenseOutcome::Resolved { transfer_id: Some(TRANSFER) };
    let purpose = SuspensePurpose::Resolve { action: ActionKind::Match, request_id: first };
    reply(&mut h, purpose, Ok(Response::SuspenseOutcome(outcome)));
    h.get_by_label("已核销（转账 00007a7a）");
    let asked = recon(sent(&mut h));
    assert!(asked.contains(&(SuspensePurpose::Item(OVERAGE), ReconRequest::Item { id: OVERAGE })));
    assert!(asked.iter().any(|(p, _)| *p == SuspensePurpose::Queue { more: false }));
    click(&mut h, "匹配第 1 个候选");
    assert!(
        matches!(recon(sent(&mut h)).pop().unwrap().1, ReconRequest::Resolve { request_id, .. } if request_id != first)
    );
}

#[test]
fn actions_check_what_was_typed_before_sending() {
    let mut h = with_overage_open();
    click(&mut h, "入账到子账户");
    click(&mut h, "提交：入账到子账户");
    assert!(sent(&mut h).is_empty());
    h.get_by_label("子账号：不能为空");
    type_into(&mut h, "子账号", "5711000100017");
    click(&mut h, "提交：入账到子账户");
    let credit = SuspenseAction::CreditSubAccount { number: "5711000100017".into() };
    assert!(
        matches!(recon(sent(&mut h)).pop().unwrap(), (SuspensePurpose::Resolve { action: ActionKind::CreditSubAccount, .. }, ReconRequest::Resolve { action, .. }) if action == credit)
    );

    click(&mut h, "说明原因");
    type_into(&mut h, "处理原因", "等待客户来函确认");
    type_into(&mut h, "说明有效至", "2026/12/01");
    click(&mut h, "提交：说明原因");
    h.get_by_label("说明有效至：日期格式应为 2025-01-31");
    retype(&mut h, "说明有效至", "2026-12-01");
    click(&mut h, "提交：说明原因");
    let explain = SuspenseAction::Explain {
        reason: "等待客户来函确认".into(),
        until: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    };
    assert!(
        matches!(recon(sent(&mut h)).pop().unwrap().1, ReconRequest::Resolve { action, .. } if action == explain)
    );
    let purpose = SuspensePurpose::Resolve { action: ActionKind::Explain, request_id: Uuid::from_u128(9) };
    reply(&mut h, purpose, Ok(Response::SuspenseOutcome(SuspenseOutcome::Worked)));
    h.get_by_label("已记录，挂账仍未结");

    // An answer that names a conflict is worded by the catalogue.
    let conflict = ApiError::Conflict {
        conflict: Conflict::ActionNotForKind { action: ActionKind::AcceptLoss, kind: SuspenseKind::Overage },
    };
    reply(&mut h, purpose, Err(conflict));
    h.get_by_label_contains("「确认损失」不适用于长款");
}

#[test]
fn a_loss_on_a_shortage_is_proposed_and_says_who_must_approve() {
    let mut h = harness(Role::FinanceReviewer, Lang::Zh);
    sent(&mut h);
    reply(&mut h, SuspensePurpose::Queue { more: false }, Ok(Response::SuspenseQueue(page())));
    click(&mut h, "-¥2,000.00");
    sent(&mut h);
    reply(&mut h, SuspensePurpose::Item(SHORTAGE), Ok(Response::SuspenseItem(Box::new(shortage_item()))));
    for label in [
        "我方单据",
        "ORD00010011",
        "没有对账单明细（由我方单据产生）",
        "确认损失",
        "发起追偿",
        "已追回（与另一笔挂账对冲）",
    ] {
        h.get_by_label(label);
    }
    assert!(h.query_by_label("入账到子账户").is_none());
    click(&mut h, "确认损失");
    h.get_by_label("需财务复核人和主管各一人批准（不能是提议人）");
    type_into(&mut h, "合同条款", "合同第 7 条");
    type_into(&mut h, "处理原因", "渠道倒闭无法追回");
    click(&mut h, "提交：确认损失");
    let loss = SuspenseAction::AcceptLoss {
        contract_ref: "合同第 7 条".into(),
        reason: "渠道倒闭无法追回".into(),
    };
    let request_id = match recon(sent(&mut h)).pop().unwrap() {
        (SuspensePurpose::Resolve { request_id, .. }, ReconRequest::Resolve { action, .. })
            if action == loss =>
        {
            request_id
        }
        other => panic!("{other:?}"),
    };
    let outcome = SuspenseOutcome::Proposed { proposal_id: PROPOSAL };
    reply(
        &mut h,
        SuspensePurpose::Resolve { action: ActionKind::AcceptLoss, request_id },
        Ok(Response::SuspenseOutcome(outcome)),
    );
    h.get_by_label("已提交审批（申请 00000d01）");

    // The item now waits: its proposal with who approved so far, no actions.
    let mut pending = shortage_item();
    pending.row.status = SuspenseStatus::PendingApproval;
    pending.proposal = Some(proposal());
    reply(&mut h, SuspensePurpose::Item(SHORTAGE), Ok(Response::SuspenseItem(Box::new(pending))));
    h.get_by_label("待审批的处理");
    h.get_by_label_contains("确认损失（合同 合同第 7 条：渠道倒闭无法追回），fin1 于");
    h.get_by_label("财务复核：fin2");
    h.get_by_label("主管：尚未批准");
    assert!(h.query_by_label("处理方式").is_none());
}

#[test]
fn approvals_list_proposals_with_their_approvers_and_send_verdicts() {
    let mut h = harness(Role::Supervisor, Lang::Zh);
    sent(&mut h);
    click(&mut h, "挂账审批");
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Proposals, ReconRequest::Proposals)]);
    reply(&mut h, SuspensePurpose::Proposals, Ok(Response::SuspenseProposals(vec![proposal()])));
    for label in
        ["短款", "-¥2,000.00", "确认损失（合同 合同第 7 条：渠道倒闭无法追回）", "fin1", "fin2", "尚未批准"]
    {
        h.get_by_label(label);
    }
    click(&mut h, "批准第 1 条");
    let decide = ReconRequest::Decide { proposal_id: PROPOSAL, approve: true };
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Decide { approve: true }, decide)]);
    let outcome = SuspenseOutcome::Resolved { transfer_id: Some(TRANSFER) };
    reply(&mut h, SuspensePurpose::Decide { approve: true }, Ok(Response::SuspenseOutcome(outcome)));
    h.get_by_label("已核销（转账 00007a7a）");
    assert!(
        recon(sent(&mut h)).contains(&(SuspensePurpose::Proposals, ReconRequest::Proposals)),
        "refreshed"
    );
    let refused =
        ApiError::Conflict { conflict: Conflict::ApprovalNeedsRole { role: Role::FinanceReviewer } };
    reply(&mut h, SuspensePurpose::Decide { approve: true }, Err(refused));
    h.get_by_label_contains("这一步需要另一位财务复核批准");
    click(&mut h, "驳回第 1 条");
    let reject = ReconRequest::Decide { proposal_id: PROPOSAL, approve: false };
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Decide { approve: false }, reject)]);
}

fn summary(adds_up: bool) -> StatementSummary {
    StatementSummary {
        statement_id: "CZ-20261124".into(),
        account: "5711000200001".into(),
        known_account: true,
        currency: "CNY".into(),
        version: Some("camt.053.001.02".into()),
        opening: Some(Decimal::ZERO),
        closing: Some(yuan_of(100)),
        adds_up,
        entries: 3,
        credits: yuan_of(600_000),
        debits: Decimal::ZERO,
        findings: if adds_up {
            vec![]
        } else {
            vec![
                StatementFinding::DoesNotAddUp { difference_minor: 100 },
                StatementFinding::Returns { count: 1 },
            ]
        },
        replaces: false,
    }
}

#[test]
fn an_import_is_checked_then_stored_and_a_difference_is_acknowledged() {
    let mut h = harness(Role::FinanceReviewer, Lang::Zh);
    sent(&mut h);
    click(&mut h, "导入与对账");
    type_into(&mut h, "文件路径", "/tmp/demo-statements/does-not-add-up-camt053.xml");
    h.get_by_role_and_label(A11y::ComboBox, "CSV 格式").click();
    h.run();
    press(&mut h, "招商银行");
    click(&mut h, "仅检查（试运行）");
    let import = |dry_run, acknowledge_difference| ReconRequest::ImportStatement {
        path: "/tmp/demo-statements/does-not-add-up-camt053.xml".into(),
        account: None,
        preset: Some("cmb".into()),
        dry_run,
        acknowledge_difference,
    };
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Import { dry_run: true }, import(true, false))]);
    let report = ImportReport {
        format: StatementFormat::Camt053,
        dry_run: true,
        repeat: false,
        statements: vec![summary(false)],
    };
    reply(&mut h, SuspensePurpose::Import { dry_run: true }, Ok(Response::StatementImported(report)));
    for label in [
        "格式：camt.053 日终对账单",
        "试运行：未写入任何数据",
        "CZ-20261124",
        "期初加发生额与期末相差 ¥1.00",
        "1 笔退回或冲正",
        "¥6,000.00",
    ] {
        h.get_by_label(label);
    }
    assert!(h.query_by_label("确认差异，仍然入库").is_none());

    click(&mut h, "导入");
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Import { dry_run: false }, import(false, false))]);
    let refused = ApiError::Conflict {
        conflict: Conflict::StatementDoesNotAddUp {
            statement_id: "CZ-20261124".into(),
            difference_minor: 100,
        },
    };
    reply(&mut h, SuspensePurpose::Import { dry_run: false }, Err(refused));
    h.get_by_label_contains("对账单 CZ-20261124 不平衡（相差 ¥1.00），确认差异后才能入库");
    click(&mut h, "确认差异，仍然入库");
    click(&mut h, "导入");
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Import { dry_run: false }, import(false, true))]);
    let stored = ImportReport {
        format: StatementFormat::Camt053,
        dry_run: false,
        repeat: false,
        statements: vec![summary(false)],
    };
    reply(&mut h, SuspensePurpose::Import { dry_run: false }, Ok(Response::StatementImported(stored)));
    h.get_by_label("已入库");

    // A file that cannot be read: where, which field, why.
    let error = ApiError::StatementFile {
        file: "x.xml".into(),
        error: StatementError {
            at: Location::Element { path: "Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt".into() },
            field: "Amt".into(),
            problem: StatementProblem::BadAmount { text: "12,3.4".into() },
        },
    };
    reply(&mut h, SuspensePurpose::Import { dry_run: true }, Err(error));
    h.get_by_label(
        "文件 x.xml，元素 Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt，字段 Amt：不是金额 \"12,3.4\"",
    );
}

fn match_view(status: MatchStatus) -> MatchView {
    MatchView {
        id: MATCH,
        rule: "reference_near".into(),
        status,
        lines: vec![line()],
        items: vec![our(NEAR, OurKind::OrderPaid, 123_516, "ORD00010003")],
        difference: yuan_of(-60),
        score: 95,
    }
}

use domain::recon::MatchStatus;

#[test]
fn a_day_is_reconciled_and_its_matches_confirmed_or_reversed() {
    let mut h = harness(Role::FinanceReviewer, Lang::Zh);
    sent(&mut h);
    click(&mut h, "导入与对账");
    let yesterday = yesterday();
    assert_eq!(
        h.get_by_role_and_label(A11y::TextInput, "日期").accesskit_node().value().unwrap(),
        yesterday.to_string()
    );
    retype(&mut h, "日期", "2026-11-24");
    click(&mut h, "试运行");
    let reconcile = |dry_run| ReconRequest::Reconcile { day: day(24), physical_id: None, dry_run };
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Reconcile { dry_run: true }, reconcile(true))]);
    let run = ReconRunReport {
        day: day(24),
        dry_run: true,
        lines: 57,
        confirmed: 48,
        suggested: 3,
        ambiguous: 1,
        already_booked: 0,
        found: vec![(SuspenseKind::Overage, 1), (SuspenseKind::Returned, 1)],
        reversed: 0,
    };
    reply(&mut h, SuspensePurpose::Reconcile { dry_run: true }, Ok(Response::Reconciled(run.clone())));
    for label in ["试运行（未写入）：2026-11-24", "57", "48", "长款 1 笔、退票·退款失败 1 笔"]
    {
        h.get_by_label(label);
    }
    click(&mut h, "对账");
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Reconcile { dry_run: false }, reconcile(false))]);
    reply(
        &mut h,
        SuspensePurpose::Reconcile { dry_run: false },
        Ok(Response::Reconciled(ReconRunReport { dry_run: false, ..run })),
    );
    h.get_by_label("已对账：2026-11-24");
    let asked = recon(sent(&mut h));
    assert!(asked.contains(&(
        SuspensePurpose::Matches,
        ReconRequest::Matches { day: day(24), suggested_only: false }
    )));
    reply(&mut h, SuspensePurpose::Matches, Ok(Response::Matches(vec![match_view(MatchStatus::Suggested)])));
    for label in [
        "编号＋相近金额",
        "待确认",
        "MYB0000000041 +¥1,234.56 张三",
        "ORD00010003 +¥1,235.16",
        "-¥0.60",
        "95",
    ] {
        h.get_by_label(label);
    }
    click(&mut h, "确认第 1 条");
    assert_eq!(
        recon(sent(&mut h)),
        vec![(SuspensePurpose::ConfirmMatch, ReconRequest::ConfirmMatch { match_id: MATCH })]
    );
    reply(&mut h, SuspensePurpose::ConfirmMatch, Ok(Response::Done));
    h.get_by_label("已确认匹配");
    sent(&mut h);
    reply(&mut h, SuspensePurpose::Matches, Ok(Response::Matches(vec![match_view(MatchStatus::Confirmed)])));
    click(&mut h, "撤销第 1 条");
    assert!(sent(&mut h).is_empty());
    h.get_by_label("撤销原因：不能为空");
    type_into(&mut h, "撤销原因", "重复付款另行处理");
    click(&mut h, "撤销第 1 条");
    let unmatch = ReconRequest::Unmatch { match_id: MATCH, reason: "重复付款另行处理".into() };
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Unmatch, unmatch)]);
}

fn recon_report() -> ReconReport {
    ReconReport {
        day: day(24),
        rows: vec![ReportRow {
            account: "****0001".into(),
            channel: "bank_notice".into(),
            matched: 48,
            matched_amount: yuan_of(9_876_543),
            open: vec![(SuspenseKind::Overage, 1, yuan_of(123_456))],
        }],
        aging: vec![
            (AgeBucket::UpTo1, 2, yuan_of(323_456)),
            (AgeBucket::UpTo7, 0, Decimal::ZERO),
            (AgeBucket::UpTo30, 1, yuan_of(88_800)),
            (AgeBucket::Over30, 0, Decimal::ZERO),
        ],
        proof: vec![
            (SuspenseKind::Overage, yuan_of(123_456), yuan_of(123_456)),
            (SuspenseKind::Shortage, yuan_of(-200_000), yuan_of(-200_000)),
        ],
    }
}

#[test]
fn the_report_shows_rows_aging_and_proof_and_exports() {
    let mut h = harness(Role::FinanceReviewer, Lang::Zh);
    sent(&mut h);
    click(&mut h, "对账报表");
    assert_eq!(recon(sent(&mut h)), vec![(SuspensePurpose::Report, ReconRequest::DayReport { day: None })]);
    reply(&mut h, SuspensePurpose::Report, Ok(Response::ReconReport(recon_report())));
    for label in [
        "银行来账通知",
        "48",
        "¥98,765.43",
        "长款 1 笔 +¥1,234.56",
        "账龄分布（未结挂账）",
        "0–1天：2 笔，¥3,234.56",
        "8–30天：1 笔，¥888.00",
        "30天以上：0 笔，¥0.00",
        "√ 全部一致",
        "导出 CSV",
        "导出 XLSX",
    ] {
        h.get_by_label(label);
    }
    retype(&mut h, "日期", "2026-11-24");
    click(&mut h, "导出 XLSX");
    assert_eq!(
        recon(sent(&mut h)),
        vec![(SuspensePurpose::Export, ReconRequest::ExportReport { day: day(24), xlsx: true })]
    );
    let exported = Response::Exported { path: "/tmp/exports/recon-report-2026-11-24.xlsx".into(), rows: 6 };
    reply(&mut h, SuspensePurpose::Export, Ok(exported));
    h.get_by_label("已导出 6 行：/tmp/exports/recon-report-2026-11-24.xlsx");

    let mut broken = recon_report();
    broken.proof[1].2 = yuan_of(-199_900);
    reply(&mut h, SuspensePurpose::Report, Ok(Response::ReconReport(broken)));
    h.get_by_label("× 有科目不一致");
    h.get_by_label("× 不一致");
}

#[test]
fn keys_move_open_and_claim_next() {
    let mut h = harness_with(Role::FinanceReviewer, Lang::Zh, true);
    sent(&mut h);
    reply(&mut h, SuspensePurpose::Queue { more: false }, Ok(Response::SuspenseQueue(page())));
    h.get_by_label_contains("快捷键");
    h.key_press(egui::Key::J);
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    let asked = recon(sent(&mut h));
    assert!(
        asked.contains(&(SuspensePurpose::Claim(SHORTAGE), ReconRequest::Claim { id: SHORTAGE })),
        "{asked:?}"
    );
    h.key_press(egui::Key::Escape);
    h.run();
    h.get_by_label("认领下一笔");
    h.key_press(egui::Key::N);
    h.run();
    assert!(matches!(recon(sent(&mut h)).pop().unwrap().1, ReconRequest::ClaimNext { .. }));
}

#[test]
fn an_auditor_reads_without_claiming_or_acting() {
    let mut h = harness(Role::Auditor, Lang::Zh);
    sent(&mut h);
    reply(&mut h, SuspensePurpose::Queue { more: false }, Ok(Response::SuspenseQueue(page())));
    for label in ["认领下一笔", "挂账审批", "导入与对账"] {
        assert!(h.query_by_label(label).is_none(), "{label}");
    }
    h.get_by_label("对账报表");
    click(&mut h, "+¥1,234.56");
    assert_eq!(
        recon(sent(&mut h)),
        vec![(SuspensePurpose::Item(OVERAGE), ReconRequest::Item { id: OVERAGE })]
    );
    reply(
        &mut h,
        SuspensePurpose::Item(OVERAGE),
        Ok(Response::SuspenseItem(Box::new(overage_item(Some("fin1"))))),
    );
    h.get_by_label("候选匹配（按得分排序）");
    for label in ["匹配第 1 个候选", "处理方式", "认领", "释放认领"] {
        assert!(!has_button(&h, label) && h.query_by_label(label).is_none_or(|_| label == "认领"), "{label}");
    }
}

#[test]
fn an_item_someone_else_holds_offers_no_actions() {
    let mut h = with_overage_open();
    reply(
        &mut h,
        SuspensePurpose::Item(OVERAGE),
        Ok(Response::SuspenseItem(Box::new(overage_item(Some("fin2"))))),
    );
    h.get_by_label("认领后才能处理");
    assert!(has_button(&h, "认领"));
    assert!(h.query_by_label("匹配第 1 个候选").is_none());
    assert!(h.query_by_label("处理方式").is_none());
}

/// Every text on screen.
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

/// Every screen of the area with data on it: queue, the overage with the credit
/// form open, the shortage with the loss form and its proposal, approvals, import
/// and reconciliation with matches, the report. `check` reads each.
fn every_screen(lang: Lang, check: &mut dyn FnMut(&Harness<'_, Fixture>)) {
    let l = |k: T| k.text(lang);
    let mut h = harness_with(Role::Supervisor, lang, true);
    reply(&mut h, SuspensePurpose::Queue { more: false }, Ok(Response::SuspenseQueue(page())));
    check(&h);
    click(&mut h, "+¥1,234.56");
    let mut item = overage_item(Some("sup1"));
    item.explained_until = Some(day(30));
    item.recovery_ref = Some("R-2026-1".into());
    reply(&mut h, SuspensePurpose::Item(OVERAGE), Ok(Response::SuspenseItem(Box::new(item))));
    click(&mut h, l(T::SusActCredit));
    check(&h);
    click(&mut h, l(T::SusActWriteOff));
    let submit = fill(l(T::SusSubmitAction), &[("action", &l(T::SusActWriteOff))]);
    click(&mut h, &submit);
    h.get_by_label(&fill(l(T::SusRequired), &[("field", &l(T::SusFieldReason))]));
    check(&h);
    click(&mut h, l(T::SusBack));
    click(&mut h, "-¥2,000.00");
    let mut shortage = shortage_item();
    shortage.row.claimed_by = Some("sup1".into());
    shortage.proposal = Some(proposal());
    reply(&mut h, SuspensePurpose::Item(SHORTAGE), Ok(Response::SuspenseItem(Box::new(shortage))));
    click(&mut h, l(T::SusActLoss));
    click(&mut h, l(T::SusActExplain));
    check(&h);
    click(&mut h, l(T::SusTabApprovals));
    reply(&mut h, SuspensePurpose::Proposals, Ok(Response::SuspenseProposals(vec![proposal()])));
    check(&h);
    click(&mut h, l(T::SusTabImport));
    let report = ImportReport {
        format: StatementFormat::Camt053,
        dry_run: true,
        repeat: false,
        statements: vec![summary(false)],
    };
    reply(&mut h, SuspensePurpose::Import { dry_run: true }, Ok(Response::StatementImported(report)));
    let refused = ApiError::Conflict {
        conflict: Conflict::StatementDoesNotAddUp {
            statement_id: "CZ-20261124".into(),
            difference_minor: 100,
        },
    };
    reply(&mut h, SuspensePurpose::Import { dry_run: false }, Err(refused));
    let run = ReconRunReport {
        day: day(24),
        dry_run: false,
        lines: 57,
        confirmed: 48,
        suggested: 3,
        ambiguous: 1,
        already_booked: 0,
        found: vec![(SuspenseKind::Overage, 1)],
        reversed: 0,
    };
    reply(&mut h, SuspensePurpose::Reconcile { dry_run: false }, Ok(Response::Reconciled(run)));
    let matches = vec![match_view(MatchStatus::Suggested), match_view(MatchStatus::Confirmed)];
    reply(&mut h, SuspensePurpose::Matches, Ok(Response::Matches(matches)));
    check(&h);
    click(&mut h, l(T::SusTabReport));
    reply(&mut h, SuspensePurpose::Report, Ok(Response::ReconReport(recon_report())));
    reply(&mut h, SuspensePurpose::Export, Ok(Response::Exported { path: "/tmp/r.csv".into(), rows: 6 }));
    check(&h);
}

/// Customer data and identifiers the screens show as they are.
const DATA: [&str; 10] = [
    "张三",
    "杭州甲商贸有限公司",
    "上海丙信息技术有限公司",
    "转账",
    "合同第 7 条",
    "渠道倒闭无法追回",
    "sup1",
    "fin1",
    "fin2",
    "CNY",
];

#[test]
fn the_english_screens_have_no_chinese_words() {
    every_screen(Lang::En, &mut |h| {
        for text in texts(h) {
            let rest = DATA.iter().fold(text.clone(), |t, d| t.replace(d, ""));
            let han =
                |c: char| ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c);
            assert!(!rest.chars().any(han), "{text}");
        }
    });
}

#[test]
fn the_chinese_screens_have_no_english_words() {
    every_screen(Lang::Zh, &mut |h| {
        for text in texts(h) {
            let rest = ["CSV", "XLSX", "ID", "camt.053", "camt.054", "J/K", "Enter", "Esc"]
                .iter()
                .chain(DATA.iter())
                .fold(text.clone(), |t, term| t.replace(term, ""));
            for chunk in rest.split(|c: char| !c.is_ascii_graphic()) {
                if chunk.contains('/') {
                    continue;
                }
                for token in chunk.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
                    let word = token.len() >= 2 && !token.bytes().any(|b| b.is_ascii_digit());
                    assert!(!word || !token.bytes().any(|b| b.is_ascii_alphabetic()), "{token} in {text}");
                }
            }
        }
    });
}
