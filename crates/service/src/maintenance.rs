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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    pub uploads_expired: u64,
    pub trash_purged: u64,
    pub chunks_collected: u64,
}

impl Service {
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

        let cutoff = now - self.config().trash_retention.as_millis() as i64;
        loop {
            let mut tx = self.meta().write().await?;
            let old = tx.trashed_before(cutoff, BATCH).await?;
            for node in &old {
                if tx.node(node.id).await?.is_some() {
                    self.purge_subtree(&mut tx, node).await?;
                    report.trash_purged += 1;
                }
            }
            tx.commit().await?;
            if (old.len() as i64) < BATCH {
                break;
            }
        }

        let grace_cutoff = now - self.config().gc_grace.as_millis() as i64;
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
            for hash in &marked {
                if let Some(h) = ChunkHash::from_slice(hash) {
                    self.blobs().delete(&h).await?;
                }
            }
            let mut tx = self.meta().write().await?;
            for hash in &marked {
                tx.forget_chunk(hash).await?;
            }
            tx.commit().await?;
            report.chunks_collected += marked.len() as u64;
            if (candidates.len() as i64) < BATCH {
                break;
            }
        }
        if report != MaintenanceReport::default() {
            tracing::info!(?report, "maintenance pass");
        }
        Ok(report)
    }
}
