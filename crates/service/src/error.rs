//! The services' error: a storage failure or an answer for the caller. Storage
//! errors become `ApiError`s here, once, at the service boundary.

use crate::gateway::GatewayError;
use domain::api::{GatewayProblem, GatewayService};
use domain::{ApiError, Conflict, Entity, InputProblem};
use store::StoreError;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The database failed or refused the change.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An answer for the caller (bad input, conflict, gateway…).
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Result of a service call.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Api(api) => api,
            ServiceError::Store(store) => store_error(store),
        }
    }
}

/// What the caller is told about a storage failure.
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::InvalidUrl(reason) => ApiError::InvalidDatabaseUrl { reason },
        StoreError::Unreachable { location, reason } => ApiError::DatabaseUnreachable { location, reason },
        StoreError::TooNew { found, supported } => ApiError::DatabaseTooNew { found, supported },
        StoreError::NeedsTls { host } => ApiError::DatabaseNeedsTls { host },
        StoreError::NeedsMigration { found, supported } => {
            ApiError::DatabaseNeedsMigration { found, supported }
        }
        StoreError::Corrupt { path, reason } => ApiError::DatabaseCorrupt { path, reason },
        StoreError::NotFound(entity) => ApiError::NotFound { entity },
        StoreError::Conflict(conflict) => ApiError::Conflict { conflict },
        StoreError::Busy => ApiError::DatabaseBusy,
        other => ApiError::Database { message: other.to_string() },
    }
}

/// A field of the request is not acceptable.
pub(crate) fn invalid(field: &str, problem: impl Into<InputProblem>) -> ServiceError {
    ApiError::InvalidInput { field: field.into(), problem: problem.into() }.into()
}

/// A reason or note shorter than `min_chars` (trimmed), as an error on `field`.
pub(crate) fn require_chars(field: &str, text: &str, min_chars: usize) -> Result<()> {
    if text.trim().chars().count() < min_chars {
        return Err(invalid(field, InputProblem::TooShort { min_chars }));
    }
    Ok(())
}

/// The record's state or holder does not allow the action.
pub(crate) fn conflict(conflict: Conflict) -> ServiceError {
    ApiError::Conflict { conflict }.into()
}

/// Nothing with that id.
pub(crate) fn not_found(entity: Entity) -> ServiceError {
    ApiError::NotFound { entity }.into()
}

/// A stored value this build cannot read.
pub(crate) fn data_error(what: &str) -> ServiceError {
    ApiError::Database { message: format!("unreadable stored {what}") }.into()
}

/// A gateway failure as a code; the full error (with the endpoint's words) goes to the log.
pub(crate) fn gateway_error(service: GatewayService, e: GatewayError) -> ServiceError {
    let problem = match e {
        GatewayError::Timeout { timeout_ms, attempts } => GatewayProblem::Timeout { timeout_ms, attempts },
        GatewayError::Connect { endpoint, .. } => GatewayProblem::Connect { endpoint },
        GatewayError::Http { status, .. } => GatewayProblem::Http { status },
        GatewayError::Rejected { code, .. } => GatewayProblem::Rejected { code },
        GatewayError::Protocol(_) => GatewayProblem::Protocol,
        GatewayError::NeedsTls { endpoint } => GatewayProblem::NeedsTls { endpoint },
        GatewayError::BadCaFile { path, .. } => GatewayProblem::BadCaFile { path },
    };
    // The code only: a service's own message may echo the card or ID number it was sent.
    tracing::warn!(%service, %problem, "gateway call failed");
    ApiError::Gateway { service, problem }.into()
}
