//! Encryption at rest in the local directory backend: sealed chunks keep no plaintext
//! and no plaintext hash on disk, a sealed store is refused without its key or with
//! another, and plaintext chunks (a store encrypted later) or chunks under an older key
//! (after a rotation) are sealed again, resumably, without losing any.

use bytes::Bytes;
use coffer_blobstore::{BlobError, BlobStore, Keyring, LocalDirStore, MasterKey, PutOutcome};
use coffer_core::ChunkHash;

fn chunk(i: u32) -> (ChunkHash, Bytes) {
    let data = Bytes::from(format!("MARKER-{i:05}-a file's secret bytes ").repeat(200 + i as usize));
    (ChunkHash::of(&data), data)
}

/// Every byte of every file under `dir`.
fn all_bytes(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).expect("read")));
            }
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn sealed_chunks_show_neither_bytes_nor_hashes_and_need_their_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = MasterKey::generate();
    let store = LocalDirStore::open_with(dir.path(), Some(Keyring::new(key.clone(), Vec::new()))).expect("open");
    let chunks: Vec<_> = (0..20).map(chunk).collect();
    let out = store.put_many(chunks.clone()).await.expect("put");
    assert!(out.iter().all(|o| matches!(o, PutOutcome::Written { .. })));
    assert_eq!(store.put(chunks[0].0, chunks[0].1.clone()).await.expect("again"), PutOutcome::AlreadyPresent);
    for (hash, data) in &chunks {
        assert_eq!(&store.get(hash).await.expect("get"), data);
        assert!(store.contains(hash).await.expect("contains"));
    }
    let mut listed = Vec::new();
    for prefix in 0..=255u8 {
        listed.extend(store.list(prefix).await.expect("list").into_iter().map(|(h, _)| h));
    }
    listed.sort();
    let mut want: Vec<_> = chunks.iter().map(|c| c.0).collect();
    want.sort();
    assert_eq!(listed, want, "the sweep learns every sealed chunk from its header");

    for (path, bytes) in all_bytes(dir.path()) {
        assert!(!find(&bytes, b"MARKER-"), "plaintext in {path}");
        for (hash, _) in &chunks {
            assert!(!path.contains(&hash.to_hex()), "a plaintext hash names {path}");
            assert!(!find(&bytes, &hash.0), "a plaintext hash inside {path}");
        }
    }

    drop(store);
    assert!(matches!(LocalDirStore::open(dir.path()), Err(BlobError::KeyNeeded)));
    let other = Keyring::new(MasterKey::generate(), Vec::new());
    assert!(matches!(LocalDirStore::open_with(dir.path(), Some(other)), Err(BlobError::WrongKey(_))));
    let again = LocalDirStore::open_with(dir.path(), Some(Keyring::new(key, Vec::new()))).expect("reopen");
    assert_eq!(again.get(&chunks[3].0).await.expect("get"), chunks[3].1);
    again.delete(&chunks[3].0).await.expect("delete");
    assert!(!again.contains(&chunks[3].0).await.expect("contains"));
}

#[tokio::test]
async fn plaintext_and_older_key_chunks_are_sealed_again_resumably() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chunks: Vec<_> = (0..30).map(chunk).collect();
    {
        let plain = LocalDirStore::open(dir.path()).expect("plaintext store");
        plain.put_many(chunks.clone()).await.expect("put");
    }
    // Encryption turned on: plaintext chunks read where they are, new ones sealed.
    let first = Keyring::new(MasterKey::generate(), Vec::new());
    let first_text = first.to_file_text();
    let store = LocalDirStore::open_with(dir.path(), Some(first)).expect("open with a key");
    assert!(LocalDirStore::seal_state(dir.path()).expect("state").expect("sealed").plaintext);
    assert_eq!(store.get(&chunks[0].0).await.expect("plaintext read"), chunks[0].1);
    // A few at a time, as if stopped in between.
    let part = store.reseal(7).await.expect("reseal");
    assert_eq!((part.resealed, part.done), (7, false));
    drop(store);
    let store = LocalDirStore::open_with(dir.path(), Some(Keyring::parse(&first_text).expect("ring"))).expect("reopen");
    let rest = store.reseal(1000).await.expect("reseal");
    assert_eq!((rest.resealed, rest.done), (23, true));
    let state = LocalDirStore::seal_state(dir.path()).expect("state").expect("sealed");
    assert!(!state.plaintext && state.keys.len() == 1);
    assert!(all_bytes(dir.path()).iter().all(|(p, b)| !find(b, b"MARKER-") || p.contains("quarantine")));
    for (hash, data) in &chunks {
        assert_eq!(&store.get(hash).await.expect("get"), data);
    }

    // A rotation: the new key seals new chunks at once and every old one again.
    let rotated = Keyring::parse(&first_text).expect("ring").rotated();
    let rotated_text = rotated.to_file_text();
    store.set_keyring(rotated).expect("rotate");
    assert_eq!(store.get(&chunks[5].0).await.expect("read under the old key"), chunks[5].1);
    let (nh, nd) = chunk(999);
    store.put(nh, nd.clone()).await.expect("put under the new key");
    let done = store.reseal(1000).await.expect("reseal");
    assert_eq!((done.resealed, done.done), (30, true));
    drop(store);
    // Only the new key is needed now.
    let new_only = Keyring::parse(&rotated_text).expect("ring").without_older();
    let store = LocalDirStore::open_with(dir.path(), Some(new_only)).expect("the new key alone opens it");
    for (hash, data) in chunks.iter().chain([&(nh, nd)]) {
        assert_eq!(&store.get(hash).await.expect("get"), data);
    }
    assert_eq!(
        store.reseal(1000).await.expect("nothing left"),
        coffer_blobstore::ResealReport { resealed: 0, done: true }
    );
}
