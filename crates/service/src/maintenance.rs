//! Background upkeep: expire abandoned uploads, empty old trash, collect chunks no
//! revision references any more.
//!
//! Collection never deletes a live chunk: a chunk is marked `deleting` in a transaction
//! that re-checks it has no references and belongs to no upload; commits refuse chunks
//! marked so, and uploads of such a chunk are told to retry. Only then are its bytes
//! removed, and then its rows.

use coffer_core::ChunkHash;

use crate::{Result, Service, now_ms};

const BATCH: i64 = 500;
/// Chunk folders (of 256) the orphan sweep reads per pass.
const SWEEP_PREFIXES_PER_PASS: u32 = 16;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    pub uploads_expired: u64,
    pub trash_purged: u64,
    pub chunks_collected: u64,
    /// Stored bytes no upload ever recorded (a crash between writing and recording).
    pub orphans_collected: u64,
    /// Audit log events past the retention.
    pub audit_forgotten: u64,
    /// Chunks sealed again under the current key (after encryption was turned on or the
    /// key rotated).
    pub chunks_resealed: u64,
}

impl Service {
    /// Deletes chunks marked for collection, after a second look (in a transaction that
    /// starts after the marking committed) finds them still unused; a chunk that gained a
    /// reference or an upload meanwhile is unmarked instead. Returns how many went.
    async fn collect(&self, marked: Vec<Vec<u8>>) -> Result<u64> {
        let mut doomed = Vec::new();
        {
            let mut tx = self.meta().write().await?;
            for hash in marked {
                if !tx.unmark_chunk_if_used(&hash).await? {
                    doomed.push(hash);
                }
            }
            tx.commit().await?;
        }
        let mut gone = Vec::new();
        for hash in doomed {
            let Some(h) = ChunkHash::from_slice(&hash) else { continue };
            match self.blobs().delete(&h).await {
                Ok(()) => gone.push(hash),
                // Stays marked; the next pass tries again.
                Err(e) => tracing::warn!(chunk = %h, error = %e, "could not delete a collected chunk"),
            }
        }
        let mut tx = self.meta().write().await?;
        for hash in &gone {
            tx.forget_chunk(hash).await?;
        }
        tx.commit().await?;
        Ok(gone.len() as u64)
    }

    /// Reads the next few chunk folders and collects bytes older than the grace period
    /// that the metadata store knows nothing of. They go the way of every collected
    /// chunk: marked first (so a concurrent upload of them retries), looked at again,
    /// then deleted.
    async fn sweep_orphans(&self, grace_cutoff: i64) -> Result<u64> {
        let cutoff = std::time::UNIX_EPOCH + std::time::Duration::from_millis(grace_cutoff.max(0) as u64);
        let start = self.inner.sweep_next.fetch_add(SWEEP_PREFIXES_PER_PASS, std::sync::atomic::Ordering::Relaxed);
        let mut collected = 0;
        for i in 0..SWEEP_PREFIXES_PER_PASS {
            let prefix = ((start + i) % 256) as u8;
            let old: Vec<Vec<u8>> = self
                .blobs()
                .list(prefix)
                .await?
                .into_iter()
                .filter(|(_, written)| *written <= cutoff)
                .map(|(h, _)| h.as_bytes().to_vec())
                .collect();
            if old.is_empty() {
                continue;
            }
            let unknown = {
                let mut tx = self.meta().read().await?;
                tx.unknown_chunks(&old).await?
            };
            if unknown.is_empty() {
                continue;
            }
            let marked = {
                let mut tx = self.meta().write().await?;
                tx.mark_unknown_chunks(&unknown, now_ms()).await?;
                let marked: Vec<Vec<u8>> = tx.chunks_being_deleted(&unknown).await?.into_iter().collect();
                tx.commit().await?;
                marked
            };
            tracing::info!(orphans = marked.len(), prefix, "collecting chunk bytes no upload recorded");
            collected += self.collect(marked).await?;
        }
        Ok(collected)
    }

    /// One pass of upkeep; call it periodically.
    pub async fn run_maintenance(&self) -> Result<MaintenanceReport> {
        let mut report = MaintenanceReport::default();
        let now = now_ms();

        loop {
            let mut tx = self.meta().write().await?;
            let expired = tx.expired_uploads(now, BATCH).await?;
            for id in &expired {
                tx.delete_upload(id).await?;
            }
            tx.commit().await?;
            report.uploads_expired += expired.len() as u64;
            if (expired.len() as i64) < BATCH {
                break;
            }
        }

        // Restores a crash interrupted tell the rest of their items.
        let restores = {
            let mut tx = self.meta().read().await?;
            tx.restore_jobs(BATCH).await?
        };
        for (root, namespace, depth, id) in restores {
            self.journal_restore(root, namespace, (depth, id)).await?;
        }
        // Purges a crash interrupted are finished first; then the trash past retention
        // goes, each item in batches of short transactions.
        loop {
            let unfinished = {
                let mut tx = self.meta().read().await?;
                tx.purging_roots(BATCH).await?
            };
            for node in &unfinished {
                self.purge(node.id).await?;
            }
            if (unfinished.len() as i64) < BATCH {
                break;
            }
        }
        let cutoff = now - self.config().trash_retention.as_millis() as i64;
        loop {
            let old = {
                let mut tx = self.meta().read().await?;
                tx.trashed_before(cutoff, BATCH).await?
            };
            for node in &old {
                if self.purge(node.id).await? {
                    report.trash_purged += 1;
                }
            }
            if (old.len() as i64) < BATCH {
                break;
            }
        }

        report.audit_forgotten = self.forget_old_audit().await?;
        report.chunks_resealed = self.reseal_pending().await?;

        let grace_cutoff = now - self.config().gc_grace.as_millis() as i64;
        // Collections a crash or an I/O error interrupted are finished first.
        let leftovers = {
            let mut tx = self.meta().read().await?;
            tx.chunks_marked_deleting(i64::MAX).await?
        };
        report.chunks_collected += self.collect(leftovers).await?;
        loop {
            let candidates = {
                let mut tx = self.meta().read().await?;
                tx.gc_candidates(grace_cutoff, BATCH).await?
            };
            let mut marked = Vec::new();
            {
                let mut tx = self.meta().write().await?;
                for hash in &candidates {
                    if tx.mark_chunk_deleting(hash).await? {
                        marked.push(hash.clone());
                    }
                }
                tx.commit().await?;
            }
            report.chunks_collected += self.collect(marked).await?;
            if (candidates.len() as i64) < BATCH {
                break;
            }
        }
        report.orphans_collected = self.sweep_orphans(grace_cutoff).await?;
        if report != MaintenanceReport::default() {
            tracing::info!(?report, "maintenance pass");
        }
        Ok(report)
    }
}
