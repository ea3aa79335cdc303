//! 二次号审核: the review queue (filters, saved views, SLA aging, claim), the case
//! view with one timeline per phone, decisions and four-eyes approval, carrier
//! file import with progress, bulk "not recycled" with a dry run.
//!
//! Keyboard (when enabled in settings and no text field has focus): J/K move,
//! Enter open, C claim, A confirm/approve, R reject, Esc back.
//!
//! Parts: [`queue`] (table and paging), [`filters`] (filter rows and saved views),
//! [`case`] (detail, actions, timeline), [`import`] (carrier file), [`bulk`]
//! (bulk "not recycled"), [`keyboard`] (shortcuts), [`text`] (catalogue keys).

mod bulk;
mod case;
mod filters;
mod import;
mod keyboard;
mod queue;
mod text;

pub use text::{reason_text, status_text};

use crate::backend::Reply;
use crate::contract::{Outbox, Purpose, ViewCtx, WorkArea};
use crate::i18n::{Lang, T, fill};
use crate::text::error_text;
use crate::views::labelled_combo_ui;
use domain::cases::{CaseDetail, DecisionOutcome};
use domain::recycle::{NotRecycledReason, TwiceTelAnswer};
use domain::{ApiError, RecycledRequest, Response};
use uuid::Uuid;

/// Rows per queue page.
pub const PAGE_ROWS: u32 = 50;

/// What a recycled-number reply is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecycledPurpose {
    /// Queue page.
    Queue,
    /// Case detail.
    Detail,
    /// An action on a case; refresh afterwards.
    Action(CaseAction),
    /// Claim next.
    ClaimNext,
    /// Import started.
    ImportStarted,
    /// Import progress.
    ImportStatus,
    /// Bulk dry run or run.
    Bulk,
    /// Evidence export.
    Evidence,
    /// Saved views (loaded or saved).
    Views,
}

/// An action on one case, so its reply can say what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAction {
    /// 领取.
    Claim,
    /// 释放.
    Release,
    /// 查询运营商.
    CheckCarrier,
    /// A decision or a checker's verdict.
    Decide(Verdict),
    /// 转交.
    Reassign,
    /// 申请解除短信封禁.
    RequestUnblock,
    /// 批准解除封禁.
    ApproveUnblock,
}

/// A maker's decision or a checker's verdict on a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 确认二次号.
    Confirm,
    /// 非二次号 (with the draft's reason).
    NotRecycled,
    /// 升级主管.
    Escalate,
    /// 复核通过.
    Approve,
    /// 复核驳回.
    Reject,
}

/// What the last action did, kept typed and worded at draw time.
#[derive(Debug, Clone, PartialEq)]
enum Notice {
    Claimed,
    Released,
    /// The carrier's answer to "changed hands since the binding?".
    CarrierAnswered(TwiceTelAnswer),
    Decided(Verdict),
    Reassigned {
        to: String,
    },
    UnblockRequested,
    UnblockApproved,
    SentForApproval,
    NothingToClaim,
    BulkDone {
        n: usize,
    },
    EvidenceWritten {
        path: String,
        sha256: String,
    },
}

impl Notice {
    fn text(&self, lang: Lang) -> String {
        let key = match self {
            Notice::Claimed => T::NoticeClaimed,
            Notice::Released => T::NoticeReleased,
            Notice::CarrierAnswered(answer) => {
                let answer = crate::i18n::twice_tel(*answer).text(lang);
                return fill(T::NoticeCarrierAnswered.text(lang), &[("answer", &answer)]);
            }
            Notice::Decided(v) => verdict_done(*v),
            Notice::Reassigned { to } => return fill(T::NoticeReassigned.text(lang), &[("to", to)]),
            Notice::UnblockRequested => T::NoticeUnblockRequested,
            Notice::UnblockApproved => T::NoticeUnblockApproved,
            Notice::SentForApproval => T::SentForApproval,
            Notice::NothingToClaim => T::NothingToClaim,
            Notice::BulkDone { n } => return fill(T::BulkDone.text(lang), &[("n", n)]),
            Notice::EvidenceWritten { path, sha256 } => {
                return fill(T::EvidenceWritten.text(lang), &[("path", path), ("sha", sha256)]);
            }
        };
        key.text(lang).to_owned()
    }
}

fn verdict_done(v: Verdict) -> T {
    match v {
        Verdict::Confirm => T::NoticeConfirmed,
        Verdict::NotRecycled => T::NoticeNotRecycled,
        Verdict::Escalate => T::NoticeEscalated,
        Verdict::Approve => T::NoticeApproved,
        Verdict::Reject => T::NoticeRejected,
    }
}

/// What the operator is writing: the note and reason used by case decisions and
/// by the bulk action alike.
#[derive(Debug)]
struct Draft {
    note: String,
    reason: NotRecycledReason,
}

impl Default for Draft {
    fn default() -> Self {
        Self { note: String::new(), reason: NotRecycledReason::SameHolder }
    }
}

/// The view's state, one part per concern.
#[derive(Debug, Default)]
pub struct RecycledView {
    filters: filters::Filters,
    queue: queue::QueueState,
    case: case::CaseState,
    draft: Draft,
    import: import::CarrierImport,
    bulk: bulk::BulkState,
    notice: Option<Notice>,
    error: Option<ApiError>,
}

impl RecycledView {
    /// The open case.
    pub fn open_case(&self) -> Option<&CaseDetail> {
        self.case.detail.as_ref()
    }

    fn open(&mut self, outbox: &mut Outbox, case_id: Uuid) {
        outbox.send(Purpose::Recycled(RecycledPurpose::Detail), RecycledRequest::CaseDetail { case_id });
    }

    fn act(&mut self, outbox: &mut Outbox, action: CaseAction, request: RecycledRequest) {
        self.error = None;
        self.notice = None;
        outbox.send(Purpose::Recycled(RecycledPurpose::Action(action)), request);
    }

    /// An action's reply: say what happened, reload the open case and the page.
    fn on_action_done(&mut self, action: CaseAction, reply: &Response, outbox: &mut Outbox) {
        self.notice = match (action, reply) {
            (_, Response::Decided(DecisionOutcome::PendingApproval)) => Some(Notice::SentForApproval),
            (CaseAction::Claim, _) => Some(Notice::Claimed),
            (CaseAction::Release, _) => Some(Notice::Released),
            (CaseAction::CheckCarrier, Response::CarrierChecked(answer)) => {
                Some(Notice::CarrierAnswered(*answer))
            }
            (CaseAction::CheckCarrier, _) => None,
            (CaseAction::Decide(v), _) => Some(Notice::Decided(v)),
            (CaseAction::Reassign, _) => {
                Some(Notice::Reassigned { to: self.case.reassign_to.trim().to_owned() })
            }
            (CaseAction::RequestUnblock, _) => Some(Notice::UnblockRequested),
            (CaseAction::ApproveUnblock, _) => Some(Notice::UnblockApproved),
        };
        if let Some(id) = self.case.detail.as_ref().map(|d| d.row.id) {
            self.open(outbox, id);
        }
        self.request_page(outbox, self.queue.current_cursor);
    }

    fn status_ui(&self, ui: &mut egui::Ui, lang: Lang) {
        if let Some(n) = &self.notice {
            ui.label(n.text(lang));
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(lang, e));
        }
    }
}

impl WorkArea for RecycledView {
    type Purpose = RecycledPurpose;

    fn on_reply(&mut self, purpose: RecycledPurpose, reply: Reply, outbox: &mut Outbox) {
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                if purpose == RecycledPurpose::ImportStarted {
                    self.import.job = None;
                }
                self.error = Some(e);
                return;
            }
        };
        match (purpose, reply) {
            (RecycledPurpose::Queue, Response::Queue(page)) => self.queue.set_page(page),
            (RecycledPurpose::Detail, Response::Case(detail)) => self.case.detail = Some(*detail),
            (RecycledPurpose::Action(action), reply) => self.on_action_done(action, &reply, outbox),
            (RecycledPurpose::ClaimNext, Response::Claimed(Some(id))) => {
                self.open(outbox, id);
                self.request_page(outbox, self.queue.current_cursor);
            }
            (RecycledPurpose::ClaimNext, Response::Claimed(None)) => {
                self.notice = Some(Notice::NothingToClaim)
            }
            (RecycledPurpose::ImportStarted | RecycledPurpose::ImportStatus, reply) => {
                self.on_import_reply(reply, outbox)
            }
            (RecycledPurpose::Bulk, Response::Bulk(summary)) => self.on_bulk_reply(summary, outbox),
            (RecycledPurpose::Views, Response::QueueViews(saved)) => self.filters.set_saved_views(saved),
            (RecycledPurpose::Evidence, Response::Evidence { sha256, html_path, .. }) => {
                self.notice = Some(Notice::EvidenceWritten { path: html_path, sha256 });
            }
            _ => {}
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        if !self.queue.loaded_once {
            self.queue.loaded_once = true;
            self.refresh(ctx.outbox);
            ctx.send(Purpose::Recycled(RecycledPurpose::Views), RecycledRequest::QueueViews);
        }
        self.poll_import(ui, ctx.outbox);
        if ctx.abilities.keyboard && ui.ctx().memory(|m| m.focused().is_none()) {
            self.shortcuts(ui, ctx);
        }
        ui.heading(ctx.t(T::AreaRecycled));
        self.status_ui(ui, ctx.lang);
        if self.case.detail.is_some() {
            self.case_ui(ui, ctx);
        } else {
            self.queue_ui(ui, ctx);
        }
    }
}

/// A reason picker: the label 原因, then the box.
fn reason_combo_ui(ui: &mut egui::Ui, lang: Lang, reason: &mut NotRecycledReason) {
    labelled_combo_ui(ui, T::Reason.text(lang), "reason", reason_text(*reason).text(lang), |ui| {
        for r in NotRecycledReason::ALL {
            ui.selectable_value(reason, r, reason_text(r).text(lang));
        }
    });
}
