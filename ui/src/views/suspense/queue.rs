//! The queue: filters (kind, status, age), claim next, the table of items with
//! their age, keyset paging ("more"), and opening an item (which claims it).

use super::{PAGE_ROWS, SuspensePurpose, SuspenseView, send, signed};
use crate::contract::{Outbox, ViewCtx};
use crate::i18n::{Lang, T, age_bucket, channel_text, fill, suspense_kind, suspense_status};
use crate::views::labelled_combo_ui;
use domain::api::ReconRequest;
use domain::suspense::{AgeBucket, SuspenseFilter, SuspenseKind, SuspensePage, SuspenseRow, SuspenseStatus};
use uuid::Uuid;

/// The rows shown (every page asked for so far), the filter, the keyboard's row.
#[derive(Debug, Default)]
pub(super) struct QueueState {
    pub(super) filter: SuspenseFilter,
    rows: Vec<SuspenseRow>,
    more: bool,
    open_count: Option<u64>,
    loaded: bool,
    /// The row J/K move and Enter opens.
    pub(super) selected: usize,
}

impl QueueState {
    /// A page: the first replaces what is shown, a next one is appended.
    pub(super) fn set_page(&mut self, more: bool, page: SuspensePage) {
        if more {
            self.rows.extend(page.rows);
        } else {
            self.rows = page.rows;
        }
        self.more = page.more;
        self.open_count = Some(page.open_count);
        self.loaded = true;
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    pub(super) fn rows(&self) -> &[SuspenseRow] {
        &self.rows
    }
}

impl SuspenseView {
    /// The first page again (after a filter change or an action).
    pub(super) fn refresh_queue(&mut self, outbox: &mut Outbox) {
        let filter = self.queue.filter.clone();
        send(
            outbox,
            SuspensePurpose::Queue { more: false },
            ReconRequest::Queue { filter, after: None, limit: PAGE_ROWS },
        );
    }

    fn next_page(&mut self, outbox: &mut Outbox) {
        let Some(after) = self.queue.rows.last().map(|r| r.id) else { return };
        let filter = self.queue.filter.clone();
        let request = ReconRequest::Queue { filter, after: Some(after), limit: PAGE_ROWS };
        send(outbox, SuspensePurpose::Queue { more: true }, request);
    }

    /// Claims the oldest free item matching the filter (and opens it).
    pub(super) fn claim_next(&mut self, outbox: &mut Outbox) {
        self.clear_status();
        let filter = self.queue.filter.clone();
        send(outbox, SuspensePurpose::ClaimNext, ReconRequest::ClaimNext { filter });
    }

    /// Shows an item (asked for now).
    pub(super) fn show_item(&mut self, outbox: &mut Outbox, id: Uuid) {
        if self.item.open != Some(id) {
            self.item = Default::default();
            self.item.open = Some(id);
        }
        send(outbox, SuspensePurpose::Item(id), ReconRequest::Item { id });
    }

    /// Opens a row: an operator who works items claims it too (an item someone
    /// else holds is shown with the backend's answer).
    pub(super) fn open_row(&mut self, ctx: &mut ViewCtx<'_>, index: usize) {
        let Some(row) = self.queue.rows.get(index).cloned() else { return };
        self.clear_status();
        self.queue.selected = index;
        self.show_item(ctx.outbox, row.id);
        if ctx.abilities.suspense_resolve && row.status != SuspenseStatus::Resolved {
            send(ctx.outbox, SuspensePurpose::Claim(row.id), ReconRequest::Claim { id: row.id });
        }
    }

    pub(super) fn queue_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        if self.filters_ui(ui, lang) {
            self.queue.selected = 0;
            self.refresh_queue(ctx.outbox);
        }
        ui.horizontal(|ui| {
            if ui.button(T::Refresh.text(lang)).clicked() {
                self.clear_status();
                self.refresh_queue(ctx.outbox);
            }
            if ctx.abilities.suspense_resolve && ui.button(T::SusClaimNext.text(lang)).clicked() {
                self.claim_next(ctx.outbox);
            }
            if let Some(n) = self.queue.open_count {
                let cap = domain::suspense::OPEN_COUNT_CAP;
                let n = if n > cap { format!("{cap}+") } else { n.to_string() };
                ui.strong(fill(T::SusOpenCount.text(lang), &[("n", &n)]));
            }
        });
        if ctx.abilities.keyboard {
            ui.weak(T::SusKeyboardHint.text(lang));
        }
        ui.separator();
        if !self.queue.loaded {
            ui.label(T::Loading.text(lang));
            return;
        }
        if self.queue.rows.is_empty() {
            ui.label(T::SusQueueEmpty.text(lang));
            return;
        }
        if let Some(index) = self.table_ui(ui, lang) {
            self.open_row(ctx, index);
        }
        if self.queue.more && ui.button(T::SusMore.text(lang)).clicked() {
            self.next_page(ctx.outbox);
        }
    }

    /// Kind, status and age: whether one changed.
    fn filters_ui(&mut self, ui: &mut egui::Ui, lang: Lang) -> bool {
        let filter = &mut self.queue.filter;
        let before = filter.clone();
        ui.horizontal(|ui| {
            let shown = filter.kind.map_or(T::SusAnyKind, suspense_kind).text(lang);
            labelled_combo_ui(ui, T::SusFilterKind.text(lang), "sus_kind", shown, |ui| {
                ui.selectable_value(&mut filter.kind, None, T::SusAnyKind.text(lang));
                for k in SuspenseKind::ALL {
                    ui.selectable_value(&mut filter.kind, Some(k), suspense_kind(k).text(lang));
                }
            });
            let shown = filter.status.map_or(T::SusAnyStatus, suspense_status).text(lang);
            labelled_combo_ui(ui, T::SusFilterStatus.text(lang), "sus_status", shown, |ui| {
                ui.selectable_value(&mut filter.status, None, T::SusAnyStatus.text(lang));
                for s in SuspenseStatus::ALL {
                    ui.selectable_value(&mut filter.status, Some(s), suspense_status(s).text(lang));
                }
            });
            let shown = filter.age.map_or(T::SusAnyAge, age_bucket).text(lang);
            labelled_combo_ui(ui, T::SusFilterAge.text(lang), "sus_age", shown, |ui| {
                ui.selectable_value(&mut filter.age, None, T::SusAnyAge.text(lang));
                for b in AgeBucket::ALL {
                    ui.selectable_value(&mut filter.age, Some(b), age_bucket(b).text(lang));
                }
            });
        });
        *filter != before
    }

    /// The rows; the index of the one whose amount was clicked.
    fn table_ui(&self, ui: &mut egui::Ui, lang: Lang) -> Option<usize> {
        let mut open = None;
        egui::Grid::new("sus_queue").striped(true).num_columns(9).show(ui, |ui| {
            super::no_wrap(ui);
            for key in [
                T::SusColKind,
                T::SusColAmount,
                T::SusColFound,
                T::SusColAge,
                T::SusColAccount,
                T::SusColChannel,
                T::SusColCounterparty,
                T::SusColStatus,
                T::SusColClaimedBy,
            ] {
                ui.strong(key.text(lang));
            }
            ui.end_row();
            for (i, row) in self.queue.rows.iter().enumerate() {
                ui.label(suspense_kind(row.kind).text(lang));
                // The amount opens the item (and shows the keyboard's row).
                if ui.selectable_label(i == self.queue.selected, signed(row.amount)).clicked() {
                    open = Some(i);
                }
                ui.label(row.found_on.to_string());
                ui.label(row.age_days.to_string());
                ui.label(&row.account);
                ui.label(channel_text(&row.channel, lang));
                ui.label(if row.counterparty.is_empty() { "—" } else { &row.counterparty });
                ui.label(suspense_status(row.status).text(lang));
                ui.label(row.claimed_by.as_deref().unwrap_or("—"));
                ui.end_row();
            }
        });
        open
    }
}
