//! The recycled-number workflow behind `Services::handle`: queue, claims,
//! decisions with four-eyes, carrier intake, gateway checks, the force-unbind
//! wizard, evidence packs, and the service hooks for the app backends.
//!
//! Permissions were checked by the dispatcher before any of this runs; the
//! four-eyes rule (maker ≠ checker) is enforced here and again in the store's SQL.

use crate::gateway::{BankGateway, CarrierGateway, FourElementRequest, GatewayError};
use crate::intake::{ParseFailure, ParsedFile, parse_carrier_csv};
use crate::services::Services;
use chrono::{DateTime, Duration, Utc};
use domain::cases::{
    BulkSummary, CaseDecision, CaseDetail, CaseRowView, Claimant, DecisionOutcome, ForceUnbindState,
    ImportReport, ImportState, Proposal, QueueCursor, QueueFilter, QueuePage, QueueSort, TimelineEntry,
};
use domain::id_number::IdNumber;
use domain::mask;
use domain::money::Cny;
use domain::phone::Phone;
use domain::recycle::{
    Attempt, AttemptBudget, BankAnswer, BudgetState, CarrierFact, CaseSource, CaseStatus, RISK_FORMULA,
    RecycleSettings, RiskInputs, TwiceTelAnswer, assess, risk_score,
};
use domain::{ApiError, InputProblem, Request, Response};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use store::{
    CarrierEventRow, CarrierImportRow, CaseFacts, CaseOrder, CaseQuery, CaseRow, Detection, NewAudit,
    NewCase, Store, Transition, Unbind,
};
use uuid::Uuid;

/// Most rows per queue page.
const MAX_QUEUE_ROWS: u32 = 200;
/// Most cases per bulk action.
const MAX_BULK: usize = 1_000;
/// A wizard's clear inputs live in memory this long.
const WIZARD_MINUTES: i64 = 30;
/// Settings key.
const SETTINGS_KEY: &str = "recycle";
/// Shortest reason for reassignments and notes that need one.
const MIN_REASON_CHARS: usize = 4;

/// What the recycled-number workflow needs besides the store.
pub struct Workflow {
    pub(crate) carrier: Option<Arc<dyn CarrierGateway>>,
    pub(crate) bank: Option<Arc<dyn BankGateway>>,
    pub(crate) jobs: Arc<Mutex<HashMap<Uuid, ImportState>>>,
    wizards: Mutex<HashMap<Uuid, Wizard>>,
    pub(crate) evidence_dir: PathBuf,
    budget: AttemptBudget,
}

impl Workflow {
    /// A workflow using these gateways, writing evidence packs to `evidence_dir`.
    pub fn new(
        carrier: Option<Arc<dyn CarrierGateway>>,
        bank: Option<Arc<dyn BankGateway>>,
        evidence_dir: PathBuf,
    ) -> Self {
        Self {
            carrier,
            bank,
            jobs: Arc::default(),
            wizards: Mutex::default(),
            evidence_dir,
            budget: AttemptBudget::default(),
        }
    }
}

/// One force-unbind in progress. Holds the claimant's clear inputs in memory only.
struct Wizard {
    actor: String,
    case_id: Uuid,
    claimant: Claimant,
    claimant_hash: String,
    created_at: DateTime<Utc>,
    state: ForceUnbindState,
    /// Masked record of every check, for the evidence pack.
    checks: Vec<serde_json::Value>,
}

/// The answer of a service hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookDecision {
    /// Go ahead.
    pub allowed: bool,
    /// Why (a stable code plus words).
    pub reason: String,
    /// The case opened or updated, if any.
    pub case_id: Option<Uuid>,
}

fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidInput { field: field.into(), problem: InputProblem::Invalid { reason: reason.into() } }
}

fn too_short(field: &str) -> ApiError {
    ApiError::InvalidInput {
        field: field.into(),
        problem: InputProblem::TooShort { min_chars: MIN_REASON_CHARS },
    }
}

fn gateway_error(service: &str, e: GatewayError) -> ApiError {
    ApiError::Gateway { service: service.into(), message: e.to_string() }
}

fn data_error(what: &str) -> ApiError {
    ApiError::Database { message: format!("unreadable stored {what}") }
}

fn status_of(row: &CaseRow) -> Result<CaseStatus, ApiError> {
    CaseStatus::parse(&row.status).ok_or_else(|| data_error("case status"))
}

fn audit(
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    case_id: Uuid,
    detail: serde_json::Value,
) -> NewAudit {
    NewAudit::new(now, actor, action, format!("case:{case_id}"), detail)
}

/// The risk formula's inputs from what the store knows about a user (none: zeros).
fn risk_inputs(f: Option<&store::RiskFacts>, now: DateTime<Utc>) -> RiskInputs {
    RiskInputs {
        balance_minor: f.map_or(0, |f| f.balance_minor),
        active_cards: f.map_or(0, |f| f.active_cards),
        direct_debits: f.map_or(0, |f| f.direct_debits),
        days_since_login: f.and_then(|f| f.last_login_at).map(|t| (now - t).num_days()),
    }
}

/// Builds the case rows to write for a set of carrier facts about bound phones:
/// applies the rule, merges facts per (phone, old user), scores risk.
pub async fn detect(
    store: &dyn Store,
    facts: Vec<(store::BoundPhone, CarrierFact, String, String, usize)>,
    settings: &RecycleSettings,
    now: DateTime<Utc>,
) -> Result<Vec<Detection>, ApiError> {
    let mut merged: HashMap<(String, Uuid), Detection> = HashMap::new();
    for (bound, fact, carrier, province, event_index) in facts {
        let Some(a) = assess(bound.bound_at, &fact, settings.freeze_days) else { continue };
        let key = (bound.phone.clone(), bound.user_id);
        let d = merged.entry(key).or_insert_with(|| Detection {
            case: NewCase {
                id: Uuid::now_v7(),
                phone: bound.phone.clone(),
                old_user_id: bound.user_id,
                old_customer_id: bound.customer_id,
                source: a.source.as_str().into(),
                manual_only: false,
                risk_score: 0,
                risk_inputs: String::new(),
                balance_minor: 0,
                carrier: carrier.clone(),
                province: province.clone(),
                bound_at: bound.bound_at,
                entry_at: None,
                freeze_until: None,
                detected_at: now,
                evidence: 0,
            },
            events: Vec::new(),
        });
        d.case.manual_only |= a.manual_only;
        d.case.entry_at = d.case.entry_at.max(fact.entry_at.filter(|e| *e > bound.bound_at));
        d.case.freeze_until = d.case.freeze_until.max(a.freeze_until);
        d.events.push(event_index);
        d.case.evidence += 1;
    }
    let mut detections: Vec<Detection> = merged.into_values().collect();
    let users: Vec<Uuid> = detections.iter().map(|d| d.case.old_user_id).collect();
    let facts: HashMap<Uuid, store::RiskFacts> =
        store.risk_facts(&users).await?.into_iter().map(|f| (f.user_id, f)).collect();
    for d in &mut detections {
        if let Some(f) = facts.get(&d.case.old_user_id) {
            let inputs = risk_inputs(Some(f), now);
            d.case.risk_score = risk_score(&inputs);
            d.case.balance_minor = f.balance_minor;
            d.case.risk_inputs = serde_json::to_string(&inputs).unwrap_or_default();
        }
    }
    Ok(detections)
}

/// Screens a checked carrier file against our bindings and writes it in one
/// transaction (or nothing, if the same file was imported before).
pub async fn screen_carrier_file(
    store: &dyn Store,
    parsed: &ParsedFile,
    file_name: &str,
    actor: &str,
    settings: &RecycleSettings,
    now: DateTime<Utc>,
) -> Result<ImportReport, ApiError> {
    let started = std::time::Instant::now();
    // Per number, the latest time a binding could precede and still be suspect
    // (`None`: a port, manual review whatever the binding time).
    let mut latest: HashMap<&str, Option<DateTime<Utc>>> = HashMap::new();
    for l in &parsed.lines {
        let t = if l.event.is_port() {
            None
        } else {
            // Entry time or a notice's date: a binding before it is what the rule flags.
            match l.entry_at.max(l.event.is_notice().then_some(l.event_at)) {
                Some(t) => Some(t),
                None => continue,
            }
        };
        latest.entry(l.phone.as_str()).and_modify(|v| *v = v.zip(t).map(|(a, b)| a.max(b))).or_insert(t);
    }
    let candidates: Vec<(String, Option<DateTime<Utc>>)> =
        latest.into_iter().map(|(p, t)| (p.to_owned(), t)).collect();
    let bound: HashMap<String, store::BoundPhone> =
        store.candidate_bindings(&candidates).await?.into_iter().map(|b| (b.phone.clone(), b)).collect();
    let looked_up = started.elapsed();
    let import_id = Uuid::now_v7();
    let source = format!("import:{import_id}");
    let mut events = Vec::new();
    let mut facts = Vec::new();
    for line in &parsed.lines {
        let Some(b) = bound.get(&line.phone) else { continue };
        let fact =
            CarrierFact { entry_at: line.entry_at, event: Some(line.event), event_at: Some(line.event_at) };
        // Only facts that are evidence are kept: the rest describe earlier holders
        // or nothing new, and would only bloat the timeline.
        if assess(b.bound_at, &fact, settings.freeze_days).is_none() {
            continue;
        }
        facts.push((b.clone(), fact, line.carrier.clone(), line.province.clone(), events.len()));
        events.push(CarrierEventRow {
            id: Uuid::now_v7(),
            phone: line.phone.clone(),
            carrier: line.carrier.clone(),
            province: line.province.clone(),
            event: line.event.as_str().into(),
            event_at: line.event_at,
            entry_at: line.entry_at,
            source: source.clone(),
        });
    }
    let matched = events.len();
    let detections = detect(store, facts, settings, now).await?;
    let scored = started.elapsed();
    let import = CarrierImportRow {
        id: import_id,
        file_name: file_name.to_owned(),
        sha256: parsed.sha256.clone(),
        encoding: parsed.encoding.into(),
        lines: parsed.lines.len() as i64,
        matched: matched as i64,
        cases_opened: 0,
        cases_updated: 0,
        imported_by: actor.to_owned(),
        imported_at: now,
    };
    let detail = json!({
        "file": file_name, "sha256": parsed.sha256, "lines": parsed.lines.len(), "matched": matched,
    });
    let audit = NewAudit::new(now, actor, "carrier.import", format!("import:{import_id}"), detail);
    let counts = store.import_carrier(&import, &events, &detections, audit).await?;
    tracing::info!(
        file = file_name,
        lines = parsed.lines.len(),
        numbers = candidates.len(),
        lookup_ms = looked_up.as_millis() as u64,
        score_ms = (scored - looked_up).as_millis() as u64,
        write_ms = (started.elapsed() - scored).as_millis() as u64,
        "carrier file screened"
    );
    Ok(ImportReport {
        file: file_name.to_owned(),
        encoding: parsed.encoding.into(),
        lines: parsed.lines.len() as u64,
        matched: matched as u64,
        cases_opened: counts.map_or(0, |c| c.opened),
        cases_updated: counts.map_or(0, |c| c.updated),
        already_imported: counts.is_none(),
    })
}

impl Services {
    /// The recycled-number requests (the dispatcher already checked the permission).
    pub(crate) async fn handle_recycle(
        &self,
        actor: &str,
        req: Request,
        now: DateTime<Utc>,
    ) -> Result<Response, ApiError> {
        match req {
            Request::Queue { filter, after, limit } => {
                self.queue(actor, &filter, after, limit, now).await.map(Response::Queue)
            }
            Request::CaseDetail { case_id } => {
                let detail = self.case_detail(case_id, now).await?;
                let a = audit(now, actor, "case.view", case_id, json!({}));
                self.store().append_audit(a).await?;
                Ok(Response::Case(Box::new(detail)))
            }
            Request::ClaimCase { case_id } => {
                let lease = now + Duration::minutes(self.recycle_settings().await?.lease_minutes);
                let a = audit(now, actor, "case.claim", case_id, json!({ "lease_until": lease }));
                self.store().claim(case_id, actor, now, lease, a).await?;
                Ok(Response::Done)
            }
            Request::ClaimNext => {
                let lease = now + Duration::minutes(self.recycle_settings().await?.lease_minutes);
                let a = NewAudit::new(
                    now,
                    actor,
                    "case.claim",
                    "case:?",
                    json!({ "lease_until": lease, "next": true }),
                );
                let row = self.store().claim_next(actor, now, lease, a).await?;
                Ok(Response::Claimed(row.map(|r| r.id)))
            }
            Request::ReleaseCase { case_id } => {
                let row = self.case_row(case_id).await?;
                if row.claimed_by.as_deref() != Some(actor) {
                    return Err(ApiError::Conflict { what: "you do not hold this case".into() });
                }
                let a = audit(now, actor, "case.release", case_id, json!({}));
                self.store().reassign(case_id, None, None, now, ("release".into(), "{}".into()), a).await?;
                Ok(Response::Done)
            }
            Request::ReassignCase { case_id, to, reason } => {
                self.reassign(actor, case_id, &to, &reason, now).await.map(|()| Response::Done)
            }
            Request::DecideCase { case_id, decision } => {
                self.decide(actor, case_id, decision, now).await.map(Response::Decided)
            }
            Request::ApproveCase { case_id, approve, note } => {
                self.approve(actor, case_id, approve, &note, now).await.map(Response::Decided)
            }
            Request::BulkNotRecycled { case_ids, reason, note, dry_run } => self
                .bulk_not_recycled(actor, &case_ids, reason, &note, dry_run, now)
                .await
                .map(Response::Bulk),
            Request::ImportCarrierFile { path } => {
                let job_id = self.start_import(actor, PathBuf::from(path), now).await?;
                Ok(Response::ImportStarted { job_id })
            }
            Request::ImportStatus { job_id } => {
                let jobs = self.workflow().jobs.lock().map_err(|_| data_error("import jobs"))?;
                let state = jobs
                    .get(&job_id)
                    .cloned()
                    .ok_or(ApiError::NotFound { what: format!("import {job_id}") })?;
                Ok(Response::Import(state))
            }
            Request::CheckCarrier { case_id } => {
                self.check_carrier(actor, case_id, now).await?;
                Ok(Response::Done)
            }
            Request::RecycleSettings => Ok(Response::Settings(self.recycle_settings().await?)),
            Request::UpdateRecycleSettings { settings } => {
                if settings.freeze_days < 0 || settings.lease_minutes < 1 || settings.sla_hours < 1 {
                    return Err(invalid("settings", "freeze ≥ 0 days, lease ≥ 1 minute, SLA ≥ 1 hour"));
                }
                let value =
                    serde_json::to_string(&settings).map_err(|e| invalid("settings", e.to_string()))?;
                let a = NewAudit::new(
                    now,
                    actor,
                    "settings.update",
                    "settings:recycle",
                    json!({ "settings": settings }),
                );
                self.store().put_setting(SETTINGS_KEY, &value, a).await?;
                Ok(Response::Settings(settings))
            }
            Request::ForceUnbindStart { case_id, claimant } => self
                .force_unbind_start(actor, case_id, claimant, now)
                .await
                .map(|s| Response::ForceUnbind(Box::new(s))),
            Request::ForceUnbindBankCheck { wizard_id, card_number } => self
                .force_unbind_bank(actor, wizard_id, &card_number, now)
                .await
                .map(|s| Response::ForceUnbind(Box::new(s))),
            Request::ForceUnbindSubmit { wizard_id } => self
                .force_unbind_submit(actor, wizard_id, now)
                .await
                .map(|s| Response::ForceUnbind(Box::new(s))),
            Request::ExportEvidence { case_id } => self.export_evidence(actor, case_id, now).await,
            Request::RequestSmsUnblock { user_id, phone } => {
                self.request_sms_unblock(actor, user_id, &phone, now).await.map(|()| Response::Done)
            }
            Request::QueueViews => Ok(Response::QueueViews(self.queue_views(actor).await?)),
            Request::SaveQueueView { name, filter } => {
                let name = name.trim().to_owned();
                if name.is_empty() {
                    return Err(ApiError::InvalidInput {
                        field: "name".into(),
                        problem: InputProblem::Required,
                    });
                }
                let mut views = self.queue_views(actor).await?;
                views.retain(|(n, _)| *n != name);
                views.push((name.clone(), filter));
                let value = serde_json::to_string(&views).map_err(|e| invalid("filter", e.to_string()))?;
                let a = NewAudit::new(
                    now,
                    actor,
                    "queue.view_saved",
                    format!("operator:{actor}"),
                    json!({ "name": name }),
                );
                self.store().put_setting(&format!("views:{actor}"), &value, a).await?;
                Ok(Response::QueueViews(views))
            }
            Request::ApproveSmsUnblock { user_id } => {
                self.approve_sms_unblock(actor, user_id, now).await.map(|()| Response::Done)
            }
            other => Err(ApiError::Unavailable {
                message: format!("{} is not a recycled-number request", other.name()),
            }),
        }
    }

    /// The workflow settings (defaults until a supervisor changes them).
    pub async fn recycle_settings(&self) -> Result<RecycleSettings, ApiError> {
        match self.store().setting(SETTINGS_KEY).await? {
            Some(v) => serde_json::from_str(&v).map_err(|_| data_error("settings")),
            None => Ok(RecycleSettings::default()),
        }
    }

    /// An operator's saved queue views (kept in the shared settings, per operator).
    async fn queue_views(&self, actor: &str) -> Result<Vec<(String, QueueFilter)>, ApiError> {
        match self.store().setting(&format!("views:{actor}")).await? {
            Some(v) => serde_json::from_str(&v).map_err(|_| data_error("queue views")),
            None => Ok(Vec::new()),
        }
    }

    async fn case_row(&self, case_id: Uuid) -> Result<CaseRow, ApiError> {
        self.store().case_row(case_id).await?.ok_or(ApiError::NotFound { what: format!("case {case_id}") })
    }

    fn row_view(&self, r: &CaseRow, now: DateTime<Utc>, sla_hours: i64) -> Result<CaseRowView, ApiError> {
        let status = status_of(r)?;
        let age_hours = (now - r.detected_at).num_hours();
        let lease_live = r.lease_until.is_some_and(|t| t >= now);
        Ok(CaseRowView {
            id: r.id,
            phone_masked: mask::phone(&r.phone),
            status,
            source: CaseSource::parse(&r.source).ok_or_else(|| data_error("case source"))?,
            manual_only: r.manual_only,
            risk_score: r.risk_score,
            carrier: r.carrier.clone(),
            province: r.province.clone(),
            detected_at: r.detected_at,
            age_hours,
            sla_breached: status.is_active() && age_hours >= sla_hours,
            claimed_by: r.claimed_by.clone().filter(|_| lease_live),
            lease_until: r.lease_until.filter(|_| lease_live),
            evidence_count: r.evidence_count,
            proposed_by: r.proposed_by.clone(),
            freeze_until: r.freeze_until,
        })
    }

    async fn queue(
        &self,
        actor: &str,
        f: &QueueFilter,
        after: Option<QueueCursor>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<QueuePage, ApiError> {
        let phone = match f.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(String::from(Phone::parse(p).map_err(|e| invalid("phone", e.to_string()))?)),
            None => None,
        };
        let limit = limit.clamp(1, MAX_QUEUE_ROWS);
        let q = CaseQuery {
            statuses: f.status.map(|s| vec![s.as_str().to_owned()]).unwrap_or_default(),
            source: f.source.map(|s| s.as_str().to_owned()),
            min_risk: f.min_risk,
            carrier: f.carrier.clone().filter(|c| !c.is_empty()),
            province: f.province.clone().filter(|c| !c.is_empty()),
            detected_before: f.older_than_hours.map(|h| now - Duration::hours(h)),
            phone,
            claimed_by: f.mine_only.then(|| actor.to_owned()),
            sort: match f.sort {
                QueueSort::RiskDesc => CaseOrder::RiskDesc,
                QueueSort::OldestFirst => CaseOrder::OldestFirst,
                QueueSort::NewestFirst => CaseOrder::NewestFirst,
            },
            after: after.map(|c| (c.risk_score, c.detected_at, c.id)),
            limit,
        };
        let sla_hours = self.recycle_settings().await?.sla_hours;
        let rows = self.store().queue(&q).await?;
        let next = (rows.len() == limit as usize)
            .then(|| {
                rows.last().map(|r| QueueCursor {
                    risk_score: r.risk_score,
                    detected_at: r.detected_at,
                    id: r.id,
                })
            })
            .flatten();
        let rows = rows.iter().map(|r| self.row_view(r, now, sla_hours)).collect::<Result<_, _>>()?;
        Ok(QueuePage { rows, next })
    }

    /// The case with one timeline per phone, PII masked.
    pub async fn case_detail(&self, case_id: Uuid, now: DateTime<Utc>) -> Result<CaseDetail, ApiError> {
        let f = self
            .store()
            .case_facts(case_id)
            .await?
            .ok_or(ApiError::NotFound { what: format!("case {case_id}") })?;
        let settings = self.recycle_settings().await?;
        let row = self.row_view(&f.case, now, settings.sla_hours)?;
        let risk: RiskInputs = serde_json::from_str(&f.case.risk_inputs).unwrap_or(RiskInputs {
            balance_minor: f.case.balance_minor,
            active_cards: 0,
            direct_debits: 0,
            days_since_login: None,
        });
        let proposal = match (&f.case.proposed, &f.case.proposed_by) {
            (Some(p), Some(by)) => {
                let v: serde_json::Value = serde_json::from_str(p).map_err(|_| data_error("proposal"))?;
                let decision: CaseDecision =
                    serde_json::from_value(v["decision"].clone()).map_err(|_| data_error("proposal"))?;
                Some(Proposal { decision, by: by.clone() })
            }
            _ => None,
        };
        let decision = match (&f.case.decision, &f.case.decided_by) {
            (Some(d), Some(by)) => Some((
                d.clone(),
                f.case.decision_reason.clone().unwrap_or_default(),
                by.clone(),
                f.case.approved_by.clone(),
            )),
            _ => None,
        };
        let evidence_sha256 = self.store().evidence_pack(case_id).await?.map(|(sha, _)| sha);
        let sms_unblock_requested_by = f
            .sms_blocks
            .iter()
            .filter(|b| b.lifted_at.is_none())
            .filter_map(|b| b.lift_detail.as_deref())
            .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .find_map(|v| v["requested_by"].as_str().map(str::to_owned));
        Ok(CaseDetail {
            row,
            old_user_id: f.case.old_user_id,
            old_customer_id: f.case.old_customer_id,
            old_name_masked: mask::name(&f.customer.name),
            still_bound: f.user.phone.as_deref() == Some(f.case.phone.as_str()),
            bound_at: f.case.bound_at,
            entry_at: f.case.entry_at,
            risk,
            risk_formula: RISK_FORMULA.into(),
            balance: Cny::from_minor(f.case.balance_minor).0,
            needs_checker: settings.four_eyes.needs_checker(f.case.balance_minor),
            proposal,
            decision,
            sms_reset_blocked: f.user.sms_reset_blocked,
            sms_unblock_requested_by,
            timeline: timeline(&f),
            evidence_sha256,
        })
    }

    async fn reassign(
        &self,
        actor: &str,
        case_id: Uuid,
        to: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        if reason.trim().chars().count() < MIN_REASON_CHARS {
            return Err(too_short("reason"));
        }
        let op = self
            .store()
            .operator_by_username(to.trim())
            .await?
            .ok_or_else(|| invalid("to", "no such operator"))?;
        let allowed = domain::auth::Role::parse(&op.role)
            .is_some_and(|r| r.allows(domain::auth::Permission::RecycledReview));
        if !allowed {
            return Err(invalid("to", "that operator cannot work recycled-number cases"));
        }
        let lease = now + Duration::minutes(self.recycle_settings().await?.lease_minutes);
        let detail = json!({ "to": op.username, "reason": reason.trim() });
        let a = audit(now, actor, "case.reassign", case_id, detail.clone());
        self.store()
            .reassign(
                case_id,
                Some(&op.username),
                Some(lease),
                now,
                ("reassign".into(), detail.to_string()),
                a,
            )
            .await?;
        Ok(())
    }

    async fn decide(
        &self,
        actor: &str,
        case_id: Uuid,
        decision: CaseDecision,
        now: DateTime<Utc>,
    ) -> Result<DecisionOutcome, ApiError> {
        let row = self.case_row(case_id).await?;
        let settings = self.recycle_settings().await?;
        let from = vec!["open".to_owned(), "escalated".to_owned()];
        let decision_json = json!(decision);
        let transition =
            |status: &str, decision: Option<(String, String)>, keep_claim: bool, kind: &str| Transition {
                case_id,
                from: from.clone(),
                holder: Some(actor.to_owned()),
                not_proposed_by: None,
                now,
                status: status.into(),
                proposed: None,
                decision: decision.map(|(d, r)| (d, r, actor.to_owned(), None)),
                keep_claim,
                event: (kind.into(), decision_json.to_string()),
            };
        match &decision {
            CaseDecision::ConfirmRecycled { note } => {
                if let Some(until) = row.freeze_until.filter(|u| *u > now) {
                    return Err(ApiError::Conflict {
                        what: format!(
                            "in the freeze window until {until}: the old user may still reclaim the number"
                        ),
                    });
                }
                if settings.four_eyes.needs_checker(row.balance_minor) {
                    let mut t = transition("pending_approval", None, false, "propose");
                    t.proposed = Some((json!({ "decision": decision }).to_string(), actor.to_owned()));
                    let a = audit(now, actor, "case.propose", case_id, json!({ "decision": decision }));
                    self.store().transition(t, a).await?;
                    return Ok(DecisionOutcome::PendingApproval);
                }
                if row.claimed_by.as_deref() != Some(actor) || row.lease_until.is_none_or(|t| t < now) {
                    return Err(ApiError::Conflict {
                        what: "claim the case first (or your claim has expired)".into(),
                    });
                }
                self.apply_unbind(
                    &row,
                    "confirmed",
                    "confirm_recycled",
                    note,
                    actor,
                    None,
                    None,
                    &["open", "escalated"],
                    now,
                )
                .await?;
                Ok(DecisionOutcome::Applied)
            }
            CaseDecision::NotRecycled { reason, note } => {
                let t = transition(
                    "not_recycled",
                    Some(("not_recycled".into(), format!("{}: {note}", reason.as_str()))),
                    false,
                    "decide",
                );
                let a = audit(
                    now,
                    actor,
                    "case.not_recycled",
                    case_id,
                    json!({ "reason": reason, "note": note }),
                );
                self.store().transition(t, a).await?;
                Ok(DecisionOutcome::Applied)
            }
            CaseDecision::Escalate { note } => {
                if note.trim().chars().count() < MIN_REASON_CHARS {
                    return Err(too_short("note"));
                }
                let t = transition("escalated", None, false, "escalate");
                let a = audit(now, actor, "case.escalate", case_id, json!({ "note": note }));
                self.store().transition(t, a).await?;
                Ok(DecisionOutcome::Applied)
            }
            CaseDecision::ForceUnbind { .. } => {
                Err(invalid("decision", "force-unbind goes through its wizard"))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply_unbind(
        &self,
        row: &CaseRow,
        status: &str,
        decision: &str,
        note: &str,
        maker: &str,
        checker: Option<&str>,
        checks: Option<serde_json::Value>,
        from: &[&str],
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let pack = checks.map(|checks| {
            let json = json!({
                "case_id": row.id, "phone": mask::phone(&row.phone), "old_user_id": row.old_user_id,
                "decision": decision, "note": note, "maker": maker, "checker": checker,
                "decided_at": now, "checks": checks,
            })
            .to_string();
            (hex::encode(Sha256::digest(json.as_bytes())), json)
        });
        let evidence = json!({ "case_id": row.id, "source": row.source, "entry_at": row.entry_at, "bound_at": row.bound_at });
        let u = Unbind {
            case_id: row.id,
            status: status.into(),
            decision: decision.into(),
            reason: note.into(),
            decided_by: maker.into(),
            approved_by: checker.map(str::to_owned),
            at: now,
            evidence: evidence.to_string(),
            pack: pack.clone(),
        };
        let actor = checker.unwrap_or(maker);
        let a = audit(
            now,
            actor,
            "case.unbind",
            row.id,
            json!({
                "decision": decision, "maker": maker, "checker": checker,
                "evidence_sha256": pack.as_ref().map(|p| p.0.clone()),
            }),
        );
        let counts = self.store().unbind(&u, from, a).await?;
        tracing::info!(case = %row.id, decision, debits = counts.debits_ended, cards = counts.cards_flagged, "phone unbound");
        Ok(())
    }

    async fn approve(
        &self,
        checker: &str,
        case_id: Uuid,
        approve: bool,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<DecisionOutcome, ApiError> {
        let row = self.case_row(case_id).await?;
        if status_of(&row)? != CaseStatus::PendingApproval {
            return Err(ApiError::Conflict { what: format!("case is {}", row.status) });
        }
        let maker = row.proposed_by.clone().ok_or_else(|| data_error("proposal"))?;
        // Four-eyes: no role, not even a supervisor or admin, approves their own proposal.
        if maker == checker {
            let a =
                audit(now, checker, "case.approve_refused", case_id, json!({ "reason": "maker_is_checker" }));
            self.store().append_audit(a).await?;
            return Err(ApiError::Conflict { what: "the maker cannot approve their own proposal".into() });
        }
        if !approve {
            let t = Transition {
                case_id,
                from: vec!["pending_approval".into()],
                holder: None,
                not_proposed_by: Some(checker.to_owned()),
                now,
                status: "open".into(),
                proposed: None,
                decision: None,
                keep_claim: false,
                event: ("approval.rejected".into(), json!({ "note": note }).to_string()),
            };
            let a = audit(
                now,
                checker,
                "case.approval_rejected",
                case_id,
                json!({ "maker": maker, "note": note }),
            );
            self.store().transition(t, a).await?;
            return Ok(DecisionOutcome::Applied);
        }
        let proposal: serde_json::Value = serde_json::from_str(row.proposed.as_deref().unwrap_or("{}"))
            .map_err(|_| data_error("proposal"))?;
        let decision: CaseDecision =
            serde_json::from_value(proposal["decision"].clone()).map_err(|_| data_error("proposal"))?;
        match decision {
            CaseDecision::ConfirmRecycled { note: maker_note } => {
                self.apply_unbind(
                    &row,
                    "confirmed",
                    "confirm_recycled",
                    &maker_note,
                    &maker,
                    Some(checker),
                    None,
                    &["pending_approval"],
                    now,
                )
                .await?
            }
            CaseDecision::ForceUnbind { note: maker_note } => {
                let checks = proposal["checks"].clone();
                self.apply_unbind(
                    &row,
                    "force_unbound",
                    "force_unbind",
                    &maker_note,
                    &maker,
                    Some(checker),
                    Some(checks),
                    &["pending_approval"],
                    now,
                )
                .await?
            }
            _ => return Err(data_error("proposal")),
        }
        Ok(DecisionOutcome::Applied)
    }

    async fn bulk_not_recycled(
        &self,
        actor: &str,
        ids: &[Uuid],
        reason: domain::recycle::NotRecycledReason,
        note: &str,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<BulkSummary, ApiError> {
        if ids.len() > MAX_BULK {
            return Err(invalid("case_ids", format!("at most {MAX_BULK} cases at once")));
        }
        if note.trim().chars().count() < MIN_REASON_CHARS {
            return Err(too_short("note"));
        }
        let mut eligible = Vec::new();
        let mut skipped = Vec::new();
        for id in ids {
            match self.store().case_row(*id).await? {
                None => skipped.push((*id, "not found".to_owned())),
                Some(r) => match (status_of(&r)?, &r.claimed_by) {
                    (CaseStatus::Open | CaseStatus::Escalated, Some(by))
                        if by != actor && r.lease_until.is_some_and(|t| t >= now) =>
                    {
                        skipped.push((*id, format!("claimed by {by}")))
                    }
                    (CaseStatus::Open | CaseStatus::Escalated, _) => eligible.push(*id),
                    (s, _) => skipped.push((*id, s.as_str().to_owned())),
                },
            }
        }
        if !dry_run {
            for id in &eligible {
                let t = Transition {
                    case_id: *id,
                    from: vec!["open".into(), "escalated".into()],
                    holder: None,
                    not_proposed_by: None,
                    now,
                    status: "not_recycled".into(),
                    proposed: None,
                    decision: Some((
                        "not_recycled".into(),
                        format!("{}: {note}", reason.as_str()),
                        actor.into(),
                        None,
                    )),
                    keep_claim: false,
                    event: ("decide.bulk".into(), json!({ "reason": reason, "note": note }).to_string()),
                };
                let a = audit(
                    now,
                    actor,
                    "case.not_recycled",
                    *id,
                    json!({ "reason": reason, "note": note, "bulk": true }),
                );
                if let Err(e) = self.store().transition(t, a).await {
                    skipped.push((*id, e.to_string()));
                }
            }
            let done = eligible.len() - skipped.iter().filter(|(id, _)| eligible.contains(id)).count();
            let a = NewAudit::new(
                now,
                actor,
                "case.bulk_not_recycled",
                "cases",
                json!({
                    "requested": ids.len(), "closed": done, "reason": reason,
                }),
            );
            self.store().append_audit(a).await?;
        }
        Ok(BulkSummary { dry_run, eligible: eligible.len(), skipped })
    }

    async fn start_import(&self, actor: &str, path: PathBuf, now: DateTime<Utc>) -> Result<Uuid, ApiError> {
        let meta =
            std::fs::metadata(&path).map_err(|e| invalid("path", format!("{}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(invalid("path", format!("{} is not a file", path.display())));
        }
        let file_name =
            path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let job_id = Uuid::now_v7();
        let jobs = self.workflow().jobs.clone();
        let set = move |jobs: &Mutex<HashMap<Uuid, ImportState>>, state: ImportState| {
            if let Ok(mut j) = jobs.lock() {
                j.insert(job_id, state);
            }
        };
        set(&jobs, ImportState::Reading { bytes_read: 0, total_bytes: meta.len(), lines: 0 });
        let store = self.store().clone();
        let settings = self.recycle_settings().await?;
        let actor = actor.to_owned();
        tokio::spawn(async move {
            let total = meta.len();
            let (jobs2, name2) = (jobs.clone(), file_name.clone());
            let parsed = tokio::task::spawn_blocking(move || {
                let file = std::fs::File::open(&path)
                    .map_err(|e| ParseFailure::Io(format!("{}: {e}", path.display())))?;
                parse_carrier_csv(&name2, std::io::BufReader::new(file), |bytes_read, lines| {
                    set(&jobs2, ImportState::Reading { bytes_read, total_bytes: total, lines });
                })
            })
            .await;
            let state = match parsed {
                Err(e) => ImportState::Failed { message: e.to_string() },
                Ok(Err(ParseFailure::Io(message))) => ImportState::Failed { message },
                Ok(Err(ParseFailure::Lines(errors, error_count))) => {
                    let a = NewAudit::new(
                        now,
                        &actor,
                        "carrier.import_rejected",
                        format!("file:{file_name}"),
                        json!({
                            "errors": error_count, "first": errors.first().map(ToString::to_string),
                        }),
                    );
                    if let Err(e) = store.append_audit(a).await {
                        tracing::error!(error = %e, "audit of a rejected import failed");
                    }
                    ImportState::Rejected { errors, error_count }
                }
                Ok(Ok(parsed)) => {
                    set(&jobs, ImportState::Writing { lines: parsed.lines.len() as u64 });
                    match screen_carrier_file(store.as_ref(), &parsed, &file_name, &actor, &settings, now)
                        .await
                    {
                        Ok(report) => ImportState::Done(report),
                        Err(e) => ImportState::Failed { message: e.to_string() },
                    }
                }
            };
            set(&jobs, state);
        });
        Ok(job_id)
    }

    fn carrier(&self) -> Result<&Arc<dyn CarrierGateway>, ApiError> {
        self.workflow()
            .carrier
            .as_ref()
            .ok_or(ApiError::Gateway { service: "carrier".into(), message: "not configured".into() })
    }

    fn bank(&self) -> Result<&Arc<dyn BankGateway>, ApiError> {
        self.workflow()
            .bank
            .as_ref()
            .ok_or(ApiError::Gateway { service: "bank".into(), message: "not configured".into() })
    }

    /// Asks the carrier about a case's number now; the answer becomes evidence.
    async fn check_carrier(
        &self,
        actor: &str,
        case_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<TwiceTelAnswer, ApiError> {
        let row = self.case_row(case_id).await?;
        let answer = self
            .carrier()?
            .twice_tel(&row.phone, row.bound_at)
            .await
            .map_err(|e| gateway_error("carrier", e))?;
        let event = gateway_event(&row.phone, &row.carrier, &row.province, answer, now);
        let mut cases = Vec::new();
        if status_of(&row)?.is_active()
            && let Some(a) = answer.assess()
        {
            cases.push(NewCase {
                id: Uuid::now_v7(),
                phone: row.phone.clone(),
                old_user_id: row.old_user_id,
                old_customer_id: row.old_customer_id,
                source: a.source.as_str().into(),
                manual_only: a.manual_only,
                risk_score: row.risk_score,
                risk_inputs: row.risk_inputs.clone(),
                balance_minor: row.balance_minor,
                carrier: row.carrier.clone(),
                province: row.province.clone(),
                bound_at: row.bound_at,
                entry_at: None,
                freeze_until: None,
                detected_at: now,
                evidence: 1,
            });
        }
        let a = audit(now, actor, "carrier.check", case_id, json!({ "answer": answer }));
        self.store().upsert_cases(&cases, &[event], a).await?;
        Ok(answer)
    }

    /// Service hook for the registration backend: may `phone` register a new user at `at`?
    /// Blocked while the number is another user's login; a case is opened (or gets
    /// evidence) so customer service can free it.
    pub async fn check_registration(&self, phone: &str, at: DateTime<Utc>) -> Result<HookDecision, ApiError> {
        let phone = String::from(Phone::parse(phone).map_err(|e| invalid("phone", e.to_string()))?);
        let bound = self.store().bound_phones(std::slice::from_ref(&phone)).await?;
        let decision = match bound.into_iter().next() {
            None => HookDecision { allowed: true, reason: "free".into(), case_id: None },
            Some(b) => {
                let case_id = self.open_hook_case(&b, CaseSource::Registration, false, at).await?;
                HookDecision {
                    allowed: false,
                    reason: "bound_to_another_user: the number is another account's login; customer service reviews it".into(),
                    case_id: Some(case_id),
                }
            }
        };
        self.record_hook(&phone, None, "registration", &decision, at).await?;
        Ok(decision)
    }

    /// Service hook for the password-reset backend: may `user_id` reset by SMS code at `at`?
    /// Blocked when the user has an SMS-reset block, an active case, or the carrier
    /// says the number changed hands since the binding (a case is opened then).
    pub async fn check_sms_reset(&self, user_id: Uuid, at: DateTime<Utc>) -> Result<HookDecision, ApiError> {
        let user = self
            .store()
            .user(user_id)
            .await?
            .ok_or(ApiError::NotFound { what: format!("user {user_id}") })?;
        if let Some(block) = self.store().sms_block(user_id).await? {
            let d = HookDecision {
                allowed: false,
                reason: format!("sms_reset_blocked: {}", block.reason),
                case_id: block.case_id,
            };
            self.record_hook(user.phone.as_deref().unwrap_or(""), Some(user_id), "sms_reset", &d, at).await?;
            return Ok(d);
        }
        let Some(phone) = user.phone.clone() else {
            return Ok(HookDecision { allowed: false, reason: "no_login_phone".into(), case_id: None });
        };
        let q = CaseQuery { phone: Some(phone.clone()), limit: 10, ..CaseQuery::default() };
        let active = self.store().queue(&q).await?.into_iter().find(|c| c.old_user_id == user_id);
        let decision = if let Some(c) = active {
            HookDecision {
                allowed: false,
                reason: "under_review: a recycled-number case is open".into(),
                case_id: Some(c.id),
            }
        } else {
            let bound = self.store().bound_phones(std::slice::from_ref(&phone)).await?;
            let b = bound.into_iter().next().ok_or(ApiError::NotFound { what: "binding".into() })?;
            let answer = self
                .carrier()?
                .twice_tel(&phone, b.bound_at)
                .await
                .map_err(|e| gateway_error("carrier", e))?;
            match answer.assess() {
                None => HookDecision { allowed: true, reason: "not_reassigned".into(), case_id: None },
                Some(a) => {
                    let case_id = self.open_hook_case(&b, CaseSource::SmsReset, a.manual_only, at).await?;
                    // Ambiguous answers go to a person; only a clear "reassigned" blocks.
                    HookDecision {
                        allowed: a.manual_only,
                        reason: format!(
                            "carrier_{}",
                            serde_json::to_value(answer)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default()
                        ),
                        case_id: Some(case_id),
                    }
                }
            }
        };
        self.record_hook(&phone, Some(user_id), "sms_reset", &decision, at).await?;
        Ok(decision)
    }

    async fn record_hook(
        &self,
        phone: &str,
        user_id: Option<Uuid>,
        kind: &str,
        d: &HookDecision,
        at: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let row = store::HookEventRow {
            id: Uuid::now_v7(),
            phone: phone.to_owned(),
            user_id,
            kind: kind.into(),
            at,
            allowed: d.allowed,
            reason: d.reason.clone(),
        };
        Ok(self.store().record_hook(&row).await?)
    }

    async fn open_hook_case(
        &self,
        b: &store::BoundPhone,
        source: CaseSource,
        manual_only: bool,
        at: DateTime<Utc>,
    ) -> Result<Uuid, ApiError> {
        let settings = self.recycle_settings().await?;
        let fact = CarrierFact { entry_at: None, event: None, event_at: None };
        let mut d = detect(
            self.store().as_ref(),
            vec![(b.clone(), fact, String::new(), String::new(), 0)],
            &settings,
            at,
        )
        .await?;
        // The hook itself is the signal: build the case even though no carrier fact says so.
        let case = match d.pop() {
            Some(d) => d.case,
            None => {
                let facts = self.store().risk_facts(&[b.user_id]).await?;
                let inputs = risk_inputs(facts.first(), at);
                let carrier = self.store().carrier_record(&b.phone).await?;
                NewCase {
                    id: Uuid::now_v7(),
                    phone: b.phone.clone(),
                    old_user_id: b.user_id,
                    old_customer_id: b.customer_id,
                    source: source.as_str().into(),
                    manual_only,
                    risk_score: risk_score(&inputs),
                    risk_inputs: serde_json::to_string(&inputs).unwrap_or_default(),
                    balance_minor: inputs.balance_minor,
                    carrier: carrier.as_ref().map(|c| c.carrier.clone()).unwrap_or_default(),
                    province: carrier.map(|c| c.province).unwrap_or_default(),
                    bound_at: b.bound_at,
                    entry_at: None,
                    freeze_until: None,
                    detected_at: at,
                    evidence: 1,
                }
            }
        };
        let a = NewAudit::new(
            at,
            "system",
            "case.hook",
            format!("phone:{}", mask::phone(&b.phone)),
            json!({ "source": source }),
        );
        let ids = self.store().upsert_cases(&[case], &[], a).await?;
        ids.first().copied().ok_or_else(|| data_error("case id"))
    }

    fn budget_of(
        &self,
        attempts: &[store::AttemptRow],
        kind: &str,
        card_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> BudgetState {
        let list: Vec<Attempt> = attempts
            .iter()
            .filter(|a| a.kind == kind && card_hash.is_none_or(|h| a.card_hash.as_deref() == Some(h)))
            .map(|a| Attempt { at: a.at, passed: a.passed })
            .collect();
        self.workflow().budget.state(&list, now)
    }

    async fn force_unbind_start(
        &self,
        actor: &str,
        case_id: Uuid,
        c: Claimant,
        now: DateTime<Utc>,
    ) -> Result<ForceUnbindState, ApiError> {
        let name = c.name.trim().to_owned();
        if name.is_empty() {
            return Err(ApiError::InvalidInput { field: "name".into(), problem: InputProblem::Required });
        }
        let id = IdNumber::parse(&c.id_number).map_err(|e| invalid("id_number", e.to_string()))?;
        let phone = String::from(Phone::parse(&c.phone).map_err(|e| invalid("phone", e.to_string()))?);
        let f = self
            .store()
            .case_facts(case_id)
            .await?
            .ok_or(ApiError::NotFound { what: format!("case {case_id}") })?;
        if phone != f.case.phone {
            return Err(invalid("phone", "not this case's number"));
        }
        if !status_of(&f.case)?.is_active() {
            return Err(ApiError::Conflict { what: format!("case is {}", f.case.status) });
        }
        let claimant_hash = self.vault().keyed_hash(id.as_str());
        let claimant =
            Claimant { name: name.clone(), id_number: id.as_str().to_owned(), phone: phone.clone() };
        let mut state = ForceUnbindState {
            wizard_id: Uuid::now_v7(),
            case_id,
            phone_masked: mask::phone(&phone),
            carrier_check: None,
            twice_tel: None,
            carrier_passed: false,
            bank_checks: Vec::new(),
            bank_passed: false,
            claimant_budget: self.workflow().budget.state(&[], now),
            card_budget: None,
            same_person: false,
            outcome: None,
        };
        let mut checks = Vec::new();
        let claimant_masked =
            json!({ "name": mask::name(&name), "id_number": id.masked(), "phone": mask::phone(&phone) });
        if f.customer.id_number_hash.as_deref() == Some(claimant_hash.as_str()) {
            // Same person as the old customer: account recovery, not a recycled number.
            state.same_person = true;
            let a = audit(
                now,
                actor,
                "force_unbind.same_person",
                case_id,
                json!({ "claimant": claimant_masked }),
            );
            self.store().append_audit(a).await?;
            return Ok(state);
        }
        let attempts = self.store().attempts(&claimant_hash, None, now - Duration::hours(48)).await?;
        state.claimant_budget = self.budget_of(&attempts, "carrier3", None, now);
        if let Some(until) = state.claimant_budget.locked_until {
            return Err(ApiError::BudgetExhausted { until });
        }
        let carrier = self.carrier()?;
        let three = carrier
            .three_elements(&name, id.as_str(), &phone)
            .await
            .map_err(|e| gateway_error("carrier", e))?;
        let twice =
            carrier.twice_tel(&phone, f.case.bound_at).await.map_err(|e| gateway_error("carrier", e))?;
        let passed = three.passed() && twice == TwiceTelAnswer::Reassigned;
        let answer = json!({ "three_elements": three, "twice_tel": twice, "since": f.case.bound_at });
        let row = store::AttemptRow {
            id: Uuid::now_v7(),
            kind: "carrier3".into(),
            claimant_hash: claimant_hash.clone(),
            card_hash: None,
            case_id: Some(case_id),
            at: now,
            passed,
            answer: answer.to_string(),
            actor: actor.into(),
        };
        let a = audit(
            now,
            actor,
            "force_unbind.carrier_check",
            case_id,
            json!({ "claimant": claimant_masked, "answer": answer, "passed": passed }),
        );
        self.store().record_attempt(&row, a).await?;
        checks.push(json!({ "check": "carrier_3_elements", "at": now, "by": actor, "inputs": claimant_masked, "answer": answer, "passed": passed }));
        let mut all = attempts;
        all.push(row);
        state.claimant_budget = self.budget_of(&all, "carrier3", None, now);
        state.carrier_check = Some(three);
        state.twice_tel = Some(twice);
        state.carrier_passed = passed;
        let wizard = Wizard {
            actor: actor.into(),
            case_id,
            claimant,
            claimant_hash,
            created_at: now,
            state: state.clone(),
            checks,
        };
        let mut wizards = self.workflow().wizards.lock().map_err(|_| data_error("wizards"))?;
        wizards.retain(|_, w| now - w.created_at < Duration::minutes(WIZARD_MINUTES));
        wizards.insert(state.wizard_id, wizard);
        Ok(state)
    }

    fn take_wizard(&self, actor: &str, wizard_id: Uuid, now: DateTime<Utc>) -> Result<Wizard, ApiError> {
        let mut wizards = self.workflow().wizards.lock().map_err(|_| data_error("wizards"))?;
        match wizards.remove(&wizard_id) {
            Some(w) if w.actor == actor && now - w.created_at < Duration::minutes(WIZARD_MINUTES) => Ok(w),
            Some(w) if w.actor != actor => {
                wizards.insert(wizard_id, w);
                Err(ApiError::Conflict { what: "another operator's wizard".into() })
            }
            _ => Err(ApiError::NotFound { what: "force-unbind wizard (expired: start again)".into() }),
        }
    }

    fn put_wizard(&self, w: Wizard) -> Result<(), ApiError> {
        let mut wizards = self.workflow().wizards.lock().map_err(|_| data_error("wizards"))?;
        wizards.insert(w.state.wizard_id, w);
        Ok(())
    }

    async fn force_unbind_bank(
        &self,
        actor: &str,
        wizard_id: Uuid,
        card: &str,
        now: DateTime<Utc>,
    ) -> Result<ForceUnbindState, ApiError> {
        let mut w = self.take_wizard(actor, wizard_id, now)?;
        let result = self.bank_step(actor, &mut w, card, now).await;
        let state = w.state.clone();
        self.put_wizard(w)?;
        result.map(|()| state)
    }

    async fn bank_step(
        &self,
        actor: &str,
        w: &mut Wizard,
        card: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        if !w.state.carrier_passed || w.state.same_person {
            return Err(ApiError::Conflict { what: "the carrier check has not passed".into() });
        }
        let card: String = card.chars().filter(|c| !c.is_whitespace()).collect();
        if !(16..=19).contains(&card.len()) || !card.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("card_number", "16 to 19 digits"));
        }
        let card_hash = self.vault().keyed_hash(&card);
        let card_masked = mask::card(&card[..6], &card[card.len() - 4..], card.len());
        let attempts =
            self.store().attempts(&w.claimant_hash, Some(&card_hash), now - Duration::hours(48)).await?;
        let claimant_budget = self.budget_of(
            &attempts.iter().filter(|a| a.claimant_hash == w.claimant_hash).cloned().collect::<Vec<_>>(),
            "bank4",
            None,
            now,
        );
        let card_budget = self.budget_of(&attempts, "bank4", Some(&card_hash), now);
        w.state.claimant_budget = claimant_budget;
        w.state.card_budget = Some(card_budget);
        if let Some(until) = claimant_budget.locked_until.max(card_budget.locked_until) {
            return Err(ApiError::BudgetExhausted { until });
        }
        let req = FourElementRequest {
            name: w.claimant.name.clone(),
            id_number: w.claimant.id_number.clone(),
            card_number: card.clone(),
            phone: w.claimant.phone.clone(),
        };
        let answer = self.bank()?.four_elements(&req).await.map_err(|e| gateway_error("bank", e))?;
        let passed = answer.result == BankAnswer::Match;
        let row = store::AttemptRow {
            id: Uuid::now_v7(),
            kind: "bank4".into(),
            claimant_hash: w.claimant_hash.clone(),
            card_hash: Some(card_hash.clone()),
            case_id: Some(w.case_id),
            at: now,
            passed,
            answer: json!({ "result": answer.result, "bank": answer.bank_name, "card": card_masked })
                .to_string(),
            actor: actor.into(),
        };
        let a = audit(
            now,
            actor,
            "force_unbind.bank_check",
            w.case_id,
            json!({ "card": card_masked, "result": answer.result, "bank": answer.bank_name }),
        );
        self.store().record_attempt(&row, a).await?;
        w.checks.push(json!({
            "check": "bank_4_elements", "at": now, "by": actor,
            "inputs": { "name": mask::name(&w.claimant.name), "id_number": mask::id_number(&w.claimant.id_number),
                        "card": card_masked, "reserved_phone": mask::phone(&w.claimant.phone) },
            "answer": { "result": answer.result, "bank": answer.bank_name }, "passed": passed,
        }));
        let mut all = attempts;
        all.push(row);
        w.state.claimant_budget = self.budget_of(
            &all.iter().filter(|a| a.claimant_hash == w.claimant_hash).cloned().collect::<Vec<_>>(),
            "bank4",
            None,
            now,
        );
        w.state.card_budget = Some(self.budget_of(&all, "bank4", Some(&card_hash), now));
        w.state.bank_checks.push((card_masked, answer.result, answer.bank_name));
        w.state.bank_passed |= passed;
        Ok(())
    }

    async fn force_unbind_submit(
        &self,
        actor: &str,
        wizard_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<ForceUnbindState, ApiError> {
        let mut w = self.take_wizard(actor, wizard_id, now)?;
        if !(w.state.carrier_passed && w.state.bank_passed) {
            self.put_wizard(w)?;
            return Err(ApiError::Conflict {
                what: "both the carrier and the bank check must pass first".into(),
            });
        }
        let row = self.case_row(w.case_id).await?;
        let settings = self.recycle_settings().await?;
        let note = format!("新号主 {} 通过运营商三要素与银行卡四要素", mask::name(&w.claimant.name));
        let checks = serde_json::Value::Array(w.checks.clone());
        let outcome = if settings.four_eyes.needs_checker(row.balance_minor) {
            let decision = CaseDecision::ForceUnbind { note: note.clone() };
            let t = Transition {
                case_id: w.case_id,
                from: vec!["open".into(), "escalated".into()],
                holder: None,
                not_proposed_by: None,
                now,
                status: "pending_approval".into(),
                proposed: Some((
                    json!({ "decision": decision, "checks": checks }).to_string(),
                    actor.to_owned(),
                )),
                decision: None,
                keep_claim: false,
                event: ("propose".into(), json!({ "decision": decision }).to_string()),
            };
            let a = audit(now, actor, "case.propose", w.case_id, json!({ "decision": "force_unbind" }));
            self.store().transition(t, a).await?;
            DecisionOutcome::PendingApproval
        } else {
            self.apply_unbind(
                &row,
                "force_unbound",
                "force_unbind",
                &note,
                actor,
                None,
                Some(checks),
                &["open", "escalated"],
                now,
            )
            .await?;
            DecisionOutcome::Applied
        };
        w.state.outcome = Some(outcome);
        let state = w.state.clone();
        // The clear inputs are no longer needed: the wizard ends here.
        drop(w);
        Ok(state)
    }

    /// Maker: a fresh carrier 3-element check of the blocked user's customer with the
    /// number they hold now; if it passes, the request waits for a checker.
    async fn request_sms_unblock(
        &self,
        actor: &str,
        user_id: Uuid,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let phone = String::from(Phone::parse(phone).map_err(|e| invalid("phone", e.to_string()))?);
        if self.store().sms_block(user_id).await?.is_none() {
            return Err(ApiError::Conflict { what: "the user has no SMS-reset block".into() });
        }
        let user = self
            .store()
            .user(user_id)
            .await?
            .ok_or(ApiError::NotFound { what: format!("user {user_id}") })?;
        let customer = self
            .store()
            .customer(user.customer_id)
            .await?
            .ok_or(ApiError::NotFound { what: "customer".into() })?;
        let sealed = customer
            .id_number_enc
            .as_deref()
            .ok_or_else(|| invalid("user_id", "the customer is not real-name verified"))?;
        let id = self.vault().open(sealed).map_err(|e| ApiError::Database { message: e.to_string() })?;
        let answer = self
            .carrier()?
            .three_elements(&customer.name, &id, &phone)
            .await
            .map_err(|e| gateway_error("carrier", e))?;
        let target = format!("user:{user_id}");
        let detail = json!({ "phone": mask::phone(&phone), "answer": answer, "passed": answer.passed() });
        if !answer.passed() {
            self.store()
                .append_audit(NewAudit::new(now, actor, "sms_unblock.check_failed", target, detail))
                .await?;
            return Err(ApiError::Conflict {
                what: "the carrier check of the customer with this number failed".into(),
            });
        }
        let pending =
            json!({ "requested_by": actor, "phone": phone, "answer": answer, "at": now }).to_string();
        let a = NewAudit::new(now, actor, "sms_unblock.request", target, detail);
        Ok(self.store().request_sms_unblock(user_id, &pending, a).await?)
    }

    /// Checker: lifts the block and binds the checked number, never for their own request.
    async fn approve_sms_unblock(
        &self,
        checker: &str,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let block = self
            .store()
            .sms_block(user_id)
            .await?
            .ok_or(ApiError::Conflict { what: "the user has no SMS-reset block".into() })?;
        let pending: serde_json::Value = block
            .lift_detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .ok_or(ApiError::Conflict { what: "nobody asked to lift this block".into() })?;
        if pending["requested_by"].as_str() == Some(checker) {
            return Err(ApiError::Conflict { what: "the maker cannot approve their own request".into() });
        }
        let phone = pending["phone"].as_str().map(str::to_owned);
        let a = NewAudit::new(
            now,
            checker,
            "sms_unblock.approve",
            format!("user:{user_id}"),
            json!({
                "maker": pending["requested_by"], "phone": phone.as_deref().map(mask::phone),
            }),
        );
        Ok(self.store().lift_sms_block(user_id, checker, phone.as_deref(), now, a).await?)
    }

    async fn export_evidence(
        &self,
        actor: &str,
        case_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Response, ApiError> {
        let detail = self.case_detail(case_id, now).await?;
        let stored = self.store().evidence_pack(case_id).await?;
        let pack_json = match &stored {
            Some((_, json)) => json.clone(),
            None => json!({
                "case_id": case_id, "phone": detail.row.phone_masked, "status": detail.row.status,
                "decision": detail.decision, "generated_at": now,
            })
            .to_string(),
        };
        let pack: serde_json::Value =
            serde_json::from_str(&pack_json).map_err(|_| data_error("evidence pack"))?;
        let full =
            json!({ "pack": pack, "timeline": detail.timeline, "exported_by": actor, "exported_at": now });
        let text = serde_json::to_string_pretty(&full).map_err(|e| data_error(&e.to_string()))?;
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        let dir = &self.workflow().evidence_dir;
        std::fs::create_dir_all(dir)
            .map_err(|e| ApiError::Unavailable { message: format!("{}: {e}", dir.display()) })?;
        let json_path = dir.join(format!("evidence-{case_id}.json"));
        let html_path = dir.join(format!("evidence-{case_id}.html"));
        let write = |p: &PathBuf, s: &str| {
            std::fs::write(p, s)
                .map_err(|e| ApiError::Unavailable { message: format!("{}: {e}", p.display()) })
        };
        write(&json_path, &text)?;
        write(&html_path, &evidence_html(&detail, &pack, &sha256, actor, now))?;
        let a = audit(
            now,
            actor,
            "evidence.export",
            case_id,
            json!({
                "sha256": sha256, "pack_sha256": stored.map(|s| s.0),
            }),
        );
        self.store().append_audit(a).await?;
        Ok(Response::Evidence {
            sha256,
            json_path: json_path.display().to_string(),
            html_path: html_path.display().to_string(),
        })
    }
}

fn gateway_event(
    phone: &str,
    carrier: &str,
    province: &str,
    answer: TwiceTelAnswer,
    now: DateTime<Utc>,
) -> CarrierEventRow {
    let name =
        serde_json::to_value(answer).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    CarrierEventRow {
        id: Uuid::now_v7(),
        phone: phone.into(),
        carrier: carrier.into(),
        province: province.into(),
        event: format!("gateway:{name}"),
        event_at: now,
        entry_at: None,
        source: "gateway".into(),
    }
}

/// One timeline per phone: everything we know about the number, oldest first.
fn timeline(f: &CaseFacts) -> Vec<TimelineEntry> {
    let mut t = Vec::new();
    let mut push = |at: DateTime<Utc>, kind: &str, detail: String| {
        t.push(TimelineEntry { at, kind: kind.into(), detail })
    };
    let short = |id: Uuid| id.to_string()[..8].to_owned();
    push(f.user.registered_at, "user.registered", format!("user {}", short(f.user.id)));
    if let Some(at) = f.user.last_login_at {
        push(at, "user.login", format!("user {}", short(f.user.id)));
    }
    for b in &f.bindings {
        push(b.bound_at, "binding.bound", format!("user {}", short(b.user_id)));
        if let Some(at) = b.unbound_at {
            push(
                at,
                "binding.unbound",
                format!("user {} · {}", short(b.user_id), b.unbind_reason.clone().unwrap_or_default()),
            );
        }
    }
    for e in &f.carrier_events {
        let entry = e.entry_at.map(|t| format!(" · 入网 {}", t.format("%Y-%m-%d"))).unwrap_or_default();
        push(
            e.event_at,
            &format!("carrier.{}", e.event),
            format!("{} {}{entry} · {}", e.carrier, e.province, e.source),
        );
    }
    for h in &f.hook_events {
        push(
            h.at,
            &format!("hook.{}", h.kind),
            format!("{} · {}", if h.allowed { "allowed" } else { "blocked" }, h.reason),
        );
    }
    for k in &f.cards {
        let who = if k.user_id == f.user.id { "old user" } else { "other user" };
        push(
            k.bound_at,
            "card.reserved_phone",
            format!(
                "{} {} · {} · {who} · {}",
                k.bank_name,
                mask::card(&k.bin, &k.last4, usize::try_from(k.card_len).unwrap_or(16)),
                mask_agreement(&k.agreement_no),
                k.status
            ),
        );
    }
    for d in &f.direct_debits {
        push(d.signed_at, "debit.signed", format!("{} · user {}", d.carrier, short(d.user_id)));
        if let Some(at) = d.ended_at {
            push(at, "debit.ended", d.end_reason.clone().unwrap_or_default());
        }
    }
    for s in &f.sms_blocks {
        push(s.blocked_at, "sms.blocked", format!("{} · {}", s.reason, s.blocked_by));
        if let Some(at) = s.lifted_at {
            push(at, "sms.lifted", s.lifted_by.clone().unwrap_or_default());
        }
    }
    for a in &f.attempts {
        push(
            a.at,
            &format!("check.{}", a.kind),
            format!("{} · {} · {}", if a.passed { "passed" } else { "failed" }, a.actor, a.answer),
        );
    }
    for e in &f.case_events {
        push(e.at, &format!("case.{}", e.kind), format!("{} · {}", e.actor, e.detail));
    }
    t.sort_by_key(|e| e.at);
    t
}

/// Agreement numbers identify a payment relationship: show the head and tail only.
fn mask_agreement(no: &str) -> String {
    let chars: Vec<char> = no.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    format!(
        "{}****{}",
        chars[..6].iter().collect::<String>(),
        chars[chars.len() - 2..].iter().collect::<String>()
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn evidence_html(
    d: &CaseDetail,
    pack: &serde_json::Value,
    sha256: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> String {
    let mut rows = String::new();
    for e in &d.timeline {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            (e.at + Duration::hours(8)).format("%Y-%m-%d %H:%M:%S"),
            html_escape(&e.kind),
            html_escape(&e.detail)
        ));
    }
    let pack_text = serde_json::to_string_pretty(pack).unwrap_or_default();
    format!(
        "<!doctype html><meta charset=\"utf-8\"><title>证据包 {id}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px 8px}}table{{border-collapse:collapse}}</style>\
         <h1>二次号案件证据包</h1><p>案件 {id} · 号码 {phone} · 状态 {status:?} · 原用户 {name}</p>\
         <p>导出人 {actor} · 导出时间 {now} · JSON SHA-256 <code>{sha256}</code>（与审计日志一致）</p>\
         <h2>核验与决定</h2><pre>{pack}</pre><h2>时间线（北京时间）</h2>\
         <table><tr><th>时间</th><th>事项</th><th>详情</th></tr>\n{rows}</table>",
        id = d.row.id,
        phone = html_escape(&d.row.phone_masked),
        status = d.row.status,
        name = html_escape(&d.old_name_masked),
        actor = html_escape(actor),
        pack = html_escape(&pack_text),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_numbers_are_masked() {
        assert_eq!(mask_agreement("QP2026010112345678"), "QP2026****78");
        assert_eq!(mask_agreement("QP1"), "***");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(html_escape("<b>&\""), "&lt;b&gt;&amp;&quot;");
    }
}
