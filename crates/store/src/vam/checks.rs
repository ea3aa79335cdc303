//! What the proof and interest read: the replay of every account, the subtree
//! roll-up, day-weighted products, recorded proofs.

use super::*;
use crate::truncate_micros;

macro_rules! checks_sql {
    ($m:ident, $store:ident, $db:ty, $replay_settings:expr) => {
        pub(crate) mod $m {
            use super::*;

            #[allow(dead_code)]
            type Tx<'c> = sqlx::Transaction<'c, $db>;

            pub(crate) async fn record_proof(
                s: &$store,
                physical_id: Uuid,
                at: DateTime<Utc>,
                holds: bool,
                detail: &str,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                sqlx::query("INSERT INTO vam_proofs (id, physical_id, at, holds, detail) VALUES ($1, $2, $3, $4, $5)")
                    .bind(Uuid::now_v7())
                    .bind(physical_id)
                    .bind(truncate_micros(at))
                    .bind(holds)
                    .bind(detail)
                    .execute(&mut *tx)
                    .await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn last_proof(s: &$store, physical_id: Uuid) -> Result<Option<(DateTime<Utc>, bool)>> {
                Ok(sqlx::query_as(
                    "SELECT at, holds FROM vam_proofs WHERE physical_id = $1 ORDER BY at DESC, id DESC LIMIT 1",
                )
                .bind(physical_id)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn replay_breaks(s: &$store, physical_id: Uuid) -> Result<u32> {
                let mut tx = s.pool.begin().await?;
                for setting in $replay_settings {
                    sqlx::query(setting).execute(&mut *tx).await?;
                }
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM ledger_accounts a \
                     LEFT JOIN (SELECT l.account_id, \
                                  CAST(SUM(CASE WHEN l.amount_minor > 0 THEN l.amount_minor ELSE 0 END) AS BIGINT) AS d, \
                                  CAST(SUM(CASE WHEN l.amount_minor < 0 THEN -l.amount_minor ELSE 0 END) AS BIGINT) AS c \
                                FROM transfer_lines l GROUP BY l.account_id) r ON r.account_id = a.id \
                     LEFT JOIN (SELECT b.account_id, CAST(SUM(b.debits_minor) AS BIGINT) AS d, \
                                  CAST(SUM(b.credits_minor) AS BIGINT) AS c \
                                FROM balance_shards b GROUP BY b.account_id) h ON h.account_id = a.id \
                     WHERE a.physical_id = $1 AND ( \
                       (CASE WHEN a.sharded THEN COALESCE(h.d, 0) ELSE a.debits_minor END) <> COALESCE(r.d, 0) \
                       OR (CASE WHEN a.sharded THEN COALESCE(h.c, 0) ELSE a.credits_minor END) <> COALESCE(r.c, 0))",
                )
                .bind(physical_id)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            }

            pub(crate) async fn rollup_breaks(s: &$store, physical_id: Uuid) -> Result<u32> {
                let n: i64 = sqlx::query_scalar(
                    // Σ children's subtrees per parent in one pass; a break is a parent
                    // whose subtree extra differs from it, or a node with an extra and
                    // no children.
                    "WITH extra AS (SELECT account_id, SUM(amount_minor) AS x FROM subtree_shards GROUP BY account_id), \
                     kids AS (SELECT v.parent_id, SUM(a.credits_minor - a.debits_minor + COALESCE(e.x, 0)) AS total \
                              FROM virtual_accounts v JOIN ledger_accounts a ON a.id = v.id \
                              LEFT JOIN extra e ON e.account_id = v.id \
                              WHERE v.physical_id = $1 AND v.parent_id IS NOT NULL GROUP BY v.parent_id) \
                     SELECT (SELECT COUNT(*) FROM kids k LEFT JOIN extra e ON e.account_id = k.parent_id \
                             WHERE k.total <> COALESCE(e.x, 0)) \
                          + (SELECT COUNT(*) FROM extra e JOIN virtual_accounts v ON v.id = e.account_id \
                             WHERE v.physical_id = $1 AND e.x <> 0 \
                             AND NOT EXISTS (SELECT 1 FROM kids k WHERE k.parent_id = e.account_id))",
                )
                .bind(physical_id)
                .fetch_one(&s.pool)
                .await?;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            }

            pub(crate) async fn interest_products(
                s: &$store,
                physical_id: Uuid,
                from_day: i32,
                to_day: i32,
            ) -> Result<Vec<(Uuid, i64)>> {
                // EOD balance × days, as Σ over lines: a line before the period counts
                // every day of it; a line inside counts from its day to the end.
                Ok(sqlx::query_as(
                    "SELECT a.id, p.product FROM ( \
                       SELECT l.account_id, CAST(SUM(CASE WHEN l.business_day < $2 \
                         THEN -l.amount_minor * ($3 - $2 + 1) \
                         ELSE -l.amount_minor * ($3 - l.business_day + 1) END) AS BIGINT) AS product \
                       FROM transfer_lines l WHERE l.business_day <= $3 GROUP BY l.account_id) p \
                     JOIN ledger_accounts a ON a.id = p.account_id \
                     WHERE a.physical_id = $1 AND a.role = 'virtual' AND (a.flags & 256) = 0 \
                     ORDER BY a.id",
                )
                .bind(physical_id)
                .bind(from_day)
                .bind(to_day)
                .fetch_all(&s.pool)
                .await?)
            }

            pub(crate) async fn unidentified_count(s: &$store, physical_id: Uuid) -> Result<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM bank_credits WHERE physical_id = $1 AND outcome = 'unidentified'",
                )
                .bind(physical_id)
                .fetch_one(&s.pool)
                .await?)
            }
        }
    };
}

checks_sql!(sqlite, SqliteStore, sqlx::Sqlite, ["SELECT 1"; 0]);
// PostgreSQL underestimates how many accounts `transfer_lines` holds and picks a
// hash aggregate that spills; summing in index order (parallel) is about twice as fast.
checks_sql!(pg, PgStore, sqlx::Postgres, ["SET LOCAL enable_hashagg = off", "SET LOCAL jit = off"]);
