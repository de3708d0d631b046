//! One query source for two engines.
//!
//! Queries are written once, in the SQL both SQLite and PostgreSQL accept, with `$1`
//! placeholders (SQLite reads `$N` as the N-th argument too). [`Tx`] runs them on the
//! engine's own typed sqlx driver, so neither engine goes through sqlx's `Any` driver.
//! Integers are BIGINT everywhere, booleans are 0/1 integers, bytes are BLOB/BYTEA.

use sqlx::{AssertSqlSafe, Postgres, Row, Sqlite, Transaction};

use crate::MetaError;

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub enum Arg {
    I64(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::I64(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::I64(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::I64(Some(i64::from(v)))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(v))
    }
}
impl From<&[u8]> for Arg {
    fn from(v: &[u8]) -> Self {
        Arg::Bytes(Some(v.to_vec()))
    }
}
impl From<Option<Vec<u8>>> for Arg {
    fn from(v: Option<Vec<u8>>) -> Self {
        Arg::Bytes(v)
    }
}

/// Typed ids bind as their integers.
macro_rules! id_args {
    ($($id:ty),*) => {$(
        impl From<$id> for Arg {
            fn from(v: $id) -> Self {
                Arg::I64(Some(v.get()))
            }
        }
        impl From<Option<$id>> for Arg {
            fn from(v: Option<$id>) -> Self {
                Arg::I64(v.map(|v| v.get()))
            }
        }
    )*};
}
id_args!(
    coffer_core::UserId,
    coffer_core::NamespaceId,
    coffer_core::NodeId,
    coffer_core::RevisionId,
    coffer_core::DeviceId,
    coffer_core::CommentId,
    coffer_core::LinkId
);

impl From<&coffer_core::UploadId> for Arg {
    fn from(v: &coffer_core::UploadId) -> Self {
        Arg::Text(Some(v.0.clone()))
    }
}

/// Builds a `Vec<Arg>` from values of mixed types.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::db::Arg::from($v)),*] };
}

/// A result row of either engine, read by column name.
pub enum DbRow {
    Sqlite(sqlx::sqlite::SqliteRow),
    Postgres(sqlx::postgres::PgRow),
}

macro_rules! get {
    ($row:expr, $ty:ty, $col:expr) => {
        match $row {
            DbRow::Sqlite(r) => r.try_get::<$ty, _>($col).map_err(MetaError::from),
            DbRow::Postgres(r) => r.try_get::<$ty, _>($col).map_err(MetaError::from),
        }
    };
}

impl DbRow {
    pub fn i64(&self, col: &str) -> Result<i64, MetaError> {
        get!(self, i64, col)
    }
    pub fn opt_i64(&self, col: &str) -> Result<Option<i64>, MetaError> {
        get!(self, Option<i64>, col)
    }
    /// A typed id column (`NodeId`, `RevisionId`, ...).
    pub fn id<T: From<i64>>(&self, col: &str) -> Result<T, MetaError> {
        self.i64(col).map(T::from)
    }
    pub fn opt_id<T: From<i64>>(&self, col: &str) -> Result<Option<T>, MetaError> {
        Ok(self.opt_i64(col)?.map(T::from))
    }
    pub fn bool(&self, col: &str) -> Result<bool, MetaError> {
        Ok(self.i64(col)? != 0)
    }
    pub fn text(&self, col: &str) -> Result<String, MetaError> {
        get!(self, String, col)
    }
    pub fn opt_text(&self, col: &str) -> Result<Option<String>, MetaError> {
        get!(self, Option<String>, col)
    }
    pub fn bytes(&self, col: &str) -> Result<Vec<u8>, MetaError> {
        get!(self, Vec<u8>, col)
    }
    pub fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, MetaError> {
        get!(self, Option<Vec<u8>>, col)
    }
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A transaction on either engine. Dropping it without [`Tx::commit`] rolls it back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

macro_rules! run {
    ($self:expr, $sql:expr, $args:expr, $method:ident, $wrap:expr) => {
        match $self {
            Tx::Sqlite(tx) => bind_all!(sqlx::query($sql), $args).$method(&mut **tx).await.map($wrap(DbRow::Sqlite)),
            Tx::Postgres(tx) => {
                bind_all!(sqlx::query($sql), $args).$method(&mut **tx).await.map($wrap(DbRow::Postgres))
            }
        }
    };
}

fn all<R>(f: fn(R) -> DbRow) -> impl Fn(Vec<R>) -> Vec<DbRow> {
    move |rows| rows.into_iter().map(f).collect()
}
fn opt<R>(f: fn(R) -> DbRow) -> impl Fn(Option<R>) -> Option<DbRow> {
    move |row| row.map(f)
}
fn one<R>(f: fn(R) -> DbRow) -> impl Fn(R) -> DbRow {
    f
}

impl Tx {
    pub fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn exec(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<u64, MetaError> {
        Ok(match self {
            Tx::Sqlite(tx) => bind_all!(sqlx::query(sql), args).execute(&mut **tx).await?.rows_affected(),
            Tx::Postgres(tx) => bind_all!(sqlx::query(sql), args).execute(&mut **tx).await?.rows_affected(),
        })
    }

    pub async fn rows(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<Vec<DbRow>, MetaError> {
        Ok(run!(self, sql, args, fetch_all, all)?)
    }

    pub async fn row(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<Option<DbRow>, MetaError> {
        Ok(run!(self, sql, args, fetch_optional, opt)?)
    }

    pub async fn one(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<DbRow, MetaError> {
        Ok(run!(self, sql, args, fetch_one, one)?)
    }

    /// Like [`Tx::rows`] for SQL assembled at run time. Only placeholders and fixed
    /// fragments may be spliced in, never a value.
    pub async fn rows_dyn(&mut self, sql: String, args: Vec<Arg>) -> Result<Vec<DbRow>, MetaError> {
        Ok(match self {
            Tx::Sqlite(tx) => bind_all!(sqlx::query(AssertSqlSafe(sql)), args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(DbRow::Sqlite)
                .collect(),
            Tx::Postgres(tx) => bind_all!(sqlx::query(AssertSqlSafe(sql)), args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(DbRow::Postgres)
                .collect(),
        })
    }

    /// Like [`Tx::exec`] for SQL assembled at run time (see [`Tx::rows_dyn`]).
    pub async fn exec_dyn(&mut self, sql: String, args: Vec<Arg>) -> Result<u64, MetaError> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                bind_all!(sqlx::query(AssertSqlSafe(sql)), args).execute(&mut **tx).await?.rows_affected()
            }
            Tx::Postgres(tx) => {
                bind_all!(sqlx::query(AssertSqlSafe(sql)), args).execute(&mut **tx).await?.rows_affected()
            }
        })
    }

    /// Runs several statements of a script (migrations).
    pub(crate) async fn script(&mut self, sql: &'static str) -> Result<(), MetaError> {
        match self {
            Tx::Sqlite(tx) => {
                sqlx::raw_sql(sql).execute(&mut **tx).await?;
            }
            Tx::Postgres(tx) => {
                sqlx::raw_sql(sql).execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), MetaError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// `$start, $start+1, ...` for an `IN (...)` list of `n` values.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}
