//! Encryption at rest, one core: sealing and opening a 4 MiB chunk (XChaCha20-Poly1305
//! over the frame, plus the sealed header), the cost it adds to every stored and read
//! chunk.
//!
//! `cargo bench -p coffer-blobstore --bench seal`

use std::hint::black_box;

use coffer_blobstore::{Keyring, MasterKey};
use coffer_core::ChunkHash;
use coffer_core::testing::pseudo_random;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn seal(c: &mut Criterion) {
    let ring = Keyring::new(MasterKey::generate(), Vec::new());
    let data = pseudo_random(4 << 20, 1);
    let hash = ChunkHash::of(&data);
    let sealed = ring.seal(&hash, &data);
    let mut g = c.benchmark_group("seal");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("seal 4 MiB", |b| b.iter(|| black_box(ring.seal(&hash, black_box(&data)))));
    g.bench_function("open 4 MiB", |b| b.iter(|| black_box(ring.open_body(&hash, black_box(&sealed)))));
    g.finish();
}

criterion_group!(benches, seal);
criterion_main!(benches);
