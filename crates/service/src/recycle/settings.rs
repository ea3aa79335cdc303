//! The shared workflow settings. Numbers are bounded; a change of the four-eyes
//! rule waits for a second supervisor, so no one person can switch the control off.

use super::RecycledService;
use crate::error::{Result, conflict, data_error, invalid};
use chrono::{DateTime, Utc};
use domain::recycle::{RecycleSettings, SettingsProposal, WorkflowSettings};
use domain::{Conflict, InputProblem};
use serde_json::json;
use store::NewAudit;
use uuid::Uuid;

/// Settings key of the workflow settings.
const SETTINGS_KEY: &str = "recycle";

/// Settings as stored may predate the bounds (or be edited by hand): out of bounds,
/// four-eyes falls back to "always" and every number to its nearest bound.
fn in_bounds(mut s: WorkflowSettings) -> WorkflowSettings {
    if !s.current.within_bounds() {
        tracing::warn!("stored workflow settings out of bounds: four-eyes always, numbers clamped");
        let c = &mut s.current;
        c.four_eyes = domain::recycle::FourEyesPolicy::Always;
        c.freeze_days = c.freeze_days.clamp(0, RecycleSettings::MAX_FREEZE_DAYS);
        c.lease_minutes = c.lease_minutes.clamp(1, RecycleSettings::MAX_LEASE_MINUTES);
        c.sla_hours = c.sla_hours.clamp(1, RecycleSettings::MAX_SLA_HOURS);
    }
    s
}

impl RecycledService {
    /// The workflow settings in force (defaults until a supervisor changes them).
    pub async fn settings(&self) -> Result<RecycleSettings> {
        Ok(self.workflow_settings().await?.0.current)
    }

    /// The settings in force and any pending four-eyes change, with the stored text
    /// (what a change must still find to replace it).
    pub(super) async fn workflow_settings(&self) -> Result<(WorkflowSettings, Option<String>)> {
        let Some(stored) = self.store.setting(SETTINGS_KEY).await? else {
            return Ok((WorkflowSettings { current: RecycleSettings::default(), pending: None }, None));
        };
        let settings = serde_json::from_str::<WorkflowSettings>(&stored)
            // Settings written before proposals existed are the bare settings.
            .or_else(|_| {
                serde_json::from_str::<RecycleSettings>(&stored)
                    .map(|current| WorkflowSettings { current, pending: None })
            })
            .map_err(|_| data_error("settings"))?;
        Ok((in_bounds(settings), Some(stored)))
    }

    async fn write_settings(
        &self,
        expected: Option<&str>,
        settings: &WorkflowSettings,
        audit: NewAudit,
    ) -> Result<()> {
        let value = serde_json::to_string(settings).map_err(|_| data_error("settings"))?;
        Ok(self.store.swap_setting(SETTINGS_KEY, expected, &value, audit).await?)
    }

    /// Applies `new` at once, or — when it changes the four-eyes rule — keeps it as a
    /// proposal for a second supervisor.
    pub(super) async fn update_settings(
        &self,
        actor: &str,
        new: RecycleSettings,
        now: DateTime<Utc>,
    ) -> Result<WorkflowSettings> {
        if !new.within_bounds() {
            return Err(invalid("settings", InputProblem::OutOfRange));
        }
        let (mut settings, stored) = self.workflow_settings().await?;
        // Freeze, lease and SLA apply at once; the four-eyes rule only by proposal.
        let in_force = settings.current.four_eyes;
        settings.current = RecycleSettings { four_eyes: in_force, ..new };
        let audit = if new.four_eyes == in_force {
            NewAudit::new(now, actor, "settings.update", "settings:recycle", json!({ "settings": new }))
        } else {
            let proposal =
                SettingsProposal { id: Uuid::now_v7(), settings: new, by: actor.to_owned(), at: now };
            let detail = json!({ "proposal": proposal.id, "four_eyes": new.four_eyes, "in_force": in_force });
            settings.pending = Some(proposal);
            NewAudit::new(now, actor, "settings.propose", "settings:recycle", detail)
        };
        self.write_settings(stored.as_deref(), &settings, audit).await?;
        Ok(settings)
    }

    /// A second supervisor puts the proposal they reviewed in force.
    pub(super) async fn approve_settings(
        &self,
        checker: &str,
        proposal_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<WorkflowSettings> {
        let (mut settings, stored) = self.workflow_settings().await?;
        let Some(proposal) = settings.pending.take().filter(|p| p.id == proposal_id) else {
            return Err(conflict(Conflict::Changed));
        };
        if proposal.by == checker {
            let detail = json!({ "proposal": proposal.id, "reason": "maker_is_checker" });
            self.store
                .append_audit(NewAudit::new(
                    now,
                    checker,
                    "settings.approve_refused",
                    "settings:recycle",
                    detail,
                ))
                .await?;
            return Err(conflict(Conflict::MakerIsChecker));
        }
        // Only the rule the proposal was about: other settings may have moved since.
        settings.current.four_eyes = proposal.settings.four_eyes;
        let detail = json!({ "proposal": proposal.id, "maker": proposal.by, "four_eyes": proposal.settings.four_eyes });
        let audit = NewAudit::new(now, checker, "settings.approve", "settings:recycle", detail);
        self.write_settings(stored.as_deref(), &settings, audit).await?;
        Ok(settings)
    }
}
