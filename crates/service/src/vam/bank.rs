//! Money from the bank: credit notices (polled from the bank gateway, or typed
//! from an advice with four-eyes), interest allocation, and the proof that the
//! ledger adds up and explains the bank's balance.

use super::{VamService, amount_minor, yuan};
use crate::error::{Result, conflict, gateway_error, invalid};
use crate::gateway::{BalanceRequest, CreditNotice, CreditsRequest};
use chrono::{DateTime, NaiveDate, Utc};
use domain::ledger::{AccountId, NumberProblem, NumberingScheme, TransferKind, VirtualStatus};
use domain::vam::{
    CreditOutcome, InterestPreviewView, InterestShareView, PollSummary, ProofView, UnidentifiedReason,
    VamOutcome,
};
use domain::{ApiError, Conflict, GatewayService, InputProblem};
use rust_decimal::Decimal;
use serde_json::json;
use store::{BankCreditRow, NewAudit, PostOutcome, PostWith, ProposalGuard};
use uuid::Uuid;

/// Notices fetched per page.
const PAGE: u32 = 200;
/// Longest interest period.
const MAX_PERIOD_DAYS: i64 = 366;
/// Interest shares listed in a preview (all are posted).
const PREVIEW_LINES: usize = 200;

impl VamService {
    fn bank(&self) -> Result<&std::sync::Arc<dyn crate::gateway::BankGateway>> {
        self.bank.as_ref().ok_or_else(|| ApiError::GatewaysMissing.into())
    }

    /// Books one notice: to the sub-account it names, or to 待识别入账 with why.
    /// Idempotent by the bank's reference.
    pub(crate) async fn book_credit(
        &self,
        actor: &str,
        physical_id: Uuid,
        notice: &CreditNotice,
        approval: Option<ProposalGuard>,
        cursor: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<CreditOutcome> {
        let (t, with, audit, outcome) =
            self.credit_posting(actor, physical_id, notice, approval, cursor, now).await?;
        // The same reference with another amount or account is never absorbed
        // silently: `KeyReused` comes back as an error.
        Ok(match self.store.post_transfer(&t, with, audit).await? {
            PostOutcome::New(_) => outcome,
            PostOutcome::Repeat(_) => CreditOutcome::Repeat,
        })
    }

    /// The posting a notice makes, and what it will do if it is new.
    async fn credit_posting(
        &self,
        actor: &str,
        physical_id: Uuid,
        notice: &CreditNotice,
        approval: Option<ProposalGuard>,
        cursor: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(store::NewTransferRow, PostWith, NewAudit, CreditOutcome)> {
        let physical = self.physical_row(physical_id).await?;
        if notice.amount_minor <= 0 || notice.amount_minor > super::MAX_AMOUNT_MINOR {
            return Err(invalid("amount", InputProblem::Amount));
        }
        // One reference, however it was typed or sent: trimmed, upper case, bounded.
        let bank_ref = notice.bank_ref.trim().to_uppercase();
        if bank_ref.is_empty() || bank_ref.chars().count() > 64 {
            return Err(invalid("bank_ref", InputProblem::Required));
        }
        // Booked on the bank's day (interest counts from it), never in the future.
        let booked_at = notice.booked_at.min(now);
        let (kind, target, outcome) = if notice.kind == "interest" {
            let account = physical.interest_account;
            (TransferKind::Interest, account, CreditOutcome::Credited { account: AccountId(account) })
        } else {
            match self.credit_target(&physical, &notice.payee_number).await? {
                Ok(account) => {
                    (TransferKind::CreditIn, account, CreditOutcome::Credited { account: AccountId(account) })
                }
                Err(reason) => (
                    TransferKind::UnidentifiedIn,
                    physical.suspense_account,
                    CreditOutcome::Unidentified { reason },
                ),
            }
        };
        let (outcome_code, reason, account_id) = match outcome {
            CreditOutcome::Credited { account } => ("credited", None, Some(account.0)),
            CreditOutcome::Unidentified { reason } => {
                ("unidentified", Some(reason.as_str().to_owned()), None)
            }
            CreditOutcome::Repeat => ("repeat", None, None),
        };
        let mut t = self.transfer(
            kind,
            &bank_ref,
            physical_id,
            &bank_ref,
            actor,
            booked_at,
            vec![(physical.asset_account, notice.amount_minor), (target, -notice.amount_minor)],
        );
        // One key per bank reference, whatever the notice was booked as.
        t.idempotency_key = format!("bank:{physical_id}:{bank_ref}");
        let credit = BankCreditRow {
            id: Uuid::now_v7(),
            physical_id,
            bank_ref: bank_ref.clone(),
            number: notice.payee_number.clone(),
            amount_minor: notice.amount_minor,
            payer: notice.payer_name.clone(),
            received_at: notice.booked_at,
            raw: serde_json::to_string(notice).unwrap_or_default(),
            outcome: outcome_code.into(),
            reason: reason.clone(),
            account_id,
        };
        let with =
            PostWith { approval, credit: Some(credit), cursor: cursor.map(|c| (physical_id, c)), hold: None };
        let detail = json!({ "bank_ref": bank_ref, "amount_minor": notice.amount_minor,
                             "outcome": outcome_code, "reason": reason, "account": account_id });
        let audit = NewAudit::new(now, actor, "vam.credit", format!("transfer:{}", t.id), detail);
        Ok((t, with, audit, outcome))
    }

    /// The live sub-account a payee number names, or why it cannot take the credit.
    pub(crate) async fn credit_target(
        &self,
        physical: &store::PhysicalRow,
        number: &str,
    ) -> Result<std::result::Result<Uuid, UnidentifiedReason>> {
        let scheme = u8::try_from(physical.suffix_len)
            .ok()
            .and_then(|len| NumberingScheme::new(physical.number.clone(), len).ok())
            .ok_or_else(|| crate::error::data_error("physical account numbering"))?;
        if let Err(problem) = scheme.parse(number.trim()) {
            return Ok(Err(match problem {
                NumberProblem::BadCheckDigit => UnidentifiedReason::BadCheckDigit,
                NumberProblem::OtherPhysicalAccount => UnidentifiedReason::OtherAccount,
                _ => UnidentifiedReason::UnknownNumber,
            }));
        }
        Ok(match self.store.virtual_by_number(number.trim()).await? {
            None => Err(UnidentifiedReason::UnknownNumber),
            Some(row) if row.physical_id != physical.id => Err(UnidentifiedReason::OtherAccount),
            Some(row) => match row.status {
                VirtualStatus::Closed | VirtualStatus::Quarantined => Err(UnidentifiedReason::Closed),
                VirtualStatus::Closing => Err(UnidentifiedReason::CreditBlocked),
                VirtualStatus::Active | VirtualStatus::Frozen => Ok(row.id),
            },
        })
    }

    /// Fetches and books every notice since the stored cursor.
    pub(crate) async fn poll_credits(
        &self,
        actor: &str,
        physical_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<PollSummary> {
        let bank = self.bank()?.clone();
        let mut summary = PollSummary::default();
        loop {
            let physical = self.physical_row(physical_id).await?;
            let req = CreditsRequest {
                account_number: physical.number.clone(),
                cursor: physical.credit_cursor,
                limit: PAGE,
            };
            let page = bank.credits(&req).await.map_err(|e| gateway_error(GatewayService::Bank, e))?;
            let count = page.notices.len();
            // A page is booked in one transaction, the cursor moving with it: all of
            // it lands or none does, and a poll retried after a failure starts here.
            let mut batch = Vec::with_capacity(count);
            let mut expected = Vec::with_capacity(count);
            for (i, notice) in page.notices.iter().enumerate() {
                let cursor = if i + 1 == count { page.next_cursor.clone() } else { None };
                let (t, with, audit, outcome) =
                    self.credit_posting(actor, physical_id, notice, None, cursor, now).await?;
                batch.push((t, with, audit));
                expected.push(outcome);
            }
            let outcomes =
                if batch.is_empty() { Vec::new() } else { self.store.post_transfers(batch).await? };
            for (outcome, expected) in outcomes.iter().zip(expected) {
                match (outcome, expected) {
                    (PostOutcome::Repeat(_), _) | (_, CreditOutcome::Repeat) => summary.repeated += 1,
                    (PostOutcome::New(_), CreditOutcome::Credited { .. }) => summary.credited += 1,
                    (PostOutcome::New(_), CreditOutcome::Unidentified { .. }) => summary.unidentified += 1,
                }
            }
            // A last notice booked before (its posting skipped) still moves the cursor.
            if let (Some(PostOutcome::Repeat(_)), Some(c)) = (outcomes.last(), &page.next_cursor) {
                self.store.set_credit_cursor(physical_id, c).await?;
            }
            if count < PAGE as usize {
                return Ok(summary);
            }
        }
    }

    /// Credits the bank booked after our cursor (in transit), without booking them.
    async fn in_transit_minor(&self, physical: &store::PhysicalRow) -> Result<i64> {
        let bank = self.bank()?;
        let mut cursor = physical.credit_cursor.clone();
        let mut total = 0_i64;
        for _ in 0..100 {
            let req = CreditsRequest {
                account_number: physical.number.clone(),
                cursor: cursor.clone(),
                limit: PAGE,
            };
            let page = bank.credits(&req).await.map_err(|e| gateway_error(GatewayService::Bank, e))?;
            total += page.notices.iter().map(|n| n.amount_minor).sum::<i64>();
            if page.notices.len() < PAGE as usize {
                break;
            }
            cursor = page.next_cursor;
        }
        Ok(total)
    }

    /// Checks the invariant, the replay and the roll-up, and explains the bank's
    /// balance; recorded and audited.
    pub(crate) async fn proof(
        &self,
        actor: &str,
        physical_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<ProofView> {
        let physical = self.physical_row(physical_id).await?;
        let t = self.store.physical_totals(physical_id).await?;
        let replay_breaks = self.store.replay_breaks(physical_id).await?;
        let rollup_breaks = self.store.rollup_breaks(physical_id).await?;
        let (bank_minor, in_transit) = match self.bank() {
            Ok(bank) => {
                let balance = bank.balance(&BalanceRequest { account_number: physical.number.clone() }).await;
                match balance {
                    Ok(b) => (Some(b.balance_minor), self.in_transit_minor(&physical).await.unwrap_or(0)),
                    Err(e) => {
                        tracing::warn!(error = %e, "bank balance unavailable for the proof");
                        (None, 0)
                    }
                }
            }
            Err(_) => (None, 0),
        };
        let difference = t.asset_minor - (t.virtual_minor + t.suspense_minor + t.internal_minor);
        let unexplained = bank_minor.map(|b| b - t.asset_minor - in_transit);
        let holds =
            difference == 0 && replay_breaks == 0 && rollup_breaks == 0 && unexplained.is_none_or(|u| u == 0);
        let detail = json!({
            "ledger_minor": t.asset_minor, "virtual_minor": t.virtual_minor, "suspense_minor": t.suspense_minor,
            "internal_minor": t.internal_minor, "difference_minor": difference, "replay_breaks": replay_breaks,
            "rollup_breaks": rollup_breaks, "bank_minor": bank_minor, "in_transit_minor": in_transit,
            "unexplained_minor": unexplained, "holds": holds,
        });
        let audit = NewAudit::new(now, actor, "vam.proof", format!("physical:{physical_id}"), detail.clone());
        self.store.record_proof(physical_id, now, holds, &detail.to_string(), audit).await?;
        Ok(ProofView {
            physical_id,
            at: now,
            bank_balance: bank_minor.map(yuan),
            ledger_balance: yuan(t.asset_minor),
            virtual_total: yuan(t.virtual_minor),
            suspense_balance: yuan(t.suspense_minor),
            internal_balance: yuan(t.internal_minor),
            invariant_difference: yuan(difference),
            rollup_breaks,
            replay_breaks,
            bank_difference: bank_minor.map(|b| yuan(b - t.asset_minor)),
            credits_in_transit: yuan(in_transit),
            unexplained: unexplained.map(yuan),
            unallocated_interest: yuan(t.interest_minor),
            holds,
        })
    }

    /// The allocation of `interest` over the period by day-weighted balance.
    pub(crate) async fn interest_preview(
        &self,
        physical_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
        interest: Decimal,
    ) -> Result<InterestPreviewView> {
        let (_, lines) = self.allocation(physical_id, from, to, interest).await?;
        let interest_minor = amount_minor("interest", interest)?;
        let digest = digest(physical_id, from, to, interest_minor, &lines);
        let mut shown: Vec<&domain::ledger::InterestLine> = lines.iter().collect();
        shown.sort_by(|a, b| b.share_minor.cmp(&a.share_minor).then(a.account.cmp(&b.account)));
        let mut out = Vec::new();
        for line in shown.into_iter().take(PREVIEW_LINES) {
            let number = self.store.virtual_node(line.account.0).await?.map(|r| r.number).unwrap_or_default();
            out.push(InterestShareView {
                account: line.account,
                number,
                product: Decimal::from_i128_with_scale(
                    i128::try_from(line.product_minor_days).unwrap_or(i128::MAX),
                    2,
                ),
                share: yuan(line.share_minor),
            });
        }
        Ok(InterestPreviewView {
            physical_id,
            from,
            to,
            interest,
            allocated: yuan(lines.iter().map(|l| l.share_minor).sum()),
            lines: out,
            account_count: u32::try_from(lines.len()).unwrap_or(u32::MAX),
            digest,
        })
    }

    async fn allocation(
        &self,
        physical_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
        interest: Decimal,
    ) -> Result<(i64, Vec<domain::ledger::InterestLine>)> {
        // Only ended days: today's balance is not final.
        let today = domain::ledger::business_date(Utc::now());
        if to < from || (to - from).num_days() >= MAX_PERIOD_DAYS || to >= today {
            return Err(invalid("to", InputProblem::DateRange));
        }
        let interest_minor = amount_minor("interest", interest)?;
        let pool = self.store.physical_totals(physical_id).await?.interest_minor;
        if interest_minor > pool {
            return Err(conflict(Conflict::InsufficientFunds));
        }
        let products: Vec<(AccountId, u128)> = self
            .store
            .interest_products(physical_id, store::day_number(from), store::day_number(to))
            .await?
            .into_iter()
            .filter(|(_, p)| *p > 0)
            .map(|(a, p)| (AccountId(a), u128::try_from(p).unwrap_or(0)))
            .collect();
        let preview = domain::ledger::preview(interest_minor, &products)
            .map_err(|_| invalid("from", InputProblem::DateRange))?;
        Ok((interest_minor, preview.lines))
    }

    /// Posts the allocation that was previewed (`previewed` is its digest; entries
    /// posted since change it, and the posting is refused): the pool pays each
    /// account its share, in one transfer.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn post_interest(
        &self,
        actor: &str,
        physical_id: Uuid,
        (from, to): (NaiveDate, NaiveDate),
        interest: Decimal,
        previewed: &str,
        approval: Option<ProposalGuard>,
        now: DateTime<Utc>,
    ) -> Result<VamOutcome> {
        let physical = self.physical_row(physical_id).await?;
        let (interest_minor, lines) = self.allocation(physical_id, from, to, interest).await?;
        let key = digest(physical_id, from, to, interest_minor, &lines);
        if key != previewed {
            return Err(conflict(Conflict::StalePreview));
        }
        let mut postings = Vec::with_capacity(lines.len() + 1);
        postings.push((physical.interest_account, interest_minor));
        postings.extend(lines.iter().filter(|l| l.share_minor > 0).map(|l| (l.account.0, -l.share_minor)));
        let memo = format!("{from}~{to}");
        let t = self.transfer(TransferKind::Interest, &key, physical_id, &memo, actor, now, postings);
        let detail = json!({ "from": from, "to": to, "interest_minor": interest_minor, "accounts": lines.len(),
                             "approved": approval.is_some() });
        match self
            .post_outcome(t, PostWith { approval, ..PostWith::default() }, "vam.interest", detail)
            .await?
        {
            PostOutcome::New(id) => Ok(VamOutcome::Posted { id }),
            // This very allocation was posted before.
            PostOutcome::Repeat(_) => Err(conflict(Conflict::Exists { entity: domain::Entity::Transfer })),
        }
    }
}

/// What a preview shows, as a digest: posting names it, so the checker and the
/// poster act on exactly what was previewed.
fn digest(
    physical_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    interest_minor: i64,
    lines: &[domain::ledger::InterestLine],
) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(physical_id.as_bytes());
    h.update(from.to_string());
    h.update(to.to_string());
    h.update(interest_minor.to_le_bytes());
    for l in lines {
        h.update(l.account.0.as_bytes());
        h.update(l.share_minor.to_le_bytes());
    }
    hex::encode(&h.finalize()[..16])
}
