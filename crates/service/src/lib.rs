//! Services of the ops console.
//!
//! [`Services::handle`] is the one door every request passes through: it checks the
//! session and the permission the request needs (from `domain::Request::permission`),
//! runs the action and writes the audit row. Tauri commands and the in-process UI
//! backend both call it; neither checks permissions itself.

pub mod admin;
pub mod cli;
mod customers;
pub mod error;
pub mod gateway;
mod host;
pub mod intake;
mod login;
mod password;
pub mod recon;
pub mod recycle;
pub mod seed;
mod services;
pub mod simulator;
pub mod vam;
mod vault;

pub use error::ServiceError;
pub use host::{GatewaySetup, Host, HostOptions, default_database_url, load_or_create_vault};
pub use password::{hash_password, verify_password};
pub use recycle::{HookDecision, Workflow};
pub use services::{Services, Session};
pub use store::redact_url as redact_database_url;
pub use vault::{PiiVault, VaultError};
