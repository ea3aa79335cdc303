//! 二次号审核: the review queue (filters, saved views, SLA aging, claim), the case
//! view with one timeline per phone, decisions and four-eyes approval, carrier
//! file import with progress, bulk "not recycled" with a dry run.
//!
//! Keyboard (when enabled in settings and no text field has focus): J/K move,
//! Enter open, C claim, A confirm/approve, R reject, Esc back.

use crate::app::{Outbox, Purpose};
use crate::i18n::{Lang, T, fill};
use crate::views::{fmt_time, labelled_text_edit_ui};
use domain::cases::{
    BulkSummary, CaseDecision, CaseDetail, CaseRowView, DecisionOutcome, ImportState, QueueCursor,
    QueueFilter, QueuePage, QueueSort,
};
use domain::recycle::{CaseSource, CaseStatus, NotRecycledReason};
use domain::{Request, Response};
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
    /// An action on the open case; refresh afterwards.
    Action,
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

/// What the operator may do here (the backend enforces it; the UI hides what it would refuse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abilities {
    /// Approve, reassign, bulk actions.
    pub approve: bool,
    /// Run the force-unbind wizard.
    pub force_unbind: bool,
    /// Keyboard shortcuts on.
    pub keyboard: bool,
}

/// A named set of filters.
#[derive(Debug, Clone, PartialEq)]
struct SavedView {
    name: String,
    filter: QueueFilter,
}

fn preset_views() -> Vec<SavedView> {
    let view = |name: &str, filter: QueueFilter| SavedView { name: name.into(), filter };
    vec![
        view("全部待处理 / All active", QueueFilter::default()),
        view("高风险 ≥50 / High risk", QueueFilter { min_risk: Some(50), ..QueueFilter::default() }),
        view(
            "超时 >48h / Past SLA",
            QueueFilter {
                older_than_hours: Some(48),
                sort: QueueSort::OldestFirst,
                ..QueueFilter::default()
            },
        ),
        view(
            "待复核 / Pending approval",
            QueueFilter { status: Some(CaseStatus::PendingApproval), ..QueueFilter::default() },
        ),
        view("我的案件 / Mine", QueueFilter { mine_only: true, ..QueueFilter::default() }),
    ]
}

/// The view's state.
#[derive(Debug)]
pub struct RecycledView {
    filter: QueueFilter,
    phone_text: String,
    min_risk_text: String,
    older_text: String,
    views: Vec<SavedView>,
    view_name: String,
    page: Option<QueuePage>,
    /// Cursors of the pages before the current one (for "previous").
    cursors: Vec<Option<QueueCursor>>,
    current_cursor: Option<QueueCursor>,
    selected: usize,
    checked: Vec<Uuid>,
    detail: Option<CaseDetail>,
    note: String,
    reason: NotRecycledReason,
    reassign_to: String,
    unblock_phone: String,
    bulk: Option<BulkSummary>,
    import_path: String,
    import_job: Option<Uuid>,
    import_state: Option<ImportState>,
    message: Option<String>,
    error: Option<String>,
    loaded_once: bool,
    /// Set when the operator asks to run the force-unbind wizard on the open case.
    pub force_unbind_request: Option<CaseRowView>,
}

impl Default for RecycledView {
    fn default() -> Self {
        Self {
            filter: QueueFilter::default(),
            phone_text: String::new(),
            min_risk_text: String::new(),
            older_text: String::new(),
            views: preset_views(),
            view_name: String::new(),
            page: None,
            cursors: Vec::new(),
            current_cursor: None,
            selected: 0,
            checked: Vec::new(),
            detail: None,
            note: String::new(),
            reason: NotRecycledReason::SameHolder,
            reassign_to: String::new(),
            unblock_phone: String::new(),
            bulk: None,
            import_path: String::new(),
            import_job: None,
            import_state: None,
            message: None,
            error: None,
            loaded_once: false,
            force_unbind_request: None,
        }
    }
}

/// The catalogue key of a status.
pub fn status_text(s: CaseStatus) -> T {
    match s {
        CaseStatus::Open => T::CaseOpen,
        CaseStatus::PendingApproval => T::CasePending,
        CaseStatus::Escalated => T::CaseEscalated,
        CaseStatus::Confirmed => T::CaseConfirmed,
        CaseStatus::NotRecycled => T::CaseNotRecycled,
        CaseStatus::ForceUnbound => T::CaseForceUnbound,
    }
}

fn source_text(s: CaseSource) -> T {
    match s {
        CaseSource::EntryTime => T::SourceEntryTime,
        CaseSource::Notice => T::SourceNotice,
        CaseSource::Port => T::SourcePort,
        CaseSource::Registration => T::SourceRegistration,
        CaseSource::SmsReset => T::SourceSmsReset,
        CaseSource::Gateway => T::SourceGateway,
    }
}

/// The catalogue key of a "not recycled" reason.
pub fn reason_text(r: NotRecycledReason) -> T {
    match r {
        NotRecycledReason::SameHolder => T::ReasonSameHolder,
        NotRecycledReason::FamilyTransfer => T::ReasonFamilyTransfer,
        NotRecycledReason::Ported => T::ReasonPorted,
        NotRecycledReason::DataError => T::ReasonDataError,
        NotRecycledReason::ReclaimedInFreeze => T::ReasonReclaimed,
    }
}

impl RecycledView {
    /// The open case, for the force-unbind wizard.
    pub fn open_case(&self) -> Option<&CaseDetail> {
        self.detail.as_ref()
    }

    fn request_page(&mut self, outbox: &mut Outbox, after: Option<QueueCursor>) {
        self.error = None;
        self.sync_filter();
        self.current_cursor = after;
        outbox.send(
            Purpose::Recycled(RecycledPurpose::Queue),
            Request::Queue { filter: self.filter.clone(), after, limit: PAGE_ROWS },
        );
    }

    /// The typed filters (number, minimum risk, age) into the filter.
    fn sync_filter(&mut self) {
        self.filter.phone = Some(self.phone_text.trim().to_owned()).filter(|p| !p.is_empty());
        self.filter.min_risk = self.min_risk_text.trim().parse().ok();
        self.filter.older_than_hours = self.older_text.trim().parse().ok();
    }

    fn set_saved_views(&mut self, saved: Vec<(String, QueueFilter)>) {
        self.views = preset_views();
        self.views.extend(saved.into_iter().map(|(name, filter)| SavedView { name, filter }));
    }

    fn refresh(&mut self, outbox: &mut Outbox) {
        self.cursors.clear();
        self.request_page(outbox, None);
    }

    fn open(&mut self, outbox: &mut Outbox, case_id: Uuid) {
        outbox.send(Purpose::Recycled(RecycledPurpose::Detail), Request::CaseDetail { case_id });
    }

    fn act(&mut self, outbox: &mut Outbox, request: Request) {
        self.error = None;
        self.message = None;
        outbox.send(Purpose::Recycled(RecycledPurpose::Action), request);
    }

    /// Takes a reply.
    pub fn on_reply(
        &mut self,
        purpose: RecycledPurpose,
        reply: Result<Response, String>,
        lang: Lang,
        outbox: &mut Outbox,
    ) {
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                if purpose == RecycledPurpose::ImportStarted {
                    self.import_job = None;
                }
                self.error = Some(e);
                return;
            }
        };
        match (purpose, reply) {
            (RecycledPurpose::Queue, Response::Queue(page)) => {
                self.selected = self.selected.min(page.rows.len().saturating_sub(1));
                self.page = Some(page);
            }
            (RecycledPurpose::Detail, Response::Case(detail)) => {
                self.detail = Some(*detail);
            }
            (RecycledPurpose::Action, reply) => {
                self.message = Some(match reply {
                    Response::Decided(DecisionOutcome::PendingApproval) => {
                        T::SentForApproval.text(lang).to_owned()
                    }
                    _ => T::Saved.text(lang).to_owned(),
                });
                if let Some(d) = &self.detail {
                    let id = d.row.id;
                    self.open(outbox, id);
                }
                self.request_page(outbox, self.current_cursor);
            }
            (RecycledPurpose::ClaimNext, Response::Claimed(Some(id))) => {
                self.open(outbox, id);
                self.request_page(outbox, self.current_cursor);
            }
            (RecycledPurpose::ClaimNext, Response::Claimed(None)) => {
                self.message = Some(T::NothingToClaim.text(lang).to_owned());
            }
            (RecycledPurpose::ImportStarted, Response::ImportStarted { job_id }) => {
                self.import_job = Some(job_id);
                outbox
                    .send(Purpose::Recycled(RecycledPurpose::ImportStatus), Request::ImportStatus { job_id });
            }
            (RecycledPurpose::ImportStatus, Response::Import(state)) => {
                let finished = matches!(
                    state,
                    ImportState::Done(_) | ImportState::Rejected { .. } | ImportState::Failed { .. }
                );
                if finished {
                    self.import_job = None;
                    if matches!(state, ImportState::Done(_)) {
                        self.refresh(outbox);
                    }
                }
                self.import_state = Some(state);
            }
            (RecycledPurpose::Bulk, Response::Bulk(summary)) => {
                if !summary.dry_run {
                    self.checked.clear();
                    self.bulk = None;
                    self.message = Some(fill(T::BulkDone.text(lang), &[("n", &summary.eligible)]));
                    self.refresh(outbox);
                } else {
                    self.bulk = Some(summary);
                }
            }
            (RecycledPurpose::Views, Response::QueueViews(saved)) => self.set_saved_views(saved),
            (RecycledPurpose::Evidence, Response::Evidence { sha256, html_path, .. }) => {
                self.message =
                    Some(fill(T::EvidenceWritten.text(lang), &[("path", &html_path), ("sha", &sha256)]));
            }
            _ => {}
        }
    }

    /// Draws the view for operator `me`.
    pub fn recycled_ui(
        &mut self,
        ui: &mut egui::Ui,
        lang: Lang,
        me: &str,
        can: Abilities,
        outbox: &mut Outbox,
    ) {
        let (can_approve, keyboard) = (can.approve, can.keyboard);
        if !self.loaded_once {
            self.loaded_once = true;
            self.refresh(outbox);
            outbox.send(Purpose::Recycled(RecycledPurpose::Views), Request::QueueViews);
        }
        // An import in progress is polled every frame until it ends.
        if let Some(job_id) = self.import_job {
            outbox.send(Purpose::Recycled(RecycledPurpose::ImportStatus), Request::ImportStatus { job_id });
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(200));
        }
        if keyboard && ui.ctx().memory(|m| m.focused().is_none()) {
            self.keys(ui, me, can_approve, outbox);
        }
        ui.heading(T::AreaRecycled.text(lang));
        if let Some(m) = &self.message {
            ui.label(m);
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if self.detail.is_some() {
            self.detail_ui(ui, lang, me, can, outbox);
        } else {
            self.queue_ui(ui, lang, can_approve, outbox);
        }
    }

    fn keys(&mut self, ui: &egui::Ui, me: &str, can_approve: bool, outbox: &mut Outbox) {
        let pressed = |k| ui.input(|i| i.key_pressed(k));
        if let Some(d) = self.detail.clone() {
            if pressed(egui::Key::Escape) {
                self.detail = None;
            } else if pressed(egui::Key::C) {
                self.act(outbox, Request::ClaimCase { case_id: d.row.id });
            } else if pressed(egui::Key::A) {
                if d.row.status == CaseStatus::PendingApproval
                    && can_approve
                    && d.row.proposed_by.as_deref() != Some(me)
                {
                    self.act(
                        outbox,
                        Request::ApproveCase { case_id: d.row.id, approve: true, note: self.note.clone() },
                    );
                } else {
                    let decision = CaseDecision::ConfirmRecycled { note: self.note.clone() };
                    self.act(outbox, Request::DecideCase { case_id: d.row.id, decision });
                }
            } else if pressed(egui::Key::R) {
                if d.row.status == CaseStatus::PendingApproval && can_approve {
                    self.act(
                        outbox,
                        Request::ApproveCase { case_id: d.row.id, approve: false, note: self.note.clone() },
                    );
                } else {
                    let decision = CaseDecision::NotRecycled { reason: self.reason, note: self.note.clone() };
                    self.act(outbox, Request::DecideCase { case_id: d.row.id, decision });
                }
            }
            return;
        }
        let rows = self.page.as_ref().map_or(0, |p| p.rows.len());
        if pressed(egui::Key::J) && rows > 0 {
            self.selected = (self.selected + 1).min(rows - 1);
        } else if pressed(egui::Key::K) {
            self.selected = self.selected.saturating_sub(1);
        } else if let Some(row) = self.page.as_ref().and_then(|p| p.rows.get(self.selected)).map(|r| r.id) {
            if pressed(egui::Key::Enter) {
                self.open(outbox, row);
            } else if pressed(egui::Key::C) {
                outbox.send(Purpose::Recycled(RecycledPurpose::Action), Request::ClaimCase { case_id: row });
            }
        }
    }

    fn filters_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            egui::ComboBox::from_label(T::FilterStatus.text(lang))
                .selected_text(
                    self.filter.status.map_or(T::AnyActive.text(lang), |s| status_text(s).text(lang)),
                )
                .show_ui(ui, |ui| {
                    changed |=
                        ui.selectable_value(&mut self.filter.status, None, T::AnyActive.text(lang)).changed();
                    for s in CaseStatus::ALL {
                        changed |= ui
                            .selectable_value(&mut self.filter.status, Some(s), status_text(s).text(lang))
                            .changed();
                    }
                });
            egui::ComboBox::from_label(T::FilterSource.text(lang))
                .selected_text(self.filter.source.map_or(T::Any.text(lang), |s| source_text(s).text(lang)))
                .show_ui(ui, |ui| {
                    changed |=
                        ui.selectable_value(&mut self.filter.source, None, T::Any.text(lang)).changed();
                    for s in CaseSource::ALL {
                        changed |= ui
                            .selectable_value(&mut self.filter.source, Some(s), source_text(s).text(lang))
                            .changed();
                    }
                });
            egui::ComboBox::from_label(T::Sort.text(lang))
                .selected_text(sort_text(self.filter.sort).text(lang))
                .show_ui(ui, |ui| {
                    for s in [QueueSort::RiskDesc, QueueSort::OldestFirst, QueueSort::NewestFirst] {
                        changed |=
                            ui.selectable_value(&mut self.filter.sort, s, sort_text(s).text(lang)).changed();
                    }
                });
            changed |= ui.checkbox(&mut self.filter.mine_only, T::MineOnly.text(lang)).changed();
        });
        ui.horizontal_wrapped(|ui| {
            let small = |ui: &mut egui::Ui, key: T, text: &mut String, width: f32| {
                let label = ui.label(key.text(lang));
                let r = ui.add(egui::TextEdit::singleline(text).desired_width(width)).labelled_by(label.id);
                r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
            };
            changed |= small(ui, T::FilterPhone, &mut self.phone_text, 110.0);
            changed |= small(ui, T::FilterMinRisk, &mut self.min_risk_text, 40.0);
            changed |= small(ui, T::FilterOlderHours, &mut self.older_text, 40.0);
            let mut carrier = self.filter.carrier.clone().unwrap_or_default();
            if small(ui, T::FilterCarrier, &mut carrier, 80.0) {
                changed = true;
            }
            self.filter.carrier = Some(carrier).filter(|c| !c.trim().is_empty());
            let mut province = self.filter.province.clone().unwrap_or_default();
            if small(ui, T::FilterProvince, &mut province, 60.0) {
                changed = true;
            }
            self.filter.province = Some(province).filter(|c| !c.trim().is_empty());
            if ui.button(T::Refresh.text(lang)).clicked() {
                changed = true;
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(T::SavedViews.text(lang));
            let mut chosen = None;
            for (i, v) in self.views.iter().enumerate() {
                if ui.small_button(&v.name).clicked() {
                    chosen = Some(i);
                }
            }
            if let Some(i) = chosen {
                self.filter = self.views[i].filter.clone();
                self.phone_text = self.filter.phone.clone().unwrap_or_default();
                self.min_risk_text = self.filter.min_risk.map(|r| r.to_string()).unwrap_or_default();
                self.older_text = self.filter.older_than_hours.map(|h| h.to_string()).unwrap_or_default();
                changed = true;
            }
            let label = ui.label(T::ViewName.text(lang));
            ui.add(egui::TextEdit::singleline(&mut self.view_name).desired_width(100.0))
                .labelled_by(label.id);
            if ui
                .add_enabled(!self.view_name.trim().is_empty(), egui::Button::new(T::SaveView.text(lang)))
                .clicked()
            {
                // Saved per operator in the database; the reply brings the full list back.
                self.sync_filter();
                let req = Request::SaveQueueView {
                    name: self.view_name.trim().to_owned(),
                    filter: self.filter.clone(),
                };
                outbox.send(Purpose::Recycled(RecycledPurpose::Views), req);
                self.view_name.clear();
            }
        });
        if changed {
            self.refresh(outbox);
        }
    }

    fn import_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
        ui.collapsing(T::ImportCarrierFile.text(lang), |ui| {
            ui.weak(T::ImportHint.text(lang));
            ui.horizontal(|ui| {
                labelled_text_edit_ui(ui, T::FilePath.text(lang), &mut self.import_path, false);
                if ui.button(T::PickFile.text(lang)).clicked() {
                    outbox.pick_file();
                }
                let ready = !self.import_path.trim().is_empty() && self.import_job.is_none();
                if ui.add_enabled(ready, egui::Button::new(T::Import.text(lang))).clicked() {
                    self.import_state = None;
                    let path = self.import_path.trim().to_owned();
                    outbox.send(
                        Purpose::Recycled(RecycledPurpose::ImportStarted),
                        Request::ImportCarrierFile { path },
                    );
                }
            });
            match &self.import_state {
                Some(ImportState::Reading { bytes_read, total_bytes, lines }) => {
                    let fraction =
                        if *total_bytes == 0 { 0.0 } else { *bytes_read as f32 / *total_bytes as f32 };
                    ui.add(egui::ProgressBar::new(fraction * 0.5).show_percentage());
                    ui.label(fill(T::ImportReading.text(lang), &[("n", lines)]));
                }
                Some(ImportState::Writing { lines }) => {
                    ui.add(egui::ProgressBar::new(0.75).show_percentage());
                    ui.label(fill(T::ImportWriting.text(lang), &[("n", lines)]));
                }
                Some(ImportState::Done(r)) => {
                    ui.add(egui::ProgressBar::new(1.0).show_percentage());
                    let text = if r.already_imported {
                        fill(T::ImportAlready.text(lang), &[("file", &r.file)])
                    } else {
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
                    };
                    ui.label(text);
                }
                Some(ImportState::Rejected { errors, error_count }) => {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        fill(T::ImportRejected.text(lang), &[("n", error_count)]),
                    );
                    egui::ScrollArea::vertical().id_salt("import_errors").max_height(120.0).show(ui, |ui| {
                        for e in errors {
                            ui.label(e.to_string());
                        }
                    });
                }
                Some(ImportState::Failed { message }) => {
                    ui.colored_label(ui.visuals().error_fg_color, message);
                }
                None => {}
            }
        });
    }

    /// A file picked in the native dialog (Tauri) lands in the path field.
    pub fn set_import_path(&mut self, path: String) {
        self.import_path = path;
    }

    fn queue_ui(&mut self, ui: &mut egui::Ui, lang: Lang, can_approve: bool, outbox: &mut Outbox) {
        self.filters_ui(ui, lang, outbox);
        self.import_ui(ui, lang, outbox);
        ui.horizontal(|ui| {
            if ui.button(T::ClaimNext.text(lang)).clicked() {
                outbox.send(Purpose::Recycled(RecycledPurpose::ClaimNext), Request::ClaimNext);
            }
            if can_approve {
                let enabled = !self.checked.is_empty();
                let label = fill(T::BulkNotRecycled.text(lang), &[("n", &self.checked.len())]);
                if ui.add_enabled(enabled, egui::Button::new(label)).clicked() {
                    let req = Request::BulkNotRecycled {
                        case_ids: self.checked.clone(),
                        reason: self.reason,
                        note: self.note.clone(),
                        dry_run: true,
                    };
                    outbox.send(Purpose::Recycled(RecycledPurpose::Bulk), req);
                }
                reason_combo_ui(ui, lang, &mut self.reason);
                labelled_text_edit_ui(ui, T::Note.text(lang), &mut self.note, false);
            }
        });
        if let Some(summary) = self.bulk.clone() {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.label(fill(
                    T::BulkDryRun.text(lang),
                    &[
                        ("n", &summary.eligible),
                        ("skipped", &summary.skipped.len()),
                        ("reason", &reason_text(self.reason).text(lang)),
                    ],
                ));
                for (id, why) in summary.skipped.iter().take(10) {
                    ui.weak(format!("{} · {why}", &id.to_string()[..8]));
                }
                ui.horizontal(|ui| {
                    if ui.button(T::BulkConfirm.text(lang)).clicked() {
                        let req = Request::BulkNotRecycled {
                            case_ids: self.checked.clone(),
                            reason: self.reason,
                            note: self.note.clone(),
                            dry_run: false,
                        };
                        outbox.send(Purpose::Recycled(RecycledPurpose::Bulk), req);
                    }
                    if ui.button(T::Cancel.text(lang)).clicked() {
                        self.bulk = None;
                    }
                });
            });
        }
        ui.separator();
        let Some(page) = self.page.clone() else {
            ui.label(T::Loading.text(lang));
            return;
        };
        if page.rows.is_empty() {
            ui.label(T::QueueEmpty.text(lang));
        }
        let mut open = None;
        egui::ScrollArea::vertical().id_salt("queue").max_height(ui.available_height() - 30.0).show(
            ui,
            |ui| {
                egui::Grid::new("queue_rows").striped(true).num_columns(9).show(ui, |ui| {
                    for key in [
                        T::Phone,
                        T::Status,
                        T::FilterSource,
                        T::Risk,
                        T::Carrier,
                        T::Province,
                        T::Age,
                        T::ClaimedBy,
                        T::Actions,
                    ] {
                        ui.strong(key.text(lang));
                    }
                    ui.end_row();
                    for (i, row) in page.rows.iter().enumerate() {
                        self.row_ui(ui, lang, i, row, &mut open);
                        ui.end_row();
                    }
                });
            },
        );
        ui.horizontal(|ui| {
            if ui.add_enabled(!self.cursors.is_empty(), egui::Button::new(T::PrevPage.text(lang))).clicked() {
                let before = self.cursors.pop().flatten();
                self.request_page(outbox, before);
            }
            if ui.add_enabled(page.next.is_some(), egui::Button::new(T::NextPage.text(lang))).clicked() {
                self.cursors.push(self.current_cursor);
                self.request_page(outbox, page.next);
            }
        });
        if let Some(id) = open {
            self.open(outbox, id);
        }
    }

    fn row_ui(
        &mut self,
        ui: &mut egui::Ui,
        lang: Lang,
        i: usize,
        row: &CaseRowView,
        open: &mut Option<Uuid>,
    ) {
        // The checkbox carries the number, so automation finds a row by what it shows.
        let mut on = self.checked.contains(&row.id);
        let phone =
            if i == self.selected { format!("▶ {}", row.phone_masked) } else { row.phone_masked.clone() };
        if ui.checkbox(&mut on, phone).changed() {
            self.selected = i;
            if on {
                self.checked.push(row.id);
            } else {
                self.checked.retain(|id| *id != row.id);
            }
        }
        ui.label(status_text(row.status).text(lang));
        let mut source = source_text(row.source).text(lang).to_owned();
        if row.manual_only {
            source.push_str(T::ManualOnlyTag.text(lang));
        }
        ui.label(source);
        ui.label(row.risk_score.to_string());
        ui.label(&row.carrier);
        ui.label(&row.province);
        let age = fill(T::AgeHours.text(lang), &[("n", &row.age_hours)]);
        if row.sla_breached {
            ui.colored_label(ui.visuals().warn_fg_color, format!("{age} {}", T::PastSla.text(lang)));
        } else {
            ui.label(age);
        }
        ui.label(row.claimed_by.as_deref().unwrap_or("—"));
        if ui.button(T::Open.text(lang)).clicked() {
            *open = Some(row.id);
        }
    }

    fn detail_ui(&mut self, ui: &mut egui::Ui, lang: Lang, me: &str, can: Abilities, outbox: &mut Outbox) {
        let (can_approve, can_force_unbind) = (can.approve, can.force_unbind);
        let Some(d) = self.detail.clone() else { return };
        let id = d.row.id;
        if ui.button(T::Back.text(lang)).clicked() {
            self.detail = None;
            return;
        }
        egui::Grid::new("case_header").num_columns(4).spacing([16.0, 4.0]).show(ui, |ui| {
            ui.label(T::Phone.text(lang));
            ui.strong(&d.row.phone_masked);
            ui.label(T::Status.text(lang));
            ui.strong(status_text(d.row.status).text(lang));
            ui.end_row();
            ui.label(T::OldUser.text(lang));
            ui.label(format!("{} · {}", d.old_name_masked, &d.old_user_id.to_string()[..8]));
            ui.label(T::FilterSource.text(lang));
            ui.label(source_text(d.row.source).text(lang));
            ui.end_row();
            ui.label(T::BoundAt.text(lang));
            ui.label(fmt_time(d.bound_at));
            ui.label(T::EntryAt.text(lang));
            ui.label(d.entry_at.map_or("—".into(), fmt_time));
            ui.end_row();
            ui.label(T::Balance.text(lang));
            ui.label(format!("¥{}", d.balance));
            ui.label(T::ClaimedBy.text(lang));
            ui.label(d.row.claimed_by.as_deref().unwrap_or("—"));
            ui.end_row();
            ui.label(T::StillBound.text(lang));
            ui.label(if d.still_bound { T::Yes.text(lang) } else { T::No.text(lang) });
            ui.label(T::SmsResetBlocked.text(lang));
            ui.label(if d.sms_reset_blocked { T::Yes.text(lang) } else { T::No.text(lang) });
            ui.end_row();
        });
        if d.row.manual_only {
            ui.colored_label(ui.visuals().warn_fg_color, T::ManualOnly.text(lang));
        }
        if let Some(until) = d.row.freeze_until {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                fill(T::InFreeze.text(lang), &[("until", &fmt_time(until))]),
            );
        }
        ui.label(fill(
            T::RiskLine.text(lang),
            &[
                ("score", &d.row.risk_score),
                ("formula", &d.risk_formula),
                ("cards", &d.risk.active_cards),
                ("debits", &d.risk.direct_debits),
                ("days", &d.risk.days_since_login.map_or("—".to_owned(), |n| n.to_string())),
            ],
        ));
        if let Some(p) = &d.proposal {
            ui.label(fill(
                T::ProposalBy.text(lang),
                &[("by", &p.by), ("decision", &decision_name(&p.decision))],
            ));
        }
        if let Some((decision, reason, by, checker)) = &d.decision {
            ui.label(fill(
                T::DecidedBy.text(lang),
                &[
                    ("decision", decision),
                    ("reason", reason),
                    ("by", by),
                    ("checker", &checker.clone().unwrap_or("—".into())),
                ],
            ));
        }
        if let Some(sha) = &d.evidence_sha256 {
            ui.weak(format!("{} {sha}", T::EvidenceHash.text(lang)));
        }
        ui.separator();
        let active = d.row.status.is_active();
        let mine = d.row.claimed_by.as_deref() == Some(me);
        ui.horizontal_wrapped(|ui| {
            if active && !mine && ui.button(T::Claim.text(lang)).clicked() {
                self.act(outbox, Request::ClaimCase { case_id: id });
            }
            if mine && ui.button(T::Release.text(lang)).clicked() {
                self.act(outbox, Request::ReleaseCase { case_id: id });
            }
            if ui.button(T::CheckCarrier.text(lang)).clicked() {
                self.act(outbox, Request::CheckCarrier { case_id: id });
            }
            if ui.button(T::ExportEvidence.text(lang)).clicked() {
                outbox.send(
                    Purpose::Recycled(RecycledPurpose::Evidence),
                    Request::ExportEvidence { case_id: id },
                );
            }
            if active && can_force_unbind && ui.button(T::StartForceUnbind.text(lang)).clicked() {
                self.force_unbind_request = Some(d.row.clone());
            }
        });
        if active && d.row.status != CaseStatus::PendingApproval {
            ui.horizontal_wrapped(|ui| {
                labelled_text_edit_ui(ui, T::Note.text(lang), &mut self.note, false);
                if ui.add_enabled(mine, egui::Button::new(T::ConfirmRecycled.text(lang))).clicked() {
                    let decision = CaseDecision::ConfirmRecycled { note: self.note.clone() };
                    self.act(outbox, Request::DecideCase { case_id: id, decision });
                }
                reason_combo_ui(ui, lang, &mut self.reason);
                if ui.add_enabled(mine, egui::Button::new(T::NotRecycled.text(lang))).clicked() {
                    let decision = CaseDecision::NotRecycled { reason: self.reason, note: self.note.clone() };
                    self.act(outbox, Request::DecideCase { case_id: id, decision });
                }
                if ui.add_enabled(mine, egui::Button::new(T::Escalate.text(lang))).clicked() {
                    let decision = CaseDecision::Escalate { note: self.note.clone() };
                    self.act(outbox, Request::DecideCase { case_id: id, decision });
                }
            });
            if d.needs_checker {
                ui.weak(T::NeedsChecker.text(lang));
            }
        }
        if d.row.status == CaseStatus::PendingApproval && can_approve {
            ui.horizontal(|ui| {
                labelled_text_edit_ui(ui, T::Note.text(lang), &mut self.note, false);
                if ui.button(T::Approve.text(lang)).clicked() {
                    self.act(
                        outbox,
                        Request::ApproveCase { case_id: id, approve: true, note: self.note.clone() },
                    );
                }
                if ui.button(T::RejectProposal.text(lang)).clicked() {
                    self.act(
                        outbox,
                        Request::ApproveCase { case_id: id, approve: false, note: self.note.clone() },
                    );
                }
            });
        }
        if active && can_approve {
            ui.horizontal(|ui| {
                labelled_text_edit_ui(ui, T::ReassignTo.text(lang), &mut self.reassign_to, false);
                if ui.button(T::Reassign.text(lang)).clicked() {
                    let req = Request::ReassignCase {
                        case_id: id,
                        to: self.reassign_to.clone(),
                        reason: self.note.clone(),
                    };
                    self.act(outbox, req);
                }
            });
        }
        if d.sms_reset_blocked {
            ui.horizontal(|ui| match &d.sms_unblock_requested_by {
                None => {
                    labelled_text_edit_ui(ui, T::UnblockPhone.text(lang), &mut self.unblock_phone, false);
                    if ui.button(T::RequestUnblock.text(lang)).clicked() {
                        let req = Request::RequestSmsUnblock {
                            user_id: d.old_user_id,
                            phone: self.unblock_phone.clone(),
                        };
                        self.act(outbox, req);
                    }
                }
                Some(by) => {
                    ui.label(fill(T::UnblockPending.text(lang), &[("by", by)]));
                    if can_approve && ui.button(T::ApproveUnblock.text(lang)).clicked() {
                        self.act(outbox, Request::ApproveSmsUnblock { user_id: d.old_user_id });
                    }
                }
            });
        }
        ui.separator();
        ui.strong(T::Timeline.text(lang));
        egui::ScrollArea::vertical().id_salt("timeline").show(ui, |ui| {
            egui::Grid::new("timeline_rows").striped(true).num_columns(3).show(ui, |ui| {
                for e in &d.timeline {
                    ui.label(fmt_time(e.at));
                    ui.label(timeline_kind(&e.kind, lang));
                    ui.label(&e.detail);
                    ui.end_row();
                }
            });
        });
    }
}

fn decision_name(d: &CaseDecision) -> String {
    match d {
        CaseDecision::ConfirmRecycled { .. } => "confirm_recycled".into(),
        CaseDecision::NotRecycled { reason, .. } => format!("not_recycled:{}", reason.as_str()),
        CaseDecision::Escalate { .. } => "escalate".into(),
        CaseDecision::ForceUnbind { .. } => "force_unbind".into(),
    }
}

fn sort_text(s: QueueSort) -> T {
    match s {
        QueueSort::RiskDesc => T::SortRisk,
        QueueSort::OldestFirst => T::SortOldest,
        QueueSort::NewestFirst => T::SortNewest,
    }
}

/// A reason picker.
pub fn reason_combo_ui(ui: &mut egui::Ui, lang: Lang, reason: &mut NotRecycledReason) {
    egui::ComboBox::from_label(T::Reason.text(lang)).selected_text(reason_text(*reason).text(lang)).show_ui(
        ui,
        |ui| {
            for r in NotRecycledReason::ALL {
                ui.selectable_value(reason, r, reason_text(r).text(lang));
            }
        },
    );
}

/// Timeline kinds in the operator's words; unknown kinds as they are.
fn timeline_kind(kind: &str, lang: Lang) -> String {
    let key = match kind {
        "user.registered" => T::TlRegistered,
        "user.login" => T::TlLogin,
        "binding.bound" => T::TlBound,
        "binding.unbound" => T::TlUnbound,
        "carrier.cancel" => T::TlCancel,
        "carrier.transfer" => T::TlTransfer,
        "carrier.reissue" => T::TlReissue,
        "carrier.port_in" => T::TlPortIn,
        "carrier.port_out" => T::TlPortOut,
        "hook.registration" => T::TlRegistration,
        "hook.sms_reset" => T::TlSmsReset,
        "card.reserved_phone" => T::TlCard,
        "debit.signed" => T::TlDebit,
        "debit.ended" => T::TlDebitEnded,
        "sms.blocked" => T::TlSmsBlocked,
        "sms.lifted" => T::TlSmsLifted,
        "check.carrier3" => T::TlCarrierCheck,
        "check.bank4" => T::TlBankCheck,
        k if k.starts_with("carrier.gateway:") => return format!("{} {}", T::TlGateway.text(lang), &k[16..]),
        k if k.starts_with("case.") => return format!("{} {}", T::TlCase.text(lang), &k[5..]),
        other => return other.to_owned(),
    };
    key.text(lang).to_owned()
}
