//! Operators, roles and the permission table.
//!
//! The table lives here so the UI can hide what an operator cannot do, but the
//! backend's dispatcher is what enforces it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What an operator may do. Each `Request` needs at most one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Search customers and see the masked three-tier tree.
    CustomerView,
    /// Reveal a masked PII field (with a reason; audited).
    PiiReveal,
    /// Read the audit log and verify its chain.
    AuditView,
    /// Work the recycled-number queue (claim, review, propose decisions).
    RecycledReview,
    /// Approve another operator's recycled-number decision (four-eyes checker).
    RecycledApprove,
    /// Run the force-unbind wizard.
    ForceUnbind,
    /// See suspense items.
    SuspenseView,
    /// Propose a suspense resolution.
    SuspenseResolve,
    /// Approve another operator's suspense resolution.
    SuspenseApprove,
    /// Inspect virtual sub-accounts.
    VirtualAccountView,
    /// Operate virtual sub-accounts: open, credit, freeze, transfer, interest, close.
    VirtualAccountOperate,
    /// Approve another operator's virtual sub-account operation (four-eyes checker).
    VirtualAccountApprove,
    /// Create operators, reset passwords, unlock.
    OperatorManage,
    /// Import bank and channel statements.
    StatementImport,
    /// Run reconciliation for a day, close a day.
    ReconcileRun,
}

impl std::fmt::Display for Permission {
    /// The permission's code (its serde name), for logs and error messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned));
        f.write_str(code.as_deref().unwrap_or("unknown"))
    }
}

/// An operator's role. One role per operator keeps the table auditable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Customer-service desktop.
    CsAgent,
    /// Finance exception reviewer.
    FinanceReviewer,
    /// Team lead: everything an agent and a reviewer do, plus approvals.
    Supervisor,
    /// Read-only: audit log and masked customer data.
    Auditor,
    /// Operator administration; sees no PII.
    Admin,
    /// The scheduled job that imports statements and runs reconciliation when
    /// bank files arrive: no screens, no PII, no resolutions.
    ServiceOperator,
}

impl Role {
    /// Every role, for listings and tests.
    pub const ALL: [Role; 6] = [
        Role::CsAgent,
        Role::FinanceReviewer,
        Role::Supervisor,
        Role::Auditor,
        Role::Admin,
        Role::ServiceOperator,
    ];

    /// The stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::CsAgent => "cs_agent",
            Role::FinanceReviewer => "finance_reviewer",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::ServiceOperator => "service_operator",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The permission table.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::CsAgent => &[CustomerView, PiiReveal, RecycledReview, ForceUnbind, VirtualAccountView],
            Role::FinanceReviewer => &[
                CustomerView,
                SuspenseView,
                SuspenseResolve,
                SuspenseApprove,
                StatementImport,
                ReconcileRun,
                VirtualAccountView,
                VirtualAccountOperate,
            ],
            Role::Supervisor => &[
                CustomerView,
                PiiReveal,
                RecycledReview,
                RecycledApprove,
                ForceUnbind,
                SuspenseView,
                SuspenseResolve,
                SuspenseApprove,
                StatementImport,
                ReconcileRun,
                VirtualAccountView,
                VirtualAccountOperate,
                VirtualAccountApprove,
            ],
            Role::Auditor => &[CustomerView, AuditView, VirtualAccountView, SuspenseView],
            Role::Admin => &[OperatorManage, AuditView],
            Role::ServiceOperator => &[StatementImport, ReconcileRun, SuspenseView],
        }
    }

    /// Whether this role grants `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

/// The logged-in operator as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorInfo {
    /// Operator id (UUIDv7).
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Name shown in the UI and audit log.
    pub display_name: String,
    /// The operator's role.
    pub role: Role,
    /// Must choose a new password before anything else (set by an administrator).
    #[serde(default)]
    pub must_change_password: bool,
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Passwords too common to accept whatever their length (lower-cased compare).
const COMMON_PASSWORDS: &[&str] = &[
    "password1234",
    "123456789012",
    "qwertyuiop12",
    "admin1234567",
    "demo@2026",
    "passw0rd1234",
    "1qaz2wsx3edc",
    "abcdefghijkl",
    "iloveyou1234",
    "welcome12345",
    "p@ssw0rd1234",
    "zaq12wsxcde3",
];

/// Why a password is refused (the UI words it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordRule {
    /// Shorter than [`MIN_PASSWORD_CHARS`].
    TooShort,
    /// Contains the username.
    ContainsUsername,
    /// On the list of common passwords.
    Common,
}

/// The password policy: long enough, not the username, not a common password.
pub fn password_problem(username: &str, password: &str) -> Option<PasswordRule> {
    let lower = password.to_lowercase();
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some(PasswordRule::TooShort)
    } else if !username.trim().is_empty() && lower.contains(&username.trim().to_lowercase()) {
        Some(PasswordRule::ContainsUsername)
    } else if COMMON_PASSWORDS.contains(&lower.as_str()) {
        Some(PasswordRule::Common)
    } else {
        None
    }
}

/// An operator as the administration screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorView {
    /// Login name.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Disabled by an administrator.
    pub disabled: bool,
    /// Locked after failed logins, until.
    pub locked_until: Option<chrono::DateTime<chrono::Utc>>,
    /// Must choose a new password.
    pub must_change_password: bool,
    /// Last login.
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Login lock-out policy. Defaults follow common banking practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPolicy {
    /// Consecutive failures that lock the operator.
    pub max_failures: u32,
    /// How long a lock lasts.
    pub lock_minutes: i64,
    /// Idle time after which the session must log in again.
    pub idle_timeout_minutes: i64,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self { max_failures: 5, lock_minutes: 15, idle_timeout_minutes: 15 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn separation_of_duties() {
        assert!(Role::CsAgent.allows(Permission::PiiReveal));
        assert!(!Role::CsAgent.allows(Permission::RecycledApprove));
        assert!(!Role::Auditor.allows(Permission::PiiReveal));
        assert!(!Role::Admin.allows(Permission::CustomerView), "admins see no customer data");
        assert!(Role::Supervisor.allows(Permission::SuspenseApprove));
    }
}
