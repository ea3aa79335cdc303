//! Requests of the 挂账处理 (suspense and reconciliation) area.

use crate::auth::Permission;
use crate::suspense::{SuspenseAction, SuspenseFilter};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A request of the suspense area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "recon", rename_all = "snake_case")]
pub enum ReconRequest {
    /// Read a statement file on the machine running the backend; store it unless
    /// `dry_run` (atomic: all of it or nothing; a repeated file changes nothing).
    ImportStatement {
        /// Path of the file.
        path: String,
        /// The physical account number, when the file does not name it.
        account: Option<String>,
        /// A bank CSV preset (`cmb`, `icbc`, `mybank`), when the header alone
        /// does not tell.
        preset: Option<String>,
        /// Read and check only.
        dry_run: bool,
        /// Store a statement that does not add up (its difference is recorded
        /// with who acknowledged it).
        acknowledge_difference: bool,
    },
    /// Reconcile one day: match statement lines against our items, book what
    /// stays unmatched to suspense. A dry run shows what it would do.
    Reconcile {
        /// The day (booking date of the lines).
        day: NaiveDate,
        /// Only this physical account.
        physical_id: Option<Uuid>,
        /// Change nothing.
        dry_run: bool,
    },
    /// A page of the suspense queue.
    Queue {
        /// Filter.
        filter: SuspenseFilter,
        /// After this row (keyset).
        after: Option<Uuid>,
        /// Page size (capped).
        limit: u32,
    },
    /// One item with its lines, candidates, history and postings.
    Item {
        /// Item id.
        id: Uuid,
    },
    /// Claim an item for 15 minutes (renewed by working on it).
    Claim {
        /// Item id.
        id: Uuid,
    },
    /// Claim the oldest free open item matching the filter.
    ClaimNext {
        /// Filter.
        filter: SuspenseFilter,
    },
    /// Give a claim back.
    Release {
        /// Item id.
        id: Uuid,
    },
    /// Resolve (or work on) an item by a business action; actions that need
    /// approvals become a proposal. `request_id` makes a resend run once.
    Resolve {
        /// Item id.
        id: Uuid,
        /// What to do.
        action: SuspenseAction,
        /// The desktop's id for this request.
        request_id: Uuid,
    },
    /// Proposals waiting for approvals.
    Proposals,
    /// Approve (or reject) a proposal; the last approval posts it.
    Decide {
        /// Proposal id.
        proposal_id: Uuid,
        /// Approve or reject.
        approve: bool,
    },
    /// Matches of a day (suggested first).
    Matches {
        /// The day.
        day: NaiveDate,
        /// Only suggested ones.
        suggested_only: bool,
    },
    /// Confirm a suggested match (posts it).
    ConfirmMatch {
        /// Match id.
        match_id: Uuid,
    },
    /// Reverse a confirmed match (its posting is reversed; the line goes back
    /// to the queue).
    Unmatch {
        /// Match id.
        match_id: Uuid,
        /// Why.
        reason: String,
    },
    /// Our open items (expected payments, orders, refunds), for manual matching.
    OurItems {
        /// Matching this text (reference or counterparty), empty for all.
        query: String,
        /// Page size.
        limit: u32,
    },
    /// The daily reconciliation report (for a closed day, its snapshot).
    Report {
        /// The day.
        day: NaiveDate,
    },
    /// The daily report as the report screen shows it: figures, statement
    /// proofs, and for a closed day its snapshot with what changed since.
    DayReport {
        /// The day; `None`: the latest day a reconciliation ran for (yesterday
        /// when none has).
        day: Option<NaiveDate>,
    },
    /// Write the daily report as CSV or XLSX into the export folder.
    ExportReport {
        /// The day.
        day: NaiveDate,
        /// XLSX rather than CSV.
        xlsx: bool,
    },
    /// Close a day: nothing booked to it may change afterwards.
    CloseDay {
        /// The day.
        day: NaiveDate,
    },
}

impl ReconRequest {
    /// The permission it needs.
    pub fn permission(&self) -> Permission {
        match self {
            Self::ImportStatement { .. } => Permission::StatementImport,
            Self::Reconcile { .. } => Permission::ReconcileRun,
            // A finance decision, not the scheduled job's: it cannot be undone.
            Self::CloseDay { .. } => Permission::SuspenseApprove,
            Self::Claim { .. }
            | Self::ClaimNext { .. }
            | Self::Release { .. }
            | Self::Resolve { .. }
            | Self::ConfirmMatch { .. }
            | Self::Unmatch { .. }
            | Self::ExportReport { .. } => Permission::SuspenseResolve,
            Self::Decide { .. } => Permission::SuspenseApprove,
            Self::Queue { .. }
            | Self::Item { .. }
            | Self::Proposals
            | Self::Matches { .. }
            | Self::OurItems { .. }
            | Self::Report { .. }
            | Self::DayReport { .. } => Permission::SuspenseView,
        }
    }

    /// A name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ImportStatement { .. } => "recon_import_statement",
            Self::Reconcile { .. } => "recon_reconcile",
            Self::Queue { .. } => "recon_queue",
            Self::Item { .. } => "recon_item",
            Self::Claim { .. } => "recon_claim",
            Self::ClaimNext { .. } => "recon_claim_next",
            Self::Release { .. } => "recon_release",
            Self::Resolve { .. } => "recon_resolve",
            Self::Proposals => "recon_proposals",
            Self::Decide { .. } => "recon_decide",
            Self::Matches { .. } => "recon_matches",
            Self::ConfirmMatch { .. } => "recon_confirm_match",
            Self::Unmatch { .. } => "recon_unmatch",
            Self::OurItems { .. } => "recon_our_items",
            Self::Report { .. } => "recon_report",
            Self::DayReport { .. } => "recon_day_report",
            Self::ExportReport { .. } => "recon_export_report",
            Self::CloseDay { .. } => "recon_close_day",
        }
    }
}
