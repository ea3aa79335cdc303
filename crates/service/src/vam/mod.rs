//! The 虚拟子账户 (virtual sub-account) work area's service. `Services::handle`
//! checks the session and the permission, then hands a [`VamRequest`] here.
//!
//! Split by concern: `views` (lists, tree, entries, series, export), `ops` (every
//! operation, four-eyes proposals and approval), `preview` (dry runs), `bank` (credit notices, proof,
//! interest). Every posting goes through [`store::VamStore::post_transfer`], which
//! checks balances in SQL and writes the audit row in the same transaction.

mod bank;
pub mod demo;
mod once;
mod ops;
mod preview;
pub(crate) mod views;

use crate::error::{Result, invalid};
use crate::gateway::BankGateway;
use chrono::{DateTime, Utc};
use domain::auth::OperatorInfo;
use domain::money::Cny;
use domain::{InputProblem, Response, VamRequest};
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::sync::Arc;
use store::Store;

/// Settings key: operations at or above this amount (fen) need a checker.
pub const THRESHOLD_KEY: &str = "vam.approval_threshold_minor";
/// Default threshold: ¥50,000.00.
pub const DEFAULT_THRESHOLD_MINOR: i64 = 5_000_000;
/// The threshold can never be set above ¥1,000,000.00: four-eyes cannot be switched
/// off by a huge number.
pub const MAX_THRESHOLD_MINOR: i64 = 100_000_000;
/// Days a closed number waits before another owner may get it.
pub const QUARANTINE_DAYS: u32 = 180;
/// Largest single amount (¥10 billion), far inside `i64` fen.
pub(crate) const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000;

/// The virtual sub-account service.
pub struct VamService {
    store: Arc<dyn Store>,
    bank: Option<Arc<dyn BankGateway>>,
    export_dir: PathBuf,
    requests: once::RequestMemo,
}

impl VamService {
    /// A service over `store`, asking `bank` for credit notices and balances, writing
    /// exports to `export_dir`.
    pub fn new(store: Arc<dyn Store>, bank: Option<Arc<dyn BankGateway>>, export_dir: PathBuf) -> Self {
        Self { store, bank, export_dir, requests: once::RequestMemo::default() }
    }

    /// Handles one request of an operator whose permission was checked.
    pub(crate) async fn handle(
        &self,
        op: &OperatorInfo,
        req: VamRequest,
        now: DateTime<Utc>,
    ) -> Result<Response> {
        let actor = op.username.as_str();
        match req {
            VamRequest::PhysicalAccounts => self.physical_accounts().await.map(Response::PhysicalAccounts),
            VamRequest::Tree { physical_id, parent, after, limit } => {
                self.tree(physical_id, parent, after.as_deref(), limit).await.map(Response::VirtualTree)
            }
            VamRequest::Search { query } => self.search(&query).await.map(Response::VirtualTree),
            VamRequest::SubAccount { account } => {
                self.sub_account(account, now).await.map(|d| Response::SubAccount(Box::new(d)))
            }
            VamRequest::Entries { account, filter, before, limit } => {
                self.entries(account, &filter, before, limit).await.map(Response::Entries)
            }
            VamRequest::BalanceSeries { account, from, to } => {
                self.balance_series(account, from, to).await.map(Response::BalanceSeries)
            }
            VamRequest::ExportEntries { account, filter } => self.export(actor, account, &filter, now).await,
            VamRequest::PollCredits { physical_id } => {
                self.poll_credits(actor, physical_id, now).await.map(Response::Polled)
            }
            VamRequest::Proof { physical_id } => {
                self.proof(actor, physical_id, now).await.map(Response::Proof)
            }
            VamRequest::InterestPreview { physical_id, from, to, interest } => {
                self.interest_preview(physical_id, from, to, interest).await.map(Response::InterestPreview)
            }
            VamRequest::CloseCheck { account } => self.close_check(account).await.map(Response::CloseCheck),
            VamRequest::Do(operation) => self.operate(op, operation, None, now).await.map(Response::Vam),
            VamRequest::DoOnce { request_id, operation } => {
                self.operate_once(op, request_id, operation, now).await.map(Response::Vam)
            }
            VamRequest::Preview(operation) => {
                self.preview(actor, operation, now).await.map(Response::OperationPreview)
            }
            VamRequest::Proposals => self.proposals().await.map(Response::VamProposals),
            VamRequest::Approve { proposal_id, approve } => {
                self.approve(op, proposal_id, approve, now).await.map(Response::Vam)
            }
        }
    }

    /// The approval threshold in force, bounded whatever is stored.
    async fn threshold_minor(&self) -> Result<i64> {
        let stored = self.store.setting(THRESHOLD_KEY).await?;
        Ok(stored
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(DEFAULT_THRESHOLD_MINOR)
            .clamp(1, MAX_THRESHOLD_MINOR))
    }
}

/// A typed amount as fen: positive, whole fen, bounded.
pub(crate) fn amount_minor(field: &str, amount: Decimal) -> Result<i64> {
    Cny(amount)
        .to_minor()
        .filter(|m| (1..=MAX_AMOUNT_MINOR).contains(m))
        .ok_or_else(|| invalid(field, InputProblem::Amount))
}

/// Fen as yuan for the screens.
pub(crate) fn yuan(minor: i64) -> Decimal {
    Cny::from_minor(minor).0
}
