//! Screening a checked carrier file against our bindings: the detection rule per
//! line, cases merged per (phone, old user), risk scored, written in one transaction.

use crate::error::Result;
use crate::intake::ParsedFile;
use chrono::{DateTime, Utc};
use domain::cases::ImportReport;
use domain::recycle::{CarrierFact, CaseSource, RecycleSettings, RiskInputs, assess, risk_score};
use serde_json::json;
use std::collections::HashMap;
use store::{
    BoundPhone, CarrierEventRow, CarrierImportRow, CaseCore, Detection, NewAudit, NewCase, RiskFacts, Store,
};
use uuid::Uuid;

/// The risk formula's inputs from what the store knows about a user (none: zeros).
pub(super) fn risk_inputs(f: Option<&RiskFacts>, now: DateTime<Utc>) -> RiskInputs {
    RiskInputs {
        balance_minor: f.map_or(0, |f| f.balance_minor),
        active_cards: f.map_or(0, |f| f.active_cards),
        direct_debits: f.map_or(0, |f| f.direct_debits),
        days_since_login: f.and_then(|f| f.last_login_at).map(|t| (now - t).num_days()),
    }
}

/// One carrier fact about a bound phone, with where it came from.
pub struct FactLine {
    /// The binding the fact is about.
    pub bound: BoundPhone,
    /// The fact.
    pub fact: CarrierFact,
    /// Carrier name.
    pub carrier: String,
    /// Province.
    pub province: String,
    /// Index of the event row that records it.
    pub event_index: usize,
}

/// Builds the case rows to write for carrier facts about bound phones: applies the
/// rule, merges facts per (phone, old user), scores risk.
pub async fn detect(
    store: &dyn Store,
    facts: Vec<FactLine>,
    settings: &RecycleSettings,
    now: DateTime<Utc>,
) -> Result<Vec<Detection>> {
    let mut merged: HashMap<(String, Uuid), Detection> = HashMap::new();
    for l in facts {
        let Some(a) = assess(l.bound.bound_at, &l.fact, settings.freeze_days) else { continue };
        let d = merged.entry((l.bound.phone.clone(), l.bound.user_id)).or_insert_with(|| Detection {
            case: new_case(&l.bound, a.source, &l.carrier, &l.province, now),
            events: Vec::new(),
        });
        let core = &mut d.case.core;
        core.manual_only |= a.manual_only;
        core.entry_at = core.entry_at.max(l.fact.entry_at.filter(|e| *e > l.bound.bound_at));
        core.freeze_until = core.freeze_until.max(a.freeze_until);
        d.events.push(l.event_index);
        d.case.evidence += 1;
    }
    let mut detections: Vec<Detection> = merged.into_values().collect();
    let users: Vec<Uuid> = detections.iter().map(|d| d.case.core.old_user_id).collect();
    let facts: HashMap<Uuid, RiskFacts> =
        store.risk_facts(&users).await?.into_iter().map(|f| (f.user_id, f)).collect();
    for d in &mut detections {
        if let Some(f) = facts.get(&d.case.core.old_user_id) {
            score(&mut d.case.core, risk_inputs(Some(f), now));
        }
    }
    Ok(detections)
}

/// A case for `bound`, unscored and with no evidence yet.
pub(super) fn new_case(
    bound: &BoundPhone,
    source: CaseSource,
    carrier: &str,
    province: &str,
    now: DateTime<Utc>,
) -> NewCase {
    let core = CaseCore {
        phone: bound.phone.clone(),
        old_user_id: bound.user_id,
        old_customer_id: bound.customer_id,
        source,
        manual_only: false,
        risk_score: 0,
        risk_inputs: String::new(),
        balance_minor: 0,
        carrier: carrier.into(),
        province: province.into(),
        bound_at: bound.bound_at,
        entry_at: None,
        freeze_until: None,
        detected_at: now,
    };
    NewCase { id: Uuid::now_v7(), core, evidence: 0 }
}

/// Sets the case's risk score and the inputs behind it.
pub(super) fn score(case: &mut CaseCore, inputs: RiskInputs) {
    case.risk_score = risk_score(&inputs);
    case.balance_minor = inputs.balance_minor;
    case.risk_inputs = serde_json::to_string(&inputs).unwrap_or_default();
}

/// Per number, the latest time a binding could precede and still be suspect
/// (`None`: a port, manual review whatever the binding time).
fn candidates(parsed: &ParsedFile) -> Vec<(String, Option<DateTime<Utc>>)> {
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
    latest.into_iter().map(|(p, t)| (p.to_owned(), t)).collect()
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
) -> Result<ImportReport> {
    let started = std::time::Instant::now();
    let candidates = candidates(parsed);
    let bound: HashMap<String, BoundPhone> =
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
        let (carrier, province) = (line.carrier.clone(), line.province.clone());
        events.push(CarrierEventRow {
            id: Uuid::now_v7(),
            phone: line.phone.clone(),
            carrier: carrier.clone(),
            province: province.clone(),
            event: line.event.as_str().into(),
            event_at: line.event_at,
            entry_at: line.entry_at,
            source: source.clone(),
        });
        facts.push(FactLine { bound: b.clone(), fact, carrier, province, event_index: events.len() - 1 });
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
    let detail = json!({ "file": file_name, "sha256": parsed.sha256, "lines": parsed.lines.len(), "matched": matched });
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
