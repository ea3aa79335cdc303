//! The two implementations. SQL is shared where SQLite and PostgreSQL agree
//! (`$n` placeholders, `RETURNING`, partial indexes), so one macro body serves both
//! and the conformance suite checks that they behave the same.

use crate::error::is_unique_violation;
use crate::{
    AccountRow, BankCardRow, CarrierRecordRow, CustomerBatch, CustomerHit, CustomerRecord, CustomerRow,
    DirectDebitRow, LoginUpdate, NewAudit, OperatorChange, OperatorRow, PhoneBindingRow, Result, Store,
    StoreError, UserRow, truncate_micros,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::audit::{AuditRecord, canonical, chain_hash};
use domain::model::{DatabaseInfo, SearchField};
use domain::{Conflict, Entity};
use sqlx::query_builder::Separated;
use sqlx::{FromRow, Pool, Postgres, QueryBuilder, Row, Sqlite};
use uuid::Uuid;

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const INSERT_CHUNK_ROWS: usize = 1000;

/// The embedded SQLite store (WAL, one writer at a time).
pub struct SqliteStore {
    pub(crate) pool: Pool<Sqlite>,
    pub(crate) info: DatabaseInfo,
    /// The queue into this store's group committer of postings.
    pub(crate) poster: crate::vam::Poster,
}

/// The shared PostgreSQL store.
pub struct PgStore {
    pub(crate) pool: Pool<Postgres>,
    pub(crate) info: DatabaseInfo,
    /// The queue into this store's group committer of postings.
    pub(crate) poster: crate::vam::Poster,
}

#[derive(FromRow)]
struct AuditRow {
    seq: i64,
    id: Uuid,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    target: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            seq: r.seq,
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            target: r.target,
            detail: r.detail,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// The WHERE clause selecting customers for a search field. `$1` is the term.
fn search_condition(field: SearchField) -> &'static str {
    match field {
        SearchField::Phone => {
            "c.id IN (SELECT u.customer_id FROM phone_bindings b JOIN users u ON u.id = b.user_id \
             WHERE b.phone = $1)"
        }
        SearchField::UserId => "c.id IN (SELECT customer_id FROM users WHERE id = $1)",
        SearchField::Email => "c.id IN (SELECT customer_id FROM users WHERE email = $1)",
        SearchField::Nickname => "c.id IN (SELECT customer_id FROM users WHERE nickname = $1)",
        SearchField::IdLast4 => "c.id_last4_hash = $1",
    }
}

/// How an audit row is appended: SQLite writes the tables itself; PostgreSQL calls
/// the owner's `SECURITY DEFINER` functions, because the application role may not
/// touch the audit tables.
impl SqliteStore {
    const AUDIT_NEXT: &'static str = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";
    const AUDIT_WRITE: &'static str = "INSERT INTO audit_log (seq, id, at, actor, action, target, detail, \
         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    const AUDIT_SET_HEAD: Option<&'static str> = Some("UPDATE audit_head SET hash = $1 WHERE id = 1");
}

impl PgStore {
    const AUDIT_NEXT: &'static str = "SELECT seq, hash FROM public.audit_next()";
    const AUDIT_WRITE: &'static str = "SELECT public.audit_write($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    /// `audit_write` moves the head itself.
    const AUDIT_SET_HEAD: Option<&'static str> = None;
}

impl SqliteStore {
    /// Appends several audit rows inside `tx`, chained in order (row by row: SQLite
    /// has no round trips to save).
    pub(crate) async fn append_audits_tx(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        audits: Vec<NewAudit>,
    ) -> Result<()> {
        for a in audits {
            Self::append_audit_tx(tx, a).await?;
        }
        Ok(())
    }
}

impl PgStore {
    /// Appends several audit rows inside `tx`, chained in order: the first is
    /// numbered by `audit_next()`, the rest go in one call of `audit_write_many`
    /// (migration 0008), which numbers and checks each exactly as a single append.
    /// One round trip for a page instead of two per row while the head is locked.
    pub(crate) async fn append_audits_tx(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        audits: Vec<NewAudit>,
    ) -> Result<()> {
        if audits.len() < 2 {
            for a in audits {
                Self::append_audit_tx(tx, a).await?;
            }
            return Ok(());
        }
        let (first_seq, mut prev_hash): (i64, String) =
            sqlx::query_as(Self::AUDIT_NEXT).fetch_one(&mut **tx).await?;
        let mut rows = AuditColumns::default();
        for (i, a) in audits.into_iter().enumerate() {
            let seq = first_seq + i as i64;
            let at = truncate_micros(a.at);
            let detail = a.detail.to_string();
            let hash =
                chain_hash(&prev_hash, &canonical(seq, a.id, at, &a.actor, &a.action, &a.target, &detail));
            rows.seq.push(seq);
            rows.id.push(a.id);
            rows.at.push(at);
            rows.actor.push(a.actor);
            rows.action.push(a.action);
            rows.target.push(a.target);
            rows.detail.push(detail);
            rows.prev.push(std::mem::replace(&mut prev_hash, hash.clone()));
            rows.hash.push(hash);
        }
        sqlx::query("SELECT public.audit_write_many($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(rows.seq)
            .bind(rows.id)
            .bind(rows.at)
            .bind(rows.actor)
            .bind(rows.action)
            .bind(rows.target)
            .bind(rows.detail)
            .bind(rows.prev)
            .bind(rows.hash)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// Audit rows as columns, for `audit_write_many`'s arrays.
#[derive(Default)]
struct AuditColumns {
    seq: Vec<i64>,
    id: Vec<Uuid>,
    at: Vec<DateTime<Utc>>,
    actor: Vec<String>,
    action: Vec<String>,
    target: Vec<String>,
    detail: Vec<String>,
    prev: Vec<String>,
    hash: Vec<String>,
}

macro_rules! impl_store {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Wraps an open, migrated pool.
            pub(crate) fn new(pool: Pool<$db>, info: DatabaseInfo) -> Self {
                Self { pool, info, poster: crate::vam::Poster::default() }
            }

            /// The pool, for tests and benchmarks that need raw SQL.
            pub fn pool(&self) -> &Pool<$db> {
                &self.pool
            }

            /// Inserts `rows` inside `tx`, one multi-row `INSERT` per `chunk` rows. `head` is
            /// the statement up to `VALUES`; `push_row` binds one row's values in `head`'s
            /// column order. (Per store rather than generic over the database: the builder's
            /// arguments borrow the rows, which only concrete argument types let sqlx shorten.)
            async fn insert_chunked<'r, T>(
                tx: &mut sqlx::Transaction<'_, $db>,
                head: &str,
                chunk: usize,
                rows: &'r [T],
                mut push_row: impl FnMut(Separated<'_, 'r, $db, &'static str>, &'r T),
            ) -> std::result::Result<(), sqlx::Error> {
                for chunk in rows.chunks(chunk) {
                    QueryBuilder::<$db>::new(head)
                        .push_values(chunk, &mut push_row)
                        .build()
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// Appends an audit row inside `tx`. The first statement writes the chain
            /// head, which takes the write lock (SQLite) or the row lock (PostgreSQL)
            /// before anything is read, so concurrent appends queue instead of forking.
            pub(crate) async fn append_audit_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                a: NewAudit,
            ) -> Result<AuditRecord> {
                let at = truncate_micros(a.at);
                let (seq, prev_hash): (i64, String) =
                    sqlx::query_as($store::AUDIT_NEXT).fetch_one(&mut **tx).await?;
                let detail = a.detail.to_string();
                let hash = chain_hash(
                    &prev_hash,
                    &canonical(seq, a.id, at, &a.actor, &a.action, &a.target, &detail),
                );
                sqlx::query($store::AUDIT_WRITE)
                .bind(seq)
                .bind(a.id)
                .bind(at)
                .bind(&a.actor)
                .bind(&a.action)
                .bind(&a.target)
                .bind(&detail)
                .bind(&prev_hash)
                .bind(&hash)
                .execute(&mut **tx)
                .await?;
                if let Some(set_head) = $store::AUDIT_SET_HEAD {
                    sqlx::query(set_head).bind(&hash).execute(&mut **tx).await?;
                }
                Ok(AuditRecord {
                    seq,
                    id: a.id,
                    at,
                    actor: a.actor,
                    action: a.action,
                    target: a.target,
                    detail,
                    prev_hash,
                    hash,
                })
            }
        }

        #[async_trait]
        impl Store for $store {
            fn info(&self) -> DatabaseInfo {
                self.info.clone()
            }

            async fn operator_by_username(&self, username: &str) -> Result<Option<OperatorRow>> {
                Ok(sqlx::query_as("SELECT * FROM operators WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn operators(&self) -> Result<Vec<OperatorRow>> {
                Ok(sqlx::query_as("SELECT * FROM operators ORDER BY username").fetch_all(&self.pool).await?)
            }

            async fn change_operator(&self, id: Uuid, change: OperatorChange, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let query = match &change {
                    OperatorChange::Role(role) => sqlx::query("UPDATE operators SET role = $2 WHERE id = $1").bind(id).bind(role.clone()),
                    OperatorChange::Disabled(disabled) => {
                        sqlx::query("UPDATE operators SET disabled = $2 WHERE id = $1").bind(id).bind(*disabled)
                    }
                    OperatorChange::Unlock => {
                        sqlx::query("UPDATE operators SET failed_attempts = 0, locked_until = NULL WHERE id = $1").bind(id)
                    }
                    OperatorChange::MustChangePassword(must) => sqlx::query(
                        "UPDATE operators SET must_change_password = $2 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(*must),
                    OperatorChange::Password(hash) => sqlx::query(
                        "UPDATE operators SET password_hash = $2, must_change_password = FALSE WHERE id = $1",
                    )
                    .bind(id)
                    .bind(hash.clone()),
                };
                if query.execute(&mut *tx).await?.rows_affected() != 1 {
                    return Err(StoreError::NotFound(Entity::Operator));
                }
                Self::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn operator_usernames(&self) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar("SELECT username FROM operators ORDER BY username")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn insert_operator(&self, op: &OperatorRow, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let inserted = sqlx::query(
                    "INSERT INTO operators (id, username, display_name, role, password_hash, \
                     failed_attempts, locked_until, last_login_at, created_at, disabled, must_change_password) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(op.id)
                .bind(&op.username)
                .bind(&op.display_name)
                .bind(&op.role)
                .bind(&op.password_hash)
                .bind(op.failed_attempts)
                .bind(op.locked_until)
                .bind(op.last_login_at)
                .bind(op.created_at)
                .bind(op.disabled)
                .bind(op.must_change_password)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(e) if is_unique_violation(&e) => {
                        return Err(StoreError::Conflict(Conflict::Exists { entity: Entity::Operator }));
                    }
                    other => other?,
                };
                Self::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn record_login(&self, u: LoginUpdate, audit: NewAudit) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE operators SET failed_attempts = $2, locked_until = $3, \
                     last_login_at = COALESCE($4, last_login_at) WHERE id = $1",
                )
                .bind(u.operator_id)
                .bind(u.failed_attempts)
                .bind(u.locked_until.map(truncate_micros))
                .bind(u.last_login_at.map(truncate_micros))
                .execute(&mut *tx)
                .await?;
                Self::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn reserve_login_attempt(
                &self,
                operator_id: Uuid,
                max_failures: i32,
                lock_until: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<Option<i32>> {
                // Every expression reads the row as it was. A lock that has run out
                // (the WHERE lets no live one through) starts the count afresh.
                let counted: Option<(i32,)> = sqlx::query_as(
                    "UPDATE operators SET \
                     failed_attempts = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END, \
                     locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 \
                                                    ELSE failed_attempts + 1 END) >= $2 \
                                         THEN $3 ELSE NULL END \
                     WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $4) \
                     RETURNING failed_attempts",
                )
                .bind(operator_id)
                .bind(max_failures)
                .bind(truncate_micros(lock_until))
                .bind(truncate_micros(now))
                .fetch_optional(&self.pool)
                .await?;
                Ok(counted.map(|(n,)| n))
            }

            async fn sealed_id_sample(&self) -> Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT id_number_enc FROM customers WHERE id_number_enc IS NOT NULL LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn customers_without_last4_hash(&self, limit: u32) -> Result<Vec<(Uuid, String)>> {
                Ok(sqlx::query_as(
                    "SELECT id, id_number_enc FROM customers \
                     WHERE id_number_enc IS NOT NULL AND id_last4_hash IS NULL LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn set_last4_hashes(&self, hashes: &[(Uuid, String)]) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                for (id, hash) in hashes {
                    sqlx::query("UPDATE customers SET id_last4_hash = $2 WHERE id = $1 AND id_last4_hash IS NULL")
                        .bind(id)
                        .bind(hash)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn audit_head(&self) -> Result<(i64, String)> {
                Ok(sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?)
            }

            async fn append_audit(&self, audit: NewAudit) -> Result<AuditRecord> {
                let mut tx = self.pool.begin().await?;
                let record = Self::append_audit_tx(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(record)
            }

            async fn audit_page(
                &self,
                before_seq: Option<i64>,
                limit: u32,
            ) -> Result<Vec<AuditRecord>> {
                let rows: Vec<AuditRow> = sqlx::query_as(
                    "SELECT * FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
                )
                .bind(before_seq.unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(AuditRecord::from).collect())
            }

            async fn audit_after(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>> {
                let rows: Vec<AuditRow> = sqlx::query_as(
                    "SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after_seq)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(AuditRecord::from).collect())
            }

            async fn insert_customer_batch(&self, b: &CustomerBatch) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let n = INSERT_CHUNK_ROWS;
                Self::insert_chunked(
                    &mut tx,
                    "INSERT INTO customers (id, name, id_number_enc, id_number_hash, \
                     id_last4_hash, real_name_verified, created_at) ",
                    n,
                    &b.customers,
                    |mut q, c: &CustomerRow| {
                        q.push_bind(c.id)
                            .push_bind(&c.name)
                            .push_bind(&c.id_number_enc)
                            .push_bind(&c.id_number_hash)
                            .push_bind(&c.id_last4_hash)
                            .push_bind(c.real_name_verified)
                            .push_bind(c.created_at);
                    },
                )
                .await?;
                Self::insert_chunked(
                    &mut tx,
                    "INSERT INTO users (id, customer_id, phone, email, nickname, status, \
                     registered_at, last_login_at, sms_reset_blocked) ",
                    n,
                    &b.users,
                    |mut q, u: &UserRow| {
                        q.push_bind(u.id)
                            .push_bind(u.customer_id)
                            .push_bind(&u.phone)
                            .push_bind(&u.email)
                            .push_bind(&u.nickname)
                            .push_bind(&u.status)
                            .push_bind(u.registered_at)
                            .push_bind(u.last_login_at)
                            .push_bind(u.sms_reset_blocked);
                    },
                )
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict(Conflict::Exists { entity: Entity::Phone })
                    } else {
                        e.into()
                    }
                })?;
                Self::insert_chunked(
                    &mut tx,
                    "INSERT INTO accounts (id, user_id, kind, balance_minor, real_name_level, status) ",
                    n,
                    &b.accounts,
                    |mut q, a: &AccountRow| {
                        q.push_bind(a.id)
                            .push_bind(a.user_id)
                            .push_bind(&a.kind)
                            .push_bind(a.balance_minor)
                            .push_bind(a.real_name_level)
                            .push_bind(&a.status);
                    },
                )
                .await?;
                Self::insert_chunked(
                    &mut tx,
                    "INSERT INTO phone_bindings (id, user_id, phone, bound_at, unbound_at, unbind_reason) ",
                    n,
                    &b.phone_bindings,
                    |mut q, p: &PhoneBindingRow| {
                        q.push_bind(p.id)
                            .push_bind(p.user_id)
                            .push_bind(&p.phone)
                            .push_bind(p.bound_at)
                            .push_bind(p.unbound_at)
                            .push_bind(&p.unbind_reason);
                    },
                )
                .await?;
                Self::insert_chunked(
                    &mut tx,
                    "INSERT INTO bank_cards (id, user_id, card_hash, bin, last4, card_len, bank_name, \
                     reserved_phone, agreement_no, bound_at, status) ",
                    n,
                    &b.cards,
                    |mut q, c: &BankCardRow| {
                        q.push_bind(c.id)
                            .push_bind(c.user_id)
                            .push_bind(&c.card_hash)
                            .push_bind(&c.bin)
                            .push_bind(&c.last4)
                            .push_bind(c.card_len)
                            .push_bind(&c.bank_name)
                            .push_bind(&c.reserved_phone)
                            .push_bind(&c.agreement_no)
                            .push_bind(c.bound_at)
                            .push_bind(&c.status);
                    },
                )
                .await?;
                Self::insert_chunked(
                    &mut tx,
                    "INSERT INTO carrier_records (id, phone, carrier, province, entry_at, status, updated_at) ",
                    n,
                    &b.carrier_records,
                    |mut q, r: &CarrierRecordRow| {
                        q.push_bind(r.id)
                            .push_bind(&r.phone)
                            .push_bind(&r.carrier)
                            .push_bind(&r.province)
                            .push_bind(r.entry_at)
                            .push_bind(&r.status)
                            .push_bind(r.updated_at);
                    },
                )
                .await?;
                Self::insert_chunked(
                    &mut tx,
                    "INSERT INTO direct_debits (id, user_id, phone, carrier, signed_at, ended_at, end_reason) ",
                    n,
                    &b.direct_debits,
                    |mut q, d: &DirectDebitRow| {
                        q.push_bind(d.id)
                            .push_bind(d.user_id)
                            .push_bind(&d.phone)
                            .push_bind(&d.carrier)
                            .push_bind(d.signed_at)
                            .push_bind(d.ended_at)
                            .push_bind(&d.end_reason);
                    },
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn count_customers(&self) -> Result<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM customers")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn search_customers(
                &self,
                field: SearchField,
                term: &str,
                limit: u32,
            ) -> Result<Vec<CustomerHit>> {
                let sql = format!(
                    "SELECT c.*, (SELECT COUNT(*) FROM users x WHERE x.customer_id = c.id) AS user_count \
                     FROM customers c WHERE {} ORDER BY c.created_at, c.id LIMIT $2",
                    search_condition(field)
                );
                let query = sqlx::query(&sql);
                let query = if field == SearchField::UserId {
                    match Uuid::parse_str(term) {
                        Ok(id) => query.bind(id),
                        Err(_) => return Ok(Vec::new()),
                    }
                } else {
                    query.bind(term)
                };
                let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|row| {
                        Ok(CustomerHit {
                            customer: CustomerRow::from_row(row)?,
                            user_count: row.try_get("user_count")?,
                            matched_on: field,
                        })
                    })
                    .collect()
            }

            async fn customer(&self, customer_id: Uuid) -> Result<Option<CustomerRow>> {
                Ok(sqlx::query_as("SELECT * FROM customers WHERE id = $1")
                    .bind(customer_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn customer_tree(&self, customer_id: Uuid) -> Result<Option<CustomerRecord>> {
                let Some(customer) = self.customer(customer_id).await? else {
                    return Ok(None);
                };
                let users = sqlx::query_as(
                    "SELECT * FROM users WHERE customer_id = $1 ORDER BY registered_at, id",
                )
                .bind(customer_id)
                .fetch_all(&self.pool)
                .await?;
                let accounts = sqlx::query_as(
                    "SELECT a.* FROM accounts a JOIN users u ON u.id = a.user_id \
                     WHERE u.customer_id = $1 ORDER BY u.registered_at, a.kind",
                )
                .bind(customer_id)
                .fetch_all(&self.pool)
                .await?;
                let phone_bindings = sqlx::query_as(
                    "SELECT b.* FROM phone_bindings b JOIN users u ON u.id = b.user_id \
                     WHERE u.customer_id = $1 ORDER BY b.bound_at DESC",
                )
                .bind(customer_id)
                .fetch_all(&self.pool)
                .await?;
                let cards = sqlx::query_as(
                    "SELECT k.* FROM bank_cards k JOIN users u ON u.id = k.user_id \
                     WHERE u.customer_id = $1 ORDER BY k.bound_at",
                )
                .bind(customer_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(Some(CustomerRecord { customer, users, accounts, phone_bindings, cards }))
            }

            async fn user(&self, user_id: Uuid) -> Result<Option<UserRow>> {
                Ok(sqlx::query_as("SELECT * FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }
        }
    };
}

impl_store!(SqliteStore, Sqlite);
impl_store!(PgStore, Postgres);
