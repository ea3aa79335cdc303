//! The login screen.

use crate::contract::{Outbox, Purpose, ShellCommand};
use crate::i18n::{Lang, T};
use crate::text::error_text;
use domain::{ApiError, Request};

/// Login form state. No `Debug`: it holds the typed password.
#[derive(Default)]
pub struct LoginView {
    username: String,
    password: String,
    /// Kept typed, shown in the language of the frame that draws it.
    error: Option<ApiError>,
    notice: Option<T>,
    busy: bool,
    focused_once: bool,
}

impl LoginView {
    /// Shows a failed login's reason and clears the password.
    pub fn set_error(&mut self, error: ApiError) {
        self.busy = false;
        self.password.clear();
        self.error = Some(error);
    }

    /// Shows why the operator is back at the login screen (e.g. idle timeout).
    pub fn set_notice(&mut self, message: T) {
        self.busy = false;
        self.password.clear();
        self.notice = Some(message);
    }

    /// Draws the login screen.
    pub fn login_ui(&mut self, ui: &mut egui::Ui, l: Lang, outbox: &mut Outbox) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Min), |ui| {
                if let Some(lang) = language_switch_ui(ui, l) {
                    outbox.command(ShellCommand::SetLang(lang));
                }
            });
            ui.vertical_centered(|ui| {
                ui.add_space(60.0);
                ui.heading(T::AppTitle.text(l));
                ui.add_space(24.0);
            });
            ui.vertical_centered(|ui| {
                egui::Frame::group(ui.style())
                    .inner_margin(egui::Margin::same(16))
                    .show(ui, |ui| self.form_ui(ui, l, outbox));
            });
        });
    }

    fn form_ui(&mut self, ui: &mut egui::Ui, l: Lang, outbox: &mut Outbox) {
        ui.set_width(340.0);
        if let Some(notice) = self.notice {
            ui.colored_label(ui.visuals().warn_fg_color, notice.text(l));
        }
        let enter = self.fields_ui(ui, l);
        ui.add_space(8.0);
        let ready = !self.busy && !self.username.trim().is_empty() && !self.password.is_empty();
        let button = egui::Button::new(T::LogIn.text(l)).min_size(egui::vec2(120.0, 28.0));
        let clicked = ui.add_enabled(ready, button).clicked();
        if ready && (clicked || enter) {
            self.busy = true;
            self.error = None;
            self.notice = None;
            let username = self.username.trim().to_owned();
            outbox.send(Purpose::Login, Request::Login { username, password: self.password.clone() });
        }
        if self.busy {
            ui.label(T::LoggingIn.text(l));
        }
        if let Some(err) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(l, err));
        }
    }

    /// Username and password; whether Enter was pressed in the password field.
    fn fields_ui(&mut self, ui: &mut egui::Ui, l: Lang) -> bool {
        egui::Grid::new("login_form")
            .num_columns(2)
            .spacing([12.0, 10.0])
            .show(ui, |ui| {
                let label = ui.label(T::Username.text(l));
                let user = ui
                    .add(egui::TextEdit::singleline(&mut self.username).desired_width(240.0))
                    .labelled_by(label.id);
                // The cursor starts in the username field, as at any login prompt.
                if !self.focused_once {
                    self.focused_once = true;
                    user.request_focus();
                }
                ui.end_row();
                let label = ui.label(T::Password.text(l));
                let edit = egui::TextEdit::singleline(&mut self.password).password(true).desired_width(240.0);
                let pw = ui.add(edit).labelled_by(label.id);
                ui.end_row();
                pw.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
            })
            .inner
    }
}

/// 中文 / English toggle, shown on the login screen and in settings; the language
/// chosen, if the operator changed it.
pub fn language_switch_ui(ui: &mut egui::Ui, current: Lang) -> Option<Lang> {
    let mut lang = current;
    ui.selectable_value(&mut lang, Lang::En, "English");
    ui.selectable_value(&mut lang, Lang::Zh, "中文");
    Some(lang).filter(|l| *l != current)
}
