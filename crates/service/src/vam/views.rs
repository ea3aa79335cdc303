//! What the screens read: physical accounts, tree pages, a sub-account, entries,
//! the balance series and the CSV export.

use super::{VamService, yuan};
use crate::error::{Result, invalid, not_found};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::ledger::{AccountId, HoldId, OwnerKind, TransferId};
use domain::vam::{
    DayBalanceView, EntryFilter, EntryPage, EntryView, HoldView, OwnerView, PhysicalAccountView,
    ProofSummary, SubAccountDetail, TreePage, VirtualNodeView,
};
use domain::{Entity, InputProblem, Response, mask};
use serde_json::json;
use store::{NewAudit, VirtualRow};
use uuid::Uuid;

/// Largest page of tree nodes or entries.
const MAX_PAGE: u32 = 200;
/// Longest balance chart.
const MAX_SERIES_DAYS: i64 = 366;
/// Most rows in one export.
const MAX_EXPORT_ROWS: u32 = 100_000;

/// A physical account number for the screen: its bank and last four stay.
pub(crate) fn mask_account(number: &str) -> String {
    let n = number.chars().count();
    if n <= 8 {
        return "*".repeat(n);
    }
    let head: String = number.chars().take(4).collect();
    let tail: String = number.chars().skip(n - 4).collect();
    format!("{head}{}{tail}", "*".repeat(n - 8))
}

/// A virtual number for the screen: the physical part masked, the suffix shown
/// (the suffix is what people quote on the phone).
fn mask_virtual(number: &str, suffix_len: usize) -> String {
    let n = number.chars().count();
    let shown = (suffix_len + 1).min(n);
    let tail: String = number.chars().skip(n - shown).collect();
    let head: String = number.chars().take(4.min(n - shown)).collect();
    format!("{head}{}{tail}", "*".repeat(n - shown - head.chars().count()))
}

impl VamService {
    fn owner(row: &VirtualRow) -> OwnerView {
        let name_masked = match row.owner_kind {
            OwnerKind::Customer | OwnerKind::User => mask::name(&row.owner_name),
            OwnerKind::Merchant | OwnerKind::Internal => row.owner_name.clone(),
        };
        OwnerView { kind: row.owner_kind, id: row.owner_id, name_masked }
    }

    pub(crate) fn node_view(row: &VirtualRow, suffix_len: usize) -> VirtualNodeView {
        VirtualNodeView {
            id: AccountId(row.id),
            physical_id: row.physical_id,
            parent: row.parent_id.map(AccountId),
            number: mask_virtual(&row.number, suffix_len),
            owner: Self::owner(row),
            purpose: row.purpose,
            status: row.status,
            own_balance: yuan(row.own_minor()),
            subtree_balance: yuan(row.subtree_minor()),
            held: yuan(row.held_minor),
            available: yuan(row.own_minor() - row.held_minor),
            child_count: i64::from(row.child_count),
            opened_at: row.opened_at,
        }
    }

    async fn suffix_len(&self, physical_id: Uuid) -> Result<usize> {
        let p = self.store.physical(physical_id).await?.ok_or_else(|| not_found(Entity::PhysicalAccount))?;
        Ok(usize::try_from(p.suffix_len).unwrap_or(0))
    }

    pub(crate) async fn physical_accounts(&self) -> Result<Vec<PhysicalAccountView>> {
        let mut out = Vec::new();
        for p in self.store.physical_accounts().await? {
            let t = self.store.physical_totals(p.id).await?;
            let last_proof = self.store.last_proof(p.id).await?.map(|(at, holds)| ProofSummary { at, holds });
            out.push(PhysicalAccountView {
                id: p.id,
                bank: p.bank,
                number_masked: mask_account(&p.number),
                purpose: p.purpose,
                supervised: p.supervised,
                suffix_len: u8::try_from(p.suffix_len).unwrap_or(0),
                ledger_balance: yuan(t.asset_minor),
                virtual_total: yuan(t.virtual_minor),
                suspense_balance: yuan(t.suspense_minor),
                internal_balance: yuan(t.internal_minor),
                virtual_count: t.virtual_count,
                last_proof,
            });
        }
        Ok(out)
    }

    pub(crate) async fn tree(
        &self,
        physical_id: Uuid,
        parent: Option<AccountId>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<TreePage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let suffix_len = self.suffix_len(physical_id).await?;
        let rows = self.store.virtual_children(physical_id, parent.map(|p| p.0), after, limit).await?;
        let next_after =
            (rows.len() == limit as usize).then(|| rows.last().map(|r| r.number.clone())).flatten();
        Ok(TreePage { nodes: rows.iter().map(|r| Self::node_view(r, suffix_len)).collect(), next_after })
    }

    pub(crate) async fn search(&self, query: &str) -> Result<TreePage> {
        let query = query.trim();
        if query.is_empty() {
            return Err(invalid("query", InputProblem::Required));
        }
        // A phone names a user (never a person by itself): their accounts and
        // their customer's.
        let mut owners = Vec::new();
        if let Ok(phone) = domain::phone::Phone::parse(query)
            && let Some(user) = self.store.user_by_phone(phone.as_str()).await?
        {
            owners.extend([user.id, user.customer_id]);
        }
        let rows = self.store.search_virtual(query, &owners, 50).await?;
        let mut nodes = Vec::with_capacity(rows.len());
        for r in &rows {
            nodes.push(Self::node_view(r, self.suffix_len(r.physical_id).await?));
        }
        Ok(TreePage { nodes, next_after: None })
    }

    /// Sub-accounts held by any of `owners` (a customer and its users), for the
    /// customer lookup.
    pub(crate) async fn owned_by(&self, owners: &[Uuid]) -> Result<Vec<VirtualNodeView>> {
        // The empty number matches nothing; only the owner ids select.
        let rows = self.store.search_virtual("", owners, 200).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows.iter().filter(|r| r.owner_id.is_some_and(|o| owners.contains(&o))) {
            out.push(Self::node_view(r, self.suffix_len(r.physical_id).await?));
        }
        Ok(out)
    }

    pub(crate) async fn node(&self, account: AccountId) -> Result<VirtualRow> {
        self.store.virtual_node(account.0).await?.ok_or_else(|| not_found(Entity::SubAccount))
    }

    pub(crate) async fn sub_account(
        &self,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> Result<SubAccountDetail> {
        self.store.expire_holds(account.0, now).await?;
        let row = self.node(account).await?;
        let suffix_len = self.suffix_len(row.physical_id).await?;
        let holds = self
            .store
            .holds(account.0)
            .await?
            .into_iter()
            .map(|h| HoldView {
                id: HoldId(h.id),
                remaining: yuan(h.remaining_minor),
                amount: yuan(h.amount_minor),
                status: h.status,
                reason: h.reason,
                expires_at: h.expires_at,
                placed_at: h.placed_at,
                placed_by: h.placed_by,
            })
            .collect();
        let previous_holders =
            self.store.previous_holders(&row.number, row.id).await?.iter().map(Self::owner).collect();
        Ok(SubAccountDetail { node: Self::node_view(&row, suffix_len), holds, previous_holders })
    }

    pub(crate) async fn entries(
        &self,
        account: AccountId,
        filter: &EntryFilter,
        before: Option<TransferId>,
        limit: u32,
    ) -> Result<EntryPage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let suffix_len = self.suffix_len(self.node(account).await?.physical_id).await?;
        let rows = self
            .store
            .entries(
                account.0,
                filter.from.map(store::day_number),
                filter.to.map(store::day_number),
                filter.kind,
                before.map(|b| b.0),
                limit,
            )
            .await?;
        let next_before =
            (rows.len() == limit as usize).then(|| rows.last().map(|r| TransferId(r.transfer_id))).flatten();
        // Sub-accounts are liabilities: a credit (negative line) grows them.
        let entries =
            rows.into_iter()
                .map(|r| EntryView {
                    transfer_id: TransferId(r.transfer_id),
                    at: r.posted_at,
                    kind: r.kind,
                    amount: yuan(-r.amount_minor),
                    balance_after: yuan(-r.running_minor),
                    // Another sub-account's number, masked like every number on screen.
                    counterparty: r
                        .counterparty
                        .map(|c| {
                            if c.bytes().all(|b| b.is_ascii_digit()) {
                                mask_virtual(&c, suffix_len)
                            } else {
                                c
                            }
                        })
                        .unwrap_or_default(),
                    reverses: r.reverses.map(TransferId),
                    reversed: r.reversed,
                    memo: r.memo,
                })
                .collect();
        Ok(EntryPage { entries, next_before })
    }

    pub(crate) async fn balance_series(
        &self,
        account: AccountId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayBalanceView>> {
        let sane = |d: NaiveDate| (2000..=2200).contains(&chrono::Datelike::year(&d));
        if to < from || (to - from).num_days() > MAX_SERIES_DAYS || !sane(from) || !sane(to) {
            return Err(invalid("to", InputProblem::DateRange));
        }
        let (opening, days) =
            self.store.day_sums(account.0, store::day_number(from), store::day_number(to)).await?;
        let mut balance = -opening;
        let mut sums = days.into_iter().peekable();
        let mut out = Vec::new();
        let mut date = from;
        while date <= to {
            if let Some((_, sum)) = sums.next_if(|(day, _)| *day == store::day_number(date)) {
                balance -= sum;
            }
            out.push(DayBalanceView { date, balance: yuan(balance) });
            date += Duration::days(1);
        }
        Ok(out)
    }

    /// Writes the filtered entries as CSV (owner-only file), audited.
    pub(crate) async fn export(
        &self,
        actor: &str,
        account: AccountId,
        filter: &EntryFilter,
        now: DateTime<Utc>,
    ) -> Result<Response> {
        let row = self.node(account).await?;
        let mut csv =
            String::from("posted_at,kind,amount,balance_after,counterparty,memo,transfer_id,reverses\n");
        let mut before = None;
        let mut rows = 0_u64;
        loop {
            let page = self.entries(account, filter, before, MAX_PAGE).await?;
            for e in &page.entries {
                rows += 1;
                csv.push_str(&format!(
                    "{},{},{},{},{},{},{},{}\n",
                    e.at.to_rfc3339(),
                    e.kind.as_str(),
                    e.amount,
                    e.balance_after,
                    csv_field(&e.counterparty),
                    csv_field(&e.memo),
                    e.transfer_id.0,
                    e.reverses.map(|r| r.0.to_string()).unwrap_or_default()
                ));
            }
            match page.next_before {
                Some(next) if rows < u64::from(MAX_EXPORT_ROWS) => before = Some(next),
                _ => break,
            }
        }
        std::fs::create_dir_all(&self.export_dir).map_err(|e| io_error(&e))?;
        let path =
            self.export_dir.join(format!("entries-{}-{}.csv", row.number, now.format("%Y%m%d-%H%M%S")));
        write_private(&path, &csv).map_err(|e| io_error(&e))?;
        let detail = json!({ "rows": rows, "file": path.display().to_string() });
        self.store
            .append_audit(NewAudit::new(now, actor, "vam.export", format!("account:{}", row.id), detail))
            .await?;
        Ok(Response::Exported { path: path.display().to_string(), rows })
    }
}

/// Quotes a CSV field that needs it; a leading formula character is neutralised
/// (the file is opened in spreadsheets).
pub(crate) fn csv_field(text: &str) -> String {
    let text =
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

pub(crate) fn io_error(e: &std::io::Error) -> crate::error::ServiceError {
    domain::ApiError::Unavailable { message: format!("export: {e}") }.into()
}

#[cfg(unix)]
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_what_people_quote() {
        assert_eq!(mask_account("6228480012345678"), "6228********5678");
        assert_eq!(mask_virtual("62284800123456780000427", 6), "6228************0000427");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("x\r=HYPERLINK(1)"), "\"x\r=HYPERLINK(1)\"");
        assert_eq!(csv_field("\t=1"), "'\t=1");
    }
}
