//! Chunk + hash throughput: FastCDC cut points and BLAKE3 over each chunk, one core.
//!
//! `cargo bench -p coffer-core --bench chunking`

use std::hint::black_box;

use coffer_core::testing::pseudo_random;
use coffer_core::{ChunkerConfig, chunk_reader};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Real-world-like data: the sources of this workspace's dependencies when present,
/// otherwise repetitive text, concatenated to 64 MiB.
fn text_like(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut files = Vec::new();
    if let Ok(home) = std::env::var("CARGO_HOME").or_else(|_| std::env::var("HOME").map(|h| format!("{h}/.cargo"))) {
        let root = std::path::Path::new(&home).join("registry/src");
        collect(&root, &mut files, 4);
    }
    for f in files {
        if out.len() >= len {
            break;
        }
        if let Ok(bytes) = std::fs::read(&f) {
            out.extend_from_slice(&bytes);
        }
    }
    let mut i = 0u64;
    while out.len() < len {
        out.extend_from_slice(format!("line {i}: the quick brown fox jumps over the lazy dog\n").as_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>, depth: u32) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() && depth > 0 {
            collect(&p, out, depth - 1);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn bench(c: &mut Criterion) {
    const LEN: usize = 64 * 1024 * 1024;
    let mut group = c.benchmark_group("chunk_and_hash");
    group.throughput(Throughput::Bytes(LEN as u64));
    group.sample_size(10);
    for (label, data) in [("random", pseudo_random(LEN, 1)), ("source_text", text_like(LEN))] {
        for (cfg_label, cfg) in [
            ("256k_1m_4m", ChunkerConfig::default()),
            ("64k_256k_1m", ChunkerConfig { min_size: 64 << 10, avg_size: 256 << 10, max_size: 1 << 20 }),
        ] {
            group.bench_function(format!("{label}/{cfg_label}"), |b| {
                b.iter(|| {
                    let mut n = 0usize;
                    for chunk in chunk_reader(&data[..], cfg) {
                        n += chunk.expect("memory read").data.len();
                    }
                    black_box(n)
                })
            });
        }
        group.bench_function(format!("{label}/blake3_only"), |b| b.iter(|| black_box(blake3::hash(&data))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
