//! Reading cases: the queue page, one case, and everything about a case.

use super::ACTIVE;
use crate::{CaseFacts, CaseOrder, CaseQuery, CaseRow, CustomerRow, PgStore, Result, SqliteStore, UserRow};
use crate::{CaseStore, truncate_micros};
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Pool, Postgres, QueryBuilder, Sqlite, Type};
use uuid::Uuid;

/// Rows of `table` whose `key_column` equals `key`, ordered by `order_by`.
async fn rows_for<DB, T, K>(
    pool: &Pool<DB>,
    table: &str,
    key_column: &str,
    key: K,
    order_by: &str,
) -> Result<Vec<T>>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> T: FromRow<'r, DB::Row> + Send + Unpin,
    for<'q> K: Encode<'q, DB> + Type<DB> + Send,
{
    let sql = format!("SELECT * FROM {table} WHERE {key_column} = $1 ORDER BY {order_by}");
    Ok(sqlx::query_as(&sql).bind(key).fetch_all(pool).await?)
}

macro_rules! queue {
    ($m:ident, $store:ident, $db:ty) => {
        pub(crate) mod $m {
            use super::*;

            pub(crate) async fn queue(s: &$store, q: &CaseQuery) -> Result<Vec<CaseRow>> {
                let mut b = QueryBuilder::<$db>::new("SELECT * FROM recycle_cases WHERE ");
                if q.statuses.is_empty() {
                    b.push(format!("status IN {ACTIVE}"));
                } else {
                    b.push("status IN (");
                    let mut list = b.separated(", ");
                    for status in &q.statuses {
                        list.push_bind(status.as_str());
                    }
                    b.push(")");
                }
                if let Some(v) = &q.source {
                    b.push(" AND source = ").push_bind(v.as_str());
                }
                if let Some(v) = q.min_risk {
                    b.push(" AND risk_score >= ").push_bind(v);
                }
                if let Some(v) = &q.carrier {
                    b.push(" AND carrier = ").push_bind(v.clone());
                }
                if let Some(v) = &q.province {
                    b.push(" AND province = ").push_bind(v.clone());
                }
                if let Some(v) = q.detected_before {
                    b.push(" AND detected_at < ").push_bind(truncate_micros(v));
                }
                if let Some(v) = &q.phone {
                    b.push(" AND phone = ").push_bind(v.clone());
                }
                if let Some(v) = &q.claimed_by {
                    b.push(" AND claimed_by = ").push_bind(v.clone());
                }
                // Keyset pagination: deep pages cost the same as the first.
                if let Some((risk, detected, id)) = q.after {
                    match q.sort {
                        CaseOrder::RiskDesc => {
                            b.push(" AND (risk_score < ")
                                .push_bind(risk)
                                .push(" OR (risk_score = ")
                                .push_bind(risk)
                                .push(" AND id > ")
                                .push_bind(id)
                                .push("))");
                        }
                        CaseOrder::OldestFirst => {
                            b.push(" AND (detected_at > ")
                                .push_bind(detected)
                                .push(" OR (detected_at = ")
                                .push_bind(detected)
                                .push(" AND id > ")
                                .push_bind(id)
                                .push("))");
                        }
                        CaseOrder::NewestFirst => {
                            b.push(" AND (detected_at < ")
                                .push_bind(detected)
                                .push(" OR (detected_at = ")
                                .push_bind(detected)
                                .push(" AND id < ")
                                .push_bind(id)
                                .push("))");
                        }
                    }
                }
                b.push(match q.sort {
                    CaseOrder::RiskDesc => " ORDER BY risk_score DESC, id",
                    CaseOrder::OldestFirst => " ORDER BY detected_at, id",
                    CaseOrder::NewestFirst => " ORDER BY detected_at DESC, id DESC",
                });
                b.push(" LIMIT ").push_bind(i64::from(q.limit));
                Ok(b.build_query_as().fetch_all(&s.pool).await?)
            }

            pub(crate) async fn case_row(s: &$store, case_id: Uuid) -> Result<Option<CaseRow>> {
                Ok(sqlx::query_as("SELECT * FROM recycle_cases WHERE id = $1")
                    .bind(case_id)
                    .fetch_optional(&s.pool)
                    .await?)
            }

            pub(crate) async fn case_facts(s: &$store, case_id: Uuid) -> Result<Option<CaseFacts>> {
                let Some(case) = s.case_row(case_id).await? else { return Ok(None) };
                let (phone, user_id) = (&case.core.phone, case.core.old_user_id);
                let user: UserRow = sqlx::query_as("SELECT * FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_one(&s.pool)
                    .await?;
                let customer: CustomerRow = sqlx::query_as("SELECT * FROM customers WHERE id = $1")
                    .bind(case.core.old_customer_id)
                    .fetch_one(&s.pool)
                    .await?;
                let p = &s.pool;
                let bindings = rows_for(p, "phone_bindings", "phone", phone, "bound_at").await?;
                let carrier_events = rows_for(p, "carrier_events", "phone", phone, "event_at").await?;
                let hook_events = rows_for(p, "hook_events", "phone", phone, "at").await?;
                let cards = rows_for(p, "bank_cards", "reserved_phone", phone, "bound_at").await?;
                let direct_debits = rows_for(p, "direct_debits", "phone", phone, "signed_at").await?;
                let case_events = rows_for(p, "case_events", "case_id", case_id, "at, id").await?;
                let attempts = rows_for(p, "verification_attempts", "case_id", case_id, "at").await?;
                let sms_blocks = rows_for(p, "sms_reset_blocks", "user_id", user_id, "blocked_at").await?;
                Ok(Some(CaseFacts {
                    case,
                    user,
                    customer,
                    bindings,
                    carrier_events,
                    hook_events,
                    cards,
                    direct_debits,
                    case_events,
                    attempts,
                    sms_blocks,
                }))
            }
        }
    };
}

queue!(sqlite, SqliteStore, Sqlite);
queue!(pg, PgStore, Postgres);
