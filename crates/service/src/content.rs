//! Downloads: whole files or byte ranges streamed chunk by chunk (memory stays at a few
//! chunks whatever the file size), manifests, and single chunks for clients that fetch
//! only what they lack.

use std::sync::Arc;

use bytes::Bytes;
use coffer_blobstore::BlobStore;
use coffer_core::wire::{ManifestResponse, NodeInfo};
use coffer_core::{ChunkHash, ContentHash, ErrorCode, Manifest};
use futures::{Stream, StreamExt};

use crate::accounts::Caller;
use crate::tree::{node_info, parse_path};
use crate::{Result, Service, ServiceError};

/// Chunks read ahead of the one being sent.
const READ_AHEAD: usize = 2;

/// An opened file revision, ready to stream.
pub struct ContentStream {
    pub node: NodeInfo,
    pub rev: i64,
    pub size: u64,
    pub content_hash: ContentHash,
    manifest: Manifest,
    blobs: Arc<dyn BlobStore>,
}

impl ContentStream {
    /// Streams bytes `start..end` (end exclusive, clamped to the size).
    pub fn range(self, start: u64, end: u64) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let end = end.min(self.size);
        let offsets = self.manifest.offsets();
        let pieces: Vec<(ChunkHash, usize, usize)> = self
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
                Some((c.hash, from, to))
            })
            .collect();
        let blobs = self.blobs;
        futures::stream::iter(pieces)
            .map(move |(hash, from, to)| {
                let blobs = blobs.clone();
                async move {
                    let data = blobs.get(&hash).await?;
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
    pub async fn open_file(&self, caller: &Caller, path: &str, rev: Option<i64>) -> Result<ContentStream> {
        let path = parse_path(path)?;
        let mut tx = self.meta().read().await?;
        let node = self.resolve(&mut tx, caller, &path).await?;
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
    pub async fn open_revision(&self, caller: &Caller, rev: i64) -> Result<ContentStream> {
        let mut tx = self.meta().read().await?;
        let record = tx.revision(rev).await?.ok_or_else(|| ServiceError::not_found("revision"))?;
        let node = self.visible_node(&mut tx, caller, record.node_id).await?;
        self.content_of(node_info(&node, None), record)
    }

    fn content_of(&self, node: NodeInfo, record: coffer_metastore::RevisionRecord) -> Result<ContentStream> {
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
        })
    }

    pub async fn manifest(&self, caller: &Caller, rev: i64) -> Result<ManifestResponse> {
        let c = self.open_revision(caller, rev).await?;
        Ok(ManifestResponse { rev: c.rev, size: c.size, content_hash: c.content_hash, chunks: c.manifest.chunks })
    }

    /// One chunk, if the caller holds a file containing it.
    pub async fn read_chunk(&self, caller: &Caller, hash: &ChunkHash) -> Result<Bytes> {
        let key = vec![hash.as_bytes().to_vec()];
        let known = {
            let mut tx = self.meta().read().await?;
            tx.chunks_known_to_user(caller.user_id, &key).await?
        };
        if known.is_empty() {
            return Err(ServiceError::not_found("chunk"));
        }
        Ok(self.blobs().get(hash).await?)
    }
}
