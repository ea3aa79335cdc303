//! The physical accounts: the list with the state of each one's invariant, the red
//! banner when a proof broke, the actions on the selected account (poll the bank,
//! prove, interest, manual credit) and the itemised proof.

use super::{VamPurpose, VamView, send, yuan};
use crate::contract::{Outbox, ViewCtx};
use crate::i18n::{Lang, T, bank_text, fill};
use crate::views::fmt_time;
use domain::api::VamRequest;
use domain::vam::{PhysicalAccountView, ProofView};
use uuid::Uuid;

/// The list, the selected account, its last proof shown.
#[derive(Debug, Default)]
pub(super) struct PhysicalState {
    list: Option<Vec<PhysicalAccountView>>,
    pub(super) selected: Option<Uuid>,
    pub(super) proof: Option<ProofView>,
}

impl VamView {
    /// A fresh list: keep the selection if it is still there, else take the first.
    pub(super) fn set_physical(&mut self, list: Vec<PhysicalAccountView>, outbox: &mut Outbox) {
        let keep = self.physical.selected.filter(|id| list.iter().any(|p| p.id == *id));
        let first = list.first().map(|p| p.id);
        self.physical.list = Some(list);
        match (keep, first) {
            (Some(_), _) | (None, None) => {}
            (None, Some(id)) => self.select_physical(id, outbox),
        }
    }

    /// Selects a physical account: its tree from the top, nothing else carried over.
    fn select_physical(&mut self, id: Uuid, outbox: &mut Outbox) {
        self.physical.selected = Some(id);
        self.physical.proof = None;
        self.forms.close();
        self.sub = Default::default();
        self.entries = Default::default();
        self.tree.reset(id);
        self.reload_tree(outbox);
    }

    /// The red banner: some physical account's last proof did not hold.
    pub(super) fn banner_ui(&self, ui: &mut egui::Ui, lang: Lang) {
        let Some(list) = &self.physical.list else { return };
        let broken: Vec<&str> = list
            .iter()
            .filter(|p| p.last_proof.as_ref().is_some_and(|proof| !proof.holds))
            .map(|p| p.number_masked.as_str())
            .collect();
        if broken.is_empty() {
            return;
        }
        let text = fill(T::VamBanner.text(lang), &[("numbers", &broken.join(", "))]);
        egui::Frame::new().fill(egui::Color32::from_rgb(180, 30, 30)).inner_margin(8.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.colored_label(egui::Color32::WHITE, egui::RichText::new(text).strong());
        });
    }

    pub(super) fn physical_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        ui.horizontal(|ui| {
            ui.strong(T::VamPhysicalHeading.text(lang));
            if ui.button(T::Refresh.text(lang)).clicked() {
                self.clear_status();
                send(ctx.outbox, VamPurpose::Physical, VamRequest::PhysicalAccounts);
            }
        });
        let Some(list) = self.physical.list.clone() else {
            ui.label(T::Loading.text(lang));
            return;
        };
        if list.is_empty() {
            ui.label(T::VamNoPhysical.text(lang));
            return;
        }
        if let Some(id) = self.physical_table_ui(ui, lang, &list) {
            self.clear_status();
            self.select_physical(id, ctx.outbox);
        }
        let Some(selected) = self.physical.selected else {
            ui.weak(T::VamPickPhysical.text(lang));
            return;
        };
        self.physical_actions_ui(ui, ctx, selected);
        if let Some(proof) = self.physical.proof.as_ref().filter(|p| p.physical_id == selected) {
            proof_ui(ui, lang, proof);
        }
        self.physical_forms_ui(ui, ctx, selected);
    }

    /// The table; the account whose number was clicked.
    fn physical_table_ui(&self, ui: &mut egui::Ui, lang: Lang, list: &[PhysicalAccountView]) -> Option<Uuid> {
        let mut clicked = None;
        egui::Grid::new("vam_physical").striped(true).num_columns(10).show(ui, |ui| {
            for key in [
                T::Bank,
                T::VamColNumber,
                T::VamColPurpose,
                T::VamColSupervised,
                T::VamColLedger,
                T::VamColVirtualTotal,
                T::VamColSuspense,
                T::VamColInternal,
                T::VamColCount,
                T::VamColInvariant,
            ] {
                ui.strong(key.text(lang));
            }
            ui.end_row();
            for p in list {
                ui.label(bank_text(p.bank).text(lang));
                if ui.selectable_label(self.physical.selected == Some(p.id), &p.number_masked).clicked() {
                    clicked = Some(p.id);
                }
                ui.label(&p.purpose);
                ui.label(if p.supervised { T::Yes.text(lang) } else { T::No.text(lang) });
                ui.label(yuan(p.ledger_balance));
                ui.label(yuan(p.virtual_total));
                ui.label(yuan(p.suspense_balance));
                ui.label(yuan(p.internal_balance));
                ui.label(p.virtual_count.to_string());
                match &p.last_proof {
                    None => {
                        ui.weak(T::VamProofNever.text(lang));
                    }
                    Some(proof) if proof.holds => {
                        ui.label(fill(T::VamProofHolds.text(lang), &[("at", &fmt_time(proof.at))]));
                    }
                    Some(proof) => {
                        let text = fill(T::VamProofBroken.text(lang), &[("at", &fmt_time(proof.at))]);
                        ui.colored_label(ui.visuals().error_fg_color, text);
                    }
                }
                ui.end_row();
            }
        });
        clicked
    }

    /// 拉取银行入账, 核对, 利息分配, 手工入账 on the selected account.
    fn physical_actions_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, physical_id: Uuid) {
        let (lang, operate) = (ctx.lang, ctx.abilities.vam_operate);
        ui.horizontal_wrapped(|ui| {
            if operate && ui.button(T::VamPoll.text(lang)).clicked() {
                self.clear_status();
                send(ctx.outbox, VamPurpose::Poll, VamRequest::PollCredits { physical_id });
            }
            if ui.button(T::VamProve.text(lang)).clicked() {
                self.clear_status();
                send(ctx.outbox, VamPurpose::Proof, VamRequest::Proof { physical_id });
            }
            if operate {
                self.forms.buttons_ui(ui, lang);
            }
        });
    }
}

/// The proof, itemised: what the bank says, what the ledger says, and every break.
fn proof_ui(ui: &mut egui::Ui, lang: Lang, p: &ProofView) {
    let at = fmt_time(p.at);
    if p.holds {
        ui.label(fill(T::VamProofHoldsLine.text(lang), &[("at", &at)]));
    } else {
        ui.colored_label(ui.visuals().error_fg_color, fill(T::VamProofBrokenLine.text(lang), &[("at", &at)]));
    }
    let no_answer = || T::VamBankNoAnswer.text(lang).to_owned();
    let rows: [(T, String); 12] = [
        (T::VamBankBalance, p.bank_balance.map_or_else(no_answer, yuan)),
        (T::VamColLedger, yuan(p.ledger_balance)),
        (T::VamColVirtualTotal, yuan(p.virtual_total)),
        (T::VamColSuspense, yuan(p.suspense_balance)),
        (T::VamColInternal, yuan(p.internal_balance)),
        (T::VamInvariantDiff, yuan(p.invariant_difference)),
        (T::VamBankDiff, p.bank_difference.map_or_else(no_answer, yuan)),
        (T::VamInTransit, yuan(p.credits_in_transit)),
        (T::VamUnexplained, p.unexplained.map_or_else(no_answer, yuan)),
        (T::VamUnallocatedInterest, yuan(p.unallocated_interest)),
        (T::VamReplayBreaks, p.replay_breaks.to_string()),
        (T::VamRollupBreaks, p.rollup_breaks.to_string()),
    ];
    egui::Grid::new("vam_proof").num_columns(2).spacing([16.0, 2.0]).show(ui, |ui| {
        for (key, value) in rows {
            ui.label(key.text(lang));
            ui.strong(value);
            ui.end_row();
        }
    });
}
