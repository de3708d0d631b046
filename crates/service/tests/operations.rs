//! Service operations on both engines: the journal and long-poll, upload expiry and
//! garbage collection (never of a live chunk), concurrent commits.

use std::time::Duration;

use bytes::Bytes;
use coffer_core::wire::ChangeKind;
use coffer_core::{ChunkHash, ChunkRef, ErrorCode};
use coffer_service::{CommitFile, ServiceConfig};

mod common;

use common::{caller, envs, put};

fn stored_chunks(dir: &std::path::Path) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    walk(&dir.join("chunks/chunks"))
}

#[tokio::test]
async fn journal_delta_pages_and_long_poll_wakes() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let bob = caller(s, "bob").await;
        let start = s.latest_cursor(&alice).await.expect("cursor");
        s.mkdir(&alice, "/a", false).await.expect("mkdir");
        put(s, &alice, "/a/f.txt", b"one", None).await.expect("commit");
        s.move_node(&alice, "/a/f.txt", "/g.txt").await.expect("move");
        s.delete(&alice, "/g.txt").await.expect("delete");
        let d = s.delta(&alice, Some(&start), Some(2)).await.expect("delta");
        assert_eq!(d.changes.len(), 2);
        assert!(d.has_more);
        let kinds: Vec<ChangeKind> = d.changes.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, vec![ChangeKind::Created, ChangeKind::Created]);
        let d2 = s.delta(&alice, Some(&d.cursor), None).await.expect("delta");
        let kinds: Vec<ChangeKind> = d2.changes.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, vec![ChangeKind::Moved, ChangeKind::Trashed]);
        assert!(!d2.has_more);
        assert!(d2.changes.windows(2).all(|w| w[0].seq < w[1].seq));
        // Bob sees none of it.
        assert!(s.delta(&bob, None, None).await.expect("bob").changes.is_empty());
        // A cursor of Alice's given to Bob reveals nothing either.
        assert!(s.delta(&bob, Some(&start), None).await.expect("bob").changes.is_empty());

        // Long-poll: returns at once when behind, wakes on a change, times out when quiet.
        assert!(s.wait_for_change(&alice, Some(&start), Duration::from_secs(5)).await.expect("behind"));
        let now = s.latest_cursor(&alice).await.expect("cursor");
        assert!(!s.wait_for_change(&alice, Some(&now), Duration::from_millis(50)).await.expect("quiet"));
        let waiter = {
            let s = s.clone();
            let alice = alice.clone();
            let now = now.clone();
            tokio::spawn(async move { s.wait_for_change(&alice, Some(&now), Duration::from_secs(20)).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Bob's change does not wake Alice; hers does.
        s.mkdir(&bob, "/bobs", false).await.expect("mkdir");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "another user's change woke the wrong long-poll");
        s.mkdir(&alice, "/b", false).await.expect("mkdir");
        let woke = tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("woke").expect("join");
        assert!(woke.expect("ok"));
    }
}

#[tokio::test]
async fn abandoned_uploads_expire_and_only_dead_chunks_are_collected() {
    let config = ServiceConfig {
        upload_ttl: Duration::from_millis(200),
        gc_grace: Duration::ZERO,
        trash_retention: Duration::from_secs(3600),
        ..ServiceConfig::default()
    };
    for env in envs(config).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        // Committed: must survive every collection.
        let kept = put(s, &alice, "/kept.txt", b"kept bytes", None).await.expect("commit");
        // Uploaded but never committed: collected after the upload expires.
        let orphan = b"orphan bytes".to_vec();
        let oh = ChunkHash::of(&orphan);
        let up = s.begin_upload(&alice, &[ChunkRef { hash: oh, size: orphan.len() as u32 }]).await.expect("begin");
        s.put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), vec![(oh, Bytes::from(orphan))])
            .await
            .expect("put");
        assert_eq!(stored_chunks(env.dir.path()), 2);
        let early = s.run_maintenance().await.expect("maintenance");
        assert_eq!(early.chunks_collected, 0, "a live upload's chunk was collected");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let r = s.run_maintenance().await.expect("maintenance");
        // Both sessions expire (the committed file's too); only the orphan chunk goes.
        assert_eq!((r.uploads_expired, r.chunks_collected), (2, 1));
        assert_eq!(stored_chunks(env.dir.path()), 1);
        // The expired upload cannot be used any more.
        let err =
            s.put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), vec![]).await.expect_err("expired");
        assert_eq!(err.code, ErrorCode::UploadNotFound);

        // The committed file still reads back.
        let content = s.open_file(&alice, "/kept.txt", None).await.expect("open");
        assert_eq!(content.rev.get(), kept.rev.expect("rev"));

        // Two versions share nothing; purging the file frees both chunks.
        put(s, &alice, "/kept.txt", b"second version", kept.rev).await.expect("v2");
        s.delete(&alice, "/kept.txt").await.expect("trash");
        assert_eq!(s.run_maintenance().await.expect("m").chunks_collected, 0, "trashed files keep their chunks");
        assert_eq!(s.trash_purge(&alice, None).await.expect("purge"), 1);
        tokio::time::sleep(Duration::from_millis(300)).await; // the second upload session expires
        assert_eq!(s.run_maintenance().await.expect("m").chunks_collected, 2);
        assert_eq!(stored_chunks(env.dir.path()), 0);
        assert_eq!(s.whoami(&alice).await.expect("me").used_bytes, 0, "quota usage released");
    }
}

#[tokio::test]
async fn concurrent_commits_on_one_parent_make_one_winner() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let base = put(s, &alice, "/doc.txt", b"base", None).await.expect("base");
        let mut tasks = Vec::new();
        for i in 0..8 {
            let s = s.clone();
            let alice = alice.clone();
            let rev = base.rev;
            tasks.push(tokio::spawn(
                async move { put(&s, &alice, "/doc.txt", format!("edit {i}").as_bytes(), rev).await },
            ));
        }
        let mut wins = 0;
        for t in tasks {
            match t.await.expect("join") {
                Ok(_) => wins += 1,
                Err(e) => assert_eq!(e.code, ErrorCode::Conflict, "{e}"),
            }
        }
        assert_eq!(wins, 1, "exactly one edit of the same base wins");
        assert_eq!(s.versions(&alice, "/doc.txt").await.expect("versions").len(), 2);
    }
}

#[tokio::test]
async fn damaged_chunks_are_asked_for_again_and_heal() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let data = b"bytes that will rot on disk".to_vec();
        put(s, &alice, "/f", &data, None).await.expect("commit");
        // Rot: flip a bit of the stored chunk.
        let hex = ChunkHash::of(&data).to_hex();
        let path = env.dir.path().join("chunks/chunks").join(&hex[..2]).join(&hex);
        let mut bytes = std::fs::read(&path).expect("stored");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).expect("damage");
        let read = s.read_chunk(&alice, &ChunkHash::of(&data)).await;
        assert_eq!(read.expect_err("damaged").code, ErrorCode::Internal, "damaged bytes are never served");
        // The owner's next upload of the same bytes is asked to send them, and heals.
        let up = s
            .begin_upload(&alice, &[ChunkRef { hash: ChunkHash::of(&data), size: data.len() as u32 }])
            .await
            .expect("begin");
        assert_eq!(up.missing, vec![ChunkHash::of(&data)]);
        s.put_chunks(
            &alice,
            &coffer_core::UploadId(up.upload_id.clone()),
            vec![(ChunkHash::of(&data), Bytes::from(data.clone()))],
        )
        .await
        .expect("heal");
        assert_eq!(s.read_chunk(&alice, &ChunkHash::of(&data)).await.expect("healed").as_ref(), data.as_slice());
    }
}

#[tokio::test]
async fn a_chunk_marked_for_collection_is_never_committed_and_collection_resumes() {
    // Upload sessions are dropped by hand below: the one begun later must outlive the
    // maintenance pass however slow the machine is.
    let config =
        ServiceConfig { upload_ttl: Duration::from_secs(600), gc_grace: Duration::ZERO, ..ServiceConfig::default() };
    for env in envs(config).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let data = b"short-lived bytes".to_vec();
        let hash = ChunkHash::of(&data);
        put(s, &alice, "/f", &data, None).await.expect("commit");
        s.delete(&alice, "/f").await.expect("trash");
        s.trash_purge(&alice, None).await.expect("purge");
        tokio::time::sleep(Duration::from_millis(200)).await;
        // A collection that marked the chunk and then stopped (a crash).
        let meta = coffer_metastore::MetaStore::open(&env.url).await.expect("meta");
        let mut tx = meta.write().await.expect("tx");
        for id in tx.expired_uploads(i64::MAX, 100).await.expect("expired") {
            tx.delete_upload(&id).await.expect("drop upload");
        }
        assert!(tx.mark_chunk_deleting(hash.as_bytes()).await.expect("mark"), "unreferenced and unpinned");
        tx.commit().await.expect("commit");
        // Alice still "knows" the chunk, but a commit of it is refused, not accepted.
        let chunks = vec![ChunkRef { hash, size: data.len() as u32 }];
        let out = s
            .commit(
                &alice,
                None,
                vec![CommitFile {
                    node_id: None,
                    path: "/g".into(),
                    parent_rev: None,
                    mtime: None,
                    mode: Default::default(),
                    chunks: chunks.clone(),
                }],
                false,
            )
            .await
            .expect("commit request");
        assert_eq!(out[0].as_ref().expect_err("refused").code, ErrorCode::MissingChunks);
        // Uploading it meanwhile is told to retry.
        let up = s.begin_upload(&alice, &chunks).await.expect("begin");
        let busy = s
            .put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), vec![(hash, Bytes::from(data.clone()))])
            .await;
        assert_eq!(busy.expect_err("busy").code, ErrorCode::Busy);
        // The next pass finishes the interrupted collection; then the upload works.
        let r = s.run_maintenance().await.expect("maintenance");
        assert!(r.chunks_collected >= 1, "{r:?}");
        s.put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), vec![(hash, Bytes::from(data.clone()))])
            .await
            .expect("put after");
        let out = s
            .commit(
                &alice,
                Some(&coffer_core::UploadId(up.upload_id.clone())),
                vec![CommitFile {
                    node_id: None,
                    path: "/g".into(),
                    parent_rev: None,
                    mtime: None,
                    mode: Default::default(),
                    chunks,
                }],
                true,
            )
            .await
            .expect("commit");
        assert!(out[0].is_ok(), "{:?}", out[0]);
        // The commit closed the session.
        let closed = s
            .put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), vec![(hash, Bytes::from(data.clone()))])
            .await;
        assert_eq!(closed.expect_err("closed").code, ErrorCode::UploadNotFound);
        assert_eq!(s.read_chunk(&alice, &hash).await.expect("read").as_ref(), data.as_slice());
        meta.close().await;
    }
}

#[tokio::test]
async fn one_commit_mixes_new_modified_and_refused_files() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let old = put(s, &alice, "/docs/old.txt", b"v1", None).await.expect("v1");
        let chunk = |data: &[u8]| vec![ChunkRef { hash: ChunkHash::of(data), size: data.len() as u32 }];
        let datas: [&[u8]; 3] = [b"v2", b"new one", b"new two"];
        let refs: Vec<ChunkRef> = datas.iter().flat_map(|d| chunk(d)).collect();
        let up = s.begin_upload(&alice, &refs).await.expect("begin");
        let chunks = datas.iter().map(|d| (ChunkHash::of(d), Bytes::copy_from_slice(d))).collect();
        s.put_chunks(&alice, &coffer_core::UploadId(up.upload_id.clone()), chunks).await.expect("put");
        let file = |path: &str, parent_rev: Option<i64>, data: &[u8]| CommitFile {
            node_id: None,
            path: path.into(),
            parent_rev: parent_rev.map(coffer_core::RevisionId),
            mtime: Some(7),
            mode: Default::default(),
            chunks: chunk(data),
        };
        let out = s
            .commit(
                &alice,
                Some(&coffer_core::UploadId(up.upload_id.clone())),
                vec![
                    file("/docs/old.txt", old.rev, b"v2"),
                    file("/docs/new/one.txt", None, b"new one"),
                    file("/docs/NEW/ONE.txt", None, b"new two"),
                    file("/docs/new/one.txt/below", None, b"new two"),
                    file("/docs/old.txt", old.rev, b"new two"),
                    file("/docs/two.txt", None, b"new two"),
                    file("/docs/../x", None, b"new two"),
                ],
                true,
            )
            .await
            .expect("commit");
        let codes: Vec<Option<ErrorCode>> = out.iter().map(|o| o.as_ref().err().map(|e| e.code)).collect();
        assert_eq!(
            codes,
            vec![
                None,
                None,
                Some(ErrorCode::Conflict),
                Some(ErrorCode::NotAFolder),
                Some(ErrorCode::Conflict),
                None,
                Some(ErrorCode::InvalidName)
            ]
        );
        let one = out[1].as_ref().expect("created");
        assert_eq!(one.path.as_deref(), Some("/docs/new/one.txt"));
        assert_eq!(one.mtime, Some(7));
        assert_eq!(s.stat(&alice, "/docs/new/one.txt").await.expect("stat").rev, one.rev);
        let content = s.open_file(&alice, "/docs/two.txt", None).await.expect("open");
        assert_eq!(content.size, 7);
        // The journal tells of each, in order, once.
        let d = s.delta(&alice, None, None).await.expect("delta");
        let created: Vec<&str> =
            d.changes.iter().filter(|c| c.kind == ChangeKind::Created).map(|c| c.node.name.as_str()).collect();
        assert_eq!(created, vec!["docs", "old.txt", "new", "one.txt", "two.txt"]);
        assert!(d.changes.windows(2).all(|w| w[1].seq == w[0].seq + 1));
        // Every version counts: old.txt holds v1 and v2.
        assert_eq!(s.whoami(&alice).await.expect("me").used_bytes, 2 + 2 + 7 + 7);
    }
}

#[tokio::test]
async fn bytes_no_upload_recorded_are_swept_and_live_ones_stay() {
    let config = ServiceConfig { gc_grace: Duration::ZERO, ..ServiceConfig::default() };
    for env in envs(config).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        put(s, &alice, "/kept", b"committed bytes", None).await.expect("commit");
        // Bytes written straight into the store, as by an upload that crashed before
        // recording them.
        let store = coffer_blobstore::LocalDirStore::open(env.dir.path().join("chunks")).expect("store");
        let orphans: Vec<(ChunkHash, Bytes)> = (0..40u32)
            .map(|i| {
                let b = Bytes::from(format!("orphan {i}"));
                (ChunkHash::of(&b), b)
            })
            .collect();
        coffer_blobstore::BlobStore::put_many(&store, orphans.clone()).await.expect("write orphans");
        assert_eq!(stored_chunks(env.dir.path()), 41);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut swept = 0;
        for _ in 0..16 {
            swept += s.run_maintenance().await.expect("maintenance").orphans_collected;
        }
        assert_eq!(swept, 40, "every folder was swept once");
        assert_eq!(stored_chunks(env.dir.path()), 1);
        let kept = s.open_file(&alice, "/kept", None).await.expect("open");
        assert_eq!(kept.size, 15);
        // An orphan's bytes uploaded for real afterwards are stored and usable.
        let (hash, data) = orphans[0].clone();
        let again = put(s, &alice, "/again", &data, None).await.expect("commit");
        assert_eq!(again.size, data.len() as u64);
        assert_eq!(s.read_chunk(&alice, &hash).await.expect("read"), data);
    }
}
