//! Opening a database from a URL, migrating it, and classifying what goes wrong.

use crate::{PgStore, Result, RoleProblem, SqliteStore, Store, StoreError};
use domain::model::DatabaseInfo;
use sqlx::Connection;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static PG_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The schema version this build reads and writes (both databases have the same
/// numbered migrations; a test checks they agree).
pub fn schema_version() -> i64 {
    PG_MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The SQLite schema version, which must equal [`schema_version`].
pub fn sqlite_schema_version() -> i64 {
    SQLITE_MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// How long to wait for PostgreSQL before saying it is unreachable.
const CONNECT_TIMEOUT_MS: u64 = 5_000;

/// Opens `sqlite:PATH` (created if missing) or `postgres://…`, and migrates it.
///
/// Errors say what is wrong in terms a user can act on: a malformed URL, a server
/// that does not answer, a database from a newer console, a damaged file.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        open_sqlite(url, path.trim_start_matches("//")).await
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        open_postgres(url).await
    } else {
        Err(StoreError::InvalidUrl(format!("'{}' should start with sqlite: or postgres://", redact_url(url))))
    }
}

async fn open_sqlite(url: &str, path: &str) -> Result<Arc<dyn Store>> {
    if !path.is_empty() && path != ":memory:" && !path.starts_with("file:") {
        create_private(path);
    }
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::InvalidUrl(e.to_string()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        // 64 MiB of page cache per connection: random-keyed indexes over a million
        // users thrash the 2 MiB default.
        .pragma("cache_size", "-65536");
    let corrupt_or = |e: sqlx::Error| classify_sqlite(path, e);
    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await.map_err(corrupt_or)?;
    // A file that is not a database only fails on its first real read.
    sqlx::query("SELECT COUNT(*) FROM sqlite_master").execute(&pool).await.map_err(corrupt_or)?;
    let version = migrate(&SQLITE_MIGRATIONS, &pool).await.map_err(|e| match e {
        StoreError::Sqlx(e) => classify_sqlite(path, e),
        other => other,
    })?;
    owner_only(path);
    let info = DatabaseInfo { kind: "sqlite".into(), location: path.to_owned(), schema_version: version };
    Ok(Arc::new(SqliteStore::new(pool, info)))
}

/// The database holds PII: only its owner may read it — the file and its WAL and
/// shared-memory companions (SQLite may have made those before this ran).
fn owner_only(path: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [path.to_owned(), format!("{path}-wal"), format!("{path}-shm")] {
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    tracing::warn!(file, error = %e, "cannot restrict a database file to its owner");
                }
                _ => {}
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A new database file is created owner-only before SQLite opens it, so it is
/// never readable by others, not even for a moment.
fn create_private(path: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
        if let Err(e) = created.map(drop)
            && e.kind() != std::io::ErrorKind::AlreadyExists
        {
            tracing::warn!(path, error = %e, "cannot create the database file owner-only");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Parses a PostgreSQL URL and refuses one that would cross a network unverified:
/// a server that is not on this machine needs `sslmode=verify-full`, so passwords, PII and the audit trail never travel in clear
/// and nobody in between can pose as the server. `sslrootcert=PATH` names a
/// private CA (trusted in addition to the public web roots).
fn pg_options(url: &str) -> Result<PgConnectOptions> {
    let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::InvalidUrl(e.to_string()))?;
    let host = opts.get_host();
    let local = opts.get_socket().is_some()
        || host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    // Not `verify-ca`: sqlx adds `sslrootcert` to the public web roots, and without
    // the name check any public certificate would pass.
    let verified = matches!(opts.get_ssl_mode(), PgSslMode::VerifyFull);
    if !local && !verified {
        return Err(StoreError::NeedsTls { host: host.to_owned() });
    }
    Ok(opts)
}

async fn open_postgres(url: &str) -> Result<Arc<dyn Store>> {
    let location = redact_url(url);
    let opts = pg_options(url)?;
    // One direct connection first: the pool would only say "timed out", while this
    // says "connection refused" or "password authentication failed".
    let unreachable = |reason: String| StoreError::Unreachable { location: location.clone(), reason };
    let probe =
        tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), PgConnection::connect_with(&opts))
            .await
            .map_err(|_| unreachable(format!("no answer within {CONNECT_TIMEOUT_MS} ms")))?
            .map_err(|e| unreachable(e.to_string()))?;
    let _ = probe.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
        .connect_with(opts)
        .await
        .map_err(|e| StoreError::Unreachable { location: location.clone(), reason: e.to_string() })?;
    // Desktops do not migrate a shared database (their role may not): the owner
    // runs `ops-console migrate`. Here the schema must be exactly this build's.
    let supported = schema_version();
    let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&pool)
        .await
        .unwrap_or(None);
    match found.unwrap_or(0) {
        found if found > supported => return Err(StoreError::TooNew { found, supported }),
        found if found < supported => return Err(StoreError::NeedsMigration { found, supported }),
        _ => {}
    }
    let info = DatabaseInfo { kind: "postgres".into(), location, schema_version: supported };
    Ok(Arc::new(PgStore::new(pool, info)))
}

/// Migrates a PostgreSQL database as its owner (the DBA's `ops-console migrate`),
/// and, given an application role, grants it what desktops need and nothing more:
/// the ordinary tables, reading the audit tables, and the two audit functions — no
/// DDL (it owns nothing), no writes to the audit tables, no `TRUNCATE`.
pub async fn migrate_postgres(url: &str, app_role: Option<&str>) -> Result<i64> {
    let opts = pg_options(url)?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
        .connect_with(opts)
        .await
        .map_err(|e| StoreError::Unreachable { location: redact_url(url), reason: e.to_string() })?;
    let version = migrate(&PG_MIGRATIONS, &pool).await?;
    if let Some(role) = app_role {
        check_app_role(&pool, role).await?;
        // One transaction: the role never holds, even briefly, the table-wide
        // grant before the audit tables are taken back out of it.
        let mut tx = pool.begin().await?;
        for grant in [
            format!("GRANT USAGE ON SCHEMA public TO {role}"),
            format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
            format!(
                "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_log, audit_head, _sqlx_migrations FROM {role}"
            ),
            // The ledger is append-only: entries are inserted, never changed.
            format!("REVOKE UPDATE, DELETE, TRUNCATE ON transfers, transfer_lines FROM {role}"),
            format!("GRANT EXECUTE ON FUNCTION public.audit_next() TO {role}"),
            format!(
                "GRANT EXECUTE ON FUNCTION public.audit_write(BIGINT, UUID, TIMESTAMPTZ, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT) TO {role}"
            ),
            format!(
                "GRANT EXECUTE ON FUNCTION public.audit_write_many(BIGINT[], UUID[], TIMESTAMPTZ[], TEXT[], TEXT[], TEXT[], TEXT[], TEXT[], TEXT[]) TO {role}"
            ),
        ] {
            sqlx::query(&grant).execute(&mut *tx).await?;
        }
        // Rights that come from elsewhere (pg_write_all_data, an old PUBLIC grant on
        // the schema) survive a REVOKE: check what the role can do in the end.
        let keeps: bool = sqlx::query_scalar(
            "SELECT has_table_privilege($1, 'public.audit_log', 'INSERT, UPDATE, DELETE, TRUNCATE') \
                 OR has_table_privilege($1, 'public.audit_head', 'INSERT, UPDATE, DELETE, TRUNCATE') \
                 OR has_table_privilege($1, 'public._sqlx_migrations', 'INSERT, UPDATE, DELETE, TRUNCATE') \
                 OR has_table_privilege($1, 'public.transfers', 'UPDATE, DELETE, TRUNCATE') \
                 OR has_table_privilege($1, 'public.transfer_lines', 'UPDATE, DELETE, TRUNCATE') \
                 OR has_schema_privilege($1, 'public', 'CREATE')",
        )
        .bind(role)
        .fetch_one(&mut *tx)
        .await?;
        if keeps {
            return Err(StoreError::UnsuitableRole {
                role: role.to_owned(),
                problem: RoleProblem::KeepsWriteRights,
            });
        }
        tx.commit().await?;
    }
    pool.close().await;
    Ok(version)
}

/// Refuses a role whose grants would mean nothing or would reach others.
async fn check_app_role(pool: &sqlx::PgPool, role: &str) -> Result<()> {
    let refuse = |problem| Err(StoreError::UnsuitableRole { role: role.to_owned(), problem });
    let plain = role.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && role.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        return refuse(RoleProblem::NotPlainName);
    }
    if role == "public" || role.starts_with("pg_") {
        return refuse(RoleProblem::Reserved);
    }
    let found: Option<(bool, bool, bool)> = sqlx::query_as(
        "SELECT rolsuper OR rolbypassrls OR rolcreaterole OR rolreplication, rolname = current_user, pg_has_role(rolname, current_user, 'MEMBER') \
         FROM pg_roles WHERE rolname = $1",
    )
    .bind(role)
    .fetch_optional(pool)
    .await?;
    match found {
        None => refuse(RoleProblem::Missing),
        Some((true, _, _)) => refuse(RoleProblem::Privileged),
        Some((_, is_owner, member)) if is_owner || member => refuse(RoleProblem::Owner),
        Some(_) => Ok(()),
    }
}

/// Runs pending migrations; refuses a database that has migrations this build lacks.
async fn migrate<'a, A>(migrator: &Migrator, pool: A) -> Result<i64>
where
    A: sqlx::Acquire<'a> + Copy,
    <A::Connection as std::ops::Deref>::Target: sqlx::migrate::Migrate,
    A: sqlx::Executor<'a>,
{
    let supported = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    match migrator.run(pool).await {
        Ok(()) => Ok(supported),
        Err(MigrateError::VersionMissing(found)) => Err(StoreError::TooNew { found, supported }),
        Err(MigrateError::Execute(e)) => Err(StoreError::Sqlx(e)),
        Err(e) => Err(e.into()),
    }
}

fn classify_sqlite(path: &str, e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        // SQLITE_CORRUPT (11) and SQLITE_NOTADB (26).
        if matches!(db.code().as_deref(), Some("11" | "26")) {
            return StoreError::Corrupt { path: path.to_owned(), reason: db.message().to_owned() };
        }
    }
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Database(_) => {
            StoreError::Unreachable { location: path.to_owned(), reason: e.to_string() }
        }
        other => StoreError::Sqlx(other),
    }
}

/// The URL without its password, for logs and the UI.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact_url("postgres://ops:s3cret@db:5432/ops"), "postgres://ops@db:5432/ops");
        assert_eq!(super::redact_url("postgres://db/ops"), "postgres://db/ops");
        assert_eq!(super::redact_url("sqlite:/tmp/x.db"), "sqlite:/tmp/x.db");
    }
}
