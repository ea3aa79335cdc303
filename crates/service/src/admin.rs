//! Operator administration: administrators create operators, assign roles, disable,
//! unlock and require a new password — never on their own account, every change
//! audited. Operators change their own password. The first administrator of an
//! empty database comes from the command line (`ops-console admin create-first`).

use crate::error::{Result, conflict, invalid, not_found};
use crate::password::{hash_password, verify_password};
use crate::services::Services;
use chrono::{DateTime, Utc};
use domain::api::AdminRequest;
use domain::auth::{OperatorInfo, OperatorView, Role, password_problem};
use domain::{ApiError, Conflict, Entity, InputProblem, Response};
use serde_json::json;
use store::{NewAudit, OperatorChange, OperatorRow, Store};
use uuid::Uuid;

/// Checks a new password against the policy.
fn checked_password(username: &str, password: &str) -> Result<String> {
    if let Some(rule) = password_problem(username, password) {
        return Err(invalid("password", InputProblem::WeakPassword { rule }));
    }
    hash_password(password)
        .map_err(|e| ApiError::Database { message: format!("hashing a password: {e}") }.into())
}

fn view(op: OperatorRow) -> Option<OperatorView> {
    Some(OperatorView {
        role: Role::parse(&op.role)?,
        username: op.username,
        display_name: op.display_name,
        disabled: op.disabled,
        locked_until: op.locked_until,
        must_change_password: op.must_change_password,
        last_login_at: op.last_login_at,
    })
}

/// The first administrator of a database that has no operators yet (demo operators
/// locked for good do not count). The password was typed at the terminal.
pub async fn create_first_admin(
    store: &dyn Store,
    username: &str,
    display_name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let usable = store.operators().await?.into_iter().any(|op| {
        !crate::seed::DEMO_OPERATORS.iter().any(|(demo, _, _)| *demo == op.username)
            || op.locked_until.is_none_or(|until| until < now)
    });
    if usable {
        return Err(conflict(Conflict::Exists { entity: Entity::Operator }));
    }
    let row = new_operator(username, display_name, Role::Admin, password, now)?;
    let audit =
        NewAudit::new(now, "system", "operator.create_first", format!("operator:{username}"), json!({}));
    Ok(store.insert_operator(&row, audit).await?)
}

fn new_operator(
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
    now: DateTime<Utc>,
) -> Result<OperatorRow> {
    let username = username.trim();
    if username.is_empty() {
        return Err(invalid("username", InputProblem::Required));
    }
    Ok(OperatorRow {
        id: Uuid::now_v7(),
        username: username.to_owned(),
        display_name: display_name.trim().to_owned(),
        role: role.as_str().to_owned(),
        password_hash: checked_password(username, password)?,
        failed_attempts: 0,
        locked_until: None,
        last_login_at: None,
        created_at: now,
        disabled: false,
        must_change_password: false,
    })
}

impl Services {
    pub(crate) async fn admin(
        &self,
        admin: &OperatorInfo,
        req: AdminRequest,
        now: DateTime<Utc>,
    ) -> Result<Response> {
        use AdminRequest as A;
        let actor = admin.username.as_str();
        let (username, change, action) = match req {
            A::ListOperators => {
                let ops = self.store.operators().await?.into_iter().filter_map(view).collect();
                return Ok(Response::Operators(ops));
            }
            A::CreateOperator { username, display_name, role, initial_password } => {
                let mut row = new_operator(&username, &display_name, role, &initial_password, now)?;
                // The first password was passed on by someone else: the operator replaces it.
                row.must_change_password = true;
                let detail = json!({ "role": role });
                let audit = NewAudit::new(
                    now,
                    actor,
                    "operator.create",
                    format!("operator:{}", row.username),
                    detail,
                );
                self.store.insert_operator(&row, audit).await?;
                return Ok(Response::Done);
            }
            A::SetRole { username, role } => (
                username,
                OperatorChange::Role(role.as_str().to_owned()),
                ("operator.role", json!({ "role": role })),
            ),
            A::SetDisabled { username, disabled } => (
                username,
                OperatorChange::Disabled(disabled),
                ("operator.disabled", json!({ "disabled": disabled })),
            ),
            A::Unlock { username } => (username, OperatorChange::Unlock, ("operator.unlock", json!({}))),
            A::RequirePasswordChange { username } => {
                (username, OperatorChange::MustChangePassword(true), ("operator.password_reset", json!({})))
            }
        };
        // No one grants themselves a role or lifts their own restrictions.
        if username.trim() == actor {
            return Err(conflict(Conflict::OwnAccount));
        }
        let op = self
            .store
            .operator_by_username(username.trim())
            .await?
            .ok_or_else(|| not_found(Entity::Operator))?;
        let audit = NewAudit::new(now, actor, action.0, format!("operator:{}", op.username), action.1);
        self.store.change_operator(op.id, change, audit).await?;
        Ok(Response::Done)
    }

    pub(crate) async fn change_password(
        &self,
        op: &OperatorInfo,
        current: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let row = self
            .store
            .operator_by_username(&op.username)
            .await?
            .ok_or_else(|| not_found(Entity::Operator))?;
        let (pw, phc) = (current.to_owned(), row.password_hash.clone());
        let right = tokio::task::spawn_blocking(move || verify_password(&pw, &phc)).await.unwrap_or(false);
        if !right {
            return Err(invalid("current_password", InputProblem::Required));
        }
        if new == current {
            return Err(invalid(
                "password",
                InputProblem::WeakPassword { rule: domain::auth::PasswordRule::Common },
            ));
        }
        let hash = checked_password(&op.username, new)?;
        let audit = NewAudit::new(
            now,
            &op.username,
            "operator.password_changed",
            format!("operator:{}", op.username),
            json!({}),
        );
        Ok(self.store.change_operator(row.id, OperatorChange::Password(hash), audit).await?)
    }
}
