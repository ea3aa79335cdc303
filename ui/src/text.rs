//! Text built from typed values at draw time: roles here; errors and the backend's
//! other codes are worded by the catalogue (`crate::i18n`).

use crate::i18n::T;
use domain::auth::Role;

pub use crate::i18n::error_text;

/// The role's name in the catalogue.
pub fn role_text(role: Role) -> T {
    crate::i18n::role_name(role)
}
