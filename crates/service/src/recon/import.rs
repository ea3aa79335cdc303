//! Statement files in: read, check (adds up, chains, duplicates, returns), store
//! atomically. A dry run reads and checks only, even for an account the console
//! does not know. A file imported before changes nothing.

use super::{ReconService, audit};
use crate::error::{Result, conflict, invalid};
use crate::vam::yuan;
use chrono::{DateTime, Utc};
use domain::statement::{Location, Statement, StatementError, StatementFinding, StatementProblem};
use domain::suspense::{ImportReport, StatementSummary};
use domain::{ApiError, Conflict, InputProblem};
use sha2::{Digest, Sha256};
use store::{LineRow, NewStatementFile, NewStatementRow, PhysicalRow, day_number};
use uuid::Uuid;

/// The largest statement file read: the parsers' own limit (a camt.053 with a
/// million entries is about 1.2 GB).
pub const MAX_STATEMENT_BYTES: u64 = statements::MAX_BYTES;

/// Account numbers compare without spaces and dashes, case-insensitively (IBANs).
pub(crate) fn normalise_account(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect()
}

/// The physical account a statement's account names: its number, or an IBAN or
/// `BIC/number` that ends with it.
pub(crate) fn physical_for<'a>(physicals: &'a [PhysicalRow], account: &str) -> Option<&'a PhysicalRow> {
    let wanted = normalise_account(account);
    physicals.iter().find(|p| {
        let number = normalise_account(&p.number);
        wanted == number || (wanted.len() > number.len() && wanted.ends_with(&number) && !number.is_empty())
    })
}

fn file_error(file: &str, error: StatementError) -> crate::error::ServiceError {
    ApiError::StatementFile { file: file.to_owned(), error }.into()
}

impl ReconService {
    /// Reads, checks and (unless `dry_run`) stores a statement file.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn import(
        &self,
        actor: &str,
        path: &str,
        account: Option<&str>,
        preset: Option<&str>,
        dry_run: bool,
        acknowledge_difference: bool,
        now: DateTime<Utc>,
    ) -> Result<ImportReport> {
        let file_name = std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.to_owned());
        let unreadable =
            |e: std::io::Error| invalid("path", InputProblem::Unreadable { detail: e.to_string() });
        let size = tokio::fs::metadata(path).await.map_err(unreadable)?.len();
        if size > MAX_STATEMENT_BYTES {
            return Err(file_error(
                &file_name,
                StatementError {
                    at: Location::File,
                    field: String::new(),
                    problem: StatementProblem::TooLarge { max_bytes: MAX_STATEMENT_BYTES },
                },
            ));
        }
        let bytes = tokio::fs::read(path).await.map_err(unreadable)?;
        self.import_bytes(actor, &file_name, &bytes, account, preset, dry_run, acknowledge_difference, now)
            .await
    }

    /// [`Self::import`] of bytes already read (the bench and tests).
    #[allow(clippy::too_many_arguments)]
    pub async fn import_bytes(
        &self,
        actor: &str,
        file_name: &str,
        bytes: &[u8],
        account: Option<&str>,
        preset: Option<&str>,
        dry_run: bool,
        acknowledge_difference: bool,
        now: DateTime<Utc>,
    ) -> Result<ImportReport> {
        let mapping = match preset {
            None => None,
            Some(name) => {
                Some(statements::presets().into_iter().find(|(n, _)| *n == name).map(|(_, m)| m).ok_or_else(
                    || invalid("preset", InputProblem::UnknownChoice { text: name.to_owned() }),
                )?)
            }
        };
        let options = statements::ParseOptions { format: None, mapping, account: account.map(str::to_owned) };
        let parsed = statements::parse(bytes, &options).map_err(|e| file_error(file_name, e))?;
        let Some(format) = parsed.first().map(|s| s.format) else {
            return Err(file_error(
                file_name,
                StatementError { at: Location::File, field: String::new(), problem: StatementProblem::Empty },
            ));
        };
        let digest = hex::encode(Sha256::digest(bytes));
        let physicals = self.store.physical_accounts().await?;
        let repeat = self.store.statement_file_known(&digest).await?;
        let mut summaries = Vec::with_capacity(parsed.len());
        let mut rows = Vec::with_capacity(parsed.len());
        for s in &parsed {
            let named = account.unwrap_or(&s.account);
            let physical = physical_for(&physicals, named);
            let mut findings = s.own_findings();
            let mut replaces = false;
            let mut duplicates = Vec::new();
            if let Some(p) = physical {
                let (from_day, to_day) = days(s);
                replaces = self.store.statement_by_ref(p.id, &s.statement_id).await?.is_some();
                if let Some(prev) = self.store.statement_before(p.id, to_day, &s.statement_id).await? {
                    if let (Some(prev_close), Some(open)) = (prev.closing_minor, s.opening)
                        && prev.to_day < from_day
                        && prev_close != open.amount_minor
                    {
                        findings.push(StatementFinding::ChainBreak {
                            previous: prev.statement_ref.clone(),
                            previous_closing_minor: prev_close,
                            opening_minor: open.amount_minor,
                        });
                    }
                    if prev.to_day >= from_day {
                        findings.push(StatementFinding::Overlap { previous: prev.statement_ref.clone() });
                    }
                    if let (Some(a), Some(b)) = (prev.sequence, s.sequence)
                        && u64::try_from(a).is_ok_and(|a| b > a + 1)
                    {
                        findings
                            .push(StatementFinding::Gap { previous: u64::try_from(a).unwrap_or(0), this: b });
                    }
                }
                let refs: Vec<String> = s.entries.iter().map(|e| e.bank_ref.clone()).collect();
                duplicates = self.store.known_bank_refs(p.id, &s.statement_id, &refs).await?;
                if !duplicates.is_empty() {
                    findings.push(StatementFinding::Duplicates {
                        count: u32::try_from(duplicates.len()).unwrap_or(u32::MAX),
                        bank_refs: duplicates.iter().take(5).cloned().collect(),
                    });
                }
            }
            let difference = findings.iter().find_map(|f| match f {
                StatementFinding::DoesNotAddUp { difference_minor } => Some(*difference_minor),
                _ => None,
            });
            let (credits, debits) = s.entries.iter().filter(|e| e.booked).fold((0i64, 0i64), |(c, d), e| {
                if e.amount_minor >= 0 {
                    (c.saturating_add(e.amount_minor), d)
                } else {
                    (c, d.saturating_sub(e.amount_minor))
                }
            });
            summaries.push(StatementSummary {
                statement_id: s.statement_id.clone(),
                account: crate::vam::views::mask_account(named),
                known_account: physical.is_some(),
                currency: s.currency.clone(),
                version: s.version.clone(),
                opening: s.opening.map(|b| yuan(b.amount_minor)),
                closing: s.closing.map(|b| yuan(b.amount_minor)),
                adds_up: difference.is_none(),
                entries: s.entries.len() as u64,
                credits: yuan(credits),
                debits: yuan(debits),
                findings: findings.clone(),
                replaces,
            });
            if dry_run || repeat {
                continue;
            }
            let Some(p) = physical else {
                return Err(conflict(Conflict::UnknownAccount { account: named.to_owned() }));
            };
            if let Some(difference_minor) = difference
                && !acknowledge_difference
            {
                return Err(conflict(Conflict::StatementDoesNotAddUp {
                    statement_id: s.statement_id.clone(),
                    difference_minor,
                }));
            }
            rows.push(statement_row(s, p.id, actor, difference, &findings, &duplicates));
        }
        if !dry_run && !repeat {
            let file = NewStatementFile {
                id: Uuid::now_v7(),
                digest: digest.clone(),
                file_name: file_name.to_owned(),
                format: format.as_str().to_owned(),
                imported_by: actor.to_owned(),
                imported_at: now,
            };
            let lines: usize = rows.iter().map(|r| r.lines.len()).sum();
            let detail = serde_json::json!({
                "file": file_name, "sha256": digest, "format": format.as_str(),
                "statements": rows.iter().map(|r| &r.statement_ref).collect::<Vec<_>>(), "lines": lines,
                "acknowledged_difference": rows.iter().any(|r| r.difference_minor.is_some()),
            });
            self.store
                .store_statements(
                    &file,
                    &rows,
                    audit(now, actor, "recon.statement_import", format!("file:{file_name}"), detail),
                )
                .await?;
        }
        Ok(ImportReport { format, dry_run, repeat, statements: summaries })
    }
}

/// First and last booking day (the statement's own period when it names one).
fn days(s: &Statement) -> (i32, i32) {
    let first = s.from.or_else(|| s.entries.iter().map(|e| e.booking_date).min());
    let last = s.to.or_else(|| s.entries.iter().map(|e| e.booking_date).max());
    let fallback = s.closing.or(s.opening).map(|b| b.date);
    let from = first.or(fallback).map(day_number).unwrap_or(0);
    (from, last.or(fallback).map(day_number).unwrap_or(from))
}

fn statement_row(
    s: &Statement,
    physical_id: Uuid,
    actor: &str,
    difference: Option<i64>,
    findings: &[StatementFinding],
    duplicates: &[String],
) -> NewStatementRow {
    let id = Uuid::now_v7();
    let (from_day, to_day) = days(s);
    let duplicate: std::collections::HashSet<&str> = duplicates.iter().map(String::as_str).collect();
    let lines = s
        .entries
        .iter()
        .filter(|e| e.booked)
        .enumerate()
        .map(|(i, e)| LineRow {
            id: Uuid::now_v7(),
            statement_id: id,
            physical_id,
            seq: i32::try_from(i).unwrap_or(i32::MAX),
            at: serde_json::to_string(&e.at).unwrap_or_default(),
            amount_minor: e.amount_minor,
            booking_day: day_number(e.booking_date),
            bank_ref: e.bank_ref.clone(),
            end_to_end: e.end_to_end.clone(),
            counterparty_name: e.counterparty_name.clone(),
            counterparty_account: e.counterparty_account.clone(),
            addressed_account: e.addressed_account.as_deref().map(normalise_account),
            remittance: e.remittance.clone(),
            bank_code: e.bank_code.clone(),
            reversal: e.reversal,
            return_reason: e.return_reason.clone(),
            fee_minor: e.fee_minor.unwrap_or(0),
            our_ref: e.our_ref.clone(),
            state: if duplicate.contains(e.bank_ref.as_str()) { "duplicate" } else { "open" }.to_owned(),
        })
        .collect();
    NewStatementRow {
        id,
        physical_id,
        statement_ref: s.statement_id.clone(),
        format: s.format.as_str().to_owned(),
        version: s.version.clone(),
        currency: s.currency.clone(),
        sequence: s.sequence.and_then(|n| i64::try_from(n).ok()),
        opening_minor: s.opening.map(|b| b.amount_minor),
        closing_minor: s.closing.map(|b| b.amount_minor),
        from_day,
        to_day,
        difference_minor: difference,
        acknowledged_by: difference.map(|_| actor.to_owned()),
        findings: serde_json::to_string(findings).unwrap_or_default(),
        lines,
    }
}
