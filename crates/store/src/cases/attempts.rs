//! Verification attempts (rate limits look back over them) and stored evidence packs.

use crate::{AttemptRow, NewAudit, PgStore, Result, SqliteStore, truncate_micros};
use chrono::{DateTime, Utc};
use uuid::Uuid;

macro_rules! attempts {
    ($m:ident, $store:ident) => {
        pub(crate) mod $m {
            use super::*;

            pub(crate) async fn attempts(
                s: &$store,
                claimant_hash: &str,
                card_hash: Option<&str>,
                since: DateTime<Utc>,
            ) -> Result<Vec<AttemptRow>> {
                Ok(sqlx::query_as(
                    "SELECT * FROM verification_attempts WHERE at >= $3 \
                     AND (claimant_hash = $1 OR card_hash = $2) ORDER BY at",
                )
                .bind(claimant_hash)
                .bind(card_hash)
                .bind(truncate_micros(since))
                .fetch_all(&s.pool)
                .await?)
            }

            pub(crate) async fn record_attempt(s: &$store, a: &AttemptRow, audit: NewAudit) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO verification_attempts (id, kind, claimant_hash, card_hash, case_id, at, \
                     passed, answer, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(a.id)
                .bind(a.kind.as_str())
                .bind(&a.claimant_hash)
                .bind(&a.card_hash)
                .bind(a.case_id)
                .bind(truncate_micros(a.at))
                .bind(a.passed)
                .bind(&a.answer)
                .bind(&a.actor)
                .execute(&mut *tx)
                .await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn evidence_pack(s: &$store, case_id: Uuid) -> Result<Option<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT sha256, json FROM evidence_packs WHERE case_id = $1 ORDER BY created_at DESC LIMIT 1",
                )
                .bind(case_id)
                .fetch_optional(&s.pool)
                .await?)
            }
        }
    };
}

attempts!(sqlite, SqliteStore);
attempts!(pg, PgStore);
