//! 挂账处理 (suspense): the queue of items reconciliation could not match (filters,
//! keyset paging, claim next, keyboard), one item with its statement lines, our
//! side, ranked candidates with their scores explained and the business actions
//! that apply to its kind, history, postings and a pending proposal; the
//! approvals a loss or a write-off needs; statement import and a day's
//! reconciliation with its matches; the daily report with aging, proofs and a
//! closed day's snapshot.
//!
//! Parts: [`queue`] (filters, table, paging), [`keyboard`] (shortcuts), [`item`]
//! (one item, candidates), [`actions`] (the business actions' forms),
//! [`approvals`] (proposals), [`import`] (statements, reconciliation, matches),
//! [`report`] (report, aging chart, proofs, snapshot, export). Replies stay
//! typed here and are worded while drawing.

mod actions;
mod approvals;
mod import;
mod item;
mod keyboard;
mod queue;
mod report;

use crate::backend::Reply;
use crate::contract::{Outbox, Purpose, ViewCtx, WorkArea};
use crate::i18n::{Lang, T, fill, suspense_outcome_text};
use crate::text::error_text;
use chrono::NaiveDate;
use domain::api::ReconRequest;
use domain::suspense::{ActionKind, SuspenseAction, SuspenseOutcome};
use domain::{ApiError, Conflict, Request, Response};
use rust_decimal::Decimal;
use uuid::Uuid;

/// Rows per queue page.
pub const PAGE_ROWS: u32 = 50;

/// What a suspense reply is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuspensePurpose {
    /// A queue page (`more`: appended to what is shown).
    Queue {
        /// The next page.
        more: bool,
    },
    /// One item.
    Item(Uuid),
    /// A claim on an item (opened from the queue).
    Claim(Uuid),
    /// Claim the next free item.
    ClaimNext,
    /// A claim given back.
    Release(Uuid),
    /// A business action, with the request id it was sent under.
    Resolve {
        /// The action.
        action: ActionKind,
        /// The desktop's id of the request.
        request_id: Uuid,
    },
    /// Proposals waiting for approvals.
    Proposals,
    /// An approver's verdict.
    Decide {
        /// Approved (`false`: rejected).
        approve: bool,
    },
    /// A statement import (or its dry run).
    Import {
        /// Check only.
        dry_run: bool,
    },
    /// A day's reconciliation (or its dry run).
    Reconcile {
        /// Change nothing.
        dry_run: bool,
    },
    /// The matches of a day.
    Matches,
    /// A suggested match confirmed.
    ConfirmMatch,
    /// A confirmed match reversed.
    Unmatch,
    /// The daily report.
    Report,
    /// The report written to a file.
    Export,
}

/// The screens of the area (the item view opens over the queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Screen {
    #[default]
    Queue,
    Approvals,
    Import,
    Report,
}

impl Screen {
    fn title(self) -> T {
        match self {
            Screen::Queue => T::SusTabQueue,
            Screen::Approvals => T::SusTabApprovals,
            Screen::Import => T::SusTabImport,
            Screen::Report => T::SusTabReport,
        }
    }

    fn visible(self, ctx: &ViewCtx<'_>) -> bool {
        let a = ctx.abilities;
        match self {
            Screen::Queue | Screen::Report => true,
            Screen::Approvals => a.suspense_approve,
            Screen::Import => a.statement_import || a.reconcile_run,
        }
    }
}

/// What the last action did, kept typed and worded at draw time.
#[derive(Debug, Clone, PartialEq)]
enum Notice {
    Outcome(SuspenseOutcome),
    Claimed,
    Released,
    NothingToClaim,
    MatchConfirmed,
    Unmatched,
    Exported { path: String, rows: u64 },
}

impl Notice {
    fn text(&self, lang: Lang) -> String {
        let t = |k: T| k.text(lang).to_owned();
        match self {
            Notice::Outcome(outcome) => suspense_outcome_text(outcome, lang),
            Notice::Claimed => t(T::SusClaimed),
            Notice::Released => t(T::SusReleased),
            Notice::NothingToClaim => t(T::SusNothingToClaim),
            Notice::MatchConfirmed => t(T::SusMatchConfirmedNotice),
            Notice::Unmatched => t(T::SusUnmatchedNotice),
            Notice::Exported { path, rows } => fill(&t(T::SusExported), &[("rows", rows), ("path", path)]),
        }
    }
}

/// Something typed that cannot be sent as it is; names the field by its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Required(T),
    Date(T),
    Id(T),
    /// A candidate whose amount differs, without "book the difference as a fee".
    NeedFee(usize),
}

impl Problem {
    fn text(self, lang: Lang) -> String {
        let (key, field) = match self {
            Problem::Required(f) => (T::SusRequired, f),
            Problem::Date(f) => (T::SusBadDate, f),
            Problem::Id(f) => (T::SusBadId, f),
            Problem::NeedFee(n) => return fill(T::SusNeedFee.text(lang), &[("n", &n)]),
        };
        fill(key.text(lang), &[("field", &field.text(lang))])
    }
}

/// Actions remembered while unanswered.
const UNANSWERED: usize = 16;

/// The view's state, one part per concern.
#[derive(Debug, Default)]
pub struct SuspenseView {
    loaded: bool,
    screen: Screen,
    queue: queue::QueueState,
    item: item::ItemState,
    approvals: approvals::ApprovalsState,
    import: import::ImportState,
    report: report::ReportState,
    notice: Option<Notice>,
    problem: Option<Problem>,
    error: Option<ApiError>,
    /// Actions sent and not yet answered (or answered with an error), with their
    /// request ids: sending one again (a second click, a retry) reuses its id, so
    /// it runs once. The oldest go first beyond [`UNANSWERED`].
    sent: Vec<(Uuid, SuspenseAction, Uuid)>,
}

/// Queues a request of this area.
fn send(outbox: &mut Outbox, purpose: SuspensePurpose, request: ReconRequest) {
    outbox.send(Purpose::Suspense(purpose), Request::Recon(request));
}

impl SuspenseView {
    /// A file picked in the desktop's dialog lands in the statement path field.
    pub fn set_statement_path(&mut self, path: String) {
        self.import.set_path(path);
    }

    fn clear_status(&mut self) {
        self.notice = None;
        self.problem = None;
        self.error = None;
    }

    /// A typed value that cannot be sent: say so, send nothing.
    fn refuse(&mut self, problem: Problem) {
        self.clear_status();
        self.problem = Some(problem);
    }

    /// Sends a business action on `item`; a resend of the same action reuses its
    /// request id.
    fn resolve(&mut self, outbox: &mut Outbox, item: Uuid, action: SuspenseAction) {
        self.clear_status();
        let request_id = match self.sent.iter().find(|(i, a, _)| *i == item && *a == action) {
            Some((_, _, id)) => *id,
            None => {
                let id = Uuid::now_v7();
                if self.sent.len() >= UNANSWERED {
                    self.sent.remove(0);
                }
                self.sent.push((item, action.clone(), id));
                id
            }
        };
        let purpose = SuspensePurpose::Resolve { action: action.kind(), request_id };
        send(outbox, purpose, ReconRequest::Resolve { id: item, action, request_id });
    }

    /// The open item, the queue and the proposals again, after something changed.
    fn refresh_all(&mut self, outbox: &mut Outbox) {
        if let Some(id) = self.item.open {
            send(outbox, SuspensePurpose::Item(id), ReconRequest::Item { id });
        }
        self.refresh_queue(outbox);
        if self.approvals.loaded {
            send(outbox, SuspensePurpose::Proposals, ReconRequest::Proposals);
        }
    }

    fn on_resolved(&mut self, request_id: Uuid, outcome: SuspenseOutcome, outbox: &mut Outbox) {
        // Answered: the same action typed again is a new one.
        self.sent.retain(|(_, _, id)| *id != request_id);
        self.item.clear_forms();
        self.notice = Some(Notice::Outcome(outcome));
        self.refresh_all(outbox);
    }

    fn on_error(&mut self, purpose: SuspensePurpose, error: ApiError) {
        self.notice = None;
        if let (
            SuspensePurpose::Import { .. },
            ApiError::Conflict { conflict: Conflict::StatementDoesNotAddUp { .. } },
        ) = (purpose, &error)
        {
            self.import.offer_acknowledge();
        }
        self.error = Some(error);
    }

    fn status_ui(&self, ui: &mut egui::Ui, lang: Lang) {
        if let Some(n) = &self.notice {
            ui.label(n.text(lang));
        }
        if let Some(p) = self.problem {
            ui.colored_label(ui.visuals().error_fg_color, p.text(lang));
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(lang, e));
        }
    }

    /// The tabs the role may use.
    fn tabs_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let mut chosen = None;
        ui.horizontal(|ui| {
            for screen in [Screen::Queue, Screen::Approvals, Screen::Import, Screen::Report] {
                if screen.visible(ctx)
                    && ui.selectable_label(self.screen == screen, screen.title().text(ctx.lang)).clicked()
                {
                    chosen = Some(screen);
                }
            }
        });
        if let Some(screen) = chosen {
            self.clear_status();
            self.screen = screen;
            match screen {
                Screen::Queue => self.refresh_queue(ctx.outbox),
                Screen::Approvals => self.load_proposals(ctx.outbox),
                Screen::Report => self.report.load_once(ctx.outbox),
                Screen::Import => {}
            }
        }
        if !self.screen.visible(ctx) {
            self.screen = Screen::Queue;
        }
    }
}

impl WorkArea for SuspenseView {
    type Purpose = SuspensePurpose;

    fn on_reply(&mut self, purpose: SuspensePurpose, reply: Reply, outbox: &mut Outbox) {
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                if let SuspensePurpose::Claim(id) = purpose {
                    // Someone else holds it: show it anyway, read-only.
                    send(outbox, SuspensePurpose::Item(id), ReconRequest::Item { id });
                }
                self.on_error(purpose, e);
                return;
            }
        };
        match (purpose, reply) {
            (SuspensePurpose::Queue { more }, Response::SuspenseQueue(page)) => {
                self.queue.set_page(more, page)
            }
            (SuspensePurpose::Item(id), Response::SuspenseItem(view)) if self.item.open == Some(id) => {
                self.item.set(*view)
            }
            // An item closed or replaced since it was asked for.
            (SuspensePurpose::Item(_), Response::SuspenseItem(_)) => {}
            (SuspensePurpose::Claim(id), _) => {
                self.notice = Some(Notice::Claimed);
                send(outbox, SuspensePurpose::Item(id), ReconRequest::Item { id });
                self.refresh_queue(outbox);
            }
            (SuspensePurpose::ClaimNext, Response::SuspenseClaimed(Some(id))) => {
                self.notice = Some(Notice::Claimed);
                self.show_item(outbox, id);
                self.refresh_queue(outbox);
            }
            (SuspensePurpose::ClaimNext, Response::SuspenseClaimed(None)) => {
                self.notice = Some(Notice::NothingToClaim)
            }
            (SuspensePurpose::Release(_), _) => {
                self.notice = Some(Notice::Released);
                self.refresh_all(outbox);
            }
            (SuspensePurpose::Resolve { request_id, .. }, Response::SuspenseOutcome(outcome)) => {
                self.on_resolved(request_id, outcome, outbox)
            }
            (SuspensePurpose::Proposals, Response::SuspenseProposals(list)) => self.approvals.set(list),
            (SuspensePurpose::Decide { .. }, Response::SuspenseOutcome(outcome)) => {
                self.notice = Some(Notice::Outcome(outcome));
                self.refresh_all(outbox);
            }
            (SuspensePurpose::Import { .. }, Response::StatementImported(report)) => {
                self.import.set_report(report)
            }
            (SuspensePurpose::Reconcile { dry_run }, Response::Reconciled(run)) => {
                let day = run.day;
                self.import.set_run(run);
                if !dry_run {
                    self.load_matches(outbox, day);
                    self.refresh_queue(outbox);
                }
            }
            (SuspensePurpose::Matches, Response::Matches(list)) => self.import.set_matches(list),
            (SuspensePurpose::ConfirmMatch | SuspensePurpose::Unmatch, _) => {
                self.notice = Some(if purpose == SuspensePurpose::Unmatch {
                    Notice::Unmatched
                } else {
                    Notice::MatchConfirmed
                });
                self.import.unmatch_reason.clear();
                if let Some(day) = self.import.matches_day {
                    self.load_matches(outbox, day);
                }
                self.refresh_queue(outbox);
            }
            (SuspensePurpose::Report, Response::ReconDayReport(report)) => self.report.set(*report),
            (SuspensePurpose::Report, Response::ReconReport(report)) => self.report.set_figures(report),
            (SuspensePurpose::Export, Response::Exported { path, rows }) => {
                self.notice = Some(Notice::Exported { path, rows })
            }
            (purpose, other) => crate::app::unexpected_reply(purpose, &other),
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        if !self.loaded {
            self.loaded = true;
            self.refresh_queue(ctx.outbox);
        }
        if ctx.abilities.keyboard
            && self.screen == Screen::Queue
            && ui.ctx().memory(|m| m.focused().is_none())
        {
            self.shortcuts(ui, ctx);
        }
        ui.heading(ctx.t(T::AreaSuspense));
        self.tabs_ui(ui, ctx);
        self.status_ui(ui, ctx.lang);
        ui.separator();
        egui::ScrollArea::both().id_salt("suspense").auto_shrink([false, false]).show(ui, |ui| {
            match self.screen {
                Screen::Queue if self.item.open.is_some() => self.item_ui(ui, ctx),
                Screen::Queue => self.queue_ui(ui, ctx),
                Screen::Approvals => self.approvals_ui(ui, ctx),
                Screen::Import => self.import_ui(ui, ctx),
                Screen::Report => self.report_ui(ui, ctx),
            }
        });
    }
}

/// Cells of a table keep their text on one line (a wrapped name would be read as
/// pieces; the area scrolls sideways instead).
fn no_wrap(ui: &mut egui::Ui) {
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
}

/// A signed amount, the sign always shown: `+¥1,234.56`, `-¥888.00`.
fn signed(amount: Decimal) -> String {
    let text = domain::money::Cny(amount).to_string();
    if amount > Decimal::ZERO { format!("+{text}") } else { text }
}

/// `¥1,234.56`.
fn yuan(amount: Decimal) -> String {
    domain::money::Cny(amount).to_string()
}

/// A typed date, `2025-01-31`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Yesterday (Beijing): the day a statement usually covers.
fn yesterday() -> NaiveDate {
    let today = crate::views::today();
    today.pred_opt().unwrap_or(today)
}

#[cfg(test)]
mod tests;
