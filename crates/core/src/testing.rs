//! Deterministic data for tests and benchmarks (not used by Coffer itself).

/// `len` pseudo-random bytes from `seed` (xorshift64): the same bytes on every machine,
/// so tests can pin chunk boundaries and benchmarks can be repeated.
pub fn pseudo_random(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}
