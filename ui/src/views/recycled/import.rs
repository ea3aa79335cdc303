//! Carrier file import: the path (typed or picked), progress, and the outcome.

use super::{RecycledPurpose, RecycledView};
use crate::contract::{Outbox, PickTarget, Purpose, ShellCommand};
use crate::i18n::{Lang, T, fill};
use crate::views::labelled_text_edit_ui;
use domain::cases::{ImportReport, ImportState};
use domain::{RecycledRequest, Response};
use uuid::Uuid;

/// The file to import and the job in progress.
#[derive(Debug, Default)]
pub(super) struct CarrierImport {
    path: String,
    pub(super) job: Option<Uuid>,
    state: Option<ImportState>,
}

impl RecycledView {
    /// A file picked in the native dialog (Tauri) lands in the path field.
    pub fn set_import_path(&mut self, path: String) {
        self.import.path = path;
    }

    /// An import in progress is polled every frame until it ends.
    pub(super) fn poll_import(&mut self, ui: &egui::Ui, outbox: &mut Outbox) {
        if let Some(job_id) = self.import.job {
            outbox.send(
                Purpose::Recycled(RecycledPurpose::ImportStatus),
                RecycledRequest::ImportStatus { job_id },
            );
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(200));
        }
    }

    pub(super) fn on_import_reply(&mut self, reply: Response, outbox: &mut Outbox) {
        match reply {
            Response::ImportStarted { job_id } => {
                self.import.job = Some(job_id);
                let status = RecycledRequest::ImportStatus { job_id };
                outbox.send(Purpose::Recycled(RecycledPurpose::ImportStatus), status);
            }
            Response::Import(state) => {
                let finished = matches!(
                    state,
                    ImportState::Done(_) | ImportState::Rejected { .. } | ImportState::Failed { .. }
                );
                if finished {
                    self.import.job = None;
                    if matches!(state, ImportState::Done(_)) {
                        self.refresh(outbox);
                    }
                }
                self.import.state = Some(state);
            }
            _ => {}
        }
    }

    pub(super) fn import_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
        let import = &mut self.import;
        ui.collapsing(T::ImportCarrierFile.text(lang), |ui| {
            ui.weak(T::ImportHint.text(lang));
            ui.horizontal(|ui| {
                labelled_text_edit_ui(ui, T::FilePath.text(lang), &mut import.path, false);
                if ui.button(T::PickFile.text(lang)).clicked() {
                    outbox.command(ShellCommand::PickFile(PickTarget::CarrierFile));
                }
                let ready = !import.path.trim().is_empty() && import.job.is_none();
                if ui.add_enabled(ready, egui::Button::new(T::Import.text(lang))).clicked() {
                    import.state = None;
                    let path = import.path.trim().to_owned();
                    outbox.send(
                        Purpose::Recycled(RecycledPurpose::ImportStarted),
                        RecycledRequest::ImportCarrierFile { path },
                    );
                }
            });
            if let Some(state) = &import.state {
                progress_ui(ui, lang, state);
            }
        });
    }
}

fn progress_ui(ui: &mut egui::Ui, lang: Lang, state: &ImportState) {
    match state {
        ImportState::Reading { bytes_read, total_bytes, lines } => {
            let fraction = if *total_bytes == 0 { 0.0 } else { *bytes_read as f32 / *total_bytes as f32 };
            ui.add(egui::ProgressBar::new(fraction * 0.5).show_percentage());
            ui.label(fill(T::ImportReading.text(lang), &[("n", lines)]));
        }
        ImportState::Writing { lines } => {
            ui.add(egui::ProgressBar::new(0.75).show_percentage());
            ui.label(fill(T::ImportWriting.text(lang), &[("n", lines)]));
        }
        ImportState::Done(r) => {
            ui.add(egui::ProgressBar::new(1.0).show_percentage());
            ui.label(done_text(lang, r));
        }
        ImportState::Rejected { errors, error_count } => {
            let text = fill(T::ImportRejected.text(lang), &[("n", error_count)]);
            ui.colored_label(ui.visuals().error_fg_color, text);
            egui::ScrollArea::vertical().id_salt("import_errors").max_height(120.0).show(ui, |ui| {
                for e in errors {
                    ui.label(crate::i18n::line_error_text(e, lang));
                }
            });
        }
        ImportState::Failed { error } => {
            let text = fill(T::ImportFailed.text(lang), &[("error", &crate::i18n::error_text(lang, error))]);
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
    }
}

fn done_text(lang: Lang, r: &ImportReport) -> String {
    if r.already_imported {
        return fill(T::ImportAlready.text(lang), &[("file", &r.file)]);
    }
    fill(
        T::ImportDone.text(lang),
        &[
            ("file", &r.file),
            ("encoding", &r.encoding),
            ("lines", &r.lines),
            ("matched", &r.matched),
            ("opened", &r.cases_opened),
            ("updated", &r.cases_updated),
        ],
    )
}
