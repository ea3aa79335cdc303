//! Settings: language, keyboard shortcuts, the attached database, the signed-in
//! operator, and the shared recycled-number workflow settings.

use crate::app::{IDLE_LOCK_SECS, Outbox, Purpose, role_text};
use crate::i18n::{Lang, T, fill};
use crate::views::login::language_switch_ui;
use domain::Request;
use domain::auth::OperatorInfo;
use domain::model::DatabaseInfo;
use domain::recycle::{FourEyesPolicy, RecycleSettings};
use rust_decimal::Decimal;

/// What the settings page shows and edits.
pub struct SettingsPage<'a> {
    /// Attached database.
    pub database: Option<&'a DatabaseInfo>,
    /// Signed-in operator.
    pub op: &'a OperatorInfo,
    /// Keyboard shortcuts in the queue.
    pub keyboard: &'a mut bool,
    /// Workflow settings, if the operator works the queue.
    pub workflow: Option<&'a mut RecycleSettings>,
    /// Whether the operator may change them (the backend checks too).
    pub can_edit_workflow: bool,
}

/// Draws the settings page.
pub fn settings_ui(ui: &mut egui::Ui, lang: &mut Lang, page: SettingsPage<'_>, outbox: &mut Outbox) {
    let l = *lang;
    let op = page.op;
    ui.heading(T::AreaSettings.text(l));
    ui.add_space(8.0);
    egui::Grid::new("settings").num_columns(2).spacing([16.0, 8.0]).show(ui, |ui| {
        ui.label(T::Language.text(l));
        ui.horizontal(|ui| language_switch_ui(ui, lang));
        ui.end_row();
        ui.label(T::SignedInAs.text(l));
        ui.label(format!("{} ({})", op.display_name, op.username));
        ui.end_row();
        ui.label(T::Role.text(l));
        ui.label(role_text(op.role).text(l));
        ui.end_row();
        if let Some(db) = page.database {
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
    ui.checkbox(page.keyboard, T::KeyboardShortcuts.text(l));
    ui.add_space(8.0);
    ui.label(T::DatabaseHowTo.text(l));
    ui.label(fill(T::IdleLock.text(l), &[("n", &(IDLE_LOCK_SECS / 60.0))]));
    if let Some(w) = page.workflow {
        ui.separator();
        ui.strong(T::WorkflowSettings.text(l));
        ui.add_enabled_ui(page.can_edit_workflow, |ui| workflow_ui(ui, l, w, outbox));
    }
}

fn workflow_ui(ui: &mut egui::Ui, l: Lang, w: &mut RecycleSettings, outbox: &mut Outbox) {
    egui::Grid::new("workflow").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
        ui.label(T::FreezeDays.text(l));
        ui.add(egui::DragValue::new(&mut w.freeze_days).range(0..=365));
        ui.end_row();
        ui.label(T::LeaseMinutes.text(l));
        ui.add(egui::DragValue::new(&mut w.lease_minutes).range(1..=480));
        ui.end_row();
        ui.label(T::SlaHours.text(l));
        ui.add(egui::DragValue::new(&mut w.sla_hours).range(1..=720));
        ui.end_row();
    });
    let mut always = w.four_eyes == FourEyesPolicy::Always;
    if ui.radio_value(&mut always, true, T::FourEyesAlways.text(l)).changed() {
        w.four_eyes = FourEyesPolicy::Always;
    }
    ui.horizontal(|ui| {
        if ui.radio_value(&mut always, false, T::FourEyesAbove.text(l)).changed() {
            w.four_eyes = FourEyesPolicy::AboveBalance { threshold: Decimal::new(10_000, 0) };
        }
        if let FourEyesPolicy::AboveBalance { threshold } = &mut w.four_eyes {
            let mut yuan = threshold.trunc().try_into().unwrap_or(0i64);
            if ui.add(egui::DragValue::new(&mut yuan).range(0..=100_000_000)).changed() {
                *threshold = Decimal::new(yuan, 0);
            }
        }
    });
    if ui.button(T::SaveSettings.text(l)).clicked() {
        outbox.send(Purpose::WorkflowSettings, Request::UpdateRecycleSettings { settings: *w });
    }
}
