//! What the daily report reads beyond `report_figures`, and the close that keeps
//! it: the latest reconciled day, the statements ending on a day with the drift
//! that explains each one's closing balance against the ledger's asset mirror,
//! the facts of a closed day, and the snapshot a close stores in its transaction.
//!
//! Everything here reads, except [`ReconReportStore::close_day_with_snapshot`].
//! The drift query takes its amounts from the reconciliation's own records (the
//! bank notice, the parked item, the match's parts), never from the asset entry
//! it explains, so an entry changed behind the console's back stays unexplained.
//! The SQL is one `macro_rules!` body expanded once per database, like `recon/`.

use crate::error::is_unique_violation;
use crate::{NewAudit, PgStore, Result, SqliteStore, StoreError, truncate_micros};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::Conflict;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A live statement ending on a day, with what its proof needs.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayStatementRow {
    /// Row id.
    pub id: Uuid,
    /// Physical account.
    pub physical_id: Uuid,
    /// The physical account's number.
    pub account_number: String,
    /// The physical account's asset mirror (ledger account).
    pub asset_account: Uuid,
    /// The bank's statement id.
    pub statement_ref: String,
    /// Opening (fen).
    pub opening_minor: Option<i64>,
    /// Closing (fen).
    pub closing_minor: Option<i64>,
    /// First day.
    pub from_day: i32,
    /// Last day.
    pub to_day: i32,
    /// closing − (opening + Σ lines) when it did not add up (acknowledged).
    pub difference_minor: Option<i64>,
    /// Who acknowledged that.
    pub acknowledged_by: Option<String>,
    /// The account's live statement ending last before this one starts.
    pub previous_ref: Option<String>,
}

/// One kind of drift of a statement: count and total of all, the largest listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftGroupRow {
    /// The `DriftKind` code.
    pub kind: String,
    /// How many.
    pub count: i64,
    /// Σ (fen).
    pub total_minor: i64,
    /// The largest: (reference, posting's business day, fen).
    pub items: Vec<(String, Option<i32>, i64)>,
}

/// The ledger side of a statement's proof and the drift found by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementDriftRow {
    /// The asset mirror: Σ of its entries dated up to the statement's last day.
    pub ledger_end_minor: i64,
    /// The same up to the day before its first day.
    pub ledger_before_minor: i64,
    /// Drift by kind, from the lines and the postings of its days.
    pub groups: Vec<DriftGroupRow>,
}

/// A statement's closed-day facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFactsRow {
    /// The physical account's number.
    pub account_number: String,
    /// The bank's statement id.
    pub statement_ref: String,
    /// Opening (fen).
    pub opening_minor: Option<i64>,
    /// Closing (fen).
    pub closing_minor: Option<i64>,
    /// Lines.
    pub lines: i64,
    /// Σ lines (fen).
    pub sum_minor: i64,
    /// SHA-256 (hex) over every line's position, reference, amount and day.
    pub digest: String,
}

/// Facts of a day that nothing the console does after its close may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayFactsRow {
    /// The day's live statements imported up to the cut-off.
    pub statements: Vec<StatementFactsRow>,
    /// The day's matches: (status, count, Σ difference, Σ parts).
    pub matches: Vec<(String, i64, i64, i64)>,
    /// Items found on the day up to the cut-off: (kind, count, Σ amount).
    pub found: Vec<(String, i64, i64)>,
    /// Items not resolved, of any day: (kind, count, Σ amount). Only the close
    /// compares these (a resolution between its snapshot and its transaction
    /// changes the report's open rows and proof); later work may change them.
    pub open: Vec<(String, i64, i64)>,
}

/// A closed day's stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRow {
    /// Who closed the day.
    pub closed_by: String,
    /// When.
    pub closed_at: DateTime<Utc>,
    /// The snapshot (JSON).
    pub snapshot: String,
    /// Its SHA-256 (hex) as stored with it.
    pub sha256: String,
    /// The close's audit row (the first for the day: a later one may be
    /// forged): (actor, time, detail JSON naming the SHA-256).
    pub audit: Option<(String, DateTime<Utc>, String)>,
    /// Who closed the day and when, as each account's closed-day row says (distinct).
    pub closed_days: Vec<(String, DateTime<Utc>)>,
}

/// A day's close with its snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseWrite {
    /// The day.
    pub day: i32,
    /// Every physical account (each gets its closed day).
    pub physical_ids: Vec<Uuid>,
    /// Who closes it.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The snapshot (JSON).
    pub snapshot: String,
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// The facts the snapshot was made from: refused (`Changed`) if the day's
    /// facts are no longer these inside the close's transaction.
    pub facts: DayFactsRow,
}

/// Storage of the daily report's proofs and closed-day snapshots (a supertrait
/// of [`crate::Store`]).
#[async_trait]
pub trait ReconReportStore: Send + Sync {
    /// The latest day any reconciliation run was for.
    async fn latest_run_day(&self) -> Result<Option<i32>>;
    /// Live statements ending on `day` (imported up to `imported_by`, when given),
    /// by account number and statement id.
    async fn day_statements(
        &self,
        day: i32,
        imported_by: Option<DateTime<Utc>>,
    ) -> Result<Vec<DayStatementRow>>;
    /// The asset mirror at the statement's end and before its start, and the
    /// drift between its lines and the ledger (at most `shown` items per kind).
    async fn statement_drift(&self, statement: &DayStatementRow, shown: u32) -> Result<StatementDriftRow>;
    /// The facts of `day` as of `cutoff` (statements imported and items found by then).
    async fn day_facts(&self, day: i32, cutoff: DateTime<Utc>) -> Result<DayFactsRow>;
    /// The snapshot stored when `day` was closed.
    async fn report_snapshot(&self, day: i32) -> Result<Option<SnapshotRow>>;
    /// Who closed `day` first, and when (a close without a snapshot included).
    async fn day_closed_by(&self, day: i32) -> Result<Option<(String, DateTime<Utc>)>>;
    /// Closes `day` for every physical account and stores its snapshot, with the
    /// audit row, in one transaction. `DayClosed` if it has a snapshot already;
    /// `Changed` if its facts moved since the snapshot was made.
    async fn close_day_with_snapshot(&self, w: CloseWrite, audit: NewAudit) -> Result<()>;
}

/// Lines hashed per query of the digest.
const DIGEST_PAGE: i64 = 10_000;

fn date_of(day: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(day).unwrap_or_default()
}

/// The drift of one statement, one row per item. `$1` statement, `$2` asset
/// account, `$3` first day, `$4` last day, `$5` physical account, `$6` items
/// listed per kind. Reconciled lines are a unit each (`lu`: booked by a notice,
/// parked, or parked then matched by hand) or a run's match (`mu`); their
/// postings' expected amounts come from the notice, the item or the match parts.
/// Postings dated on the statement's days that none of its units owns (`unowned`)
/// are drift with the opposite sign. See the README (挂账处理) for each kind.
const DRIFT_SQL: &str = "
WITH sl AS (
    SELECT id, bank_ref, amount_minor, state FROM statement_lines WHERE statement_id = $1
),
rm AS (
    SELECT DISTINCT p.match_id AS id FROM recon_parts p
    JOIN sl l ON l.id = p.line_id
    JOIN recon_matches m ON m.id = p.match_id
    WHERE m.status = 'confirmed' AND m.run_id IS NOT NULL
),
lu AS (
    SELECT id, bank_ref, amount_minor, state FROM sl
    WHERE (state = 'booked' AND amount_minor <> 0) OR state = 'suspense'
       OR (state = 'matched' AND id NOT IN (
            SELECT p.line_id FROM recon_parts p JOIN rm ON rm.id = p.match_id WHERE p.line_id IS NOT NULL))
),
refl AS (
    SELECT l.id AS line_id, l.bank_ref AS ref, c.transfer_id AS tid, c.amount_minor AS e,
           CAST(0 AS BIGINT) AS outside
    FROM lu l JOIN bank_credits c ON c.physical_id = $5 AND c.bank_ref = l.bank_ref
    WHERE l.state = 'booked'
    UNION ALL
    SELECT l.id, l.bank_ref, s.booking_id, s.amount_minor, CAST(0 AS BIGINT)
    FROM lu l JOIN suspense_items s ON s.line_id = l.id
    WHERE s.credit_id IS NULL AND COALESCE(s.action, '') <> 'superseded'
    UNION ALL
    SELECT r.line_id, r.ref, r.tid, r.e, -r.e FROM (
        SELECT l.id AS line_id, l.bank_ref AS ref, s.resolution_id AS tid,
               (SELECT CAST(-COALESCE(SUM(x.amount_minor), 0) AS BIGINT) FROM transfer_lines x
                WHERE x.transfer_id = s.resolution_id AND x.account_id <> $2) AS e
        FROM lu l JOIN suspense_items s ON s.line_id = l.id
        WHERE s.credit_id IS NULL AND s.action = 'match' AND s.resolution_id IS NOT NULL
    ) r
),
mu AS (
    SELECT m.id, m.transfer_id AS tid,
        (SELECT CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) FROM recon_parts p
         WHERE p.match_id = m.id AND p.line_id IS NOT NULL) AS lines_minor,
        (SELECT CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) FROM recon_parts p
         JOIN our_items o ON o.id = p.item_id
         WHERE p.match_id = m.id AND NOT (o.kind = 'expected_in' AND o.account_id IS NOT NULL)) AS outside,
        (SELECT CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) FROM recon_parts p
         JOIN statement_lines l ON l.id = p.line_id
         WHERE p.match_id = m.id AND l.statement_id <> $1) AS elsewhere,
        (SELECT CAST(COALESCE(SUM(l.amount_minor), 0) AS BIGINT) FROM recon_parts p
         JOIN statement_lines l ON l.id = p.line_id WHERE p.match_id = m.id AND l.statement_id = $1) AS bank,
        (SELECT MIN(l.bank_ref) FROM recon_parts p JOIN statement_lines l ON l.id = p.line_id
         WHERE p.match_id = m.id AND l.statement_id = $1) AS ref,
        (SELECT MIN(o.reference) FROM recon_parts p JOIN our_items o ON o.id = p.item_id
         WHERE p.match_id = m.id AND NOT (o.kind = 'expected_in' AND o.account_id IS NOT NULL)) AS our_ref,
        (SELECT MIN(l.bank_ref) FROM recon_parts p JOIN statement_lines l ON l.id = p.line_id
         WHERE p.match_id = m.id AND l.statement_id <> $1) AS other_ref
    FROM recon_matches m JOIN rm ON rm.id = m.id
),
pp AS (
    SELECT transfer_id AS tid, MIN(business_day) AS day FROM transfer_lines
    WHERE account_id = $2 AND business_day >= $3 AND business_day <= $4
    GROUP BY transfer_id
),
owned AS (
    SELECT tid FROM refl WHERE tid IS NOT NULL
    UNION
    SELECT tid FROM mu WHERE tid IS NOT NULL
),
unowned AS (
    SELECT
        CASE
            WHEN t.reverses IS NOT NULL OR COALESCE(sb.action, '') = 'superseded' OR mt.status = 'reversed'
                THEN 'reversal'
            WHEN c.id IS NOT NULL THEN 'notice_not_on_statement'
            WHEN sb.line_id IS NOT NULL OR mt.id IS NOT NULL THEN 'other_statement_line'
            WHEN sb.kind = 'fee_difference' THEN 'fee_difference'
            WHEN sb.item_id IS NOT NULL THEN 'our_item_short'
            WHEN sb.id IS NOT NULL THEN 'parked_without_line'
            WHEN sr.action = 'return_to_payer' THEN 'returned_to_payer'
            WHEN sr.action = 'match' THEN 'manual_match'
            ELSE 'ledger_posting'
        END AS kind,
        COALESCE(
            c.bank_ref,
            (SELECT l.bank_ref FROM statement_lines l WHERE l.id = COALESCE(sb.line_id, sr.line_id)),
            (SELECT o.reference FROM our_items o WHERE o.id = COALESCE(sb.item_id, sr.item_id)),
            (SELECT MIN(l.bank_ref) FROM recon_parts p JOIN statement_lines l ON l.id = p.line_id
             WHERE p.match_id = mt.id),
            t.idempotency_key
        ) AS ref,
        pp.day AS day,
        CASE
            WHEN c.id IS NOT NULL AND t.reverses IS NULL THEN c.amount_minor
            WHEN sb.id IS NOT NULL THEN sb.amount_minor
            WHEN mt.id IS NOT NULL THEN
                (SELECT CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) FROM recon_parts p
                 WHERE p.match_id = mt.id AND p.line_id IS NOT NULL)
                - (SELECT CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) FROM recon_parts p
                   JOIN our_items o ON o.id = p.item_id
                   WHERE p.match_id = mt.id AND NOT (o.kind = 'expected_in' AND o.account_id IS NOT NULL))
            ELSE (SELECT CAST(-COALESCE(SUM(x.amount_minor), 0) AS BIGINT) FROM transfer_lines x
                  WHERE x.transfer_id = pp.tid AND x.account_id <> $2)
        END AS e
    FROM pp
    JOIN transfers t ON t.id = pp.tid
    LEFT JOIN bank_credits c ON c.transfer_id = pp.tid
    LEFT JOIN suspense_items sb ON sb.booking_id = pp.tid AND sb.credit_id IS NULL
    LEFT JOIN recon_matches mt ON mt.transfer_id = pp.tid
    LEFT JOIN suspense_items sr ON sr.resolution_id = pp.tid
    WHERE pp.tid NOT IN (SELECT tid FROM owned)
),
drift AS (
    SELECT 'unreconciled' AS kind, bank_ref AS ref, CAST(NULL AS INTEGER) AS day, amount_minor AS amount
    FROM sl WHERE state = 'open' AND amount_minor <> 0
    UNION ALL
    SELECT 'duplicate', bank_ref, CAST(NULL AS INTEGER), amount_minor
    FROM sl WHERE state = 'duplicate' AND amount_minor <> 0
    UNION ALL
    SELECT CASE WHEN d.day > $4 THEN 'posted_later' ELSE 'posted_earlier' END, d.ref, d.day, d.e
    FROM (
        SELECT r.ref AS ref, r.e AS e,
               (SELECT MIN(x.business_day) FROM transfer_lines x
                WHERE x.transfer_id = r.tid AND x.account_id = $2) AS day
        FROM refl r
        UNION ALL
        SELECT u.ref, u.lines_minor - u.outside,
               (SELECT MIN(x.business_day) FROM transfer_lines x
                WHERE x.transfer_id = u.tid AND x.account_id = $2)
        FROM mu u
    ) d
    WHERE (d.day > $4 OR d.day < $3) AND d.e <> 0
    UNION ALL
    SELECT 'outside_ledger', r.ref, CAST(NULL AS INTEGER), r.outside FROM refl r WHERE r.outside <> 0
    UNION ALL
    SELECT 'outside_ledger', COALESCE(u.our_ref, u.ref), CAST(NULL AS INTEGER), u.outside
    FROM mu u WHERE u.outside <> 0
    UNION ALL
    SELECT 'other_statement_line', COALESCE(u.other_ref, ''), CAST(NULL AS INTEGER), -u.elsewhere
    FROM mu u WHERE u.elsewhere <> 0
    UNION ALL
    SELECT 'differs_from_ledger', x.ref, CAST(NULL AS INTEGER), x.amount FROM (
        SELECT l.bank_ref AS ref, l.amount_minor - COALESCE(rb.booked, 0) AS amount
        FROM lu l LEFT JOIN (
            SELECT line_id, CAST(SUM(e + outside) AS BIGINT) AS booked FROM refl GROUP BY line_id
        ) rb ON rb.line_id = l.id
    ) x WHERE x.amount <> 0
    UNION ALL
    SELECT 'differs_from_ledger', u.ref, CAST(NULL AS INTEGER), u.bank + u.elsewhere - u.lines_minor
    FROM mu u WHERE u.bank + u.elsewhere - u.lines_minor <> 0
    UNION ALL
    SELECT o.kind, o.ref, o.day, -o.e FROM unowned o WHERE o.e <> 0
)
SELECT kind, ref, day, amount, n, total FROM (
    SELECT kind, COALESCE(ref, '') AS ref, day, amount,
           COUNT(*) OVER (PARTITION BY kind) AS n,
           CAST(SUM(amount) OVER (PARTITION BY kind) AS BIGINT) AS total,
           ROW_NUMBER() OVER (PARTITION BY kind ORDER BY ABS(amount) DESC, ref) AS rn
    FROM drift
) ranked
WHERE rn <= $6
ORDER BY kind, rn";

const STATEMENTS_SQL: &str = "SELECT s.id, s.physical_id, p.number AS account_number, p.asset_account, s.statement_ref, \
     s.opening_minor, s.closing_minor, s.from_day, s.to_day, s.difference_minor, s.acknowledged_by, \
     (SELECT s2.statement_ref FROM statements s2 WHERE s2.physical_id = s.physical_id AND s2.replaced_by IS NULL \
      AND s2.to_day < s.from_day ORDER BY s2.to_day DESC, s2.sequence DESC LIMIT 1) AS previous_ref \
     FROM statements s JOIN physical_accounts p ON p.id = s.physical_id \
     WHERE s.to_day = $1 AND s.replaced_by IS NULL AND ($2 IS NULL OR s.imported_at <= $2) \
     ORDER BY p.number, s.statement_ref, s.id";

/// Folds one line into a statement's digest: position, reference, amount, day.
fn digest_line(h: &mut Sha256, seq: i32, bank_ref: &str, amount: i64, day: i32) {
    h.update(format!("{seq}\u{1f}{bank_ref}\u{1f}{amount}\u{1f}{day}\n").as_bytes());
}

macro_rules! report_impl {
    ($store:ident, $db:ty, $m:ident) => {
        mod $m {
            use super::*;
            type Tx<'c> = sqlx::Transaction<'c, $db>;

            /// The day's facts inside `tx` (the close compares them with the
            /// snapshot's under its own transaction).
            pub(super) async fn facts(tx: &mut Tx<'_>, day: i32, cutoff: DateTime<Utc>) -> Result<DayFactsRow> {
                let cutoff = truncate_micros(cutoff);
                let statements: Vec<DayStatementRow> =
                    sqlx::query_as(STATEMENTS_SQL).bind(day).bind(Some(cutoff)).fetch_all(&mut **tx).await?;
                let mut out = DayFactsRow::default();
                for s in statements {
                    let mut h = Sha256::new();
                    let (mut lines, mut sum) = (0i64, 0i64);
                    let mut after: Option<(i32, Uuid)> = None;
                    loop {
                        // Keyset pages: a large statement is hashed without holding it.
                        let page: Vec<(i32, Uuid, String, i64, i32)> = sqlx::query_as(
                            "SELECT seq, id, bank_ref, amount_minor, booking_day FROM statement_lines \
                             WHERE statement_id = $1 AND ($2 IS NULL OR (seq, id) > ($2, $3)) \
                             ORDER BY seq, id LIMIT $4",
                        )
                        .bind(s.id)
                        .bind(after.map(|a| a.0))
                        .bind(after.map(|a| a.1))
                        .bind(DIGEST_PAGE)
                        .fetch_all(&mut **tx)
                        .await?;
                        for (seq, _, bank_ref, amount, booking_day) in &page {
                            digest_line(&mut h, *seq, bank_ref, *amount, *booking_day);
                            lines += 1;
                            sum = sum.saturating_add(*amount);
                        }
                        match page.last() {
                            Some(last) if page.len() as i64 == DIGEST_PAGE => after = Some((last.0, last.1)),
                            _ => break,
                        }
                    }
                    out.statements.push(StatementFactsRow {
                        account_number: s.account_number,
                        statement_ref: s.statement_ref,
                        opening_minor: s.opening_minor,
                        closing_minor: s.closing_minor,
                        lines,
                        sum_minor: sum,
                        digest: hex::encode(h.finalize()),
                    });
                }
                let counts: Vec<(String, i64, i64)> = sqlx::query_as(
                    "SELECT status, CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(difference_minor), 0) AS BIGINT) \
                     FROM recon_matches WHERE day = $1 GROUP BY status ORDER BY status",
                )
                .bind(day)
                .fetch_all(&mut **tx)
                .await?;
                let parts: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT m.status, CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) FROM recon_matches m \
                     JOIN recon_parts p ON p.match_id = m.id WHERE m.day = $1 GROUP BY m.status",
                )
                .bind(day)
                .fetch_all(&mut **tx)
                .await?;
                out.matches = counts
                    .into_iter()
                    .map(|(status, n, difference)| {
                        let sum = parts.iter().find(|(s, _)| *s == status).map_or(0, |(_, x)| *x);
                        (status, n, difference, sum)
                    })
                    .collect();
                out.found = sqlx::query_as(
                    "SELECT kind, CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) \
                     FROM suspense_items WHERE found_day = $1 AND found_at <= $2 GROUP BY kind ORDER BY kind",
                )
                .bind(day)
                .bind(cutoff)
                .fetch_all(&mut **tx)
                .await?;
                out.open = sqlx::query_as(
                    "SELECT kind, CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) \
                     FROM suspense_items WHERE status <> 'resolved' GROUP BY kind ORDER BY kind",
                )
                .fetch_all(&mut **tx)
                .await?;
                Ok(out)
            }

            pub(super) async fn ledger_through(
                pool: &sqlx::Pool<$db>,
                account: Uuid,
                day: i32,
            ) -> Result<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM transfer_lines \
                     WHERE account_id = $1 AND business_day <= $2",
                )
                .bind(account)
                .bind(day)
                .fetch_one(pool)
                .await?)
            }
        }

        #[async_trait]
        impl ReconReportStore for $store {
            async fn latest_run_day(&self) -> Result<Option<i32>> {
                Ok(sqlx::query_scalar("SELECT MAX(day) FROM recon_runs").fetch_one(&self.pool).await?)
            }

            async fn day_statements(
                &self,
                day: i32,
                imported_by: Option<DateTime<Utc>>,
            ) -> Result<Vec<DayStatementRow>> {
                Ok(sqlx::query_as(STATEMENTS_SQL)
                    .bind(day)
                    .bind(imported_by.map(truncate_micros))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn statement_drift(&self, s: &DayStatementRow, shown: u32) -> Result<StatementDriftRow> {
                let ledger_end_minor = $m::ledger_through(&self.pool, s.asset_account, s.to_day).await?;
                let ledger_before_minor = $m::ledger_through(&self.pool, s.asset_account, s.from_day - 1).await?;
                let rows: Vec<(String, String, Option<i32>, i64, i64, i64)> = sqlx::query_as(DRIFT_SQL)
                    .bind(s.id)
                    .bind(s.asset_account)
                    .bind(s.from_day)
                    .bind(s.to_day)
                    .bind(s.physical_id)
                    .bind(i64::from(shown.max(1)))
                    .fetch_all(&self.pool)
                    .await?;
                let mut groups: Vec<DriftGroupRow> = Vec::new();
                for (kind, reference, day, amount, count, total) in rows {
                    match groups.iter_mut().find(|g| g.kind == kind) {
                        Some(g) => g.items.push((reference, day, amount)),
                        None => groups.push(DriftGroupRow {
                            kind,
                            count,
                            total_minor: total,
                            items: vec![(reference, day, amount)],
                        }),
                    }
                }
                Ok(StatementDriftRow { ledger_end_minor, ledger_before_minor, groups })
            }

            async fn day_facts(&self, day: i32, cutoff: DateTime<Utc>) -> Result<DayFactsRow> {
                // One read transaction: the statements, matches and items agree.
                let mut tx = self.pool.begin().await?;
                let out = $m::facts(&mut tx, day, cutoff).await?;
                tx.rollback().await?;
                Ok(out)
            }

            async fn report_snapshot(&self, day: i32) -> Result<Option<SnapshotRow>> {
                // One read transaction: the snapshot, its audit row and the closed
                // days are compared with each other.
                let mut tx = self.pool.begin().await?;
                let row: Option<(String, DateTime<Utc>, String, String)> = sqlx::query_as(
                    "SELECT closed_by, closed_at, snapshot, sha256 FROM recon_report_snapshots WHERE day = $1",
                )
                .bind(day)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((closed_by, closed_at, snapshot, sha256)) = row else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                // The first close row: the close writes it once, anything after is not the close.
                let audit: Option<(String, DateTime<Utc>, String)> = sqlx::query_as(
                    "SELECT actor, at, detail FROM audit_log WHERE action = 'recon.close_day' AND target = $1 \
                     ORDER BY seq ASC LIMIT 1",
                )
                .bind(format!("report:{}", date_of(day)))
                .fetch_optional(&mut *tx)
                .await?;
                let closed_days: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
                    "SELECT DISTINCT closed_by, closed_at FROM recon_closed_days WHERE day = $1 \
                     ORDER BY closed_at, closed_by",
                )
                .bind(day)
                .fetch_all(&mut *tx)
                .await?;
                tx.rollback().await?;
                Ok(Some(SnapshotRow { closed_by, closed_at, snapshot, sha256, audit, closed_days }))
            }

            async fn day_closed_by(&self, day: i32) -> Result<Option<(String, DateTime<Utc>)>> {
                Ok(sqlx::query_as(
                    "SELECT closed_by, closed_at FROM recon_closed_days WHERE day = $1 \
                     ORDER BY closed_at, closed_by LIMIT 1",
                )
                .bind(day)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn close_day_with_snapshot(&self, w: CloseWrite, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let at = truncate_micros(w.at);
                // Writes first: on SQLite this takes the write lock, so nothing
                // changes the day between the check below and the commit.
                for physical_id in &w.physical_ids {
                    sqlx::query(
                        "INSERT INTO recon_closed_days (physical_id, day, closed_by, closed_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (physical_id, day) DO NOTHING",
                    )
                    .bind(physical_id)
                    .bind(w.day)
                    .bind(&w.actor)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                let inserted = sqlx::query(
                    "INSERT INTO recon_report_snapshots (day, closed_by, closed_at, snapshot, sha256) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(w.day)
                .bind(&w.actor)
                .bind(at)
                .bind(&w.snapshot)
                .bind(&w.sha256)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => {
                        return Err(StoreError::Conflict(Conflict::DayClosed { day: date_of(w.day) }));
                    }
                    Err(e) => return Err(e.into()),
                }
                if $m::facts(&mut tx, w.day, w.at).await? != w.facts {
                    return Err(StoreError::Conflict(Conflict::Changed));
                }
                crate::$store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

report_impl!(SqliteStore, sqlx::Sqlite, sqlite);
report_impl!(PgStore, sqlx::Postgres, pg);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_digest_sees_reference_amount_day_and_order() {
        let digest = |lines: &[(i32, &str, i64, i32)]| {
            let mut h = Sha256::new();
            for (seq, r, a, d) in lines {
                digest_line(&mut h, *seq, r, *a, *d);
            }
            hex::encode(h.finalize())
        };
        let base = digest(&[(1, "A1", 100, 9), (2, "B2", -50, 9)]);
        assert_ne!(base, digest(&[(1, "A1", 101, 9), (2, "B2", -50, 9)]));
        assert_ne!(base, digest(&[(1, "A2", 100, 9), (2, "B2", -50, 9)]));
        assert_ne!(base, digest(&[(1, "A1", 100, 8), (2, "B2", -50, 9)]));
        assert_ne!(base, digest(&[(1, "B2", -50, 9), (2, "A1", 100, 9)]));
        assert_eq!(base, digest(&[(1, "A1", 100, 9), (2, "B2", -50, 9)]));
    }
}
