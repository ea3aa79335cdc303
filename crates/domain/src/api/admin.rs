//! Operator administration's requests (role `admin`). An administrator never
//! changes their own account: another administrator does.

use super::Request;
use crate::auth::Role;
use serde::{Deserialize, Serialize};

/// What an administrator asks. `Debug` shows only the name (a password travels here).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AdminRequest {
    /// Every operator.
    ListOperators,
    /// A new operator, who must choose their own password at first login.
    CreateOperator {
        /// Login name.
        username: String,
        /// Name shown.
        display_name: String,
        /// Role.
        role: Role,
        /// A first password, passed on out of band (checked against the policy).
        initial_password: String,
    },
    /// Another role.
    SetRole {
        /// Who.
        username: String,
        /// The new role.
        role: Role,
    },
    /// Disable (or enable again) an operator.
    SetDisabled {
        /// Who.
        username: String,
        /// Disabled.
        disabled: bool,
    },
    /// Clear a lock after failed logins.
    Unlock {
        /// Who.
        username: String,
    },
    /// Make the operator choose a new password at next login.
    RequirePasswordChange {
        /// Who.
        username: String,
    },
}

impl std::fmt::Debug for AdminRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdminRequest::{}", self.name())
    }
}

impl AdminRequest {
    /// A name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            AdminRequest::ListOperators => "list_operators",
            AdminRequest::CreateOperator { .. } => "create_operator",
            AdminRequest::SetRole { .. } => "set_role",
            AdminRequest::SetDisabled { .. } => "set_disabled",
            AdminRequest::Unlock { .. } => "unlock",
            AdminRequest::RequirePasswordChange { .. } => "require_password_change",
        }
    }
}

impl From<AdminRequest> for Request {
    fn from(r: AdminRequest) -> Self {
        Request::Admin(r)
    }
}
