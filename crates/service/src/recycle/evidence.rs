//! Evidence packs: the case's checks and decision (stored with the case when it was
//! force-unbound) plus its timeline, written as JSON and as a Chinese HTML page
//! worded by the same catalogue as the UI. The JSON's SHA-256 goes to the audit log.

use super::{RecycledService, case_audit};
use crate::error::{Result, data_error};
use catalogue::{Lang, T};
use chrono::{DateTime, Duration, Utc};
use domain::ApiError;
use domain::Response;
use domain::cases::CaseDetail;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;
use uuid::Uuid;

impl RecycledService {
    pub(super) async fn export_evidence(
        &self,
        actor: &str,
        case_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Response> {
        let detail = self.case_detail(case_id, now).await?;
        let stored = self.store.evidence_pack(case_id).await?;
        let pack: Value = match &stored {
            Some((_, json)) => serde_json::from_str(json).map_err(|_| data_error("evidence pack"))?,
            None => json!({
                "case_id": case_id, "phone": detail.row.phone_masked, "status": detail.row.status,
                "decision": detail.decision, "generated_at": now,
            }),
        };
        let full =
            json!({ "pack": pack, "timeline": detail.timeline, "exported_by": actor, "exported_at": now });
        let text = serde_json::to_string_pretty(&full).map_err(|_| data_error("evidence pack"))?;
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        let dir = &self.workflow.evidence_dir;
        let json_path = dir.join(format!("evidence-{case_id}.json"));
        let html_path = dir.join(format!("evidence-{case_id}.html"));
        write(dir, None)?;
        write(&json_path, Some(&text))?;
        write(&html_path, Some(&evidence_html(&detail, &pack, &sha256, actor, now)))?;
        let detail = json!({ "sha256": sha256, "pack_sha256": stored.map(|s| s.0) });
        self.store.append_audit(case_audit(now, actor, "evidence.export", case_id, detail)).await?;
        Ok(Response::Evidence {
            sha256,
            json_path: json_path.display().to_string(),
            html_path: html_path.display().to_string(),
        })
    }
}

/// Writes `text` to `path`, or creates the folder `path` when `text` is `None`.
/// Evidence names people (masked) and checks: readable by the owner only.
fn write(path: &Path, text: Option<&str>) -> Result<()> {
    let done = match text {
        Some(text) => write_private(path, text),
        None => create_private_dir(path),
    };
    done.map_err(|e| ApiError::Unavailable { message: format!("{}: {e}", path.display()) }.into())
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(unix)]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path)
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The pack as a person reads it: in Chinese, the way the case screen says it.
fn evidence_html(d: &CaseDetail, pack: &Value, sha256: &str, actor: &str, now: DateTime<Utc>) -> String {
    let lang = Lang::Zh;
    let beijing = |t: DateTime<Utc>| (t + Duration::hours(8)).format("%Y-%m-%d %H:%M:%S").to_string();
    let mut rows = String::new();
    for e in &d.timeline {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>\n",
            beijing(e.at),
            html_escape(&catalogue::timeline_text(&e.event, lang))
        ));
    }
    let decision = d.decision.as_ref().map(|x| catalogue::decided_text(x, lang)).unwrap_or_default();
    let pack_text = serde_json::to_string_pretty(pack).unwrap_or_default();
    let t = |k: T| k.text(lang);
    format!(
        "<!doctype html><meta charset=\"utf-8\"><title>{title} {id}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px 8px}}table{{border-collapse:collapse}}</style>\
         <h1>{title}</h1><p>{case} {id} · {phone_l} {phone} · {status_l} {status} · {old_l} {name}</p>\
         <p>{decision}</p>\
         <p>{exported_by} {actor} · {exported_at} {now} · JSON SHA-256 <code>{sha256}</code></p>\
         <h2>{checks}</h2><pre>{pack}</pre><h2>{timeline}</h2>\
         <table><tr><th>{time}</th><th>{what}</th></tr>\n{rows}</table>",
        title = t(T::EvidenceTitle),
        case = t(T::EvidenceCase),
        id = d.row.id,
        phone_l = t(T::CaseNumber),
        phone = html_escape(&d.row.phone_masked),
        status_l = t(T::Status),
        status = catalogue::case_status(d.row.status).text(lang),
        old_l = t(T::OldUser),
        name = html_escape(&d.old_name_masked),
        decision = html_escape(&decision),
        exported_by = t(T::EvidenceExportedBy),
        actor = html_escape(actor),
        exported_at = t(T::EvidenceExportedAt),
        now = beijing(now),
        checks = t(T::EvidenceChecks),
        pack = html_escape(&pack_text),
        timeline = t(T::Timeline),
        time = t(T::AuditAt),
        what = t(T::EvidenceWhat),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(html_escape("<b>&\""), "&lt;b&gt;&amp;&quot;");
    }
}
