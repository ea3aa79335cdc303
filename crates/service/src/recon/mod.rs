//! The 挂账处理 (suspense and reconciliation) work area's service.
//! `Services::handle` checks the session and the permission, then hands a
//! [`ReconRequest`] here.
//!
//! Split by concern: `import` (statement files: read, check, store), `run` (a
//! day's reconciliation: match, park what stays unmatched), `resolve` (claims,
//! business actions, approvals, unmatching), `views` (queue, item, report,
//! export), `demo` (demo data with its ground truth). Money moves only by ledger
//! transfers posted in the same transaction as the item's change and its audit row.

pub mod demo;
mod import;
mod resolve;
pub mod returns;
mod run;
mod views;
mod xlsx;

use crate::error::Result;
use chrono::{DateTime, Utc};
use domain::ReconRequest;
use domain::Response;
use domain::auth::OperatorInfo;
use std::path::PathBuf;
use std::sync::Arc;
use store::{NewAudit, Store};

pub use import::MAX_STATEMENT_BYTES;

/// How long a claim on an item lasts (renewed by working on it).
pub const CLAIM_MINUTES: i64 = 15;

/// The suspense and reconciliation service.
pub struct ReconService {
    store: Arc<dyn Store>,
    export_dir: PathBuf,
}

impl ReconService {
    /// A service over `store`, writing reports to `export_dir` when no folder is named.
    pub fn new(store: Arc<dyn Store>, export_dir: PathBuf) -> Self {
        Self { store, export_dir }
    }

    /// Handles one request of an operator whose permission was checked.
    pub(crate) async fn handle(
        &self,
        op: &OperatorInfo,
        req: ReconRequest,
        now: DateTime<Utc>,
    ) -> Result<Response> {
        let actor = op.username.as_str();
        match req {
            ReconRequest::ImportStatement { path, account, preset, dry_run, acknowledge_difference } => self
                .import(
                    actor,
                    &path,
                    account.as_deref(),
                    preset.as_deref(),
                    dry_run,
                    acknowledge_difference,
                    now,
                )
                .await
                .map(Response::StatementImported),
            ReconRequest::Reconcile { day, physical_id, dry_run } => {
                self.reconcile(actor, day, physical_id, dry_run, now).await.map(Response::Reconciled)
            }
            ReconRequest::Queue { filter, after, limit } => {
                self.queue(&filter, after, limit, now).await.map(Response::SuspenseQueue)
            }
            ReconRequest::Item { id } => {
                self.item(id, now).await.map(|v| Response::SuspenseItem(Box::new(v)))
            }
            ReconRequest::Claim { id } => self.claim(actor, id, now).await.map(|()| Response::Done),
            ReconRequest::ClaimNext { filter } => {
                self.claim_next(actor, &filter, now).await.map(Response::SuspenseClaimed)
            }
            ReconRequest::Release { id } => self.release(actor, id, now).await.map(|()| Response::Done),
            ReconRequest::Resolve { id, action, request_id } => {
                self.resolve(op, id, action, request_id, now).await.map(Response::SuspenseOutcome)
            }
            ReconRequest::Proposals => self.proposals().await.map(Response::SuspenseProposals),
            ReconRequest::Decide { proposal_id, approve } => {
                self.decide(op, proposal_id, approve, now).await.map(Response::SuspenseOutcome)
            }
            ReconRequest::Matches { day, suggested_only } => {
                self.matches(day, suggested_only).await.map(Response::Matches)
            }
            ReconRequest::ConfirmMatch { match_id } => {
                self.confirm_match(actor, match_id, now).await.map(|()| Response::Done)
            }
            ReconRequest::Unmatch { match_id, reason } => {
                self.unmatch(actor, match_id, &reason, now).await.map(|()| Response::Done)
            }
            ReconRequest::OurItems { query, limit } => {
                self.our_items(&query, limit).await.map(Response::OurItems)
            }
            ReconRequest::Report { day } => self.report(day, now).await.map(Response::ReconReport),
            ReconRequest::DayReport { day } => {
                self.day_report(day, now).await.map(|r| Response::ReconDayReport(Box::new(r)))
            }
            ReconRequest::ExportReport { day, xlsx } => self.export_report(actor, day, xlsx, now).await,
            ReconRequest::CloseDay { day } => self.close_day(actor, day, now).await.map(|()| Response::Done),
        }
    }
}

/// An audit row of this area.
fn audit(
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: String,
    detail: serde_json::Value,
) -> NewAudit {
    NewAudit::new(now, actor, action, &target, detail)
}
