//! Physical accounts and the virtual tree: creating, opening (numbers, quarantine
//! reuse), pages, search, closing.

use super::*;
use crate::error::is_unique_violation;
use crate::{StoreError, truncate_micros};
use domain::Conflict;
use domain::ledger::{AccountFlags, NumberingScheme};

macro_rules! tree_sql {
    ($m:ident, $store:ident, $db:ty) => {
        pub(crate) mod $m {
            use super::*;

            #[allow(dead_code)]
            type Tx<'c> = sqlx::Transaction<'c, $db>;

            pub(crate) async fn create_physical(s: &$store, p: &NewPhysical, audit: NewAudit) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let at = truncate_micros(p.created_at);
                let inserted = sqlx::query(
                    "INSERT INTO physical_accounts (id, bank, number, purpose, supervised, suffix_len, asset_account, \
                     main_account, suspense_account, interest_account, next_suffix, credit_cursor, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, NULL, $11)",
                )
                .bind(p.id)
                .bind(p.bank.as_str())
                .bind(&p.number)
                .bind(&p.purpose)
                .bind(p.supervised)
                .bind(i32::from(p.suffix_len))
                .bind(p.asset_account)
                .bind(p.main_account)
                .bind(p.suspense_account)
                .bind(p.interest_account)
                .bind(at)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(e) if is_unique_violation(&e) => {
                        return Err(conflict(Conflict::Exists { entity: domain::Entity::PhysicalAccount }));
                    }
                    other => other?,
                };
                for (id, kind, role) in [
                    (p.asset_account, AccountKind::Asset, "asset"),
                    (p.main_account, AccountKind::Liability, "main"),
                    (p.suspense_account, AccountKind::Liability, "suspense"),
                    (p.interest_account, AccountKind::Liability, "interest"),
                ] {
                    sqlx::query(
                        "INSERT INTO ledger_accounts (id, physical_id, kind, role, flags, sharded, created_at) \
                         VALUES ($1, $2, $3, $4, 0, TRUE, $5)",
                    )
                    .bind(id)
                    .bind(p.id)
                    .bind(kind.as_str())
                    .bind(role)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn physical_accounts(s: &$store) -> Result<Vec<PhysicalRow>> {
                Ok(sqlx::query_as("SELECT * FROM physical_accounts ORDER BY created_at, id")
                    .fetch_all(&s.pool)
                    .await?)
            }

            pub(crate) async fn physical(s: &$store, id: Uuid) -> Result<Option<PhysicalRow>> {
                Ok(sqlx::query_as("SELECT * FROM physical_accounts WHERE id = $1").bind(id).fetch_optional(&s.pool).await?)
            }

            pub(crate) async fn physical_totals(s: &$store, id: Uuid) -> Result<PhysicalTotals> {
                let hot: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT a.role, CAST(COALESCE(SUM(b.credits_minor - b.debits_minor), 0) AS BIGINT) \
                     FROM ledger_accounts a LEFT JOIN balance_shards b ON b.account_id = a.id \
                     WHERE a.physical_id = $1 AND a.sharded GROUP BY a.role",
                )
                .bind(id)
                .fetch_all(&s.pool)
                .await?;
                let (virtual_minor, virtual_count): (i64, i64) = sqlx::query_as(
                    "SELECT CAST(COALESCE(SUM(a.credits_minor - a.debits_minor), 0) AS BIGINT), \
                     CAST(COUNT(CASE WHEN v.status NOT IN ('closed', 'quarantined') THEN 1 END) AS BIGINT) \
                     FROM ledger_accounts a JOIN virtual_accounts v ON v.id = a.id \
                     WHERE a.physical_id = $1 AND a.role = 'virtual'",
                )
                .bind(id)
                .fetch_one(&s.pool)
                .await?;
                let mut t = PhysicalTotals { virtual_minor, virtual_count, ..PhysicalTotals::default() };
                for (role, credit_normal) in hot {
                    match role.as_str() {
                        "asset" => t.asset_minor = -credit_normal,
                        "suspense" => t.suspense_minor = credit_normal,
                        "interest" => {
                            t.interest_minor = credit_normal;
                            t.internal_minor += credit_normal;
                        }
                        _ => t.internal_minor += credit_normal,
                    }
                }
                Ok(t)
            }

            pub(crate) async fn open_virtual(
                s: &$store,
                v: &NewVirtual,
                today: NaiveDate,
                audit: NewAudit,
            ) -> Result<String> {
                let mut tx = s.pool.begin().await?;
                // Writes first: takes SQLite's lock before anything is read.
                let allocated: Option<(i64, String, i32)> = sqlx::query_as(
                    "UPDATE physical_accounts SET next_suffix = next_suffix + 1 WHERE id = $1 \
                     RETURNING next_suffix - 1, number, suffix_len",
                )
                .bind(v.physical_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((fresh_suffix, physical_number, suffix_len)) = allocated else {
                    return Err(StoreError::NotFound(domain::Entity::PhysicalAccount));
                };
                let (path, depth) = match v.parent_id {
                    None => (String::new(), 0),
                    Some(parent) => {
                        let row: Option<(Uuid, String, i32, String)> = sqlx::query_as(
                            "UPDATE virtual_accounts SET child_count = child_count + 1 \
                             WHERE id = $1 RETURNING physical_id, path, depth, status",
                        )
                        .bind(parent)
                        .fetch_optional(&mut *tx)
                        .await?;
                        let Some((physical, path, depth, status)) = row else {
                            return Err(StoreError::NotFound(domain::Entity::SubAccount));
                        };
                        if physical != v.physical_id {
                            return Err(conflict(Conflict::OtherPhysicalAccount));
                        }
                        let status = VirtualStatus::try_from(status).map_err(|e| StoreError::Data(e.to_string()))?;
                        if matches!(status, VirtualStatus::Closed | VirtualStatus::Quarantined | VirtualStatus::Closing) {
                            return Err(conflict(Conflict::AccountStatus { status }));
                        }
                        (format!("{path}{}/", parent.simple()), depth + 1)
                    }
                };
                // Bid-deposit numbers go back to a pool: reuse one whose quarantine
                // has passed (or this owner's own), never a live one.
                let reused: Option<(String, i64)> = if v.purpose == VirtualPurpose::BidDeposit {
                    sqlx::query_as(
                        "SELECT c.number, c.suffix FROM virtual_accounts c \
                         WHERE c.physical_id = $1 AND c.purpose = 'bid_deposit' AND c.status = 'closed' \
                         AND (c.reusable_from <= $2 OR c.owner_id = $3) \
                         AND c.closed_at = (SELECT MAX(x.closed_at) FROM virtual_accounts x WHERE x.number = c.number) \
                         AND NOT EXISTS (SELECT 1 FROM virtual_accounts l WHERE l.number = c.number \
                                         AND l.status NOT IN ('closed', 'quarantined')) \
                         ORDER BY c.closed_at LIMIT 1",
                    )
                    .bind(v.physical_id)
                    .bind(today)
                    .bind(v.owner_id)
                    .fetch_optional(&mut *tx)
                    .await?
                } else {
                    None
                };
                let (number, suffix) = match reused {
                    Some(found) => found,
                    None => {
                        let scheme = u8::try_from(suffix_len)
                            .ok()
                            .and_then(|len| NumberingScheme::new(physical_number, len).ok())
                            .ok_or_else(|| StoreError::Data("physical account numbering".into()))?;
                        let number = u64::try_from(fresh_suffix)
                            .ok()
                            .and_then(|n| scheme.number_for(n).ok())
                            .ok_or_else(|| StoreError::Data("virtual numbers exhausted".into()))?;
                        (number, fresh_suffix)
                    }
                };
                let at = truncate_micros(v.opened_at);
                sqlx::query(
                    "INSERT INTO ledger_accounts (id, physical_id, kind, role, flags, sharded, created_at) \
                     VALUES ($1, $2, 'liability', 'virtual', $3, FALSE, $4)",
                )
                .bind(v.id)
                .bind(v.physical_id)
                .bind(i32::try_from(AccountFlags::CUSTOMER.bits()).unwrap_or(0))
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO virtual_accounts (id, physical_id, parent_id, path, depth, number, suffix, owner_kind, \
                     owner_id, owner_name, purpose, status, child_count, opened_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', 0, $12)",
                )
                .bind(v.id)
                .bind(v.physical_id)
                .bind(v.parent_id)
                .bind(&path)
                .bind(depth)
                .bind(&number)
                .bind(suffix)
                .bind(v.owner_kind.as_str())
                .bind(v.owner_id)
                .bind(&v.owner_name)
                .bind(v.purpose.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                let mut audit = audit;
                audit.detail["number"] = number.clone().into();
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(number)
            }

            pub(crate) async fn virtual_children(
                s: &$store,
                physical_id: Uuid,
                parent: Option<Uuid>,
                after: Option<&str>,
                limit: u32,
            ) -> Result<Vec<VirtualRow>> {
                // One plain range per shape, so the (physical_id, parent_id, number)
                // index serves the page: no OR, no NULL tests on parameters.
                let after = after.unwrap_or("");
                let rows = match parent {
                    None => {
                        sqlx::query_as(concat!(
                            node_select!(),
                            "WHERE v.physical_id = $1 AND v.parent_id IS NULL AND v.number > $2 \
                             ORDER BY v.number LIMIT $3"
                        ))
                        .bind(physical_id)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&s.pool)
                        .await?
                    }
                    Some(parent) => {
                        sqlx::query_as(concat!(
                            node_select!(),
                            "WHERE v.physical_id = $1 AND v.parent_id = $2 AND v.number > $3 \
                             ORDER BY v.number LIMIT $4"
                        ))
                        .bind(physical_id)
                        .bind(parent)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&s.pool)
                        .await?
                    }
                };
                Ok(rows)
            }

            pub(crate) async fn search_virtual(
                s: &$store,
                number_like: &str,
                owner_ids: &[Uuid],
                limit: u32,
            ) -> Result<Vec<VirtualRow>> {
                let mut qb = sqlx::QueryBuilder::<$db>::new(node_select!());
                qb.push("WHERE (v.number = ").push_bind(number_like.to_owned());
                // A typed suffix (with or without its check digit) finds the number too;
                // at least four digits, or it would match half the tree.
                if number_like.chars().count() >= 4 {
                    qb.push(" OR v.number LIKE ").push_bind(format!("%{number_like}"));
                    qb.push(" OR v.number LIKE ").push_bind(format!("%{number_like}_"));
                    qb.push(" OR v.owner_name = ").push_bind(number_like.to_owned());
                }
                for id in owner_ids.iter().take(200) {
                    qb.push(" OR v.owner_id = ").push_bind(*id);
                }
                qb.push(") ORDER BY v.number LIMIT ").push_bind(i64::from(limit));
                Ok(qb.build_query_as().fetch_all(&s.pool).await?)
            }

            pub(crate) async fn virtual_node(s: &$store, id: Uuid) -> Result<Option<VirtualRow>> {
                Ok(sqlx::query_as(concat!(node_select!(), "WHERE v.id = $1")).bind(id).fetch_optional(&s.pool).await?)
            }

            pub(crate) async fn virtual_by_number(s: &$store, number: &str) -> Result<Option<VirtualRow>> {
                Ok(sqlx::query_as(concat!(
                    node_select!(),
                    "WHERE v.number = $1 ORDER BY CASE WHEN v.status IN ('closed', 'quarantined') THEN 1 ELSE 0 END, \
                     v.opened_at DESC LIMIT 1"
                ))
                .bind(number)
                .fetch_optional(&s.pool)
                .await?)
            }

            pub(crate) async fn previous_holders(s: &$store, number: &str, except: Uuid) -> Result<Vec<VirtualRow>> {
                Ok(sqlx::query_as(concat!(
                    node_select!(),
                    "WHERE v.number = $1 AND v.id <> $2 ORDER BY v.opened_at DESC LIMIT 20"
                ))
                .bind(number)
                .bind(except)
                .fetch_all(&s.pool)
                .await?)
            }

            pub(crate) async fn ledger_accounts(s: &$store, ids: &[Uuid]) -> Result<Vec<LedgerAccountRow>> {
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT id, physical_id, kind, role, flags, sharded FROM ledger_accounts WHERE id IN (",
                    );
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(")");
                    out.extend(qb.build_query_as::<LedgerAccountRow>().fetch_all(&s.pool).await?);
                }
                Ok(out)
            }

            pub(crate) async fn close_virtual(
                s: &$store,
                id: Uuid,
                now: DateTime<Utc>,
                reusable_from: NaiveDate,
                audit: NewAudit,
            ) -> Result<()> {
                let mut tx = s.pool.begin().await?;
                let at = truncate_micros(now);
                // The ledger row first: it is the row postings update, so a close and a
                // posting serialise on it, and whichever comes second sees the other.
                let emptied = sqlx::query(
                    "UPDATE ledger_accounts SET flags = flags | 256 WHERE id = $1 AND (flags & 256) = 0 \
                     AND debits_minor = credits_minor AND held_minor = 0",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if emptied != 1 {
                    return Err(conflict(Conflict::Changed));
                }
                let number: Option<String> = sqlx::query_scalar(concat!(
                    "UPDATE virtual_accounts SET status = 'closed', closed_at = $2, reusable_from = $3 \
                     WHERE id = $1 AND status NOT IN ",
                    "('closed', 'quarantined')",
                    " AND NOT EXISTS (SELECT 1 FROM virtual_accounts c WHERE c.parent_id = $1 \
                       AND c.status NOT IN ('closed', 'quarantined')) \
                     AND EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = $1 \
                       AND a.debits_minor = a.credits_minor AND a.held_minor = 0) \
                     RETURNING number"
                ))
                .bind(id)
                .bind(at)
                .bind(reusable_from)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(number) = number else { return Err(conflict(Conflict::Changed)) };
                sqlx::query("INSERT INTO outbox (id, topic, payload, at) VALUES ($1, 'virtual_account.closed', $2, $3)")
                    .bind(Uuid::now_v7())
                    .bind(serde_json::json!({ "account": id, "number": number }).to_string())
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                $store::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn customer_sample(s: &$store, limit: u32) -> Result<Vec<(Uuid, String)>> {
                Ok(sqlx::query_as("SELECT id, name FROM customers ORDER BY id LIMIT $1")
                    .bind(i64::from(limit))
                    .fetch_all(&s.pool)
                    .await?)
            }
        }
    };
}

tree_sql!(sqlite, SqliteStore, sqlx::Sqlite);
tree_sql!(pg, PgStore, sqlx::Postgres);
