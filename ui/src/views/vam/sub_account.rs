//! One sub-account: its figures and previous holders, its holds (解冻), and the
//! operations on it: 冻结, 转账 (to a node picked in the tree), 归集到主账户,
//! 开立下级子账户, 销户检查 and 销户. Entries and the chart follow ([`super::entries`]).

use super::tree::OpenForm;
use super::{
    OpKind, Problem, SERIES_DAYS, VamPurpose, VamView, end_of_day, parse_account, parse_amount, parse_date,
    send, today, yuan,
};
use crate::contract::{Outbox, ViewCtx};
use crate::i18n::{
    Lang, T, close_blocker_text, fill, hold_status, owner_kind, virtual_purpose, virtual_status,
};
use crate::views::{fmt_time, labelled_text_edit_ui};
use domain::api::{VamOperation, VamRequest};
use domain::ledger::{AccountId, CloseBlocker, HoldId, HoldStatus};
use domain::vam::{HoldView, SubAccountDetail};

/// Which of the account's forms is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Freeze,
    Transfer,
    Sweep,
}

#[derive(Debug, Default)]
struct FreezeForm {
    amount: String,
    reason: String,
    expiry: String,
}

#[derive(Debug, Default)]
struct TransferForm {
    /// Picked in the tree: the node and its number.
    target: Option<(AccountId, String)>,
    /// The target's id, typed or filled in by the pick.
    to: String,
    amount: String,
    memo: String,
}

#[derive(Debug)]
struct ReleaseForm {
    hold: HoldId,
    /// The hold's line in the table (1-based), as its button says.
    line: usize,
    amount: String,
}

/// The selected sub-account, its detail, and the forms typed on it.
#[derive(Debug, Default)]
pub(super) struct SubState {
    pub(super) selected: Option<AccountId>,
    pub(super) detail: Option<SubAccountDetail>,
    pub(super) close_check: Option<Vec<CloseBlocker>>,
    form: Option<Form>,
    freeze: FreezeForm,
    transfer: TransferForm,
    sweep: String,
    release: Option<ReleaseForm>,
    /// What the form's operation would change (预览).
    pub(super) preview: Option<domain::vam::OperationPreview>,
}

impl SubState {
    /// Empties the forms after an operation went through.
    pub(super) fn clear_forms(&mut self) {
        self.form = None;
        self.freeze = FreezeForm::default();
        self.transfer = TransferForm::default();
        self.sweep.clear();
        self.release = None;
        self.preview = None;
    }

    /// 设为转入方: the node picked in the tree becomes the transfer's target.
    pub(super) fn set_target(&mut self, id: AccountId, number: String) {
        self.transfer.to = id.to_string();
        self.transfer.target = Some((id, number));
        self.form = Some(Form::Transfer);
    }
}

impl VamView {
    /// Selects a sub-account and loads it: detail, first page of entries, chart.
    pub(super) fn select_sub_account(&mut self, outbox: &mut Outbox, account: AccountId) {
        if self.sub.selected != Some(account) {
            let target = std::mem::take(&mut self.sub.transfer);
            self.sub = Default::default();
            // A target picked before keeps: it may be the account the money goes to.
            self.sub.transfer = target;
            self.sub.selected = Some(account);
            self.entries.reset();
        }
        self.load_sub_account(outbox, account);
    }

    /// Asks for the account's detail, entries (current filter) and chart.
    pub(super) fn load_sub_account(&mut self, outbox: &mut Outbox, account: AccountId) {
        send(outbox, VamPurpose::SubAccount(account), VamRequest::SubAccount { account });
        self.request_entries(outbox, account, None);
        let to = today();
        let from = to.checked_sub_days(chrono::Days::new(SERIES_DAYS - 1)).unwrap_or(to);
        send(outbox, VamPurpose::Series(account), VamRequest::BalanceSeries { account, from, to });
    }

    pub(super) fn sub_account_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        let Some(account) = self.sub.selected else {
            ui.weak(T::VamNoSelection.text(lang));
            return;
        };
        let Some(detail) = self.sub.detail.clone().filter(|d| d.node.id == account) else {
            ui.label(T::Loading.text(lang));
            return;
        };
        ui.heading(fill(T::VamSubHeading.text(lang), &[("number", &detail.node.number)]));
        detail_ui(ui, lang, &detail);
        self.holds_ui(ui, ctx, &detail.holds);
        self.account_actions_ui(ui, ctx, &detail);
        match self.sub.form {
            Some(Form::Freeze) => self.freeze_ui(ui, ctx, account),
            Some(Form::Transfer) => self.transfer_ui(ui, ctx, account),
            Some(Form::Sweep) => self.sweep_ui(ui, ctx, account),
            None => {}
        }
        if let Some(blockers) = &self.sub.close_check {
            blockers_ui(ui, lang, blockers);
        }
        ui.separator();
        self.entries_ui(ui, ctx, account);
        ui.separator();
        self.chart_ui(ui, lang);
    }

    /// 冻结记录, with 解冻第 n 笔 on pending holds and the release form.
    fn holds_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, holds: &[HoldView]) {
        let lang = ctx.lang;
        ui.strong(T::VamHoldsHeading.text(lang));
        if holds.is_empty() {
            ui.weak(T::VamNoHolds.text(lang));
            return;
        }
        egui::Grid::new("vam_holds").striped(true).num_columns(8).show(ui, |ui| {
            for key in [
                T::VamColHoldAmount,
                T::VamColRemaining,
                T::Status,
                T::Reason,
                T::VamColExpires,
                T::VamColPlaced,
                T::VamColBy,
                T::Actions,
            ] {
                ui.strong(key.text(lang));
            }
            ui.end_row();
            for (i, hold) in holds.iter().enumerate() {
                ui.label(yuan(hold.amount));
                ui.label(yuan(hold.remaining));
                ui.label(hold_status(hold.status).text(lang));
                ui.label(&hold.reason);
                ui.label(hold.expires_at.map_or_else(|| "—".to_owned(), fmt_time));
                ui.label(fmt_time(hold.placed_at));
                ui.label(&hold.placed_by);
                let releasable = ctx.abilities.vam_operate && hold.status == HoldStatus::Pending;
                let line = i + 1;
                if releasable && ui.button(fill(T::VamReleaseRow.text(lang), &[("n", &line)])).clicked() {
                    let amount = hold.remaining.to_string();
                    self.sub.release = Some(ReleaseForm { hold: hold.id, line, amount });
                }
                ui.end_row();
            }
        });
        let target = self.sub.transfer.target.clone();
        let Some(form) = &mut self.sub.release else { return };
        let (mut submit, mut cancel, mut pay) = (false, false, false);
        ui.horizontal(|ui| {
            ui.label(fill(T::VamReleasing.text(lang), &[("n", &form.line)]));
            labelled_text_edit_ui(ui, T::VamReleaseAmount.text(lang), &mut form.amount, false);
            submit = ui.button(T::VamConfirmRelease.text(lang)).clicked();
            // 划转: the held money goes to the sub-account picked with 设为转入方.
            if let Some((_, number)) = &target {
                pay = ui.button(fill(T::VamPostHoldTo.text(lang), &[("number", number)])).clicked();
            }
            cancel = ui.button(T::VamCancelRelease.text(lang)).clicked();
        });
        if pay && let (Some(form), Some((to, _))) = (&self.sub.release, &target) {
            match parse_amount(&form.amount) {
                Some(amount) => {
                    let op = VamOperation::PostHold { hold: form.hold, amount, to: *to };
                    self.act(ctx.outbox, OpKind::Release, op);
                }
                None => self.refuse(Problem::Amount(T::VamReleaseAmount)),
            }
        }
        if cancel {
            self.sub.release = None;
        }
        if submit && let Some(form) = &self.sub.release {
            match parse_amount(&form.amount) {
                Some(amount) => {
                    let op = VamOperation::Release { hold: form.hold, amount };
                    self.act(ctx.outbox, OpKind::Release, op);
                }
                None => self.refuse(Problem::Amount(T::VamReleaseAmount)),
            }
        }
    }

    /// The account's operations (for those who may operate) and 销户检查 (for all).
    fn account_actions_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, detail: &SubAccountDetail) {
        let (lang, account) = (ctx.lang, detail.node.id);
        ui.horizontal_wrapped(|ui| {
            if ctx.abilities.vam_operate {
                for (form, key) in [
                    (Form::Freeze, T::VamFreeze),
                    (Form::Transfer, T::VamTransfer),
                    (Form::Sweep, T::VamSweep),
                ] {
                    if ui.selectable_label(self.sub.form == Some(form), key.text(lang)).clicked() {
                        self.sub.form = if self.sub.form == Some(form) { None } else { Some(form) };
                    }
                }
                if ui.button(T::VamOpenChild.text(lang)).clicked() {
                    self.tree.open = Some(OpenForm::under(Some((account, detail.node.number.clone()))));
                    self.tree.results = None;
                }
            }
            if ui.button(T::VamCloseCheck.text(lang)).clicked() {
                self.clear_status();
                self.sub.close_check = None;
                send(ctx.outbox, VamPurpose::CloseCheck(account), VamRequest::CloseCheck { account });
            }
            if ctx.abilities.vam_operate && ui.button(T::VamClose.text(lang)).clicked() {
                self.act(ctx.outbox, OpKind::Close, VamOperation::Close { account });
            }
            // A tender's node: its bidders' deposits go back in one action.
            if ctx.abilities.vam_operate
                && detail.node.child_count > 0
                && ui.button(T::VamSettleTender.text(lang)).clicked()
            {
                self.act(ctx.outbox, OpKind::SettleTender, VamOperation::SettleTender { tender: account });
            }
        });
    }

    fn freeze_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, account: AccountId) {
        let lang = ctx.lang;
        let form = &mut self.sub.freeze;
        let mut submit = false;
        ui.group(|ui| {
            labelled_text_edit_ui(ui, T::VamFreezeAmount.text(lang), &mut form.amount, false);
            labelled_text_edit_ui(ui, T::VamFreezeReason.text(lang), &mut form.reason, false);
            labelled_text_edit_ui(ui, T::VamFreezeExpiry.text(lang), &mut form.expiry, false);
            ui.weak(T::VamDateHint.text(lang));
            submit = ui.button(T::VamConfirmFreeze.text(lang)).clicked();
        });
        if !submit {
            return;
        }
        let form = &self.sub.freeze;
        let Some(amount) = parse_amount(&form.amount) else {
            return self.refuse(Problem::Amount(T::VamFreezeAmount));
        };
        let reason = form.reason.trim().to_owned();
        if reason.is_empty() {
            return self.refuse(Problem::Required(T::VamFreezeReason));
        }
        let expires_at = match form.expiry.trim() {
            "" => None,
            typed => match parse_date(typed).and_then(end_of_day) {
                Some(at) => Some(at),
                None => return self.refuse(Problem::Date(T::VamFreezeExpiry)),
            },
        };
        self.act(ctx.outbox, OpKind::Freeze, VamOperation::Freeze { account, amount, reason, expires_at });
    }

    fn transfer_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, account: AccountId) {
        let lang = ctx.lang;
        let form = &mut self.sub.transfer;
        let (mut submit, mut preview) = (false, false);
        ui.group(|ui| {
            let picked = form.target.as_ref().filter(|(id, _)| id.to_string() == form.to.trim());
            match picked {
                Some((_, number)) => ui.label(fill(T::VamTransferTarget.text(lang), &[("number", number)])),
                None => ui.weak(T::VamTransferNoTarget.text(lang)),
            };
            labelled_text_edit_ui(ui, T::VamTransferTo.text(lang), &mut form.to, false);
            labelled_text_edit_ui(ui, T::VamTransferAmount.text(lang), &mut form.amount, false);
            labelled_text_edit_ui(ui, T::VamTransferMemo.text(lang), &mut form.memo, false);
            ui.horizontal(|ui| {
                preview = ui.button(T::VamPreviewOp.text(lang)).clicked();
                submit = ui.button(T::VamConfirmTransfer.text(lang)).clicked();
            });
        });
        preview_ui(ui, lang, self.sub.preview.as_ref());
        if !submit && !preview {
            return;
        }
        let form = &self.sub.transfer;
        let Some(to) = parse_account(&form.to).filter(|to| *to != account) else {
            return self.refuse(Problem::Id(T::VamTransferTo));
        };
        let Some(amount) = parse_amount(&form.amount) else {
            return self.refuse(Problem::Amount(T::VamTransferAmount));
        };
        let memo = form.memo.trim().to_owned();
        let op = VamOperation::Transfer { from: account, to, amount, memo };
        if preview {
            send(ctx.outbox, VamPurpose::Preview, VamRequest::Preview(op));
        } else {
            self.act(ctx.outbox, OpKind::Transfer, op);
        }
    }

    fn sweep_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, account: AccountId) {
        let lang = ctx.lang;
        let (mut submit, mut preview) = (false, false);
        ui.group(|ui| {
            labelled_text_edit_ui(ui, T::VamSweepAmount.text(lang), &mut self.sub.sweep, false);
            ui.horizontal(|ui| {
                preview = ui.button(T::VamPreviewOp.text(lang)).clicked();
                submit = ui.button(T::VamConfirmSweep.text(lang)).clicked();
            });
        });
        preview_ui(ui, lang, self.sub.preview.as_ref());
        if !submit && !preview {
            return;
        }
        match parse_amount(&self.sub.sweep) {
            Some(amount) if preview => send(
                ctx.outbox,
                VamPurpose::Preview,
                VamRequest::Preview(VamOperation::Sweep { account, amount }),
            ),
            Some(amount) => self.act(ctx.outbox, OpKind::Sweep, VamOperation::Sweep { account, amount }),
            None => self.refuse(Problem::Amount(T::VamSweepAmount)),
        }
    }
}

/// What an operation would change: each account before, change, after.
fn preview_ui(ui: &mut egui::Ui, lang: Lang, preview: Option<&domain::vam::OperationPreview>) {
    let Some(p) = preview else { return };
    egui::Grid::new("vam_preview").striped(true).num_columns(4).show(ui, |ui| {
        for key in [T::VamColAccount, T::VamColBefore, T::VamColChange, T::VamColAfter] {
            ui.strong(key.text(lang));
        }
        ui.end_row();
        for line in &p.lines {
            match &line.account {
                domain::vam::PreviewAccount::SubAccount { number, .. } => ui.monospace(number),
                domain::vam::PreviewAccount::Pool { role } => ui.label(pool_role(*role).text(lang)),
            };
            ui.label(yuan(line.before));
            ui.label(yuan(line.change));
            ui.label(yuan(line.after));
            ui.end_row();
        }
    });
    if p.short {
        ui.colored_label(ui.visuals().error_fg_color, T::VamPreviewShort.text(lang));
    }
    if p.needs_checker {
        ui.label(T::VamPreviewChecker.text(lang));
    }
    blockers_ui(ui, lang, &p.blockers);
}

/// Words for a physical account's own accounts.
fn pool_role(role: domain::vam::PoolRole) -> T {
    use domain::vam::PoolRole as R;
    match role {
        R::Asset => T::VamPoolAsset,
        R::Main => T::VamPoolMain,
        R::Suspense => T::VamPoolSuspense,
        R::Interest => T::VamPoolInterest,
    }
}

/// The node's figures, as pairs.
fn detail_ui(ui: &mut egui::Ui, lang: Lang, d: &SubAccountDetail) {
    let n = &d.node;
    let owner = format!("{} · {}", n.owner.name_masked, owner_kind(n.owner.kind).text(lang));
    let pairs: [(T, String); 9] = [
        (T::VamColOwner, owner),
        (T::VamColPurpose, virtual_purpose(n.purpose).text(lang).to_owned()),
        (T::Status, virtual_status(n.status).text(lang).to_owned()),
        (T::VamOpenedAt, fmt_time(n.opened_at)),
        (T::VamColOwn, yuan(n.own_balance)),
        (T::VamColSubtree, yuan(n.subtree_balance)),
        (T::VamColHeld, yuan(n.held)),
        (T::VamColAvailable, yuan(n.available)),
        (T::VamColChildren, n.child_count.to_string()),
    ];
    egui::Grid::new("vam_sub_detail").num_columns(4).spacing([16.0, 2.0]).show(ui, |ui| {
        for (i, (key, value)) in pairs.into_iter().enumerate() {
            ui.label(key.text(lang));
            ui.strong(value);
            if i % 2 == 1 {
                ui.end_row();
            }
        }
    });
    if !d.previous_holders.is_empty() {
        let names: Vec<String> = d
            .previous_holders
            .iter()
            .map(|o| format!("{} · {}", o.name_masked, owner_kind(o.kind).text(lang)))
            .collect();
        ui.label(fill(T::VamPreviousHolders.text(lang), &[("names", &names.join(", "))]));
    }
}

/// The close check: nothing in the way, or every blocker in words.
fn blockers_ui(ui: &mut egui::Ui, lang: Lang, blockers: &[CloseBlocker]) {
    if blockers.is_empty() {
        ui.label(T::VamCloseOk.text(lang));
        return;
    }
    ui.colored_label(ui.visuals().warn_fg_color, T::VamCloseBlocked.text(lang));
    ui.indent("vam_blockers", |ui| {
        for b in blockers {
            ui.label(close_blocker_text(b, lang));
        }
    });
}
