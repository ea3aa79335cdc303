//! Holds (冻结) and four-eyes proposals: placing, releasing, expiring, and taking a
//! checker's approval inside the transaction that acts on it.

use super::*;
use crate::{StoreError, truncate_micros};
use domain::Conflict;

macro_rules! holds_sql {
    ($m:ident, $store:ident, $db:ty) => {
        pub(crate) mod $m {
            use super::*;

            #[allow(dead_code)]
            type Tx<'c> = sqlx::Transaction<'c, $db>;

            /// Takes `amount` out of a pending, unexpired hold (never more than it still
            /// reserves; `emptied` is its status when nothing remains) and out of its
            /// account's held total. Returns the account.
            pub(crate) async fn take_from_hold(
                tx: &mut Tx<'_>,
                hold: Uuid,
                amount: i64,
                emptied: &str,
                now: DateTime<Utc>,
            ) -> Result<Uuid> {
                let account: Option<Uuid> = sqlx::query_scalar(
                    "UPDATE holds SET remaining_minor = remaining_minor - $2, \
                     status = CASE WHEN remaining_minor = $2 THEN $4 ELSE status END, updated_at = $3 \
                     WHERE id = $1 AND status = 'pending' AND $2 > 0 AND remaining_minor >= $2 \
                     AND (expires_at IS NULL OR expires_at > $3) RETURNING account_id",
                )
                .bind(hold)
                .bind(amount)
                .bind(now)
                .bind(emptied)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(account) = account else { return Err(conflict(Conflict::Changed)) };
                sqlx::query("UPDATE ledger_accounts SET held_minor = held_minor - $2 WHERE id = $1")
                    .bind(account)
                    .bind(amount)
                    .execute(&mut **tx)
                    .await?;
                Ok(account)
            }

            /// Takes a checker's approval: pending, and not the checker's own.
            pub(crate) async fn approve_tx(tx: &mut Tx<'_>, g: &ProposalGuard, approve: bool) -> Result<()> {
                let n = sqlx::query(
                    "UPDATE vam_proposals SET status = $4, decided_by = $2, decided_at = $3 \
                     WHERE id = $1 AND status = 'pending' AND proposed_by <> $2",
                )
                .bind(g.proposal_id)
                .bind(&g.checker)
                .bind(truncate_micros(g.at))
                .bind(if approve { "approved" } else { "rejected" })
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if n == 1 {
                    return Ok(());
                }
                let maker: Option<String> = sqlx::query_scalar("SELECT proposed_by FROM vam_proposals WHERE id = $1")
                    .bind(g.proposal_id)
                    .fetch_optional(&mut **tx)
                    .await?;
                Err(match maker {
                    None => StoreError::NotFound(domain::Entity::Proposal),
                    Some(maker) if maker == g.checker => conflict(Conflict::MakerIsChecker),
                    Some(_) => conflict(Conflict::ProposalDecided),
                })
            }

            pub(crate) async fn place_hold(s: &$store, h: &HoldRow, audit: NewAudit) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let n = sqlx::query(
                    "UPDATE ledger_accounts SET held_minor = held_minor + $2 \
                     WHERE id = $1 AND $2 > 0 AND credits_minor - debits_minor - held_minor >= $2 \
                     AND NOT EXISTS (SELECT 1 FROM virtual_accounts v WHERE v.id = $1 \
                                     AND v.status IN ('closed', 'quarantined'))",
                )
                .bind(h.account_id)
                .bind(h.amount_minor)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(crate::vam::posting::$m::refusal(&mut tx, h.account_id).await);
                }
                let at = truncate_micros(h.placed_at);
                sqlx::query(
                    "INSERT INTO holds (id, account_id, amount_minor, remaining_minor, status, reason, expires_at, \
                     placed_by, placed_at, updated_at) VALUES ($1, $2, $3, $3, 'pending', $4, $5, $6, $7, $7)",
                )
                .bind(h.id)
                .bind(h.account_id)
                .bind(h.amount_minor)
                .bind(&h.reason)
                .bind(h.expires_at.map(truncate_micros))
                .bind(&h.placed_by)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn release_hold(
                s: &$store,
                hold: Uuid,
                amount_minor: i64,
                now: DateTime<Utc>,
                approval: Option<&ProposalGuard>,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let now = truncate_micros(now);
                if let Some(guard) = approval {
                    approve_tx(&mut tx, guard, true).await?;
                }
                take_from_hold(&mut tx, hold, amount_minor, "voided", now).await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn expire_holds(s: &$store, account: Uuid, now: DateTime<Utc>) -> Result<u64> {
                let now = truncate_micros(now);
                let mut tx = s.pool.begin().await?;
                // SQLite: take the write lock before reading (a read-then-write
                // transaction can fail to upgrade under another writer).
                sqlx::query("UPDATE ledger_accounts SET held_minor = held_minor WHERE id = $1")
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
                let released: Vec<i64> = sqlx::query_scalar(
                    "UPDATE holds SET status = 'expired', updated_at = $2 WHERE account_id = $1 AND status = 'pending' \
                     AND expires_at IS NOT NULL AND expires_at <= $2 RETURNING remaining_minor",
                )
                .bind(account)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                if !released.is_empty() {
                    let total: i64 = released.iter().sum();
                    sqlx::query("UPDATE ledger_accounts SET held_minor = held_minor - $2 WHERE id = $1")
                        .bind(account)
                        .bind(total)
                        .execute(&mut *tx)
                        .await?;
                    let detail = serde_json::json!({ "holds": released.len(), "released_minor": total });
                    let audit = NewAudit::new(now, "system", "vam.hold_expired", format!("account:{account}"), detail);
                    $store::append_audit_tx(&mut tx, audit).await?;
                }
                tx.commit().await?;
                Ok(released.len() as u64)
            }

            pub(crate) async fn holds(s: &$store, account: Uuid) -> Result<Vec<HoldRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, account_id, amount_minor, remaining_minor, status, reason, expires_at, placed_by, \
                     placed_at FROM holds WHERE account_id = $1 ORDER BY placed_at DESC LIMIT 200",
                )
                .bind(account)
                .fetch_all(&s.pool)
                .await?)
            }

            pub(crate) async fn hold(s: &$store, id: Uuid) -> Result<Option<HoldRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, account_id, amount_minor, remaining_minor, status, reason, expires_at, placed_by, \
                     placed_at FROM holds WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn insert_proposal(s: &$store, p: &ProposalRow, audit: NewAudit) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO vam_proposals (id, operation, amount_minor, proposed_by, proposed_at, status) \
                     VALUES ($1, $2, $3, $4, $5, 'pending')",
                )
                .bind(p.id)
                .bind(&p.operation)
                .bind(p.amount_minor)
                .bind(&p.proposed_by)
                .bind(truncate_micros(p.proposed_at))
                .execute(&mut *tx)
                .await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn pending_proposals(s: &$store) -> Result<Vec<ProposalRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, operation, amount_minor, proposed_by, proposed_at, status FROM vam_proposals \
                     WHERE status = 'pending' ORDER BY proposed_at LIMIT 500",
                )
                .fetch_all(&s.pool)
                .await?)
            }

            pub(crate) async fn proposal(s: &$store, id: Uuid) -> Result<Option<ProposalRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, operation, amount_minor, proposed_by, proposed_at, status FROM vam_proposals WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn decide_proposal(
                s: &$store,
                guard: &ProposalGuard,
                approve: bool,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                approve_tx(&mut tx, guard, approve).await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

holds_sql!(sqlite, SqliteStore, sqlx::Sqlite);
holds_sql!(pg, PgStore, sqlx::Postgres);
