//! Single-row lookups (users, the simulated carrier register, cards) and settings.

use crate::{BankCardRow, CarrierRecordRow, NewAudit, PgStore, Result, SqliteStore, StoreError, UserRow};
use uuid::Uuid;

macro_rules! lookups {
    ($m:ident, $store:ident) => {
        pub(crate) mod $m {
            use super::*;

            pub(crate) async fn setting(s: &$store, key: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&s.pool)
                    .await?)
            }

            pub(crate) async fn put_setting(
                s: &$store,
                key: &str,
                value: &str,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn swap_setting(
                s: &$store,
                key: &str,
                expected: Option<&str>,
                value: &str,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let written = match expected {
                    Some(old) => sqlx::query("UPDATE settings SET value = $3 WHERE key = $1 AND value = $2")
                        .bind(key)
                        .bind(old)
                        .bind(value),
                    None => sqlx::query(
                        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(key)
                    .bind(value),
                }
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if written != 1 {
                    return Err(StoreError::Conflict(domain::Conflict::Changed));
                }
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn user_by_phone(s: &$store, phone: &str) -> Result<Option<UserRow>> {
                Ok(sqlx::query_as("SELECT * FROM users WHERE phone = $1")
                    .bind(phone)
                    .fetch_optional(&s.pool)
                    .await?)
            }

            pub(crate) async fn phone_holder(s: &$store, phone: &str) -> Result<Option<Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT u.customer_id FROM phone_bindings b JOIN users u ON u.id = b.user_id \
                     WHERE b.phone = $1 ORDER BY b.bound_at DESC LIMIT 1",
                )
                .bind(phone)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn carrier_record(s: &$store, phone: &str) -> Result<Option<CarrierRecordRow>> {
                Ok(sqlx::query_as(
                    "SELECT * FROM carrier_records WHERE phone = $1 ORDER BY updated_at DESC LIMIT 1",
                )
                .bind(phone)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn card_by_hash(
                s: &$store,
                card_hash: &str,
            ) -> Result<Option<(BankCardRow, String, Option<String>)>> {
                let card: Option<BankCardRow> = sqlx::query_as(
                    "SELECT * FROM bank_cards WHERE card_hash = $1 ORDER BY bound_at DESC LIMIT 1",
                )
                .bind(card_hash)
                .fetch_optional(&s.pool)
                .await?;
                let Some(card) = card else { return Ok(None) };
                let holder: (String, Option<String>) = sqlx::query_as(
                    "SELECT c.name, c.id_number_hash FROM customers c JOIN users u ON u.customer_id = c.id \
                     WHERE u.id = $1",
                )
                .bind(card.user_id)
                .fetch_one(&s.pool)
                .await?;
                Ok(Some((card, holder.0, holder.1)))
            }
        }
    };
}

lookups!(sqlite, SqliteStore);
lookups!(pg, PgStore);
