//! Choosing a new password: shown instead of the work areas while the operator
//! must (a new operator's first login, or an administrator asked for it).

use crate::contract::{Outbox, Purpose};
use crate::i18n::{Lang, T};
use crate::text::error_text;
use crate::views::labelled_text_edit_ui;
use domain::{ApiError, Request};

/// The form's state; the reply's error is kept typed.
#[derive(Default)]
pub struct PasswordView {
    current: String,
    new: String,
    error: Option<ApiError>,
}

impl PasswordView {
    /// The form.
    pub fn password_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading(T::ChooseNewPassword.text(lang));
            ui.add_space(8.0);
            labelled_text_edit_ui(ui, T::CurrentPassword.text(lang), &mut self.current, true);
            labelled_text_edit_ui(ui, T::NewPassword.text(lang), &mut self.new, true);
            if ui.button(T::SetPassword.text(lang)).clicked() {
                let change = Request::ChangePassword {
                    current: std::mem::take(&mut self.current),
                    new: std::mem::take(&mut self.new),
                };
                outbox.send(Purpose::ChangePassword, change);
            }
            if let Some(e) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, error_text(lang, e));
            }
        });
    }

    /// The reply: an error stays on the form.
    pub fn on_error(&mut self, e: ApiError) {
        self.error = Some(e);
    }
}
