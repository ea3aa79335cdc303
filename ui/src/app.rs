//! The application shell: login, navigation between work areas, reply routing.

use crate::backend::{Backend, Reply};
use crate::i18n::{Lang, T, fill};
use crate::views::force_unbind::{ForceUnbindView, WizardPurpose};
use crate::views::recycled::{Abilities, RecycledPurpose, RecycledView};
use crate::views::{audit::AuditView, login::LoginView, lookup::LookupView, settings};
use domain::auth::{OperatorInfo, Permission, Role};
use domain::model::DatabaseInfo;
use domain::recycle::RecycleSettings;
use domain::{ApiError, InputProblem, Request, Response};
use std::collections::HashMap;

/// What a reply is for, so it reaches the view that asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Startup status.
    Status,
    /// Login attempt.
    Login,
    /// Logout.
    Logout,
    /// Customer search.
    Search,
    /// Customer tree.
    Tree,
    /// PII reveal.
    Reveal,
    /// Audit page; `append` adds to the rows shown instead of replacing them.
    AuditPage {
        /// Load-more rather than refresh.
        append: bool,
    },
    /// Audit chain verification.
    VerifyAudit,
    /// The recycled-number area.
    Recycled(RecycledPurpose),
    /// The force-unbind wizard.
    Wizard(WizardPurpose),
    /// Workflow settings (read or saved).
    WorkflowSettings,
}

/// Requests views want sent this frame.
#[derive(Debug, Default)]
pub struct Outbox {
    requests: Vec<(Purpose, Request)>,
    pick_file: bool,
}

impl Outbox {
    /// Queues `request`; its reply is routed by `purpose`.
    pub fn send(&mut self, purpose: Purpose, request: Request) {
        self.requests.push((purpose, request));
    }

    /// Asks for the desktop's file dialog (the path lands in the import field).
    pub fn pick_file(&mut self) {
        self.pick_file = true;
    }
}

/// The work areas in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// 客户查询.
    Lookup,
    /// 二次号审核.
    Recycled,
    /// 强制解绑.
    ForceUnbind,
    /// 挂账处理.
    Suspense,
    /// 虚拟子账户.
    Virtual,
    /// 审计日志.
    Audit,
    /// 设置.
    Settings,
}

impl Area {
    const ALL: [Area; 7] = [
        Area::Lookup,
        Area::Recycled,
        Area::ForceUnbind,
        Area::Suspense,
        Area::Virtual,
        Area::Audit,
        Area::Settings,
    ];

    fn title(self) -> T {
        match self {
            Area::Lookup => T::AreaLookup,
            Area::Recycled => T::AreaRecycled,
            Area::ForceUnbind => T::AreaForceUnbind,
            Area::Suspense => T::AreaSuspense,
            Area::Virtual => T::AreaVirtual,
            Area::Audit => T::AreaAudit,
            Area::Settings => T::AreaSettings,
        }
    }

    /// The permission that makes the area visible (the backend enforces it anyway).
    fn permission(self) -> Option<Permission> {
        match self {
            Area::Lookup => Some(Permission::CustomerView),
            Area::Recycled => Some(Permission::RecycledReview),
            Area::ForceUnbind => Some(Permission::ForceUnbind),
            Area::Suspense => Some(Permission::SuspenseView),
            Area::Virtual => Some(Permission::VirtualAccountView),
            Area::Audit => Some(Permission::AuditView),
            Area::Settings => None,
        }
    }

    fn visible_to(self, role: Role) -> bool {
        self.permission().is_none_or(|p| role.allows(p))
    }
}

/// Idle time after which the UI locks itself (the backend expires the session too).
pub const IDLE_LOCK_SECS: f64 = 15.0 * 60.0;

/// The whole console UI. Owns view state only; all data comes from the [`Backend`].
pub struct OpsApp {
    backend: Box<dyn Backend>,
    next_request_id: u64,
    in_flight: HashMap<u64, Purpose>,
    lang: Lang,
    database: Option<DatabaseInfo>,
    startup_error: Option<ApiError>,
    status_known: bool,
    operator: Option<OperatorInfo>,
    area: Area,
    login: LoginView,
    lookup: LookupView,
    audit: AuditView,
    recycled: RecycledView,
    wizard: ForceUnbindView,
    workflow: Option<RecycleSettings>,
    keyboard: bool,
    last_activity_secs: f64,
}

impl OpsApp {
    /// A new console over `backend`; asks for the backend's status at once.
    pub fn new(backend: Box<dyn Backend>) -> Self {
        let mut app = Self {
            backend,
            next_request_id: 1,
            in_flight: HashMap::new(),
            lang: Lang::default(),
            database: None,
            startup_error: None,
            status_known: false,
            operator: None,
            area: Area::Lookup,
            login: LoginView::default(),
            lookup: LookupView::default(),
            audit: AuditView::default(),
            recycled: RecycledView::default(),
            wizard: ForceUnbindView::default(),
            workflow: None,
            keyboard: true,
            last_activity_secs: 0.0,
        };
        let mut outbox = Outbox::default();
        outbox.send(Purpose::Status, Request::Status);
        app.dispatch(outbox);
        app
    }

    /// The current language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Sets the language.
    pub fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
    }

    /// The logged-in operator.
    pub fn operator(&self) -> Option<&OperatorInfo> {
        self.operator.as_ref()
    }

    /// Draws one frame.
    pub fn root_ui(&mut self, ui: &mut egui::Ui) {
        self.receive();
        let mut outbox = Outbox::default();
        self.idle_lock(ui, &mut outbox);
        if let Some(err) = &self.startup_error {
            startup_error_ui(ui, self.lang, err);
        } else if !self.status_known {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.label(T::Loading.text(self.lang));
            });
        } else if let Some(op) = self.operator.clone() {
            self.shell_ui(ui, &op, &mut outbox);
        } else {
            self.login.login_ui(ui, &mut self.lang, &mut outbox);
        }
        self.dispatch(outbox);
        // In-process replies are ready now: show them on the next frame.
        if self.receive() {
            ui.ctx().request_repaint();
        }
    }

    fn idle_lock(&mut self, ui: &egui::Ui, outbox: &mut Outbox) {
        let (now, active) = ui.input(|i| (i.time, !i.events.is_empty() || i.pointer.is_moving()));
        if active || self.operator.is_none() {
            self.last_activity_secs = now;
        } else if now - self.last_activity_secs > IDLE_LOCK_SECS {
            outbox.send(Purpose::Logout, Request::Logout);
            self.lock(T::SessionExpired);
        }
    }

    /// Drops the session and every view's data, back to the login screen.
    fn lock(&mut self, message: T) {
        self.clear_views();
        self.login.set_notice(message.text(self.lang));
    }

    /// Forgets the session and everything views hold.
    fn clear_views(&mut self) {
        self.operator = None;
        self.lookup = LookupView::default();
        self.audit = AuditView::default();
        self.recycled = RecycledView::default();
        self.wizard = ForceUnbindView::default();
        self.workflow = None;
    }

    /// Whether keyboard shortcuts are on.
    pub fn keyboard(&self) -> bool {
        self.keyboard
    }

    fn shell_ui(&mut self, ui: &mut egui::Ui, op: &OperatorInfo, outbox: &mut Outbox) {
        let lang = self.lang;
        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading(T::AppTitle.text(lang));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button(T::LogOut.text(lang)).clicked() {
                        outbox.send(Purpose::Logout, Request::Logout);
                    }
                    ui.label(format!("{} · {}", op.display_name, role_text(op.role).text(lang)));
                    if let Some(db) = &self.database {
                        ui.weak(format!("{} · {}", db.kind, db.location));
                    }
                });
            });
        });
        egui::Panel::left("nav").exact_size(150.0).show(ui, |ui| {
            ui.add_space(6.0);
            for area in Area::ALL.into_iter().filter(|a| a.visible_to(op.role)) {
                if ui.selectable_label(self.area == area, area.title().text(lang)).clicked() {
                    self.area = area;
                }
            }
        });
        if !self.area.visible_to(op.role) {
            self.area = Area::Settings;
        }
        egui::CentralPanel::default().show(ui, |ui| match self.area {
            Area::Lookup => self.lookup.lookup_ui(ui, lang, op.role.allows(Permission::PiiReveal), outbox),
            Area::Recycled => {
                let can = Abilities {
                    approve: op.role.allows(Permission::RecycledApprove),
                    force_unbind: op.role.allows(Permission::ForceUnbind),
                    keyboard: self.keyboard,
                };
                self.recycled.recycled_ui(ui, lang, &op.username, can, outbox);
                if let Some(case) = self.recycled.force_unbind_request.take() {
                    self.wizard.start_with(case);
                    self.area = Area::ForceUnbind;
                }
            }
            Area::ForceUnbind => self.wizard.force_unbind_ui(ui, lang, outbox),
            Area::Audit => self.audit.audit_ui(ui, lang, outbox),
            Area::Settings => {
                if self.workflow.is_none() && op.role.allows(Permission::RecycledReview) {
                    outbox.send(Purpose::WorkflowSettings, Request::RecycleSettings);
                    self.workflow = Some(RecycleSettings::default());
                }
                let page = settings::SettingsPage {
                    database: self.database.as_ref(),
                    op,
                    keyboard: &mut self.keyboard,
                    workflow: self.workflow.as_mut().filter(|_| op.role.allows(Permission::RecycledReview)),
                    can_edit_workflow: op.role.allows(Permission::RecycledApprove),
                };
                settings::settings_ui(ui, &mut self.lang, page, outbox);
            }
            other => not_built_ui(ui, lang, other.title()),
        });
    }

    fn dispatch(&mut self, outbox: Outbox) {
        if outbox.pick_file {
            self.backend.pick_file();
        }
        for (purpose, request) in outbox.requests {
            let id = self.next_request_id;
            self.next_request_id += 1;
            self.in_flight.insert(id, purpose);
            self.backend.send(id, request);
        }
    }

    /// Routes arrived replies; returns whether any arrived.
    fn receive(&mut self) -> bool {
        let replies = self.backend.poll();
        let mut any = !replies.is_empty();
        if let Some(path) = self.backend.picked_file() {
            any = true;
            self.recycled.set_import_path(path);
        }
        for (id, reply) in replies {
            if let Some(purpose) = self.in_flight.remove(&id) {
                self.route(purpose, reply);
            }
        }
        any
    }

    fn route(&mut self, purpose: Purpose, reply: Reply) {
        match (&purpose, reply) {
            (_, Err(ApiError::SessionExpired)) => self.lock(T::SessionExpired),
            (_, Err(ApiError::NotLoggedIn)) if self.operator.is_some() => self.lock(T::NotLoggedIn),
            (Purpose::Status, Ok(Response::Status { database, startup_error, operator })) => {
                self.status_known = true;
                self.database = database;
                self.startup_error = startup_error;
                self.operator = operator;
            }
            (Purpose::Status, Err(e)) => {
                self.status_known = true;
                self.startup_error = Some(e);
            }
            (Purpose::Login, Ok(Response::LoggedIn(op))) => {
                self.area = Area::ALL.into_iter().find(|a| a.visible_to(op.role)).unwrap_or(Area::Settings);
                self.operator = Some(op);
                self.login = LoginView::default();
            }
            (Purpose::Login, Err(e)) => self.login.set_error(error_text(self.lang, &e)),
            (Purpose::Logout, _) => self.clear_views(),
            (Purpose::Recycled(p), reply) => {
                // Replies can start follow-ups (refresh after an action): send them now.
                let mut outbox = Outbox::default();
                self.recycled.on_reply(
                    *p,
                    reply.map_err(|e| error_text(self.lang, &e)),
                    self.lang,
                    &mut outbox,
                );
                self.dispatch(outbox);
            }
            (Purpose::Wizard(p), reply) => {
                self.wizard.on_reply(*p, reply.map_err(|e| error_text(self.lang, &e)))
            }
            (Purpose::WorkflowSettings, Ok(Response::Settings(s))) => self.workflow = Some(s),
            (Purpose::WorkflowSettings, Err(e)) => {
                tracing_error(&error_text(self.lang, &e));
            }
            (Purpose::Search | Purpose::Tree | Purpose::Reveal, reply) => {
                self.lookup.on_reply(purpose, reply.map_err(|e| error_text(self.lang, &e)));
            }
            (Purpose::AuditPage { .. } | Purpose::VerifyAudit, reply) => {
                self.audit.on_reply(purpose, reply.map_err(|e| error_text(self.lang, &e)));
            }
            (_, Ok(other)) => unexpected_reply(purpose, &other),
        }
    }
}

fn tracing_error(message: &str) {
    // Settings load failures are shown by the settings page's own state; log for support.
    #[cfg(target_arch = "wasm32")]
    web_sys::console::error_1(&message.into());
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{message}");
}

fn unexpected_reply(purpose: Purpose, response: &Response) {
    // A mismatched reply is a bug in the backend, not something an operator can act on.
    debug_assert!(false, "unexpected reply for {purpose:?}: {response:?}");
}

/// The role's name in the catalogue.
pub fn role_text(role: Role) -> T {
    match role {
        Role::CsAgent => T::RoleCsAgent,
        Role::FinanceReviewer => T::RoleFinanceReviewer,
        Role::Supervisor => T::RoleSupervisor,
        Role::Auditor => T::RoleAuditor,
        Role::Admin => T::RoleAdmin,
    }
}

/// An error as the operator reads it.
pub fn error_text(lang: Lang, e: &ApiError) -> String {
    let t = |k: T| k.text(lang);
    match e {
        ApiError::NotLoggedIn => t(T::NotLoggedIn).to_owned(),
        ApiError::SessionExpired => t(T::SessionExpired).to_owned(),
        ApiError::InvalidCredentials { remaining_attempts } => {
            fill(t(T::WrongPassword), &[("n", remaining_attempts)])
        }
        ApiError::OperatorLocked { until } => {
            fill(t(T::OperatorLocked), &[("until", &crate::views::fmt_time(*until))])
        }
        ApiError::Forbidden { permission } => {
            fill(t(T::Forbidden), &[("permission", &format!("{permission:?}"))])
        }
        ApiError::InvalidInput { field, problem } => {
            let field = match field.as_str() {
                "username" => t(T::FieldUsername),
                "query" => t(T::FieldQuery),
                "reason" => t(T::FieldReason),
                "phone" => t(T::FieldPhone),
                "id_number" => t(T::FieldIdNumber),
                "card_number" => t(T::FieldCardNumber),
                "note" => t(T::FieldNote),
                "name" => t(T::FieldName),
                "path" => t(T::FieldPath),
                other => other,
            };
            let problem = match problem {
                InputProblem::Required => t(T::ProblemRequired).to_owned(),
                InputProblem::TooShort { min_chars } => fill(t(T::ProblemTooShort), &[("n", min_chars)]),
                InputProblem::Invalid { reason } => format!("：{reason}"),
            };
            fill(t(T::InvalidInput), &[("field", &field), ("problem", &problem)])
        }
        ApiError::NotFound { what } => fill(t(T::NotFound), &[("what", what)]),
        ApiError::Conflict { what } => fill(t(T::Conflict), &[("what", what)]),
        ApiError::BudgetExhausted { until } => {
            fill(t(T::BudgetExhausted), &[("until", &crate::views::fmt_time(*until))])
        }
        ApiError::Gateway { service, message } => {
            fill(t(T::GatewayError), &[("service", service), ("message", message)])
        }
        ApiError::InvalidDatabaseUrl { reason } => fill(t(T::DbInvalidUrl), &[("reason", reason)]),
        ApiError::DatabaseUnreachable { location, reason } => {
            fill(t(T::DbUnreachable), &[("location", location), ("reason", reason)])
        }
        ApiError::DatabaseTooNew { found, supported } => {
            fill(t(T::DbTooNew), &[("found", found), ("supported", supported)])
        }
        ApiError::DatabaseCorrupt { path, reason } => {
            fill(t(T::DbCorrupt), &[("path", path), ("reason", reason)])
        }
        ApiError::Database { message } => fill(t(T::DbError), &[("message", message)]),
        ApiError::Unavailable { message } => fill(t(T::Unavailable), &[("message", message)]),
    }
}

fn startup_error_ui(ui: &mut egui::Ui, lang: Lang, err: &ApiError) {
    egui::CentralPanel::default().show(ui, |ui| {
        ui.heading(T::AppTitle.text(lang));
        ui.add_space(12.0);
        ui.colored_label(ui.visuals().error_fg_color, T::StartupFailed.text(lang));
        ui.label(error_text(lang, err));
        ui.add_space(8.0);
        ui.label(T::StartupHint.text(lang));
    });
}

fn not_built_ui(ui: &mut egui::Ui, lang: Lang, title: T) {
    ui.heading(title.text(lang));
    ui.add_space(8.0);
    ui.label(T::NotBuiltYet.text(lang));
}
