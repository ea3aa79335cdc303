//! Pure domain logic of the ops console (号务与差错运营台).
//!
//! Nothing here does I/O: the crate compiles for `wasm32-unknown-unknown` (the UI)
//! and natively (services, storage, tests). Functions that depend on the clock take
//! `now` as a parameter.

/// `Display` and `Debug` that show only `self.masked()`: `{}` and `{:?}` both end up
/// in logs, so neither may print the clear value.
macro_rules! masked_fmt {
    ($ty:ident) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.masked())
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($ty), self.masked())
            }
        }
    };
}

/// An enum stored in the databases and sent over IPC as stable snake_case codes:
/// `as_str`/`parse` for SQL and files, `TryFrom<String>` for sqlx's `try_from`
/// row attribute, serde with the same names. Words for a code live in the UI's
/// catalogue, never here.
macro_rules! stored_code {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant,)*
        }

        impl $name {
            /// Every value, in declaration order (the order the UI lists them).
            pub const ALL: [$name; [$(stored_code!(@unit $variant)),*].len()] = [$($name::$variant),*];

            /// The stored code.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            /// Parses a stored code.
            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::UnknownCode;
            fn try_from(code: String) -> Result<Self, Self::Error> {
                Self::parse(&code).ok_or($crate::UnknownCode { kind: stringify!($name), code })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    (@unit $variant:ident) => { () };
}

/// A stored code that this build does not know (a newer console wrote it, or the
/// row was edited by hand).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code {code:?}")]
pub struct UnknownCode {
    /// The enum that was expected.
    pub kind: &'static str,
    /// What was stored.
    pub code: String,
}

pub mod api;
pub mod audit;
pub mod auth;
pub mod card;
pub mod cases;
pub mod id_number;
pub mod ledger;
pub mod mask;
pub mod model;
pub mod money;
pub mod phone;
pub mod recon;
pub mod recycle;
pub mod statement;
pub mod suspense;
pub mod vam;

pub use api::{
    ApiError, Conflict, Entity, GatewayService, InputProblem, ReconRequest, RecycledRequest, Request,
    Response, VamOperation, VamRequest,
};
