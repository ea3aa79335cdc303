//! What the suspense screens read: the queue, an item with its lines, ranked
//! candidates, history and postings, matches, our items, the daily report.

use super::run::{bank_line, date_of, our_item};
use super::{ReconService, audit};
use crate::error::{Result, data_error, not_found};
use crate::vam::views::{csv_field, io_error, mask_account, write_private};
use crate::vam::yuan;
use chrono::{DateTime, NaiveDate, Utc};
use domain::Entity;
use domain::Response;
use domain::ledger::business_date;
use domain::recon::suggestions;
use domain::suspense::{
    AgeBucket, CandidateView, LineView, MatchView, OurItemView, PostingView, ReconReport, ReportRow,
    SuspenseEventView, SuspenseFilter, SuspenseItemView, SuspenseKind, SuspensePage, SuspenseRow,
};
use std::collections::HashMap;
use store::{LineRow, OurItemRow, SuspenseItemRow, day_number};
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

    /// The daily report: matched and open per account and channel, aging, proof.
    pub(crate) async fn report(&self, day: NaiveDate, _now: DateTime<Utc>) -> Result<ReconReport> {
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
