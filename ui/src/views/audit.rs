//! The audit log: newest rows first, paging, and chain verification.

use crate::backend::Reply;
use crate::contract::{Outbox, Purpose, ViewCtx, WorkArea};
use crate::i18n::{Lang, T, audit_action_text, audit_target_text, fill};
use crate::text::error_text;
use crate::views::fmt_time;
use domain::audit::{AuditCheckpoint, AuditRecord, AuditVerification};
use domain::{ApiError, Request, Response};

const PAGE_ROWS: u32 = 100;

/// What an audit reply is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditPurpose {
    /// A page; `append` adds to the rows shown instead of replacing them.
    Page {
        /// Load-more rather than refresh.
        append: bool,
    },
    /// Chain verification.
    Verify,
    /// A checkpoint of the head.
    Checkpoint,
}

/// Audit view state.
#[derive(Debug, Default)]
pub struct AuditView {
    rows: Vec<AuditRecord>,
    requested: bool,
    verification: Option<AuditVerification>,
    /// Checkpoints the auditor kept elsewhere, one `seq:hash` a line.
    checkpoints_text: String,
    /// The checkpoint just taken, to copy out.
    checkpoint: Option<AuditCheckpoint>,
    /// A pasted line that is not a checkpoint.
    unreadable_checkpoint: Option<String>,
    error: Option<ApiError>,
}

impl WorkArea for AuditView {
    type Purpose = AuditPurpose;

    /// Takes a reply to a page or verify request.
    fn on_reply(&mut self, purpose: AuditPurpose, reply: Reply, _outbox: &mut Outbox) {
        match reply {
            Err(e) => self.error = Some(e),
            Ok(Response::AuditPage(rows)) => {
                self.error = None;
                if purpose != (AuditPurpose::Page { append: true }) {
                    self.rows.clear();
                }
                self.rows.extend(rows);
            }
            Ok(Response::AuditVerified(v)) => self.verification = Some(v),
            Ok(Response::Checkpoint(c)) => self.checkpoint = Some(c),
            Ok(_) => {}
        }
    }

    /// Draws the view; loads the first page on first show.
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let (lang, outbox) = (ctx.lang, &mut *ctx.outbox);
        if !self.requested {
            self.requested = true;
            outbox.send(
                Purpose::Audit(AuditPurpose::Page { append: false }),
                Request::AuditLog { before_seq: None, limit: PAGE_ROWS },
            );
        }
        ui.heading(T::AreaAudit.text(lang));
        ui.horizontal(|ui| {
            if ui.button(T::Refresh.text(lang)).clicked() {
                outbox.send(
                    Purpose::Audit(AuditPurpose::Page { append: false }),
                    Request::AuditLog { before_seq: None, limit: PAGE_ROWS },
                );
            }
            if ui.button(T::VerifyChain.text(lang)).clicked() {
                // Every line the auditor pasted must be a checkpoint: none is dropped silently.
                let lines = self.checkpoints_text.lines().filter(|l| !l.trim().is_empty());
                let parsed: Result<Vec<_>, String> =
                    lines.map(|l| AuditCheckpoint::parse(l).ok_or_else(|| l.trim().to_owned())).collect();
                match parsed {
                    Ok(checkpoints) => {
                        self.unreadable_checkpoint = None;
                        outbox
                            .send(Purpose::Audit(AuditPurpose::Verify), Request::VerifyAudit { checkpoints });
                    }
                    Err(line) => self.unreadable_checkpoint = Some(line),
                }
            }
            if ui.button(T::TakeCheckpoint.text(lang)).clicked() {
                outbox.send(Purpose::Audit(AuditPurpose::Checkpoint), Request::AuditCheckpoint);
            }
        });
        self.checkpoints_ui(ui, lang);
        match &self.verification {
            Some(AuditVerification { rows, first_break: None, checkpoints_checked }) => {
                ui.colored_label(
                    egui::Color32::from_rgb(0, 140, 60),
                    fill(T::ChainOk.text(lang), &[("n", rows)]),
                );
                if *checkpoints_checked > 0 {
                    ui.label(fill(T::CheckpointsChecked.text(lang), &[("n", checkpoints_checked)]));
                }
            }
            Some(AuditVerification { first_break: Some(b), .. }) => {
                let reason = crate::i18n::break_text(&b.reason, lang);
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    fill(T::ChainBroken.text(lang), &[("seq", &b.seq), ("reason", &reason)]),
                );
            }
            None => {}
        }
        if let Some(err) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(lang, err));
        }
        ui.separator();
        self.rows_ui(ui, lang, outbox);
    }
}

impl AuditView {
    /// Checkpoints kept outside the database, and the one just taken.
    fn checkpoints_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        ui.horizontal(|ui| {
            let label = ui.label(T::Checkpoints.text(lang));
            let field =
                egui::TextEdit::multiline(&mut self.checkpoints_text).desired_rows(2).desired_width(520.0);
            ui.add(field).labelled_by(label.id);
        });
        if let Some(line) = &self.unreadable_checkpoint {
            ui.colored_label(
                ui.visuals().error_fg_color,
                fill(T::CheckpointUnreadable.text(lang), &[("line", line)]),
            );
        }
        if let Some(c) = &self.checkpoint {
            ui.label(T::CheckpointTaken.text(lang));
            ui.add(egui::Label::new(egui::RichText::new(c.to_text()).monospace()).selectable(true));
        }
    }

    /// The rows, newest first, and 加载更多.
    fn rows_ui(&self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
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
                    if r.actor == domain::audit::SYSTEM_ACTOR {
                        ui.label(T::ActorSystem.text(lang));
                    } else {
                        ui.label(&r.actor);
                    }
                    // Words for people; the stored codes stay one hover away for auditors.
                    ui.label(audit_action_text(&r.action, lang)).on_hover_text(&r.action);
                    ui.label(audit_target_text(&r.target, lang)).on_hover_text(&r.target);
                    // The detail is the record itself (what the hash covers), shown verbatim.
                    ui.monospace(&r.detail);
                    ui.monospace(&r.hash[..12.min(r.hash.len())]);
                    ui.end_row();
                }
            });
            if let Some(last) = self.rows.last().filter(|r| r.seq > 1)
                && ui.button(T::LoadMore.text(lang)).clicked()
            {
                outbox.send(
                    Purpose::Audit(AuditPurpose::Page { append: true }),
                    Request::AuditLog { before_seq: Some(last.seq), limit: PAGE_ROWS },
                );
            }
        });
    }
}
