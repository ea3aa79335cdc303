//! Views: each owns its state and follows the [`WorkArea`](crate::contract::WorkArea)
//! contract (login is the one screen outside it).

pub mod audit;
pub mod force_unbind;
pub mod login;
pub mod lookup;
pub mod operators;
pub mod password;
pub mod recycled;
pub mod settings;
pub mod suspense;
pub mod vam;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Times are shown in Beijing time, as operators and carriers use it.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    const FORMAT: &str = "%Y-%m-%d %H:%M";
    match FixedOffset::east_opt(8 * 3600) {
        Some(beijing) => t.with_timezone(&beijing).format(FORMAT).to_string(),
        None => t.format(FORMAT).to_string(),
    }
}

/// Today's business date (Beijing).
pub fn today() -> NaiveDate {
    let now = now_utc();
    FixedOffset::east_opt(8 * 3600).map_or(now.date_naive(), |b| now.with_timezone(&b).date_naive())
}

/// Now, by the clock the UI runs on.
#[cfg(target_arch = "wasm32")]
pub fn now_utc() -> DateTime<Utc> {
    // chrono's clock is not available in the browser without its wasm feature.
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// Now, by the clock the UI runs on.
#[cfg(not(target_arch = "wasm32"))]
pub fn now_utc() -> DateTime<Utc> {
    Utc::now()
}

/// A label and a single-line text edit that automation can find by the label.
pub fn labelled_text_edit_ui(
    ui: &mut egui::Ui,
    label: &str,
    text: &mut String,
    password: bool,
) -> egui::Response {
    ui.horizontal(|ui| {
        let label = ui.label(label);
        ui.add(egui::TextEdit::singleline(text).password(password).desired_width(260.0)).labelled_by(label.id)
    })
    .inner
}

/// A label, then the combo box it names, connected for automation and screen
/// readers (egui's `ComboBox::from_label` draws the label after the box, where it
/// seems to name the next control).
pub fn labelled_combo_ui(
    ui: &mut egui::Ui,
    label: &str,
    id_salt: impl egui::AsIdSalt,
    selected: impl Into<egui::WidgetText>,
    menu: impl FnOnce(&mut egui::Ui),
) -> egui::Response {
    let label = ui.label(label);
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(selected)
        .show_ui(ui, menu)
        .response
        .labelled_by(label.id)
}

#[cfg(test)]
mod tests {
    use super::labelled_combo_ui;
    use egui::accesskit::Role;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    #[test]
    fn the_label_comes_first_and_names_the_combo_box() {
        let mut h = Harness::new_ui(|ui| {
            ui.horizontal(|ui| {
                labelled_combo_ui(ui, "Status", "status", "All active", |ui| {
                    ui.label("Open");
                });
                labelled_combo_ui(ui, "Source", "source", "Any", |ui| {
                    ui.label("Ported");
                });
            });
        });
        h.run();
        let label = h.get_by_role_and_label(Role::Label, "Status").rect();
        let combo = h.get_by_role_and_label(Role::ComboBox, "Status").rect();
        let next_label = h.get_by_role_and_label(Role::Label, "Source").rect();
        assert!(label.max.x <= combo.min.x, "the label is drawn before its box");
        assert!(combo.max.x <= next_label.min.x, "and the next label after it");
    }
}
