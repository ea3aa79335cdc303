//! Pure domain logic of the ops console (号务与差错运营台).
//!
//! Nothing here does I/O: the crate compiles for `wasm32-unknown-unknown` (the UI)
//! and natively (services, storage, tests). Functions that depend on the clock take
//! `now` as a parameter.

pub mod api;
pub mod audit;
pub mod auth;
pub mod card;
pub mod id_number;
pub mod mask;
pub mod model;
pub mod money;
pub mod phone;

pub use api::{ApiError, Request, Response};
