//! Settings: language, keyboard shortcuts, the attached database, the signed-in
//! operator, and the shared recycled-number workflow settings.

use crate::app::{IDLE_LOCK_SECS, role_text};
use crate::backend::Reply;
use crate::contract::{Outbox, Purpose, ShellCommand, ViewCtx, WorkArea};
use crate::i18n::{Lang, T, fill};
use crate::text::error_text;
use crate::views::login::language_switch_ui;
use domain::auth::OperatorInfo;
use domain::model::DatabaseInfo;
use domain::recycle::{FourEyesPolicy, RecycleSettings, SettingsProposal};
use domain::{ApiError, RecycledRequest, Response};
use rust_decimal::Decimal;

/// What a settings reply is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsPurpose {
    /// The workflow settings, read.
    Load,
    /// The workflow settings, saved.
    Save,
}

/// Settings page state: the shared workflow settings (language and keyboard are
/// the shell's, changed through [`ShellCommand`]s).
#[derive(Debug, Default)]
pub struct SettingsView {
    /// The settings being edited (a copy of those in force until saved).
    workflow: Option<RecycleSettings>,
    /// A four-eyes change waiting for a second supervisor.
    pending: Option<SettingsProposal>,
    saved: bool,
    error: Option<ApiError>,
}

impl WorkArea for SettingsView {
    type Purpose = SettingsPurpose;

    fn on_reply(&mut self, purpose: SettingsPurpose, reply: Reply, _outbox: &mut Outbox) {
        match reply {
            Ok(Response::Settings(s)) => {
                self.workflow = Some(s.current);
                self.pending = s.pending;
                self.error = None;
                self.saved = purpose == SettingsPurpose::Save;
            }
            Ok(_) => {}
            Err(e) => {
                self.saved = false;
                self.error = Some(e);
            }
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let can = ctx.abilities;
        if self.workflow.is_none() && can.review {
            ctx.send(Purpose::Settings(SettingsPurpose::Load), RecycledRequest::RecycleSettings);
            self.workflow = Some(RecycleSettings::default());
        }
        ui.heading(ctx.t(T::AreaSettings));
        ui.add_space(8.0);
        about_ui(ui, ctx);
        let mut keyboard = can.keyboard;
        if ui.checkbox(&mut keyboard, ctx.t(T::KeyboardShortcuts)).changed() {
            ctx.command(ShellCommand::SetKeyboard(keyboard));
        }
        ui.add_space(8.0);
        ui.label(ctx.t(T::DatabaseHowTo));
        ui.label(fill(ctx.t(T::IdleLock), &[("n", &(IDLE_LOCK_SECS / 60.0))]));
        if let Some(w) = self.workflow.as_mut().filter(|_| can.review) {
            ui.separator();
            ui.strong(ctx.t(T::WorkflowSettings));
            ui.add_enabled_ui(can.approve, |ui| workflow_ui(ui, ctx.lang, w, ctx.outbox));
            if let Some(p) = &self.pending {
                pending_ui(ui, ctx, p);
            }
            if self.saved {
                ui.label(ctx.t(T::WorkflowSaved));
            }
            if let Some(e) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, error_text(ctx.lang, e));
            }
        }
    }
}

/// Language, operator, role and the attached database.
fn about_ui(ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
    let (l, op): (Lang, &OperatorInfo) = (ctx.lang, ctx.operator);
    let database: Option<&DatabaseInfo> = ctx.database;
    let mut chosen = None;
    egui::Grid::new("settings").num_columns(2).spacing([16.0, 8.0]).show(ui, |ui| {
        ui.label(T::Language.text(l));
        ui.horizontal(|ui| chosen = language_switch_ui(ui, l));
        ui.end_row();
        ui.label(T::SignedInAs.text(l));
        ui.label(format!("{} ({})", op.display_name, op.username));
        ui.end_row();
        ui.label(T::Role.text(l));
        ui.label(role_text(op.role).text(l));
        ui.end_row();
        if let Some(db) = database {
            ui.label(T::DatabaseKind.text(l));
            ui.label(&db.kind);
            ui.end_row();
            ui.label(T::DatabaseLocation.text(l));
            ui.label(&db.location);
            ui.end_row();
            ui.label(T::SchemaVersion.text(l));
            ui.label(db.schema_version.to_string());
            ui.end_row();
        }
    });
    if let Some(lang) = chosen {
        ctx.command(ShellCommand::SetLang(lang));
    }
}

/// A four-eyes change waiting for approval; another supervisor may approve it.
fn pending_ui(ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, p: &SettingsProposal) {
    let l = ctx.lang;
    let rule = match p.settings.four_eyes {
        FourEyesPolicy::Always => T::FourEyesAlways.text(l).to_owned(),
        FourEyesPolicy::AboveBalance { threshold } => {
            fill(T::FourEyesAboveShort.text(l), &[("yuan", &threshold)])
        }
    };
    let warn = ui.visuals().warn_fg_color;
    ui.colored_label(warn, fill(T::SettingsPending.text(l), &[("by", &p.by), ("rule", &rule)]));
    if ctx.abilities.approve
        && p.by != ctx.operator.username
        && ui.button(T::ApproveSettings.text(l)).clicked()
    {
        let approve = RecycledRequest::ApproveRecycleSettings { proposal_id: p.id };
        ctx.send(Purpose::Settings(SettingsPurpose::Save), approve);
    }
}

fn workflow_ui(ui: &mut egui::Ui, l: Lang, w: &mut RecycleSettings, outbox: &mut Outbox) {
    // Each number is named by the label before it, for automation and screen readers.
    let number = |ui: &mut egui::Ui, key: T, value: &mut i64, range: std::ops::RangeInclusive<i64>| {
        let label = ui.label(key.text(l));
        ui.add(egui::DragValue::new(value).range(range)).labelled_by(label.id);
        ui.end_row();
    };
    egui::Grid::new("workflow").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
        number(ui, T::FreezeDays, &mut w.freeze_days, 0..=RecycleSettings::MAX_FREEZE_DAYS);
        number(ui, T::LeaseMinutes, &mut w.lease_minutes, 1..=RecycleSettings::MAX_LEASE_MINUTES);
        number(ui, T::SlaHours, &mut w.sla_hours, 1..=RecycleSettings::MAX_SLA_HOURS);
    });
    let mut always = w.four_eyes == FourEyesPolicy::Always;
    if ui.radio_value(&mut always, true, T::FourEyesAlways.text(l)).changed() {
        w.four_eyes = FourEyesPolicy::Always;
    }
    ui.horizontal(|ui| {
        let above = ui.radio_value(&mut always, false, T::FourEyesAbove.text(l));
        if above.changed() {
            w.four_eyes = FourEyesPolicy::AboveBalance { threshold: Decimal::new(10_000, 0) };
        }
        if let FourEyesPolicy::AboveBalance { threshold } = &mut w.four_eyes {
            let mut yuan = threshold.trunc().try_into().unwrap_or(0i64);
            let amount = egui::DragValue::new(&mut yuan).range(0..=RecycleSettings::MAX_THRESHOLD_YUAN);
            if ui.add(amount).labelled_by(above.id).changed() {
                *threshold = Decimal::new(yuan, 0);
            }
        }
    });
    if ui.button(T::SaveSettings.text(l)).clicked() {
        let save = RecycledRequest::UpdateRecycleSettings { settings: *w };
        outbox.send(Purpose::Settings(SettingsPurpose::Save), save);
    }
}
