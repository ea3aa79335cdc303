//! The one contract every work area follows.
//!
//! A view owns its state. The shell ([`OpsApp`](crate::OpsApp)) draws it with a
//! [`ViewCtx`] — language, operator, what the operator may do, and an [`Outbox`]
//! for requests and [`ShellCommand`]s — and hands it the replies to its own
//! requests. Replies stay typed in view state (an [`ApiError`](domain::ApiError),
//! a notice enum) and become text only while drawing, in the language of that frame.

use crate::backend::Reply;
use crate::i18n::{Lang, T};
use crate::views::audit::AuditPurpose;
use crate::views::force_unbind::WizardPurpose;
use crate::views::lookup::LookupPurpose;
use crate::views::operators::AdminPurpose;
use crate::views::recycled::RecycledPurpose;
use crate::views::settings::SettingsPurpose;
use crate::views::suspense::SuspensePurpose;
use crate::views::vam::VamPurpose;
use domain::Request;
use domain::auth::{OperatorInfo, Permission, Role};
use domain::cases::CaseRowView;
use domain::model::DatabaseInfo;

/// What a reply is for, so it reaches the view that asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Startup status.
    Status,
    /// Login attempt.
    Login,
    /// Logout.
    Logout,
    /// The operator's new password.
    ChangePassword,
    /// Customer lookup.
    Lookup(LookupPurpose),
    /// The audit log.
    Audit(AuditPurpose),
    /// The recycled-number area.
    Recycled(RecycledPurpose),
    /// The force-unbind wizard.
    Wizard(WizardPurpose),
    /// Settings.
    Settings(SettingsPurpose),
    /// Operator administration.
    Admin(AdminPurpose),
    /// The virtual sub-account area.
    Vam(VamPurpose),
    /// The suspense (挂账处理) area.
    Suspense(SuspensePurpose),
}

/// Which field a file picked in the desktop's dialog lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PickTarget {
    /// The recycled-number area's carrier-file import.
    #[default]
    CarrierFile,
    /// The suspense area's statement import.
    Statement,
}

/// Something a view asks of the shell; handled after the frame is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum ShellCommand {
    /// Open the force-unbind wizard on this case (from the recycled-number case view).
    OpenForceUnbind {
        /// The case, as the queue shows it (the wizard needs no round trip).
        case: Box<CaseRowView>,
    },
    /// Switch the UI language.
    SetLang(Lang),
    /// Turn keyboard shortcuts on or off.
    SetKeyboard(bool),
    /// Open the desktop's file dialog; the path lands in the field named by the target.
    PickFile(PickTarget),
}

/// Requests and commands views want sent this frame.
#[derive(Debug, Default)]
pub struct Outbox {
    pub(crate) requests: Vec<(Purpose, Request)>,
    pub(crate) commands: Vec<ShellCommand>,
}

impl Outbox {
    /// Queues `request`; its reply is routed by `purpose`.
    pub fn send(&mut self, purpose: Purpose, request: impl Into<Request>) {
        self.requests.push((purpose, request.into()));
    }

    /// Queues a command for the shell.
    pub fn command(&mut self, command: ShellCommand) {
        self.commands.push(command);
    }
}

/// What the operator may do, computed once from the role at login (the backend
/// enforces it anyway; the UI hides what it would refuse), plus the keyboard setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Abilities {
    /// Work the recycled-number queue (and see its workflow settings).
    pub review: bool,
    /// Approve, reassign, bulk actions, edit the workflow settings.
    pub approve: bool,
    /// Run the force-unbind wizard.
    pub force_unbind: bool,
    /// Reveal masked personal data (with a reason).
    pub reveal: bool,
    /// Operate virtual sub-accounts (credit, freeze, transfer, interest, close).
    pub vam_operate: bool,
    /// Approve another operator's virtual sub-account operation.
    pub vam_approve: bool,
    /// Work suspense items: claim, resolve, confirm or reverse matches, export.
    pub suspense_resolve: bool,
    /// Approve suspense resolutions (a loss, a write-off).
    pub suspense_approve: bool,
    /// Import bank and channel statements.
    pub statement_import: bool,
    /// Run a day's reconciliation.
    pub reconcile_run: bool,
    /// Keyboard shortcuts on (the operator's setting, not the role).
    pub keyboard: bool,
}

impl Abilities {
    /// What `role` allows; keyboard shortcuts off.
    pub fn of(role: Role) -> Self {
        Self {
            review: role.allows(Permission::RecycledReview),
            approve: role.allows(Permission::RecycledApprove),
            force_unbind: role.allows(Permission::ForceUnbind),
            reveal: role.allows(Permission::PiiReveal),
            vam_operate: role.allows(Permission::VirtualAccountOperate),
            vam_approve: role.allows(Permission::VirtualAccountApprove),
            suspense_resolve: role.allows(Permission::SuspenseResolve),
            suspense_approve: role.allows(Permission::SuspenseApprove),
            statement_import: role.allows(Permission::StatementImport),
            reconcile_run: role.allows(Permission::ReconcileRun),
            keyboard: false,
        }
    }
}

/// What a view draws with.
pub struct ViewCtx<'a> {
    /// The language of this frame.
    pub lang: Lang,
    /// The signed-in operator.
    pub operator: &'a OperatorInfo,
    /// What they may do.
    pub abilities: Abilities,
    /// The attached database.
    pub database: Option<&'a DatabaseInfo>,
    /// Where requests and commands go.
    pub outbox: &'a mut Outbox,
}

impl ViewCtx<'_> {
    /// `key` in this frame's language.
    pub fn t(&self, key: T) -> &'static str {
        key.text(self.lang)
    }

    /// Queues a request (see [`Outbox::send`]).
    pub fn send(&mut self, purpose: Purpose, request: impl Into<Request>) {
        self.outbox.send(purpose, request);
    }

    /// Queues a shell command (see [`Outbox::command`]).
    pub fn command(&mut self, command: ShellCommand) {
        self.outbox.command(command);
    }
}

/// A work area in the navigation: owns its state, draws with a [`ViewCtx`], takes
/// the replies to its own requests.
pub trait WorkArea {
    /// What this area's replies are for (wrapped in [`Purpose`]).
    type Purpose;

    /// Draws the area.
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>);

    /// Takes a reply; may queue follow-up requests (e.g. refresh after an action).
    fn on_reply(&mut self, purpose: Self::Purpose, reply: Reply, outbox: &mut Outbox);
}
