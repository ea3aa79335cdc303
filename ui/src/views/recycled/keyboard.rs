//! Shortcuts, when enabled in settings and no text field has focus: in the queue
//! J/K move, Enter opens, C claims; on a case C claims, A confirms (or approves a
//! proposal someone else made), R rejects (or closes as not recycled), Esc goes back.

use super::{CaseAction, RecycledPurpose, RecycledView, Verdict};
use crate::contract::{Outbox, Purpose, ViewCtx};
use domain::RecycledRequest;
use domain::cases::CaseDetail;
use domain::recycle::CaseStatus;

fn pressed(ui: &egui::Ui, key: egui::Key) -> bool {
    ui.input(|i| i.key_pressed(key))
}

impl RecycledView {
    /// Acts on this frame's key presses.
    pub(super) fn shortcuts(&mut self, ui: &egui::Ui, ctx: &mut ViewCtx<'_>) {
        match self.case.detail.clone() {
            Some(d) => self.case_keys(ui, ctx, &d),
            None => self.queue_keys(ui, ctx.outbox),
        }
    }

    fn case_keys(&mut self, ui: &egui::Ui, ctx: &mut ViewCtx<'_>, d: &CaseDetail) {
        let id = d.row.id;
        let pending = d.row.status == CaseStatus::PendingApproval && ctx.abilities.approve;
        if pressed(ui, egui::Key::Escape) {
            self.case.detail = None;
        } else if pressed(ui, egui::Key::C) {
            self.act(ctx.outbox, CaseAction::Claim, RecycledRequest::ClaimCase { case_id: id });
        } else if pressed(ui, egui::Key::A) {
            let someone_else = d.row.proposed_by.as_deref() != Some(ctx.operator.username.as_str());
            let verdict = if pending && someone_else { Verdict::Approve } else { Verdict::Confirm };
            self.decide(ctx.outbox, id, verdict);
        } else if pressed(ui, egui::Key::R) {
            let verdict = if pending { Verdict::Reject } else { Verdict::NotRecycled };
            self.decide(ctx.outbox, id, verdict);
        }
    }

    fn queue_keys(&mut self, ui: &egui::Ui, outbox: &mut Outbox) {
        let rows = self.queue.rows().len();
        if pressed(ui, egui::Key::J) && rows > 0 {
            self.queue.selected = (self.queue.selected + 1).min(rows - 1);
        } else if pressed(ui, egui::Key::K) {
            self.queue.selected = self.queue.selected.saturating_sub(1);
        } else if let Some(row) = self.queue.rows().get(self.queue.selected).map(|r| r.id) {
            if pressed(ui, egui::Key::Enter) {
                self.open(outbox, row);
            } else if pressed(ui, egui::Key::C) {
                let claim = RecycledRequest::ClaimCase { case_id: row };
                outbox.send(Purpose::Recycled(RecycledPurpose::Action(CaseAction::Claim)), claim);
            }
        }
    }
}
