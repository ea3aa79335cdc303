//! Helpers shared by the end-to-end tests: fresh SQLite files and fresh
//! PostgreSQL databases, so every test starts from an empty, migrated store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use service::PiiVault;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A new SQLite file in a temporary directory.
    Sqlite,
    /// A new database on the test PostgreSQL server (`OPS_TEST_PG_URL`).
    Postgres,
}

/// A database that lives as long as this value (the SQLite directory is removed on drop).
pub struct TestDb {
    /// The URL to open.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL server for tests. The README's test command starts one and sets this.
pub fn pg_admin_url() -> String {
    std::env::var("OPS_TEST_PG_URL").expect(
        "OPS_TEST_PG_URL is not set: run the tests through `./dev test`, which starts a throwaway PostgreSQL",
    )
}

impl TestDb {
    /// A fresh, empty database of kind `db`.
    pub async fn new(db: Db) -> Self {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite:{}", dir.path().join("test.db").display());
                Self { url, _dir: Some(dir) }
            }
            Db::Postgres => {
                let admin = pg_admin_url();
                let name = format!("t_{}", uuid::Uuid::now_v7().simple());
                let pool = sqlx::PgPool::connect(&admin).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
                pool.close().await;
                let (base, _) = admin.rsplit_once('/').unwrap();
                Self { url: format!("{base}/{name}"), _dir: None }
            }
        }
    }
}

/// A fixed PII key for tests.
pub fn vault() -> PiiVault {
    PiiVault::new(&[42; 32])
}

/// Runs raw SQL on the test database, bypassing the store (for tampering tests).
pub async fn raw_execute(url: &str, sql: &str) -> Result<u64, sqlx::Error> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let done = sqlx::query(sql).execute(&pool).await.map(|r| r.rows_affected());
        pool.close().await;
        done
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let done = sqlx::query(sql).execute(&pool).await.map(|r| r.rows_affected());
        pool.close().await;
        done
    }
}

/// Defines one `#[tokio::test]` per database for each listed async fn taking `Db`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Db::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Db::Postgres).await })*
        }
    };
}
