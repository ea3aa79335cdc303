//! 对账报表: a day's rows per account and channel (matched, open by kind), the
//! aging of open items as a bar chart (drawn with the painter, labelled), the proof
//! that every suspense ledger balance equals its open items, and CSV / XLSX export.

use super::{Problem, SuspensePurpose, SuspenseView, parse_date, send, signed, yesterday, yuan};
use crate::contract::{Outbox, ViewCtx};
use crate::i18n::{Lang, T, age_bucket, channel_text, fill, suspense_kind};
use crate::views::labelled_text_edit_ui;
use domain::api::ReconRequest;
use domain::suspense::{AgeBucket, ReconReport, ReportRow};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// The day typed and its report.
#[derive(Debug)]
pub(super) struct ReportState {
    day: String,
    report: Option<ReconReport>,
    asked: bool,
}

impl Default for ReportState {
    fn default() -> Self {
        Self { day: yesterday().to_string(), report: None, asked: false }
    }
}

impl ReportState {
    pub(super) fn set(&mut self, report: ReconReport) {
        self.report = Some(report);
    }

    /// The default day's report, the first time the screen is shown.
    pub(super) fn load_once(&mut self, outbox: &mut Outbox) {
        if self.asked {
            return;
        }
        if let Some(day) = parse_date(&self.day) {
            self.asked = true;
            send(outbox, SuspensePurpose::Report, ReconRequest::Report { day });
        }
    }
}

impl SuspenseView {
    pub(super) fn report_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        self.report.load_once(ctx.outbox);
        let mut action = None;
        ui.horizontal(|ui| {
            labelled_text_edit_ui(ui, T::SusDay.text(lang), &mut self.report.day, false);
            if ui.button(T::SusShowReport.text(lang)).clicked() {
                action = Some(None);
            }
            if ctx.abilities.suspense_resolve {
                if ui.button(T::SusExportCsv.text(lang)).clicked() {
                    action = Some(Some(false));
                }
                if ui.button(T::SusExportXlsx.text(lang)).clicked() {
                    action = Some(Some(true));
                }
            }
        });
        if let Some(export) = action {
            match parse_date(&self.report.day) {
                None => self.refuse(Problem::Date(T::SusDay)),
                Some(day) => {
                    self.clear_status();
                    match export {
                        None => send(ctx.outbox, SuspensePurpose::Report, ReconRequest::Report { day }),
                        Some(xlsx) => send(
                            ctx.outbox,
                            SuspensePurpose::Export,
                            ReconRequest::ExportReport { day, xlsx },
                        ),
                    }
                }
            }
        }
        let Some(report) = &self.report.report else {
            ui.label(T::Loading.text(lang));
            return;
        };
        ui.separator();
        ui.strong(format!("{} {}", T::SusTabReport.text(lang), report.day));
        rows_ui(ui, lang, &report.rows);
        ui.separator();
        ui.strong(T::SusAgingHeading.text(lang));
        aging_chart_ui(ui, lang, &report.aging);
        ui.separator();
        proof_ui(ui, lang, report);
    }
}

fn rows_ui(ui: &mut egui::Ui, lang: Lang, rows: &[ReportRow]) {
    if rows.is_empty() {
        ui.weak(T::SusNoReportRows.text(lang));
        return;
    }
    egui::Grid::new("sus_report").striped(true).num_columns(5).show(ui, |ui| {
        super::no_wrap(ui);
        for key in [
            T::SusColAccount,
            T::SusColChannel,
            T::SusColMatched,
            T::SusColMatchedAmount,
            T::SusColOpenByKind,
        ] {
            ui.strong(key.text(lang));
        }
        ui.end_row();
        for r in rows {
            ui.label(&r.account);
            ui.label(channel_text(&r.channel, lang));
            ui.label(r.matched.to_string());
            ui.label(yuan(r.matched_amount));
            ui.vertical(|ui| {
                if r.open.is_empty() {
                    ui.weak(T::SusNone.text(lang));
                }
                for (kind, count, amount) in &r.open {
                    ui.label(fill(
                        T::SusOpenKindLine.text(lang),
                        &[
                            ("kind", &suspense_kind(*kind).text(lang)),
                            ("count", count),
                            ("amount", &signed(*amount)),
                        ],
                    ));
                }
            });
            ui.end_row();
        }
    });
}

/// Four bars, one per bucket, as high as the bucket's amount (f64 for drawing
/// only), each labelled with its bucket, count and amount; the same words follow
/// as text for screen readers and automation.
fn aging_chart_ui(ui: &mut egui::Ui, lang: Lang, aging: &[(AgeBucket, u64, Decimal)]) {
    let bars: Vec<(AgeBucket, u64, Decimal)> = AgeBucket::ALL
        .iter()
        .map(|b| aging.iter().find(|(a, _, _)| a == b).copied().unwrap_or((*b, 0, Decimal::ZERO)))
        .collect();
    let highest = bars.iter().map(|(_, _, a)| a.abs().to_f64().unwrap_or(0.0)).fold(0.0_f64, f64::max);
    let width = ui.available_width().clamp(320.0, 640.0);
    let (response, painter) = ui.allocate_painter(egui::vec2(width, 180.0), egui::Sense::hover());
    let visuals = ui.visuals();
    let frame = response.rect;
    painter.rect_stroke(frame, 2.0, visuals.widgets.noninteractive.bg_stroke, egui::StrokeKind::Inside);
    let font = egui::FontId::proportional(11.0);
    let text_color = visuals.text_color();
    let plot = frame.shrink2(egui::vec2(12.0, 8.0));
    let slot = plot.width() / bars.len().max(1) as f32;
    let base = plot.bottom() - 32.0;
    let tallest = (base - plot.top() - 16.0).max(1.0);
    let fill_color = visuals.selection.bg_fill;
    for (i, (bucket, count, amount)) in bars.iter().enumerate() {
        let share = if highest > 0.0 { amount.abs().to_f64().unwrap_or(0.0) / highest } else { 0.0 };
        let height = (share as f32 * tallest).max(if *count > 0 { 2.0 } else { 0.0 });
        let left = plot.left() + slot * i as f32 + slot * 0.2;
        let bar =
            egui::Rect::from_min_max(egui::pos2(left, base - height), egui::pos2(left + slot * 0.6, base));
        painter.rect_filled(bar, 2.0, fill_color);
        let centre = bar.center().x;
        painter.text(
            egui::pos2(centre, bar.top() - 2.0),
            egui::Align2::CENTER_BOTTOM,
            count.to_string(),
            font.clone(),
            text_color,
        );
        painter.text(
            egui::pos2(centre, base + 4.0),
            egui::Align2::CENTER_TOP,
            age_bucket(*bucket).text(lang),
            font.clone(),
            text_color,
        );
        painter.text(
            egui::pos2(centre, base + 18.0),
            egui::Align2::CENTER_TOP,
            yuan(*amount),
            font.clone(),
            text_color,
        );
    }
    painter.line_segment(
        [egui::pos2(plot.left(), base), egui::pos2(plot.right(), base)],
        visuals.widgets.noninteractive.fg_stroke,
    );
    ui.horizontal_wrapped(|ui| {
        for (bucket, count, amount) in &bars {
            ui.label(fill(
                T::SusAgingBar.text(lang),
                &[("bucket", &age_bucket(*bucket).text(lang)), ("count", count), ("amount", &yuan(*amount))],
            ));
        }
    });
}

fn proof_ui(ui: &mut egui::Ui, lang: Lang, report: &ReconReport) {
    ui.strong(T::SusProofHeading.text(lang));
    if report.proof_holds() {
        ui.label(T::SusProofHolds.text(lang));
    } else {
        ui.colored_label(ui.visuals().error_fg_color, T::SusProofBroken.text(lang));
    }
    egui::Grid::new("sus_proof").striped(true).num_columns(4).show(ui, |ui| {
        super::no_wrap(ui);
        for key in [T::SusColKind, T::SusColItemsSum, T::SusColLedgerBalance, T::SusColAgrees] {
            ui.strong(key.text(lang));
        }
        ui.end_row();
        for (kind, items, ledger) in &report.proof {
            ui.label(suspense_kind(*kind).text(lang));
            ui.label(signed(*items));
            ui.label(signed(*ledger));
            if items == ledger {
                ui.label(T::SusAgreesYes.text(lang));
            } else {
                ui.colored_label(ui.visuals().error_fg_color, T::SusAgreesNo.text(lang));
            }
            ui.end_row();
        }
    });
}
