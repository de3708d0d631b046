//! A synced folder's own state, in `.coffer/state.db` (SQLite, WAL): the synced tree
//! (the base), the stamps of the last scan, the remote tree as the journal described it,
//! and the journal cursor.
//!
//! Observations, not work, are stored: a crash at any point loses at most the
//! operation in flight, and the next round plans again from what is recorded. Remote
//! changes and the cursor they lead to are saved in one transaction, so the cursor never
//! runs ahead of the tree it describes.
//!
//! `synchronous=NORMAL`: a transaction survives the process being killed at any point;
//! only a power cut or an OS crash can roll back the last few, and then the next round
//! finds both sides agreeing where the lost records said so and records it again (the
//! files themselves are fsynced where they are written). Ten thousand small files do
//! not cost thirty thousand fsyncs.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use coffer_core::wire::{Change, FileMode};
use coffer_core::{ChunkHash, ChunkRef, ContentHash, RemotePath};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row, SqlitePool};

use super::engine::listed_exactly;
use super::plan::{Entry, Kind, Tree, key};
use super::remote::{RemoteNode, RemoteTree};
use super::scan::Stamp;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("sync state database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("sync state is damaged: {0}")]
    Damaged(String),
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS synced (
    k TEXT PRIMARY KEY, path TEXT NOT NULL, is_folder INTEGER NOT NULL, content BLOB, rev INTEGER,
    node_id INTEGER, ino INTEGER
);
CREATE TABLE IF NOT EXISTS stamps (
    k TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns TEXT NOT NULL, inode INTEGER NOT NULL, content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS local_chunks (
    k TEXT NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL, offset INTEGER NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (k, seq)
);
CREATE INDEX IF NOT EXISTS local_chunks_hash ON local_chunks (hash);
CREATE TABLE IF NOT EXISTS moves (
    k TEXT PRIMARY KEY, from_path TEXT NOT NULL, to_path TEXT NOT NULL, node_id INTEGER,
    source TEXT, target TEXT
);
CREATE TABLE IF NOT EXISTS uploads (k TEXT PRIMARY KEY, path TEXT NOT NULL, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS placements (
    k TEXT PRIMARY KEY, path TEXT NOT NULL, content BLOB NOT NULL, rev INTEGER, node_id INTEGER, ino INTEGER,
    tmp TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS remote_nodes (
    id INTEGER PRIMARY KEY, parent_id INTEGER, name TEXT NOT NULL, is_folder INTEGER NOT NULL,
    rev INTEGER, content BLOB, trashed INTEGER NOT NULL, mtime INTEGER, size INTEGER
);
"#;

/// The name a case-only rename on disk passes through (in the item's folder).
pub const CASE_RENAME_STEP: &str = ".coffer-case-rename";

/// Which side a noted move is made on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveSide {
    /// On the server, of this node.
    Remote { node_id: Option<i64> },
    /// On disk, between these paths relative to the folder.
    Local { source: String, target: String },
}

struct NotedMove {
    from: RemotePath,
    to: RemotePath,
    node_id: Option<i64>,
    source: Option<String>,
    target: Option<String>,
}

/// Everything a round of sync starts from.
#[derive(Debug, Default)]
pub struct Loaded {
    pub synced: Tree,
    pub stamps: HashMap<String, (Stamp, ContentHash)>,
    pub remote: RemoteTree,
    pub cursor: String,
}

pub struct SyncState {
    pool: SqlitePool,
}

/// A stored file mode; none (state written before modes were kept) is a regular file.
fn mode_of(code: Option<i64>) -> FileMode {
    code.map_or(FileMode::Regular, FileMode::from_code)
}

fn hash_of(bytes: Option<Vec<u8>>) -> Option<ContentHash> {
    bytes.as_deref().and_then(ContentHash::from_slice)
}

impl SyncState {
    /// Opens (creating) the state database of the folder whose state dir is `dir`.
    pub async fn open(dir: &Path) -> Result<Self, StateError> {
        std::fs::create_dir_all(dir).map_err(|e| StateError::Damaged(format!("{}: {e}", dir.display())))?;
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", dir.join("state.db").display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(10));
        // No idle reaping (see coffer-metastore: sqlx's reaper can spin).
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        // State written before node and file ids, times and modes were kept: add them
        // (empty; moves of such items are then synced as delete and create, once).
        for (table, column) in [
            ("synced", "node_id"),
            ("synced", "ino"),
            ("remote_nodes", "mtime"),
            ("remote_nodes", "size"),
            ("synced", "mode"),
            ("remote_nodes", "mode"),
            ("placements", "mode"),
            ("synced", "born"),
            ("placements", "born"),
            ("stamps", "born"),
        ] {
            let columns: Vec<String> =
                sqlx::query(AssertSqlSafe(format!("SELECT name FROM pragma_table_info('{table}')")))
                    .fetch_all(&pool)
                    .await?
                    .iter()
                    .map(|r| r.try_get("name"))
                    .collect::<Result<_, _>>()?;
            if !columns.iter().any(|c| c == column) {
                sqlx::raw_sql(AssertSqlSafe(format!("ALTER TABLE {table} ADD COLUMN {column} INTEGER")))
                    .execute(&pool)
                    .await?;
            }
        }
        Ok(Self { pool })
    }

    pub async fn load(&self) -> Result<Loaded, StateError> {
        let mut out = Loaded::default();
        for r in sqlx::query("SELECT k, path, is_folder, content, rev, node_id, ino, born, mode FROM synced")
            .fetch_all(&self.pool)
            .await?
        {
            let path: String = r.try_get("path")?;
            let path = RemotePath::parse(&path).map_err(|e| StateError::Damaged(format!("path {path:?}: {e}")))?;
            let kind = if r.try_get::<i64, _>("is_folder")? != 0 { Kind::Folder } else { Kind::File };
            let entry = Entry {
                kind,
                content: hash_of(r.try_get("content")?),
                rev: r.try_get("rev")?,
                id: r.try_get("node_id")?,
                ino: r.try_get::<Option<i64>, _>("ino")?.map(|i| i as u64),
                born: r.try_get("born")?,
                mode: mode_of(r.try_get("mode")?),
            };
            out.synced.insert(r.try_get("k")?, (path, entry));
        }
        for r in sqlx::query("SELECT k, size, mtime_ns, inode, content, born FROM stamps").fetch_all(&self.pool).await?
        {
            let mtime: String = r.try_get("mtime_ns")?;
            let stamp = Stamp {
                size: r.try_get::<i64, _>("size")? as u64,
                mtime_ns: mtime.parse().map_err(|_| StateError::Damaged("stamp time".into()))?,
                inode: r.try_get::<i64, _>("inode")? as u64,
                born: r.try_get("born")?,
            };
            let content = hash_of(r.try_get("content")?).ok_or_else(|| StateError::Damaged("stamp content".into()))?;
            out.stamps.insert(r.try_get("k")?, (stamp, content));
        }
        for r in sqlx::query(
            "SELECT id, parent_id, name, is_folder, rev, content, trashed, mtime, size, mode FROM remote_nodes",
        )
        .fetch_all(&self.pool)
        .await?
        {
            out.remote.insert_node(RemoteNode {
                id: r.try_get("id")?,
                parent_id: r.try_get("parent_id")?,
                name: r.try_get("name")?,
                kind: if r.try_get::<i64, _>("is_folder")? != 0 { Kind::Folder } else { Kind::File },
                rev: r.try_get("rev")?,
                content: hash_of(r.try_get("content")?),
                trashed: r.try_get::<i64, _>("trashed")? != 0,
                mtime: r.try_get("mtime")?,
                mode: mode_of(r.try_get("mode")?),
                size: r.try_get::<Option<i64>, _>("size")?.unwrap_or(0) as u64,
            });
        }
        out.cursor = sqlx::query("SELECT v FROM meta WHERE k = 'cursor'")
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get::<String, _>("v"))
            .transpose()?
            .unwrap_or_default();
        Ok(out)
    }

    /// Applies a page of journal changes to the stored remote tree and moves the cursor,
    /// in one transaction.
    pub async fn apply_remote(&self, changes: &[Change], cursor: &str) -> Result<(), StateError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for c in changes {
            let n = &c.node;
            if c.kind == coffer_core::wire::ChangeKind::Deleted {
                sqlx::query("DELETE FROM remote_nodes WHERE id = $1").bind(n.id).execute(&mut *tx).await?;
                continue;
            }
            sqlx::query(
                "INSERT INTO remote_nodes (id, parent_id, name, is_folder, rev, content, trashed, mtime, size, mode) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO UPDATE SET \
                 parent_id = excluded.parent_id, name = excluded.name, is_folder = excluded.is_folder, \
                 rev = excluded.rev, content = excluded.content, trashed = excluded.trashed, \
                 mtime = excluded.mtime, size = excluded.size, mode = excluded.mode",
            )
            .bind(n.id)
            .bind(n.parent_id)
            .bind(n.name.clone())
            .bind(i64::from(n.kind == coffer_core::wire::NodeKind::Folder))
            .bind(n.rev)
            .bind(n.content_hash.map(|h| h.as_bytes().to_vec()))
            .bind(i64::from(n.trashed))
            .bind(n.mtime)
            .bind(n.size as i64)
            .bind(n.mode.code())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("INSERT INTO meta (k, v) VALUES ('cursor', $1) ON CONFLICT (k) DO UPDATE SET v = excluded.v")
            .bind(cursor.to_owned())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records one path of the base (`None`: gone on both sides), after the operation
    /// that made both sides agree succeeded.
    pub async fn record(&self, path: &RemotePath, entry: Option<&Entry>) -> Result<(), StateError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        match entry {
            Some(e) => {
                sqlx::query(
                    "INSERT INTO synced (k, path, is_folder, content, rev, node_id, ino, mode, born) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (k) DO UPDATE SET path = excluded.path, is_folder = excluded.is_folder, \
                     content = excluded.content, rev = excluded.rev, node_id = excluded.node_id, ino = excluded.ino, \
                     mode = excluded.mode, born = excluded.born",
                )
                .bind(key(path))
                .bind(path.to_string())
                .bind(i64::from(e.kind == Kind::Folder))
                .bind(e.content.map(|h| h.as_bytes().to_vec()))
                .bind(e.rev)
                .bind(e.id)
                .bind(e.ino.map(|i| i as i64))
                .bind(e.mode.code())
                .bind(e.born)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM synced WHERE k = $1").bind(key(path)).execute(&mut *tx).await?;
            }
        }
        // A download or an upload noted as under way is now settled either way.
        sqlx::query("DELETE FROM placements WHERE k = $1").bind(key(path)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM uploads WHERE k = $1").bind(key(path)).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Notes that a downloaded file (in `.coffer/tmp/<tmp>`) is about to be renamed into
    /// place as `entry`: recorded as the base at once when that happens, or at the next
    /// start if a crash comes first.
    pub async fn note_placement(&self, path: &RemotePath, entry: &Entry, tmp: &str) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO placements (k, path, content, rev, node_id, ino, tmp, mode, born) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (k) DO UPDATE SET path = excluded.path, content = excluded.content, rev = excluded.rev, \
             node_id = excluded.node_id, ino = excluded.ino, tmp = excluded.tmp, mode = excluded.mode, \
             born = excluded.born",
        )
        .bind(key(path))
        .bind(path.to_string())
        .bind(entry.content.map(|h| h.as_bytes().to_vec()).unwrap_or_default())
        .bind(entry.rev)
        .bind(entry.id)
        .bind(entry.ino.map(|i| i as i64))
        .bind(tmp.to_owned())
        .bind(entry.mode.code())
        .bind(entry.born)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// After a crash: a noted placement whose temporary file is gone was renamed into
    /// place, so it is the base (whatever happened to the file since is a local change);
    /// one whose temporary file is still there never happened.
    pub async fn recover_placements(&self, tmp_dir: &Path) -> Result<(), StateError> {
        let rows = sqlx::query("SELECT k, path, content, rev, node_id, ino, tmp, mode, born FROM placements")
            .fetch_all(&self.pool)
            .await?;
        for r in rows {
            let tmp: String = r.try_get("tmp")?;
            // (A link is looked at itself: one that leads nowhere is still there.)
            if std::fs::symlink_metadata(tmp_dir.join(&tmp)).is_err() {
                let path: String = r.try_get("path")?;
                let path = RemotePath::parse(&path).map_err(|e| StateError::Damaged(format!("path {path:?}: {e}")))?;
                let content = hash_of(r.try_get("content")?).ok_or_else(|| StateError::Damaged("placement".into()))?;
                let entry = Entry::file(content, r.try_get("rev")?)
                    .with_id(r.try_get("node_id")?)
                    .with_ino(r.try_get::<Option<i64>, _>("ino")?.map(|i| i as u64))
                    .with_mode(mode_of(r.try_get("mode")?));
                let entry = Entry { born: r.try_get("born")?, ..entry };
                self.record(&path, Some(&entry)).await?;
            }
            sqlx::query("DELETE FROM placements WHERE k = $1")
                .bind(r.try_get::<String, _>("k")?)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Notes uploads about to be committed, so that one committed just before a crash
    /// (before its base was recorded) is recognized afterwards.
    pub async fn note_uploads(&self, files: &[(&RemotePath, ContentHash)]) -> Result<(), StateError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for (path, content) in files {
            sqlx::query(
                "INSERT INTO uploads (k, path, content) VALUES ($1, $2, $3) \
                 ON CONFLICT (k) DO UPDATE SET path = excluded.path, content = excluded.content",
            )
            .bind(key(path))
            .bind(path.to_string())
            .bind(content.as_bytes().to_vec())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn has_noted_uploads(&self) -> Result<bool, StateError> {
        Ok(sqlx::query("SELECT 1 FROM uploads LIMIT 1").fetch_optional(&self.pool).await?.is_some())
    }

    /// After a crash: a noted upload whose content the server has (or had, before it was
    /// deleted there) at that path was committed; the base records it, so a local delete
    /// since is a delete and a delete there is one here. The notes are cleared. True if
    /// the base changed.
    pub async fn recover_uploads(&self, remote: &Tree) -> Result<bool, StateError> {
        let rows = sqlx::query("SELECT k, path, content FROM uploads").fetch_all(&self.pool).await?;
        let mut changed = false;
        for r in rows {
            let k: String = r.try_get("k")?;
            let content = hash_of(r.try_get("content")?);
            if let Some((path, entry)) = remote.get(&k)
                && entry.kind == Kind::File
                && entry.content == content
            {
                self.record(path, Some(entry)).await?;
                changed = true;
            }
            sqlx::query("DELETE FROM uploads WHERE k = $1").bind(k).execute(&self.pool).await?;
        }
        Ok(changed)
    }

    /// Notes a move about to be made (on the server, or on disk from `source` to
    /// `target`, relative to the folder): recorded by [`SyncState::record_move`] when
    /// done, recovered after a crash otherwise.
    pub async fn note_move(&self, from: &RemotePath, to: &RemotePath, side: MoveSide) -> Result<(), StateError> {
        let (node_id, source, target) = match side {
            MoveSide::Remote { node_id } => (node_id, None, None),
            MoveSide::Local { source, target } => (None, Some(source), Some(target)),
        };
        sqlx::query(
            "INSERT INTO moves (k, from_path, to_path, node_id, source, target) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (k) DO UPDATE SET from_path = excluded.from_path, to_path = excluded.to_path, \
             node_id = excluded.node_id, source = excluded.source, target = excluded.target",
        )
        .bind(key(from))
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(node_id)
        .bind(source)
        .bind(target)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn noted_moves(&self, local: bool) -> Result<Vec<NotedMove>, StateError> {
        let rows =
            sqlx::query("SELECT from_path, to_path, node_id, source, target FROM moves").fetch_all(&self.pool).await?;
        let mut out = Vec::new();
        for r in rows {
            let source: Option<String> = r.try_get("source")?;
            if source.is_some() != local {
                continue;
            }
            let parse = |col: &str| -> Result<RemotePath, StateError> {
                let p: String = r.try_get(col)?;
                RemotePath::parse(&p).map_err(|e| StateError::Damaged(format!("move {p:?}: {e}")))
            };
            out.push(NotedMove {
                from: parse("from_path")?,
                to: parse("to_path")?,
                node_id: r.try_get("node_id")?,
                source,
                target: r.try_get("target")?,
            });
        }
        Ok(out)
    }

    async fn forget_move(&self, from: &RemotePath) -> Result<(), StateError> {
        sqlx::query("DELETE FROM moves WHERE k = $1").bind(key(from)).execute(&self.pool).await?;
        Ok(())
    }

    /// After a crash: a noted local move whose source is gone and whose target is there
    /// happened (a rename is atomic); the base follows. Others never happened.
    pub async fn recover_local_moves(&self, root: &Path) -> Result<(), StateError> {
        for m in self.noted_moves(true).await? {
            let (Some(source), Some(target)) = (&m.source, &m.target) else { continue };
            let (source, target) = (root.join(source), root.join(target));
            let moved = if key(&m.from) == key(&m.to) {
                // A case-only rename, made through a step name: finish it if it stopped
                // there. Only the exact spelling listed tells where it is.
                let step = target.with_file_name(CASE_RENAME_STEP);
                if !listed_exactly(&target) && std::fs::symlink_metadata(&step).is_ok() {
                    let _ = std::fs::rename(&step, &target);
                }
                source != target && listed_exactly(&target) && !listed_exactly(&source)
            } else {
                source != target
                    && std::fs::symlink_metadata(&source).is_err()
                    && std::fs::symlink_metadata(&target).is_ok()
            };
            if moved {
                self.record_move(&m.from, &m.to).await?;
            }
            self.forget_move(&m.from).await?;
        }
        Ok(())
    }

    /// After a crash: a noted server move happened if the server has the node where it
    /// was going; the base follows. True if the base changed.
    pub async fn recover_remote_moves(&self, remote: &RemoteTree) -> Result<bool, StateError> {
        let mut changed = false;
        for m in self.noted_moves(false).await? {
            let there = m.node_id.and_then(|id| remote.path_of(id)).is_some_and(|p| p.to_string() == m.to.to_string());
            if there {
                self.record_move(&m.from, &m.to).await?;
                changed = true;
            }
            self.forget_move(&m.from).await?;
        }
        Ok(changed)
    }

    /// Follows a move made on one side: the base (and the stamps) of `from` and
    /// everything below it now live at `to`, in one transaction.
    pub async fn record_move(&self, from: &RemotePath, to: &RemotePath) -> Result<(), StateError> {
        let (from_key, to_key) = (key(from), key(to));
        let (from_path, to_path) = (from.to_string(), to.to_string());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let rows = sqlx::query("SELECT k, path FROM synced WHERE k = $1 OR substr(k, 1, $2) = $3")
            .bind(from_key.clone())
            .bind(from_key.len() as i64 + 1)
            .bind(format!("{from_key}/"))
            .fetch_all(&mut *tx)
            .await?;
        let moved: Vec<(String, String)> = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("k")?, r.try_get::<String, _>("path")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        // Out of the way first: a destination key may equal a source key (case-only).
        for (k, _) in &moved {
            sqlx::query("UPDATE synced SET k = $1 WHERE k = $2")
                .bind(format!("moving:{k}"))
                .bind(k.clone())
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE stamps SET k = $1 WHERE k = $2")
                .bind(format!("moving:{k}"))
                .bind(k.clone())
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE local_chunks SET k = $1 WHERE k = $2")
                .bind(format!("moving:{k}"))
                .bind(k.clone())
                .execute(&mut *tx)
                .await?;
        }
        for (k, path) in &moved {
            let new_key = format!("{to_key}{}", &k[from_key.len()..]);
            let new_path = if path.len() >= from_path.len() && path.is_char_boundary(from_path.len()) {
                format!("{to_path}{}", &path[from_path.len()..])
            } else {
                return Err(StateError::Damaged(format!("path {path:?} below {from_path:?}")));
            };
            sqlx::query("DELETE FROM synced WHERE k = $1").bind(new_key.clone()).execute(&mut *tx).await?;
            sqlx::query("UPDATE synced SET k = $1, path = $2 WHERE k = $3")
                .bind(new_key.clone())
                .bind(new_path)
                .bind(format!("moving:{k}"))
                .execute(&mut *tx)
                .await?;
            // A stamp and a chunk list follow only if there is one (the scan may have
            // stamped the destination already).
            for table in ["stamps", "local_chunks"] {
                let sql = format!("DELETE FROM {table} WHERE k = $1 AND EXISTS (SELECT 1 FROM {table} WHERE k = $2)");
                sqlx::query(AssertSqlSafe(sql))
                    .bind(new_key.clone())
                    .bind(format!("moving:{k}"))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(AssertSqlSafe(format!("UPDATE {table} SET k = $1 WHERE k = $2")))
                    .bind(new_key.clone())
                    .bind(format!("moving:{k}"))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("DELETE FROM moves WHERE k = $1").bind(from_key.clone()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Brings the stamps from `before` (as loaded) to `after` (the latest scan), writing
    /// only what differs, with the chunk lists of the files the scan read. A file that
    /// moved keeps its chunk list.
    pub async fn save_stamps(
        &self,
        before: &HashMap<String, (Stamp, ContentHash)>,
        after: &HashMap<String, (Stamp, ContentHash)>,
        chunks: &HashMap<String, Vec<ChunkRef>>,
    ) -> Result<(), StateError> {
        let moved_from: HashMap<u64, &String> =
            before.iter().filter(|(k, _)| !after.contains_key(*k)).map(|(k, (s, _))| (s.inode, k)).collect();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for (k, (s, c)) in after {
            if before.get(k) == Some(&(*s, *c)) && !chunks.contains_key(k) {
                continue;
            }
            upsert_stamp(&mut tx, k, *s, *c).await?;
            match chunks.get(k) {
                Some(list) => replace_chunks(&mut tx, k, list).await?,
                None => {
                    if let Some(old) = moved_from.get(&s.inode).filter(|o| before[**o] == (*s, *c)) {
                        sqlx::query("DELETE FROM local_chunks WHERE k = $1").bind(k.clone()).execute(&mut *tx).await?;
                        sqlx::query("UPDATE local_chunks SET k = $1 WHERE k = $2")
                            .bind(k.clone())
                            .bind((*old).clone())
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
        }
        for k in before.keys().filter(|k| !after.contains_key(*k)) {
            sqlx::query("DELETE FROM stamps WHERE k = $1").bind(k.clone()).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM local_chunks WHERE k = $1").bind(k.clone()).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where chunks can be read on this device: for each hash found, a file's key,
    /// the offset and the length.
    pub async fn find_chunks(
        &self,
        hashes: &[ChunkHash],
    ) -> Result<HashMap<ChunkHash, (String, u64, u32)>, StateError> {
        let mut out = HashMap::new();
        for batch in hashes.chunks(500) {
            let marks: Vec<String> = (1..=batch.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT hash, k, offset, size FROM local_chunks WHERE hash IN ({})", marks.join(", "));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for h in batch {
                q = q.bind(h.as_bytes().to_vec());
            }
            for r in q.fetch_all(&self.pool).await? {
                let hash: Vec<u8> = r.try_get("hash")?;
                if let Some(h) = ChunkHash::from_slice(&hash) {
                    let at =
                        (r.try_get("k")?, r.try_get::<i64, _>("offset")? as u64, r.try_get::<i64, _>("size")? as u32);
                    out.entry(h).or_insert(at);
                }
            }
        }
        Ok(out)
    }

    /// Records one file's stamp and chunks (a file this engine just wrote).
    pub async fn put_file(
        &self,
        k: &str,
        stamp: Stamp,
        content: ContentHash,
        chunks: &[ChunkRef],
    ) -> Result<(), StateError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        upsert_stamp(&mut tx, k, stamp, content).await?;
        replace_chunks(&mut tx, k, chunks).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn meta(&self, k: &str) -> Result<Option<String>, StateError> {
        Ok(sqlx::query_scalar("SELECT v FROM meta WHERE k = $1").bind(k.to_owned()).fetch_optional(&self.pool).await?)
    }

    async fn set_meta(&self, k: &str, v: Option<&str>) -> Result<(), StateError> {
        match v {
            Some(v) => {
                sqlx::query("INSERT INTO meta (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v")
                    .bind(k.to_owned())
                    .bind(v.to_owned())
                    .execute(&self.pool)
                    .await?
            }
            None => sqlx::query("DELETE FROM meta WHERE k = $1").bind(k.to_owned()).execute(&self.pool).await?,
        };
        Ok(())
    }

    /// A value kept as JSON under `k` (`None` when absent).
    pub async fn meta_json<T: serde::de::DeserializeOwned>(&self, k: &str) -> Result<Option<T>, StateError> {
        let Some(text) = self.meta(k).await? else { return Ok(None) };
        serde_json::from_str(&text).map(Some).map_err(|e| StateError::Damaged(format!("{k}: {e}")))
    }

    /// Keeps `value` as JSON under `k`.
    pub async fn set_meta_json<T: serde::Serialize>(&self, k: &str, value: &T) -> Result<(), StateError> {
        let text = serde_json::to_string(value).map_err(|e| StateError::Damaged(e.to_string()))?;
        self.set_meta(k, Some(&text)).await
    }

    /// The folders left out of this device's sync (selective sync).
    pub async fn excluded(&self) -> Result<Vec<RemotePath>, StateError> {
        let Some(text) = self.meta("excluded").await? else { return Ok(Vec::new()) };
        let paths: Vec<String> =
            serde_json::from_str(&text).map_err(|e| StateError::Damaged(format!("excluded folders: {e}")))?;
        paths.iter().map(|p| RemotePath::parse(p).map_err(|e| StateError::Damaged(format!("{p:?}: {e}")))).collect()
    }

    pub async fn set_excluded(&self, paths: &[RemotePath]) -> Result<(), StateError> {
        let mut list: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        list.sort();
        list.dedup();
        let text = serde_json::to_string(&list).map_err(|e| StateError::Damaged(e.to_string()))?;
        self.set_meta("excluded", Some(&text)).await
    }

    /// The shared folders mounted in the account when the last round looked:
    /// (namespace, path). `None` before the first look.
    pub async fn known_mounts(&self) -> Result<Option<Vec<(i64, String)>>, StateError> {
        let Some(text) = self.meta("mounts").await? else { return Ok(None) };
        serde_json::from_str(&text).map(Some).map_err(|e| StateError::Damaged(format!("known mounts: {e}")))
    }

    pub async fn set_known_mounts(&self, mounts: &[(i64, String)]) -> Result<(), StateError> {
        let text = serde_json::to_string(mounts).map_err(|e| StateError::Damaged(e.to_string()))?;
        self.set_meta("mounts", Some(&text)).await
    }

    /// Folders kept on this device but no longer synced, with why (a shared folder the
    /// user is no longer in).
    pub async fn detached(&self) -> Result<Vec<(RemotePath, String)>, StateError> {
        let Some(text) = self.meta("detached").await? else { return Ok(Vec::new()) };
        let list: Vec<(String, String)> =
            serde_json::from_str(&text).map_err(|e| StateError::Damaged(format!("detached folders: {e}")))?;
        list.into_iter()
            .map(|(p, why)| {
                RemotePath::parse(&p).map(|p| (p, why)).map_err(|e| StateError::Damaged(format!("{p:?}: {e}")))
            })
            .collect()
    }

    /// Sets the detached folders.
    pub async fn set_detached(&self, list: &[(RemotePath, String)]) -> Result<(), StateError> {
        let list: Vec<(String, String)> = list.iter().map(|(p, why)| (p.to_string(), why.clone())).collect();
        let text = serde_json::to_string(&list).map_err(|e| StateError::Damaged(e.to_string()))?;
        self.set_meta("detached", Some(&text)).await
    }

    /// Forgets what the base remembers at and below `path`: it is no longer synced, so
    /// nothing there is uploaded, downloaded or deleted.
    pub async fn forget_below(&self, path: &RemotePath) -> Result<(), StateError> {
        let k = key(path);
        sqlx::query("DELETE FROM synced WHERE k = $1 OR substr(k, 1, length($1) + 1) = $1 || '/'")
            .bind(k)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How the last sync ended: when (ms since the epoch) and the error, if it failed.
    pub async fn last_result(&self) -> Result<(Option<i64>, Option<String>), StateError> {
        let at = self.meta("last_sync_at").await?.and_then(|v| v.parse().ok());
        Ok((at, self.meta("last_error").await?))
    }

    pub async fn set_last_result(&self, at: i64, error: Option<&str>) -> Result<(), StateError> {
        self.set_meta("last_sync_at", Some(&at.to_string())).await?;
        self.set_meta("last_error", error).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn upsert_stamp(
    tx: &mut sqlx::SqliteConnection,
    k: &str,
    stamp: Stamp,
    content: ContentHash,
) -> Result<(), StateError> {
    sqlx::query(
        "INSERT INTO stamps (k, size, mtime_ns, inode, content, born) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (k) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, \
         inode = excluded.inode, content = excluded.content, born = excluded.born",
    )
    .bind(k.to_owned())
    .bind(stamp.size as i64)
    .bind(stamp.mtime_ns.to_string())
    .bind(stamp.inode as i64)
    .bind(content.as_bytes().to_vec())
    .bind(stamp.born)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn replace_chunks(tx: &mut sqlx::SqliteConnection, k: &str, chunks: &[ChunkRef]) -> Result<(), StateError> {
    sqlx::query("DELETE FROM local_chunks WHERE k = $1").bind(k.to_owned()).execute(&mut *tx).await?;
    let mut offset = 0u64;
    for (seq, c) in chunks.iter().enumerate() {
        sqlx::query("INSERT INTO local_chunks (k, seq, hash, offset, size) VALUES ($1, $2, $3, $4, $5)")
            .bind(k.to_owned())
            .bind(seq as i64)
            .bind(c.hash.as_bytes().to_vec())
            .bind(offset as i64)
            .bind(i64::from(c.size))
            .execute(&mut *tx)
            .await?;
        offset += u64::from(c.size);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use coffer_core::wire::ChangeKind;

    use super::*;

    fn change(seq: i64, id: i64, parent: Option<i64>, name: &str, folder: bool) -> Change {
        super::super::test_change(seq, ChangeKind::Created, id, parent, name, folder, false)
    }

    #[tokio::test]
    async fn state_survives_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = SyncState::open(dir.path()).await.expect("open");
        let changes = vec![
            change(1, 1, None, "", true),
            change(2, 5, Some(1), "Docs", true),
            change(3, 6, Some(5), "a.txt", false),
        ];
        state.apply_remote(&changes, "v1:1=3").await.expect("apply");
        let p = RemotePath::parse("/Docs/a.txt").expect("path");
        state.record(&p, Some(&Entry::file(ContentHash([3; 32]), Some(3)))).await.expect("record");
        state.record(&RemotePath::parse("/gone").expect("path"), None).await.expect("record none");
        let mut stamps = HashMap::new();
        stamps.insert(
            key(&p),
            (Stamp { size: 1, mtime_ns: 1_700_000_000_123_456_789, inode: 42, born: Some(9) }, ContentHash([7; 32])),
        );
        state.save_stamps(&HashMap::new(), &stamps, &HashMap::new()).await.expect("stamps");
        state.close().await;

        let again = SyncState::open(dir.path()).await.expect("reopen");
        let loaded = again.load().await.expect("load");
        assert_eq!(loaded.cursor, "v1:1=3");
        assert_eq!(loaded.stamps, stamps);
        assert_eq!(loaded.synced[&key(&p)].1.rev, Some(3));
        let remote: Vec<String> = loaded.remote.to_tree().values().map(|(p, _)| p.to_string()).collect();
        assert_eq!(remote, vec!["/Docs", "/Docs/a.txt"]);
    }
}
