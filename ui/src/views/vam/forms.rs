//! Forms on a physical account: interest allocation (preview, then post exactly
//! what was previewed) and a manual credit typed from a bank advice (four-eyes).

use super::{OpKind, Problem, VamPurpose, VamView, parse_amount, parse_date, send, yuan};
use crate::contract::ViewCtx;
use crate::i18n::{Lang, T, fill};
use crate::views::labelled_text_edit_ui;
use domain::api::{VamOperation, VamRequest};
use domain::vam::InterestPreviewView;
use uuid::Uuid;

/// Which form is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Interest,
    Credit,
}

/// 利息分配: the period and amount typed, and the preview.
#[derive(Debug, Default)]
pub(super) struct InterestForm {
    from: String,
    to: String,
    interest: String,
    pub(super) preview: Option<InterestPreviewView>,
}

/// 手工入账.
#[derive(Debug, Default)]
struct CreditForm {
    number: String,
    amount: String,
    bank_ref: String,
    payer: String,
}

/// The forms of the selected physical account.
#[derive(Debug, Default)]
pub(super) struct PhysicalForms {
    open: Option<Open>,
    pub(super) interest: InterestForm,
    credit: CreditForm,
}

impl PhysicalForms {
    /// Closes and empties every form (another physical account was selected).
    pub(super) fn close(&mut self) {
        *self = Self::default();
    }

    /// Empties the forms after an operation went through; the open one stays open.
    pub(super) fn clear(&mut self) {
        self.interest = InterestForm::default();
        self.credit = CreditForm::default();
    }

    /// 利息分配 and 手工入账: each opens (or closes) its form.
    pub(super) fn buttons_ui(&mut self, ui: &mut egui::Ui, lang: Lang) {
        for (which, key) in [(Open::Interest, T::VamInterest), (Open::Credit, T::VamManualCredit)] {
            if ui.selectable_label(self.open == Some(which), key.text(lang)).clicked() {
                self.open = if self.open == Some(which) { None } else { Some(which) };
            }
        }
    }
}

impl VamView {
    pub(super) fn physical_forms_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, physical_id: Uuid) {
        if !ctx.abilities.vam_operate {
            return;
        }
        match self.forms.open {
            Some(Open::Interest) => self.interest_ui(ui, ctx, physical_id),
            Some(Open::Credit) => self.credit_ui(ui, ctx, physical_id),
            None => {}
        }
    }

    fn interest_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, physical_id: Uuid) {
        let lang = ctx.lang;
        ui.group(|ui| {
            let form = &mut self.forms.interest;
            ui.horizontal_wrapped(|ui| {
                labelled_text_edit_ui(ui, T::VamInterestFrom.text(lang), &mut form.from, false);
                labelled_text_edit_ui(ui, T::VamInterestTo.text(lang), &mut form.to, false);
            });
            labelled_text_edit_ui(ui, T::VamInterestAmount.text(lang), &mut form.interest, false);
            ui.weak(T::VamDateHint.text(lang));
            if ui.button(T::VamPreview.text(lang)).clicked() {
                self.request_preview(ctx, physical_id);
            }
            let Some(preview) = self.forms.interest.preview.clone().filter(|p| p.physical_id == physical_id)
            else {
                return;
            };
            preview_ui(ui, lang, &preview);
            if ui.button(T::VamPostInterest.text(lang)).clicked() {
                let op = VamOperation::PostInterest {
                    physical_id,
                    from: preview.from,
                    to: preview.to,
                    interest: preview.interest,
                    digest: preview.digest.clone(),
                };
                self.act(ctx.outbox, OpKind::PostInterest, op);
            }
        });
    }

    fn request_preview(&mut self, ctx: &mut ViewCtx<'_>, physical_id: Uuid) {
        let form = &self.forms.interest;
        let Some(from) = parse_date(&form.from) else {
            return self.refuse(Problem::Date(T::VamInterestFrom));
        };
        let Some(to) = parse_date(&form.to) else {
            return self.refuse(Problem::Date(T::VamInterestTo));
        };
        let Some(interest) = parse_amount(&form.interest) else {
            return self.refuse(Problem::Amount(T::VamInterestAmount));
        };
        self.clear_status();
        self.forms.interest.preview = None;
        let request = VamRequest::InterestPreview { physical_id, from, to, interest };
        send(ctx.outbox, VamPurpose::InterestPreview, request);
    }

    fn credit_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, physical_id: Uuid) {
        let lang = ctx.lang;
        ui.group(|ui| {
            ui.weak(T::VamManualCreditHint.text(lang));
            let form = &mut self.forms.credit;
            labelled_text_edit_ui(ui, T::VamCreditNumber.text(lang), &mut form.number, false);
            labelled_text_edit_ui(ui, T::VamCreditAmount.text(lang), &mut form.amount, false);
            labelled_text_edit_ui(ui, T::VamBankRef.text(lang), &mut form.bank_ref, false);
            labelled_text_edit_ui(ui, T::VamPayer.text(lang), &mut form.payer, false);
            if ui.button(T::VamSubmitCredit.text(lang)).clicked() {
                self.submit_credit(ctx, physical_id);
            }
        });
    }

    fn submit_credit(&mut self, ctx: &mut ViewCtx<'_>, physical_id: Uuid) {
        let form = &self.forms.credit;
        let number = form.number.trim().to_owned();
        if number.is_empty() {
            return self.refuse(Problem::Required(T::VamCreditNumber));
        }
        let Some(amount) = parse_amount(&form.amount) else {
            return self.refuse(Problem::Amount(T::VamCreditAmount));
        };
        let bank_ref = form.bank_ref.trim().to_owned();
        if bank_ref.is_empty() {
            return self.refuse(Problem::Required(T::VamBankRef));
        }
        let payer = form.payer.trim().to_owned();
        let op = VamOperation::ManualCredit { physical_id, number, amount, bank_ref, payer };
        self.act(ctx.outbox, OpKind::ManualCredit, op);
    }
}

/// The preview: the totals, then each account's 积数 and share.
fn preview_ui(ui: &mut egui::Ui, lang: Lang, p: &InterestPreviewView) {
    let mut total = fill(
        T::VamInterestTotal.text(lang),
        &[("interest", &yuan(p.interest)), ("allocated", &yuan(p.allocated)), ("n", &p.account_count)],
    );
    if p.lines.len() < p.account_count as usize {
        total.push_str(&fill(T::VamTopShown.text(lang), &[("n", &p.lines.len())]));
    }
    ui.label(total);
    egui::Grid::new("vam_interest").striped(true).num_columns(3).show(ui, |ui| {
        for key in [T::VamColVirtualNumber, T::VamColProduct, T::VamColShare] {
            ui.strong(key.text(lang));
        }
        ui.end_row();
        for line in &p.lines {
            ui.label(&line.number);
            ui.label(line.product.round_dp(2).to_string());
            ui.label(yuan(line.share));
            ui.end_row();
        }
    });
}
