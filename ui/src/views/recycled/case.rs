//! One case: the header, risk and decisions so far, the actions the operator may
//! take (claim, decide, approve, reassign, SMS unblock), and the number's timeline.

use super::text::{source_text, status_text};
use super::{CaseAction, RecycledPurpose, RecycledView, Verdict, reason_combo_ui};
use crate::contract::{Outbox, Purpose, ShellCommand, ViewCtx};
use crate::i18n::{Lang, T, fill};
use crate::views::{fmt_time, labelled_text_edit_ui};
use domain::RecycledRequest;
use domain::cases::{CaseDecision, CaseDetail};
use domain::recycle::CaseStatus;
use uuid::Uuid;

/// The open case and the fields typed on it.
#[derive(Debug, Default)]
pub(super) struct CaseState {
    pub(super) detail: Option<CaseDetail>,
    pub(super) reassign_to: String,
    unblock_phone: String,
}

impl RecycledView {
    /// Sends a verdict on case `id` with the draft's note (and reason).
    pub(super) fn decide(&mut self, outbox: &mut Outbox, case_id: Uuid, verdict: Verdict) {
        let note = self.draft.note.clone();
        // A checker approves the case as shown: its version goes with the verdict.
        let version = self.case.detail.as_ref().filter(|d| d.row.id == case_id).map_or(0, |d| d.row.version);
        let decide = |decision| RecycledRequest::DecideCase { case_id, decision };
        let request = match verdict {
            Verdict::Confirm => decide(CaseDecision::ConfirmRecycled { note }),
            Verdict::NotRecycled => decide(CaseDecision::NotRecycled { reason: self.draft.reason, note }),
            Verdict::Escalate => decide(CaseDecision::Escalate { note }),
            Verdict::Approve => RecycledRequest::ApproveCase { case_id, approve: true, note, version },
            Verdict::Reject => RecycledRequest::ApproveCase { case_id, approve: false, note, version },
        };
        self.act(outbox, CaseAction::Decide(verdict), request);
    }

    pub(super) fn case_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let Some(d) = self.case.detail.clone() else { return };
        let (lang, can) = (ctx.lang, ctx.abilities);
        if ui.button(T::Back.text(lang)).clicked() {
            self.case.detail = None;
            return;
        }
        header_ui(ui, lang, &d);
        facts_ui(ui, lang, &d);
        ui.separator();
        let active = d.row.status.is_active();
        let mine = d.row.claimed_by.as_deref() == Some(ctx.operator.username.as_str());
        self.case_buttons_ui(ui, ctx, &d, mine);
        if active && d.row.status != CaseStatus::PendingApproval {
            self.decision_ui(ui, lang, d.row.id, mine, ctx.outbox);
            if d.needs_checker {
                ui.weak(T::NeedsChecker.text(lang));
            }
        }
        if d.row.status == CaseStatus::PendingApproval && can.approve {
            self.approval_ui(ui, lang, d.row.id, ctx.outbox);
        }
        if active && can.approve {
            self.reassign_ui(ui, lang, d.row.id, ctx.outbox);
        }
        if d.sms_reset_blocked {
            self.unblock_ui(ui, ctx, &d);
        }
        ui.separator();
        timeline_ui(ui, lang, &d);
    }

    /// Claim or release, ask the carrier, export evidence, start the force-unbind wizard.
    fn case_buttons_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, d: &CaseDetail, mine: bool) {
        let (id, active, lang) = (d.row.id, d.row.status.is_active(), ctx.lang);
        ui.horizontal_wrapped(|ui| {
            if active && !mine && ui.button(T::Claim.text(lang)).clicked() {
                self.act(ctx.outbox, CaseAction::Claim, RecycledRequest::ClaimCase { case_id: id });
            }
            if mine && ui.button(T::Release.text(lang)).clicked() {
                self.act(ctx.outbox, CaseAction::Release, RecycledRequest::ReleaseCase { case_id: id });
            }
            if ui.button(T::CheckCarrier.text(lang)).clicked() {
                self.act(ctx.outbox, CaseAction::CheckCarrier, RecycledRequest::CheckCarrier { case_id: id });
            }
            if ui.button(T::ExportEvidence.text(lang)).clicked() {
                let export = RecycledRequest::ExportEvidence { case_id: id };
                ctx.send(Purpose::Recycled(RecycledPurpose::Evidence), export);
            }
            if active && ctx.abilities.force_unbind && ui.button(T::StartForceUnbind.text(lang)).clicked() {
                ctx.command(ShellCommand::OpenForceUnbind { case: Box::new(d.row.clone()) });
            }
        });
    }

    /// The maker's decision, on a case they hold.
    fn decision_ui(&mut self, ui: &mut egui::Ui, lang: Lang, id: Uuid, mine: bool, outbox: &mut Outbox) {
        ui.horizontal_wrapped(|ui| {
            labelled_text_edit_ui(ui, T::Note.text(lang), &mut self.draft.note, false);
            if ui.add_enabled(mine, egui::Button::new(T::ConfirmRecycled.text(lang))).clicked() {
                self.decide(outbox, id, Verdict::Confirm);
            }
            reason_combo_ui(ui, lang, &mut self.draft.reason);
            if ui.add_enabled(mine, egui::Button::new(T::NotRecycled.text(lang))).clicked() {
                self.decide(outbox, id, Verdict::NotRecycled);
            }
            if ui.add_enabled(mine, egui::Button::new(T::Escalate.text(lang))).clicked() {
                self.decide(outbox, id, Verdict::Escalate);
            }
        });
    }

    /// The checker's verdict on a proposal.
    fn approval_ui(&mut self, ui: &mut egui::Ui, lang: Lang, id: Uuid, outbox: &mut Outbox) {
        ui.horizontal(|ui| {
            labelled_text_edit_ui(ui, T::Note.text(lang), &mut self.draft.note, false);
            if ui.button(T::Approve.text(lang)).clicked() {
                self.decide(outbox, id, Verdict::Approve);
            }
            if ui.button(T::RejectProposal.text(lang)).clicked() {
                self.decide(outbox, id, Verdict::Reject);
            }
        });
    }

    fn reassign_ui(&mut self, ui: &mut egui::Ui, lang: Lang, id: Uuid, outbox: &mut Outbox) {
        ui.horizontal(|ui| {
            labelled_text_edit_ui(ui, T::ReassignTo.text(lang), &mut self.case.reassign_to, false);
            if ui.button(T::Reassign.text(lang)).clicked() {
                let to = self.case.reassign_to.clone();
                let req = RecycledRequest::ReassignCase { case_id: id, to, reason: self.draft.note.clone() };
                self.act(outbox, CaseAction::Reassign, req);
            }
        });
    }

    /// Lifting the old user's SMS-reset block: asked for, then approved by a checker.
    fn unblock_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, d: &CaseDetail) {
        let (lang, user_id) = (ctx.lang, d.old_user_id);
        ui.horizontal(|ui| match &d.sms_unblock {
            None => {
                let phone = &mut self.case.unblock_phone;
                labelled_text_edit_ui(ui, T::UnblockPhone.text(lang), phone, false);
                if ui.button(T::RequestUnblock.text(lang)).clicked() {
                    let req = RecycledRequest::RequestSmsUnblock { user_id, phone: phone.clone() };
                    self.act(ctx.outbox, CaseAction::RequestUnblock, req);
                }
            }
            Some(pending) => {
                let params: [(&str, &dyn std::fmt::Display); 2] =
                    [("by", &pending.by), ("phone", &pending.phone_masked)];
                ui.label(fill(T::UnblockPending.text(lang), &params));
                if ctx.abilities.approve && ui.button(T::ApproveUnblock.text(lang)).clicked() {
                    let req = RecycledRequest::ApproveSmsUnblock { user_id, request_id: pending.id };
                    self.act(ctx.outbox, CaseAction::ApproveUnblock, req);
                }
            }
        });
    }
}

/// Number, status, old user, source, times, balance, holder, flags.
fn header_ui(ui: &mut egui::Ui, lang: Lang, d: &CaseDetail) {
    let yes_no = |b: bool| if b { T::Yes.text(lang) } else { T::No.text(lang) };
    egui::Grid::new("case_header").num_columns(4).spacing([16.0, 4.0]).show(ui, |ui| {
        ui.label(T::Phone.text(lang));
        ui.strong(&d.row.phone_masked);
        ui.label(T::Status.text(lang));
        ui.strong(status_text(d.row.status).text(lang));
        ui.end_row();
        ui.label(T::OldUser.text(lang));
        ui.label(format!("{} · {}", d.old_name_masked, domain::cases::short_id(d.old_user_id)));
        ui.label(T::FilterSource.text(lang));
        ui.label(source_text(d.row.source).text(lang));
        ui.end_row();
        ui.label(T::BoundAt.text(lang));
        ui.label(fmt_time(d.bound_at));
        ui.label(T::EntryAt.text(lang));
        ui.label(d.entry_at.map_or("—".into(), fmt_time));
        ui.end_row();
        ui.label(T::Balance.text(lang));
        ui.label(format!("¥{}", d.balance));
        ui.label(T::ClaimedBy.text(lang));
        ui.label(d.row.claimed_by.as_deref().unwrap_or("—"));
        ui.end_row();
        ui.label(T::StillBound.text(lang));
        ui.label(yes_no(d.still_bound));
        ui.label(T::SmsResetBlocked.text(lang));
        ui.label(yes_no(d.sms_reset_blocked));
        ui.end_row();
    });
}

/// Manual-only and freeze warnings, the risk line, proposal, decision, evidence hash.
fn facts_ui(ui: &mut egui::Ui, lang: Lang, d: &CaseDetail) {
    let warn = ui.visuals().warn_fg_color;
    if d.row.manual_only {
        ui.colored_label(warn, T::ManualOnly.text(lang));
    }
    if let Some(until) = d.row.freeze_until {
        ui.colored_label(warn, fill(T::InFreeze.text(lang), &[("until", &fmt_time(until))]));
    }
    let days = d.risk.days_since_login.map_or("—".to_owned(), |n| n.to_string());
    ui.label(fill(
        T::RiskLine.text(lang),
        &[
            ("score", &d.row.risk_score),
            ("formula", &T::RiskFormula.text(lang)),
            ("cards", &d.risk.active_cards),
            ("debits", &d.risk.direct_debits),
            ("days", &days),
        ],
    ));
    if let Some(p) = &d.proposal {
        let decision = crate::i18n::case_decision_text(&p.decision, lang);
        ui.label(fill(T::ProposalBy.text(lang), &[("by", &p.by), ("decision", &decision)]));
    }
    if let Some(decided) = &d.decision {
        ui.label(crate::i18n::decided_text(decided, lang));
    }
    if let Some(sha) = &d.evidence_sha256 {
        ui.weak(format!("{} {sha}", T::EvidenceHash.text(lang)));
    }
}

fn timeline_ui(ui: &mut egui::Ui, lang: Lang, d: &CaseDetail) {
    ui.strong(T::Timeline.text(lang));
    egui::ScrollArea::vertical().id_salt("timeline").show(ui, |ui| {
        egui::Grid::new("timeline_rows").striped(true).num_columns(2).show(ui, |ui| {
            for e in &d.timeline {
                ui.label(fmt_time(e.at));
                ui.label(crate::i18n::timeline_text(&e.event, lang));
                ui.end_row();
            }
        });
    });
}
