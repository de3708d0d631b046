//! A file revision's manifest: the ordered list of its chunks.
//!
//! The stored encoding starts with a version byte so it can change later without
//! touching old rows: `[1] ([32-byte hash][u32 LE size])*`.

use crate::hash::{ChunkHash, ContentHash};

/// Version marker of the stored manifest encoding.
const ENCODING_V1: u8 = 1;
const ENTRY_LEN: usize = 36;

/// One chunk of a file, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChunkRef {
    pub hash: ChunkHash,
    pub size: u32,
}

/// The ordered chunks of one file revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub chunks: Vec<ChunkRef>,
}

/// A stored manifest that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("manifest encoding is damaged or of an unknown version")]
pub struct ManifestDecodeError;

impl Manifest {
    pub fn new(chunks: Vec<ChunkRef>) -> Self {
        Self { chunks }
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.chunks.iter().map(|c| u64::from(c.size)).sum()
    }

    /// The versioned binary encoding kept in the metadata store.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.chunks.len() * ENTRY_LEN);
        out.push(ENCODING_V1);
        for c in &self.chunks {
            out.extend_from_slice(c.hash.as_bytes());
            out.extend_from_slice(&c.size.to_le_bytes());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ManifestDecodeError> {
        let (&version, body) = bytes.split_first().ok_or(ManifestDecodeError)?;
        if version != ENCODING_V1 || body.len() % ENTRY_LEN != 0 {
            return Err(ManifestDecodeError);
        }
        let chunks = body
            .chunks_exact(ENTRY_LEN)
            .map(|e| {
                let hash = ChunkHash::from_slice(&e[..32]).ok_or(ManifestDecodeError)?;
                let size = u32::from_le_bytes(e[32..].try_into().map_err(|_| ManifestDecodeError)?);
                Ok(ChunkRef { hash, size })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { chunks })
    }

    /// The content identity of the file: BLAKE3 over a domain tag and the encoding.
    /// Two files with the same bytes chunked the same way have the same content hash.
    pub fn content_hash(&self) -> ContentHash {
        let mut h = blake3::Hasher::new();
        h.update(b"coffer-manifest-v1\0");
        h.update(&self.encode());
        ContentHash(*h.finalize().as_bytes())
    }

    /// Byte offset of each chunk's start, plus the total size at the end.
    pub fn offsets(&self) -> Vec<u64> {
        let mut out = Vec::with_capacity(self.chunks.len() + 1);
        let mut at = 0u64;
        out.push(0);
        for c in &self.chunks {
            at += u64::from(c.size);
            out.push(at);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_is_stable() {
        let m = Manifest::new(vec![
            ChunkRef { hash: ChunkHash::of(b"a"), size: 1 },
            ChunkRef { hash: ChunkHash::of(b"bc"), size: 2 },
        ]);
        let bytes = m.encode();
        assert_eq!(bytes.len(), 1 + 2 * 36);
        assert_eq!(Manifest::decode(&bytes), Ok(m.clone()));
        assert_eq!(m.size(), 3);
        assert_eq!(m.offsets(), vec![0, 1, 3]);
        // Pinned: the content hash is an ETag and a dedup key, it must never drift.
        assert_eq!(
            Manifest::default().content_hash().to_hex(),
            blake3::hash(b"coffer-manifest-v1\0\x01").to_hex().to_string()
        );
    }

    #[test]
    fn damaged_encodings_are_refused() {
        assert!(Manifest::decode(&[]).is_err());
        assert!(Manifest::decode(&[2]).is_err());
        assert!(Manifest::decode(&[1, 0, 0]).is_err());
    }
}
