//! Customer lookup: one search box, results, and the three-tier tree with
//! masked PII that can be revealed with a reason (audited by the backend).

use crate::backend::Reply;
use crate::contract::{Outbox, Purpose, ViewCtx, WorkArea};
use crate::i18n::{Lang, T, code_text, fill};
use crate::text::error_text;
use crate::views::{fmt_time, labelled_text_edit_ui};
use domain::model::{CustomerSummary, CustomerTree, PiiTarget, SearchField, UserNode};
use domain::money::Cny;
use domain::{ApiError, Request, Response};
use std::collections::HashMap;

/// What a lookup reply is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupPurpose {
    /// Customer search.
    Search,
    /// Customer tree.
    Tree,
    /// PII reveal.
    Reveal,
}

/// Lookup view state.
#[derive(Debug, Default)]
pub struct LookupView {
    query: String,
    results: Option<Vec<CustomerSummary>>,
    tree: Option<CustomerTree>,
    revealed: HashMap<PiiTarget, String>,
    reveal_dialog: Option<RevealDialog>,
    error: Option<ApiError>,
    busy: bool,
    focused_once: bool,
}

#[derive(Debug)]
struct RevealDialog {
    target: PiiTarget,
    reason: String,
    error: Option<ApiError>,
    focused: bool,
}

impl WorkArea for LookupView {
    type Purpose = LookupPurpose;

    /// Takes a reply to a search, tree or reveal request.
    fn on_reply(&mut self, purpose: LookupPurpose, reply: Reply, _outbox: &mut Outbox) {
        self.busy = false;
        match (purpose, reply) {
            (_, Err(e)) if purpose == LookupPurpose::Reveal && self.reveal_dialog.is_some() => {
                if let Some(d) = &mut self.reveal_dialog {
                    d.error = Some(e);
                }
            }
            (_, Err(e)) => self.error = Some(e),
            (_, Ok(Response::Customers(rows))) => {
                self.error = None;
                self.tree = None;
                self.results = Some(rows);
            }
            (_, Ok(Response::CustomerTree(tree))) => {
                self.error = None;
                self.revealed.clear();
                self.tree = Some(tree);
            }
            (_, Ok(Response::Revealed { target, value })) => {
                self.reveal_dialog = None;
                self.revealed.insert(target, value);
            }
            (_, Ok(_)) => {}
        }
    }

    /// Draws the view.
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let (lang, can_reveal, outbox) = (ctx.lang, ctx.abilities.reveal, &mut *ctx.outbox);
        ui.heading(T::AreaLookup.text(lang));
        ui.horizontal(|ui| {
            let edit = labelled_text_edit_ui(ui, T::SearchLabel.text(lang), &mut self.query, false);
            if !self.focused_once {
                self.focused_once = true;
                edit.request_focus();
            }
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let ready = !self.query.trim().is_empty();
            if (ui.add_enabled(ready, egui::Button::new(T::Search.text(lang))).clicked() || enter) && ready {
                self.busy = true;
                let query = self.query.clone();
                outbox.send(Purpose::Lookup(LookupPurpose::Search), Request::SearchCustomers { query });
            }
        });
        ui.weak(T::SearchHint.text(lang));
        if self.busy {
            ui.label(T::Loading.text(lang));
        }
        if let Some(err) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(lang, err));
        }
        ui.separator();
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            if self.tree.is_some() {
                self.tree_ui(ui, lang, can_reveal);
            } else if let Some(rows) = &self.results {
                results_ui(ui, lang, rows, outbox);
            }
        });
        self.reveal_dialog_ui(ui, lang, outbox);
    }
}

impl LookupView {
    fn tree_ui(&mut self, ui: &mut egui::Ui, lang: Lang, can_reveal: bool) {
        let Some(tree) = &self.tree else { return };
        let mut open_dialog = None;
        let mut hide = None;
        let mut back = false;
        if ui.button(T::Back.text(lang)).clicked() {
            back = true;
        }
        let mut pii = |ui: &mut egui::Ui, masked: &str, target: PiiTarget, button: T| match self
            .revealed
            .get(&target)
        {
            Some(clear) => {
                ui.label(egui::RichText::new(clear).strong());
                if ui.small_button(T::Hide.text(lang)).clicked() {
                    hide = Some(target);
                }
            }
            None => {
                ui.label(masked);
                if can_reveal && ui.small_button(button.text(lang)).clicked() {
                    open_dialog = Some(target);
                }
            }
        };
        ui.heading(format!("{} {}", T::Customer.text(lang), tree.id));
        customer_header_ui(ui, lang, tree, &mut pii);
        for (i, user) in tree.users.iter().enumerate() {
            ui.add_space(6.0);
            let title = format!(
                "{} {} · {}",
                T::User.text(lang),
                i + 1,
                user.phone_masked.as_deref().or(user.nickname.as_deref()).unwrap_or(T::NoPhone.text(lang))
            );
            egui::CollapsingHeader::new(title).id_salt(user.id).default_open(true).show(ui, |ui| {
                user_ui(ui, lang, user, &mut pii);
            });
        }
        cards_ui(ui, lang, tree);
        virtual_accounts_ui(ui, lang, tree);
        if let Some(target) = open_dialog {
            self.reveal_dialog =
                Some(RevealDialog { target, reason: String::new(), error: None, focused: false });
        }
        if let Some(target) = hide {
            self.revealed.remove(&target);
        }
        if back {
            self.tree = None;
            self.revealed.clear();
        }
    }

    fn reveal_dialog_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) {
        let Some(dialog) = &mut self.reveal_dialog else {
            return;
        };
        let mut close = false;
        egui::Modal::new(egui::Id::unique("reveal_dialog")).show(ui.ctx(), |ui| {
            ui.heading(T::RevealTitle.text(lang));
            ui.label(T::RevealExplain.text(lang));
            let reason = labelled_text_edit_ui(ui, T::RevealReason.text(lang), &mut dialog.reason, false);
            if !dialog.focused {
                dialog.focused = true;
                reason.request_focus();
            }
            let enter = reason.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if let Some(err) = &dialog.error {
                ui.colored_label(ui.visuals().error_fg_color, error_text(lang, err));
            }
            ui.horizontal(|ui| {
                if ui.button(T::ConfirmReveal.text(lang)).clicked() || enter {
                    outbox.send(
                        Purpose::Lookup(LookupPurpose::Reveal),
                        Request::RevealPii { target: dialog.target, reason: dialog.reason.clone() },
                    );
                }
                if ui.button(T::Cancel.text(lang)).clicked() {
                    close = true;
                }
            });
        });
        if close {
            self.reveal_dialog = None;
        }
    }
}

fn results_ui(ui: &mut egui::Ui, lang: Lang, rows: &[CustomerSummary], outbox: &mut Outbox) {
    if rows.is_empty() {
        ui.label(T::NoResults.text(lang));
        return;
    }
    ui.label(fill(T::ResultsCount.text(lang), &[("n", &rows.len())]));
    egui::Grid::new("results").striped(true).num_columns(5).show(ui, |ui| {
        for h in [T::ColName, T::ColIdNumber, T::ColUsers, T::ColMatched] {
            ui.strong(h.text(lang));
        }
        ui.label("");
        ui.end_row();
        for row in rows {
            ui.label(&row.name_masked);
            ui.monospace(row.id_number_masked.as_deref().unwrap_or("—"));
            ui.label(row.user_count.to_string());
            ui.label(matched_text(row.matched_on).text(lang));
            if ui.button(T::Open.text(lang)).clicked() {
                let tree = Request::CustomerTree { customer_id: row.id };
                outbox.send(Purpose::Lookup(LookupPurpose::Tree), tree);
            }
            ui.end_row();
        }
    });
}

/// Name, ID number (each revealable), verification, birth year, creation time.
fn customer_header_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    tree: &CustomerTree,
    pii: &mut impl FnMut(&mut egui::Ui, &str, PiiTarget, T),
) {
    egui::Grid::new("customer_header").num_columns(2).spacing([16.0, 4.0]).show(ui, |ui| {
        ui.label(T::ColName.text(lang));
        ui.horizontal(|ui| {
            pii(ui, &tree.name_masked, PiiTarget::CustomerName { customer_id: tree.id }, T::RevealName)
        });
        ui.end_row();
        ui.label(T::ColIdNumber.text(lang));
        ui.horizontal(|ui| match &tree.id_number_masked {
            Some(masked) => pii(ui, masked, PiiTarget::IdNumber { customer_id: tree.id }, T::RevealIdNumber),
            None => {
                ui.label(T::NotVerified.text(lang));
            }
        });
        ui.end_row();
        ui.label(T::Status.text(lang));
        ui.label(if tree.real_name_verified { T::RealNameVerified } else { T::NotVerified }.text(lang));
        ui.end_row();
        if let Some(year) = tree.birth_year {
            ui.label(T::BirthYear.text(lang));
            ui.label(year.to_string());
            ui.end_row();
        }
        ui.label(T::CreatedAt.text(lang));
        ui.label(fmt_time(tree.created_at));
        ui.end_row();
    });
}

/// The customer's bank cards.
fn cards_ui(ui: &mut egui::Ui, lang: Lang, tree: &CustomerTree) {
    ui.add_space(6.0);
    ui.strong(T::BankCards.text(lang));
    if tree.cards.is_empty() {
        ui.weak(T::NoCards.text(lang));
    } else {
        egui::Grid::new("cards").striped(true).num_columns(5).show(ui, |ui| {
            for h in [T::Bank, T::CardNumber, T::ReservedPhone, T::BoundAt, T::Status] {
                ui.strong(h.text(lang));
            }
            ui.end_row();
            for card in &tree.cards {
                ui.label(&card.bank_name);
                ui.monospace(&card.card_masked);
                ui.monospace(&card.reserved_phone_masked);
                ui.label(fmt_time(card.bound_at));
                ui.label(code_text(&card.status, lang));
                ui.end_row();
            }
        });
    }
}

/// The customer's virtual sub-accounts: where their money is.
fn virtual_accounts_ui(ui: &mut egui::Ui, lang: Lang, tree: &CustomerTree) {
    if tree.virtual_accounts.is_empty() {
        return;
    }
    ui.add_space(6.0);
    ui.strong(T::AreaVirtual.text(lang));
    egui::Grid::new("virtual_accounts").striped(true).num_columns(5).show(ui, |ui| {
        for h in [T::VamColVirtualNumber, T::VamPurposeLabel, T::VamColOwn, T::VamColHeld, T::VamColAvailable]
        {
            ui.strong(h.text(lang));
        }
        ui.end_row();
        for v in &tree.virtual_accounts {
            ui.monospace(&v.number);
            ui.label(catalogue::virtual_purpose(v.purpose).text(lang));
            ui.monospace(Cny(v.own_balance).to_string());
            ui.monospace(Cny(v.held).to_string());
            ui.monospace(Cny(v.available).to_string());
            ui.end_row();
        }
    });
}

fn matched_text(field: SearchField) -> T {
    match field {
        SearchField::Phone => T::MatchedPhone,
        SearchField::UserId => T::MatchedUserId,
        SearchField::Email => T::MatchedEmail,
        SearchField::Nickname => T::MatchedNickname,
        SearchField::IdLast4 => T::MatchedIdLast4,
    }
}

fn user_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    user: &UserNode,
    pii: &mut impl FnMut(&mut egui::Ui, &str, PiiTarget, T),
) {
    egui::Grid::new(("user", user.id)).num_columns(2).spacing([16.0, 4.0]).show(ui, |ui| {
        ui.label(T::User.text(lang));
        ui.monospace(user.id.to_string());
        ui.end_row();
        ui.label(T::Phone.text(lang));
        ui.horizontal(|ui| match &user.phone_masked {
            Some(masked) => pii(ui, masked, PiiTarget::Phone { user_id: user.id }, T::RevealPhone),
            None => {
                ui.label(T::NoPhone.text(lang));
            }
        });
        ui.end_row();
        if let Some(masked) = &user.email_masked {
            ui.label(T::Email.text(lang));
            ui.horizontal(|ui| pii(ui, masked, PiiTarget::Email { user_id: user.id }, T::RevealEmail));
            ui.end_row();
        }
        if let Some(nick) = &user.nickname {
            ui.label(T::Nickname.text(lang));
            ui.label(nick);
            ui.end_row();
        }
        ui.label(T::Status.text(lang));
        ui.horizontal(|ui| {
            ui.label(code_text(&user.status, lang));
            if user.sms_reset_blocked {
                ui.colored_label(ui.visuals().warn_fg_color, T::SmsResetBlocked.text(lang));
            }
        });
        ui.end_row();
        ui.label(T::RegisteredAt.text(lang));
        ui.label(fmt_time(user.registered_at));
        ui.end_row();
        ui.label(T::LastLogin.text(lang));
        ui.label(user.last_login_at.map(fmt_time).unwrap_or_else(|| "—".into()));
        ui.end_row();
    });
    accounts_ui(ui, lang, user);
    bindings_ui(ui, lang, user);
}

/// The user's accounts and balances.
fn accounts_ui(ui: &mut egui::Ui, lang: Lang, user: &UserNode) {
    ui.strong(T::Accounts.text(lang));
    egui::Grid::new(("accounts", user.id)).striped(true).num_columns(4).show(ui, |ui| {
        for h in [T::AccountKind, T::Balance, T::RealNameLevel, T::Status] {
            ui.strong(h.text(lang));
        }
        ui.end_row();
        for a in &user.accounts {
            ui.label(code_text(&a.kind, lang));
            ui.monospace(Cny(a.balance).to_string());
            ui.label(a.real_name_level.to_string());
            ui.label(code_text(&a.status, lang));
            ui.end_row();
        }
    });
}

/// The numbers this user has had, bound and unbound.
fn bindings_ui(ui: &mut egui::Ui, lang: Lang, user: &UserNode) {
    if !user.phone_bindings.is_empty() {
        ui.strong(T::PhoneHistory.text(lang));
        egui::Grid::new(("bindings", user.id)).striped(true).num_columns(4).show(ui, |ui| {
            for h in [T::Phone, T::BoundAt, T::UnboundAt, T::Reason] {
                ui.strong(h.text(lang));
            }
            ui.end_row();
            for b in &user.phone_bindings {
                ui.monospace(&b.phone_masked);
                ui.label(fmt_time(b.bound_at));
                ui.label(b.unbound_at.map(fmt_time).unwrap_or_else(|| "—".into()));
                ui.label(
                    b.unbind_reason.map_or("—".to_owned(), |r| crate::i18n::unbind_reason_text(r, lang)),
                );
                ui.end_row();
            }
        });
    }
}
