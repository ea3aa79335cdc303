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
mod sms_unblock;
mod wizard;

pub use hooks::HookDecision;
pub use screening::{detect, screen_carrier_file};

use crate::error::{Result, data_error, invalid};
use crate::gateway::{BankGateway, CarrierGateway};
use crate::vault::PiiVault;
use chrono::{DateTime, Utc};
use domain::recycle::{AttemptBudget, RecycleSettings};
use domain::{InputProblem, RecycledRequest, Response};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use store::{NewAudit, Store};
use uuid::Uuid;

/// Settings key of the workflow settings.
const SETTINGS_KEY: &str = "recycle";
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

    /// Handles one request for `actor` (the dispatcher already checked the permission).
    pub async fn handle(&self, actor: &str, req: RecycledRequest, now: DateTime<Utc>) -> Result<Response> {
        use RecycledRequest as R;
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
                Response::Decided(self.decide(actor, case_id, decision, now).await?)
            }
            R::ApproveCase { case_id, approve, note } => {
                Response::Decided(self.approve(actor, case_id, approve, &note, now).await?)
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
            R::RecycleSettings => Response::Settings(self.settings().await?),
            R::UpdateRecycleSettings { settings } => {
                Response::Settings(self.update_settings(actor, settings, now).await?)
            }
            R::ForceUnbindStart { case_id, claimant } => {
                Response::ForceUnbind(Box::new(self.force_unbind_start(actor, case_id, claimant, now).await?))
            }
            R::ForceUnbindBankCheck { wizard_id, card_number } => Response::ForceUnbind(Box::new(
                self.force_unbind_bank(actor, wizard_id, &card_number, now).await?,
            )),
            R::ForceUnbindSubmit { wizard_id } => {
                Response::ForceUnbind(Box::new(self.force_unbind_submit(actor, wizard_id, now).await?))
            }
            R::ExportEvidence { case_id } => self.export_evidence(actor, case_id, now).await?,
            R::RequestSmsUnblock { user_id, phone } => {
                self.request_sms_unblock(actor, user_id, &phone, now).await.map(|()| Response::Done)?
            }
            R::ApproveSmsUnblock { user_id } => {
                self.approve_sms_unblock(actor, user_id, now).await.map(|()| Response::Done)?
            }
            R::QueueViews => Response::QueueViews(self.queue_views(actor).await?),
            R::SaveQueueView { name, filter } => {
                Response::QueueViews(self.save_queue_view(actor, &name, filter, now).await?)
            }
        })
    }

    /// The workflow settings (defaults until a supervisor changes them).
    pub async fn settings(&self) -> Result<RecycleSettings> {
        match self.store.setting(SETTINGS_KEY).await? {
            Some(v) => serde_json::from_str(&v).map_err(|_| data_error("settings")),
            None => Ok(RecycleSettings::default()),
        }
    }

    async fn update_settings(
        &self,
        actor: &str,
        settings: RecycleSettings,
        now: DateTime<Utc>,
    ) -> Result<RecycleSettings> {
        if settings.freeze_days < 0 || settings.lease_minutes < 1 || settings.sla_hours < 1 {
            return Err(invalid("settings", InputProblem::OutOfRange));
        }
        let value = serde_json::to_string(&settings).map_err(|_| data_error("settings"))?;
        let a =
            NewAudit::new(now, actor, "settings.update", "settings:recycle", json!({ "settings": settings }));
        self.store.put_setting(SETTINGS_KEY, &value, a).await?;
        Ok(settings)
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
