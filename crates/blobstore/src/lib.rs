//! Content-addressed chunk storage.
//!
//! A chunk is stored under its BLAKE3 hash. Every backend promises three things: a `put`
//! that returned `Ok` survives a crash; a `get` returns bytes only after checking they
//! hash to the address asked for (damaged data is an error, never served); and chunks
//! are bounded in size ([`coffer_core::chunking::MAX_CHUNK_SIZE`]), so whole-file
//! streaming happens above this crate, one chunk at a time, in bounded memory.
//!
//! Architecture invariant: this crate knows nothing of users, files or the metadata
//! store. It never decides that a chunk is garbage; it deletes what it is told to.

mod codec;
mod local;
pub mod seal;

use async_trait::async_trait;
use bytes::Bytes;
use coffer_core::ChunkHash;

pub use local::{LocalDirStore, SealState};
pub use seal::{KeyId, Keyring, MasterKey};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("chunk {0} is not stored")]
    NotFound(ChunkHash),
    #[error("chunk {0} is damaged (its bytes no longer match its hash); it was quarantined")]
    Corrupt(ChunkHash),
    #[error("chunk storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the chunk store is encrypted: it needs its master key (the key file or COFFER_MASTER_KEY)")]
    KeyNeeded,
    #[error("the master key given is not the one the chunks were sealed with (key id(s) {0} missing)")]
    WrongKey(String),
}

/// What a [`BlobStore::reseal`] pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// Chunks sealed again under the current key.
    pub resealed: u64,
    /// Nothing is left under an older key or in plaintext.
    pub done: bool,
}

/// What a `put` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The chunk was written; `stored` bytes are on disk (after compression).
    Written { stored: u64 },
    /// The chunk was already stored and intact; nothing was written.
    AlreadyPresent,
}

/// A content-addressed chunk store. Implementations must be safe to share across tasks.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores chunks whose hashes the caller has verified. When this returns `Ok`, every
    /// chunk of the batch is durable. Batching lets a backend share the cost of
    /// durability (directory syncs, requests) across many small chunks.
    async fn put_many(&self, chunks: Vec<(ChunkHash, Bytes)>) -> Result<Vec<PutOutcome>, BlobError>;

    /// Reads a chunk and verifies it against its hash.
    async fn get(&self, hash: &ChunkHash) -> Result<Bytes, BlobError>;

    /// True if the chunk is stored (without reading it).
    async fn contains(&self, hash: &ChunkHash) -> Result<bool, BlobError>;

    /// Removes a chunk; removing an absent chunk is not an error.
    async fn delete(&self, hash: &ChunkHash) -> Result<(), BlobError>;

    /// The stored chunks whose hash starts with the byte `prefix`, with when each was
    /// written (for the sweep of chunks the metadata store does not know).
    async fn list(&self, prefix: u8) -> Result<Vec<(ChunkHash, std::time::SystemTime)>, BlobError>;

    /// Seals again under the current key up to `limit` chunks stored in plaintext or
    /// under an older key (after encryption is turned on, or a key rotation). A backend
    /// without encryption has nothing to do.
    async fn reseal(&self, _limit: usize) -> Result<ResealReport, BlobError> {
        Ok(ResealReport { resealed: 0, done: true })
    }

    /// Takes a new keyring; a backend without encryption refuses.
    fn set_keyring(&self, _ring: Keyring) -> Result<(), BlobError> {
        Err(BlobError::KeyNeeded)
    }

    /// Stores one chunk.
    async fn put(&self, hash: ChunkHash, data: Bytes) -> Result<PutOutcome, BlobError> {
        let mut out = self.put_many(vec![(hash, data)]).await?;
        out.pop().ok_or_else(|| BlobError::Io(std::io::Error::other("backend returned no outcome")))
    }
}
