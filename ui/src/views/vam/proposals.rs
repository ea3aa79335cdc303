//! 待复核: operations waiting for a checker (a maker never approves their own; the
//! backend refuses it), each worded with its amount and accounts.

use super::{VamPurpose, VamView, send};
use crate::contract::ViewCtx;
use crate::i18n::{T, fill, vam_operation_text};
use crate::views::fmt_time;
use domain::api::VamRequest;
use domain::vam::VamProposalView;

/// The proposals, once asked for.
#[derive(Debug, Default)]
pub(super) struct ProposalsState {
    list: Option<Vec<VamProposalView>>,
    /// Asked for once (the operator may approve): refreshed after every action.
    pub(super) loaded: bool,
}

impl ProposalsState {
    pub(super) fn set(&mut self, list: Vec<VamProposalView>) {
        self.list = Some(list);
    }
}

impl VamView {
    pub(super) fn proposals_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        ui.horizontal(|ui| {
            ui.strong(T::VamProposalsHeading.text(lang));
            if ui.button(T::VamRefreshProposals.text(lang)).clicked() {
                self.proposals.loaded = true;
                send(ctx.outbox, VamPurpose::Proposals, VamRequest::Proposals);
            }
        });
        let Some(list) = &self.proposals.list else {
            ui.label(T::Loading.text(lang));
            return;
        };
        if list.is_empty() {
            ui.weak(T::VamNoProposals.text(lang));
            return;
        }
        let mut verdict = None;
        egui::Grid::new("vam_proposals").striped(true).num_columns(4).show(ui, |ui| {
            for key in [T::VamColOperation, T::VamColMaker, T::VamColTime, T::Actions] {
                ui.strong(key.text(lang));
            }
            ui.end_row();
            for (i, p) in list.iter().enumerate() {
                ui.label(vam_operation_text(&p.operation, lang));
                ui.label(&p.proposed_by);
                ui.label(fmt_time(p.proposed_at));
                ui.horizontal(|ui| {
                    let n: [(&str, &dyn std::fmt::Display); 1] = [("n", &(i + 1))];
                    if ui.button(fill(T::VamApproveRow.text(lang), &n)).clicked() {
                        verdict = Some((p.id, true));
                    }
                    if ui.button(fill(T::VamRejectRow.text(lang), &n)).clicked() {
                        verdict = Some((p.id, false));
                    }
                });
                ui.end_row();
            }
        });
        if let Some((proposal_id, approve)) = verdict {
            self.clear_status();
            send(ctx.outbox, VamPurpose::Approve { approve }, VamRequest::Approve { proposal_id, approve });
        }
    }
}
