//! The request dispatcher: session, permission, action, audit.

use crate::error::{Result, invalid};
use crate::recycle::{HookDecision, RecycledService, Workflow};
use crate::vault::PiiVault;
use chrono::{DateTime, Duration, Utc};
use domain::audit::{AuditCheckpoint, AuditVerification, ChainVerifier, SYSTEM_ACTOR};
use domain::auth::{LoginPolicy, OperatorInfo, Permission};
use domain::recycle::RecycleSettings;
use domain::{ApiError, InputProblem, Request, Response};
use serde_json::json;
use std::sync::Arc;
use store::{NewAudit, Store};
use uuid::Uuid;

/// Most rows a search or audit page returns.
const MAX_PAGE_ROWS: u32 = 200;
/// Rows read per round while verifying the audit chain.
const VERIFY_PAGE_ROWS: u32 = 5_000;

/// One desktop's login state. Lives in the backend host (Tauri state or the
/// in-process backend), never in the UI, so the UI cannot forge it.
///
/// Its lock is held only to read or change the state, never across a database or
/// gateway call: a slow bank answer must not freeze the desktop's other requests.
#[derive(Debug, Default)]
pub struct Session {
    operator: parking_lot::Mutex<Option<(OperatorInfo, DateTime<Utc>)>>,
}

impl Session {
    /// The logged-in operator, if any (without checking idleness).
    pub fn operator(&self) -> Option<OperatorInfo> {
        self.operator.lock().as_ref().map(|(op, _)| op.clone())
    }

    fn start(&self, op: OperatorInfo, now: DateTime<Utc>) {
        *self.operator.lock() = Some((op, now));
    }

    fn password_changed(&self) {
        if let Some((op, _)) = self.operator.lock().as_mut() {
            op.must_change_password = false;
        }
    }

    fn end(&self) -> Option<OperatorInfo> {
        self.operator.lock().take().map(|(op, _)| op)
    }
}

/// What `authorize` found, decided under the session's lock and acted on after it.
enum Access {
    Granted(OperatorInfo),
    Expired(OperatorInfo),
    Denied(OperatorInfo),
}

/// The services over one store: the dispatcher, the session and customer services,
/// and one service per work area.
pub struct Services {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) vault: PiiVault,
    pub(crate) policy: LoginPolicy,
    /// Failed logins of names that are no operator, so they lock like real ones.
    pub(crate) unknown_logins: crate::login::UnknownLogins,
    recycled: RecycledService,
    vam: crate::vam::VamService,
    recon: crate::recon::ReconService,
}

impl Services {
    /// Services over `store`, sealing PII with `vault`; no gateways until
    /// [`Services::with_workflow`] gives them.
    pub fn new(store: Arc<dyn Store>, vault: PiiVault, policy: LoginPolicy) -> Self {
        let evidence_dir = std::env::temp_dir().join("ops-console-evidence");
        let workflow = Workflow::new(None, None, evidence_dir);
        let vam = crate::vam::VamService::new(store.clone(), None, workflow.export_dir());
        let recon = crate::recon::ReconService::new(store.clone(), workflow.export_dir());
        let recycled = RecycledService::new(store.clone(), vault.clone(), workflow);
        Self { store, vault, policy, unknown_logins: Default::default(), recycled, vam, recon }
    }

    /// Replaces the recycled-number workflow's gateways and evidence folder.
    pub fn with_workflow(mut self, workflow: Workflow) -> Self {
        self.vam = crate::vam::VamService::new(self.store.clone(), workflow.bank(), workflow.export_dir());
        self.recon = crate::recon::ReconService::new(self.store.clone(), workflow.export_dir());
        self.recycled = RecycledService::new(self.store.clone(), self.vault.clone(), workflow);
        self
    }

    /// The virtual sub-account service (demo seeding and the simulated bank; its
    /// requests pass the dispatcher like every other).
    pub fn vam(&self) -> &crate::vam::VamService {
        &self.vam
    }

    /// The suspense and reconciliation service (demo seeding; its requests pass
    /// the dispatcher like every other).
    pub fn recon(&self) -> &crate::recon::ReconService {
        &self.recon
    }

    /// The recycled-number service. Crate-private: its requests must pass the
    /// dispatcher's session and permission check.
    pub(crate) fn recycled(&self) -> &RecycledService {
        &self.recycled
    }

    /// The recycled-number workflow settings in force.
    pub async fn recycle_settings(&self) -> Result<RecycleSettings, ApiError> {
        Ok(self.recycled.settings().await?)
    }

    /// Service hook for the registration backend: may `phone` register at `at`?
    pub async fn check_registration(&self, phone: &str, at: DateTime<Utc>) -> Result<HookDecision, ApiError> {
        Ok(self.recycled.check_registration(phone, at).await?)
    }

    /// Service hook for the password-reset backend: may `user_id` reset by SMS code at `at`?
    pub async fn check_sms_reset(&self, user_id: Uuid, at: DateTime<Utc>) -> Result<HookDecision, ApiError> {
        Ok(self.recycled.check_sms_reset(user_id, at).await?)
    }

    /// The store, for seeding and benchmarks.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The PII vault.
    pub fn vault(&self) -> &PiiVault {
        &self.vault
    }

    /// Handles one request for `session` at `now`. The permission check happens here
    /// and only here.
    pub async fn handle(
        &self,
        session: &Session,
        req: impl Into<Request>,
        now: DateTime<Utc>,
    ) -> Result<Response, ApiError> {
        self.dispatch(session, req.into(), now).await.map_err(ApiError::from)
    }

    async fn dispatch(&self, session: &Session, req: Request, now: DateTime<Utc>) -> Result<Response> {
        let operator = match req.permission() {
            Some(permission) => Some(self.authorize(session, permission, &req, now).await?),
            None => None,
        };
        let actor = operator.as_ref().map_or(SYSTEM_ACTOR.to_owned(), |op| op.username.clone());
        match req {
            Request::Status => Ok(Response::Status {
                demo: crate::seed::is_demo(self).await?,
                database: Some(self.store.info()),
                startup_error: None,
                operator: session.operator(),
            }),
            Request::Login { username, password } => {
                let op = self.login(&username, &password, now).await?;
                session.start(op.clone(), now);
                Ok(Response::LoggedIn(op))
            }
            Request::Logout => {
                if let Some(op) = session.end() {
                    let audit = NewAudit::new(
                        now,
                        &op.username,
                        "logout",
                        format!("operator:{}", op.username),
                        json!({}),
                    );
                    self.store.append_audit(audit).await?;
                }
                Ok(Response::LoggedOut)
            }
            Request::SearchCustomers { query } => self.search(&query).await.map(Response::Customers),
            Request::CustomerTree { customer_id } => {
                let tree = self.customer_tree(customer_id).await?;
                // Who looked at whom is kept (查询留痕), even though the view is masked.
                let audit =
                    NewAudit::new(now, &actor, "customer.view", format!("customer:{customer_id}"), json!({}));
                self.store.append_audit(audit).await?;
                Ok(Response::CustomerTree(tree))
            }
            Request::RevealPii { target, reason } => {
                let value = self.reveal(&actor, target, &reason, now).await?;
                Ok(Response::Revealed { target, value })
            }
            Request::AuditLog { before_seq, limit } => Ok(Response::AuditPage(
                self.store.audit_page(before_seq, limit.clamp(1, MAX_PAGE_ROWS)).await?,
            )),
            Request::VerifyAudit { checkpoints } => {
                Ok(Response::AuditVerified(self.verify_audit(&checkpoints).await?))
            }
            Request::AuditCheckpoint => Ok(Response::Checkpoint(self.audit_checkpoint(&actor, now).await?)),
            Request::Admin(r) => {
                let op = operator.ok_or(ApiError::NotLoggedIn)?;
                self.admin(&op, r, now).await
            }
            Request::ChangePassword { current, new } => {
                let op = session.operator().ok_or(ApiError::NotLoggedIn)?;
                self.change_password(&op, &current, &new, now).await?;
                session.password_changed();
                Ok(Response::Done)
            }
            Request::Recycled(r) => {
                // A request with a permission has passed `authorize`, which returned the operator.
                let op = operator.ok_or(ApiError::NotLoggedIn)?;
                self.recycled.handle(&op, r, now).await
            }
            Request::Vam(r) => {
                let op = operator.ok_or(ApiError::NotLoggedIn)?;
                self.vam.handle(&op, r, now).await
            }
            Request::Recon(r) => {
                let op = operator.ok_or(ApiError::NotLoggedIn)?;
                self.recon.handle(&op, r, now).await
            }
        }
    }

    /// Checks the session is live and its role grants `permission`. Denials and
    /// expiries are audited: both are security events.
    async fn authorize(
        &self,
        session: &Session,
        permission: Permission,
        request: &Request,
        now: DateTime<Utc>,
    ) -> Result<OperatorInfo> {
        let idle = Duration::minutes(self.policy.idle_timeout_minutes);
        let access = {
            let mut state = session.operator.lock();
            let Some((op, last_activity)) = state.as_mut() else {
                return Err(ApiError::NotLoggedIn.into());
            };
            if now - *last_activity > idle {
                let op = op.clone();
                *state = None;
                Access::Expired(op)
            } else if op.must_change_password {
                return Err(ApiError::PasswordChangeRequired.into());
            } else if !op.role.allows(permission) {
                Access::Denied(op.clone())
            } else {
                // Polling a job's progress is not the operator at work: it must not
                // keep an unattended desktop's session alive.
                // Requests finish out of order now: the clock only moves forward.
                if request.is_activity() {
                    *last_activity = (*last_activity).max(now);
                }
                Access::Granted(op.clone())
            }
        };
        match access {
            Access::Granted(op) => Ok(op),
            Access::Expired(op) => {
                let target = format!("operator:{}", op.username);
                let audit = NewAudit::new(now, &op.username, "session.expired", target, json!({}));
                self.store.append_audit(audit).await?;
                Err(ApiError::SessionExpired.into())
            }
            Access::Denied(op) => {
                let detail = json!({ "request": request.name(), "permission": permission });
                let target = format!("operator:{}", op.username);
                self.store
                    .append_audit(NewAudit::new(now, &op.username, "access.denied", target, detail))
                    .await?;
                Err(ApiError::Forbidden { permission }.into())
            }
        }
    }

    /// Verifies the whole chain page by page up to the head read first (rows appended
    /// meanwhile wait for the next run), then the head itself and the checkpoints.
    pub async fn verify_audit(&self, checkpoints: &[AuditCheckpoint]) -> Result<AuditVerification> {
        // Checkpoints arrive from outside: the same parse as the UI's, so none is
        // silently malformed (a lower-case hash, a positive row).
        let checkpoints = checkpoints
            .iter()
            .map(|c| {
                AuditCheckpoint::parse(&c.to_text())
                    .ok_or_else(|| invalid("checkpoints", InputProblem::OutOfRange))
            })
            .collect::<Result<Vec<_>>>()?;
        let (head_seq, head_hash) = self.store.audit_head().await?;
        let mut verifier = ChainVerifier::with_checkpoints(&checkpoints);
        let verdict = |v: &ChainVerifier, first_break| AuditVerification {
            rows: v.verified_rows(),
            checkpoints_checked: v.checkpoints_checked(),
            first_break,
        };
        while verifier.verified_rows() < head_seq {
            let page = self.store.audit_after(verifier.verified_rows(), VERIFY_PAGE_ROWS).await?;
            let Some(last) = page.last().map(|r| r.seq) else { break };
            for row in page.iter().filter(|r| r.seq <= head_seq) {
                if let Err(brk) = verifier.push(row) {
                    return Ok(verdict(&verifier, Some(brk)));
                }
            }
            if last >= head_seq {
                break;
            }
        }
        Ok(verdict(&verifier, verifier.finish(head_seq, &head_hash).err()))
    }

    /// The head as a checkpoint for the auditor to keep outside the database; audited.
    async fn audit_checkpoint(&self, actor: &str, now: DateTime<Utc>) -> Result<AuditCheckpoint> {
        let (seq, hash) = self.store.audit_head().await?;
        let checkpoint = AuditCheckpoint { seq, hash };
        let detail = json!({ "seq": checkpoint.seq, "hash": checkpoint.hash });
        self.store.append_audit(NewAudit::new(now, actor, "audit.checkpoint", "audit", detail)).await?;
        Ok(checkpoint)
    }
}
