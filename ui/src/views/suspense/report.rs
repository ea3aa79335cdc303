//! 对账报表: a day's rows per account and channel (matched, open by kind), the
//! aging of open items as a bar chart (drawn with the painter, labelled), the proof
//! that every suspense ledger balance equals its open items, each statement's
//! balance proof (closing = the ledger's asset mirror + itemised drift), and CSV /
//! XLSX export. It opens on the day the backend names (the latest reconciled day);
//! a closed day shows its snapshot, who closed it and what changed since.

use super::{Problem, SuspensePurpose, SuspenseView, parse_date, send, signed, yuan};
use crate::contract::{Outbox, ViewCtx};
use crate::i18n::{
    Lang, T, age_bucket, channel_text, closed_fact, drift_kind, fact_reference_text, fact_value_text, fill,
    suspense_kind,
};
use crate::views::{fmt_time, labelled_text_edit_ui};
use domain::api::ReconRequest;
use domain::suspense::{
    AgeBucket, ClosedDay, DayReport, DriftGroup, ReconReport, ReportDaySource, ReportRow, StatementProof,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// The day typed and its report.
#[derive(Debug, Default)]
pub(super) struct ReportState {
    day: String,
    report: Option<DayReport>,
    asked: bool,
}

impl ReportState {
    /// The report screen's answer; the day field shows the day it is for.
    pub(super) fn set(&mut self, report: DayReport) {
        self.day = report.day.to_string();
        self.report = Some(report);
    }

    /// The plain report of a day (figures only, no statement proofs).
    pub(super) fn set_figures(&mut self, report: ReconReport) {
        let day = report.day;
        self.set(DayReport {
            day,
            source: ReportDaySource::Asked,
            report,
            statements: Vec::new(),
            closed: None,
        });
    }

    /// The first time the screen is shown: the report of the day the backend
    /// names (the latest reconciled day), not a day guessed here.
    pub(super) fn load_once(&mut self, outbox: &mut Outbox) {
        if self.asked {
            return;
        }
        self.asked = true;
        send(outbox, SuspensePurpose::Report, ReconRequest::DayReport { day: None });
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
            let typed = self.report.day.trim().to_owned();
            // An empty field: the backend's default day to show, the shown day to export.
            let shown = self.report.report.as_ref().map(|r| r.day).filter(|_| typed.is_empty());
            let asked = match export {
                None if typed.is_empty() => {
                    Some((SuspensePurpose::Report, ReconRequest::DayReport { day: None }))
                }
                None => parse_date(&typed)
                    .map(|day| (SuspensePurpose::Report, ReconRequest::DayReport { day: Some(day) })),
                Some(xlsx) => parse_date(&typed)
                    .or(shown)
                    .map(|day| (SuspensePurpose::Export, ReconRequest::ExportReport { day, xlsx })),
            };
            match asked {
                Some((purpose, request)) => {
                    self.clear_status();
                    send(ctx.outbox, purpose, request);
                }
                None => self.refuse(Problem::Date(T::SusDay)),
            }
        }
        let Some(shown) = &self.report.report else {
            ui.label(T::Loading.text(lang));
            return;
        };
        ui.separator();
        ui.horizontal(|ui| {
            ui.strong(format!("{} {}", T::SusTabReport.text(lang), shown.day));
            match shown.source {
                ReportDaySource::Asked => {}
                ReportDaySource::LatestRun => {
                    ui.weak(T::SusReportLatestRun.text(lang));
                }
                ReportDaySource::Yesterday => {
                    ui.weak(T::SusReportYesterday.text(lang));
                }
            }
        });
        if let Some(closed) = &shown.closed {
            closed_ui(ui, lang, closed);
        }
        let report = &shown.report;
        rows_ui(ui, lang, &report.rows);
        ui.separator();
        ui.strong(T::SusAgingHeading.text(lang));
        aging_chart_ui(ui, lang, &report.aging);
        ui.separator();
        proof_ui(ui, lang, report);
        ui.separator();
        statements_ui(ui, lang, &shown.statements);
    }
}

/// Who closed the day and when; whether its snapshot is intact and whether the
/// database still agrees with it.
fn closed_ui(ui: &mut egui::Ui, lang: Lang, closed: &ClosedDay) {
    let at = fmt_time(closed.closed_at);
    let params: [(&str, &dyn std::fmt::Display); 2] = [("by", &closed.closed_by), ("at", &at)];
    let Some(check) = &closed.snapshot else {
        ui.label(fill(T::SusClosedNoSnapshot.text(lang), &params));
        return;
    };
    let error = ui.visuals().error_fg_color;
    ui.label(fill(T::SusClosedSnapshot.text(lang), &params));
    ui.weak(fill(T::SusSnapshotSha.text(lang), &[("sha", &check.sha256)]));
    if check.intact {
        ui.label(T::SusSnapshotIntact.text(lang));
    } else {
        ui.colored_label(error, T::SusSnapshotTampered.text(lang));
    }
    if check.differences.is_empty() {
        ui.label(T::SusSnapshotSame.text(lang));
        return;
    }
    ui.colored_label(error, T::SusSnapshotDiffers.text(lang));
    for d in &check.differences {
        ui.colored_label(
            error,
            fill(
                T::SusSnapshotDifference.text(lang),
                &[
                    ("fact", &closed_fact(d.fact).text(lang)),
                    ("reference", &fact_reference_text(d.fact, &d.reference, lang)),
                    ("snapshot", &fact_value_text(&d.snapshot, lang)),
                    ("live", &fact_value_text(&d.live, lang)),
                ],
            ),
        );
    }
}

/// Each statement of the day: closing, ledger, drift in all, what is left
/// unexplained, then the drift by kind with its largest items.
fn statements_ui(ui: &mut egui::Ui, lang: Lang, statements: &[StatementProof]) {
    ui.strong(T::SusStmtProofHeading.text(lang));
    if statements.is_empty() {
        ui.weak(T::SusNoStatements.text(lang));
        return;
    }
    for (i, p) in statements.iter().enumerate() {
        ui.add_space(4.0);
        ui.strong(fill(
            T::SusStmtProofTitle.text(lang),
            &[("account", &p.account), ("statement", &p.statement), ("from", &p.from), ("to", &p.to)],
        ));
        let error = ui.visuals().error_fg_color;
        match p.unexplained {
            None => {
                ui.colored_label(error, T::SusStmtNoBalances.text(lang));
            }
            Some(u) if u.is_zero() => {
                ui.label(T::SusStmtHolds.text(lang));
            }
            Some(u) => {
                ui.colored_label(error, fill(T::SusStmtBroken.text(lang), &[("amount", &signed(u))]));
            }
        }
        egui::Grid::new(("sus_statement_proof", i)).num_columns(2).show(ui, |ui| {
            super::no_wrap(ui);
            if let Some(closing) = p.closing {
                ui.label(T::SusStmtClosing.text(lang));
                ui.label(yuan(closing));
                ui.end_row();
            }
            ui.label(fill(T::SusStmtLedger.text(lang), &[("day", &p.to)]));
            ui.label(yuan(p.ledger));
            ui.end_row();
            ui.label(T::SusStmtExplained.text(lang));
            ui.label(signed(p.explained));
            ui.end_row();
            if let Some(u) = p.unexplained {
                ui.label(T::SusStmtUnexplained.text(lang));
                ui.label(signed(u));
                ui.end_row();
            }
        });
        if p.drift.is_empty() {
            ui.weak(T::SusNoDrift.text(lang));
        }
        for g in &p.drift {
            drift_group_ui(ui, lang, g);
        }
    }
}

fn drift_group_ui(ui: &mut egui::Ui, lang: Lang, g: &DriftGroup) {
    ui.label(fill(
        T::SusDriftGroup.text(lang),
        &[("kind", &drift_kind(g.kind).text(lang)), ("count", &g.count), ("amount", &signed(g.total))],
    ));
    ui.indent(("sus_drift", g.kind.as_str()), |ui| {
        for item in &g.items {
            let amount = signed(item.amount);
            let text = match item.day {
                Some(day) => fill(
                    T::SusDriftItemDay.text(lang),
                    &[("reference", &item.reference), ("day", &day), ("amount", &amount)],
                ),
                None => {
                    fill(T::SusDriftItem.text(lang), &[("reference", &item.reference), ("amount", &amount)])
                }
            };
            ui.weak(text);
        }
        let more = g.count.saturating_sub(g.items.len() as u64);
        if more > 0 {
            ui.weak(fill(T::SusDriftMore.text(lang), &[("n", &more)]));
        }
    });
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
