//! A sub-account's entries (newest first, running balance, reversed marker), with
//! date and kind filters, paging, CSV export, 冲正 on an entry, and the chart of
//! end-of-day balances over the last 90 days.

use super::{ENTRY_PAGE, OpKind, Problem, VamPurpose, VamView, parse_date, send, yuan};
use crate::contract::{Outbox, ViewCtx};
use crate::i18n::{Lang, T, fill, transfer_kind};
use crate::views::{fmt_time, labelled_combo_ui, labelled_text_edit_ui};
use domain::api::{VamOperation, VamRequest};
use domain::cases::short_id;
use domain::ledger::{AccountId, TransferId, TransferKind};
use domain::vam::{DayBalanceView, EntryFilter, EntryPage, EntryView};
use rust_decimal::prelude::ToPrimitive;

#[derive(Debug)]
pub(super) struct ReverseForm {
    transfer: TransferId,
    /// The entry's line in the table (1-based), as its button says.
    line: usize,
    reason: String,
}

/// Entries shown, the filter typed and the one applied, the chart's data.
#[derive(Debug, Default)]
pub(super) struct EntriesState {
    entries: Option<Vec<EntryView>>,
    next_before: Option<TransferId>,
    from: String,
    to: String,
    kind: Option<TransferKind>,
    filter: EntryFilter,
    pub(super) reverse: Option<ReverseForm>,
    pub(super) series: Option<Vec<DayBalanceView>>,
}

impl EntriesState {
    /// Another account: nothing of the last one's entries, the filter kept.
    pub(super) fn reset(&mut self) {
        *self = Self {
            from: std::mem::take(&mut self.from),
            to: std::mem::take(&mut self.to),
            kind: self.kind,
            filter: std::mem::take(&mut self.filter),
            ..Self::default()
        };
    }

    pub(super) fn set_page(&mut self, more: bool, page: EntryPage) {
        match (&mut self.entries, more) {
            (Some(entries), true) => entries.extend(page.entries),
            _ => self.entries = Some(page.entries),
        }
        self.next_before = page.next_before;
    }
}

impl VamView {
    /// A page of entries with the applied filter; `before`: an older page.
    pub(super) fn request_entries(
        &mut self,
        outbox: &mut Outbox,
        account: AccountId,
        before: Option<TransferId>,
    ) {
        let filter = self.entries.filter.clone();
        let request = VamRequest::Entries { account, filter, before, limit: ENTRY_PAGE };
        send(outbox, VamPurpose::Entries { account, more: before.is_some() }, request);
    }

    pub(super) fn entries_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, account: AccountId) {
        let lang = ctx.lang;
        ui.strong(T::VamEntriesHeading.text(lang));
        self.filter_ui(ui, ctx, account);
        let Some(entries) = self.entries.entries.clone() else {
            ui.label(T::Loading.text(lang));
            return;
        };
        if entries.is_empty() {
            ui.weak(T::VamNoEntries.text(lang));
        } else {
            self.entries_table_ui(ui, lang, ctx.abilities.vam_operate, &entries);
        }
        self.reverse_ui(ui, ctx);
        if let Some(before) = self.entries.next_before
            && ui.button(T::VamOlderEntries.text(lang)).clicked()
        {
            self.request_entries(ctx.outbox, account, Some(before));
        }
    }

    /// 流水起始日, 流水截止日, 流水类型, 筛选, 导出 CSV.
    fn filter_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, account: AccountId) {
        let lang = ctx.lang;
        let (mut apply, mut export) = (false, false);
        ui.horizontal_wrapped(|ui| {
            let state = &mut self.entries;
            labelled_text_edit_ui(ui, T::VamEntriesFrom.text(lang), &mut state.from, false);
            labelled_text_edit_ui(ui, T::VamEntriesTo.text(lang), &mut state.to, false);
            let shown = state.kind.map_or(T::Any, transfer_kind).text(lang);
            labelled_combo_ui(ui, T::VamEntryKind.text(lang), "vam_entry_kind", shown, |ui| {
                ui.selectable_value(&mut state.kind, None, T::Any.text(lang));
                for k in TransferKind::ALL {
                    ui.selectable_value(&mut state.kind, Some(k), transfer_kind(k).text(lang));
                }
            });
            apply = ui.button(T::VamApplyFilter.text(lang)).clicked();
            export = ui.button(T::VamExport.text(lang)).clicked();
        });
        if !(apply || export) {
            return;
        }
        let Some(filter) = self.typed_filter() else { return };
        self.clear_status();
        self.entries.filter = filter.clone();
        if apply {
            self.entries.entries = None;
            self.request_entries(ctx.outbox, account, None);
        } else {
            send(ctx.outbox, VamPurpose::Export, VamRequest::ExportEntries { account, filter });
        }
    }

    /// The filter as typed; `None` (and a problem shown) when a date does not parse.
    fn typed_filter(&mut self) -> Option<EntryFilter> {
        let date = |text: &str, field: T| match text.trim() {
            "" => Ok(None),
            typed => parse_date(typed).map(Some).ok_or(Problem::Date(field)),
        };
        let parsed = date(&self.entries.from, T::VamEntriesFrom)
            .and_then(|from| Ok((from, date(&self.entries.to, T::VamEntriesTo)?)));
        match parsed {
            Ok((from, to)) => Some(EntryFilter { from, to, kind: self.entries.kind }),
            Err(problem) => {
                self.refuse(problem);
                None
            }
        }
    }

    fn entries_table_ui(&mut self, ui: &mut egui::Ui, lang: Lang, operate: bool, entries: &[EntryView]) {
        egui::Grid::new("vam_entries").striped(true).num_columns(8).show(ui, |ui| {
            for key in [
                T::VamColTime,
                T::VamColKind,
                T::VamColAmount,
                T::VamColBalanceAfter,
                T::VamColCounterparty,
                T::VamColMemo,
                T::Status,
                T::Actions,
            ] {
                ui.strong(key.text(lang));
            }
            ui.end_row();
            for (i, e) in entries.iter().enumerate() {
                ui.label(fmt_time(e.at));
                ui.label(transfer_kind(e.kind).text(lang));
                ui.label(yuan(e.amount));
                ui.label(yuan(e.balance_after));
                ui.label(&e.counterparty);
                ui.label(&e.memo);
                let mut marks = Vec::new();
                if e.reversed {
                    marks.push(T::VamReversedMark.text(lang).to_owned());
                }
                if let Some(of) = e.reverses {
                    marks.push(fill(T::VamReversalOf.text(lang), &[("id", &short_id(of.0))]));
                }
                ui.label(marks.join(" · "));
                let line = i + 1;
                let reversible = operate && !e.reversed && e.reverses.is_none();
                if reversible && ui.button(fill(T::VamReverseRow.text(lang), &[("n", &line)])).clicked() {
                    self.entries.reverse =
                        Some(ReverseForm { transfer: e.transfer_id, line, reason: String::new() });
                }
                ui.end_row();
            }
        });
    }

    /// The reason for a reversal, then 确认冲正.
    fn reverse_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        let Some(form) = &mut self.entries.reverse else { return };
        let (mut submit, mut cancel) = (false, false);
        ui.horizontal(|ui| {
            ui.label(fill(T::VamReversing.text(lang), &[("n", &form.line)]));
            labelled_text_edit_ui(ui, T::VamReverseReason.text(lang), &mut form.reason, false);
            submit = ui.button(T::VamConfirmReverse.text(lang)).clicked();
            cancel = ui.button(T::VamCancelReverse.text(lang)).clicked();
        });
        if cancel {
            self.entries.reverse = None;
        }
        let Some(form) = self.entries.reverse.as_ref().filter(|_| submit) else { return };
        let reason = form.reason.trim().to_owned();
        if reason.is_empty() {
            return self.refuse(Problem::Required(T::VamReverseReason));
        }
        self.act(ctx.outbox, OpKind::Reverse, VamOperation::Reverse { transfer: form.transfer, reason });
    }

    /// 近 90 天余额: a line of end-of-day balances, with low, high and latest in words.
    pub(super) fn chart_ui(&self, ui: &mut egui::Ui, lang: Lang) {
        ui.strong(T::VamChartHeading.text(lang));
        let Some(series) = self.entries.series.as_ref().filter(|s| !s.is_empty()) else {
            ui.weak(T::VamChartEmpty.text(lang));
            return;
        };
        let (Some(low), Some(high), Some(last)) = (
            series.iter().map(|d| d.balance).min(),
            series.iter().map(|d| d.balance).max(),
            series.last().map(|d| d.balance),
        ) else {
            return;
        };
        ui.label(fill(
            T::VamChartSummary.text(lang),
            &[("min", &yuan(low)), ("max", &yuan(high)), ("last", &yuan(last))],
        ));
        line_chart_ui(ui, series, low.to_f64().unwrap_or(0.0), high.to_f64().unwrap_or(0.0));
    }
}

/// The line itself, drawn with the painter: dates along, balances up (f64 for
/// drawing only; the figures above are exact).
fn line_chart_ui(ui: &mut egui::Ui, series: &[DayBalanceView], low: f64, high: f64) {
    let width = ui.available_width().clamp(240.0, 720.0);
    let (response, painter) = ui.allocate_painter(egui::vec2(width, 160.0), egui::Sense::hover());
    let visuals = ui.visuals();
    let frame = response.rect;
    painter.rect_stroke(frame, 2.0, visuals.widgets.noninteractive.bg_stroke, egui::StrokeKind::Inside);
    let font = egui::FontId::proportional(11.0);
    let text_color = visuals.weak_text_color();
    let plot = frame.shrink2(egui::vec2(8.0, 18.0));
    let span = if high > low { high - low } else { 1.0 };
    let steps = series.len().saturating_sub(1).max(1) as f32;
    let points: Vec<egui::Pos2> = series
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = plot.left() + plot.width() * i as f32 / steps;
            let share = (d.balance.to_f64().unwrap_or(0.0) - low) / span;
            egui::pos2(x, plot.bottom() - plot.height() * share as f32)
        })
        .collect();
    let stroke = egui::Stroke::new(1.5, visuals.selection.bg_fill);
    if let [only] = points.as_slice() {
        painter.circle_filled(*only, 2.5, stroke.color);
    } else {
        painter.add(egui::Shape::line(points, stroke));
    }
    let corner = |pos, align, text: String| painter.text(pos, align, text, font.clone(), text_color);
    if let (Some(first), Some(last)) = (series.first(), series.last()) {
        corner(
            frame.left_bottom() + egui::vec2(4.0, -2.0),
            egui::Align2::LEFT_BOTTOM,
            first.date.to_string(),
        );
        corner(
            frame.right_bottom() + egui::vec2(-4.0, -2.0),
            egui::Align2::RIGHT_BOTTOM,
            last.date.to_string(),
        );
    }
}
