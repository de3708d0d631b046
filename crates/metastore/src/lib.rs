//! Coffer's metadata database: users, devices, namespaces, nodes, revisions, chunks,
//! uploads and the per-namespace journal, on SQLite (embedded default) or PostgreSQL.
//!
//! The store offers transactions ([`Tx`]) with typed queries; the service composes them
//! into operations, one transaction per operation.
//!
//! Architecture invariant: this crate never decides who may do what (that is the
//! service's job) and never touches chunk bytes (that is the blob store's).

pub mod db;
mod queries;
mod schema;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use db::{Arg, DbRow, Engine, Tx};
pub use queries::*;

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("not found")]
    NotFound,
    #[error("unique constraint violated")]
    Duplicate,
    /// The database is busy (a lock wait or the connection pool timed out): nothing was
    /// changed, and the same request can be tried again.
    #[error("the database is busy")]
    Busy,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(sqlx::Error),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://...")]
    BadUrl(String),
}

impl From<sqlx::Error> for MetaError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => MetaError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => MetaError::Duplicate,
            sqlx::Error::PoolTimedOut => MetaError::Busy,
            // SQLite: SQLITE_BUSY and SQLITE_LOCKED with their extended codes;
            // PostgreSQL: serialization failure, deadlock, lock not available.
            sqlx::Error::Database(d)
                if d.code().is_some_and(|c| {
                    matches!(c.as_ref(), "40001" | "40P01" | "55P03")
                        || c.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
                }) =>
            {
                MetaError::Busy
            }
            _ => MetaError::Db(e),
        }
    }
}

#[derive(Clone)]
enum Pools {
    /// One writer connection (write transactions take the lock up front with
    /// `BEGIN IMMEDIATE`) and a pool of readers, which WAL lets run beside it.
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
    },
    Postgres(PgPool),
}

/// A handle on the metadata database; cheap to clone.
#[derive(Clone)]
pub struct MetaStore {
    pools: Pools,
}

impl MetaStore {
    /// Opens `sqlite://PATH` (created if missing) or `postgres://...`, and brings the
    /// schema up to date.
    pub async fn open(url: &str) -> Result<Self, MetaError> {
        let store = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|_| MetaError::BadUrl(url.to_owned()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed transaction survives power loss, not only a crash.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            // No idle reaping: local files need none, and sqlx's reaper task can spin at
            // 100% CPU (sqlx issue 3645, seen here under load).
            let pool = || SqlitePoolOptions::new().idle_timeout(None).max_lifetime(None);
            let write = pool().max_connections(1).connect_with(opts.clone()).await?;
            let read = pool().max_connections(8).connect_with(opts).await?;
            Self { pools: Pools::Sqlite { write, read } }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // Idle connections are kept (see the SQLite pools above): a connection the
            // server dropped is noticed and replaced when it is next taken.
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .idle_timeout(None)
                .max_lifetime(None)
                .connect(url)
                .await?;
            Self { pools: Pools::Postgres(pool) }
        } else {
            return Err(MetaError::BadUrl(url.to_owned()));
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn engine(&self) -> Engine {
        match self.pools {
            Pools::Sqlite { .. } => Engine::Sqlite,
            Pools::Postgres(_) => Engine::Postgres,
        }
    }

    /// A transaction that may write. On SQLite it holds the write lock from its first
    /// statement, so a read-then-write never fails half way on contention.
    pub async fn write(&self) -> Result<Tx, MetaError> {
        Ok(match &self.pools {
            Pools::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Pools::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A read-only transaction: one consistent snapshot for all its queries.
    pub async fn read(&self) -> Result<Tx, MetaError> {
        Ok(match &self.pools {
            Pools::Sqlite { read, .. } => Tx::Sqlite(read.begin().await?),
            Pools::Postgres(pool) => {
                Tx::Postgres(pool.begin_with("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").await?)
            }
        })
    }

    async fn migrate(&self) -> Result<(), MetaError> {
        let mut tx = self.write().await?;
        if tx.engine() == Engine::Postgres {
            // Several server nodes may start at once: one migrates, the others wait.
            tx.exec("SELECT pg_advisory_xact_lock(7215400001)", vec![]).await?;
        }
        tx.exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            vec![],
        )
        .await?;
        let done: Vec<i64> = tx
            .rows("SELECT version FROM schema_migrations", vec![])
            .await?
            .iter()
            .map(|r| r.i64("version"))
            .collect::<Result<_, _>>()?;
        for (version, sqlite, postgres) in schema::MIGRATIONS {
            if done.contains(version) {
                continue;
            }
            tracing::info!(version, "applying metadata schema migration");
            tx.script(if tx.engine() == Engine::Sqlite { sqlite } else { postgres }).await?;
            tx.exec("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", args![*version, now_ms()])
                .await?;
        }
        tx.commit().await
    }

    /// Closes all connections (tests and orderly shutdown).
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { write, read } => {
                write.close().await;
                read.close().await;
            }
            Pools::Postgres(p) => p.close().await,
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Helpers for tests that run one suite on every engine.
pub mod testing {
    use sqlx::Connection;

    /// The database URLs a test suite should run on: a fresh SQLite file under `dir`,
    /// and a fresh PostgreSQL database when `COFFER_TEST_POSTGRES_URL` names a server.
    /// With `COFFER_REQUIRE_POSTGRES=1` (set by the project's test script) a missing
    /// server is an error rather than a silent skip.
    pub async fn database_urls(dir: &std::path::Path) -> Vec<String> {
        let mut urls = vec![format!("sqlite://{}", dir.join("meta.db").display())];
        if let Some(url) = fresh_postgres().await {
            urls.push(url);
        }
        urls
    }

    /// A new, empty PostgreSQL database on the test server, if there is one.
    pub async fn fresh_postgres() -> Option<String> {
        let base = match std::env::var("COFFER_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("COFFER_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "COFFER_REQUIRE_POSTGRES=1 but COFFER_TEST_POSTGRES_URL is not set"
                );
                return None;
            }
        };
        let name = format!("coffer_test_{:016x}", rand_u64());
        let mut conn = sqlx::PgConnection::connect(&base).await.expect("connect to the test PostgreSQL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let (prefix, _) = base.rsplit_once('/').expect("URL has a database part");
        Some(format!("{prefix}/{name}"))
    }

    fn rand_u64() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0),
        );
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::MetaError;

    #[test]
    fn waits_that_timed_out_are_busy() {
        assert!(matches!(MetaError::from(sqlx::Error::PoolTimedOut), MetaError::Busy));
        assert!(matches!(MetaError::from(sqlx::Error::RowNotFound), MetaError::NotFound));
    }
}
