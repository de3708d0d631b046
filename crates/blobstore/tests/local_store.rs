//! The blob store contract, run against the local directory backend.

use bytes::Bytes;
use coffer_blobstore::{BlobError, BlobStore, LocalDirStore, PutOutcome};
use coffer_core::ChunkHash;

fn store() -> (tempfile::TempDir, LocalDirStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalDirStore::open(dir.path()).expect("open");
    (dir, store)
}

#[tokio::test]
async fn put_get_round_trip_and_dedup() {
    let (_dir, store) = store();
    let data = Bytes::from(vec![1u8; 300_000]);
    let hash = ChunkHash::of(&data);
    assert!(matches!(store.put(hash, data.clone()).await.expect("put"), PutOutcome::Written { .. }));
    assert_eq!(store.put(hash, data.clone()).await.expect("put"), PutOutcome::AlreadyPresent);
    assert!(store.contains(&hash).await.expect("contains"));
    assert_eq!(store.get(&hash).await.expect("get"), data);
    store.delete(&hash).await.expect("delete");
    store.delete(&hash).await.expect("delete twice");
    assert!(matches!(store.get(&hash).await, Err(BlobError::NotFound(_))));
}

/// Storing bytes that are already stored costs the same writes, flushes and renames as
/// new bytes, so an upload's timing does not tell another user that someone holds them.
#[tokio::test]
async fn a_stored_chunk_is_written_again_like_a_new_one() {
    let (dir, store) = store();
    let data = Bytes::from(vec![7u8; 300_000]);
    let hash = ChunkHash::of(&data);
    store.put(hash, data.clone()).await.expect("put");
    let stored = dir.path().join("chunks").join(&hash.to_hex()[..2]).join(hash.to_hex());
    let inode = |p: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).expect("stored"));
    let first = inode(&stored);
    let before = store.writes();
    assert_eq!(store.put(hash, data.clone()).await.expect("put"), PutOutcome::AlreadyPresent);
    assert_eq!(store.writes(), before + 1, "the second put wrote its copy too");
    assert_eq!(inode(&stored), first, "the stored chunk stays as it was");
    // The copy is deleted after the answer: nothing stays behind.
    let tmp_files = || -> usize {
        std::fs::read_dir(dir.path().join("tmp"))
            .expect("tmp")
            .map(|d| std::fs::read_dir(d.expect("entry").path()).expect("prefix").count())
            .sum()
    };
    for _ in 0..100 {
        if tmp_files() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(tmp_files(), 0);
    assert_eq!(store.get(&hash).await.expect("get"), data);
}

#[tokio::test]
async fn batches_store_every_chunk() {
    let (_dir, store) = store();
    let chunks: Vec<(ChunkHash, Bytes)> = (0..50u32)
        .map(|i| {
            let b = Bytes::from(format!("small file number {i}").into_bytes());
            (ChunkHash::of(&b), b)
        })
        .collect();
    let outcomes = store.put_many(chunks.clone()).await.expect("batch");
    assert_eq!(outcomes.len(), 50);
    for (hash, data) in chunks {
        assert_eq!(store.get(&hash).await.expect("get"), data);
    }
}

#[tokio::test]
async fn corrupt_chunks_are_never_served_and_heal_on_reupload() {
    let (dir, store) = store();
    let data = Bytes::from_static(b"precious bytes, stored once");
    let hash = ChunkHash::of(&data);
    store.put(hash, data.clone()).await.expect("put");
    let hex = hash.to_hex();
    let path = dir.path().join("chunks").join(&hex[..2]).join(&hex);
    let mut bytes = std::fs::read(&path).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&path, bytes).expect("damage");
    assert!(matches!(store.get(&hash).await, Err(BlobError::Corrupt(_))));
    assert!(!store.contains(&hash).await.expect("contains"), "damaged chunk is quarantined");
    assert!(matches!(store.put(hash, data.clone()).await.expect("reput"), PutOutcome::Written { .. }));
    assert_eq!(store.get(&hash).await.expect("healed"), data);
}

#[tokio::test]
async fn leftover_temporary_files_are_removed_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(LocalDirStore::open(dir.path()).expect("open"));
    std::fs::write(dir.path().join("tmp/ab/half-written"), b"xx").expect("write");
    drop(LocalDirStore::open(dir.path()).expect("reopen"));
    assert_eq!(std::fs::read_dir(dir.path().join("tmp/ab")).expect("ls").count(), 0);
}
