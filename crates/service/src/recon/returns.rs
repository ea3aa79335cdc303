//! Returns to the payer (退回付款人) through the bank gateway.
//!
//! A `ReturnToPayer` resolution posts `suspense → asset` (the money leaves the
//! physical account) and writes a `bank.return_payment` instruction to the outbox,
//! both in the resolution's transaction. [`ReturnDispatcher`] sends instructions
//! only after that transaction committed (it reads committed outbox rows, so the
//! posting always exists first), and never inside a database transaction: it
//! leases the instruction, calls the bank, then records the outcome with its
//! audit row:
//!
//! - **sent**: the bank's reference is kept; the instruction is never sent again;
//! - **rejected**: the money never left the bank, so it comes back to suspense as
//!   a new open item of kind `Returned` (退款失败), parked by its own balanced
//!   transfer `asset → sus_returned`; the resolution's posting stays as it was
//!   (entries are immutable) and both items' histories say the bank refused;
//! - **failed** (no answer): still pending, sent again after a backoff with the
//!   same instruction id, which the bank dedupes (so does a crash between sending
//!   and recording: the lease runs out and the next pass resends).
//!
//! When: the dispatcher's loop ([`ReturnDispatcher::spawn`]) runs a pass when it
//! starts, whenever a resolution commits a return (the resolution rings it), and
//! every interval for the retries; [`ReturnDispatcher::send_due`] is one pass.

use super::audit;
use super::run::{blank_item, parking};
use crate::error::{Result, data_error, not_found};
use crate::gateway::{BankGateway, GatewayError, ReturnAnswer, ReturnRequest};
use chrono::{DateTime, Duration, Utc};
use domain::Entity;
use domain::audit::SYSTEM_ACTOR;
use domain::ledger::business_date;
use domain::suspense::{ActionKind, SuspenseEvent, SuspenseKind, SuspenseStatus};
use serde::Deserialize;
use std::sync::Arc;
use store::{
    NewSuspense, ReturnInstructionRow, ReturnOutcomeWrite, ReturnWrite, Store, SuspenseItemRow, day_number,
};
use tokio::sync::Notify;
use uuid::Uuid;

/// How long a dispatcher holds an instruction it is sending: far beyond a
/// client's worst case (3 attempts of 3 s plus backoff), so a live send is never
/// doubled; after a crash the instruction is sent again once this has passed.
const LEASE_SECONDS: i64 = 120;
/// Instructions taken per round of a pass.
const ROUND: u32 = 50;
/// Rounds per pass at most (a pass never spins on rows it cannot take).
const MAX_ROUNDS: usize = 20;
/// First wait after a failure; it doubles per failure, up to [`MAX_RETRY_SECONDS`].
const RETRY_SECONDS: i64 = 30;
/// Longest wait between two attempts.
const MAX_RETRY_SECONDS: i64 = 3_600;

/// Rung when a resolution has committed a return. Process-wide: the resolution
/// (in `ReconService`) and the dispatcher (started with the gateways) share no
/// handle. A ring another database's dispatcher hears costs it one empty pass.
static DOORBELL: Notify = Notify::const_new();

/// Tells the dispatchers of this process that a return was committed.
pub(crate) fn ring() {
    DOORBELL.notify_waiters();
}

/// The ISO 20022 return reason for an item of `kind`.
fn reason_code(kind: SuspenseKind) -> &'static str {
    match kind {
        // The virtual number names no sub-account: no such creditor account.
        SuspenseKind::Unidentified => "AC03",
        // Nothing on our side expected it: returned at the creditor's request.
        _ => "CUST",
    }
}

/// The instruction a `ReturnToPayer` resolution of `item` writes to the outbox:
/// the item, the amount, the physical account, and the original credit as the
/// statement line (or the bank notice) had it. `reason` stays with us.
pub(crate) async fn instruction(
    store: &dyn Store,
    item: &SuspenseItemRow,
    reason: &str,
) -> Result<serde_json::Value> {
    let account =
        store.physical(item.physical_id).await?.ok_or_else(|| not_found(Entity::PhysicalAccount))?;
    let line = match item.line_id {
        Some(l) => store.lines(&[l]).await?.into_iter().next().map(|(l, _)| l),
        None => None,
    };
    let (bank_ref, payer_account, payer_name) = match (&line, item.credit_id) {
        (Some(l), _) => {
            (Some(l.bank_ref.clone()), l.counterparty_account.clone(), l.counterparty_name.clone())
        }
        // A bank notice carries no payer account: the bank returns by its reference.
        (None, Some(credit)) => match store.credit_origin(credit).await? {
            Some((r, payer)) => (Some(r), None, Some(payer)),
            None => (None, None, None),
        },
        (None, None) => (None, None, None),
    };
    Ok(serde_json::json!({
        "item": item.id, "amount_minor": item.amount_minor, "account_number": account.number,
        "bank_ref": bank_ref, "payee_account": payer_account, "payee_name": payer_name,
        "reason_code": reason_code(item.kind), "reason": reason.trim(),
    }))
}

/// An instruction as stored (older rows lack the account and the reason code:
/// they are taken from the item).
#[derive(Debug, Deserialize)]
struct Instruction {
    item: Uuid,
    amount_minor: i64,
    #[serde(default)]
    account_number: Option<String>,
    #[serde(default)]
    bank_ref: Option<String>,
    #[serde(default)]
    payee_account: Option<String>,
    #[serde(default)]
    payee_name: Option<String>,
    #[serde(default)]
    reason_code: Option<String>,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReturnsPass {
    /// Accepted by the bank.
    pub sent: u32,
    /// Refused by the bank (each brought back to suspense).
    pub rejected: u32,
    /// No answer: pending, sent again later.
    pub failed: u32,
    /// Held by another dispatcher (or recorded by it meanwhile).
    pub busy: u32,
}

/// What happened to one instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnDelivery {
    /// Accepted, with the bank's reference.
    Sent {
        /// The bank's reference of the return.
        bank_ref: String,
    },
    /// Refused; the money is back in suspense on `returned_item`.
    Rejected {
        /// The bank's reason code.
        reason: String,
        /// The new open item.
        returned_item: Uuid,
    },
    /// No answer; sent again from `retry_at`.
    Failed {
        /// What went wrong, as a code.
        error: String,
        /// Not before this.
        retry_at: DateTime<Utc>,
    },
    /// Another dispatcher holds it or recorded it first.
    Busy,
}

/// Sends pending return instructions through the bank gateway (see the module docs).
pub struct ReturnDispatcher {
    store: Arc<dyn Store>,
    bank: Arc<dyn BankGateway>,
}

impl ReturnDispatcher {
    /// A dispatcher over `store` sending through `bank`.
    pub fn new(store: Arc<dyn Store>, bank: Arc<dyn BankGateway>) -> Self {
        Self { store, bank }
    }

    /// One pass: every instruction due at `now` is sent once and its outcome
    /// recorded. An instruction that cannot be read is logged and left; the
    /// others still go.
    pub async fn send_due(&self, now: DateTime<Utc>) -> Result<ReturnsPass> {
        let mut pass = ReturnsPass::default();
        for _ in 0..MAX_ROUNDS {
            let due = self.store.due_returns(now, ROUND).await?;
            let full = due.len() == ROUND as usize;
            let mut moved = false;
            for row in &due {
                match self.deliver(row, now).await {
                    Ok(ReturnDelivery::Sent { .. }) => pass.sent += 1,
                    Ok(ReturnDelivery::Rejected { .. }) => pass.rejected += 1,
                    Ok(ReturnDelivery::Failed { .. }) => pass.failed += 1,
                    Ok(ReturnDelivery::Busy) => {
                        pass.busy += 1;
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(instruction = %row.id, error = %e, "return instruction not sent");
                        pass.failed += 1;
                        continue;
                    }
                }
                moved = true;
            }
            if !full || !moved {
                break;
            }
        }
        Ok(pass)
    }

    /// Sends one instruction (if due and free) and records what the bank said.
    pub async fn deliver(&self, row: &ReturnInstructionRow, now: DateTime<Utc>) -> Result<ReturnDelivery> {
        let ins: Instruction =
            serde_json::from_str(&row.payload).map_err(|_| data_error("return instruction"))?;
        let item =
            self.store.suspense_item(ins.item).await?.ok_or_else(|| not_found(Entity::SuspenseItem))?;
        if !self.store.lease_return(row.id, item.id, now, now + Duration::seconds(LEASE_SECONDS)).await? {
            return Ok(ReturnDelivery::Busy);
        }
        let answer = match self.request(row.id, &ins, &item).await? {
            Ok(req) => self.bank.return_payment(&req).await.map_err(|e| failure_code(&e)),
            Err(problem) => Err(problem.to_owned()),
        };
        let target = format!("suspense:{}", item.id);
        let mut detail = serde_json::json!({
            "instruction": row.id, "item": item.id, "amount_minor": ins.amount_minor, "attempt": row.attempts + 1,
        });
        let (outcome, delivery, action) = match answer {
            Ok(ReturnAnswer::Accepted { bank_ref }) => {
                detail["bank_ref"] = bank_ref.clone().into();
                (
                    ReturnOutcomeWrite::Sent { bank_ref: bank_ref.clone() },
                    ReturnDelivery::Sent { bank_ref },
                    "recon.return_sent",
                )
            }
            // The bank's message is not kept: it may repeat the payer's details.
            Ok(ReturnAnswer::Rejected { reason, .. }) => {
                let back = self.back_to_suspense(row.id, &item, ins.amount_minor, now).await?;
                let returned_item = back.item.id;
                let reason = reason.as_str().to_owned();
                detail["reason"] = reason.clone().into();
                detail["returned_item"] = returned_item.to_string().into();
                let event = event_json(&SuspenseEvent::Rejected { action: ActionKind::ReturnToPayer });
                let outcome = ReturnOutcomeWrite::Rejected {
                    reason: reason.clone(),
                    back: Box::new(back),
                    event: event.clone(),
                    back_event: event,
                };
                (outcome, ReturnDelivery::Rejected { reason, returned_item }, "recon.return_rejected")
            }
            Err(error) => {
                let wait =
                    RETRY_SECONDS.saturating_mul(1i64 << row.attempts.clamp(0, 16)).min(MAX_RETRY_SECONDS);
                let retry_at = now + Duration::seconds(wait);
                tracing::warn!(instruction = %row.id, %error, %retry_at, "return not answered; will retry");
                detail["error"] = error.clone().into();
                detail["retry_at"] = retry_at.to_rfc3339().into();
                (
                    ReturnOutcomeWrite::Failed { error: error.clone(), retry_at },
                    ReturnDelivery::Failed { error, retry_at },
                    "recon.return_failed",
                )
            }
        };
        let w =
            ReturnWrite { id: row.id, item_id: item.id, outcome, actor: SYSTEM_ACTOR.to_owned(), at: now };
        let recorded = self.store.record_return(w, audit(now, SYSTEM_ACTOR, action, target, detail)).await?;
        Ok(if recorded { delivery } else { ReturnDelivery::Busy })
    }

    /// The bank's request, or why there can be none (a code). Only an item the
    /// return resolved, i.e. whose posting exists, is ever sent.
    async fn request(
        &self,
        id: Uuid,
        ins: &Instruction,
        item: &SuspenseItemRow,
    ) -> Result<std::result::Result<ReturnRequest, &'static str>> {
        let resolved = item.status == SuspenseStatus::Resolved
            && item.action.as_deref() == Some(ActionKind::ReturnToPayer.as_str())
            && item.resolution_id.is_some();
        if !resolved {
            return Ok(Err("not_posted"));
        }
        let Some(original_bank_ref) = ins.bank_ref.clone().filter(|r| !r.trim().is_empty()) else {
            return Ok(Err("no_original_reference"));
        };
        let account_number = match &ins.account_number {
            Some(n) => n.clone(),
            None => {
                self.store
                    .physical(item.physical_id)
                    .await?
                    .ok_or_else(|| not_found(Entity::PhysicalAccount))?
                    .number
            }
        };
        Ok(Ok(ReturnRequest {
            account_number,
            original_bank_ref,
            amount_minor: ins.amount_minor,
            payer_name: ins.payee_name.clone(),
            payer_account: ins.payee_account.clone(),
            instruction_id: id,
            reason_code: ins.reason_code.clone().unwrap_or_else(|| reason_code(item.kind).to_owned()),
        }))
    }

    /// The new open item a refused return brings the money back to, with the
    /// transfer that parks it: `asset += amount, sus_returned −= amount`, the
    /// same shape as any item found on a statement. Its line is the original's.
    async fn back_to_suspense(
        &self,
        id: Uuid,
        item: &SuspenseItemRow,
        amount_minor: i64,
        now: DateTime<Utc>,
    ) -> Result<NewSuspense> {
        let accounts = self.store.recon_accounts(item.physical_id).await?;
        let booking = parking(
            &accounts,
            SuspenseKind::Returned,
            format!("return:{id}:rejected"),
            item.physical_id,
            SYSTEM_ACTOR,
            now,
            amount_minor,
        );
        let day = day_number(business_date(now));
        let back = SuspenseItemRow {
            line_id: item.line_id,
            channel: item.channel.clone(),
            counterparty: item.counterparty.clone(),
            booking_id: booking.id,
            ..blank_item(Uuid::now_v7(), item.physical_id, SuspenseKind::Returned, amount_minor, day, now)
        };
        Ok(NewSuspense { item: back, booking: Some(booking) })
    }

    /// Runs passes until the runtime stops: one at once, one whenever a
    /// resolution commits a return, and one every `every` (the retries). `clock`
    /// gives each pass its `now`.
    pub fn spawn<C>(self: Arc<Self>, every: std::time::Duration, clock: C) -> tokio::task::JoinHandle<()>
    where
        C: Fn() -> DateTime<Utc> + Send + Sync + 'static,
    {
        tokio::spawn(async move {
            loop {
                // Armed before the pass: a return committed during it is not missed.
                let rung = DOORBELL.notified();
                tokio::pin!(rung);
                rung.as_mut().enable();
                if let Err(e) = self.send_due(clock()).await {
                    tracing::warn!(error = %e, "return dispatch pass failed");
                }
                tokio::select! {
                    () = &mut rung => {}
                    () = tokio::time::sleep(every) => {}
                }
            }
        })
    }
}

fn event_json(e: &SuspenseEvent) -> String {
    serde_json::to_string(e).unwrap_or_default()
}

/// A failure as a code for the instruction and its audit row: never the
/// service's own words, which may echo the payer.
fn failure_code(e: &GatewayError) -> String {
    match e {
        GatewayError::Timeout { .. } => "timeout".to_owned(),
        GatewayError::Connect { .. } => "connect".to_owned(),
        GatewayError::Http { status, .. } => format!("http_{status}"),
        GatewayError::Rejected { code, .. } => format!("error:{code}"),
        GatewayError::Protocol(_) => "protocol".to_owned(),
        GatewayError::NeedsTls { .. } => "needs_tls".to_owned(),
        GatewayError::BadCaFile { .. } => "bad_ca_file".to_owned(),
    }
}
