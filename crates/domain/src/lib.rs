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

pub mod api;
pub mod audit;
pub mod auth;
pub mod card;
pub mod cases;
pub mod id_number;
pub mod mask;
pub mod model;
pub mod money;
pub mod phone;
pub mod recycle;

pub use api::{ApiError, InputProblem, Request, Response};
