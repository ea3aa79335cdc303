//! The request dispatcher: session, permission, action, audit.

use crate::password::verify_password;
use crate::recycle::Workflow;
use crate::vault::PiiVault;
use chrono::{DateTime, Duration, Utc};
use domain::audit::{AuditVerification, ChainVerifier, SYSTEM_ACTOR};
use domain::auth::{LoginPolicy, OperatorInfo, Permission, Role};
use domain::card::bank_name;
use domain::mask;
use domain::model::{
    AccountView, BankCardView, CustomerSummary, CustomerTree, PhoneBindingView, PiiTarget, SearchField,
    UserNode, birth_year,
};
use domain::money::Cny;
use domain::phone::Phone;
use domain::{ApiError, InputProblem, Request, Response};
use serde_json::json;
use std::sync::Arc;
use std::sync::OnceLock;
use store::{CustomerRow, LoginUpdate, NewAudit, Store};
use uuid::Uuid;

/// Most rows a search or audit page returns.
const MAX_PAGE_ROWS: u32 = 200;
/// Search results shown at once.
const SEARCH_LIMIT: u32 = 50;
/// Shortest acceptable reveal reason, in characters (e.g. "来电核实").
const MIN_REASON_CHARS: usize = 4;
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

/// The services over one store.
pub struct Services {
    store: Arc<dyn Store>,
    vault: PiiVault,
    policy: LoginPolicy,
    workflow: Workflow,
}

impl Services {
    /// Services over `store`, sealing PII with `vault`.
    pub fn new(store: Arc<dyn Store>, vault: PiiVault, policy: LoginPolicy) -> Self {
        let evidence_dir = std::env::temp_dir().join("ops-console-evidence");
        Self { store, vault, policy, workflow: Workflow::new(None, None, evidence_dir) }
    }

    /// Replaces the recycled-number workflow's gateways and evidence folder.
    pub fn with_workflow(mut self, workflow: Workflow) -> Self {
        self.workflow = workflow;
        self
    }

    pub(crate) fn workflow(&self) -> &Workflow {
        &self.workflow
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
        req: Request,
        now: DateTime<Utc>,
    ) -> Result<Response, ApiError> {
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
            Request::VerifyAudit => self.verify_audit().await.map(Response::AuditVerified),
            other => self.handle_recycle(&actor, other, now).await,
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
    ) -> Result<(), ApiError> {
        let Some((op, last_activity)) = &mut session.operator else {
            return Err(ApiError::NotLoggedIn);
        };
        if now - *last_activity > Duration::minutes(self.policy.idle_timeout_minutes) {
            let username = op.username.clone();
            session.operator = None;
            let audit =
                NewAudit::new(now, &username, "session.expired", format!("operator:{username}"), json!({}));
            self.store.append_audit(audit).await?;
            return Err(ApiError::SessionExpired);
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
            return Err(ApiError::Forbidden { permission });
        }
        *last_activity = now;
        Ok(())
    }

    async fn login(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<OperatorInfo, ApiError> {
        let username = username.trim();
        if username.is_empty() {
            return Err(ApiError::InvalidInput { field: "username".into(), problem: InputProblem::Required });
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
            return Err(ApiError::InvalidCredentials { remaining_attempts: self.policy.max_failures });
        };
        if let Some(until) = op.locked_until.filter(|until| *until > now) {
            let audit =
                NewAudit::new(now, SYSTEM_ACTOR, "login.refused_locked", target, json!({ "until": until }));
            self.store.append_audit(audit).await?;
            return Err(ApiError::OperatorLocked { until });
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
            });
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

    async fn search(&self, query: &str) -> Result<Vec<CustomerSummary>, ApiError> {
        let Some(field) = SearchField::classify(query) else {
            return Err(ApiError::InvalidInput { field: "query".into(), problem: InputProblem::Required });
        };
        let term = match field {
            SearchField::Phone => Phone::parse(query).map(String::from).unwrap_or_default(),
            SearchField::Email => query.trim().to_lowercase(),
            SearchField::IdLast4 => query.trim().to_uppercase(),
            SearchField::UserId | SearchField::Nickname => query.trim().to_owned(),
        };
        let hits = self.store.search_customers(field, &term, SEARCH_LIMIT).await?;
        Ok(hits
            .into_iter()
            .map(|hit| CustomerSummary {
                id: hit.customer.id,
                name_masked: mask::name(&hit.customer.name),
                id_number_masked: self.id_number_masked(&hit.customer),
                user_count: hit.user_count,
                matched_on: hit.matched_on,
            })
            .collect())
    }

    fn id_number_masked(&self, c: &CustomerRow) -> Option<String> {
        let sealed = c.id_number_enc.as_deref()?;
        Some(match self.vault.open(sealed) {
            Ok(id) => mask::id_number(&id),
            // Wrong key: still show what we know without decrypting.
            Err(_) => format!("*************{}", c.id_last4.as_deref().unwrap_or("????")),
        })
    }

    async fn customer_tree(&self, customer_id: Uuid) -> Result<CustomerTree, ApiError> {
        let rec = self
            .store
            .customer_tree(customer_id)
            .await?
            .ok_or_else(|| ApiError::NotFound { what: format!("customer {customer_id}") })?;
        let users = rec
            .users
            .iter()
            .map(|u| UserNode {
                id: u.id,
                phone_masked: u.phone.as_deref().map(mask::phone),
                email_masked: u.email.as_deref().map(mask::email),
                nickname: u.nickname.clone(),
                status: u.status.clone(),
                registered_at: u.registered_at,
                last_login_at: u.last_login_at,
                sms_reset_blocked: u.sms_reset_blocked,
                accounts: rec
                    .accounts
                    .iter()
                    .filter(|a| a.user_id == u.id)
                    .map(|a| AccountView {
                        id: a.id,
                        kind: a.kind.clone(),
                        balance: Cny::from_minor(a.balance_minor).0,
                        real_name_level: a.real_name_level,
                        status: a.status.clone(),
                    })
                    .collect(),
                phone_bindings: rec
                    .phone_bindings
                    .iter()
                    .filter(|b| b.user_id == u.id)
                    .map(|b| PhoneBindingView {
                        phone_masked: mask::phone(&b.phone),
                        bound_at: b.bound_at,
                        unbound_at: b.unbound_at,
                        unbind_reason: b.unbind_reason.clone(),
                    })
                    .collect(),
            })
            .collect();
        let cards = rec
            .cards
            .iter()
            .map(|k| BankCardView {
                id: k.id,
                user_id: k.user_id,
                bank_name: bank_name(&k.bin).unwrap_or(&k.bank_name).to_owned(),
                card_masked: mask::card(&k.bin, &k.last4, usize::try_from(k.card_len).unwrap_or(16)),
                reserved_phone_masked: mask::phone(&k.reserved_phone),
                bound_at: k.bound_at,
                status: k.status.clone(),
            })
            .collect();
        Ok(CustomerTree {
            id: rec.customer.id,
            name_masked: mask::name(&rec.customer.name),
            id_number_masked: self.id_number_masked(&rec.customer),
            birth_year: birth_year(rec.customer.birth_date),
            real_name_verified: rec.customer.real_name_verified,
            created_at: rec.customer.created_at,
            users,
            cards,
        })
    }

    /// Writes the audit row first: if it cannot be written, nothing is revealed.
    async fn reveal(
        &self,
        actor: &str,
        target: PiiTarget,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let reason = reason.trim();
        if reason.chars().count() < MIN_REASON_CHARS {
            return Err(ApiError::InvalidInput {
                field: "reason".into(),
                problem: InputProblem::TooShort { min_chars: MIN_REASON_CHARS },
            });
        }
        let not_found =
            || ApiError::NotFound { what: format!("{} of {}", target.field_name(), target.record_id()) };
        let value = match target {
            PiiTarget::CustomerName { customer_id } => {
                self.store.customer(customer_id).await?.ok_or_else(not_found)?.name
            }
            PiiTarget::IdNumber { customer_id } => {
                let sealed = self
                    .store
                    .customer(customer_id)
                    .await?
                    .and_then(|c| c.id_number_enc)
                    .ok_or_else(not_found)?;
                self.vault.open(&sealed).map_err(|e| ApiError::Database { message: e.to_string() })?
            }
            PiiTarget::Phone { user_id } => {
                self.store.user(user_id).await?.and_then(|u| u.phone).ok_or_else(not_found)?
            }
            PiiTarget::Email { user_id } => {
                self.store.user(user_id).await?.and_then(|u| u.email).ok_or_else(not_found)?
            }
        };
        let audit = NewAudit::new(
            now,
            actor,
            "pii.reveal",
            format!("{}:{}", target.field_name(), target.record_id()),
            json!({ "field": target.field_name(), "reason": reason }),
        );
        self.store.append_audit(audit).await?;
        Ok(value)
    }

    /// Verifies the whole chain, page by page.
    pub async fn verify_audit(&self) -> Result<AuditVerification, ApiError> {
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
