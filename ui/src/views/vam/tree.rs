//! The tree of sub-accounts under the selected physical account, loaded lazily
//! (a node's children when it is expanded, page by page), the search, and the
//! form that opens a sub-account (at the top level or under a node).

use super::{OpKind, Problem, TREE_PAGE, VamPurpose, VamView, send, yuan};
use crate::contract::{Outbox, ViewCtx};
use crate::i18n::{Lang, T, fill, owner_kind, virtual_purpose, virtual_status};
use crate::views::{labelled_combo_ui, labelled_text_edit_ui};
use domain::api::{VamOperation, VamRequest};
use domain::ledger::{AccountId, OwnerKind, VirtualPurpose};
use domain::vam::{TreePage, VirtualNodeView};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// One parent's children, as far as they are loaded.
#[derive(Debug, Default)]
struct Children {
    nodes: Vec<VirtualNodeView>,
    next_after: Option<String>,
}

/// The form that opens a sub-account.
#[derive(Debug)]
pub(super) struct OpenForm {
    /// Under this node (its id and number); `None`: at the top level.
    parent: Option<(AccountId, String)>,
    kind: OwnerKind,
    name: String,
    owner_id: String,
    purpose: VirtualPurpose,
}

impl OpenForm {
    pub(super) fn under(parent: Option<(AccountId, String)>) -> Self {
        Self {
            parent,
            kind: OwnerKind::Customer,
            name: String::new(),
            owner_id: String::new(),
            purpose: VirtualPurpose::UserWallet,
        }
    }
}

/// The loaded tree, what is expanded, the search and the open form.
#[derive(Debug, Default)]
pub(super) struct TreeState {
    physical_id: Option<Uuid>,
    top: Option<Children>,
    children: HashMap<AccountId, Children>,
    expanded: HashSet<AccountId>,
    query: String,
    pub(super) results: Option<Vec<VirtualNodeView>>,
    pub(super) open: Option<OpenForm>,
}

impl TreeState {
    /// Forgets everything loaded: the tree of `physical_id` starts again.
    pub(super) fn reset(&mut self, physical_id: Uuid) {
        *self = Self {
            physical_id: Some(physical_id),
            query: std::mem::take(&mut self.query),
            ..Self::default()
        };
    }

    /// A page of children; a reply for another physical account is dropped.
    pub(super) fn set_page(
        &mut self,
        physical_id: Uuid,
        parent: Option<AccountId>,
        more: bool,
        page: TreePage,
    ) {
        if self.physical_id != Some(physical_id) {
            return;
        }
        let children = match parent {
            None => self.top.get_or_insert_with(Children::default),
            Some(id) => self.children.entry(id).or_default(),
        };
        if more {
            children.nodes.extend(page.nodes);
        } else {
            children.nodes = page.nodes;
        }
        children.next_after = page.next_after;
    }

    /// The rows to draw: the top level, and under each expanded node its children.
    fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        if let Some(top) = &self.top {
            self.push_rows(&mut rows, top, 0, None);
        }
        rows
    }

    fn push_rows(
        &self,
        rows: &mut Vec<Row>,
        children: &Children,
        depth: usize,
        parent: Option<&VirtualNodeView>,
    ) {
        for node in &children.nodes {
            rows.push(Row::Node { depth, node: node.clone() });
            if self.expanded.contains(&node.id)
                && let Some(below) = self.children.get(&node.id)
            {
                self.push_rows(rows, below, depth + 1, Some(node));
            }
        }
        if let Some(after) = &children.next_after {
            let parent = parent.map(|p| (p.id, p.number.clone()));
            rows.push(Row::More { depth, parent, after: after.clone() });
        }
    }
}

/// A line of the tree.
enum Row {
    Node { depth: usize, node: VirtualNodeView },
    More { depth: usize, parent: Option<(AccountId, String)>, after: String },
}

/// What a click in the tree asks for.
enum Action {
    Select(AccountId),
    Toggle(AccountId),
    More(Option<AccountId>, String),
    Target(AccountId, String),
}

impl VamView {
    /// The first page of the top level and of every expanded node.
    pub(super) fn reload_tree(&mut self, outbox: &mut Outbox) {
        let Some(physical_id) = self.tree.physical_id else { return };
        let parents = std::iter::once(None).chain(self.tree.expanded.iter().copied().map(Some));
        for parent in parents {
            let request = VamRequest::Tree { physical_id, parent, after: None, limit: TREE_PAGE };
            send(outbox, VamPurpose::Tree { physical_id, parent, more: false }, request);
        }
    }

    pub(super) fn tree_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        ui.strong(T::VamTreeHeading.text(lang));
        self.search_ui(ui, ctx);
        let action = if let Some(results) = self.tree.results.clone() {
            ui.horizontal(|ui| {
                ui.label(fill(T::VamSearchResults.text(lang), &[("n", &results.len())]));
                if ui.button(T::VamClearSearch.text(lang)).clicked() {
                    self.tree.results = None;
                }
            });
            let rows: Vec<Row> = results.into_iter().map(|node| Row::Node { depth: 0, node }).collect();
            self.rows_ui(ui, ctx, &rows, false)
        } else if self.tree.physical_id.is_some() {
            if ctx.abilities.vam_operate && ui.button(T::VamOpenTop.text(lang)).clicked() {
                self.tree.open = Some(OpenForm::under(None));
            }
            self.open_form_ui(ui, ctx);
            match &self.tree.top {
                None => {
                    ui.label(T::Loading.text(lang));
                    None
                }
                Some(top) if top.nodes.is_empty() => {
                    ui.label(T::VamTreeEmpty.text(lang));
                    None
                }
                Some(_) => {
                    let rows = self.tree.rows();
                    self.rows_ui(ui, ctx, &rows, true)
                }
            }
        } else {
            None
        };
        if let Some(action) = action {
            self.tree_action(ctx.outbox, action);
        }
    }

    fn search_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        ui.horizontal(|ui| {
            let edit = labelled_text_edit_ui(ui, T::VamSearchLabel.text(lang), &mut self.tree.query, false);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let ready = !self.tree.query.trim().is_empty();
            if (ui.add_enabled(ready, egui::Button::new(T::Search.text(lang))).clicked() || enter) && ready {
                self.clear_status();
                let query = self.tree.query.trim().to_owned();
                send(ctx.outbox, VamPurpose::Search, VamRequest::Search { query });
            }
        });
        ui.weak(T::VamSearchHint.text(lang));
    }

    /// The table of nodes; what was clicked.
    fn rows_ui(
        &self,
        ui: &mut egui::Ui,
        ctx: &ViewCtx<'_>,
        rows: &[Row],
        expandable: bool,
    ) -> Option<Action> {
        let lang = ctx.lang;
        // A transfer target is picked once a sub-account is selected.
        let from = self.sub.selected.filter(|_| ctx.abilities.vam_operate);
        let mut action = None;
        egui::Grid::new("vam_tree").striped(true).num_columns(10).show(ui, |ui| {
            for key in [
                T::VamColVirtualNumber,
                T::VamColOwner,
                T::VamColPurpose,
                T::Status,
                T::VamColOwn,
                T::VamColSubtree,
                T::VamColHeld,
                T::VamColAvailable,
                T::VamColChildren,
                T::Actions,
            ] {
                ui.strong(key.text(lang));
            }
            ui.end_row();
            for row in rows {
                let clicked = match row {
                    Row::Node { depth, node } => self.node_ui(ui, lang, *depth, node, expandable, from),
                    Row::More { depth, parent, after } => more_ui(ui, lang, *depth, parent, after),
                };
                if action.is_none() {
                    action = clicked;
                }
                ui.end_row();
            }
        });
        action
    }

    /// One node: its number (click to select), figures, expand and transfer-target buttons.
    fn node_ui(
        &self,
        ui: &mut egui::Ui,
        lang: Lang,
        depth: usize,
        node: &VirtualNodeView,
        expandable: bool,
        from: Option<AccountId>,
    ) -> Option<Action> {
        let mut action = None;
        ui.horizontal(|ui| {
            ui.add_space(depth as f32 * 16.0);
            if ui.selectable_label(self.sub.selected == Some(node.id), &node.number).clicked() {
                action = Some(Action::Select(node.id));
            }
        });
        ui.label(format!("{} · {}", node.owner.name_masked, owner_kind(node.owner.kind).text(lang)));
        ui.label(virtual_purpose(node.purpose).text(lang));
        ui.label(virtual_status(node.status).text(lang));
        ui.label(yuan(node.own_balance));
        ui.label(yuan(node.subtree_balance));
        ui.label(yuan(node.held));
        ui.label(yuan(node.available));
        ui.label(node.child_count.to_string());
        ui.horizontal(|ui| {
            let number: [(&str, &dyn std::fmt::Display); 1] = [("number", &node.number)];
            if expandable && node.child_count > 0 {
                let key = if self.tree.expanded.contains(&node.id) { T::VamCollapse } else { T::VamExpand };
                if ui.button(fill(key.text(lang), &number)).clicked() {
                    action = Some(Action::Toggle(node.id));
                }
            }
            if from.is_some_and(|from| from != node.id)
                && ui.button(fill(T::VamSetTarget.text(lang), &number)).clicked()
            {
                action = Some(Action::Target(node.id, node.number.clone()));
            }
        });
        action
    }

    fn tree_action(&mut self, outbox: &mut Outbox, action: Action) {
        let Some(physical_id) = self.tree.physical_id else { return };
        match action {
            Action::Select(id) => {
                self.clear_status();
                self.select_sub_account(outbox, id);
            }
            Action::Toggle(id) => {
                if !self.tree.expanded.remove(&id) {
                    self.tree.expanded.insert(id);
                    let request =
                        VamRequest::Tree { physical_id, parent: Some(id), after: None, limit: TREE_PAGE };
                    send(outbox, VamPurpose::Tree { physical_id, parent: Some(id), more: false }, request);
                }
            }
            Action::More(parent, after) => {
                let request = VamRequest::Tree { physical_id, parent, after: Some(after), limit: TREE_PAGE };
                send(outbox, VamPurpose::Tree { physical_id, parent, more: true }, request);
            }
            Action::Target(id, number) => self.sub.set_target(id, number),
        }
    }

    /// 开立子账户: owner kind, owner name, optional owner id, purpose.
    fn open_form_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let lang = ctx.lang;
        let Some(form) = &mut self.tree.open else { return };
        let (mut submit, mut cancel) = (false, false);
        ui.group(|ui| {
            let parent =
                form.parent.as_ref().map_or(T::VamTopLevel.text(lang), |(_, number)| number.as_str());
            ui.label(fill(T::VamOpenUnder.text(lang), &[("parent", &parent)]));
            ui.horizontal(|ui| {
                let kind = owner_kind(form.kind).text(lang);
                labelled_combo_ui(ui, T::VamOwnerKindLabel.text(lang), "vam_owner_kind", kind, |ui| {
                    for k in OwnerKind::ALL {
                        ui.selectable_value(&mut form.kind, k, owner_kind(k).text(lang));
                    }
                });
                let purpose = virtual_purpose(form.purpose).text(lang);
                labelled_combo_ui(ui, T::VamPurposeLabel.text(lang), "vam_purpose", purpose, |ui| {
                    for p in VirtualPurpose::ALL {
                        ui.selectable_value(&mut form.purpose, p, virtual_purpose(p).text(lang));
                    }
                });
            });
            labelled_text_edit_ui(ui, T::VamOwnerName.text(lang), &mut form.name, false);
            labelled_text_edit_ui(ui, T::VamOwnerId.text(lang), &mut form.owner_id, false);
            ui.horizontal(|ui| {
                submit = ui.button(T::VamConfirmOpen.text(lang)).clicked();
                cancel = ui.button(T::VamCancelOpen.text(lang)).clicked();
            });
        });
        if cancel {
            self.tree.open = None;
        }
        if submit {
            self.submit_open(ctx.outbox);
        }
    }

    fn submit_open(&mut self, outbox: &mut Outbox) {
        let (Some(form), Some(physical_id)) = (&self.tree.open, self.tree.physical_id) else { return };
        let owner_name = form.name.trim().to_owned();
        if owner_name.is_empty() {
            return self.refuse(Problem::Required(T::VamOwnerName));
        }
        let owner_id = match form.owner_id.trim() {
            "" => None,
            typed => match Uuid::parse_str(typed) {
                Ok(id) => Some(id),
                Err(_) => return self.refuse(Problem::Uuid(T::VamOwnerId)),
            },
        };
        let op = VamOperation::Open {
            physical_id,
            parent: form.parent.as_ref().map(|(id, _)| *id),
            owner_kind: form.kind,
            owner_id,
            owner_name,
            purpose: form.purpose,
        };
        self.act(outbox, OpKind::Open, op);
    }
}

/// 更多子账户 (top level) or 更多下级 {number}: the next page of one parent.
fn more_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    depth: usize,
    parent: &Option<(AccountId, String)>,
    after: &str,
) -> Option<Action> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.add_space(depth as f32 * 16.0);
        let text = match parent {
            None => T::VamMoreTop.text(lang).to_owned(),
            Some((_, number)) => fill(T::VamMoreChildren.text(lang), &[("number", number)]),
        };
        if ui.button(text).clicked() {
            action = Some(Action::More(parent.as_ref().map(|(id, _)| *id), after.to_owned()));
        }
    });
    action
}
