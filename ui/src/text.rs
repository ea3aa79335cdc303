//! Text built from typed values at draw time: roles and errors in the frame's language.

use crate::i18n::{Lang, T, fill};
use domain::auth::Role;
use domain::{ApiError, InputProblem};

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
