//! Downloads: whole files or byte ranges streamed chunk by chunk (memory stays at a few
//! chunks whatever the file size), manifests, and single chunks for clients that fetch
//! only what they lack.

use std::sync::Arc;

use bytes::Bytes;
use coffer_blobstore::BlobStore;
use coffer_core::wire::{ManifestResponse, NodeInfo};
use coffer_core::{ChunkHash, ContentHash, ErrorCode, Manifest, Permission, RevisionId};
use futures::{Stream, StreamExt};

use crate::access::Caller;
use crate::tree::{node_info, parse_path};
use crate::{Result, Service, ServiceError};

/// Chunks read ahead of the one being sent, per download.
const READ_AHEAD: usize = 1;

/// Chunk bytes all downloads together may hold in memory at once (counted in KiB).
/// A download past it waits for others to send theirs, so slow readers cannot make the
/// server hold an unbounded amount of memory.
pub(crate) struct DownloadBudget(Arc<tokio::sync::Semaphore>);

impl DownloadBudget {
    pub(crate) fn new(bytes: usize) -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new((bytes / 1024).max(MAX_CHUNK_KIB as usize))))
    }

    /// Reads a chunk once its bytes fit in the budget; the returned bytes give their
    /// share back when the last copy of them is dropped (after they were sent).
    async fn read(&self, blobs: &dyn BlobStore, hash: &ChunkHash, size: u32) -> Result<Bytes> {
        let kib = size.div_ceil(1024).clamp(1, MAX_CHUNK_KIB);
        let permit = self
            .0
            .clone()
            .acquire_many_owned(kib)
            .await
            .map_err(|_| ServiceError::new(ErrorCode::Internal, "downloads are shutting down"))?;
        let data = blobs.get(hash).await?;
        Ok(Bytes::from_owner(Budgeted { data, _permit: permit }))
    }
}

const MAX_CHUNK_KIB: u32 = (coffer_core::chunking::MAX_CHUNK_SIZE / 1024) as u32 + 1;

/// Chunk bytes holding their share of the download budget.
struct Budgeted {
    data: Bytes,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl AsRef<[u8]> for Budgeted {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

/// An opened file revision, ready to stream.
pub struct ContentStream {
    pub node: NodeInfo,
    pub rev: RevisionId,
    pub size: u64,
    pub content_hash: ContentHash,
    manifest: Manifest,
    blobs: Arc<dyn BlobStore>,
    budget: Arc<DownloadBudget>,
}

impl ContentStream {
    /// Streams bytes `start..end` (end exclusive, clamped to the size).
    pub fn range(self, start: u64, end: u64) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let end = end.min(self.size);
        let offsets = self.manifest.offsets();
        let pieces: Vec<(ChunkHash, u32, usize, usize)> = self
            .manifest
            .chunks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let (c_start, c_end) = (offsets[i], offsets[i + 1]);
                if c_end <= start || c_start >= end {
                    return None;
                }
                let from = start.saturating_sub(c_start) as usize;
                let to = (end.min(c_end) - c_start) as usize;
                Some((c.hash, c.size, from, to))
            })
            .collect();
        let (blobs, budget) = (self.blobs, self.budget);
        futures::stream::iter(pieces)
            .map(move |(hash, size, from, to)| {
                let (blobs, budget) = (blobs.clone(), budget.clone());
                async move {
                    let data = budget.read(blobs.as_ref(), &hash, size).await?;
                    if to > data.len() {
                        return Err(ServiceError::new(
                            ErrorCode::Internal,
                            format!("chunk {hash} is shorter than its manifest says"),
                        ));
                    }
                    Ok(data.slice(from..to))
                }
            })
            .buffered(READ_AHEAD)
    }
}

impl Service {
    /// Opens a file's current revision, or an older revision `rev` of it.
    pub async fn open_file(&self, caller: &Caller, path: &str, rev: Option<RevisionId>) -> Result<ContentStream> {
        let path = parse_path(path)?;
        let mut tx = self.meta().read().await?;
        let node = self.resolve(&mut tx, caller, &path, Permission::Read).await?;
        if node.is_folder {
            return Err(ServiceError::new(ErrorCode::NotAFile, format!("'{path}' is a folder")));
        }
        let rev = rev.or(node.current_rev).ok_or_else(|| ServiceError::not_found("content"))?;
        let record = tx
            .revision(rev)
            .await?
            .filter(|r| r.node_id == node.id)
            .ok_or_else(|| ServiceError::not_found("version"))?;
        self.content_of(node_info(&node, Some(path.to_string())), record)
    }

    /// Opens a revision by id, if the caller may see its file (even in the trash).
    pub async fn open_revision(&self, caller: &Caller, rev: RevisionId) -> Result<ContentStream> {
        let mut tx = self.meta().read().await?;
        let record = tx.revision(rev).await?.ok_or_else(|| ServiceError::not_found("revision"))?;
        // A revision of a file the caller may not read is "not found", like a guessed id.
        let node = self
            .access_file(&mut tx, caller, record.node_id, Permission::Read)
            .await
            .map_err(|_| ServiceError::not_found("revision"))?;
        self.content_of(node_info(&node, None), record)
    }

    pub(crate) fn content_of(&self, node: NodeInfo, record: coffer_metastore::RevisionRecord) -> Result<ContentStream> {
        let manifest = Manifest::decode(&record.manifest).map_err(|_| {
            ServiceError::new(ErrorCode::Internal, format!("revision {} has a damaged manifest", record.id))
        })?;
        Ok(ContentStream {
            node,
            rev: record.id,
            size: record.size.max(0) as u64,
            content_hash: manifest.content_hash(),
            manifest,
            blobs: self.inner.blobs.clone(),
            budget: self.inner.download_budget.clone(),
        })
    }

    pub async fn manifest(&self, caller: &Caller, rev: RevisionId) -> Result<ManifestResponse> {
        let c = self.open_revision(caller, rev).await?;
        Ok(ManifestResponse { rev: c.rev.get(), size: c.size, content_hash: c.content_hash, chunks: c.manifest.chunks })
    }

    /// One chunk, if the caller holds a file containing it.
    pub async fn read_chunk(&self, caller: &Caller, hash: &ChunkHash) -> Result<Bytes> {
        let key = vec![hash.as_bytes().to_vec()];
        let size = {
            let mut tx = self.meta().read().await?;
            if tx.chunks_known_to_user(caller.user_id(), &key).await?.is_empty() {
                return Err(ServiceError::not_found("chunk"));
            }
            tx.chunk_sizes(&key).await?.into_values().next().unwrap_or(0)
        };
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        self.inner.download_budget.read(self.blobs(), hash, size).await
    }
}
