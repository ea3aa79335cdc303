//! Carrier-file imports as background jobs: the UI polls their state.

use super::RecycledService;
use super::screening::screen_carrier_file;
use crate::error::{Result, data_error, invalid, not_found};
use crate::intake::{ParseFailure, parse_carrier_csv};
use chrono::{DateTime, Utc};
use domain::cases::ImportState;
use domain::{ApiError, Entity, InputProblem};
use parking_lot::Mutex;
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use store::NewAudit;
use uuid::Uuid;

/// Import jobs by id, shared with the tasks that run them.
#[derive(Default, Clone)]
pub(super) struct Jobs(Arc<Mutex<HashMap<Uuid, ImportState>>>);

impl Jobs {
    fn set(&self, job_id: Uuid, state: ImportState) {
        self.0.lock().insert(job_id, state);
    }

    fn get(&self, job_id: Uuid) -> Option<ImportState> {
        self.0.lock().get(&job_id).cloned()
    }
}

impl RecycledService {
    pub(super) fn import_state(&self, job_id: Uuid) -> Result<ImportState> {
        self.jobs.get(job_id).ok_or_else(|| not_found(Entity::ImportJob))
    }

    pub(super) async fn start_import(&self, actor: &str, path: PathBuf, now: DateTime<Utc>) -> Result<Uuid> {
        let meta = std::fs::metadata(&path)
            .map_err(|e| invalid("path", InputProblem::Unreadable { detail: e.to_string() }))?;
        if !meta.is_file() {
            return Err(invalid("path", InputProblem::NotAFile));
        }
        if meta.len() > crate::intake::MAX_FILE_BYTES {
            return Err(invalid(
                "path",
                InputProblem::FileTooLarge { max_bytes: crate::intake::MAX_FILE_BYTES },
            ));
        }
        let file_name =
            path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let job_id = Uuid::now_v7();
        let jobs = self.jobs.clone();
        jobs.set(job_id, ImportState::Reading { bytes_read: 0, total_bytes: meta.len(), lines: 0 });
        let store = self.store.clone();
        let settings = self.settings().await?;
        let actor = actor.to_owned();
        tokio::spawn(async move {
            let (total, progress_jobs, name) = (meta.len(), jobs.clone(), file_name.clone());
            let parsed = tokio::task::spawn_blocking(move || {
                let file = std::fs::File::open(&path).map_err(|e| ParseFailure::Io(e.to_string()))?;
                parse_carrier_csv(&name, std::io::BufReader::new(file), |bytes_read, lines| {
                    progress_jobs.set(job_id, ImportState::Reading { bytes_read, total_bytes: total, lines });
                })
            })
            .await;
            let state = match parsed {
                Err(_) => ImportState::Failed { error: ApiError::from(data_error("import task")) },
                Ok(Err(ParseFailure::Io(detail))) => ImportState::Failed {
                    error: ApiError::InvalidInput {
                        field: "path".into(),
                        problem: InputProblem::Unreadable { detail },
                    },
                },
                Ok(Err(ParseFailure::Lines(errors, error_count))) => {
                    let detail =
                        json!({ "errors": error_count, "first": errors.first().map(ToString::to_string) });
                    let a = NewAudit::new(
                        now,
                        &actor,
                        "carrier.import_rejected",
                        format!("file:{file_name}"),
                        detail,
                    );
                    if let Err(e) = store.append_audit(a).await {
                        tracing::error!(error = %e, "audit of a rejected import failed");
                    }
                    ImportState::Rejected { errors, error_count }
                }
                Ok(Ok(parsed)) => {
                    jobs.set(job_id, ImportState::Writing { lines: parsed.lines.len() as u64 });
                    match screen_carrier_file(store.as_ref(), &parsed, &file_name, &actor, &settings, now)
                        .await
                    {
                        Ok(report) => ImportState::Done(report),
                        Err(e) => ImportState::Failed { error: e.into() },
                    }
                }
            };
            jobs.set(job_id, state);
        });
        Ok(job_id)
    }
}
