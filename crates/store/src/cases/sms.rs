//! Registration / SMS-reset checks and the SMS-reset blocks an unbind leaves:
//! requesting (maker) and lifting (checker) a block.

use super::conflict;
use crate::error::is_unique_violation;
use crate::{HookEventRow, NewAudit, PgStore, Result, SmsBlockRow, SqliteStore, StoreError, truncate_micros};
use chrono::{DateTime, Utc};
use domain::{Conflict, Entity};
use uuid::Uuid;

macro_rules! sms {
    ($m:ident, $store:ident) => {
        pub(crate) mod $m {
            use super::*;

            pub(crate) async fn record_hook(s: &$store, e: &HookEventRow) -> Result<()> {
                sqlx::query(
                    "INSERT INTO hook_events (id, phone, user_id, kind, at, allowed, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(e.id)
                .bind(&e.phone)
                .bind(e.user_id)
                .bind(e.kind.as_str())
                .bind(truncate_micros(e.at))
                .bind(e.allowed)
                .bind(&e.reason)
                .execute(&s.pool)
                .await?;
                Ok(())
            }

            pub(crate) async fn sms_block(s: &$store, user_id: Uuid) -> Result<Option<SmsBlockRow>> {
                Ok(sqlx::query_as(
                    "SELECT * FROM sms_reset_blocks WHERE user_id = $1 AND lifted_at IS NULL \
                     ORDER BY blocked_at DESC LIMIT 1",
                )
                .bind(user_id)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn request_sms_unblock(
                s: &$store,
                user_id: Uuid,
                detail: &str,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let n = sqlx::query(
                    "UPDATE sms_reset_blocks SET lift_detail = $2 WHERE user_id = $1 AND lifted_at IS NULL",
                )
                .bind(user_id)
                .bind(detail)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(conflict(Conflict::NoSmsBlock));
                }
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn lift_sms_block(
                s: &$store,
                user_id: Uuid,
                by: &str,
                reviewed: &str,
                new_phone: Option<&str>,
                now: DateTime<Utc>,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let now = truncate_micros(now);
                let lifted = sqlx::query(
                    "UPDATE sms_reset_blocks SET lifted_at = $2, lifted_by = $3 \
                     WHERE user_id = $1 AND lifted_at IS NULL AND lift_detail = $4",
                )
                .bind(user_id)
                .bind(now)
                .bind(by)
                .bind(reviewed)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                // Exactly the reviewed request (it was written to every open block of
                // the user): none lifted means it changed meanwhile.
                if lifted == 0 {
                    return Err(conflict(Conflict::Changed));
                }
                let unblocked = sqlx::query("UPDATE users SET sms_reset_blocked = FALSE WHERE id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if unblocked != 1 {
                    return Err(StoreError::NotFound(Entity::User));
                }
                if let Some(phone) = new_phone {
                    let bound = sqlx::query("UPDATE users SET phone = $2 WHERE id = $1 AND phone IS NULL")
                        .bind(user_id)
                        .bind(phone)
                        .execute(&mut *tx)
                        .await;
                    match bound {
                        Err(e) if is_unique_violation(&e) => return Err(conflict(Conflict::PhoneTaken)),
                        // The user got a login phone meanwhile: never bind a second one.
                        Ok(r) if r.rows_affected() != 1 => return Err(conflict(Conflict::Changed)),
                        other => {
                            other?;
                        }
                    }
                    sqlx::query(
                        "INSERT INTO phone_bindings (id, user_id, phone, bound_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(Uuid::now_v7())
                    .bind(user_id)
                    .bind(phone)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

sms!(sqlite, SqliteStore);
sms!(pg, PgStore);
