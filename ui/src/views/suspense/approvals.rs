//! 挂账审批: resolutions waiting for approvals (a loss needs a finance reviewer and
//! a supervisor, a direct write-off a supervisor; never the maker — the backend
//! decides), with who approved so far.

use super::item::approvals_text;
use super::{SuspensePurpose, SuspenseView, send, signed};
use crate::contract::{Outbox, ViewCtx};
use crate::i18n::{T, fill, suspense_action_text, suspense_kind};
use crate::views::fmt_time;
use domain::api::ReconRequest;
use domain::suspense::SuspenseProposalView;

/// The proposals, once asked for.
#[derive(Debug, Default)]
pub(super) struct ApprovalsState {
    list: Option<Vec<SuspenseProposalView>>,
    /// Asked for once: refreshed after every action.
    pub(super) loaded: bool,
}

impl ApprovalsState {
    pub(super) fn set(&mut self, list: Vec<SuspenseProposalView>) {
        self.list = Some(list);
    }
}

impl SuspenseView {
    pub(super) fn load_proposals(&mut self, outbox: &mut Outbox) {
        self.approvals.loaded = true;
        send(outbox, SuspensePurpose::Proposals, ReconRequest::Proposals);
    }

    pub(super) fn approvals_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        if ui.button(T::Refresh.text(lang)).clicked() {
            self.clear_status();
            self.load_proposals(ctx.outbox);
        }
        let Some(list) = &self.approvals.list else {
            ui.label(T::Loading.text(lang));
            return;
        };
        if list.is_empty() {
            ui.weak(T::SusNoProposals.text(lang));
            return;
        }
        let mut verdict = None;
        egui::Grid::new("sus_proposals").striped(true).num_columns(8).show(ui, |ui| {
            super::no_wrap(ui);
            for key in [
                T::SusColKind,
                T::SusColAmount,
                T::SusColAction,
                T::SusColMaker,
                T::SusColProposedAt,
                T::SusColFinance,
                T::SusColSupervisor,
                T::Actions,
            ] {
                ui.strong(key.text(lang));
            }
            ui.end_row();
            for (i, p) in list.iter().enumerate() {
                ui.label(suspense_kind(p.item_kind).text(lang));
                ui.label(signed(p.amount));
                ui.label(suspense_action_text(&p.action, lang));
                ui.label(&p.maker);
                ui.label(fmt_time(p.proposed_at));
                let (finance, supervisor) = approvals_text(lang, p);
                ui.label(finance);
                ui.label(supervisor);
                ui.horizontal(|ui| {
                    let n: [(&str, &dyn std::fmt::Display); 1] = [("n", &(i + 1))];
                    if ui.button(fill(T::SusApproveRow.text(lang), &n)).clicked() {
                        verdict = Some((p.id, true));
                    }
                    if ui.button(fill(T::SusRejectRow.text(lang), &n)).clicked() {
                        verdict = Some((p.id, false));
                    }
                });
                ui.end_row();
            }
        });
        if let Some((proposal_id, approve)) = verdict {
            self.clear_status();
            send(
                ctx.outbox,
                SuspensePurpose::Decide { approve },
                ReconRequest::Decide { proposal_id, approve },
            );
        }
    }
}
