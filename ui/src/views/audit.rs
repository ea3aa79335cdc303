//! The audit log: newest rows first, paging, and chain verification.

use crate::app::{Outbox, Purpose};
use crate::i18n::{Lang, T, fill};
use crate::views::fmt_time;
use domain::audit::{AuditRecord, AuditVerification};
use domain::{Request, Response};

const PAGE_ROWS: u32 = 100;

/// Audit view state.
#[derive(Debug, Default)]
pub struct AuditView {
    rows: Vec<AuditRecord>,
    requested: bool,
    verification: Option<AuditVerification>,
    error: Option<String>,
}

impl AuditView {
    /// Takes a reply to a page or verify request.
    pub fn on_reply(&mut self, purpose: Purpose, reply: Result<Response, String>) {
        match reply {
            Err(e) => self.error = Some(e),
            Ok(Response::AuditPage(rows)) => {
                self.error = None;
                if purpose != (Purpose::AuditPage { append: true }) {
                    self.rows.clear();
                }
                self.rows.extend(rows);
            }
            Ok(Response::AuditVerified(v)) => self.verification = Some(v),
            Ok(_) => {}
        }
    }

    /// Draws the view; loads the first page on first show.
    pub fn audit_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
        if !self.requested {
            self.requested = true;
            outbox.send(
                Purpose::AuditPage { append: false },
                Request::AuditLog { before_seq: None, limit: PAGE_ROWS },
            );
        }
        ui.heading(T::AreaAudit.text(lang));
        ui.horizontal(|ui| {
            if ui.button(T::Refresh.text(lang)).clicked() {
                outbox.send(
                    Purpose::AuditPage { append: false },
                    Request::AuditLog { before_seq: None, limit: PAGE_ROWS },
                );
            }
            if ui.button(T::VerifyChain.text(lang)).clicked() {
                outbox.send(Purpose::VerifyAudit, Request::VerifyAudit);
            }
        });
        match &self.verification {
            Some(AuditVerification { rows, first_break: None }) => {
                ui.colored_label(
                    egui::Color32::from_rgb(0, 140, 60),
                    fill(T::ChainOk.text(lang), &[("n", rows)]),
                );
            }
            Some(AuditVerification { first_break: Some(b), .. }) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    fill(T::ChainBroken.text(lang), &[("seq", &b.seq), ("reason", &b.reason)]),
                );
            }
            None => {}
        }
        if let Some(err) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, err);
        }
        ui.separator();
        egui::ScrollArea::both().auto_shrink([false, false]).show(ui, |ui| {
            egui::Grid::new("audit").striped(true).num_columns(7).show(ui, |ui| {
                for h in [
                    T::AuditSeq,
                    T::AuditAt,
                    T::AuditActor,
                    T::AuditAction,
                    T::AuditTarget,
                    T::AuditDetail,
                    T::AuditHash,
                ] {
                    ui.strong(h.text(lang));
                }
                ui.end_row();
                for r in &self.rows {
                    ui.label(r.seq.to_string());
                    ui.label(fmt_time(r.at));
                    ui.label(&r.actor);
                    ui.label(&r.action);
                    ui.label(&r.target);
                    ui.label(&r.detail);
                    ui.monospace(&r.hash[..12.min(r.hash.len())]);
                    ui.end_row();
                }
            });
            if let Some(last) = self.rows.last().filter(|r| r.seq > 1)
                && ui.button(T::LoadMore.text(lang)).clicked()
            {
                outbox.send(
                    Purpose::AuditPage { append: true },
                    Request::AuditLog { before_seq: Some(last.seq), limit: PAGE_ROWS },
                );
            }
        });
    }
}
