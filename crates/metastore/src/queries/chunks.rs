//! Chunk bookkeeping: reference counts, which user may be told a chunk exists, upload
//! sessions, and the candidates for garbage collection.
//!
//! GC safety: a chunk is deleted only after a transaction marks it `deleting` while it
//! has no references and belongs to no live upload; a commit only references chunks that
//! are not `deleting`, and an upload that finds a chunk `deleting` waits and retries.

use std::collections::HashSet;

use coffer_core::{UploadId, UserId};

use crate::db::{Arg, Tx, placeholders};
use crate::queries::IN_BATCH;
use crate::{MetaError, args};

impl Tx {
    /// The hashes among `hashes` that a query returns. `sql` names its leading values
    /// `$1..$k` (`lead`) and has `{list}` where the hash list goes; the list is sent in
    /// batches of [`IN_BATCH`].
    async fn hashes_matching(
        &mut self,
        sql: &str,
        lead: Vec<Arg>,
        hashes: &[Vec<u8>],
    ) -> Result<HashSet<Vec<u8>>, MetaError> {
        let mut out = HashSet::new();
        for batch in hashes.chunks(IN_BATCH) {
            let query = sql.replace("{list}", &placeholders(lead.len() + 1, batch.len()));
            let mut a = lead.clone();
            a.extend(batch.iter().map(|h| Arg::from(h.clone())));
            for r in self.rows_dyn(query, a).await? {
                out.insert(r.bytes("hash")?);
            }
        }
        Ok(out)
    }

    /// Of `hashes`, those that are stored (not being deleted) and that `user_id` already
    /// holds in a file: the only ones the server may admit to having.
    pub async fn chunks_known_to_user(
        &mut self,
        user_id: UserId,
        hashes: &[Vec<u8>],
    ) -> Result<HashSet<Vec<u8>>, MetaError> {
        self.hashes_matching(
            "SELECT c.hash FROM chunks c JOIN user_chunks u ON u.hash = c.hash \
             WHERE u.user_id = $1 AND c.deleting = 0 AND c.hash IN ({list})",
            args![user_id],
            hashes,
        )
        .await
    }

    /// Of `hashes`, those uploaded in `upload_id` and still stored.
    pub async fn chunks_in_upload(
        &mut self,
        upload_id: &UploadId,
        hashes: &[Vec<u8>],
    ) -> Result<HashSet<Vec<u8>>, MetaError> {
        self.hashes_matching(
            "SELECT c.hash FROM chunks c JOIN upload_chunks u ON u.hash = c.hash \
             WHERE u.upload_id = $1 AND c.deleting = 0 AND c.hash IN ({list})",
            args![upload_id],
            hashes,
        )
        .await
    }

    /// `Some(deleting)` if the chunk has a row.
    pub async fn chunk_state(&mut self, hash: &[u8]) -> Result<Option<bool>, MetaError> {
        self.row("SELECT deleting FROM chunks WHERE hash = $1", args![hash])
            .await?
            .map(|r| r.bool("deleting"))
            .transpose()
    }

    /// Records a stored chunk (no-op if known) and ties it to an upload, so GC keeps it
    /// until the upload commits or expires.
    pub async fn record_uploaded_chunk(
        &mut self,
        upload_id: &UploadId,
        hash: &[u8],
        size: i64,
        stored_size: i64,
        now: i64,
    ) -> Result<(), MetaError> {
        self.exec(
            "INSERT INTO chunks (hash, size, stored_size, refcount, created_at, unreferenced_since) \
             VALUES ($1, $2, $3, 0, $4, $4) ON CONFLICT (hash) DO NOTHING",
            args![hash, size, stored_size, now],
        )
        .await?;
        self.exec(
            "INSERT INTO upload_chunks (upload_id, hash) VALUES ($1, $2) ON CONFLICT (upload_id, hash) DO NOTHING",
            args![upload_id, hash],
        )
        .await?;
        Ok(())
    }

    /// Adds `delta` to the reference count of each distinct chunk; returns how many rows
    /// changed. A chunk whose count drops to zero starts its GC grace period. Adding
    /// references skips chunks marked for collection, so a caller that gets back fewer
    /// rows than hashes lost a race with the collector and must not commit. Rows are
    /// updated in hash order, so concurrent transactions cannot deadlock on them.
    pub async fn add_chunk_refs(&mut self, hashes: &[Vec<u8>], delta: i64, now: i64) -> Result<u64, MetaError> {
        let mut sorted = hashes.to_vec();
        sorted.sort();
        let mut changed = 0;
        for batch in sorted.chunks(IN_BATCH) {
            let live_only = if delta > 0 { "AND deleting = 0" } else { "" };
            let sql = format!(
                "UPDATE chunks SET refcount = refcount + $1, \
                 unreferenced_since = CASE WHEN refcount + $1 <= 0 THEN $2 ELSE NULL END \
                 WHERE hash IN ({}) {live_only}",
                placeholders(3, batch.len())
            );
            let mut a: Vec<Arg> = args![delta, now];
            a.extend(batch.iter().map(|h| Arg::from(h.clone())));
            changed += self.exec_dyn(sql, a).await?;
        }
        Ok(changed)
    }

    /// Ties chunks to an upload session before their bytes are written: the collector
    /// leaves alone any chunk an upload holds.
    pub async fn link_upload_chunks(&mut self, upload_id: &UploadId, hashes: &[Vec<u8>]) -> Result<(), MetaError> {
        for batch in hashes.chunks(IN_BATCH) {
            let links = (0..batch.len()).map(|i| format!("($1, ${})", i + 2)).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "INSERT INTO upload_chunks (upload_id, hash) VALUES {links} ON CONFLICT (upload_id, hash) DO NOTHING"
            );
            let mut a: Vec<Arg> = args![upload_id];
            a.extend(batch.iter().map(|h| Arg::from(h.clone())));
            self.exec_dyn(sql, a).await?;
        }
        Ok(())
    }

    /// Second look of the collector after marking: a chunk that gained a reference or
    /// an upload meanwhile is unmarked (true), and must not be deleted.
    pub async fn unmark_chunk_if_used(&mut self, hash: &[u8]) -> Result<bool, MetaError> {
        Ok(self
            .exec(
                "UPDATE chunks SET deleting = 0 WHERE hash = $1 AND deleting = 1 \
                 AND (refcount > 0 OR EXISTS (SELECT 1 FROM upload_chunks u WHERE u.hash = chunks.hash))",
                args![hash],
            )
            .await?
            == 1)
    }

    /// Chunks marked for collection whose collection did not finish (a crash, a failed
    /// delete): the next pass completes them.
    pub async fn chunks_marked_deleting(&mut self, limit: i64) -> Result<Vec<Vec<u8>>, MetaError> {
        self.rows("SELECT hash FROM chunks WHERE deleting = 1 LIMIT $1", args![limit])
            .await?
            .iter()
            .map(|r| r.bytes("hash"))
            .collect()
    }

    /// Remembers that `user_id` holds these chunks (dedup privacy).
    pub async fn grant_user_chunks(&mut self, user_id: UserId, hashes: &[Vec<u8>]) -> Result<(), MetaError> {
        for batch in hashes.chunks(IN_BATCH) {
            let values = (0..batch.len()).map(|i| format!("($1, ${})", i + 2)).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "INSERT INTO user_chunks (user_id, hash) VALUES {values} ON CONFLICT (user_id, hash) DO NOTHING"
            );
            let mut a: Vec<Arg> = args![user_id];
            a.extend(batch.iter().map(|h| Arg::from(h.clone())));
            self.exec_dyn(sql, a).await?;
        }
        Ok(())
    }

    pub async fn create_upload(
        &mut self,
        id: &UploadId,
        user_id: UserId,
        now: i64,
        expires_at: i64,
    ) -> Result<(), MetaError> {
        self.exec(
            "INSERT INTO uploads (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            args![id, user_id, now, expires_at],
        )
        .await?;
        Ok(())
    }

    /// `(user_id, expires_at)` of an upload session.
    pub async fn upload(&mut self, id: &UploadId) -> Result<Option<(UserId, i64)>, MetaError> {
        self.row("SELECT user_id, expires_at FROM uploads WHERE id = $1", args![id])
            .await?
            .map(|r| Ok((r.id("user_id")?, r.i64("expires_at")?)))
            .transpose()
    }

    /// Counts bytes sent to an upload session (they count towards the quota while the
    /// session holds them).
    pub async fn add_upload_bytes(&mut self, id: &UploadId, bytes: i64) -> Result<(), MetaError> {
        self.exec("UPDATE uploads SET bytes = bytes + $1 WHERE id = $2", args![bytes, id]).await?;
        Ok(())
    }

    /// Like [`Tx::add_upload_bytes`], never below zero.
    pub async fn add_upload_bytes_floor(&mut self, id: &UploadId, bytes: i64) -> Result<(), MetaError> {
        self.exec(
            "UPDATE uploads SET bytes = CASE WHEN bytes + $1 < 0 THEN 0 ELSE bytes + $1 END WHERE id = $2",
            args![bytes, id],
        )
        .await?;
        Ok(())
    }

    /// `(sessions, bytes)` of a user's live upload sessions.
    pub async fn open_uploads(&mut self, user_id: UserId, now: i64) -> Result<(i64, i64), MetaError> {
        let r = self
            .one(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS bytes FROM uploads \
                 WHERE user_id = $1 AND expires_at > $2",
                args![user_id, now],
            )
            .await?;
        Ok((r.i64("n")?, r.i64("bytes")?))
    }

    pub async fn delete_upload(&mut self, id: &UploadId) -> Result<(), MetaError> {
        self.exec("DELETE FROM upload_chunks WHERE upload_id = $1", args![id]).await?;
        self.exec("DELETE FROM uploads WHERE id = $1", args![id]).await?;
        Ok(())
    }

    pub async fn expired_uploads(&mut self, now: i64, limit: i64) -> Result<Vec<UploadId>, MetaError> {
        self.rows("SELECT id FROM uploads WHERE expires_at < $1 ORDER BY expires_at LIMIT $2", args![now, limit])
            .await?
            .iter()
            .map(|r| r.text("id").map(UploadId))
            .collect()
    }

    /// Chunks with no references since before `cutoff` and in no live upload.
    pub async fn gc_candidates(&mut self, cutoff: i64, limit: i64) -> Result<Vec<Vec<u8>>, MetaError> {
        self.rows(
            "SELECT hash FROM chunks c WHERE refcount <= 0 AND deleting = 0 AND unreferenced_since < $1 \
             AND NOT EXISTS (SELECT 1 FROM upload_chunks u WHERE u.hash = c.hash) LIMIT $2",
            args![cutoff, limit],
        )
        .await?
        .iter()
        .map(|r| r.bytes("hash"))
        .collect()
    }

    /// Marks a chunk for deletion if it is still unreferenced; false if it came back
    /// into use meanwhile.
    pub async fn mark_chunk_deleting(&mut self, hash: &[u8]) -> Result<bool, MetaError> {
        Ok(self
            .exec(
                "UPDATE chunks SET deleting = 1 WHERE hash = $1 AND refcount <= 0 AND deleting = 0 \
                 AND NOT EXISTS (SELECT 1 FROM upload_chunks u WHERE u.hash = chunks.hash)",
                args![hash],
            )
            .await?
            == 1)
    }

    /// Drops a chunk's rows once its bytes are gone.
    pub async fn forget_chunk(&mut self, hash: &[u8]) -> Result<(), MetaError> {
        self.exec("DELETE FROM user_chunks WHERE hash = $1", args![hash]).await?;
        self.exec("DELETE FROM chunks WHERE hash = $1 AND deleting = 1 AND refcount <= 0", args![hash]).await?;
        Ok(())
    }
}

impl Tx {
    /// Stored sizes of the given chunks that exist and are not being deleted.
    pub async fn chunk_sizes(
        &mut self,
        hashes: &[Vec<u8>],
    ) -> Result<std::collections::HashMap<Vec<u8>, i64>, MetaError> {
        let mut out = std::collections::HashMap::new();
        for batch in hashes.chunks(IN_BATCH) {
            let sql = format!(
                "SELECT hash, size FROM chunks WHERE deleting = 0 AND hash IN ({})",
                placeholders(1, batch.len())
            );
            let a: Vec<Arg> = batch.iter().map(|h| Arg::from(h.clone())).collect();
            for r in self.rows_dyn(sql, a).await? {
                out.insert(r.bytes("hash")?, r.i64("size")?);
            }
        }
        Ok(out)
    }
}

impl Tx {
    /// Of `hashes`, those the user sent in any of their upload sessions that are still
    /// live: an interrupted upload resumes without sending them again (they are the
    /// user's own bytes, so admitting to them reveals nothing).
    pub async fn chunks_in_user_uploads(
        &mut self,
        user_id: UserId,
        now: i64,
        hashes: &[Vec<u8>],
    ) -> Result<HashSet<Vec<u8>>, MetaError> {
        self.hashes_matching(
            "SELECT DISTINCT c.hash FROM chunks c JOIN upload_chunks uc ON uc.hash = c.hash \
             JOIN uploads u ON u.id = uc.upload_id \
             WHERE u.user_id = $1 AND u.expires_at > $2 AND c.deleting = 0 AND c.hash IN ({list})",
            args![user_id, now],
            hashes,
        )
        .await
    }
}

impl Tx {
    /// Of `hashes`, those being collected right now (an upload of them must wait).
    pub async fn chunks_being_deleted(&mut self, hashes: &[Vec<u8>]) -> Result<HashSet<Vec<u8>>, MetaError> {
        self.hashes_matching("SELECT hash FROM chunks WHERE deleting = 1 AND hash IN ({list})", vec![], hashes).await
    }

    /// Records stored chunks `(hash, size, stored_size)` (no-op for known ones); their
    /// upload links were made before the bytes were written ([`Tx::link_upload_chunks`]).
    pub async fn record_uploaded_chunks(&mut self, chunks: &[(Vec<u8>, i64, i64)], now: i64) -> Result<(), MetaError> {
        for batch in chunks.chunks(IN_BATCH / 3) {
            // $1 is the time; row i binds its hash, size and stored size after it.
            let rows = (0..batch.len())
                .map(|i| format!("(${}, ${}, ${}, 0, $1, $1)", 3 * i + 2, 3 * i + 3, 3 * i + 4))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO chunks (hash, size, stored_size, refcount, created_at, unreferenced_since) \
                 VALUES {rows} ON CONFLICT (hash) DO UPDATE SET size = excluded.size, \
                 stored_size = excluded.stored_size WHERE chunks.size = 0"
            );
            // (A row of size 0 is the mark of bytes found without a record; see
            // `mark_unknown_chunks`. Recording the chunk gives it its real sizes.)
            let mut a: Vec<Arg> = args![now];
            for (hash, size, stored) in batch {
                a.extend([Arg::from(hash.clone()), Arg::from(*size), Arg::from(*stored)]);
            }
            self.exec_dyn(sql, a).await?;
        }
        Ok(())
    }
}

impl Tx {
    /// Of `hashes`, those the store knows nothing of: no chunk row and no upload holding
    /// them. Bytes under such a hash were written by an upload that never recorded them
    /// (a crash between writing and recording).
    pub async fn unknown_chunks(&mut self, hashes: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, MetaError> {
        let known = self
            .hashes_matching(
                "SELECT hash FROM chunks WHERE hash IN ({list}) UNION SELECT hash FROM upload_chunks WHERE hash IN ({list})",
                vec![],
                hashes,
            )
            .await?;
        Ok(hashes.iter().filter(|h| !known.contains(*h)).cloned().collect())
    }
}

impl Tx {
    /// Marks bytes the store knows nothing of for collection: a row already marked
    /// `deleting`, so an upload of the same chunk meanwhile is told to retry. A chunk
    /// recorded meanwhile keeps its row (the insert does nothing).
    pub async fn mark_unknown_chunks(&mut self, hashes: &[Vec<u8>], now: i64) -> Result<(), MetaError> {
        for batch in hashes.chunks(IN_BATCH) {
            let rows =
                (0..batch.len()).map(|i| format!("(${}, 0, 0, 0, 1, $1, $1)", i + 2)).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "INSERT INTO chunks (hash, size, stored_size, refcount, deleting, created_at, unreferenced_since) \
                 VALUES {rows} ON CONFLICT (hash) DO NOTHING"
            );
            let mut a: Vec<Arg> = args![now];
            a.extend(batch.iter().map(|h| Arg::from(h.clone())));
            self.exec_dyn(sql, a).await?;
        }
        Ok(())
    }
}
