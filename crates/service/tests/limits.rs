//! Everything a user makes the server keep is bounded: versions count towards the quota
//! (the oldest make room first), uploaded but uncommitted bytes count while held, open
//! upload sessions and files per account are capped, manifests cannot be padded with
//! tiny chunks, paths cannot grow past the limit by moves, and a huge purge runs in
//! short transactions that other users' requests slip between.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use coffer_core::{ChunkHash, ChunkRef, ErrorCode};
use coffer_service::{CommitFile, ServiceConfig};
use common::{caller, envs, put};

const KIB: usize = 1024;

/// Another user's folders made one after another until `task` ends: the slowest one's
/// time and how many were made.
async fn work_until_done<T>(
    s: &coffer_service::Service,
    other: &coffer_service::Caller,
    task: &tokio::task::JoinHandle<T>,
    prefix: &str,
) -> (Duration, usize) {
    let mut slowest = Duration::ZERO;
    let mut i = 0;
    while !task.is_finished() {
        let start = Instant::now();
        s.mkdir(other, &format!("/{prefix}{i}"), false).await.expect("the other user's mkdir never fails");
        slowest = slowest.max(start.elapsed());
        i += 1;
    }
    (slowest, i)
}

#[tokio::test]
async fn old_versions_count_and_the_oldest_make_room() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        s.admin_service().set_quota("alice", Some(2 * 1024 * 1024)).await.expect("quota");
        let mut rev = None;
        // Ten 600 KiB versions of one file under a 2 MiB quota.
        for i in 0..10u8 {
            let data = vec![i; 600 * KIB];
            let node = put(s, &alice, "/f.bin", &data, rev).await.expect("commit");
            rev = node.rev;
            let used = s.whoami(&alice).await.expect("me").used_bytes;
            assert!(used <= 2 * 1024 * 1024, "used {used} is over the quota after version {i}");
        }
        let versions = s.versions(&alice, "/f.bin").await.expect("versions");
        assert_eq!(versions.len(), 3, "three 600 KiB versions fit in 2 MiB");
        let used = s.whoami(&alice).await.expect("me").used_bytes;
        assert_eq!(used, 3 * 600 * KIB as u64, "the quota counts every kept version");
        assert!(versions.iter().any(|v| v.current && v.rev == rev.expect("rev")));
        // Bytes larger than the quota are refused as they arrive, and nothing is thinned.
        let big = vec![1u8; 3 * 1024 * 1024];
        let refs = vec![ChunkRef { hash: ChunkHash::of(&big), size: big.len() as u32 }];
        let up = s.begin_upload(&alice, &refs).await.expect("begin");
        let refused = s
            .put_chunks(
                &alice,
                &coffer_core::UploadId(up.upload_id.clone()),
                vec![(ChunkHash::of(&big), Bytes::from(big))],
            )
            .await;
        assert_eq!(refused.expect_err("over quota").code, ErrorCode::QuotaExceeded);
        assert_eq!(s.versions(&alice, "/f.bin").await.expect("versions").len(), 3);
    }
}

#[tokio::test]
async fn uncommitted_upload_bytes_count_and_sessions_are_capped() {
    let config = ServiceConfig { max_open_uploads: 3, ..ServiceConfig::default() };
    for env in envs(config.clone()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        s.admin_service().set_quota("alice", Some(1024 * 1024)).await.expect("quota");
        let pieces: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 400 * KIB]).collect();
        let refs: Vec<ChunkRef> =
            pieces.iter().map(|p| ChunkRef { hash: ChunkHash::of(p), size: p.len() as u32 }).collect();
        let up = s.begin_upload(&alice, &refs).await.expect("begin");
        let send = |p: &Vec<u8>| vec![(ChunkHash::of(p), Bytes::copy_from_slice(p))];
        s.put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), send(&pieces[0])).await.expect("first");
        s.put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), send(&pieces[1])).await.expect("second");
        // Sending the same chunk again costs nothing more.
        s.put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), send(&pieces[1])).await.expect("again");
        let third = s.put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), send(&pieces[2])).await;
        assert_eq!(third.expect_err("held bytes count").code, ErrorCode::QuotaExceeded);
        // Aborting the session gives the room back.
        s.abort_upload(&alice, &coffer_core::UploadId(up.upload_id.clone())).await.expect("abort");
        let up = s.begin_upload(&alice, &refs).await.expect("begin");
        s.put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), send(&pieces[2])).await.expect("room again");
        // At most three sessions open at once.
        s.begin_upload(&alice, &refs).await.expect("second session");
        s.begin_upload(&alice, &refs).await.expect("third session");
        let fourth = s.begin_upload(&alice, &refs).await.expect_err("too many sessions");
        assert_eq!(fourth.code, ErrorCode::RateLimited);
        assert!(fourth.retry_after.is_some());
    }
}

#[tokio::test]
async fn files_per_account_are_capped_and_manifests_cannot_be_padded() {
    let config = ServiceConfig { max_nodes_per_user: 5, ..ServiceConfig::default() };
    for env in envs(config.clone()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        s.mkdir(&alice, "/a/b", true).await.expect("two folders");
        put(s, &alice, "/a/1", b"one", None).await.expect("file");
        put(s, &alice, "/a/2", b"two", None).await.expect("file");
        let over = s.mkdir(&alice, "/a/c/d", true).await.expect_err("over the cap");
        assert_eq!(over.code, ErrorCode::QuotaExceeded);
        assert!(s.stat(&alice, "/a/c").await.is_err(), "a refused change leaves nothing behind");
        // Purging gives room back.
        s.delete(&alice, "/a/b").await.expect("trash");
        assert_eq!(s.trash_purge(&alice, None).await.expect("purge"), 1);
        s.mkdir(&alice, "/a/c", false).await.expect("room again");

        // A manifest of tiny chunks (not the last) is refused.
        let bob = caller(s, "bob").await;
        let tiny: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 10]).collect();
        let refs: Vec<ChunkRef> =
            tiny.iter().map(|p| ChunkRef { hash: ChunkHash::of(p), size: p.len() as u32 }).collect();
        let up = s.begin_upload(&bob, &refs).await.expect("begin");
        let chunks = tiny.iter().map(|p| (ChunkHash::of(p), Bytes::copy_from_slice(p))).collect();
        s.put_chunks(&bob, &coffer_core::UploadId(up.upload_id.clone()), chunks).await.expect("put");
        let file = CommitFile {
            node_id: None,
            path: "/padded".into(),
            parent_rev: None,
            mtime: None,
            mode: Default::default(),
            chunks: refs,
        };
        let refused = s
            .commit(&bob, Some(&coffer_core::UploadId(up.upload_id.clone())), vec![file], true)
            .await
            .expect_err("padded manifest");
        assert_eq!(refused.code, ErrorCode::BadRequest);
    }
}

#[tokio::test]
async fn a_move_cannot_make_a_path_longer_than_the_limit() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let name = "n".repeat(200);
        let chain = |root: &str, depth: usize| format!("/{root}/{}", vec![name.as_str(); depth].join("/"));
        let a = chain("a", 12); // about 2,400 bytes
        let b = chain("b", 9); // about 1,800 bytes
        s.mkdir(&alice, &a, true).await.expect("chain a");
        s.mkdir(&alice, &b, true).await.expect("chain b");
        let refused = s.move_node(&alice, "/b", &format!("{a}/b")).await.expect_err("too deep");
        assert_eq!(refused.code, ErrorCode::InvalidName);
        assert!(s.stat(&alice, &b).await.is_ok(), "nothing moved");
        // A move that stays within the limit is fine.
        s.move_node(&alice, "/b", "/a/b").await.expect("shallow move");
    }
}

#[tokio::test]
async fn a_huge_purge_does_not_stall_other_users() {
    for env in envs(ServiceConfig::default()).await {
        let s = env.service.clone();
        let alice = caller(&s, "alice").await;
        let bob = caller(&s, "bob").await;
        // 12,000 empty files in one folder, committed 1,000 at a time.
        let empty: Vec<ChunkRef> = Vec::new();
        for batch in 0..12 {
            let files = (0..1000)
                .map(|i| CommitFile {
                    node_id: None,
                    path: format!("/big/f{batch}-{i}"),
                    parent_rev: None,
                    mtime: None,
                    mode: Default::default(),
                    chunks: empty.clone(),
                })
                .collect();
            let out = s.commit(&alice, None, files, false).await.expect("commit");
            assert!(out.iter().all(|o| o.is_ok()));
        }
        s.delete(&alice, "/big").await.expect("trash");
        let purge = {
            let s = s.clone();
            let alice = alice.clone();
            tokio::spawn(async move { s.trash_purge(&alice, None).await })
        };
        // Bob works meanwhile: each of his operations waits at most one purge batch.
        let (slowest, i) = work_until_done(&s, &bob, &purge, "d").await;
        assert_eq!(purge.await.expect("join").expect("purge"), 1);
        eprintln!("{} of bob's operations ran during the purge; the slowest took {slowest:?}", i);
        // Generous: a single-transaction purge of a 450,000-entry folder stalled others for 84 s.
        assert!(slowest < Duration::from_secs(5), "bob waited {slowest:?}");
        let me = s.whoami(&alice).await.expect("me");
        assert_eq!(me.used_bytes, 0);
        assert!(s.trash_list(&alice).await.expect("trash").is_empty());
    }
}

#[tokio::test]
async fn a_huge_restore_tells_every_item_in_order_in_short_transactions() {
    for env in envs(ServiceConfig::default()).await {
        let s = env.service.clone();
        let alice = caller(&s, "alice").await;
        let bob = caller(&s, "bob").await;
        // 5,000 files in 5 folders under /big, and one file trashed on its own before.
        for folder in 0..5 {
            let files = (0..1000)
                .map(|i| CommitFile {
                    node_id: None,
                    path: format!("/big/d{folder}/f{i}"),
                    parent_rev: None,
                    mtime: None,
                    mode: Default::default(),
                    chunks: Vec::new(),
                })
                .collect();
            s.commit(&alice, None, files, false).await.expect("commit");
        }
        s.delete(&alice, "/big/d0/f0").await.expect("trash one");
        s.delete(&alice, "/big").await.expect("trash all");
        let mut cursor = None;
        loop {
            let d = s.delta(&alice, cursor.as_deref(), Some(5000)).await.expect("delta");
            cursor = Some(d.cursor);
            if !d.has_more {
                break;
            }
        }
        let big = s.trash_list(&alice).await.expect("trash").into_iter().find(|e| e.original_path == "/big");
        let big = coffer_core::NodeId(big.expect("/big in the trash").node.id);
        let restore = {
            let s = s.clone();
            let alice = alice.clone();
            tokio::spawn(async move { s.trash_restore(&alice, big).await })
        };
        let (slowest, i) = work_until_done(&s, &bob, &restore, "r").await;
        restore.await.expect("join").expect("restore");
        eprintln!("{i} of bob's operations ran during the restore; the slowest took {slowest:?}");
        assert!(slowest < Duration::from_secs(5), "bob waited {slowest:?}");
        // Every item that came back is told of once, each after its folder.
        let mut told = Vec::new();
        loop {
            let d = s.delta(&alice, cursor.as_deref(), Some(5000)).await.expect("delta");
            told.extend(d.changes.into_iter().map(|c| (c.node.id, c.node.parent_id, c.node.name)));
            cursor = Some(d.cursor);
            if !d.has_more {
                break;
            }
        }
        assert_eq!(told.len(), 1 + 5 + 4999, "the root, five folders, the files not trashed on their own");
        let mut seen = std::collections::HashSet::new();
        for (id, parent, name) in &told {
            if let Some(p) = parent
                && *id != big.get()
            {
                assert!(seen.contains(p), "{name} told of before its folder");
            }
            seen.insert(*id);
        }
        assert!(s.stat(&alice, "/big/d0/f0").await.is_err(), "trashed on its own: still in the trash");
        assert!(s.stat(&alice, "/big/d4/f999").await.is_ok());
    }
}
