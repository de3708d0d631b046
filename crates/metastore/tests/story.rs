//! One story of the metadata store, run on SQLite and on PostgreSQL.

use coffer_core::wire::FileMode;
use coffer_metastore::{FileHead, MetaError, MetaStore, NewNode, testing};

#[tokio::test]
async fn metastore_story_on_every_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in testing::database_urls(dir.path()).await {
        let store = MetaStore::open(&url).await.expect("open");
        story(&store).await;
        // Opening again finds the schema current and changes nothing.
        let again = MetaStore::open(&url).await.expect("reopen");
        let mut tx = again.read().await.expect("read");
        assert_eq!(tx.count_users().await.expect("count"), 2, "{url}");
        drop(tx);
        again.close().await;
        store.close().await;
    }
}

async fn story(store: &MetaStore) {
    let now = 1_700_000_000_000;
    let mut tx = store.write().await.expect("write");
    let alice = tx.create_user("alice", "hash-a", true, None, now).await.expect("alice");
    let bob = tx.create_user("bob", "hash-b", false, Some(1000), now).await.expect("bob");
    tx.commit().await.expect("commit");
    // A failed statement spoils its transaction on PostgreSQL: callers drop it.
    let mut tx = store.write().await.expect("write");
    assert!(matches!(tx.create_user("alice", "x", false, None, now).await, Err(MetaError::Duplicate)));
    drop(tx);
    let mut tx = store.write().await.expect("write");
    assert_eq!(tx.user_by_name("bob").await.expect("bob").expect("exists"), bob);
    assert_ne!(alice.home_namespace_id, bob.home_namespace_id);
    assert_eq!(tx.memberships(alice.id).await.expect("m"), vec![(alice.home_namespace_id, coffer_core::Role::Owner)]);

    // Devices and token lookup.
    let dev = tx
        .create_device(
            &coffer_metastore::NewCredential {
                user_id: alice.id,
                name: "laptop",
                kind: coffer_core::wire::DeviceKind::Device,
                read_only: false,
                token_hash: b"token-hash",
                expires_at: None,
            },
            now,
        )
        .await
        .expect("device");
    assert_eq!(tx.device_by_token_hash(b"token-hash").await.expect("lookup").expect("found").id, dev.id);
    assert!(!tx.revoke_device(bob.id, dev.id, now).await.expect("other user's device"));
    assert!(tx.revoke_device(alice.id, dev.id, now).await.expect("own device"));
    assert!(tx.list_devices(alice.id).await.expect("list").is_empty());

    // Nodes: unique names per folder by collision key, stable ids across moves.
    let ns = alice.home_namespace_id;
    let root = tx.namespace_root(ns).await.expect("root");
    let docs = tx
        .insert_node(NewNode {
            namespace_id: ns,
            parent_id: root,
            name: "Docs",
            name_key: "docs",
            is_folder: true,
            now,
        })
        .await
        .expect("docs");
    tx.commit().await.expect("commit");
    let mut tx = store.write().await.expect("write");
    let clash = tx
        .insert_node(NewNode {
            namespace_id: ns,
            parent_id: root,
            name: "DOCS",
            name_key: "docs",
            is_folder: true,
            now,
        })
        .await;
    assert!(matches!(clash, Err(MetaError::Duplicate)), "{clash:?}");
    drop(tx);

    let mut tx = store.write().await.expect("write");
    let file = tx
        .insert_node(NewNode {
            namespace_id: ns,
            parent_id: docs.id,
            name: "a.txt",
            name_key: "a.txt",
            is_folder: false,
            now,
        })
        .await
        .expect("file");
    let h1 = FileHead { size: 5, content_hash: b"h1", mtime: None, mode: FileMode::Regular };
    let rev = tx.insert_revision(file.id, &h1, b"\x01", Some(dev.id), now).await.expect("rev");
    assert!(tx.set_current_revision(file.id, None, rev, &h1, now).await.expect("cas"));
    assert!(!tx.set_current_revision(file.id, None, rev, &h1, now).await.expect("stale cas"));
    let h2 = FileHead { size: 7, content_hash: b"h2", mtime: Some(1_700_000_000_000), mode: FileMode::Executable };
    let rev2 = tx.insert_revision(file.id, &h2, b"\x01", None, now).await.expect("rev2");
    assert!(tx.set_current_revision(file.id, Some(rev), rev2, &h2, now).await.expect("cas2"));
    let stored = tx.revision(rev2).await.expect("read").expect("there");
    assert_eq!((stored.mtime, stored.mode), (h2.mtime, FileMode::Executable), "a revision keeps its mtime and mode");
    let node = tx.node(file.id).await.expect("read").expect("there");
    assert_eq!((node.mtime, node.mode), (h2.mtime, FileMode::Executable), "the node copies its current revision's");
    let revs = tx.revisions(file.id).await.expect("revs");
    assert_eq!(revs.iter().map(|r| r.id).collect::<Vec<_>>(), vec![rev2, rev]);
    assert_eq!(revs[1].device_name.as_deref(), Some("laptop"));

    tx.relocate_node(file.id, root, "b.txt", "b.txt", now + 1).await.expect("move");
    let moved = tx.node(file.id).await.expect("node").expect("exists");
    assert_eq!((moved.parent_id, moved.name.as_str()), (Some(root), "b.txt"));
    let names: Vec<String> = tx.children(root, None, 10).await.expect("ls").into_iter().map(|n| n.name).collect();
    assert_eq!(names, vec!["Docs", "b.txt"]);
    let page: Vec<String> =
        tx.children(root, Some("Docs"), 10).await.expect("ls").into_iter().map(|n| n.name).collect();
    assert_eq!(page, vec!["b.txt"]);
    let up: Vec<coffer_core::NodeId> = tx.ancestry(file.id).await.expect("up").iter().map(|n| n.id).collect();
    assert_eq!(up, vec![file.id, root]);

    // Journal: strictly increasing per namespace.
    let s1 = tx.append_journal("created", &moved, now).await.expect("j1");
    let s2 = tx.append_journal("moved", &moved, now).await.expect("j2");
    assert_eq!(s2, s1 + 1);
    let j = tx.journal_since(ns, s1, 10).await.expect("since");
    assert_eq!(j.len(), 1);
    assert_eq!(j[0].kind, "moved");
    assert_eq!(tx.namespace_seq(ns).await.expect("seq"), s2);

    // Trash: a trashed name frees the slot.
    tx.trash_node(docs.id, "/Docs", now).await.expect("trash");
    tx.insert_node(NewNode { namespace_id: ns, parent_id: root, name: "docs", name_key: "docs", is_folder: true, now })
        .await
        .expect("name is free again");
    assert_eq!(tx.trashed(ns).await.expect("trash").len(), 1);
    let sub = tx.subtree(docs.id).await.expect("subtree");
    assert_eq!(sub[0].id, docs.id);

    // Chunks: refcounts, dedup privacy, uploads, GC marking.
    let h = vec![7u8; 32];
    let up1 = coffer_core::UploadId("up1".into());
    tx.create_upload(&up1, alice.id, now, now + 1000).await.expect("upload");
    tx.record_uploaded_chunk(&up1, &h, 10, 8, now).await.expect("chunk");
    assert!(tx.chunks_known_to_user(alice.id, std::slice::from_ref(&h)).await.expect("known").is_empty());
    assert_eq!(tx.chunks_in_upload(&up1, std::slice::from_ref(&h)).await.expect("in upload").len(), 1);
    assert!(!tx.mark_chunk_deleting(&h).await.expect("held by upload"));
    tx.add_chunk_refs(std::slice::from_ref(&h), 1, now).await.expect("ref");
    tx.grant_user_chunks(alice.id, std::slice::from_ref(&h)).await.expect("grant");
    tx.grant_user_chunks(alice.id, std::slice::from_ref(&h)).await.expect("grant twice");
    assert_eq!(tx.chunks_known_to_user(alice.id, std::slice::from_ref(&h)).await.expect("known").len(), 1);
    assert!(tx.chunks_known_to_user(bob.id, std::slice::from_ref(&h)).await.expect("bob").is_empty());
    tx.delete_upload(&up1).await.expect("delete upload");
    assert!(tx.gc_candidates(now + 10, 10).await.expect("gc").is_empty(), "referenced");
    tx.add_chunk_refs(std::slice::from_ref(&h), -1, now + 5).await.expect("unref");
    assert_eq!(tx.gc_candidates(now + 10, 10).await.expect("gc"), vec![h.clone()]);
    assert!(tx.mark_chunk_deleting(&h).await.expect("mark"));
    assert_eq!(tx.chunk_state(&h).await.expect("state"), Some(true));
    tx.forget_chunk(&h).await.expect("forget");
    assert_eq!(tx.chunk_state(&h).await.expect("state"), None);

    // Purge removes nodes and hands back their revisions.
    let (removed, nodes) = tx.delete_node_batch(&[file.id]).await.expect("purge");
    assert_eq!(nodes, 1);
    assert_eq!(removed.len(), 2);
    assert!(tx.node(file.id).await.expect("gone").is_none());
    tx.set_setting("k", "v1").await.expect("set");
    tx.set_setting("k", "v2").await.expect("overwrite");
    assert_eq!(tx.setting("k").await.expect("get").as_deref(), Some("v2"));
    tx.commit().await.expect("commit");
}
