//! Delivery of returns to the payer (退回付款人). A `ReturnToPayer` resolution
//! writes its posting and a `bank.return_payment` outbox row in one transaction;
//! here a dispatcher takes such rows (a lease, so two desktops do not send the
//! same one at once), and records each outcome with its audit row: sent with the
//! bank's reference, rejected (the money comes back to a new open suspense item,
//! booked by its own balanced transfer), or failed and to be retried.
//!
//! The SQL is one `macro_rules!` body expanded once per database, like `recon/`.

use crate::{NewAudit, NewSuspense, PgStore, Result, SqliteStore, StoreError, truncate_micros};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The outbox topic of a return to the payer.
pub const RETURN_TOPIC: &str = "bank.return_payment";

/// Where a return instruction's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnStatus {
    /// Not sent yet, or sent without an answer recorded (it is sent again).
    Pending,
    /// The bank accepted it.
    Sent,
    /// The bank refused it; the money is back in suspense.
    Rejected,
    /// Never sent: the stored instruction differs from what the database's own
    /// item and statement line say (edited or forged in the outbox).
    RefusedTampered,
    /// Never sent: another instruction already stands for the same item.
    RefusedDuplicate,
    /// The bank's answer leaves it unclear where the money is (already returned,
    /// a code we do not know): nothing is posted, a person decides.
    NeedsReview,
    /// Failed too many times to be retried: a person decides.
    Stuck,
}

impl ReturnStatus {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Rejected => "rejected",
            Self::RefusedTampered => "refused_tampered",
            Self::RefusedDuplicate => "refused_duplicate",
            Self::NeedsReview => "needs_review",
            Self::Stuck => "stuck",
        }
    }
}

impl TryFrom<String> for ReturnStatus {
    type Error = StoreError;

    fn try_from(code: String) -> Result<Self> {
        match code.as_str() {
            "pending" => Ok(Self::Pending),
            "sent" => Ok(Self::Sent),
            "rejected" => Ok(Self::Rejected),
            "refused_tampered" => Ok(Self::RefusedTampered),
            "refused_duplicate" => Ok(Self::RefusedDuplicate),
            "needs_review" => Ok(Self::NeedsReview),
            "stuck" => Ok(Self::Stuck),
            other => Err(StoreError::Data(format!("return status {other}"))),
        }
    }
}

/// A return instruction (the outbox row) with its delivery so far.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReturnInstructionRow {
    /// The instruction id (UUIDv7): the outbox row's id and the bank's idempotency key.
    pub id: Uuid,
    /// The instruction as the resolution wrote it (JSON).
    pub payload: String,
    /// When the resolution wrote it.
    pub at: DateTime<Utc>,
    /// Delivery status (`pending` until a dispatcher records an outcome).
    #[sqlx(try_from = "String")]
    pub status: ReturnStatus,
    /// Sends whose outcome was recorded.
    pub attempts: i32,
    /// Sent: the bank's reference of the return.
    pub bank_ref: Option<String>,
    /// Rejected: the bank's reason code.
    pub reject_reason: Option<String>,
    /// The last failure, as a code.
    pub last_error: Option<String>,
    /// After a failure, not sent again before this.
    pub retry_at: Option<DateTime<Utc>>,
    /// Rejected: the open item the money came back to.
    pub returned_item_id: Option<Uuid>,
    /// When the outcome (sent or rejected) was recorded.
    pub sent_at: Option<DateTime<Utc>>,
}

/// One outcome of sending a return instruction.
#[derive(Debug, Clone, PartialEq)]
pub enum ReturnOutcomeWrite {
    /// The bank accepted it.
    Sent {
        /// The bank's reference of the return.
        bank_ref: String,
    },
    /// The bank refused it: the money stays on the physical account and comes
    /// back to suspense as a new open item, parked by its own transfer.
    Rejected {
        /// The bank's reason code.
        reason: String,
        /// The new item (status `open`) and the transfer that parks it.
        back: Box<NewSuspense>,
        /// Event JSON on the original item.
        event: String,
        /// Event JSON on the new item, after its `found` event.
        back_event: String,
    },
    /// Final without a posting: [`ReturnStatus::RefusedTampered`],
    /// [`ReturnStatus::NeedsReview`] or [`ReturnStatus::Stuck`]. The money stays
    /// where the resolution put it until a person decides.
    Held {
        /// The final state (one of the three above).
        status: ReturnStatus,
        /// Why, as a code (no payload, no customer data).
        code: String,
    },
    /// No answer (timeout, connection, HTTP error, a protocol error): still
    /// pending, sent again from `retry_at`.
    Failed {
        /// What went wrong, as a code (no payload, no customer data).
        error: String,
        /// Not before this.
        retry_at: DateTime<Utc>,
    },
}

/// An outcome to record.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnWrite {
    /// The instruction.
    pub id: Uuid,
    /// The item the return resolved.
    pub item_id: Uuid,
    /// The lease the dispatcher took ([`ReturnStore::lease_return`]'s `until`):
    /// the outcome is recorded only while the instruction is still leased with
    /// it, so a dispatcher whose lease ran out (and was taken over) records nothing.
    pub lease_until: DateTime<Utc>,
    /// What happened.
    pub outcome: ReturnOutcomeWrite,
    /// Who records it (the dispatcher: `system`).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What [`ReturnStore::lease_return`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnLease {
    /// Taken until the given time: send it.
    Taken,
    /// Another dispatcher holds it, it is not due, or it is no longer pending.
    Busy,
    /// Another instruction already stands for the same item (at most one per
    /// item): never send this one.
    OtherInstruction,
}

/// Storage of return deliveries (a supertrait of [`crate::Store`]).
#[async_trait]
pub trait ReturnStore: Send + Sync {
    /// Return instructions not delivered and due at `now` (never taken, or failed
    /// with their retry time passed, and not leased by a live dispatcher), oldest first.
    async fn due_returns(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<ReturnInstructionRow>>;
    /// Takes an instruction for sending until `until` (see [`ReturnLease`]).
    async fn lease_return(
        &self,
        id: Uuid,
        item_id: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ReturnLease>;
    /// Marks an instruction [`ReturnStatus::RefusedDuplicate`] (never sent) with
    /// its audit row, in one transaction. `false`: it has a delivery row already.
    async fn refuse_duplicate_return(
        &self,
        id: Uuid,
        item_id: Uuid,
        at: DateTime<Utc>,
        audit: NewAudit,
    ) -> Result<bool>;
    /// Records an outcome with its audit row in one transaction. `false` (nothing
    /// written): the instruction is no longer pending or no longer leased with
    /// `w.lease_until` (another dispatcher took it over or recorded it).
    async fn record_return(&self, w: ReturnWrite, audit: NewAudit) -> Result<bool>;
    /// One instruction with its delivery.
    async fn return_instruction(&self, id: Uuid) -> Result<Option<ReturnInstructionRow>>;
    /// The return instructions of an item, oldest first.
    async fn returns_of_item(&self, item_id: Uuid) -> Result<Vec<ReturnInstructionRow>>;
    /// The bank reference and payer name of a bank credit notice.
    async fn credit_origin(&self, credit_id: Uuid) -> Result<Option<(String, String)>>;
}

/// The instructions with their delivery (a missing delivery row: never taken).
const RETURN_SELECT: &str = "SELECT o.id, o.payload, o.at, COALESCE(r.status, 'pending') AS status, \
     COALESCE(r.attempts, 0) AS attempts, r.bank_ref, r.reject_reason, r.last_error, r.retry_at, \
     r.returned_item_id, o.sent_at FROM outbox o LEFT JOIN bank_returns r ON r.id = o.id ";

macro_rules! returns_impl {
    ($store:ident, $db:ty, $m:ident) => {
        mod $m {
            use super::*;
            // Items and their events are written as reconciliation writes them.
            use crate::recon::$m::{event, insert_item};

            #[async_trait]
            impl ReturnStore for $store {
                async fn due_returns(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<ReturnInstructionRow>> {
                    let now = truncate_micros(now);
                    Ok(sqlx::query_as(&format!(
                        "{RETURN_SELECT} WHERE o.topic = $1 AND o.sent_at IS NULL \
                         AND (r.id IS NULL OR (r.status = 'pending' AND (r.lease_until IS NULL OR r.lease_until < $2) \
                         AND (r.retry_at IS NULL OR r.retry_at <= $2))) ORDER BY o.id LIMIT $3"
                    ))
                    .bind(RETURN_TOPIC)
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?)
                }

                async fn lease_return(&self, id: Uuid, item_id: Uuid, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<ReturnLease> {
                    let now = truncate_micros(now);
                    let mut tx = self.pool.begin().await?;
                    // The delivery row appears with the first lease; a lease is a lock,
                    // not a change of state (the outcome is audited when recorded).
                    // No conflict target: the one-per-item index also drops the row
                    // of a second instruction for the item (checked just below).
                    sqlx::query(
                        "INSERT INTO bank_returns (id, item_id, status, attempts, updated_at) \
                         VALUES ($1, $2, 'pending', 0, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(id)
                    .bind(item_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let mine: Option<Uuid> = sqlx::query_scalar("SELECT item_id FROM bank_returns WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if mine != Some(item_id) {
                        // Another instruction holds the item (or this id names
                        // another item): the caller refuses it.
                        tx.commit().await?;
                        return Ok(ReturnLease::OtherInstruction);
                    }
                    let n = sqlx::query(
                        "UPDATE bank_returns SET lease_until = $2 WHERE id = $1 AND status = 'pending' \
                         AND (lease_until IS NULL OR lease_until < $3) AND (retry_at IS NULL OR retry_at <= $3)",
                    )
                    .bind(id)
                    .bind(truncate_micros(until))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    tx.commit().await?;
                    Ok(if n == 1 { ReturnLease::Taken } else { ReturnLease::Busy })
                }

                async fn refuse_duplicate_return(&self, id: Uuid, item_id: Uuid, at: DateTime<Utc>, audit: NewAudit) -> Result<bool> {
                    let at = truncate_micros(at);
                    let mut tx = self.pool.begin().await?;
                    // `refused_duplicate` rows stay out of the one-per-item index.
                    let n = sqlx::query(
                        "INSERT INTO bank_returns (id, item_id, status, attempts, last_error, updated_at) \
                         VALUES ($1, $2, 'refused_duplicate', 0, 'duplicate_instruction', $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(id)
                    .bind(item_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    crate::$store::append_audit_tx(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn record_return(&self, w: ReturnWrite, audit: NewAudit) -> Result<bool> {
                    let at = truncate_micros(w.at);
                    let lease = truncate_micros(w.lease_until);
                    let mut tx = self.pool.begin().await?;
                    // Compare-and-set on `pending` and on our own lease first: two
                    // dispatchers that both got an answer (the bank gave both the
                    // same) record it once, and one whose lease was taken over records nothing.
                    let n = match &w.outcome {
                        ReturnOutcomeWrite::Sent { bank_ref } => sqlx::query(
                            "UPDATE bank_returns SET status = 'sent', bank_ref = $2, attempts = attempts + 1, \
                             lease_until = NULL, retry_at = NULL, updated_at = $3 WHERE id = $1 AND status = 'pending' AND lease_until = $4",
                        )
                        .bind(w.id)
                        .bind(bank_ref)
                        .bind(at)
                        .bind(lease)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected(),
                        ReturnOutcomeWrite::Rejected { reason, .. } => sqlx::query(
                            "UPDATE bank_returns SET status = 'rejected', reject_reason = $2, attempts = attempts + 1, \
                             lease_until = NULL, retry_at = NULL, updated_at = $3 WHERE id = $1 AND status = 'pending' AND lease_until = $4",
                        )
                        .bind(w.id)
                        .bind(reason)
                        .bind(at)
                        .bind(lease)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected(),
                        ReturnOutcomeWrite::Held { status, code } => sqlx::query(
                            "UPDATE bank_returns SET status = $2, last_error = $3, attempts = attempts + 1, \
                             lease_until = NULL, retry_at = NULL, updated_at = $4 WHERE id = $1 AND status = 'pending' \
                             AND lease_until = $5",
                        )
                        .bind(w.id)
                        .bind(status.as_str())
                        .bind(code)
                        .bind(at)
                        .bind(lease)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected(),
                        ReturnOutcomeWrite::Failed { error, retry_at } => sqlx::query(
                            "UPDATE bank_returns SET last_error = $2, retry_at = $3, attempts = attempts + 1, \
                             lease_until = NULL, updated_at = $4 WHERE id = $1 AND status = 'pending' AND lease_until = $5",
                        )
                        .bind(w.id)
                        .bind(error)
                        .bind(truncate_micros(*retry_at))
                        .bind(at)
                        .bind(lease)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected(),
                    };
                    if n == 0 {
                        return Ok(false);
                    }
                    match &w.outcome {
                        ReturnOutcomeWrite::Sent { .. } => {}
                        ReturnOutcomeWrite::Rejected { back, event: original, back_event, .. } => {
                            insert_item(&mut tx, back, &w.actor).await?;
                            // Named once the item exists (the key is checked at once on SQLite).
                            sqlx::query("UPDATE bank_returns SET returned_item_id = $2 WHERE id = $1")
                                .bind(w.id)
                                .bind(back.item.id)
                                .execute(&mut *tx)
                                .await?;
                            event(&mut tx, w.item_id, w.at, &w.actor, original).await?;
                            event(&mut tx, back.item.id, w.at, &w.actor, back_event).await?;
                        }
                        ReturnOutcomeWrite::Held { .. } | ReturnOutcomeWrite::Failed { .. } => {}
                    }
                    if matches!(w.outcome, ReturnOutcomeWrite::Sent { .. } | ReturnOutcomeWrite::Rejected { .. }) {
                        // Delivered (answered): the outbox row is done. Held ones were
                        // never delivered; their status keeps them out of the scan.
                        sqlx::query("UPDATE outbox SET sent_at = $2 WHERE id = $1")
                            .bind(w.id)
                            .bind(at)
                            .execute(&mut *tx)
                            .await?;
                    }
                    crate::$store::append_audit_tx(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn return_instruction(&self, id: Uuid) -> Result<Option<ReturnInstructionRow>> {
                    Ok(sqlx::query_as(&format!("{RETURN_SELECT} WHERE o.id = $1 AND o.topic = $2"))
                        .bind(id)
                        .bind(RETURN_TOPIC)
                        .fetch_optional(&self.pool)
                        .await?)
                }

                async fn returns_of_item(&self, item_id: Uuid) -> Result<Vec<ReturnInstructionRow>> {
                    // Before its first lease an instruction names its item only in its
                    // payload (`"item": "<id>"`), which every return carries.
                    Ok(sqlx::query_as(&format!("{RETURN_SELECT} WHERE o.topic = $1 AND o.payload LIKE $2 ORDER BY o.id"))
                        .bind(RETURN_TOPIC)
                        .bind(format!("%\"item\":\"{item_id}\"%"))
                        .fetch_all(&self.pool)
                        .await?)
                }

                async fn credit_origin(&self, credit_id: Uuid) -> Result<Option<(String, String)>> {
                    Ok(sqlx::query_as("SELECT bank_ref, payer FROM bank_credits WHERE id = $1")
                        .bind(credit_id)
                        .fetch_optional(&self.pool)
                        .await?)
                }
            }
        }
    };
}

returns_impl!(SqliteStore, sqlx::Sqlite, sqlite);
returns_impl!(PgStore, sqlx::Postgres, pg);
