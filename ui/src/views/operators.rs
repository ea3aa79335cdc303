//! 操作员管理 — operator administration (administrators): the operators with their
//! state, a form for a new operator, and per-operator actions. The backend refuses
//! anything on the administrator's own account; the view only words the answers.

use crate::app::role_text;
use crate::backend::Reply;
use crate::contract::{Outbox, Purpose, ViewCtx, WorkArea};
use crate::i18n::{Lang, T};
use crate::text::error_text;
use crate::views::{fmt_time, labelled_combo_ui, labelled_text_edit_ui};
use domain::api::AdminRequest;
use domain::auth::{OperatorView, Role};
use domain::{ApiError, Response};

/// What an administration reply is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminPurpose {
    /// The list.
    List,
    /// A change (then the list again).
    Change,
}

/// The new operator's form.
#[derive(Debug, Default)]
struct NewOperator {
    username: String,
    display_name: String,
    role: Option<Role>,
    initial_password: String,
}

/// View state: the list, the form, and the last answer (typed).
#[derive(Default)]
pub struct OperatorsView {
    operators: Option<Vec<OperatorView>>,
    form: NewOperator,
    done: bool,
    error: Option<ApiError>,
}

impl WorkArea for OperatorsView {
    type Purpose = AdminPurpose;

    fn on_reply(&mut self, purpose: AdminPurpose, reply: Reply, outbox: &mut Outbox) {
        match (purpose, reply) {
            (_, Err(e)) => {
                self.done = false;
                self.error = Some(e);
            }
            (AdminPurpose::List, Ok(Response::Operators(ops))) => self.operators = Some(ops),
            (AdminPurpose::Change, Ok(_)) => {
                self.done = true;
                self.error = None;
                outbox.send(Purpose::Admin(AdminPurpose::List), AdminRequest::ListOperators);
            }
            (_, Ok(_)) => {}
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        if self.operators.is_none() {
            self.operators = Some(Vec::new());
            ctx.send(Purpose::Admin(AdminPurpose::List), AdminRequest::ListOperators);
        }
        ui.heading(ctx.t(T::AreaAdmin));
        self.form_ui(ui, ctx.lang, ctx.outbox);
        if self.done {
            ui.label(ctx.t(T::AdminDone));
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(ctx.lang, e));
        }
        ui.separator();
        self.list_ui(ui, ctx.lang, ctx.outbox);
    }
}

/// A role picker labelled `label`.
fn role_ui(ui: &mut egui::Ui, lang: Lang, label: &str, salt: &str, role: &mut Option<Role>) {
    let shown = role.map_or("—", |r| role_text(r).text(lang));
    labelled_combo_ui(ui, label, salt, shown, |ui| {
        for r in Role::ALL {
            ui.selectable_value(role, Some(r), role_text(r).text(lang));
        }
    });
}

impl OperatorsView {
    fn change(&mut self, outbox: &mut Outbox, request: AdminRequest) {
        self.done = false;
        self.error = None;
        outbox.send(Purpose::Admin(AdminPurpose::Change), request);
    }

    /// A new operator: name, display name, role and a first password to hand over.
    fn form_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
        ui.strong(T::NewOperator.text(lang));
        labelled_text_edit_ui(ui, T::Username.text(lang), &mut self.form.username, false);
        labelled_text_edit_ui(ui, T::DisplayName.text(lang), &mut self.form.display_name, false);
        ui.horizontal(|ui| role_ui(ui, lang, T::Role.text(lang), "new_role", &mut self.form.role));
        labelled_text_edit_ui(ui, T::InitialPassword.text(lang), &mut self.form.initial_password, true);
        let ready = !self.form.username.trim().is_empty() && self.form.role.is_some();
        if ui.add_enabled(ready, egui::Button::new(T::CreateOperator.text(lang))).clicked()
            && let Some(role) = self.form.role
        {
            let form = std::mem::take(&mut self.form);
            let create = AdminRequest::CreateOperator {
                username: form.username,
                display_name: form.display_name,
                role,
                initial_password: form.initial_password,
            };
            self.change(outbox, create);
        }
    }

    fn list_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
        let ops = self.operators.clone().unwrap_or_default();
        egui::Grid::new("operators").striped(true).num_columns(6).show(ui, |ui| {
            for h in [T::Username, T::DisplayName, T::Role, T::Status, T::LastLogin, T::Actions] {
                ui.strong(h.text(lang));
            }
            ui.end_row();
            for op in &ops {
                self.row_ui(ui, lang, op, outbox);
                ui.end_row();
            }
        });
    }

    fn row_ui(&mut self, ui: &mut egui::Ui, lang: Lang, op: &OperatorView, outbox: &mut Outbox) {
        ui.label(&op.username);
        ui.label(&op.display_name);
        ui.label(role_text(op.role).text(lang));
        let status = if op.disabled {
            T::OperatorStateDisabled
        } else if op.locked_until.is_some() {
            T::OperatorStateLocked
        } else if op.must_change_password {
            T::OperatorStateMustChange
        } else {
            T::StatusActive
        };
        ui.label(status.text(lang));
        ui.label(op.last_login_at.map_or_else(|| "—".to_owned(), fmt_time));
        ui.horizontal(|ui| {
            let who = || op.username.clone();
            let toggle = if op.disabled { T::EnableOperator } else { T::DisableOperator };
            if ui.small_button(toggle.text(lang)).clicked() {
                self.change(outbox, AdminRequest::SetDisabled { username: who(), disabled: !op.disabled });
            }
            if op.locked_until.is_some() && ui.small_button(T::UnlockOperator.text(lang)).clicked() {
                self.change(outbox, AdminRequest::Unlock { username: who() });
            }
            if ui.small_button(T::RequireNewPassword.text(lang)).clicked() {
                self.change(outbox, AdminRequest::RequirePasswordChange { username: who() });
            }
            ui.menu_button(T::ChangeRole.text(lang), |ui| {
                for r in Role::ALL.into_iter().filter(|r| *r != op.role) {
                    if ui.button(role_text(r).text(lang)).clicked() {
                        self.change(outbox, AdminRequest::SetRole { username: who(), role: r });
                        ui.close();
                    }
                }
            });
        });
    }
}
