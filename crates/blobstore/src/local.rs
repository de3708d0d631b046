//! A chunk store in a local directory: `chunks/ab/cd/<hash>`, written durably.
//!
//! A write goes to `tmp/`, is fsynced, renamed into place, and the directory holding it
//! is fsynced before the batch is acknowledged; so after a crash a chunk is either
//! whole or absent, never half-written. A chunk that fails verification on read is moved
//! to `quarantine/`, so the next upload of the same bytes heals the store.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use coffer_core::ChunkHash;
use futures::{StreamExt, TryStreamExt};

use crate::{BlobError, BlobStore, PutOutcome, codec};

/// How many chunk writes of one batch run at once.
const WRITE_CONCURRENCY: usize = 8;

/// A cheap-to-clone handle on a chunk directory.
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    tmp_counter: AtomicU64,
}

impl LocalDirStore {
    /// Opens (creating if needed) a store under `root`, and removes temporary files a
    /// crash may have left behind.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        for sub in ["chunks", "tmp", "quarantine"] {
            create_dir_durably(&root.join(sub))?;
        }
        for entry in fs::read_dir(root.join("tmp"))? {
            let _ = fs::remove_file(entry?.path());
        }
        Ok(Self { inner: Arc::new(Inner { root, tmp_counter: AtomicU64::new(0) }) })
    }
}

impl Inner {
    fn chunk_dir(&self, hash: &ChunkHash) -> PathBuf {
        let hex = hash.to_hex();
        self.root.join("chunks").join(&hex[..2]).join(&hex[2..4])
    }

    fn chunk_path(&self, hash: &ChunkHash) -> PathBuf {
        self.chunk_dir(hash).join(hash.to_hex())
    }

    fn write_one(&self, hash: ChunkHash, data: &[u8]) -> Result<(PutOutcome, Option<PathBuf>), BlobError> {
        let dir = self.chunk_dir(&hash);
        let path = dir.join(hash.to_hex());
        if path.exists() {
            return Ok((PutOutcome::AlreadyPresent, None));
        }
        create_dir_durably(&dir)?;
        let framed = codec::encode(data);
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self.root.join("tmp").join(format!("{}.{}.{n}", hash.to_hex(), std::process::id()));
        let guard = TempGuard(&tmp);
        let mut f = File::create(&tmp)?;
        f.write_all(&framed)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &path)?;
        std::mem::forget(guard);
        Ok((PutOutcome::Written { stored: framed.len() as u64 }, Some(dir)))
    }

    fn read_one(&self, hash: &ChunkHash) -> Result<Vec<u8>, BlobError> {
        let path = self.chunk_path(hash);
        let framed = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(BlobError::NotFound(*hash)),
            Err(e) => return Err(e.into()),
        };
        match codec::decode(hash, &framed) {
            Some(plain) => Ok(plain),
            None => {
                let target = self.root.join("quarantine").join(hash.to_hex());
                tracing::error!(chunk = %hash, "chunk failed verification; moved to quarantine");
                let _ = fs::rename(&path, &target);
                Err(BlobError::Corrupt(*hash))
            }
        }
    }
}

/// Removes a temporary file unless the write completed.
struct TempGuard<'a>(&'a Path);

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        let _ = fs::remove_file(self.0);
    }
}

/// Creates `dir` and any missing parents, fsyncing each parent that gained an entry,
/// so the directory survives a crash.
fn create_dir_durably(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_durably(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[async_trait]
impl BlobStore for LocalDirStore {
    async fn put_many(&self, chunks: Vec<(ChunkHash, Bytes)>) -> Result<Vec<PutOutcome>, BlobError> {
        let results: Vec<(PutOutcome, Option<PathBuf>)> = futures::stream::iter(chunks)
            .map(|(hash, data)| {
                let store = self.inner.clone();
                async move {
                    tokio::task::spawn_blocking(move || store.write_one(hash, &data))
                        .await
                        .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
                }
            })
            .buffered(WRITE_CONCURRENCY)
            .try_collect()
            .await?;
        // One fsync per directory that gained entries, shared by the whole batch.
        let dirs: BTreeSet<PathBuf> = results.iter().filter_map(|r| r.1.clone()).collect();
        tokio::task::spawn_blocking(move || dirs.iter().try_for_each(|d| sync_dir(d)))
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
        Ok(results.into_iter().map(|r| r.0).collect())
    }

    async fn get(&self, hash: &ChunkHash) -> Result<Bytes, BlobError> {
        let store = self.inner.clone();
        let hash = *hash;
        tokio::task::spawn_blocking(move || store.read_one(&hash).map(Bytes::from))
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
    }

    async fn contains(&self, hash: &ChunkHash) -> Result<bool, BlobError> {
        Ok(tokio::fs::try_exists(self.inner.chunk_path(hash)).await?)
    }

    async fn delete(&self, hash: &ChunkHash) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.inner.chunk_path(hash)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
