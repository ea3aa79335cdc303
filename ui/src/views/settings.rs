//! Settings: language, the attached database, the signed-in operator.

use crate::app::{IDLE_LOCK_SECS, role_text};
use crate::i18n::{Lang, T, fill};
use crate::views::login::language_switch_ui;
use domain::auth::OperatorInfo;
use domain::model::DatabaseInfo;

/// Draws the settings page.
pub fn settings_ui(ui: &mut egui::Ui, lang: &mut Lang, database: Option<&DatabaseInfo>, op: &OperatorInfo) {
    let l = *lang;
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
    ui.add_space(8.0);
    ui.label(T::DatabaseHowTo.text(l));
    ui.label(fill(T::IdleLock.text(l), &[("n", &(IDLE_LOCK_SECS / 60.0))]));
}
