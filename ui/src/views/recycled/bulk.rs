//! Bulk "not recycled": the rows ticked in the queue, a dry run, then the run.

use super::{Notice, RecycledPurpose, RecycledView, reason_combo_ui, reason_text};
use crate::contract::{Outbox, Purpose};
use crate::i18n::{Lang, T, fill};
use crate::views::labelled_text_edit_ui;
use domain::RecycledRequest;
use domain::cases::BulkSummary;
use uuid::Uuid;

/// The ticked cases and the last dry run's summary.
#[derive(Debug, Default)]
pub(super) struct BulkState {
    checked: Vec<Uuid>,
    dry_run: Option<BulkSummary>,
}

impl BulkState {
    pub(super) fn is_checked(&self, id: Uuid) -> bool {
        self.checked.contains(&id)
    }

    pub(super) fn set_checked(&mut self, id: Uuid, on: bool) {
        if on {
            self.checked.push(id);
        } else {
            self.checked.retain(|c| *c != id);
        }
    }
}

impl RecycledView {
    fn send_bulk(&mut self, outbox: &mut Outbox, dry_run: bool) {
        let req = RecycledRequest::BulkNotRecycled {
            case_ids: self.bulk.checked.clone(),
            reason: self.draft.reason,
            note: self.draft.note.clone(),
            dry_run,
        };
        outbox.send(Purpose::Recycled(RecycledPurpose::Bulk), req);
    }

    /// The bulk button (a dry run first), the reason and the note.
    pub(super) fn bulk_bar_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
        let enabled = !self.bulk.checked.is_empty();
        let label = fill(T::BulkNotRecycled.text(lang), &[("n", &self.bulk.checked.len())]);
        if ui.add_enabled(enabled, egui::Button::new(label)).clicked() {
            self.send_bulk(outbox, true);
        }
        reason_combo_ui(ui, lang, &mut self.draft.reason);
        labelled_text_edit_ui(ui, T::Note.text(lang), &mut self.draft.note, false);
    }

    /// The dry run's result, to run or cancel.
    pub(super) fn dry_run_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
        let Some(summary) = self.bulk.dry_run.clone() else { return };
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(fill(
                T::BulkDryRun.text(lang),
                &[
                    ("n", &summary.eligible),
                    ("skipped", &summary.skipped.len()),
                    ("reason", &reason_text(self.draft.reason).text(lang)),
                ],
            ));
            for skip in summary.skipped.iter().take(10) {
                ui.weak(crate::i18n::skip_text(skip, lang));
            }
            ui.horizontal(|ui| {
                if ui.button(T::BulkConfirm.text(lang)).clicked() {
                    self.send_bulk(outbox, false);
                }
                if ui.button(T::Cancel.text(lang)).clicked() {
                    self.bulk.dry_run = None;
                }
            });
        });
    }

    pub(super) fn on_bulk_reply(&mut self, summary: BulkSummary, outbox: &mut Outbox) {
        if summary.dry_run {
            self.bulk.dry_run = Some(summary);
        } else {
            self.bulk = BulkState::default();
            self.notice = Some(Notice::BulkDone { n: summary.eligible });
            self.refresh(outbox);
        }
    }
}
