//! The business actions on a claimed item: only those that apply to its kind
//! (`ActionKind::applies_to`), one form open at a time, each sent with a request id
//! kept until answered (a double click runs once). Matching is done from the
//! candidates (see `item`).

use super::{Problem, SuspenseView, parse_date};
use crate::contract::ViewCtx;
use crate::i18n::{Lang, T, action_kind, fill};
use crate::views::labelled_text_edit_ui;
use domain::suspense::{ActionKind, SuspenseAction, SuspenseItemView};
use uuid::Uuid;

/// The action being filled in and what was typed.
#[derive(Debug, Default)]
pub(super) struct ActionForm {
    open: Option<ActionKind>,
    number: String,
    reason: String,
    reference: String,
    with_item: String,
    contract: String,
    until: String,
}

/// A typed text, trimmed; `Required(field)` when empty.
fn required(text: &str, field: T) -> Result<String, Problem> {
    let text = text.trim();
    if text.is_empty() { Err(Problem::Required(field)) } else { Ok(text.to_owned()) }
}

impl ActionForm {
    /// The action as typed, or what is wrong with it.
    fn action(&self, kind: ActionKind) -> Result<SuspenseAction, Problem> {
        let reason = || required(&self.reason, T::SusFieldReason);
        Ok(match kind {
            ActionKind::Match => return Err(Problem::Required(T::SusColReference)),
            ActionKind::CreditSubAccount => {
                SuspenseAction::CreditSubAccount { number: required(&self.number, T::SusFieldNumber)? }
            }
            ActionKind::ReturnToPayer => SuspenseAction::ReturnToPayer { reason: reason()? },
            ActionKind::StartRecovery => {
                SuspenseAction::StartRecovery { reference: required(&self.reference, T::SusFieldReference)? }
            }
            ActionKind::Recovered => {
                let text = required(&self.with_item, T::SusFieldWithItem)?;
                let with_item = Uuid::parse_str(&text).map_err(|_| Problem::Id(T::SusFieldWithItem))?;
                SuspenseAction::Recovered { with_item }
            }
            ActionKind::AcceptLoss => SuspenseAction::AcceptLoss {
                contract_ref: required(&self.contract, T::SusFieldContract)?,
                reason: reason()?,
            },
            ActionKind::OffsetSettlement => SuspenseAction::OffsetSettlement { reason: reason()? },
            ActionKind::BookFee => SuspenseAction::BookFee,
            ActionKind::Explain => {
                let reason = reason()?;
                let text = required(&self.until, T::SusFieldUntil)?;
                let until = parse_date(&text).ok_or(Problem::Date(T::SusFieldUntil))?;
                SuspenseAction::Explain { reason, until }
            }
            ActionKind::WriteOffInternal => SuspenseAction::WriteOffInternal { reason: reason()? },
        })
    }

    /// The fields of `kind`'s form.
    fn fields_ui(&mut self, ui: &mut egui::Ui, lang: Lang, kind: ActionKind) {
        let field = |ui: &mut egui::Ui, key: T, text: &mut String| {
            labelled_text_edit_ui(ui, key.text(lang), text, false);
        };
        match kind {
            ActionKind::Match | ActionKind::BookFee => {}
            ActionKind::CreditSubAccount => field(ui, T::SusFieldNumber, &mut self.number),
            ActionKind::ReturnToPayer | ActionKind::OffsetSettlement => {
                field(ui, T::SusFieldReason, &mut self.reason)
            }
            ActionKind::StartRecovery => field(ui, T::SusFieldReference, &mut self.reference),
            ActionKind::Recovered => field(ui, T::SusFieldWithItem, &mut self.with_item),
            ActionKind::AcceptLoss => {
                field(ui, T::SusFieldContract, &mut self.contract);
                field(ui, T::SusFieldReason, &mut self.reason);
                ui.colored_label(ui.visuals().warn_fg_color, T::SusNeedsFinanceAndSupervisor.text(lang));
            }
            ActionKind::Explain => {
                field(ui, T::SusFieldReason, &mut self.reason);
                field(ui, T::SusFieldUntil, &mut self.until);
                ui.weak(T::SusDateHint.text(lang));
            }
            ActionKind::WriteOffInternal => {
                field(ui, T::SusFieldReason, &mut self.reason);
                ui.colored_label(ui.visuals().warn_fg_color, T::SusNeedsSupervisor.text(lang));
            }
        }
    }
}

impl SuspenseView {
    /// The actions that apply to the item's kind, and the open one's form.
    pub(super) fn actions_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, view: &SuspenseItemView) {
        let lang = ctx.lang;
        ui.strong(T::SusActionsHeading.text(lang));
        let form = &mut self.item.form;
        ui.horizontal_wrapped(|ui| {
            for kind in
                ActionKind::ALL.into_iter().filter(|k| *k != ActionKind::Match && k.applies_to(view.row.kind))
            {
                if ui.selectable_label(form.open == Some(kind), action_kind(kind).text(lang)).clicked() {
                    form.open = if form.open == Some(kind) { None } else { Some(kind) };
                }
            }
        });
        let Some(kind) = form.open else { return };
        let mut submit = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            form.fields_ui(ui, lang, kind);
            let label = fill(T::SusSubmitAction.text(lang), &[("action", &action_kind(kind).text(lang))]);
            submit = ui.button(label).clicked();
        });
        if submit {
            match self.item.form.action(kind) {
                Ok(action) => self.resolve(ctx.outbox, view.row.id, action),
                Err(problem) => self.refuse(problem),
            }
        }
    }
}
