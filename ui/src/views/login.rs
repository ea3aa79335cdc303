//! The login screen.

use crate::app::{Outbox, Purpose};
use crate::i18n::{Lang, T};
use crate::views::labelled_text_edit_ui;
use domain::Request;

/// Login form state.
#[derive(Debug, Default)]
pub struct LoginView {
    username: String,
    password: String,
    error: Option<String>,
    notice: Option<String>,
    busy: bool,
}

impl LoginView {
    /// Shows a failed login's reason and clears the password.
    pub fn set_error(&mut self, message: String) {
        self.busy = false;
        self.password.clear();
        self.error = Some(message);
    }

    /// Shows why the operator is back at the login screen (e.g. idle timeout).
    pub fn set_notice(&mut self, message: &str) {
        self.busy = false;
        self.password.clear();
        self.notice = Some(message.to_owned());
    }

    /// Draws the form.
    pub fn login_ui(&mut self, ui: &mut egui::Ui, lang: &mut Lang, outbox: &mut Outbox) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Min), |ui| {
                language_switch_ui(ui, lang);
            });
            let l = *lang;
            ui.vertical_centered(|ui| {
                ui.add_space(60.0);
                ui.heading(T::AppTitle.text(l));
                ui.add_space(24.0);
            });
            ui.horizontal(|ui| {
                ui.add_space((ui.available_width() - 360.0).max(0.0) / 2.0);
                ui.vertical(|ui| {
                    if let Some(notice) = &self.notice {
                        ui.colored_label(ui.visuals().warn_fg_color, notice);
                    }
                    labelled_text_edit_ui(ui, T::Username.text(l), &mut self.username, false);
                    let pw = labelled_text_edit_ui(ui, T::Password.text(l), &mut self.password, true);
                    let enter = pw.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    let ready = !self.busy && !self.username.trim().is_empty() && !self.password.is_empty();
                    let clicked = ui.add_enabled(ready, egui::Button::new(T::LogIn.text(l))).clicked();
                    if ready && (clicked || enter) {
                        self.busy = true;
                        self.error = None;
                        self.notice = None;
                        outbox.send(
                            Purpose::Login,
                            Request::Login {
                                username: self.username.trim().to_owned(),
                                password: self.password.clone(),
                            },
                        );
                    }
                    if self.busy {
                        ui.label(T::LoggingIn.text(l));
                    }
                    if let Some(err) = &self.error {
                        ui.colored_label(ui.visuals().error_fg_color, err);
                    }
                });
            });
        });
    }
}

/// 中文 / English toggle, shown on the login screen and in settings.
pub fn language_switch_ui(ui: &mut egui::Ui, lang: &mut Lang) {
    ui.selectable_value(lang, Lang::En, "English");
    ui.selectable_value(lang, Lang::Zh, "中文");
}
