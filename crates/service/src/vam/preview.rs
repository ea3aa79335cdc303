//! Previews (dry runs): what an operation touching several accounts would change,
//! account by account, computed from the same rules and never posted.

use super::{VamService, amount_minor, yuan};
use crate::error::{Result, invalid, not_found};
use chrono::{DateTime, Utc};
use domain::ledger::{AccountId, CloseBlocker};
use domain::{Entity, InputProblem, VamOperation};
use uuid::Uuid;

impl VamService {
    /// What `operation` would change, account by account, without doing it.
    pub(crate) async fn preview(
        &self,
        actor: &str,
        operation: VamOperation,
        now: DateTime<Utc>,
    ) -> Result<domain::vam::OperationPreview> {
        let amount = self.check(&operation).await?;
        let needs_checker = self.needs_checker(actor, &operation, amount, now).await?;
        let mut blockers = Vec::new();
        let (physical_id, lines): (Uuid, Vec<(Uuid, i64)>) = match &operation {
            VamOperation::Transfer { from, to, amount, .. } => {
                let (a, b) = (self.node(*from).await?, self.node(*to).await?);
                let amount = amount_minor("amount", *amount)?;
                (a.physical_id, vec![(a.id, amount), (b.id, -amount)])
            }
            VamOperation::Sweep { account, amount } => {
                let row = self.node(*account).await?;
                let main = self.physical_row(row.physical_id).await?.main_account;
                let amount = amount_minor("amount", *amount)?;
                (row.physical_id, vec![(row.id, amount), (main, -amount)])
            }
            VamOperation::PostHold { hold, amount, to } => {
                let h = self.store.hold(hold.0).await?.ok_or_else(|| not_found(Entity::Hold))?;
                let target = self.node(*to).await?;
                let amount = amount_minor("amount", *amount)?;
                (target.physical_id, vec![(h.account_id, amount), (target.id, -amount)])
            }
            VamOperation::Reverse { transfer, .. } => {
                let (_, physical_id, lines) = self
                    .store
                    .transfer_lines(transfer.0)
                    .await?
                    .ok_or_else(|| not_found(Entity::Transfer))?;
                (physical_id, lines.into_iter().map(|(a, m)| (a, -m)).collect())
            }
            VamOperation::SettleTender { tender } => {
                let node = self.node(*tender).await?;
                let asset = self.physical_row(node.physical_id).await?.asset_account;
                let bidders = self.bidders(node.physical_id, tender.0).await?;
                blockers = bidders
                    .iter()
                    .filter(|b| b.held_minor > 0)
                    .map(|b| CloseBlocker::ActiveHolds { count: 1, held_minor: b.held_minor })
                    .collect();
                let mut lines: Vec<(Uuid, i64)> =
                    bidders.iter().filter(|b| b.own_minor() > 0).map(|b| (b.id, b.own_minor())).collect();
                let total: i64 = lines.iter().map(|(_, m)| m).sum();
                lines.push((asset, -total));
                (node.physical_id, lines)
            }
            VamOperation::ManualCredit { physical_id, number, amount, .. } => {
                let physical = self.physical_row(*physical_id).await?;
                let amount = amount_minor("amount", *amount)?;
                let target =
                    self.credit_target(&physical, number).await?.unwrap_or(physical.suspense_account);
                (*physical_id, vec![(physical.asset_account, amount), (target, -amount)])
            }
            _ => return Err(invalid("operation", InputProblem::Required)),
        };
        let totals = self.store.physical_totals(physical_id).await?;
        let suffix_len = usize::try_from(self.physical_row(physical_id).await?.suffix_len).unwrap_or(0);
        let mut out = Vec::with_capacity(lines.len());
        let mut short = false;
        for (account, amount) in lines {
            let line = match self.store.virtual_node(account).await? {
                Some(row) => {
                    let change = -amount;
                    let after = row.own_minor() + change;
                    let available_after = after - row.held_minor;
                    short |= change < 0 && available_after < 0;
                    domain::vam::PreviewLine {
                        account: domain::vam::PreviewAccount::SubAccount {
                            id: AccountId(row.id),
                            number: Self::node_view(&row, suffix_len).number,
                        },
                        before: yuan(row.own_minor()),
                        change: yuan(change),
                        after: yuan(after),
                        available_after: Some(yuan(available_after)),
                    }
                }
                None => {
                    let role = self
                        .store
                        .ledger_accounts(&[account])
                        .await?
                        .pop()
                        .and_then(|a| domain::vam::PoolRole::parse(&a.role))
                        .ok_or_else(|| not_found(Entity::SubAccount))?;
                    let (before, change) = match role {
                        domain::vam::PoolRole::Asset => (totals.asset_minor, amount),
                        domain::vam::PoolRole::Main => {
                            (totals.internal_minor - totals.interest_minor, -amount)
                        }
                        domain::vam::PoolRole::Suspense => (totals.suspense_minor, -amount),
                        domain::vam::PoolRole::Interest => (totals.interest_minor, -amount),
                    };
                    domain::vam::PreviewLine {
                        account: domain::vam::PreviewAccount::Pool { role },
                        before: yuan(before),
                        change: yuan(change),
                        after: yuan(before + change),
                        available_after: None,
                    }
                }
            };
            out.push(line);
        }
        Ok(domain::vam::OperationPreview { lines: out, needs_checker, short, blockers })
    }
}
