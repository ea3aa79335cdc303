//! The recycled-number (二次号) work area's service. `Services::handle` checks the
//! session and the permission, then hands a [`RecycledRequest`] here.
//!
//! Split by concern: `queue` (pages, claims, saved views), `case_view` (one case
//! and its timeline), `decisions` (decide, four-eyes approval, unbinding), `bulk`,
//! `screening` and `import_job` (carrier files), `hooks` (registration / SMS-reset
//! checks and carrier queries), `wizard` (force-unbind), `sms_unblock`, `evidence`.
//! The four-eyes rule (maker ≠ checker) is enforced here and again in the store's SQL.

mod bulk;
mod case_view;
mod decisions;
mod evidence;
mod hooks;
mod import_job;
mod queue;
mod screening;
mod settings;
mod sms_unblock;
mod wizard;

pub use hooks::HookDecision;
pub use screening::{detect, screen_carrier_file};

use crate::error::{Result, data_error};
use crate::gateway::{BankGateway, CarrierGateway};
use crate::vault::PiiVault;
use chrono::{DateTime, Utc};
use domain::auth::OperatorInfo;
use domain::recycle::AttemptBudget;
use domain::{RecycledRequest, Response};
use std::path::PathBuf;
use std::sync::Arc;
use store::{NewAudit, Store};
use uuid::Uuid;

/// Shortest reason for reassignments and notes that need one.
const MIN_REASON_CHARS: usize = 4;

/// What the recycled-number area needs besides the store and the vault: the
/// gateways and where evidence packs are written.
pub struct Workflow {
    carrier: Option<Arc<dyn CarrierGateway>>,
    bank: Option<Arc<dyn BankGateway>>,
    evidence_dir: PathBuf,
}

impl Workflow {
    /// A workflow using these gateways, writing evidence packs to `evidence_dir`.
    pub fn new(
        carrier: Option<Arc<dyn CarrierGateway>>,
        bank: Option<Arc<dyn BankGateway>>,
        evidence_dir: PathBuf,
    ) -> Self {
        Self { carrier, bank, evidence_dir }
    }

    /// The bank gateway (the virtual sub-account area polls it too).
    pub(crate) fn bank(&self) -> Option<Arc<dyn BankGateway>> {
        self.bank.clone()
    }

    /// Where files for the operator go: next to the evidence folder.
    pub(crate) fn export_dir(&self) -> PathBuf {
        self.evidence_dir.parent().map_or_else(|| self.evidence_dir.join("exports"), |p| p.join("exports"))
    }
}

/// The recycled-number service: owns its store handle, vault, gateways, import
/// jobs and force-unbind wizards.
pub struct RecycledService {
    store: Arc<dyn Store>,
    vault: PiiVault,
    workflow: Workflow,
    jobs: import_job::Jobs,
    wizards: wizard::Wizards,
    budget: AttemptBudget,
}

impl RecycledService {
    /// The service over `store`.
    pub fn new(store: Arc<dyn Store>, vault: PiiVault, workflow: Workflow) -> Self {
        Self {
            store,
            vault,
            workflow,
            jobs: import_job::Jobs::default(),
            wizards: wizard::Wizards::default(),
            budget: AttemptBudget::default(),
        }
    }

    /// Handles one request for the operator `op` (the dispatcher already checked the
    /// request's permission; rules that depend on the case, such as who may decide an
    /// escalated case, are checked here).
    pub(crate) async fn handle(
        &self,
        op: &OperatorInfo,
        req: RecycledRequest,
        now: DateTime<Utc>,
    ) -> Result<Response> {
        use RecycledRequest as R;
        let actor = op.username.as_str();
        Ok(match req {
            R::Queue { filter, after, limit } => {
                Response::Queue(self.queue(actor, &filter, after, limit, now).await?)
            }
            R::CaseDetail { case_id } => Response::Case(Box::new(self.view_case(actor, case_id, now).await?)),
            R::ClaimCase { case_id } => self.claim(actor, case_id, now).await.map(|()| Response::Done)?,
            R::ClaimNext => Response::Claimed(self.claim_next(actor, now).await?),
            R::ReleaseCase { case_id } => self.release(actor, case_id, now).await.map(|()| Response::Done)?,
            R::ReassignCase { case_id, to, reason } => {
                self.reassign(actor, case_id, &to, &reason, now).await.map(|()| Response::Done)?
            }
            R::DecideCase { case_id, decision } => {
                Response::Decided(self.decide(op, case_id, decision, now).await?)
            }
            R::ApproveCase { case_id, approve, note, version } => {
                let verdict = decisions::Verdict { approve, note: &note, version };
                Response::Decided(self.approve(actor, case_id, verdict, now).await?)
            }
            R::BulkNotRecycled { case_ids, reason, note, dry_run } => {
                let request = bulk::BulkRequest { ids: &case_ids, reason, note: &note, dry_run };
                Response::Bulk(self.bulk_not_recycled(actor, request, now).await?)
            }
            R::ImportCarrierFile { path } => {
                Response::ImportStarted { job_id: self.start_import(actor, PathBuf::from(path), now).await? }
            }
            R::ImportStatus { job_id } => Response::Import(self.import_state(job_id)?),
            R::CheckCarrier { case_id } => {
                Response::CarrierChecked(self.check_carrier(actor, case_id, now).await?)
            }
            R::RecycleSettings => Response::Settings(self.workflow_settings().await?.0),
            R::UpdateRecycleSettings { settings } => {
                Response::Settings(self.update_settings(actor, settings, now).await?)
            }
            R::ApproveRecycleSettings { proposal_id } => {
                Response::Settings(self.approve_settings(actor, proposal_id, now).await?)
            }
            R::ForceUnbindStart { case_id, claimant } => {
                Response::ForceUnbind(Box::new(self.force_unbind_start(op, case_id, claimant, now).await?))
            }
            R::ForceUnbindBankCheck { wizard_id, card_number } => Response::ForceUnbind(Box::new(
                self.force_unbind_bank(actor, wizard_id, &card_number, now).await?,
            )),
            R::ForceUnbindSubmit { wizard_id } => {
                Response::ForceUnbind(Box::new(self.force_unbind_submit(op, wizard_id, now).await?))
            }
            R::ExportEvidence { case_id } => self.export_evidence(actor, case_id, now).await?,
            R::RequestSmsUnblock { user_id, phone } => {
                self.request_sms_unblock(actor, user_id, &phone, now).await.map(|()| Response::Done)?
            }
            R::ApproveSmsUnblock { user_id, request_id } => {
                self.approve_sms_unblock(actor, user_id, request_id, now).await.map(|()| Response::Done)?
            }
            R::QueueViews => Response::QueueViews(self.queue_views(actor).await?),
            R::SaveQueueView { name, filter } => {
                Response::QueueViews(self.save_queue_view(actor, &name, filter, now).await?)
            }
        })
    }
}

/// An audit row about one case.
fn case_audit(
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    case_id: Uuid,
    detail: serde_json::Value,
) -> NewAudit {
    NewAudit::new(now, actor, action, format!("case:{case_id}"), detail)
}
