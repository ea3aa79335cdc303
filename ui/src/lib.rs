//! The ops console UI (egui).
//!
//! Built for `wasm32-unknown-unknown` it runs in the Tauri webview and reaches the
//! services over IPC; built natively it runs against an [`backend::InProcessBackend`]
//! so tests drive the real UI, by the labels a person reads, against real databases.

pub mod app;
pub mod backend;
pub mod fonts;
pub mod i18n;
pub mod views;

#[cfg(target_arch = "wasm32")]
mod web;

pub use app::OpsApp;
