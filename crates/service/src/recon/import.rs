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

/// The physical account a statement's account names: its number exactly, or an
/// IBAN (two letters, two check digits, then the domestic number) whose domestic
/// part is it. Never a number that merely ends the same way.
pub(crate) fn physical_for<'a>(physicals: &'a [PhysicalRow], account: &str) -> Option<&'a PhysicalRow> {
    let wanted = normalise_account(account);
    let bban = iban_bban(&wanted);
    physicals.iter().find(|p| {
        let number = normalise_account(&p.number);
        !number.is_empty() && (wanted == number || bban == Some(number.as_str()))
    })
}

/// The domestic part of an IBAN-shaped account (`CN12` + number), if it is one.
fn iban_bban(account: &str) -> Option<&str> {
    let b = account.as_bytes();
    (b.len() > 4 && b[..2].iter().all(u8::is_ascii_uppercase) && b[2..4].iter().all(u8::is_ascii_digit))
        .then(|| &account[4..])
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
        let meta = tokio::fs::metadata(path).await.map_err(unreadable)?;
        // A regular file only: a device or FIFO would read without end or block.
        if !meta.is_file() {
            return Err(invalid(
                "path",
                InputProblem::Unreadable { detail: "not a regular file".to_owned() },
            ));
        }
        let size = meta.len();
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
        let bytes = {
            use tokio::io::AsyncReadExt;
            let file = tokio::fs::File::open(path).await.map_err(unreadable)?;
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            file.take(MAX_STATEMENT_BYTES).read_to_end(&mut bytes).await.map_err(unreadable)?;
            bytes
        };
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
        // Read first as the file names its account; the given account is used only
        // for a file that names none (it never overrides one).
        let mut options = statements::ParseOptions { format: None, mapping, account: None };
        let started = std::time::Instant::now();
        let first = statements::parse(bytes, &options);
        // A file that names no account (a CSV without the column) is read again
        // with the given one.
        let names_none = match &first {
            Ok(parsed) => parsed.iter().any(|s| s.account.trim().is_empty()),
            Err(e) => e.at == Location::File && e.problem == StatementProblem::Missing,
        };
        let parsed = if account.is_some() && names_none {
            options.account = account.map(str::to_owned);
            statements::parse(bytes, &options)
        } else {
            first
        }
        .map_err(|e| file_error(file_name, e))?;
        let parse_ms = started.elapsed().as_millis() as u64;
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
            // `--account` supplies an account the file does not name; it never
            // overrides one the file names (a statement of A booked as B).
            let named = match account {
                Some(given)
                    if !s.account.trim().is_empty()
                        && normalise_account(given) != normalise_account(&s.account) =>
                {
                    return Err(conflict(Conflict::UnknownAccount {
                        account: crate::vam::views::mask_account(given),
                    }));
                }
                Some(given) => given,
                None => &s.account,
            };
            let physical = physical_for(&physicals, named);
            let mut findings = s.own_findings();
            let mut replaces = false;
            let mut duplicates = Vec::new();
            if let Some(p) = physical {
                let (from_day, to_day) = days(s);
                let earlier = self.store.statement_by_ref(p.id, &s.statement_id).await?;
                replaces = earlier.is_some();
                // A statement of a closed day is not replaced: late errors go into
                // the current period.
                if let Some(e) = &earlier
                    && !dry_run
                {
                    for d in e.from_day..=e.to_day.min(e.from_day + 62) {
                        if self.store.day_closed(p.id, d).await? {
                            return Err(conflict(Conflict::DayClosed { day: super::run::date_of(d) }));
                        }
                    }
                }
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
                return Err(conflict(Conflict::UnknownAccount {
                    account: crate::vam::views::mask_account(named),
                }));
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
            let started = std::time::Instant::now();
            self.store
                .store_statements(
                    &file,
                    &rows,
                    audit(now, actor, "recon.statement_import", format!("file:{file_name}"), detail),
                )
                .await?;
            tracing::info!(
                lines,
                parse_ms,
                store_ms = started.elapsed().as_millis() as u64,
                "statement stored"
            );
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
