//! The application shell: login, navigation between work areas, reply routing,
//! and the [`ShellCommand`]s views queue (handled after each frame is drawn).

use crate::backend::{Backend, Reply};
use crate::contract::{Abilities, Outbox, PickTarget, Purpose, ShellCommand, ViewCtx, WorkArea};
use crate::i18n::{Lang, T};
use crate::views::force_unbind::ForceUnbindView;
use crate::views::operators::OperatorsView;
use crate::views::password::PasswordView;
use crate::views::recycled::RecycledView;
use crate::views::settings::SettingsView;
use crate::views::suspense::SuspenseView;
use crate::views::vam::VamView;
use crate::views::{audit::AuditView, login::LoginView, lookup::LookupView};
use domain::auth::{OperatorInfo, Permission, Role};
use domain::model::DatabaseInfo;
use domain::{ApiError, Request, Response};
use std::collections::HashMap;

pub use crate::text::{error_text, role_text};

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
    /// 操作员管理.
    Admin,
    /// 设置.
    Settings,
}

impl Area {
    const ALL: [Area; 8] = [
        Area::Lookup,
        Area::Recycled,
        Area::ForceUnbind,
        Area::Suspense,
        Area::Virtual,
        Area::Audit,
        Area::Admin,
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
            Area::Admin => T::AreaAdmin,
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
            Area::Admin => Some(Permission::OperatorManage),
            Area::Settings => None,
        }
    }

    fn visible_to(self, role: Role) -> bool {
        self.permission().is_none_or(|p| role.allows(p))
    }
}

/// Idle time after which the UI locks itself (the backend expires the session too).
pub const IDLE_LOCK_SECS: f64 = 15.0 * 60.0;

/// The signed-in operator and what their role allows (computed once, at login).
struct Session {
    operator: OperatorInfo,
    abilities: Abilities,
}

impl Session {
    fn new(operator: OperatorInfo) -> Self {
        Self { abilities: Abilities::of(operator.role), operator }
    }
}

/// Every work area's state; dropped as a whole when the session ends.
#[derive(Default)]
struct Views {
    lookup: LookupView,
    recycled: RecycledView,
    wizard: ForceUnbindView,
    audit: AuditView,
    settings: SettingsView,
    operators: OperatorsView,
    vam: VamView,
    suspense: SuspenseView,
}

/// The whole console UI. Owns view state only; all data comes from the [`Backend`].
pub struct OpsApp {
    backend: Box<dyn Backend>,
    next_request_id: u64,
    in_flight: HashMap<u64, Purpose>,
    lang: Lang,
    database: Option<DatabaseInfo>,
    /// The database is a demo database (made-up data).
    demo: bool,
    startup_error: Option<ApiError>,
    status_known: bool,
    session: Option<Session>,
    area: Area,
    login: LoginView,
    password: PasswordView,
    views: Views,
    keyboard: bool,
    last_activity_secs: f64,
    /// Where the next file picked in the desktop's dialog goes.
    pick_target: PickTarget,
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
            demo: false,
            startup_error: None,
            status_known: false,
            session: None,
            area: Area::Lookup,
            login: LoginView::default(),
            password: PasswordView::default(),
            views: Views::default(),
            keyboard: true,
            last_activity_secs: 0.0,
            pick_target: PickTarget::default(),
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
        self.session.as_ref().map(|s| &s.operator)
    }

    /// Whether keyboard shortcuts are on.
    pub fn keyboard(&self) -> bool {
        self.keyboard
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
        } else if self.session.as_ref().is_some_and(|s| s.operator.must_change_password) {
            self.password.password_ui(ui, self.lang, &mut outbox);
        } else if self.session.is_some() {
            self.shell_ui(ui, &mut outbox);
        } else {
            self.login.login_ui(ui, self.lang, &mut outbox);
        }
        self.dispatch(outbox);
        // In-process replies are ready now: show them on the next frame.
        if self.receive() {
            ui.ctx().request_repaint();
        }
    }

    fn idle_lock(&mut self, ui: &egui::Ui, outbox: &mut Outbox) {
        let (now, active) = ui.input(|i| (i.time, !i.events.is_empty() || i.pointer.is_moving()));
        if active || self.session.is_none() {
            self.last_activity_secs = now;
        } else if now - self.last_activity_secs > IDLE_LOCK_SECS {
            outbox.send(Purpose::Logout, Request::Logout);
            self.lock(T::SessionExpired);
        }
    }

    /// Drops the session and every view's data, back to the login screen.
    fn lock(&mut self, message: T) {
        self.clear_views();
        self.login.set_notice(message);
    }

    /// Forgets the session and everything views hold.
    fn clear_views(&mut self) {
        self.session = None;
        self.views = Views::default();
        // A reply still on its way (a revealed value, a case) belongs to the session
        // that asked: it must not land in the next operator's views.
        self.in_flight.retain(|_, p| matches!(p, Purpose::Status | Purpose::Login));
    }

    fn shell_ui(&mut self, ui: &mut egui::Ui, outbox: &mut Outbox) {
        let Some(session) = &self.session else { return };
        let (lang, op) = (self.lang, &session.operator);
        top_bar_ui(ui, lang, op, self.database.as_ref().map(|db| (db, self.demo)), outbox);
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
        let mut ctx = ViewCtx {
            lang,
            operator: op,
            abilities: Abilities { keyboard: self.keyboard, ..session.abilities },
            database: self.database.as_ref(),
            outbox,
        };
        let (area, views) = (self.area, &mut self.views);
        egui::CentralPanel::default().show(ui, |ui| match area {
            Area::Lookup => views.lookup.ui(ui, &mut ctx),
            Area::Recycled => views.recycled.ui(ui, &mut ctx),
            Area::ForceUnbind => views.wizard.ui(ui, &mut ctx),
            Area::Audit => views.audit.ui(ui, &mut ctx),
            Area::Admin => views.operators.ui(ui, &mut ctx),
            Area::Settings => views.settings.ui(ui, &mut ctx),
            Area::Virtual => views.vam.ui(ui, &mut ctx),
            Area::Suspense => views.suspense.ui(ui, &mut ctx),
        });
    }

    /// Sends the outbox's requests and carries out its commands.
    fn dispatch(&mut self, outbox: Outbox) {
        for command in outbox.commands {
            self.command(command);
        }
        for (purpose, request) in outbox.requests {
            let id = self.next_request_id;
            self.next_request_id += 1;
            self.in_flight.insert(id, purpose);
            self.backend.send(id, request);
        }
    }

    fn command(&mut self, command: ShellCommand) {
        match command {
            ShellCommand::OpenForceUnbind { case } => {
                self.views.wizard.start_with(*case);
                self.area = Area::ForceUnbind;
            }
            ShellCommand::SetLang(lang) => self.lang = lang,
            ShellCommand::SetKeyboard(on) => self.keyboard = on,
            ShellCommand::PickFile(target) => {
                self.pick_target = target;
                self.backend.pick_file();
            }
        }
    }

    /// Routes arrived replies; returns whether any arrived.
    fn receive(&mut self) -> bool {
        let replies = self.backend.poll();
        let mut any = !replies.is_empty();
        if let Some(path) = self.backend.picked_file() {
            any = true;
            match self.pick_target {
                PickTarget::CarrierFile => self.views.recycled.set_import_path(path),
                PickTarget::Statement => self.views.suspense.set_statement_path(path),
            }
        }
        for (id, reply) in replies {
            if let Some(purpose) = self.in_flight.remove(&id) {
                // Replies can start follow-ups (refresh after an action): send them now.
                let mut outbox = Outbox::default();
                self.route(purpose, reply, &mut outbox);
                self.dispatch(outbox);
            }
        }
        any
    }

    fn route(&mut self, purpose: Purpose, reply: Reply, outbox: &mut Outbox) {
        let views = &mut self.views;
        match (purpose, reply) {
            (_, Err(ApiError::SessionExpired)) => self.lock(T::SessionExpired),
            (_, Err(ApiError::NotLoggedIn)) if self.session.is_some() => self.lock(T::NotLoggedIn),
            (Purpose::ChangePassword, Ok(_)) => {
                if let Some(s) = self.session.as_mut() {
                    s.operator.must_change_password = false;
                }
                self.password = PasswordView::default();
            }
            (Purpose::ChangePassword, Err(e)) => self.password.on_error(e),
            (Purpose::Status | Purpose::Login | Purpose::Logout, reply) => {
                self.on_session_reply(purpose, reply)
            }
            (Purpose::Lookup(p), reply) => views.lookup.on_reply(p, reply, outbox),
            (Purpose::Recycled(p), reply) => views.recycled.on_reply(p, reply, outbox),
            (Purpose::Wizard(p), reply) => views.wizard.on_reply(p, reply, outbox),
            (Purpose::Audit(p), reply) => views.audit.on_reply(p, reply, outbox),
            (Purpose::Settings(p), reply) => views.settings.on_reply(p, reply, outbox),
            (Purpose::Admin(p), reply) => views.operators.on_reply(p, reply, outbox),
            (Purpose::Vam(p), reply) => views.vam.on_reply(p, reply, outbox),
            (Purpose::Suspense(p), reply) => views.suspense.on_reply(p, reply, outbox),
        }
    }

    fn on_session_reply(&mut self, purpose: Purpose, reply: Reply) {
        match (purpose, reply) {
            (Purpose::Status, Ok(Response::Status { demo, database, startup_error, operator })) => {
                self.status_known = true;
                self.database = database;
                self.demo = demo;
                self.startup_error = startup_error;
                self.session = operator.map(Session::new);
            }
            (Purpose::Status, Err(e)) => {
                self.status_known = true;
                self.startup_error = Some(e);
            }
            (Purpose::Login, Ok(Response::LoggedIn(op))) => {
                self.area = Area::ALL.into_iter().find(|a| a.visible_to(op.role)).unwrap_or(Area::Settings);
                self.session = Some(Session::new(op));
                self.login = LoginView::default();
            }
            (Purpose::Login, Err(e)) => self.login.set_error(e),
            (Purpose::Logout, _) => self.clear_views(),
            (_, Ok(other)) => unexpected_reply(purpose, &other),
            (_, Err(_)) => {}
        }
    }
}

/// A mismatched reply is a bug in the backend, not something an operator can act on.
pub(crate) fn unexpected_reply(purpose: impl std::fmt::Debug, response: &Response) {
    // The purpose and the reply's kind only: a reply may hold a revealed value.
    let kind = std::mem::discriminant(response);
    debug_assert!(false, "unexpected reply for {purpose:?}: {kind:?}");
}

fn top_bar_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    op: &OperatorInfo,
    database: Option<(&DatabaseInfo, bool)>,
    outbox: &mut Outbox,
) {
    egui::Panel::top("top_bar").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.heading(T::AppTitle.text(lang));
            // Nobody should take demo data for customers' data, or the reverse.
            if database.is_some_and(|(_, demo)| demo) {
                ui.colored_label(ui.visuals().warn_fg_color, T::DemoDatabase.text(lang));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button(T::LogOut.text(lang)).clicked() {
                    outbox.send(Purpose::Logout, Request::Logout);
                }
                ui.label(format!("{} · {}", op.display_name, role_text(op.role).text(lang)));
                if let Some((db, _)) = database {
                    ui.weak(format!("{} · {}", db.kind, db.location));
                }
            });
        });
    });
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
