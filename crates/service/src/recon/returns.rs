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
//!   and recording: the lease runs out and the next pass resends); after
//!   `MAX_ATTEMPTS` it is `stuck`;
//! - **held** for a person, nothing posted: the stored instruction differs from
//!   what the database says (`refused_tampered`), another instruction stands for
//!   the item (`refused_duplicate`), or the bank's refusal does not say the money
//!   stayed (`needs_review`: `already_returned`, a code we do not know).
//!
//! When: the dispatcher's loop ([`ReturnDispatcher::spawn`]) runs a pass when it
//! starts, whenever a resolution commits a return (the resolution rings it), and
//! every interval for the retries; [`ReturnDispatcher::send_due`] is one pass.

use super::audit;
use super::run::{blank_item, parking};
use crate::error::{Result, data_error, not_found};
use crate::gateway::{BankGateway, GatewayError, HttpConfig, ReturnAnswer, ReturnRejection, ReturnRequest};
use chrono::{DateTime, Duration, Utc};
use domain::Entity;
use domain::audit::SYSTEM_ACTOR;
use domain::ledger::business_date;
use domain::suspense::{ActionKind, SuspenseEvent, SuspenseKind, SuspenseStatus};
use serde::Deserialize;
use std::sync::Arc;
use store::{
    NewSuspense, ReturnInstructionRow, ReturnLease, ReturnOutcomeWrite, ReturnStatus, ReturnWrite, Store,
    SuspenseItemRow, day_number,
};
use tokio::sync::Notify;
use uuid::Uuid;

/// How long a dispatcher holds an instruction it is sending, unless sized from
/// the client ([`ReturnDispatcher::with_client_limits`]): far beyond the default
/// client's worst case (3 attempts of 3 s plus backoff), so a live send is never
/// doubled; after a crash the instruction is sent again once this has passed.
const LEASE_SECONDS: i64 = 120;
/// Added to the client's worst case when the lease is sized from it (our own
/// reads and the outcome's write happen under the lease too).
const LEASE_MARGIN_SECONDS: i64 = 60;
/// Sends that failed before an instruction is given up as `stuck` (a person
/// looks at it: an instruction the bank never takes would retry forever).
const MAX_ATTEMPTS: i32 = 8;
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

/// What the bank is told for `item`, as the database's own item, physical account
/// and statement line (or bank notice) have it. The resolution writes it to the
/// outbox; the dispatcher rebuilds it at send time and sends only if the stored
/// payload still says the same (the outbox is writable by the application role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expected {
    item: Uuid,
    amount_minor: i64,
    account_number: String,
    /// The original credit's reference; without it the bank cannot return.
    pub(crate) bank_ref: Option<String>,
    payee_account: Option<String>,
    payee_name: Option<String>,
    reason_code: &'static str,
}

/// [`Expected`] for `item`.
pub(crate) async fn expected(store: &dyn Store, item: &SuspenseItemRow) -> Result<Expected> {
    let account =
        store.physical(item.physical_id).await?.ok_or_else(|| not_found(Entity::PhysicalAccount))?;
    let line = match item.line_id {
        Some(l) => store.lines(&[l]).await?.into_iter().next().map(|(l, _)| l),
        None => None,
    };
    let (bank_ref, payee_account, payee_name) = match (&line, item.credit_id) {
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
    Ok(Expected {
        item: item.id,
        amount_minor: item.amount_minor,
        account_number: account.number,
        bank_ref: bank_ref.filter(|r| !r.trim().is_empty()),
        payee_account,
        payee_name,
        reason_code: reason_code(item.kind),
    })
}

/// The instruction a `ReturnToPayer` resolution of `item` writes to the outbox:
/// the item, the amount, the physical account, and the original credit as the
/// statement line (or the bank notice) had it. `reason` stays with us.
pub(crate) fn instruction(e: &Expected, reason: &str) -> serde_json::Value {
    serde_json::json!({
        "item": e.item, "amount_minor": e.amount_minor, "account_number": e.account_number,
        "bank_ref": e.bank_ref, "payee_account": e.payee_account, "payee_name": e.payee_name,
        "reason_code": e.reason_code, "reason": reason.trim(),
    })
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

impl Instruction {
    /// The first field where the stored instruction differs from what the
    /// database says (`None`: it is what the resolution wrote). Older rows may
    /// lack the account and the reason code; then the expected ones are sent.
    fn differs_from(&self, e: &Expected) -> Option<&'static str> {
        let blank = |v: &Option<String>| v.clone().filter(|r| !r.trim().is_empty());
        if self.item != e.item {
            Some("item")
        } else if self.amount_minor != e.amount_minor {
            Some("amount_minor")
        } else if self.account_number.as_ref().is_some_and(|n| *n != e.account_number) {
            Some("account_number")
        } else if blank(&self.bank_ref) != e.bank_ref {
            Some("bank_ref")
        } else if self.payee_account != e.payee_account {
            Some("payee_account")
        } else if self.payee_name != e.payee_name {
            Some("payee_name")
        } else if self.reason_code.as_deref().is_some_and(|c| c != e.reason_code) {
            Some("reason_code")
        } else {
            None
        }
    }
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
    /// Never sent or not settled, for a person to decide: the stored instruction
    /// was edited, another instruction stands for the item, the bank's answer is
    /// unclear (already returned, an unknown code), or it failed too often.
    pub held: u32,
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
    /// Final without a posting, for a person: `refused_tampered`,
    /// `refused_duplicate`, `needs_review` or `stuck`.
    Held {
        /// The final state.
        status: ReturnStatus,
        /// Why, as a code.
        code: String,
    },
    /// Another dispatcher holds it or recorded it first.
    Busy,
}

/// Sends pending return instructions through the bank gateway (see the module docs).
pub struct ReturnDispatcher {
    store: Arc<dyn Store>,
    bank: Arc<dyn BankGateway>,
    lease: Duration,
}

/// What the bank's refusal means for the money.
fn refusal_is_clear(reason: &ReturnRejection) -> bool {
    // Only these say the money did not leave: it comes back to suspense. An
    // `already_returned` or a code we do not know may mean it left (by another
    // instruction): posting it back would create money, so a person decides.
    matches!(
        reason,
        ReturnRejection::AccountClosed
            | ReturnRejection::AccountBlocked
            | ReturnRejection::OriginalNotFound
            | ReturnRejection::InsufficientFunds
    )
}

impl ReturnDispatcher {
    /// A dispatcher over `store` sending through `bank`.
    pub fn new(store: Arc<dyn Store>, bank: Arc<dyn BankGateway>) -> Self {
        Self { store, bank, lease: Duration::seconds(LEASE_SECONDS) }
    }

    /// Sizes the lease from the client's limits: every attempt timing out, with
    /// every backoff, plus a margin; never shorter than the default.
    pub fn with_client_limits(mut self, config: &HttpConfig) -> Self {
        let attempts = i64::from(config.retries).saturating_add(1);
        let backoff =
            i64::try_from(config.backoff_ms).unwrap_or(i64::MAX).saturating_mul(1i64 << attempts.min(16));
        let worst_ms = i64::try_from(config.timeout_ms)
            .unwrap_or(i64::MAX)
            .saturating_mul(attempts)
            .saturating_add(backoff);
        let sized = Duration::milliseconds(worst_ms).checked_add(&Duration::seconds(LEASE_MARGIN_SECONDS));
        self.lease = sized.unwrap_or(self.lease).max(Duration::seconds(LEASE_SECONDS));
        self
    }

    /// One pass starting at `now`: every instruction due is sent once and its
    /// outcome recorded. Each instruction is leased at `now` plus the time the
    /// pass has taken so far (a long pass does not hand out expired leases).
    pub async fn send_due(&self, now: DateTime<Utc>) -> Result<ReturnsPass> {
        let start = std::time::Instant::now();
        let clock = move || now + Duration::from_std(start.elapsed()).unwrap_or_else(|_| Duration::zero());
        self.send_due_by(&clock).await
    }

    /// One pass, with the time of each step from `clock`. An instruction that
    /// cannot be read is logged and left; the others still go.
    pub async fn send_due_by(
        &self,
        clock: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
    ) -> Result<ReturnsPass> {
        let mut pass = ReturnsPass::default();
        for _ in 0..MAX_ROUNDS {
            let due = self.store.due_returns(clock(), ROUND).await?;
            let full = due.len() == ROUND as usize;
            let mut moved = false;
            for row in &due {
                // Taken per instruction: the lease starts when this one is sent.
                match self.deliver(row, clock()).await {
                    Ok(ReturnDelivery::Sent { .. }) => pass.sent += 1,
                    Ok(ReturnDelivery::Rejected { .. }) => pass.rejected += 1,
                    Ok(ReturnDelivery::Failed { .. }) => pass.failed += 1,
                    Ok(ReturnDelivery::Held { .. }) => pass.held += 1,
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
        let target = format!("suspense:{}", item.id);
        let until = now + self.lease;
        match self.store.lease_return(row.id, item.id, now, until).await? {
            ReturnLease::Taken => {}
            ReturnLease::Busy => return Ok(ReturnDelivery::Busy),
            ReturnLease::OtherInstruction => {
                // Each instruction id is a new payout at the bank: only the
                // item's first instruction is ever sent.
                let code = "duplicate_instruction".to_owned();
                let detail = serde_json::json!({ "instruction": row.id, "item": item.id, "code": code });
                let a = audit(now, SYSTEM_ACTOR, "recon.return_refused", target, detail);
                tracing::warn!(instruction = %row.id, item = %item.id, "second return instruction for an item refused");
                let done = self.store.refuse_duplicate_return(row.id, item.id, now, a).await?;
                return Ok(if done {
                    ReturnDelivery::Held { status: ReturnStatus::RefusedDuplicate, code }
                } else {
                    ReturnDelivery::Busy
                });
            }
        }
        let answer = match self.request(row.id, &ins, &item).await? {
            Ok(req) => self.bank.return_payment(&req).await.map_err(|e| failure_code(&e)),
            Err(Refusal::Tampered(field)) => {
                // Never sent, never posted: the instruction no longer says what the
                // database says; a person finds out who changed it.
                tracing::warn!(instruction = %row.id, field, "return instruction differs from its item: not sent");
                let code = format!("tampered:{field}");
                let detail = serde_json::json!({
                    "instruction": row.id, "item": item.id, "code": code, "attempt": row.attempts + 1,
                });
                let held =
                    ReturnOutcomeWrite::Held { status: ReturnStatus::RefusedTampered, code: code.clone() };
                let delivery = ReturnDelivery::Held { status: ReturnStatus::RefusedTampered, code };
                return self
                    .record(row, &item, until, held, delivery, "recon.return_refused", detail, now)
                    .await;
            }
            Err(Refusal::Unsendable(problem)) => Err(problem.to_owned()),
        };
        let mut detail = serde_json::json!({
            "instruction": row.id, "item": item.id, "amount_minor": item.amount_minor, "attempt": row.attempts + 1,
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
            Ok(ReturnAnswer::Rejected { reason, .. }) if refusal_is_clear(&reason) => {
                // The amount is the item's (checked equal to the instruction's).
                let back = self.back_to_suspense(row.id, &item, item.amount_minor, now).await?;
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
            Ok(ReturnAnswer::Rejected { reason, .. }) => {
                tracing::warn!(instruction = %row.id, reason = reason.as_str(), "return answer unclear: needs a person");
                let code = format!("rejected:{}", reason.as_str());
                detail["code"] = code.clone().into();
                (
                    ReturnOutcomeWrite::Held { status: ReturnStatus::NeedsReview, code: code.clone() },
                    ReturnDelivery::Held { status: ReturnStatus::NeedsReview, code },
                    "recon.return_needs_review",
                )
            }
            Err(error) if row.attempts.saturating_add(1) >= MAX_ATTEMPTS => {
                // Given up: it would retry forever (no reference, not posted, an
                // envelope the bank calls invalid) and nobody would see it.
                tracing::warn!(instruction = %row.id, %error, "return failed too often: stuck");
                detail["error"] = error.clone().into();
                let code = format!("stuck:{error}");
                (
                    ReturnOutcomeWrite::Held { status: ReturnStatus::Stuck, code: code.clone() },
                    ReturnDelivery::Held { status: ReturnStatus::Stuck, code },
                    "recon.return_stuck",
                )
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
        self.record(row, &item, until, outcome, delivery, action, detail, now).await
    }

    /// Records an outcome under the lease taken until `until`, with its audit row.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        row: &ReturnInstructionRow,
        item: &SuspenseItemRow,
        until: DateTime<Utc>,
        outcome: ReturnOutcomeWrite,
        delivery: ReturnDelivery,
        action: &str,
        detail: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<ReturnDelivery> {
        let target = format!("suspense:{}", item.id);
        let w = ReturnWrite {
            id: row.id,
            item_id: item.id,
            lease_until: until,
            outcome,
            actor: SYSTEM_ACTOR.to_owned(),
            at: now,
        };
        let recorded = self.store.record_return(w, audit(now, SYSTEM_ACTOR, action, target, detail)).await?;
        Ok(if recorded { delivery } else { ReturnDelivery::Busy })
    }

    /// The bank's request, or why there can be none. Only an item the return
    /// resolved, i.e. whose posting exists, is ever sent, and only with what the
    /// database's own item and statement line say.
    async fn request(
        &self,
        id: Uuid,
        ins: &Instruction,
        item: &SuspenseItemRow,
    ) -> Result<std::result::Result<ReturnRequest, Refusal>> {
        let resolved = item.status == SuspenseStatus::Resolved
            && item.action.as_deref() == Some(ActionKind::ReturnToPayer.as_str())
            && item.resolution_id.is_some();
        if !resolved {
            return Ok(Err(Refusal::Unsendable("not_posted")));
        }
        let expected = expected(self.store.as_ref(), item).await?;
        if let Some(field) = ins.differs_from(&expected) {
            return Ok(Err(Refusal::Tampered(field)));
        }
        let Some(original_bank_ref) = expected.bank_ref else {
            return Ok(Err(Refusal::Unsendable("no_original_reference")));
        };
        // What is sent is rebuilt from the database, never read from the payload.
        Ok(Ok(ReturnRequest {
            account_number: expected.account_number,
            original_bank_ref,
            amount_minor: expected.amount_minor,
            payer_name: expected.payee_name,
            payer_account: expected.payee_account,
            instruction_id: id,
            reason_code: expected.reason_code.to_owned(),
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
    /// gives the time of each step (each instruction's lease starts when it is sent).
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
                if let Err(e) = self.send_due_by(&clock).await {
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

/// Why an instruction is not sent.
enum Refusal {
    /// The stored payload differs from the database in this field: never sent.
    Tampered(&'static str),
    /// It cannot be sent (yet): a failure code, retried until [`MAX_ATTEMPTS`].
    Unsendable(&'static str),
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
