//! Content-defined chunking (FastCDC, 2020 variant) with BLAKE3 chunk hashes.
//!
//! The cut points decide what deduplicates: changing the parameters or the fastcdc
//! version moves every boundary, so the parameters are fixed here and a test pins the
//! cut points of a fixed input.

use std::io::Read;

use fastcdc::v2020::StreamCDC;

use crate::hash::ChunkHash;

/// The largest chunk the server accepts, whatever chunker a client uses.
pub const MAX_CHUNK_SIZE: usize = 4 * 1024 * 1024;

/// FastCDC size parameters, in bytes. The average must be a power of two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkerConfig {
    pub min_size: usize,
    pub avg_size: usize,
    pub max_size: usize,
}

impl Default for ChunkerConfig {
    /// 256 KiB / 1 MiB / 4 MiB: see docs/BENCHMARKS.md for the measurements behind it.
    fn default() -> Self {
        Self { min_size: 256 * 1024, avg_size: 1024 * 1024, max_size: MAX_CHUNK_SIZE }
    }
}

/// One chunk of a stream: where it starts, its bytes and their hash.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub offset: u64,
    pub hash: ChunkHash,
    pub data: Vec<u8>,
}

/// Splits a reader into chunks lazily: memory stays at about one maximum chunk whatever
/// the stream's length.
pub fn chunk_reader<R: Read>(reader: R, config: ChunkerConfig) -> impl Iterator<Item = std::io::Result<Chunk>> {
    StreamCDC::new(reader, config.min_size, config.avg_size, config.max_size).map(|item| match item {
        Ok(c) => Ok(Chunk { offset: c.offset, hash: ChunkHash::of(&c.data), data: c.data }),
        Err(fastcdc::v2020::Error::IoError(e)) => Err(e),
        Err(other) => Err(std::io::Error::other(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pseudo_random;

    fn cut_points(data: &[u8], config: ChunkerConfig) -> Vec<(u64, usize)> {
        chunk_reader(data, config)
            .map(|c| c.map(|c| (c.offset, c.data.len())))
            .collect::<std::io::Result<_>>()
            .expect("reading from memory cannot fail")
    }

    #[test]
    fn chunks_cover_the_input_exactly() {
        let data = pseudo_random(9 * 1024 * 1024 + 17, 7);
        let mut joined = Vec::new();
        for chunk in chunk_reader(&data[..], ChunkerConfig::default()) {
            let chunk = chunk.expect("memory read");
            assert_eq!(chunk.offset as usize, joined.len());
            assert!(chunk.data.len() <= MAX_CHUNK_SIZE);
            assert_eq!(chunk.hash, ChunkHash::of(&chunk.data));
            joined.extend_from_slice(&chunk.data);
        }
        assert_eq!(joined, data);
    }

    #[test]
    fn empty_input_has_no_chunks() {
        assert!(cut_points(&[], ChunkerConfig::default()).is_empty());
    }

    /// Pins the cut points: if this fails, an upgrade moved chunk boundaries and would
    /// break deduplication against every chunk already stored.
    #[test]
    fn cut_points_are_pinned() {
        let data = pseudo_random(12 * 1024 * 1024, 0x00C0_FFEE);
        let points = cut_points(&data, ChunkerConfig::default());
        let sizes: Vec<usize> = points.iter().map(|p| p.1).collect();
        assert_eq!(sizes, PINNED_SIZES, "chunk boundaries moved");
    }

    const PINNED_SIZES: &[usize] = &[2365010, 2146156, 2360435, 1643891, 2150528, 1916892];

    #[test]
    fn insert_at_start_changes_few_chunks() {
        let data = pseudo_random(16 * 1024 * 1024, 42);
        let mut shifted = vec![0x55u8];
        shifted.extend_from_slice(&data);
        let a: std::collections::HashSet<_> =
            chunk_reader(&data[..], ChunkerConfig::default()).map(|c| c.expect("memory").hash).collect();
        let b: Vec<_> = chunk_reader(&shifted[..], ChunkerConfig::default()).map(|c| c.expect("memory").hash).collect();
        let new = b.iter().filter(|h| !a.contains(h)).count();
        assert!(new <= 2, "{new} of {} chunks changed after a one-byte insert", b.len());
    }
}
