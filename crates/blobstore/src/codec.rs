//! The on-disk frame of one chunk: `b"CFC1"`, a codec byte, the plain length (u32 LE),
//! then the payload. zstd is used only when it makes the chunk smaller.

use coffer_core::ChunkHash;

const MAGIC: &[u8; 4] = b"CFC1";
const HEADER_LEN: usize = 9;
const CODEC_RAW: u8 = 0;
const CODEC_ZSTD: u8 = 1;
/// Level 1: cheap enough to keep chunk storage near disk speed.
const ZSTD_LEVEL: i32 = 1;

/// Chunks larger than this are probed before being compressed whole.
const PROBE_ABOVE: usize = 256 * 1024;
const PROBE_LEN: usize = 64 * 1024;

/// Cheap test on a sample from the middle: does zstd save anything on this data?
/// Media, archives and encrypted files are incompressible, and compressing a whole
/// chunk of them only to throw the result away would cost more than storing it.
fn worth_compressing(data: &[u8]) -> bool {
    if data.len() <= PROBE_ABOVE {
        return true;
    }
    let start = data.len() / 2 - PROBE_LEN / 2;
    let sample = &data[start..start + PROBE_LEN];
    zstd::bulk::compress(sample, ZSTD_LEVEL).is_ok_and(|c| c.len() + PROBE_LEN / 16 < PROBE_LEN)
}

/// Frames a chunk, compressing it when that saves at least 1/16 of its size.
pub(crate) fn encode(data: &[u8]) -> Vec<u8> {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let compressed = worth_compressing(data)
        .then(|| zstd::bulk::compress(data, ZSTD_LEVEL).ok())
        .flatten()
        .filter(|c| c.len() + data.len() / 16 < data.len());
    let (codec, payload): (u8, &[u8]) = match &compressed {
        Some(c) => (CODEC_ZSTD, c),
        None => (CODEC_RAW, data),
    };
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.push(codec);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Unframes and verifies a chunk. `None` means damaged: bad frame, bad compression, or
/// bytes that do not hash to `hash`.
pub(crate) fn decode(hash: &ChunkHash, framed: &[u8]) -> Option<Vec<u8>> {
    if framed.len() < HEADER_LEN || &framed[..4] != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(framed[5..9].try_into().ok()?) as usize;
    if len > coffer_core::chunking::MAX_CHUNK_SIZE {
        return None;
    }
    let payload = &framed[HEADER_LEN..];
    let plain = match framed[4] {
        CODEC_RAW => payload.to_vec(),
        // The known plain length caps the output: a damaged frame cannot balloon memory.
        CODEC_ZSTD => zstd::bulk::decompress(payload, len).ok()?,
        _ => return None,
    };
    (plain.len() == len && ChunkHash::of(&plain) == *hash).then_some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressible_data_shrinks_and_round_trips() {
        let data = vec![7u8; 100_000];
        let framed = encode(&data);
        assert!(framed.len() < 1000);
        assert_eq!(framed[4], CODEC_ZSTD);
        assert_eq!(decode(&ChunkHash::of(&data), &framed), Some(data));
    }

    #[test]
    fn incompressible_data_is_stored_raw() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let data: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let framed = encode(&data);
        assert_eq!(framed[4], CODEC_RAW);
        assert_eq!(decode(&ChunkHash::of(&data), &framed), Some(data));
    }

    #[test]
    fn damage_is_detected() {
        let data = b"hello world".to_vec();
        let mut framed = encode(&data);
        let last = framed.len() - 1;
        framed[last] ^= 1;
        assert_eq!(decode(&ChunkHash::of(&data), &framed), None);
        assert_eq!(decode(&ChunkHash::of(&data), b"CFC"), None);
        assert_eq!(decode(&ChunkHash::of(b"other"), &encode(&data)), None);
    }
}
