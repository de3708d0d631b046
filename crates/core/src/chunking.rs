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

    /// The vectors the web app's chunker (web/src/upload/fastcdc.ts) is tested against:
    /// the browser must cut and hash exactly as this chunker does, or what it uploads
    /// would not deduplicate against what the other clients stored. Each vector also
    /// gives the input's content hash as a file (the manifest's).
    #[test]
    fn web_cut_vectors_match() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../web/src/upload/cut-vectors.json")).expect("valid JSON");
        let params = &doc["chunker"];
        let config = ChunkerConfig::default();
        let declared = ["min_size", "avg_size", "max_size"].map(|k| params[k].as_u64().map(|v| v as usize));
        assert_eq!(declared, [Some(config.min_size), Some(config.avg_size), Some(config.max_size)]);
        let vectors = doc["vectors"].as_array().expect("a list of vectors");
        assert!(vectors.len() >= 10, "the vectors went missing");
        for v in vectors {
            let name = v["name"].as_str().expect("a name");
            let data = vector_input(&v["input"]);
            let chunks: Vec<Chunk> =
                chunk_reader(&data[..], config).collect::<std::io::Result<_>>().expect("memory read");
            let sizes: Vec<u64> = chunks.iter().map(|c| c.data.len() as u64).collect();
            let hashes: Vec<String> = chunks.iter().map(|c| c.hash.to_hex()).collect();
            let want_sizes: Vec<u64> =
                v["sizes"].as_array().expect("sizes").iter().map(|s| s.as_u64().expect("a size")).collect();
            let want_hashes: Vec<&str> =
                v["hashes"].as_array().expect("hashes").iter().map(|h| h.as_str().expect("a hash")).collect();
            assert_eq!(sizes, want_sizes, "{name}: cut points");
            assert_eq!(hashes, want_hashes, "{name}: chunk hashes");
            // What the web app compares with a node's content hash to skip an upload.
            let refs = chunks.iter().map(|c| crate::ChunkRef { hash: c.hash, size: c.data.len() as u32 }).collect();
            let content = crate::Manifest::new(refs).content_hash().to_hex();
            assert_eq!(Some(content.as_str()), v["content_hash"].as_str(), "{name}: content hash");
        }
    }

    /// A vector's input: its parts concatenated, each `pseudo_random` (this crate's test
    /// generator) or `repeat` (a text's UTF-8 bytes cycled to `len` bytes).
    fn vector_input(parts: &serde_json::Value) -> Vec<u8> {
        let mut out = Vec::new();
        for part in parts.as_array().expect("a list of parts") {
            let len = |p: &serde_json::Value| p["len"].as_u64().expect("a length") as usize;
            if let Some(p) = part.get("pseudo_random") {
                out.extend(pseudo_random(len(p), p["seed"].as_u64().expect("a seed")));
            } else if let Some(p) = part.get("repeat") {
                let text = p["text"].as_str().expect("a text").as_bytes();
                out.extend(text.iter().cycle().take(len(p)));
            } else {
                panic!("unknown input part {part}");
            }
        }
        out
    }

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
