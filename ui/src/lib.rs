//! The ops console UI (egui).
//!
//! Built for `wasm32-unknown-unknown` it runs in the Tauri webview and reaches the
//! services over IPC; built natively it runs against any [`backend::Backend`] — the
//! tests crate's in-process one drives the real UI, by the labels a person reads,
//! against real databases.

pub mod app;
pub mod backend;
pub mod contract;
pub mod fonts;
pub mod i18n;
pub mod text;
pub mod views;

#[cfg(target_arch = "wasm32")]
mod web;

pub use app::OpsApp;
