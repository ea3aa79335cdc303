//! 强制解绑 wizard, for the new holder of a recycled number at a counter or on the
//! phone: find the case by number → claimant's name, ID, phone → carrier
//! 3-element check and entry time → bank-card 4-element check → unbind (or send
//! to a checker). Attempt budgets are shown before each check.

use crate::backend::Reply;
use crate::contract::{Outbox, Purpose, ViewCtx, WorkArea};
use crate::i18n::{Lang, T, fill};
use crate::text::error_text;
use crate::views::labelled_text_edit_ui;
use crate::views::recycled::status_text;
use domain::cases::{CaseRowView, Claimant, DecisionOutcome, ForceUnbindState, QueueFilter};
use domain::recycle::{BankAnswer, BudgetState, FieldMatch};
use domain::{ApiError, RecycledRequest, Response};

/// What a wizard reply is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WizardPurpose {
    /// Find the case of a number.
    Find,
    /// A wizard step.
    Step,
}

/// Wizard state.
#[derive(Debug, Default)]
pub struct ForceUnbindView {
    phone: String,
    case: Option<CaseRowView>,
    name: String,
    id_number: String,
    card_number: String,
    state: Option<ForceUnbindState>,
    error: Option<ApiError>,
    searched: bool,
}

fn field_text(m: FieldMatch) -> T {
    match m {
        FieldMatch::Match => T::FieldMatch,
        FieldMatch::Mismatch => T::FieldMismatch,
        FieldMatch::NoRecord => T::FieldNoRecord,
    }
}

fn bank_text(a: BankAnswer) -> T {
    match a {
        BankAnswer::Match => T::BankMatch,
        BankAnswer::Mismatch => T::BankMismatch,
        BankAnswer::InvalidCard => T::BankInvalidCard,
        BankAnswer::AbnormalStatus => T::BankAbnormal,
        BankAnswer::RestrictedCard => T::BankRestricted,
    }
}

fn budget_ui(ui: &mut egui::Ui, lang: Lang, label: T, b: &BudgetState) {
    let text = match b.locked_until {
        Some(until) => fill(T::BudgetLocked.text(lang), &[("until", &crate::views::fmt_time(until))]),
        None => fill(T::BudgetLeft.text(lang), &[("n", &b.remaining)]),
    };
    ui.label(format!("{}: {text}", label.text(lang)));
}

impl ForceUnbindView {
    /// Starts the wizard on a case the operator has open.
    pub fn start_with(&mut self, case: CaseRowView) {
        *self = Self { case: Some(case), searched: true, ..Self::default() };
    }
}

impl WorkArea for ForceUnbindView {
    type Purpose = WizardPurpose;

    /// Takes a reply.
    fn on_reply(&mut self, purpose: WizardPurpose, reply: Reply, _outbox: &mut Outbox) {
        match (purpose, reply) {
            (_, Err(e)) => self.error = Some(e),
            (WizardPurpose::Find, Ok(Response::Queue(page))) => {
                self.error = None;
                self.searched = true;
                self.case = page.rows.into_iter().next();
            }
            (WizardPurpose::Step, Ok(Response::ForceUnbind(state))) => {
                self.error = None;
                self.state = Some(*state);
            }
            _ => {}
        }
    }

    /// Draws the wizard: each step once the one before has passed.
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let (lang, outbox) = (ctx.lang, &mut *ctx.outbox);
        ui.heading(T::AreaForceUnbind.text(lang));
        ui.weak(T::WizardIntro.text(lang));
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(lang, e));
        }
        ui.separator();
        let Some(case) = self.find_ui(ui, lang, outbox) else { return };
        ui.separator();
        self.claimant_ui(ui, lang, &case, outbox);
        let Some(state) = self.state.clone() else { return };
        if !carrier_result_ui(ui, lang, &state) {
            return;
        }
        ui.separator();
        if !self.bank_ui(ui, lang, &state, outbox) {
            return;
        }
        ui.separator();
        submit_ui(ui, lang, &state, outbox);
    }
}

impl ForceUnbindView {
    /// Step 1: the number; the case found on it.
    fn find_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) -> Option<CaseRowView> {
        ui.strong(T::Step1.text(lang));
        ui.horizontal(|ui| {
            labelled_text_edit_ui(ui, T::ClaimantPhone.text(lang), &mut self.phone, false);
            if ui.button(T::FindCase.text(lang)).clicked() {
                self.state = None;
                let filter =
                    QueueFilter { phone: Some(self.phone.trim().to_owned()), ..QueueFilter::default() };
                outbox.send(
                    Purpose::Wizard(WizardPurpose::Find),
                    RecycledRequest::Queue { filter, after: None, limit: 5 },
                );
            }
        });
        let Some(case) = self.case.clone() else {
            if self.searched {
                ui.label(T::NoActiveCase.text(lang));
            }
            return None;
        };
        ui.label(fill(
            T::WizardCase.text(lang),
            &[
                ("phone", &case.phone_masked),
                ("status", &status_text(case.status).text(lang)),
                ("risk", &case.risk_score),
            ],
        ));
        Some(case)
    }

    /// Step 2: the claimant's name and ID, and the carrier check.
    fn claimant_ui(&mut self, ui: &mut egui::Ui, lang: Lang, case: &CaseRowView, outbox: &mut Outbox) {
        ui.strong(T::Step2.text(lang));
        labelled_text_edit_ui(ui, T::ClaimantName.text(lang), &mut self.name, false);
        labelled_text_edit_ui(ui, T::ClaimantId.text(lang), &mut self.id_number, false);
        if let Some(p) = self.phone.trim().get(..).filter(|p| !p.is_empty()) {
            ui.weak(format!("{} {}", T::ClaimantPhone.text(lang), domain::mask::phone(p)));
        }
        if ui.button(T::RunCarrierCheck.text(lang)).clicked() {
            let claimant = Claimant {
                name: self.name.clone(),
                id_number: self.id_number.clone(),
                phone: self.phone.trim().to_owned(),
            };
            outbox.send(
                Purpose::Wizard(WizardPurpose::Step),
                RecycledRequest::ForceUnbindStart { case_id: case.id, claimant },
            );
        }
    }

    /// Step 3: a bank card in the claimant's name; whether it passed.
    fn bank_ui(
        &mut self,
        ui: &mut egui::Ui,
        lang: Lang,
        state: &ForceUnbindState,
        outbox: &mut Outbox,
    ) -> bool {
        ui.strong(T::Step3.text(lang));
        ui.weak(T::NoCvv.text(lang));
        labelled_text_edit_ui(ui, T::CardNumber.text(lang), &mut self.card_number, false);
        if let Some(b) = &state.card_budget {
            budget_ui(ui, lang, T::CardBudget, b);
        }
        if !state.bank_passed && ui.button(T::RunBankCheck.text(lang)).clicked() {
            let card_number = std::mem::take(&mut self.card_number);
            outbox.send(
                Purpose::Wizard(WizardPurpose::Step),
                RecycledRequest::ForceUnbindBankCheck { wizard_id: state.wizard_id, card_number },
            );
        }
        for c in &state.bank_checks {
            let bank = c.bank_name.as_deref().unwrap_or("—");
            ui.label(format!("{} · {bank} · {}", c.card_masked, bank_text(c.answer).text(lang)));
        }
        if state.bank_passed {
            ui.label(T::BankPassed.text(lang));
        }
        state.bank_passed
    }
}

/// Step 2's answer: same person, budget, carrier and twice-tel answers; whether it passed.
fn carrier_result_ui(ui: &mut egui::Ui, lang: Lang, state: &ForceUnbindState) -> bool {
    if state.same_person {
        ui.colored_label(ui.visuals().warn_fg_color, T::SamePerson.text(lang));
        return false;
    }
    budget_ui(ui, lang, T::ClaimantBudget, &state.claimant_budget);
    if let Some(a) = state.carrier_check {
        ui.label(fill(
            T::CarrierAnswer.text(lang),
            &[
                ("name", &field_text(a.name).text(lang)),
                ("id", &field_text(a.id_number).text(lang)),
                ("phone", &field_text(a.phone).text(lang)),
            ],
        ));
    }
    if let Some(t) = state.twice_tel {
        ui.label(fill(T::TwiceTelAnswer.text(lang), &[("answer", &crate::i18n::twice_tel(t).text(lang))]));
    }
    if !state.carrier_passed {
        ui.colored_label(ui.visuals().error_fg_color, T::CarrierFailed.text(lang));
        return false;
    }
    ui.label(T::CarrierPassed.text(lang));
    true
}

/// Step 4: submit, then what happened.
fn submit_ui(ui: &mut egui::Ui, lang: Lang, state: &ForceUnbindState, outbox: &mut Outbox) {
    ui.strong(T::Step4.text(lang));
    match state.outcome {
        None => {
            if ui.button(T::SubmitUnbind.text(lang)).clicked() {
                outbox.send(
                    Purpose::Wizard(WizardPurpose::Step),
                    RecycledRequest::ForceUnbindSubmit { wizard_id: state.wizard_id },
                );
            }
        }
        Some(DecisionOutcome::PendingApproval) => {
            ui.label(T::SentForApproval.text(lang));
        }
        Some(DecisionOutcome::Applied) => {
            ui.label(T::UnbindDone.text(lang));
        }
    }
}
