//! A chunk store in a local directory: `chunks/ab/<hash>`, written durably. The 256
//! folders are made (and fsynced) when the store is opened, so a write never has to
//! create one.
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
        for prefix in 0..=255u8 {
            let prefix = format!("{prefix:02x}");
            create_dir_durably(&root.join("chunks").join(&prefix))?;
            // Temporary files are spread like the chunks, so concurrent writes do not all
            // contend for one directory's lock.
            let tmp = root.join("tmp").join(&prefix);
            create_dir_durably(&tmp)?;
            for entry in fs::read_dir(&tmp)? {
                let _ = fs::remove_file(entry?.path());
            }
        }
        Ok(Self { inner: Arc::new(Inner { root, tmp_counter: AtomicU64::new(0) }) })
    }
}

impl LocalDirStore {
    /// Chunk copies written to disk so far (new chunks and already stored ones alike).
    pub fn writes(&self) -> u64 {
        self.inner.tmp_counter.load(Ordering::Relaxed)
    }
}

impl Inner {
    fn chunk_dir(&self, hash: &ChunkHash) -> PathBuf {
        let hex = hash.to_hex();
        self.root.join("chunks").join(&hex[..2])
    }

    fn chunk_path(&self, hash: &ChunkHash) -> PathBuf {
        self.chunk_dir(hash).join(hash.to_hex())
    }

    /// Writes a framed chunk to a temporary file (fsynced when `sync`).
    ///
    /// A chunk already stored goes the same way as a new one (written, flushed, renamed),
    /// except that it is renamed aside and deleted after the answer, off the request path:
    /// the time an upload takes must not tell another user whether someone stores these
    /// bytes. (Deleting the copy in the request would add work that new bytes never cost.)
    fn write_temp(&self, hash: ChunkHash, data: &[u8], sync: bool) -> Result<Staged, BlobError> {
        let dir = self.chunk_dir(&hash);
        let path = dir.join(hash.to_hex());
        let framed = codec::encode(data);
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let hex = hash.to_hex();
        let tmp = self.root.join("tmp").join(&hex[..2]).join(format!("{hex}.{}.{n}", std::process::id()));
        let guard = TempGuard(Some(tmp.clone()));
        let mut f = create_private(&tmp)?;
        f.write_all(&framed)?;
        if sync {
            f.sync_all()?;
        }
        let present = path.exists();
        Ok(Staged { tmp: guard, path, dir, stored: framed.len() as u64, present })
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

/// A chunk written to its temporary file, waiting to be renamed into place.
struct Staged {
    tmp: TempGuard,
    path: PathBuf,
    dir: PathBuf,
    stored: u64,
    /// The chunk was already stored: the copy is set aside for deletion after the answer.
    present: bool,
}

impl Staged {
    /// Renames the chunk into place, or a copy of a stored chunk aside (returned, to be
    /// deleted later).
    fn publish(mut self) -> std::io::Result<(PutOutcome, PathBuf, Option<PathBuf>)> {
        let Some(tmp) = self.tmp.0.take() else {
            return Ok((PutOutcome::AlreadyPresent, self.dir, None));
        };
        if self.present {
            // Its folder is flushed like a new chunk's, so both cost the same.
            let aside = tmp.with_extension("discard");
            fs::rename(&tmp, &aside)?;
            let dir = aside.parent().map_or(self.dir, Path::to_path_buf);
            return Ok((PutOutcome::AlreadyPresent, dir, Some(aside)));
        }
        fs::rename(&tmp, &self.path)?;
        Ok((PutOutcome::Written { stored: self.stored }, self.dir, None))
    }
}

/// Removes a temporary file unless it was renamed into place.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// Batches at least this large are made durable with two filesystem flushes (before
/// and after the renames) instead of an fsync per file and per folder.
const SYNCFS_BATCH: usize = 8;

fn syncfs(path: &Path) -> std::io::Result<()> {
    let dir = File::open(path)?;
    rustix::fs::syncfs(&dir).map_err(std::io::Error::from)
}

/// Chunk files are readable by the server's user only (0600).
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

/// Chunk folders are the server's user's only (0700).
fn private_dir_builder() -> fs::DirBuilder {
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b
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
    match private_dir_builder().create(dir) {
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
        let batched = chunks.len() >= SYNCFS_BATCH;
        let staged: Vec<Staged> = futures::stream::iter(chunks)
            .map(|(hash, data)| {
                let store = self.inner.clone();
                async move {
                    tokio::task::spawn_blocking(move || store.write_temp(hash, &data, !batched))
                        .await
                        .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
                }
            })
            .buffered(WRITE_CONCURRENCY)
            .try_collect()
            .await?;
        let root = self.inner.root.clone();
        type Published = (Vec<PutOutcome>, Vec<PathBuf>);
        let outcomes = tokio::task::spawn_blocking(move || -> std::io::Result<Published> {
            if batched {
                // Every temporary file's bytes reach the disk before any is renamed.
                syncfs(&root)?;
            }
            let mut dirs = BTreeSet::new();
            let mut outcomes = Vec::with_capacity(staged.len());
            let mut aside = Vec::new();
            for s in staged {
                let (outcome, dir, discard) = s.publish()?;
                dirs.insert(dir);
                outcomes.push(outcome);
                aside.extend(discard);
            }
            // The renames themselves become durable before the batch is acknowledged.
            if batched && !dirs.is_empty() {
                syncfs(&root)?;
            } else {
                dirs.iter().try_for_each(|d| sync_dir(d))?;
            }
            Ok((outcomes, aside))
        })
        .await
        .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
        let (outcomes, aside) = outcomes;
        if !aside.is_empty() {
            // After the answer; a crash before it leaves files that `open` removes.
            tokio::task::spawn_blocking(move || {
                for p in aside {
                    let _ = fs::remove_file(p);
                }
            });
        }
        Ok(outcomes)
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

    async fn list(&self, prefix: u8) -> Result<Vec<(ChunkHash, std::time::SystemTime)>, BlobError> {
        let dir = self.inner.root.join("chunks").join(format!("{prefix:02x}"));
        tokio::task::spawn_blocking(move || -> std::io::Result<Vec<(ChunkHash, std::time::SystemTime)>> {
            let mut out = Vec::new();
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                let Some(hash) = entry.file_name().to_str().and_then(|n| n.parse::<ChunkHash>().ok()) else {
                    continue;
                };
                out.push((hash, entry.metadata()?.modified()?));
            }
            Ok(out)
        })
        .await
        .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
        .map_err(BlobError::from)
    }

    async fn delete(&self, hash: &ChunkHash) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.inner.chunk_path(hash)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
