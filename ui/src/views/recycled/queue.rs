//! The queue: claim next, the table of cases with SLA aging, and paging.

use super::text::{source_text, status_text};
use super::{PAGE_ROWS, RecycledPurpose, RecycledView};
use crate::contract::{Outbox, Purpose, ViewCtx};
use crate::i18n::{Lang, T, fill};
use domain::RecycledRequest;
use domain::cases::{CaseRowView, QueueCursor, QueuePage};
use uuid::Uuid;

/// The page shown, how to page back, and the selected row.
#[derive(Debug, Default)]
pub(super) struct QueueState {
    page: Option<QueuePage>,
    /// Cursors of the pages before the current one (for "previous").
    cursors: Vec<Option<QueueCursor>>,
    pub(super) current_cursor: Option<QueueCursor>,
    /// The row J/K move and Enter opens.
    pub(super) selected: usize,
    pub(super) loaded_once: bool,
}

impl QueueState {
    pub(super) fn set_page(&mut self, page: QueuePage) {
        self.selected = self.selected.min(page.rows.len().saturating_sub(1));
        self.page = Some(page);
    }

    pub(super) fn rows(&self) -> &[CaseRowView] {
        self.page.as_ref().map_or(&[], |p| &p.rows)
    }
}

impl RecycledView {
    pub(super) fn request_page(&mut self, outbox: &mut Outbox, after: Option<QueueCursor>) {
        self.error = None;
        self.queue.current_cursor = after;
        outbox.send(
            Purpose::Recycled(RecycledPurpose::Queue),
            RecycledRequest::Queue { filter: self.filters.current(), after, limit: PAGE_ROWS },
        );
    }

    /// The first page again (after a filter change or an import).
    pub(super) fn refresh(&mut self, outbox: &mut Outbox) {
        self.queue.cursors.clear();
        self.request_page(outbox, None);
    }

    pub(super) fn queue_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        if self.filters.filters_ui(ui, lang, ctx.outbox) {
            self.refresh(ctx.outbox);
        }
        self.import_ui(ui, lang, ctx.outbox);
        ui.horizontal(|ui| {
            if ui.button(T::ClaimNext.text(lang)).clicked() {
                ctx.send(Purpose::Recycled(RecycledPurpose::ClaimNext), RecycledRequest::ClaimNext);
            }
            if ctx.abilities.approve {
                self.bulk_bar_ui(ui, lang, ctx.outbox);
            }
        });
        self.dry_run_ui(ui, lang, ctx.outbox);
        ui.separator();
        let Some(page) = self.queue.page.clone() else {
            ui.label(T::Loading.text(lang));
            return;
        };
        if page.rows.is_empty() {
            ui.label(T::QueueEmpty.text(lang));
        }
        let open = self.table_ui(ui, lang, &page);
        self.paging_ui(ui, lang, &page, ctx.outbox);
        if let Some(id) = open {
            self.open(ctx.outbox, id);
        }
    }

    /// The rows; the case whose 打开 was clicked.
    fn table_ui(&mut self, ui: &mut egui::Ui, lang: Lang, page: &QueuePage) -> Option<Uuid> {
        let mut open = None;
        let height = ui.available_height() - 30.0;
        egui::ScrollArea::vertical().id_salt("queue").max_height(height).show(ui, |ui| {
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
                    if self.row_ui(ui, lang, i, row) {
                        open = Some(row.id);
                    }
                    ui.end_row();
                }
            });
        });
        open
    }

    /// One row; whether its 打开 was clicked.
    fn row_ui(&mut self, ui: &mut egui::Ui, lang: Lang, i: usize, row: &CaseRowView) -> bool {
        // The checkbox carries the number, so automation finds a row by what it shows.
        let mut on = self.bulk.is_checked(row.id);
        let selected = i == self.queue.selected;
        let phone = if selected { format!("▶ {}", row.phone_masked) } else { row.phone_masked.clone() };
        if ui.checkbox(&mut on, phone).changed() {
            self.queue.selected = i;
            self.bulk.set_checked(row.id, on);
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
        ui.button(T::Open.text(lang)).clicked()
    }

    fn paging_ui(&mut self, ui: &mut egui::Ui, lang: Lang, page: &QueuePage, outbox: &mut Outbox) {
        ui.horizontal(|ui| {
            let has_prev = !self.queue.cursors.is_empty();
            if ui.add_enabled(has_prev, egui::Button::new(T::PrevPage.text(lang))).clicked() {
                let before = self.queue.cursors.pop().flatten();
                self.request_page(outbox, before);
            }
            if ui.add_enabled(page.next.is_some(), egui::Button::new(T::NextPage.text(lang))).clicked() {
                self.queue.cursors.push(self.queue.current_cursor);
                self.request_page(outbox, page.next);
            }
        });
    }
}
