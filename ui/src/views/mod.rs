//! Views: each owns its view state and queues requests in an [`Outbox`](crate::app::Outbox).

pub mod audit;
pub mod login;
pub mod lookup;
pub mod settings;

use chrono::{DateTime, FixedOffset, Utc};

/// Times are shown in Beijing time, as operators and carriers use it.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    let beijing = FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
    t.with_timezone(&beijing).format("%Y-%m-%d %H:%M").to_string()
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
