//! One item: its header, the statement line(s) behind it, our side for a
//! shortage, the ranked candidates with every part of their score explained (and
//! side-by-side matching), the business actions, a pending proposal, its history
//! and its ledger postings.

use super::actions::ActionForm;
use super::{Problem, SuspensePurpose, SuspenseView, send, signed};
use crate::contract::ViewCtx;
use crate::i18n::{
    Lang, T, channel_text, fill, ledger_role_text, location_text, our_kind, score_part_text,
    suspense_action_text, suspense_event_text, suspense_kind, suspense_status,
};
use crate::views::fmt_time;
use domain::api::ReconRequest;
use domain::cases::short_id;
use domain::suspense::{
    CandidateView, LineView, OurItemView, SuspenseAction, SuspenseItemView, SuspenseProposalView,
    SuspenseStatus,
};
use rust_decimal::Decimal;
use uuid::Uuid;

/// The item shown and what the operator is typing about it.
#[derive(Debug, Default)]
pub(super) struct ItemState {
    /// The item asked for (its view may still be on its way).
    pub(super) open: Option<Uuid>,
    view: Option<SuspenseItemView>,
    /// "Book the difference as a fee", per candidate.
    fee_ok: Vec<bool>,
    /// The business action being filled in.
    pub(super) form: ActionForm,
}

impl ItemState {
    pub(super) fn set(&mut self, view: SuspenseItemView) {
        if self.fee_ok.len() != view.candidates.len() {
            self.fee_ok = vec![false; view.candidates.len()];
        }
        self.view = Some(view);
    }

    /// After an action was carried out: nothing typed is kept.
    pub(super) fn clear_forms(&mut self) {
        self.form = ActionForm::default();
        self.fee_ok.iter_mut().for_each(|f| *f = false);
    }
}

/// What the operator may do with the item shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Working {
    /// The item is theirs to work on (claimed, open).
    pub(super) can_work: bool,
    /// They may claim it.
    can_claim: bool,
    /// They hold its claim.
    holds: bool,
}

impl Working {
    fn of(view: &SuspenseItemView, ctx: &ViewCtx<'_>) -> Self {
        let status = view.row.status;
        let workable = ctx.abilities.suspense_resolve
            && !matches!(status, SuspenseStatus::Resolved | SuspenseStatus::PendingApproval);
        let holds = view.row.claimed_by.as_deref() == Some(ctx.operator.username.as_str());
        Self {
            can_work: workable && holds,
            can_claim: ctx.abilities.suspense_resolve && status != SuspenseStatus::Resolved && !holds,
            holds,
        }
    }
}

impl SuspenseView {
    /// Back to the queue.
    pub(super) fn close_item(&mut self) {
        self.item = Default::default();
        self.clear_status();
    }

    pub(super) fn item_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        if ui.button(T::SusBack.text(lang)).clicked() {
            self.close_item();
            self.refresh_queue(ctx.outbox);
            return;
        }
        let Some(view) = self.item.view.clone() else {
            ui.label(T::Loading.text(lang));
            return;
        };
        let id = view.row.id;
        let working = Working::of(&view, ctx);
        ui.horizontal(|ui| {
            ui.heading(fill(T::SusItemHeading.text(lang), &[("id", &short_id(id))]));
            if working.can_claim && ui.button(T::SusClaim.text(lang)).clicked() {
                self.clear_status();
                send(ctx.outbox, SuspensePurpose::Claim(id), ReconRequest::Claim { id });
            }
            if working.holds
                && view.row.status != SuspenseStatus::Resolved
                && ui.button(T::SusRelease.text(lang)).clicked()
            {
                self.clear_status();
                send(ctx.outbox, SuspensePurpose::Release(id), ReconRequest::Release { id });
            }
        });
        header_ui(ui, lang, &view);
        if working.can_claim && !working.can_work && view.row.status != SuspenseStatus::PendingApproval {
            ui.weak(T::SusClaimToWork.text(lang));
        }
        ui.separator();
        ui.strong(T::SusLinesHeading.text(lang));
        if view.lines.is_empty() {
            ui.weak(T::SusNoLines.text(lang));
        } else {
            lines_ui(ui, lang, &view.lines);
        }
        if let Some(ours) = &view.ours {
            ui.separator();
            ui.strong(T::SusOursHeading.text(lang));
            ours_ui(ui, lang, ours);
        }
        if !view.lines.is_empty() {
            ui.separator();
            self.candidates_ui(ui, ctx, &view, working);
        }
        if working.can_work {
            ui.separator();
            self.actions_ui(ui, ctx, &view);
        }
        if let Some(p) = &view.proposal {
            ui.separator();
            proposal_ui(ui, lang, p);
        }
        ui.separator();
        history_ui(ui, lang, &view);
        postings_ui(ui, lang, &view);
    }

    /// The ranked candidates; a match sends the candidate's open amount, and a
    /// difference only as an explicit fee.
    fn candidates_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut ViewCtx<'_>,
        view: &SuspenseItemView,
        w: Working,
    ) {
        let lang = ctx.lang;
        ui.strong(T::SusCandidatesHeading.text(lang));
        if view.candidates.is_empty() {
            ui.weak(T::SusNoCandidates.text(lang));
            return;
        }
        let mut chosen = None;
        let columns = if w.can_work { 9 } else { 8 };
        egui::Grid::new("sus_candidates").striped(true).num_columns(columns).show(ui, |ui| {
            super::no_wrap(ui);
            for key in [
                T::SusColOurKind,
                T::SusColReference,
                T::SusColCounterparty,
                T::SusColOpen,
                T::SusColWindow,
                T::SusColScore,
                T::SusColWhy,
                T::SusColDifference,
            ] {
                ui.strong(key.text(lang));
            }
            if w.can_work {
                ui.strong(T::Actions.text(lang));
            }
            ui.end_row();
            for (i, c) in view.candidates.iter().enumerate() {
                let n = i + 1;
                let difference = fee_of(view.row.amount, c);
                candidate_cells_ui(ui, lang, c, difference);
                if w.can_work {
                    ui.vertical(|ui| {
                        if !difference.is_zero()
                            && let Some(ok) = self.item.fee_ok.get_mut(i)
                        {
                            ui.checkbox(ok, fill(T::SusBookFeeCheck.text(lang), &[("n", &n)]));
                        }
                        if ui.button(fill(T::SusMatchRow.text(lang), &[("n", &n)])).clicked() {
                            chosen = Some(i);
                        }
                    });
                }
                ui.end_row();
            }
        });
        if let Some(i) = chosen
            && let Some(c) = view.candidates.get(i)
        {
            let fee = fee_of(view.row.amount, c);
            if !fee.is_zero() && !self.item.fee_ok.get(i).copied().unwrap_or(false) {
                self.refuse(Problem::NeedFee(i + 1));
                return;
            }
            let action = SuspenseAction::Match { items: vec![(c.item.id, c.item.open.abs())], fee };
            self.resolve(ctx.outbox, view.row.id, action);
        }
    }
}

/// What matching `c` leaves over: its open amount minus the item's (both as
/// absolute values); booked as a fee when not zero.
fn fee_of(item_amount: Decimal, c: &CandidateView) -> Decimal {
    c.item.open.abs() - item_amount.abs()
}

fn candidate_cells_ui(ui: &mut egui::Ui, lang: Lang, c: &CandidateView, difference: Decimal) {
    ui.label(our_kind(c.item.kind).text(lang));
    ui.label(&c.item.reference);
    ui.label(c.item.counterparty.as_deref().unwrap_or("—"));
    ui.label(signed(c.item.open));
    ui.label(window(lang, &c.item));
    ui.strong(c.suggestion.score.to_string());
    ui.vertical(|ui| {
        for part in &c.suggestion.parts {
            ui.label(score_part_text(part, lang));
        }
    });
    ui.label(signed(difference));
}

fn window(lang: Lang, o: &OurItemView) -> String {
    fill(T::SusWindow.text(lang), &[("from", &o.date_from), ("to", &o.date_to)])
}

fn header_ui(ui: &mut egui::Ui, lang: Lang, view: &SuspenseItemView) {
    let r = &view.row;
    let rows: [(T, String); 9] = [
        (T::SusColKind, suspense_kind(r.kind).text(lang).to_owned()),
        (T::SusColAmount, signed(r.amount)),
        (T::SusColStatus, suspense_status(r.status).text(lang).to_owned()),
        (T::SusColFound, r.found_on.to_string()),
        (T::SusColAge, fill(T::SusAgeDays.text(lang), &[("n", &r.age_days)])),
        (T::SusColAccount, r.account.clone()),
        (T::SusColChannel, channel_text(&r.channel, lang)),
        (T::SusColCounterparty, if r.counterparty.is_empty() { "—".into() } else { r.counterparty.clone() }),
        (T::SusColClaimedBy, r.claimed_by.clone().unwrap_or_else(|| "—".into())),
    ];
    egui::Grid::new("sus_header").num_columns(2).spacing([16.0, 2.0]).show(ui, |ui| {
        super::no_wrap(ui);
        for (key, value) in rows {
            ui.label(key.text(lang));
            ui.strong(value);
            ui.end_row();
        }
    });
    if let Some(until) = view.explained_until {
        ui.label(fill(T::SusExplainedUntil.text(lang), &[("date", &until)]));
    }
    if let Some(reference) = &view.recovery_ref {
        ui.label(fill(T::SusRecoveryRef.text(lang), &[("reference", reference)]));
    }
}

fn lines_ui(ui: &mut egui::Ui, lang: Lang, lines: &[LineView]) {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    egui::Grid::new("sus_lines").striped(true).num_columns(9).show(ui, |ui| {
        super::no_wrap(ui);
        for key in [
            T::SusColStatement,
            T::SusColLocation,
            T::SusColAmount,
            T::SusColBookingDate,
            T::SusColBankRef,
            T::SusColCounterparty,
            T::SusColRemittance,
            T::SusColAddressed,
            T::SusColReturnReason,
        ] {
            ui.strong(key.text(lang));
        }
        ui.end_row();
        for l in lines {
            ui.label(&l.statement);
            ui.label(location_text(&l.at, lang));
            ui.label(signed(l.amount));
            ui.label(l.booking_date.to_string());
            ui.label(&l.bank_ref);
            ui.label(or_dash(&l.counterparty));
            ui.label(or_dash(&l.remittance));
            ui.label(or_dash(&l.addressed_account));
            ui.label(or_dash(&l.return_reason));
            ui.end_row();
        }
    });
}

fn ours_ui(ui: &mut egui::Ui, lang: Lang, o: &OurItemView) {
    let rows: [(T, String); 6] = [
        (T::SusColOurKind, our_kind(o.kind).text(lang).to_owned()),
        (T::SusColReference, o.reference.clone()),
        (T::SusColAmount, signed(o.amount)),
        (T::SusColOpen, signed(o.open)),
        (T::SusColWindow, window(lang, o)),
        (T::SusColCounterparty, o.counterparty.clone().unwrap_or_else(|| "—".into())),
    ];
    egui::Grid::new("sus_ours").num_columns(2).spacing([16.0, 2.0]).show(ui, |ui| {
        super::no_wrap(ui);
        for (key, value) in rows {
            ui.label(key.text(lang));
            ui.label(value);
            ui.end_row();
        }
    });
}

/// The proposal waiting for approvals, with who approved so far.
pub(super) fn proposal_ui(ui: &mut egui::Ui, lang: Lang, p: &SuspenseProposalView) {
    ui.strong(T::SusProposalHeading.text(lang));
    ui.label(fill(
        T::SusProposalLine.text(lang),
        &[
            ("action", &suspense_action_text(&p.action, lang)),
            ("maker", &p.maker),
            ("at", &fmt_time(p.proposed_at)),
        ],
    ));
    let (finance, supervisor) = approvals_text(lang, p);
    ui.label(fill(T::SusFinanceApproval.text(lang), &[("by", &finance)]));
    ui.label(fill(T::SusSupervisorApproval.text(lang), &[("by", &supervisor)]));
}

/// Who gave the finance and the supervisor approval ("not yet", "not needed").
pub(super) fn approvals_text(lang: Lang, p: &SuspenseProposalView) -> (String, String) {
    let (need_finance, need_supervisor) = p.action.kind().approvals();
    let who = |needed: bool, by: &Option<String>| match (needed, by) {
        (_, Some(by)) => by.clone(),
        (true, None) => T::SusNotYet.text(lang).to_owned(),
        (false, None) => T::SusNotNeeded.text(lang).to_owned(),
    };
    (who(need_finance, &p.finance_by), who(need_supervisor, &p.supervisor_by))
}

fn history_ui(ui: &mut egui::Ui, lang: Lang, view: &SuspenseItemView) {
    ui.strong(T::SusHistoryHeading.text(lang));
    egui::Grid::new("sus_history").striped(true).num_columns(3).show(ui, |ui| {
        super::no_wrap(ui);
        for key in [T::SusColTime, T::SusColActor, T::SusColEvent] {
            ui.strong(key.text(lang));
        }
        ui.end_row();
        for e in &view.history {
            ui.label(fmt_time(e.at));
            ui.label(if e.actor == "system" { T::ActorSystem.text(lang) } else { &e.actor });
            ui.label(suspense_event_text(&e.event, lang));
            ui.end_row();
        }
    });
}

fn postings_ui(ui: &mut egui::Ui, lang: Lang, view: &SuspenseItemView) {
    if view.postings.is_empty() {
        return;
    }
    ui.separator();
    ui.strong(T::SusPostingsHeading.text(lang));
    for (i, p) in view.postings.iter().enumerate() {
        ui.label(fill(T::SusPosting.text(lang), &[("id", &short_id(p.transfer_id))]));
        egui::Grid::new(("sus_posting", i)).striped(true).num_columns(2).show(ui, |ui| {
            super::no_wrap(ui);
            ui.strong(T::SusColLedgerAccount.text(lang));
            ui.strong(T::SusColSignedAmount.text(lang));
            ui.end_row();
            for (account, amount) in &p.lines {
                ui.label(ledger_role_text(account, lang));
                ui.label(signed(*amount));
                ui.end_row();
            }
        });
    }
}
