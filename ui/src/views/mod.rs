//! Views: each owns its view state and queues requests in an [`Outbox`](crate::app::Outbox).

pub mod audit;
pub mod force_unbind;
pub mod login;
pub mod lookup;
pub mod recycled;
pub mod settings;

use chrono::{DateTime, FixedOffset, Utc};

/// Times are shown in Beijing time, as operators and carriers use it.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    const FORMAT: &str = "%Y-%m-%d %H:%M";
    match FixedOffset::east_opt(8 * 3600) {
        Some(beijing) => t.with_timezone(&beijing).format(FORMAT).to_string(),
        None => t.format(FORMAT).to_string(),
    }
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
