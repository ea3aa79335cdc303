//! What the suspense screens read: the queue, an item with its lines, ranked
//! candidates, history and postings, matches, our items, the daily report with
//! each statement's balance proof, and a closed day's snapshot (made here, kept
//! by the close, compared with the database when the day is shown again).

use super::run::{bank_line, date_of, our_item};
use super::{ReconService, audit};
use crate::error::{Result, conflict, data_error, not_found};
use crate::vam::views::{csv_field, io_error, mask_account, write_private};
use crate::vam::yuan;
use chrono::{DateTime, NaiveDate, Utc};
use domain::Response;
use domain::ledger::business_date;
use domain::recon::suggestions;
use domain::suspense::{
    AgeBucket, CandidateView, ClosedDay, ClosedFacts, DRIFT_ITEMS_SHOWN, DayReport, DriftGroup, DriftItem,
    DriftKind, FoundFacts, LineView, MatchFacts, MatchView, OurItemView, PostingView, ReconReport,
    ReportDaySource, ReportRow, ReportSnapshot, SnapshotCheck, StatementFacts, StatementProof,
    SuspenseEventView, SuspenseFilter, SuspenseItemView, SuspenseKind, SuspensePage, SuspenseRow,
};
use domain::{Conflict, Entity};
use sha2::Digest;
use std::collections::HashMap;
use store::{DayFactsRow, LineRow, OurItemRow, SnapshotRow, SuspenseItemRow, day_number};
use uuid::Uuid;

/// Largest queue page.
pub const MAX_QUEUE_PAGE: u32 = 200;
/// Candidates shown for an item.
const CANDIDATES: usize = 5;

/// A counterparty as the screens show it: a company's name whole, a person's masked
/// (`张*`), as customer names are everywhere else.
pub(crate) fn mask_party(name: &str) -> String {
    const COMPANY: &[&str] = &[
        "公司",
        "银行",
        "集团",
        "中心",
        "事务所",
        "合作社",
        "商行",
        "有限",
        "厂",
        "店",
        "局",
        "院",
        "会",
        "Co",
        "Ltd",
        "LTD",
        "GmbH",
        "B.V.",
        "Inc",
    ];
    let n = name.chars().count();
    // People's names are two to four characters (or carry the ·); longer text is
    // an organisation or a description.
    let person = (2..=4).contains(&n) || (name.contains('·') && n <= 12);
    if !person || COMPANY.iter().any(|w| name.contains(w)) {
        name.to_owned()
    } else {
        domain::mask::name(name)
    }
}

/// Free text (remittance) with long digit runs masked: phones, ID and card
/// numbers keep their first three and last four digits.
pub(crate) fn mask_digits(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let run = &chars[start..i];
            if run.len() >= 11 {
                out.extend(&run[..3]);
                out.extend(std::iter::repeat_n('*', run.len() - 7));
                out.extend(&run[run.len() - 4..]);
            } else {
                out.extend(run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn line_view(l: &LineRow, statement: &str) -> LineView {
    LineView {
        id: l.id,
        statement: statement.to_owned(),
        at: serde_json::from_str(&l.at).unwrap_or(domain::statement::Location::File),
        amount: yuan(l.amount_minor),
        booking_date: date_of(l.booking_day),
        bank_ref: l.bank_ref.clone(),
        counterparty: l.counterparty_name.as_deref().map(mask_party),
        remittance: l.remittance.as_deref().map(mask_digits),
        addressed_account: l.addressed_account.as_deref().map(mask_account),
        return_reason: l.return_reason.clone(),
    }
}

pub(crate) fn our_view(o: &OurItemRow) -> OurItemView {
    OurItemView {
        id: o.id,
        kind: o.kind,
        amount: yuan(o.amount_minor),
        open: yuan(o.open_minor),
        date_from: date_of(o.date_from),
        date_to: date_of(o.date_to),
        reference: o.reference.clone(),
        counterparty: o.counterparty_name.as_deref().map(mask_party),
        virtual_number: o.virtual_number.as_deref().map(mask_account),
    }
}

impl ReconService {
    fn row(&self, i: &SuspenseItemRow, accounts: &HashMap<Uuid, String>, now: DateTime<Utc>) -> SuspenseRow {
        let found_on = date_of(i.found_day);
        SuspenseRow {
            id: i.id,
            kind: i.kind,
            amount: yuan(i.amount_minor),
            found_on,
            age_days: (business_date(now) - found_on).num_days(),
            account: accounts.get(&i.physical_id).map(|n| mask_account(n)).unwrap_or_default(),
            channel: i.channel.clone(),
            counterparty: mask_party(&i.counterparty),
            status: i.status,
            claimed_by: i.claimed_by.clone().filter(|_| i.claim_until.is_some_and(|u| u >= now)),
        }
    }

    async fn account_numbers(&self) -> Result<HashMap<Uuid, String>> {
        Ok(self.store.physical_accounts().await?.into_iter().map(|p| (p.id, p.number)).collect())
    }

    /// A page of the queue, oldest found first.
    pub(crate) async fn queue(
        &self,
        filter: &SuspenseFilter,
        after: Option<Uuid>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<SuspensePage> {
        let today = business_date(now);
        let between = match filter.age {
            None => (None, None),
            Some(bucket) => {
                let (old, young) = bucket.found_between(today);
                (old.map(day_number), young.map(day_number))
            }
        };
        let (rows, more, count) =
            self.store.suspense_page(filter, between, after, limit.clamp(1, MAX_QUEUE_PAGE)).await?;
        let accounts = self.account_numbers().await?;
        Ok(SuspensePage {
            rows: rows.iter().map(|i| self.row(i, &accounts, now)).collect(),
            more,
            open_count: u64::try_from(count).unwrap_or(0),
        })
    }

    /// One item with everything its view shows.
    pub(crate) async fn item(&self, id: Uuid, now: DateTime<Utc>) -> Result<SuspenseItemView> {
        let i = self.store.suspense_item(id).await?.ok_or_else(|| not_found(Entity::SuspenseItem))?;
        let accounts = self.account_numbers().await?;
        let lines = match i.line_id {
            Some(l) => self.store.lines(&[l]).await?,
            None => Vec::new(),
        };
        let ours = match i.item_id {
            Some(o) => self.store.our_items(&[o]).await?.first().map(our_view),
            None => None,
        };
        // Candidates for money the bank has: our open items ranked with the score explained.
        let mut candidates = Vec::new();
        if let Some((l, _)) = lines.first() {
            let open = self.store.open_our_items(i.physical_id).await?;
            let ours: Vec<_> = open.iter().map(our_item).collect();
            let by_id: HashMap<Uuid, &OurItemRow> = open.iter().map(|o| (o.id, o)).collect();
            for s in suggestions(&bank_line(l), &ours, CANDIDATES) {
                if let Some(o) = by_id.get(&s.item) {
                    candidates.push(CandidateView { item: our_view(o), suggestion: s });
                }
            }
        }
        let mut history = Vec::new();
        for (at, actor, event) in self.store.suspense_events(id).await? {
            let event = serde_json::from_str(&event).map_err(|_| data_error("event"))?;
            history.push(SuspenseEventView { at, actor, event });
        }
        let mut postings = Vec::new();
        for t in std::iter::once(i.booking_id).chain(i.resolution_id) {
            let lines = self.store.posting_lines(t).await?;
            if !lines.is_empty() {
                postings.push(PostingView {
                    transfer_id: t,
                    lines: lines.into_iter().map(|(who, m)| (mask_posting_account(&who), yuan(m))).collect(),
                });
            }
        }
        let proposal = self.proposals().await?.into_iter().find(|p| p.item_id == id);
        Ok(SuspenseItemView {
            row: self.row(&i, &accounts, now),
            lines: lines.iter().map(|(l, s)| line_view(l, s)).collect(),
            ours,
            candidates,
            history,
            postings,
            proposal,
            explained_until: i.explained_until.map(date_of),
            recovery_ref: i.recovery_ref.clone(),
        })
    }

    /// Matches of a day, suggested first.
    pub(crate) async fn matches(&self, day: NaiveDate, suggested_only: bool) -> Result<Vec<MatchView>> {
        let mut out = Vec::new();
        for m in self.store.matches_of_day(day_number(day), suggested_only).await? {
            let Some((_, parts)) = self.store.match_parts(m.id).await? else { continue };
            let line_ids: Vec<Uuid> = parts.iter().filter_map(|p| p.0).collect();
            let item_ids: Vec<Uuid> = parts.iter().filter_map(|p| p.1).collect();
            let lines = self.store.lines(&line_ids).await?;
            let items = self.store.our_items(&item_ids).await?;
            out.push(MatchView {
                id: m.id,
                rule: m.rule.clone(),
                status: domain::recon::MatchStatus::parse(&m.status)
                    .unwrap_or(domain::recon::MatchStatus::Suggested),
                lines: lines.iter().map(|(l, s)| line_view(l, s)).collect(),
                items: items.iter().map(our_view).collect(),
                difference: yuan(m.difference_minor),
                score: u8::try_from(m.score).unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// Our items by reference or counterparty.
    pub(crate) async fn our_items(&self, query: &str, limit: u32) -> Result<Vec<OurItemView>> {
        Ok(self.store.search_our_items(query.trim(), limit).await?.iter().map(our_view).collect())
    }

    /// The daily report: for a closed day the one its snapshot kept, otherwise
    /// computed now. A closed day whose snapshot does not verify is refused
    /// (`Changed`): neither the stored figures nor today's are the day's; the day
    /// report shows why.
    pub(crate) async fn report(&self, day: NaiveDate, _now: DateTime<Utc>) -> Result<ReconReport> {
        let dayn = day_number(day);
        match self.store.report_snapshot(dayn).await? {
            Some(row) => verified(day, &row).1.map(|s| s.report).ok_or_else(|| conflict(Conflict::Changed)),
            // Closed without a snapshot: the close always stores one, so this is not the close's.
            None if self.store.day_closed_by(dayn).await?.is_some() => Err(conflict(Conflict::Changed)),
            None => self.live_report(day).await,
        }
    }

    /// The daily report as the figures are now: matched and open per account and
    /// channel, aging, proof.
    async fn live_report(&self, day: NaiveDate) -> Result<ReconReport> {
        let f = self.store.report_figures(day_number(day)).await?;
        let accounts = self.account_numbers().await?;
        let mut rows: Vec<ReportRow> = Vec::new();
        let mut row_of = |physical: Uuid, channel: &str| -> usize {
            let account = accounts.get(&physical).map(|n| mask_account(n)).unwrap_or_default();
            match rows.iter().position(|r| r.account == account && r.channel == channel) {
                Some(i) => i,
                None => {
                    rows.push(ReportRow {
                        account,
                        channel: channel.to_owned(),
                        matched: 0,
                        matched_amount: yuan(0),
                        open: Vec::new(),
                    });
                    rows.len() - 1
                }
            }
        };
        let mut matched = Vec::new();
        for (p, channel, n, sum) in &f.matched {
            matched.push((row_of(*p, channel), *n, *sum));
        }
        let mut open = Vec::new();
        for (p, channel, kind, n, sum) in &f.open {
            let kind = SuspenseKind::parse(kind).ok_or_else(|| data_error("kind"))?;
            open.push((row_of(*p, channel), kind, *n, *sum));
        }
        for (i, n, sum) in matched {
            rows[i].matched = u64::try_from(n).unwrap_or(0);
            rows[i].matched_amount = yuan(sum);
        }
        for (i, kind, n, sum) in open {
            rows[i].open.push((kind, u64::try_from(n).unwrap_or(0), yuan(sum)));
        }
        let mut aging: Vec<(AgeBucket, u64, i64)> = AgeBucket::ALL.iter().map(|b| (*b, 0, 0)).collect();
        for (found, n, sum) in &f.aging {
            let bucket = AgeBucket::of(date_of(*found), day);
            if let Some(slot) = aging.iter_mut().find(|(b, _, _)| *b == bucket) {
                slot.1 += u64::try_from(*n).unwrap_or(0);
                slot.2 += sum;
            }
        }
        let proof = f
            .proof
            .iter()
            .filter_map(|(k, items, ledger)| SuspenseKind::parse(k).map(|k| (k, yuan(*items), yuan(*ledger))))
            .collect();
        Ok(ReconReport {
            day,
            rows,
            aging: aging.into_iter().map(|(b, n, s)| (b, n, yuan(s))).collect(),
            proof,
        })
    }

    /// The report screen's answer: the day asked for, or the latest day a
    /// reconciliation ran for (yesterday before any); for a closed day its
    /// snapshot, checked against its hash and against the database.
    pub(crate) async fn day_report(&self, day: Option<NaiveDate>, now: DateTime<Utc>) -> Result<DayReport> {
        let (day, source) = match day {
            Some(day) => (day, ReportDaySource::Asked),
            None => match self.store.latest_run_day().await? {
                Some(d) => (date_of(d), ReportDaySource::LatestRun),
                None => {
                    let today = business_date(now);
                    (today.pred_opt().unwrap_or(today), ReportDaySource::Yesterday)
                }
            },
        };
        let dayn = day_number(day);
        if let Some(row) = self.store.report_snapshot(dayn).await? {
            let (recorded, snapshot) = verified(day, &row);
            let (report, statements, intact, differences) = match snapshot {
                Some(snapshot) => {
                    // The database as of the close: statements imported and items
                    // found after it are the console's own later work, not a change.
                    let statements = self.statement_proofs(day, Some(row.closed_at)).await?;
                    let live = self.closed_facts(dayn, row.closed_at, &statements).await?;
                    let differences = snapshot.facts.differences(&live);
                    (snapshot.report, snapshot.statements, true, differences)
                }
                // Not the close's (or unreadable): never shown as the day's figures;
                // today's, marked not intact, and not cut off at a time the row claims.
                None => {
                    (self.live_report(day).await?, self.statement_proofs(day, None).await?, false, Vec::new())
                }
            };
            let check = SnapshotCheck { sha256: recorded.unwrap_or_default(), intact, differences };
            let closed =
                ClosedDay { closed_by: row.closed_by, closed_at: row.closed_at, snapshot: Some(check) };
            return Ok(DayReport { day, source, report, statements, closed: Some(closed) });
        }
        let report = self.live_report(day).await?;
        let statements = self.statement_proofs(day, None).await?;
        // Closed days without a snapshot: the close always stores one, so these
        // rows are not the close's; shown as a snapshot that is not intact.
        let closed = self.store.day_closed_by(dayn).await?.map(|(closed_by, closed_at)| ClosedDay {
            closed_by,
            closed_at,
            snapshot: Some(SnapshotCheck { sha256: String::new(), intact: false, differences: Vec::new() }),
        });
        Ok(DayReport { day, source, report, statements, closed })
    }

    /// What a day's close keeps: the snapshot (JSON), its SHA-256 (hex) and the
    /// facts the close checks again inside its transaction.
    pub(crate) async fn snapshot_of(
        &self,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(String, String, DayFactsRow)> {
        // Facts first: a change after this read and before the close's
        // transaction refuses the close (`Changed`), one before it is in the report too.
        let row = self.store.day_facts(day_number(day), now).await?;
        let report = self.live_report(day).await?;
        let statements = self.statement_proofs(day, Some(now)).await?;
        let facts = closed_facts_of(&row, &statements);
        let snapshot = ReportSnapshot { report, statements, facts };
        let json = serde_json::to_string(&snapshot).map_err(|_| data_error("snapshot"))?;
        let sha256 = sha256_hex(&json);
        Ok((json, sha256, row))
    }

    async fn closed_facts(
        &self,
        day: i32,
        cutoff: DateTime<Utc>,
        statements: &[StatementProof],
    ) -> Result<ClosedFacts> {
        Ok(closed_facts_of(&self.store.day_facts(day, cutoff).await?, statements))
    }

    /// One balance proof per live statement ending on `day` (imported up to
    /// `imported_by`, when given): closing = asset mirror at its end + drift.
    async fn statement_proofs(
        &self,
        day: NaiveDate,
        imported_by: Option<DateTime<Utc>>,
    ) -> Result<Vec<StatementProof>> {
        let mut out = Vec::new();
        for s in self.store.day_statements(day_number(day), imported_by).await? {
            let d = self.store.statement_drift(&s, DRIFT_ITEMS_SHOWN).await?;
            let mut groups: Vec<(DriftKind, i64, i64, Vec<DriftItem>)> = Vec::new();
            // The difference the statement starts with: what the day before explains.
            if let Some(opening) = s.opening_minor {
                let brought = opening.saturating_sub(d.ledger_before_minor);
                if brought != 0 {
                    let item = DriftItem {
                        reference: s.previous_ref.clone().unwrap_or_default(),
                        day: date_of(s.from_day).pred_opt(),
                        amount: yuan(brought),
                    };
                    groups.push((DriftKind::OpeningDifference, 1, brought, vec![item]));
                }
            }
            if let Some(difference) = s.difference_minor.filter(|d| *d != 0 && *d != i64::MAX) {
                let item = DriftItem {
                    reference: s.acknowledged_by.clone().unwrap_or_default(),
                    day: None,
                    amount: yuan(difference),
                };
                groups.push((DriftKind::AcknowledgedDifference, 1, difference, vec![item]));
            }
            for g in d.groups {
                let kind = DriftKind::parse(&g.kind).ok_or_else(|| data_error("drift kind"))?;
                let items = g
                    .items
                    .into_iter()
                    .map(|(reference, day, amount)| DriftItem {
                        reference: posting_reference(&reference),
                        day: day.map(date_of),
                        amount: yuan(amount),
                    })
                    .collect();
                groups.push((kind, g.count, g.total_minor, items));
            }
            groups.sort_by_key(|g| DriftKind::ALL.iter().position(|k| *k == g.0));
            let explained: i64 = groups.iter().fold(0i64, |sum, g| sum.saturating_add(g.2));
            let unexplained = match (s.opening_minor, s.closing_minor) {
                (Some(_), Some(closing)) => {
                    Some(closing.saturating_sub(d.ledger_end_minor).saturating_sub(explained))
                }
                _ => None,
            };
            out.push(StatementProof {
                account: mask_account(&s.account_number),
                statement: s.statement_ref,
                from: date_of(s.from_day),
                to: date_of(s.to_day),
                opening: s.opening_minor.map(yuan),
                closing: s.closing_minor.map(yuan),
                ledger: yuan(d.ledger_end_minor),
                drift: groups
                    .into_iter()
                    .map(|(kind, count, total, items)| DriftGroup {
                        kind,
                        count: u64::try_from(count).unwrap_or(0),
                        total: yuan(total),
                        items,
                    })
                    .collect(),
                explained: yuan(explained),
                unexplained: unexplained.map(yuan),
            });
        }
        Ok(out)
    }

    /// Writes the daily report (CSV, or XLSX) into the export folder, audited.
    pub(crate) async fn export_report(
        &self,
        actor: &str,
        day: NaiveDate,
        xlsx: bool,
        now: DateTime<Utc>,
    ) -> Result<Response> {
        let report = self.report(day, now).await?;
        let mut table: Vec<Vec<String>> = vec![
            ["account", "channel", "matched", "matched_amount", "kind", "open", "open_amount"]
                .map(str::to_owned)
                .to_vec(),
        ];
        for r in &report.rows {
            if r.open.is_empty() {
                table.push(vec![
                    r.account.clone(),
                    r.channel.clone(),
                    r.matched.to_string(),
                    r.matched_amount.to_string(),
                    String::new(),
                    "0".into(),
                    "0.00".into(),
                ]);
            }
            for (kind, n, sum) in &r.open {
                table.push(vec![
                    r.account.clone(),
                    r.channel.clone(),
                    r.matched.to_string(),
                    r.matched_amount.to_string(),
                    kind.as_str().to_owned(),
                    n.to_string(),
                    sum.to_string(),
                ]);
            }
        }
        for (bucket, n, sum) in &report.aging {
            let bucket = serde_json::to_value(bucket)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            table.push(vec![
                String::new(),
                format!("aging:{bucket}"),
                String::new(),
                String::new(),
                String::new(),
                n.to_string(),
                sum.to_string(),
            ]);
        }
        std::fs::create_dir_all(&self.export_dir).map_err(|e| io_error(&e))?;
        let ext = if xlsx { "xlsx" } else { "csv" };
        let path = self.export_dir.join(format!("recon-report-{day}-{}.{ext}", now.format("%H%M%S")));
        if xlsx {
            let bytes = super::xlsx::workbook(&table);
            write_private_bytes(&path, &bytes).map_err(|e| io_error(&e))?;
        } else {
            let csv: String = table
                .iter()
                .map(|row| row.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",") + "\n")
                .collect();
            write_private(&path, &csv).map_err(|e| io_error(&e))?;
        }
        let rows = (table.len() - 1) as u64;
        let detail = serde_json::json!({ "day": day, "file": path.display().to_string(), "rows": rows });
        self.store.append_audit(audit(now, actor, "recon.export", format!("report:{day}"), detail)).await?;
        Ok(Response::Exported { path: path.display().to_string(), rows })
    }
}

/// The facts of a closed day as the screens name them, with each statement's
/// proof remainder.
fn closed_facts_of(row: &DayFactsRow, proofs: &[StatementProof]) -> ClosedFacts {
    ClosedFacts {
        statements: row
            .statements
            .iter()
            .map(|s| {
                let account = mask_account(&s.account_number);
                let unexplained = proofs
                    .iter()
                    .find(|p| p.account == account && p.statement == s.statement_ref)
                    .and_then(|p| p.unexplained);
                StatementFacts {
                    account,
                    statement: s.statement_ref.clone(),
                    opening: s.opening_minor.map(yuan),
                    closing: s.closing_minor.map(yuan),
                    lines: u64::try_from(s.lines).unwrap_or(0),
                    sum: yuan(s.sum_minor),
                    digest: s.digest.clone(),
                    unexplained,
                }
            })
            .collect(),
        matches: row
            .matches
            .iter()
            .map(|(status, count, difference, parts)| MatchFacts {
                status: status.clone(),
                count: u64::try_from(*count).unwrap_or(0),
                difference: yuan(*difference),
                parts: yuan(*parts),
            })
            .collect(),
        found: row
            .found
            .iter()
            .filter_map(|(kind, count, amount)| {
                SuspenseKind::parse(kind).map(|kind| FoundFacts {
                    kind,
                    count: u64::try_from(*count).unwrap_or(0),
                    amount: yuan(*amount),
                })
            })
            .collect(),
    }
}

/// A drift item's reference: a bank or our reference as it is; a posting's key
/// (`recon:unmatch:<id>`, `credit_in:<id>`) by the tail of the id in it, as ids
/// are shown everywhere, so no internal word of a key reaches the screen.
fn posting_reference(reference: &str) -> String {
    if !reference.contains(':') {
        return reference.to_owned();
    }
    reference
        .split(':')
        .find_map(|part| Uuid::parse_str(part).ok())
        .map_or_else(|| reference.rsplit(':').next().unwrap_or_default().to_owned(), domain::cases::short_id)
}

/// A stored snapshot checked against its close: the SHA-256 the close's first
/// audit row names, and the snapshot only when it hashes to it, that row's actor
/// and time are the snapshot's, every closed-day row of the day says the same,
/// and it reads as the day's snapshot. `None`: not intact.
fn verified(day: NaiveDate, row: &SnapshotRow) -> (Option<String>, Option<ReportSnapshot>) {
    let recorded = row
        .audit
        .as_ref()
        .and_then(|(_, _, detail)| serde_json::from_str::<serde_json::Value>(detail).ok())
        .and_then(|v| v.get("sha256").and_then(|h| h.as_str()).map(str::to_owned));
    let hashed = sha256_hex(&row.snapshot) == row.sha256 && recorded.as_deref() == Some(row.sha256.as_str());
    let audited =
        row.audit.as_ref().is_some_and(|(actor, at, _)| *actor == row.closed_by && *at == row.closed_at);
    let closed =
        matches!(row.closed_days.as_slice(), [(by, at)] if *by == row.closed_by && *at == row.closed_at);
    let snapshot = (hashed && audited && closed)
        .then(|| serde_json::from_str::<ReportSnapshot>(&row.snapshot).ok())
        .flatten()
        .filter(|s| s.report.day == day);
    (recorded, snapshot)
}

/// SHA-256 of a text, hex.
fn sha256_hex(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// A ledger account in a posting: internal roles as they are, sub-account numbers masked.
fn mask_posting_account(who: &str) -> String {
    if who.chars().all(|c| c.is_ascii_digit()) { mask_account(who) } else { who.to_owned() }
}

#[cfg(unix)]
fn write_private_bytes(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private_bytes(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posting_key_is_shown_by_its_id() {
        let id = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_1234_abcd);
        assert_eq!(posting_reference(&format!("recon:unmatch:{id}")), "1234abcd");
        assert_eq!(posting_reference("credit_in:WALK-7"), "WALK-7");
        assert_eq!(posting_reference("MYB0000000001"), "MYB0000000001");
    }

    #[test]
    fn people_and_long_numbers_are_masked_companies_are_not() {
        assert_eq!(mask_party("张三"), "张*");
        assert_eq!(mask_party("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_party("杭州甲商贸有限公司"), "杭州甲商贸有限公司");
        assert_eq!(
            mask_digits("还款 13912345678 卡6222020200112233445"),
            "还款 139****5678 卡622************3445"
        );
        assert_eq!(mask_digits("ORD00010023 货款"), "ORD00010023 货款");
    }
}
