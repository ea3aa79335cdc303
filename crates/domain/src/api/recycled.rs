//! The recycled-number (二次号) work area's requests.

use super::Request;
use crate::auth::Permission;
use crate::cases::{CaseDecision, Claimant, QueueCursor, QueueFilter};
use crate::recycle::{NotRecycledReason, RecycleSettings};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The recycled-number work area's requests (nested in [`Request::Recycled`], so
/// its service receives only its own requests).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RecycledRequest {
    /// A page of the recycled-number queue.
    Queue {
        /// Filters and sort.
        filter: QueueFilter,
        /// Start after this row.
        after: Option<QueueCursor>,
        /// Page size (capped).
        limit: u32,
    },
    /// One case with its timeline.
    CaseDetail {
        /// Case.
        case_id: Uuid,
    },
    /// Take a lease on a case.
    ClaimCase {
        /// Case.
        case_id: Uuid,
    },
    /// Take a lease on the riskiest free open case.
    ClaimNext,
    /// Give a case back.
    ReleaseCase {
        /// Case.
        case_id: Uuid,
    },
    /// Give a case to another agent (supervisor).
    ReassignCase {
        /// Case.
        case_id: Uuid,
        /// Username of the new holder.
        to: String,
        /// Why (audited).
        reason: String,
    },
    /// Decide a claimed case (confirm goes to a checker when four-eyes applies).
    DecideCase {
        /// Case.
        case_id: Uuid,
        /// The decision.
        decision: CaseDecision,
    },
    /// A checker approves or rejects a pending proposal.
    ApproveCase {
        /// Case.
        case_id: Uuid,
        /// Approve (`false` sends the case back to the queue).
        approve: bool,
        /// Note.
        note: String,
        /// The case's version the checker reviewed (`CaseRowView::version`).
        version: i32,
    },
    /// Close many cases as "not recycled"; `dry_run` only reports.
    BulkNotRecycled {
        /// Cases.
        case_ids: Vec<Uuid>,
        /// Reason.
        reason: NotRecycledReason,
        /// Note.
        note: String,
        /// Report only.
        dry_run: bool,
    },
    /// Start importing a carrier file (path on the desktop running the backend).
    ImportCarrierFile {
        /// Path.
        path: String,
    },
    /// Progress of an import.
    ImportStatus {
        /// Job.
        job_id: Uuid,
    },
    /// Ask the carrier gateway about a case's number now.
    CheckCarrier {
        /// Case.
        case_id: Uuid,
    },
    /// The workflow settings.
    RecycleSettings,
    /// Change the workflow settings (supervisor). A change of the four-eyes rule
    /// waits for a second supervisor.
    UpdateRecycleSettings {
        /// New settings.
        settings: RecycleSettings,
    },
    /// A second supervisor approves a four-eyes change (never their own).
    ApproveRecycleSettings {
        /// The proposal reviewed (`SettingsProposal::id`).
        proposal_id: Uuid,
    },
    /// Force-unbind step 1: claimant's identity → carrier 3-element + entry time.
    ForceUnbindStart {
        /// Case of the number.
        case_id: Uuid,
        /// Who claims the number.
        claimant: Claimant,
    },
    /// Force-unbind step 2: a bank card in the claimant's name, reserved phone = the number.
    ForceUnbindBankCheck {
        /// Wizard.
        wizard_id: Uuid,
        /// Card number (checked, hashed; never stored in clear).
        card_number: String,
    },
    /// Force-unbind step 3: unbind (or propose to a checker).
    ForceUnbindSubmit {
        /// Wizard.
        wizard_id: Uuid,
    },
    /// Write the case's evidence pack (HTML + JSON) to the data folder.
    ExportEvidence {
        /// Case.
        case_id: Uuid,
    },
    /// Ask to lift a user's SMS-reset block: a fresh carrier 3-element check of the
    /// customer with the number they now hold; a checker approves.
    RequestSmsUnblock {
        /// The blocked user.
        user_id: Uuid,
        /// The number the user now holds (becomes their login on approval).
        phone: String,
    },
    /// A checker lifts the block requested by another operator.
    ApproveSmsUnblock {
        /// The blocked user.
        user_id: Uuid,
        /// The request the checker reviewed (`SmsUnblockRequest::id`).
        request_id: Uuid,
    },
    /// The operator's saved queue views.
    QueueViews,
    /// Save (or replace, by name) one of the operator's queue views.
    SaveQueueView {
        /// Name shown on the button.
        name: String,
        /// The filters.
        filter: QueueFilter,
    },
}

impl From<RecycledRequest> for Request {
    fn from(r: RecycledRequest) -> Self {
        Request::Recycled(r)
    }
}

/// Only the request's name: payloads hold card numbers, claimants' IDs and phones.
impl std::fmt::Debug for RecycledRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecycledRequest::{}", self.name())
    }
}

impl RecycledRequest {
    /// The permission the request needs.
    pub fn permission(&self) -> Permission {
        use RecycledRequest as R;
        match self {
            R::Queue { .. }
            | R::CaseDetail { .. }
            | R::ClaimCase { .. }
            | R::ClaimNext
            | R::ReleaseCase { .. }
            | R::DecideCase { .. }
            | R::ImportCarrierFile { .. }
            | R::ImportStatus { .. }
            | R::CheckCarrier { .. }
            | R::RecycleSettings
            | R::ExportEvidence { .. }
            | R::RequestSmsUnblock { .. }
            | R::QueueViews
            | R::SaveQueueView { .. } => Permission::RecycledReview,
            R::ReassignCase { .. }
            | R::ApproveCase { .. }
            | R::BulkNotRecycled { .. }
            | R::UpdateRecycleSettings { .. }
            | R::ApproveSmsUnblock { .. }
            | R::ApproveRecycleSettings { .. } => Permission::RecycledApprove,
            R::ForceUnbindStart { .. } | R::ForceUnbindBankCheck { .. } | R::ForceUnbindSubmit { .. } => {
                Permission::ForceUnbind
            }
        }
    }

    /// A name for logs, without any payload.
    pub fn name(&self) -> &'static str {
        use RecycledRequest as R;
        match self {
            R::Queue { .. } => "queue",
            R::CaseDetail { .. } => "case_detail",
            R::ClaimCase { .. } => "claim_case",
            R::ClaimNext => "claim_next",
            R::ReleaseCase { .. } => "release_case",
            R::ReassignCase { .. } => "reassign_case",
            R::DecideCase { .. } => "decide_case",
            R::ApproveCase { .. } => "approve_case",
            R::BulkNotRecycled { .. } => "bulk_not_recycled",
            R::ImportCarrierFile { .. } => "import_carrier_file",
            R::ImportStatus { .. } => "import_status",
            R::CheckCarrier { .. } => "check_carrier",
            R::RecycleSettings => "recycle_settings",
            R::UpdateRecycleSettings { .. } => "update_recycle_settings",
            R::ApproveRecycleSettings { .. } => "approve_recycle_settings",
            R::ForceUnbindStart { .. } => "force_unbind_start",
            R::ForceUnbindBankCheck { .. } => "force_unbind_bank_check",
            R::ForceUnbindSubmit { .. } => "force_unbind_submit",
            R::ExportEvidence { .. } => "export_evidence",
            R::RequestSmsUnblock { .. } => "request_sms_unblock",
            R::ApproveSmsUnblock { .. } => "approve_sms_unblock",
            R::QueueViews => "queue_views",
            R::SaveQueueView { .. } => "save_queue_view",
        }
    }
}
