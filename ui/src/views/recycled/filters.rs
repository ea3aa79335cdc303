//! The queue's filter rows (status, source, sort, typed filters) and saved views.

use super::RecycledPurpose;
use super::text::{sort_text, source_text, status_text};
use crate::contract::{Outbox, Purpose};
use crate::i18n::{Lang, T};
use crate::views::labelled_combo_ui;
use domain::RecycledRequest;
use domain::cases::{QueueFilter, QueueSort, SavedView};
use domain::recycle::{CaseSource, CaseStatus};

/// A set of filters under a name: a preset's name comes from the catalogue, a
/// saved view's is the operator's own.
#[derive(Debug, Clone, PartialEq)]
struct View {
    name: ViewName,
    filter: QueueFilter,
}

#[derive(Debug, Clone, PartialEq)]
enum ViewName {
    Preset(T),
    Saved(String),
}

impl ViewName {
    fn text(&self, lang: Lang) -> &str {
        match self {
            ViewName::Preset(key) => key.text(lang),
            ViewName::Saved(name) => name,
        }
    }
}

fn preset_views() -> Vec<View> {
    let view = |name: T, filter: QueueFilter| View { name: ViewName::Preset(name), filter };
    vec![
        view(T::ViewAllActive, QueueFilter::default()),
        view(T::ViewHighRisk, QueueFilter { min_risk: Some(50), ..QueueFilter::default() }),
        view(
            T::ViewPastSla,
            QueueFilter {
                older_than_hours: Some(48),
                sort: QueueSort::OldestFirst,
                ..QueueFilter::default()
            },
        ),
        view(
            T::ViewPending,
            QueueFilter { status: Some(CaseStatus::PendingApproval), ..QueueFilter::default() },
        ),
        view(T::ViewMine, QueueFilter { mine_only: true, ..QueueFilter::default() }),
    ]
}

/// The filter being applied, the typed filter fields, and the saved views.
#[derive(Debug)]
pub(super) struct Filters {
    filter: QueueFilter,
    phone_text: String,
    min_risk_text: String,
    older_text: String,
    views: Vec<View>,
    view_name: String,
}

impl Default for Filters {
    fn default() -> Self {
        Self {
            filter: QueueFilter::default(),
            phone_text: String::new(),
            min_risk_text: String::new(),
            older_text: String::new(),
            views: preset_views(),
            view_name: String::new(),
        }
    }
}

impl Filters {
    /// The filter with the typed fields (number, minimum risk, age) applied.
    pub(super) fn current(&mut self) -> QueueFilter {
        self.filter.phone = Some(self.phone_text.trim().to_owned()).filter(|p| !p.is_empty());
        self.filter.min_risk = self.min_risk_text.trim().parse().ok();
        self.filter.older_than_hours = self.older_text.trim().parse().ok();
        self.filter.clone()
    }

    /// The presets followed by the operator's saved views.
    pub(super) fn set_saved_views(&mut self, saved: Vec<SavedView>) {
        self.views = preset_views();
        self.views
            .extend(saved.into_iter().map(|v| View { name: ViewName::Saved(v.name), filter: v.filter }));
    }

    fn apply_view(&mut self, i: usize) {
        self.filter = self.views[i].filter.clone();
        self.phone_text = self.filter.phone.clone().unwrap_or_default();
        self.min_risk_text = self.filter.min_risk.map(|r| r.to_string()).unwrap_or_default();
        self.older_text = self.filter.older_than_hours.map(|h| h.to_string()).unwrap_or_default();
    }

    /// Draws the filter rows; whether the queue should be reloaded.
    pub(super) fn filters_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) -> bool {
        let mut changed = ui.horizontal_wrapped(|ui| self.pickers_ui(ui, lang)).inner;
        changed |= ui.horizontal_wrapped(|ui| self.typed_ui(ui, lang)).inner;
        changed |= ui.horizontal_wrapped(|ui| self.saved_views_ui(ui, lang, outbox)).inner;
        changed
    }

    /// Status, source and sort, each label before its box; "mine only".
    fn pickers_ui(&mut self, ui: &mut egui::Ui, lang: Lang) -> bool {
        let mut changed = false;
        let f = &mut self.filter;
        let status = f.status.map_or(T::AnyActive.text(lang), |s| status_text(s).text(lang));
        labelled_combo_ui(ui, T::FilterStatus.text(lang), "filter_status", status, |ui| {
            changed |= ui.selectable_value(&mut f.status, None, T::AnyActive.text(lang)).changed();
            for s in CaseStatus::ALL {
                changed |= ui.selectable_value(&mut f.status, Some(s), status_text(s).text(lang)).changed();
            }
        });
        let source = f.source.map_or(T::Any.text(lang), |s| source_text(s).text(lang));
        labelled_combo_ui(ui, T::FilterSource.text(lang), "filter_source", source, |ui| {
            changed |= ui.selectable_value(&mut f.source, None, T::Any.text(lang)).changed();
            for s in CaseSource::ALL {
                changed |= ui.selectable_value(&mut f.source, Some(s), source_text(s).text(lang)).changed();
            }
        });
        labelled_combo_ui(ui, T::Sort.text(lang), "filter_sort", sort_text(f.sort).text(lang), |ui| {
            for s in [QueueSort::RiskDesc, QueueSort::OldestFirst, QueueSort::NewestFirst] {
                changed |= ui.selectable_value(&mut f.sort, s, sort_text(s).text(lang)).changed();
            }
        });
        changed |= ui.checkbox(&mut f.mine_only, T::MineOnly.text(lang)).changed();
        changed
    }

    /// Number, minimum risk, age, carrier, province (Enter applies), and 刷新.
    fn typed_ui(&mut self, ui: &mut egui::Ui, lang: Lang) -> bool {
        let small = |ui: &mut egui::Ui, key: T, text: &mut String, width: f32| {
            let label = ui.label(key.text(lang));
            let r = ui.add(egui::TextEdit::singleline(text).desired_width(width)).labelled_by(label.id);
            r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
        };
        let mut changed = small(ui, T::FilterPhone, &mut self.phone_text, 110.0);
        changed |= small(ui, T::FilterMinRisk, &mut self.min_risk_text, 40.0);
        changed |= small(ui, T::FilterOlderHours, &mut self.older_text, 40.0);
        let mut carrier = self.filter.carrier.clone().unwrap_or_default();
        changed |= small(ui, T::FilterCarrier, &mut carrier, 80.0);
        self.filter.carrier = Some(carrier).filter(|c| !c.trim().is_empty());
        let mut province = self.filter.province.clone().unwrap_or_default();
        changed |= small(ui, T::FilterProvince, &mut province, 60.0);
        self.filter.province = Some(province).filter(|c| !c.trim().is_empty());
        changed |= ui.button(T::Refresh.text(lang)).clicked();
        changed
    }

    /// The saved views as buttons, and saving the current filter under a name.
    fn saved_views_ui(&mut self, ui: &mut egui::Ui, lang: Lang, outbox: &mut Outbox) -> bool {
        ui.label(T::SavedViews.text(lang));
        let mut chosen = None;
        for (i, v) in self.views.iter().enumerate() {
            if ui.small_button(v.name.text(lang)).clicked() {
                chosen = Some(i);
            }
        }
        if let Some(i) = chosen {
            self.apply_view(i);
        }
        let label = ui.label(T::ViewName.text(lang));
        ui.add(egui::TextEdit::singleline(&mut self.view_name).desired_width(100.0)).labelled_by(label.id);
        let ready = !self.view_name.trim().is_empty();
        if ui.add_enabled(ready, egui::Button::new(T::SaveView.text(lang))).clicked() {
            // Saved per operator in the database; the reply brings the full list back.
            let req = RecycledRequest::SaveQueueView {
                name: self.view_name.trim().to_owned(),
                filter: self.current(),
            };
            outbox.send(Purpose::Recycled(RecycledPurpose::Views), req);
            self.view_name.clear();
        }
        chosen.is_some()
    }
}
