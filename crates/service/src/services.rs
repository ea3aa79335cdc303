//! The request dispatcher: session, permission, action, audit.

use crate::error::{Result, invalid};
use crate::password::verify_password;
use crate::recycle::{HookDecision, RecycledService, Workflow};
use crate::vault::PiiVault;
use chrono::{DateTime, Duration, Utc};
use domain::audit::{AuditVerification, ChainVerifier, SYSTEM_ACTOR};
use domain::auth::{LoginPolicy, OperatorInfo, Permission, Role};
use domain::{ApiError, InputProblem, Request, Response};
use serde_json::json;
use std::sync::Arc;
use std::sync::OnceLock;
use store::{LoginUpdate, NewAudit, Store};
use uuid::Uuid;

/// Most rows a search or audit page returns.
const MAX_PAGE_ROWS: u32 = 200;
/// Rows read per round while verifying the audit chain.
const VERIFY_PAGE_ROWS: u32 = 5_000;

/// A real hash, verified against when the username is unknown so that the answer
/// takes as long as for a known operator and timing does not reveal who exists.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| crate::password::hash_password("no such operator").unwrap_or_default())
}

/// One desktop's login state. Lives in the backend host (Tauri state or the
/// in-process backend), never in the UI, so the UI cannot forge it.
#[derive(Debug, Default)]
pub struct Session {
    operator: Option<(OperatorInfo, DateTime<Utc>)>,
}

impl Session {
    /// The logged-in operator, if any (without checking idleness).
    pub fn operator(&self) -> Option<&OperatorInfo> {
        self.operator.as_ref().map(|(op, _)| op)
    }
}

/// The services over one store: the dispatcher, the session and customer services,
/// and one service per work area.
pub struct Services {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) vault: PiiVault,
    policy: LoginPolicy,
    recycled: RecycledService,
}

impl Services {
    /// Services over `store`, sealing PII with `vault`; no gateways until
    /// [`Services::with_workflow`] gives them.
    pub fn new(store: Arc<dyn Store>, vault: PiiVault, policy: LoginPolicy) -> Self {
        let evidence_dir = std::env::temp_dir().join("ops-console-evidence");
        let recycled =
            RecycledService::new(store.clone(), vault.clone(), Workflow::new(None, None, evidence_dir));
        Self { store, vault, policy, recycled }
    }

    /// Replaces the recycled-number workflow's gateways and evidence folder.
    pub fn with_workflow(mut self, workflow: Workflow) -> Self {
        self.recycled = RecycledService::new(self.store.clone(), self.vault.clone(), workflow);
        self
    }

    /// The recycled-number service (hooks, settings, screening).
    pub fn recycled(&self) -> &RecycledService {
        &self.recycled
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
        session: &mut Session,
        req: impl Into<Request>,
        now: DateTime<Utc>,
    ) -> Result<Response, ApiError> {
        self.dispatch(session, req.into(), now).await.map_err(ApiError::from)
    }

    async fn dispatch(&self, session: &mut Session, req: Request, now: DateTime<Utc>) -> Result<Response> {
        if let Some(permission) = req.permission() {
            self.authorize(session, permission, req.name(), now).await?;
        }
        let actor = session.operator().map_or(SYSTEM_ACTOR.to_owned(), |op| op.username.clone());
        match req {
            Request::Status => Ok(Response::Status {
                database: Some(self.store.info()),
                startup_error: None,
                operator: session.operator().cloned(),
            }),
            Request::Login { username, password } => {
                let op = self.login(&username, &password, now).await?;
                session.operator = Some((op.clone(), now));
                Ok(Response::LoggedIn(op))
            }
            Request::Logout => {
                if let Some((op, _)) = session.operator.take() {
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
            Request::VerifyAudit => Ok(Response::AuditVerified(self.verify_audit().await?)),
            Request::Recycled(r) => self.recycled.handle(&actor, r, now).await,
        }
    }

    /// Checks the session is live and its role grants `permission`. Denials and
    /// expiries are audited: both are security events.
    async fn authorize(
        &self,
        session: &mut Session,
        permission: Permission,
        request: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let Some((op, last_activity)) = &mut session.operator else {
            return Err(ApiError::NotLoggedIn.into());
        };
        if now - *last_activity > Duration::minutes(self.policy.idle_timeout_minutes) {
            let username = op.username.clone();
            session.operator = None;
            let audit =
                NewAudit::new(now, &username, "session.expired", format!("operator:{username}"), json!({}));
            self.store.append_audit(audit).await?;
            return Err(ApiError::SessionExpired.into());
        }
        if !op.role.allows(permission) {
            let audit = NewAudit::new(
                now,
                &op.username,
                "access.denied",
                format!("operator:{}", op.username),
                json!({ "request": request, "permission": permission }),
            );
            self.store.append_audit(audit).await?;
            return Err(ApiError::Forbidden { permission }.into());
        }
        *last_activity = now;
        Ok(())
    }

    async fn login(&self, username: &str, password: &str, now: DateTime<Utc>) -> Result<OperatorInfo> {
        let username = username.trim();
        if username.is_empty() {
            return Err(invalid("username", InputProblem::Required));
        }
        let target = format!("operator:{}", username.chars().take(64).collect::<String>());
        let Some(op) = self.store.operator_by_username(username).await? else {
            let pw = password.to_owned();
            let _ = tokio::task::spawn_blocking(move || verify_password(&pw, dummy_hash())).await;
            let audit = NewAudit::new(
                now,
                SYSTEM_ACTOR,
                "login.failed",
                target,
                json!({ "reason": "unknown_operator" }),
            );
            self.store.append_audit(audit).await?;
            return Err(ApiError::InvalidCredentials { remaining_attempts: self.policy.max_failures }.into());
        };
        if let Some(until) = op.locked_until.filter(|until| *until > now) {
            let audit =
                NewAudit::new(now, SYSTEM_ACTOR, "login.refused_locked", target, json!({ "until": until }));
            self.store.append_audit(audit).await?;
            return Err(ApiError::OperatorLocked { until }.into());
        }
        let role = Role::parse(&op.role).ok_or_else(|| ApiError::Database {
            message: format!("operator {} has unknown role {}", op.username, op.role),
        })?;
        let (pw, phc) = (password.to_owned(), op.password_hash.clone());
        let matches = tokio::task::spawn_blocking(move || verify_password(&pw, &phc)).await.unwrap_or(false);
        if !matches {
            let failed = op.failed_attempts.saturating_add(1);
            let lock = (failed as u32 >= self.policy.max_failures)
                .then(|| now + Duration::minutes(self.policy.lock_minutes));
            let (action, detail) = match lock {
                Some(until) => ("login.locked", json!({ "failed_attempts": failed, "until": until })),
                None => ("login.failed", json!({ "failed_attempts": failed })),
            };
            let update = LoginUpdate {
                operator_id: op.id,
                failed_attempts: if lock.is_some() { 0 } else { failed },
                locked_until: lock,
                last_login_at: None,
            };
            self.store.record_login(update, NewAudit::new(now, SYSTEM_ACTOR, action, target, detail)).await?;
            return Err(match lock {
                Some(until) => ApiError::OperatorLocked { until },
                None => ApiError::InvalidCredentials {
                    remaining_attempts: self.policy.max_failures.saturating_sub(failed as u32),
                },
            }
            .into());
        }
        let update = LoginUpdate {
            operator_id: op.id,
            failed_attempts: 0,
            locked_until: None,
            last_login_at: Some(now),
        };
        self.store
            .record_login(
                update,
                NewAudit::new(now, &op.username, "login.ok", target, json!({ "role": role })),
            )
            .await?;
        Ok(OperatorInfo { id: op.id, username: op.username, display_name: op.display_name, role })
    }

    /// Verifies the whole chain, page by page.
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        let mut verifier = ChainVerifier::default();
        loop {
            let page = self.store.audit_after(verifier.verified_rows(), VERIFY_PAGE_ROWS).await?;
            if page.is_empty() {
                return Ok(AuditVerification { rows: verifier.verified_rows(), first_break: None });
            }
            for row in &page {
                if let Err(brk) = verifier.push(row) {
                    return Ok(AuditVerification { rows: verifier.verified_rows(), first_break: Some(brk) });
                }
            }
        }
    }
}
