//! 导入与对账: a statement file (typed or picked; optional account and CSV
//! layout), checked as a dry run or imported, with an acknowledgement offered when
//! it does not add up; a day reconciled (dry run first), and that day's matches to
//! confirm (suggested) or reverse (confirmed).

use super::{Problem, SuspensePurpose, SuspenseView, parse_date, send, signed, yesterday, yuan};
use crate::contract::{Outbox, PickTarget, ShellCommand, ViewCtx};
use crate::i18n::{
    Lang, T, fill, match_rule_text, match_status, statement_finding_text, statement_format, suspense_kind,
};
use crate::views::{labelled_combo_ui, labelled_text_edit_ui};
use chrono::NaiveDate;
use domain::api::ReconRequest;
use domain::recon::MatchStatus;
use domain::suspense::{ImportReport, MatchView, ReconRunReport, StatementSummary};
use uuid::Uuid;

/// A bank CSV layout, when the header alone does not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Preset {
    #[default]
    Detect,
    Cmb,
    Icbc,
    Mybank,
}

impl Preset {
    const ALL: [Preset; 4] = [Preset::Detect, Preset::Cmb, Preset::Icbc, Preset::Mybank];

    /// The code the backend reads.
    fn code(self) -> Option<&'static str> {
        match self {
            Preset::Detect => None,
            Preset::Cmb => Some("cmb"),
            Preset::Icbc => Some("icbc"),
            Preset::Mybank => Some("mybank"),
        }
    }

    fn label(self) -> T {
        match self {
            Preset::Detect => T::SusPresetNone,
            Preset::Cmb => T::SusPresetCmb,
            Preset::Icbc => T::SusPresetIcbc,
            Preset::Mybank => T::SusPresetMybank,
        }
    }
}

/// What is typed and what came back.
#[derive(Debug)]
pub(super) struct ImportState {
    path: String,
    account: String,
    preset: Preset,
    /// Shown once the backend said the statement does not add up.
    offer_acknowledge: bool,
    acknowledge: bool,
    report: Option<ImportReport>,
    day: String,
    run: Option<ReconRunReport>,
    matches: Option<Vec<MatchView>>,
    /// The day the matches shown are of.
    pub(super) matches_day: Option<NaiveDate>,
    suggested_only: bool,
    pub(super) unmatch_reason: String,
}

impl Default for ImportState {
    fn default() -> Self {
        Self {
            path: String::new(),
            account: String::new(),
            preset: Preset::Detect,
            offer_acknowledge: false,
            acknowledge: false,
            report: None,
            day: yesterday().to_string(),
            run: None,
            matches: None,
            matches_day: None,
            suggested_only: false,
            unmatch_reason: String::new(),
        }
    }
}

impl ImportState {
    pub(super) fn set_path(&mut self, path: String) {
        self.path = path;
        self.offer_acknowledge = false;
        self.acknowledge = false;
    }

    pub(super) fn offer_acknowledge(&mut self) {
        self.offer_acknowledge = true;
    }

    pub(super) fn set_report(&mut self, report: ImportReport) {
        if !report.dry_run {
            self.offer_acknowledge = false;
            self.acknowledge = false;
        }
        self.report = Some(report);
    }

    pub(super) fn set_run(&mut self, run: ReconRunReport) {
        self.run = Some(run);
    }

    pub(super) fn set_matches(&mut self, list: Vec<MatchView>) {
        self.matches = Some(list);
    }
}

impl SuspenseView {
    pub(super) fn load_matches(&mut self, outbox: &mut Outbox, day: NaiveDate) {
        self.import.matches_day = Some(day);
        let suggested_only = self.import.suggested_only;
        send(outbox, SuspensePurpose::Matches, ReconRequest::Matches { day, suggested_only });
    }

    pub(super) fn import_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        if ctx.abilities.statement_import {
            self.statement_ui(ui, ctx);
            ui.separator();
        }
        self.day_ui(ui, ctx);
    }

    /// The file, its options, dry run and import, and the report.
    fn statement_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        ui.strong(T::SusImportHeading.text(lang));
        ui.weak(T::SusImportHint.text(lang));
        let s = &mut self.import;
        ui.horizontal(|ui| {
            // Wide: a path is long.
            let label = ui.label(T::FilePath.text(lang));
            ui.add(egui::TextEdit::singleline(&mut s.path).desired_width(560.0)).labelled_by(label.id);
            if ui.button(T::PickFile.text(lang)).clicked() {
                ctx.outbox.command(ShellCommand::PickFile(PickTarget::Statement));
            }
        });
        ui.horizontal(|ui| {
            labelled_text_edit_ui(ui, T::SusAccountField.text(lang), &mut s.account, false);
            labelled_combo_ui(ui, T::SusPreset.text(lang), "sus_preset", s.preset.label().text(lang), |ui| {
                for p in Preset::ALL {
                    ui.selectable_value(&mut s.preset, p, p.label().text(lang));
                }
            });
        });
        if s.offer_acknowledge {
            ui.checkbox(&mut s.acknowledge, T::SusAcknowledge.text(lang));
        }
        let mut run = None;
        ui.horizontal(|ui| {
            let ready = !s.path.trim().is_empty();
            if ui.add_enabled(ready, egui::Button::new(T::SusCheckOnly.text(lang))).clicked() {
                run = Some(true);
            }
            if ui.add_enabled(ready, egui::Button::new(T::SusImport.text(lang))).clicked() {
                run = Some(false);
            }
        });
        if let Some(dry_run) = run {
            self.clear_status();
            let s = &mut self.import;
            s.report = None;
            let account = Some(s.account.trim().to_owned()).filter(|a| !a.is_empty());
            let request = ReconRequest::ImportStatement {
                path: s.path.trim().to_owned(),
                account,
                preset: s.preset.code().map(str::to_owned),
                dry_run,
                acknowledge_difference: s.offer_acknowledge && s.acknowledge,
            };
            send(ctx.outbox, SuspensePurpose::Import { dry_run }, request);
        }
        if let Some(report) = &self.import.report {
            import_report_ui(ui, lang, report);
        }
    }

    /// The day: reconcile it (dry run first), and its matches.
    fn day_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        ui.strong(T::SusReconcileHeading.text(lang));
        let mut action = None;
        ui.horizontal(|ui| {
            labelled_text_edit_ui(ui, T::SusDay.text(lang), &mut self.import.day, false);
            ui.weak(T::SusDateHint.text(lang));
        });
        ui.horizontal(|ui| {
            if ctx.abilities.reconcile_run {
                if ui.button(T::SusDryRun.text(lang)).clicked() {
                    action = Some(DayAction::Reconcile { dry_run: true });
                }
                if ui.button(T::SusReconcile.text(lang)).clicked() {
                    action = Some(DayAction::Reconcile { dry_run: false });
                }
            }
            if ui.button(T::SusShowMatches.text(lang)).clicked() {
                action = Some(DayAction::Matches);
            }
            ui.checkbox(&mut self.import.suggested_only, T::SusSuggestedOnly.text(lang));
        });
        if let Some(action) = action {
            match parse_date(&self.import.day) {
                None => self.refuse(Problem::Date(T::SusDay)),
                Some(day) => {
                    self.clear_status();
                    match action {
                        DayAction::Reconcile { dry_run } => {
                            self.import.run = None;
                            let request = ReconRequest::Reconcile { day, physical_id: None, dry_run };
                            send(ctx.outbox, SuspensePurpose::Reconcile { dry_run }, request);
                        }
                        DayAction::Matches => self.load_matches(ctx.outbox, day),
                    }
                }
            }
        }
        if let Some(run) = &self.import.run {
            run_report_ui(ui, lang, run);
        }
        self.matches_ui(ui, ctx);
    }

    fn matches_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        let Some(list) = &self.import.matches else { return };
        ui.separator();
        let day = self.import.matches_day.map(|d| d.to_string()).unwrap_or_default();
        ui.strong(format!("{} {day}", T::SusMatchesHeading.text(lang)));
        if list.is_empty() {
            ui.weak(T::SusNoMatches.text(lang));
            return;
        }
        let resolve = ctx.abilities.suspense_resolve;
        if resolve {
            labelled_text_edit_ui(ui, T::SusUnmatchReason.text(lang), &mut self.import.unmatch_reason, false);
        }
        let mut clicked = None;
        egui::Grid::new("sus_matches").striped(true).num_columns(7).show(ui, |ui| {
            super::no_wrap(ui);
            for key in [
                T::SusColRule,
                T::SusColStatus,
                T::SusColLines,
                T::SusColItems,
                T::SusColDifference,
                T::SusColScore,
                T::Actions,
            ] {
                ui.strong(key.text(lang));
            }
            ui.end_row();
            for (i, m) in list.iter().enumerate() {
                ui.label(match_rule_text(&m.rule, lang));
                ui.label(match_status(m.status).text(lang));
                ui.vertical(|ui| {
                    for l in &m.lines {
                        let who = l.counterparty.as_deref().unwrap_or("—");
                        ui.label(format!("{} {} {who}", l.bank_ref, signed(l.amount)));
                    }
                });
                ui.vertical(|ui| {
                    for o in &m.items {
                        ui.label(format!("{} {}", o.reference, signed(o.amount)));
                    }
                });
                ui.label(signed(m.difference));
                ui.label(m.score.to_string());
                let n: [(&str, &dyn std::fmt::Display); 1] = [("n", &(i + 1))];
                match m.status {
                    MatchStatus::Suggested if resolve => {
                        if ui.button(fill(T::SusConfirmMatchRow.text(lang), &n)).clicked() {
                            clicked = Some((m.id, true));
                        }
                    }
                    MatchStatus::Confirmed if resolve => {
                        if ui.button(fill(T::SusUnmatchRow.text(lang), &n)).clicked() {
                            clicked = Some((m.id, false));
                        }
                    }
                    _ => {
                        ui.label("");
                    }
                }
                ui.end_row();
            }
        });
        if let Some((match_id, confirm)) = clicked {
            self.match_action(ctx.outbox, match_id, confirm);
        }
    }

    fn match_action(&mut self, outbox: &mut Outbox, match_id: Uuid, confirm: bool) {
        if confirm {
            self.clear_status();
            send(outbox, SuspensePurpose::ConfirmMatch, ReconRequest::ConfirmMatch { match_id });
            return;
        }
        let reason = self.import.unmatch_reason.trim().to_owned();
        if reason.is_empty() {
            self.refuse(Problem::Required(T::SusUnmatchReason));
            return;
        }
        self.clear_status();
        send(outbox, SuspensePurpose::Unmatch, ReconRequest::Unmatch { match_id, reason });
    }
}

#[derive(Debug, Clone, Copy)]
enum DayAction {
    Reconcile { dry_run: bool },
    Matches,
}

fn import_report_ui(ui: &mut egui::Ui, lang: Lang, r: &ImportReport) {
    ui.label(fill(T::SusFormat.text(lang), &[("format", &statement_format(r.format).text(lang))]));
    let state = if r.dry_run {
        T::SusDryRunNothing
    } else if r.repeat {
        T::SusRepeat
    } else {
        T::SusStored
    };
    ui.strong(state.text(lang));
    egui::Grid::new("sus_statements").striped(true).num_columns(10).show(ui, |ui| {
        super::no_wrap(ui);
        for key in [
            T::SusColStatementId,
            T::SusColAccount,
            T::SusColKnown,
            T::SusColOpening,
            T::SusColClosing,
            T::SusColAddsUp,
            T::SusColEntries,
            T::SusColCredits,
            T::SusColDebits,
            T::SusColFindings,
        ] {
            ui.strong(key.text(lang));
        }
        ui.end_row();
        for s in &r.statements {
            statement_row_ui(ui, lang, s);
            ui.end_row();
        }
    });
}

fn statement_row_ui(ui: &mut egui::Ui, lang: Lang, s: &StatementSummary) {
    let yes_no = |b: bool| if b { T::Yes.text(lang) } else { T::No.text(lang) };
    let balance = |b: Option<rust_decimal::Decimal>| b.map_or_else(|| "—".to_owned(), yuan);
    ui.label(&s.statement_id);
    ui.label(&s.account);
    ui.label(yes_no(s.known_account));
    ui.label(balance(s.opening));
    ui.label(balance(s.closing));
    if s.adds_up {
        ui.label(yes_no(true));
    } else {
        ui.colored_label(ui.visuals().error_fg_color, yes_no(false));
    }
    ui.label(s.entries.to_string());
    ui.label(yuan(s.credits));
    ui.label(yuan(s.debits));
    ui.vertical(|ui| {
        if s.replaces {
            ui.label(T::SusReplaces.text(lang));
        }
        if s.findings.is_empty() && !s.replaces {
            ui.weak(T::SusNone.text(lang));
        }
        for f in &s.findings {
            ui.label(statement_finding_text(f, lang));
        }
    });
}

fn run_report_ui(ui: &mut egui::Ui, lang: Lang, r: &ReconRunReport) {
    let title = if r.dry_run { T::SusRunDry } else { T::SusRunDone };
    ui.strong(fill(title.text(lang), &[("day", &r.day)]));
    let separator = if lang == Lang::Zh { "、" } else { ", " };
    let found: Vec<String> = r
        .found
        .iter()
        .map(|(kind, n)| {
            fill(T::SusFoundKind.text(lang), &[("kind", &suspense_kind(*kind).text(lang)), ("n", n)])
        })
        .collect();
    let found = if found.is_empty() { T::SusNone.text(lang).to_owned() } else { found.join(separator) };
    let rows: [(T, String); 7] = [
        (T::SusRunLines, r.lines.to_string()),
        (T::SusRunConfirmed, r.confirmed.to_string()),
        (T::SusRunSuggested, r.suggested.to_string()),
        (T::SusRunAmbiguous, r.ambiguous.to_string()),
        (T::SusRunAlreadyBooked, r.already_booked.to_string()),
        (T::SusRunFound, found),
        (T::SusRunReversed, r.reversed.to_string()),
    ];
    egui::Grid::new("sus_run").num_columns(2).spacing([16.0, 2.0]).show(ui, |ui| {
        super::no_wrap(ui);
        for (key, value) in rows {
            ui.label(key.text(lang));
            ui.strong(value);
            ui.end_row();
        }
    });
}
