//! Shared folders at the service: roles decided at the access checkpoint, the folder
//! mounted in each member's tree, one quota rule, the journal as each member sees it,
//! removal and leaving, nesting refused, moves in and out without re-sending bytes.

mod common;

use std::collections::HashMap;

use coffer_core::wire::{ChangeKind, NodeKind};
use coffer_core::{ChunkHash, ChunkRef, ErrorCode, NodeId, RevisionId, Role};
use coffer_service::{Caller, Service, ServiceConfig};
use common::{caller, envs, put};

async fn used(s: &Service, c: &Caller) -> u64 {
    s.whoami(c).await.expect("whoami").used_bytes
}

/// Every live path of a user's tree as their devices build it from the journal alone.
async fn tree_from_delta(s: &Service, c: &Caller) -> HashMap<String, NodeKind> {
    let root = s.stat(c, "/").await.expect("root").id;
    let mut nodes: HashMap<i64, (Option<i64>, String, NodeKind, bool)> = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = s.delta(c, cursor.as_deref(), Some(500)).await.expect("delta");
        for ch in page.changes {
            if ch.kind == ChangeKind::Deleted {
                nodes.remove(&ch.node.id);
            } else {
                nodes.insert(ch.node.id, (ch.node.parent_id, ch.node.name.clone(), ch.node.kind, ch.node.trashed));
            }
        }
        cursor = Some(page.cursor);
        if !page.has_more {
            break;
        }
    }
    let mut out = HashMap::new();
    'nodes: for (id, (_, _, kind, _)) in &nodes {
        if *id == root {
            continue;
        }
        let mut names = Vec::new();
        let mut at = *id;
        while at != root {
            let Some((parent, name, _, trashed)) = nodes.get(&at) else { continue 'nodes };
            if *trashed {
                continue 'nodes;
            }
            names.push(name.clone());
            let Some(p) = parent else { continue 'nodes };
            at = *p;
        }
        names.reverse();
        out.insert(format!("/{}", names.join("/")), *kind);
    }
    out
}

#[tokio::test]
async fn members_see_the_folder_mounted_and_act_by_their_role() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let bob = caller(s, "bob").await;
        let carol = caller(s, "carol").await;
        let dave = caller(s, "dave").await;
        put(s, &alice, "/Team/plan.txt", b"the plan", None).await.expect("put");
        put(s, &alice, "/Team/docs/a.txt", b"a document", None).await.expect("put");
        put(s, &alice, "/mine.txt", b"alice's own", None).await.expect("put");
        let before = s.stat(&alice, "/Team/plan.txt").await.expect("stat");

        let info = s.share_folder(&alice, "/Team", "bob", Role::Editor).await.expect("share");
        assert_eq!(info.owner, "alice");
        assert_eq!(info.role, Role::Owner);
        assert_eq!(info.path, "/Team");
        s.share_folder(&alice, "/Team", "carol", Role::Viewer).await.expect("share with carol");

        // Ids are kept: the owner's paths and ids are what they were.
        let after = s.stat(&alice, "/Team/plan.txt").await.expect("stat");
        assert_eq!(after.id, before.id);
        assert_eq!(after.rev, before.rev);

        // Each member has it at the top of their tree.
        let got = s.open_file(&bob, "/Team/plan.txt", None).await.expect("bob reads");
        assert_eq!(got.content_hash, before.content_hash.expect("hash"));
        let listed = s.list(&carol, "/Team", None, None).await.expect("carol lists").0;
        let names: Vec<&str> = listed.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, vec!["docs", "plan.txt"]);
        let mount = s.stat(&carol, "/Team").await.expect("mount");
        assert!(listed.iter().all(|n| n.parent_id == Some(mount.id)), "children hang below the mount");

        // An editor writes; the bytes count against the owner.
        let (alice_before, bob_before) = (used(s, &alice).await, used(s, &bob).await);
        put(s, &bob, "/Team/from-bob.txt", b"written by bob", None).await.expect("editor writes");
        assert_eq!(used(s, &alice).await, alice_before + 14);
        assert_eq!(used(s, &bob).await, bob_before);
        s.stat(&alice, "/Team/from-bob.txt").await.expect("the owner sees it");

        // A viewer reads but changes nothing, with a clear code.
        for err in [
            s.mkdir(&carol, "/Team/new", false).await.expect_err("mkdir"),
            s.delete(&carol, "/Team/plan.txt").await.expect_err("delete"),
            s.move_node(&carol, "/Team/plan.txt", "/Team/docs/plan.txt").await.expect_err("move"),
            put(s, &carol, "/Team/carol.txt", b"nope", None).await.expect_err("commit"),
            s.restore_version(&carol, "/Team/plan.txt", RevisionId(before.rev.expect("rev")))
                .await
                .expect_err("restore"),
        ] {
            assert_eq!(err.code, ErrorCode::ReadOnly, "{err}");
        }
        // Her mount is hers: she may rename it.
        s.move_node(&carol, "/Team", "/From Alice").await.expect("rename the mount");
        s.stat(&carol, "/From Alice/plan.txt").await.expect("through the new name");
        s.stat(&alice, "/Team/plan.txt").await.expect("nothing changed for the owner");

        // Someone else sees nothing of it, by path or by id.
        assert_eq!(s.stat(&dave, "/Team").await.expect_err("dave").code, ErrorCode::NotFound);
        assert_eq!(s.stat_id(&dave, NodeId(before.id)).await.expect_err("by id").code, ErrorCode::NotFound);
        let rev = RevisionId(before.rev.expect("rev"));
        assert_eq!(s.open_revision(&dave, rev).await.err().map(|e| e.code), Some(ErrorCode::NotFound));
        // Dedup privacy holds: dave is asked for the bytes of the shared file.
        let hash = ChunkHash::of(b"the plan");
        let up = s.begin_upload(&dave, &[ChunkRef { hash, size: 8 }]).await.expect("begin");
        assert_eq!(up.missing, vec![hash]);
        // A member may be told: they hold the file now.
        let up = s.begin_upload(&carol, &[ChunkRef { hash, size: 8 }]).await.expect("begin");
        assert!(up.missing.is_empty());
        s.read_chunk(&carol, &hash).await.expect("carol reads the chunk");
        assert_eq!(s.read_chunk(&dave, &hash).await.err().map(|e| e.code), Some(ErrorCode::NotFound));

        // Only the owner shares.
        let err = s.share_folder(&bob, "/Team", "dave", Role::Viewer).await.expect_err("editor shares");
        assert_eq!(err.code, ErrorCode::Forbidden);
        let listed = s.shares(&bob, None, true).await.expect("shared with bob");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].members.iter().map(|m| m.user.as_str()).collect::<Vec<_>>(), ["alice", "bob", "carol"]);
        assert!(s.shares(&alice, None, true).await.expect("alice").is_empty(), "alice owns it");
    }
}

#[tokio::test]
async fn each_member_builds_one_tree_from_the_journal() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let bob = caller(s, "bob").await;
        put(s, &alice, "/Team/docs/a.txt", b"a", None).await.expect("put");
        put(s, &bob, "/bob.txt", b"b", None).await.expect("put");
        put(s, &bob, "/Team/clash.txt", b"bob's own Team folder", None).await.expect("put");
        s.share_folder(&alice, "/Team", "bob", Role::Editor).await.expect("share");

        // Bob's own /Team keeps its name; the shared one is mounted beside it.
        let tree = tree_from_delta(s, &bob).await;
        let mut paths: Vec<&str> = tree.keys().map(String::as_str).collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "/Team",
                "/Team (shared)",
                "/Team (shared)/docs",
                "/Team (shared)/docs/a.txt",
                "/Team/clash.txt",
                "/bob.txt"
            ]
        );
        // The owner's tree is unchanged.
        let tree = tree_from_delta(s, &alice).await;
        let mut paths: Vec<&str> = tree.keys().map(String::as_str).collect();
        paths.sort();
        assert_eq!(paths, ["/Team", "/Team/docs", "/Team/docs/a.txt"]);

        // A change by one member reaches the other's delta below their own mount.
        let cursor = s.latest_cursor(&alice).await.expect("cursor");
        s.move_node(&bob, "/Team (shared)/docs/a.txt", "/Team (shared)/a.txt").await.expect("bob moves");
        let page = s.delta(&alice, Some(&cursor), None).await.expect("delta");
        let team = s.stat(&alice, "/Team").await.expect("mount");
        assert!(page.changes.iter().any(|c| c.kind == ChangeKind::Moved && c.node.parent_id == Some(team.id)));

        // Removed: bob's devices hear of the mount's end, and his tree loses it.
        let cursor = s.latest_cursor(&bob).await.expect("cursor");
        s.unshare(&alice, "/Team", "bob").await.expect("remove bob");
        let page = s.delta(&bob, Some(&cursor), None).await.expect("delta");
        assert!(page.changes.iter().any(|c| c.kind == ChangeKind::Deleted && c.node.name == "Team (shared)"));
        assert_eq!(s.stat(&bob, "/Team (shared)").await.expect_err("gone").code, ErrorCode::NotFound);
        let tree = tree_from_delta(s, &bob).await;
        assert!(tree.keys().all(|p| !p.starts_with("/Team (shared)")), "{tree:?}");
        // Nothing of the owner's was touched.
        s.stat(&alice, "/Team/a.txt").await.expect("the owner keeps everything");
    }
}

#[tokio::test]
async fn nesting_is_refused_and_leaving_keeps_the_folder() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let bob = caller(s, "bob").await;
        s.mkdir(&alice, "/Team/sub", true).await.expect("mkdir");
        s.mkdir(&alice, "/Outer", true).await.expect("mkdir");
        put(s, &alice, "/Team/sub/f.txt", b"f", None).await.expect("put");
        s.share_folder(&alice, "/Team", "bob", Role::Editor).await.expect("share");

        let inner = s.share_folder(&alice, "/Team/sub", "bob", Role::Viewer).await.expect_err("inside");
        assert_eq!(inner.code, ErrorCode::SharedFolder);
        s.move_node(&alice, "/Team", "/Outer/Team").await.expect("the owner moves the mount");
        let outer = s.share_folder(&alice, "/Outer", "bob", Role::Viewer).await.expect_err("holds one");
        assert_eq!(outer.code, ErrorCode::SharedFolder);
        let root = s.share_folder(&alice, "/", "bob", Role::Viewer).await.expect_err("root");
        assert_eq!(root.code, ErrorCode::RootImmutable);
        let owner = s.share_folder(&alice, "/Outer/Team", "bob", Role::Owner).await.expect_err("owner role");
        assert_eq!(owner.code, ErrorCode::BadRequest);
        // Its owner does not delete a shared folder, nor a folder holding one.
        assert_eq!(s.delete(&alice, "/Outer/Team").await.expect_err("delete").code, ErrorCode::SharedFolder);
        assert_eq!(s.delete(&alice, "/Outer").await.expect_err("delete").code, ErrorCode::SharedFolder);
        // A mount does not go into a shared folder.
        s.mkdir(&bob, "/Mine", false).await.expect("mkdir");
        let err = s.move_node(&bob, "/Mine", "/Team/Mine").await;
        assert!(err.is_ok(), "a plain folder moves in: {err:?}");
        let err = s.move_node(&alice, "/Outer/Team", "/Outer/Team/sub/Team").await.expect_err("into itself");
        assert!(matches!(err.code, ErrorCode::SharedFolder | ErrorCode::MoveIntoSelf), "{err}");

        // The owner cannot leave; a member can, and the folder stays.
        let err = s.leave_share(&alice, "/Outer/Team").await.expect_err("owner leaves");
        assert_eq!(err.code, ErrorCode::BadRequest);
        s.leave_share(&bob, "/Team").await.expect("bob leaves");
        assert_eq!(s.stat(&bob, "/Team").await.expect_err("gone").code, ErrorCode::NotFound);
        s.stat(&alice, "/Outer/Team/Mine").await.expect("what bob put there stays");
        assert!(s.shares(&bob, None, false).await.expect("none").is_empty());
        // A member (even a viewer) who deletes the shared folder from their tree leaves it.
        s.share_folder(&alice, "/Outer/Team", "bob", Role::Viewer).await.expect("share again");
        s.delete(&bob, "/Team").await.expect("bob deletes his mount");
        assert!(s.shares(&bob, None, false).await.expect("none").is_empty());
        assert!(s.trash_list(&bob).await.expect("trash").iter().all(|e| e.original_path != "/Team"));
        s.stat(&alice, "/Outer/Team/sub/f.txt").await.expect("nothing of the folder was touched");
    }
}

#[tokio::test]
async fn moves_between_a_home_and_a_shared_folder_keep_ids_and_move_the_quota() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let bob = caller(s, "bob").await;
        s.mkdir(&alice, "/Team", false).await.expect("mkdir");
        s.share_folder(&alice, "/Team", "bob", Role::Editor).await.expect("share");
        let data = vec![7u8; 5000];
        let file = put(s, &bob, "/report.bin", &data, None).await.expect("bob's own file");
        let bob_used = used(s, &bob).await;
        let alice_used = used(s, &alice).await;
        let cursor = s.latest_cursor(&alice).await.expect("cursor");

        let moved = s.move_node(&bob, "/report.bin", "/Team/report.bin").await.expect("into the shared folder");
        assert_eq!(moved.id, file.id, "the id is kept");
        assert_eq!(used(s, &bob).await, bob_used - 5000);
        assert_eq!(used(s, &alice).await, alice_used + 5000);
        // Alice holds it now: her devices hear of it, and may fetch its chunks.
        let page = s.delta(&alice, Some(&cursor), None).await.expect("delta");
        assert!(page.changes.iter().any(|c| c.node.id == file.id));
        s.read_chunk(&alice, &ChunkHash::of(&data)).await.expect("alice reads the chunk");
        let stat = s.stat_id(&alice, NodeId(file.id)).await.expect("by id");
        assert_eq!(stat.path.as_deref(), Some("/Team/report.bin"));

        // And out again, into alice's own space.
        s.move_node(&alice, "/Team/report.bin", "/kept.bin").await.expect("out");
        assert_eq!(used(s, &alice).await, alice_used + 5000);
        assert_eq!(s.stat(&bob, "/Team/report.bin").await.expect_err("gone for bob").code, ErrorCode::NotFound);
        assert_eq!(s.stat_id(&bob, NodeId(file.id)).await.expect_err("by id").code, ErrorCode::NotFound);

        // Trash in a shared folder goes back where it was, whoever restores it.
        put(s, &alice, "/Team/t.txt", b"trash me", None).await.expect("put");
        s.delete(&bob, "/Team/t.txt").await.expect("bob deletes");
        let trash = s.trash_list(&alice).await.expect("alice's trash");
        let entry = trash.iter().find(|e| e.original_path == "/Team/t.txt").expect("listed with alice's path");
        s.trash_restore(&bob, NodeId(entry.node.id)).await.expect("bob restores");
        s.stat(&alice, "/Team/t.txt").await.expect("back in place");
    }
}

#[tokio::test]
async fn comments_follow_roles_and_go_with_the_file() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let bob = caller(s, "bob").await;
        let carol = caller(s, "carol").await;
        let dave = caller(s, "dave").await;
        let file = put(s, &alice, "/Team/plan.txt", b"the plan", None).await.expect("put");
        s.share_folder(&alice, "/Team", "bob", Role::Commenter).await.expect("share");
        s.share_folder(&alice, "/Team", "carol", Role::Viewer).await.expect("share");
        let mut feed = s.change_feed(&carol).await.expect("feed");

        let first = s.add_comment(&alice, "/Team/plan.txt", "  Please review  ").await.expect("owner comments");
        assert_eq!((first.body.as_str(), first.author.as_str(), first.rev), ("Please review", "alice", file.rev));
        // Members hear of it on the notify channel.
        let event = tokio::time::timeout(std::time::Duration::from_secs(5), feed.next()).await.expect("in time");
        assert!(
            matches!(event, Ok(coffer_service::FeedEvent::Comment { comment, .. }) if comment.get() == first.id),
            "{event:?}"
        );
        let reply = s.add_comment(&bob, "/Team/plan.txt", "Looks good\nship it").await.expect("commenter");
        let err = s.add_comment(&carol, "/Team/plan.txt", "me too").await.expect_err("viewer");
        assert_eq!(err.code, ErrorCode::ReadOnly);
        for bad in ["", "   ", &"x".repeat(10_001), "a\u{0}b"] {
            let err = s.add_comment(&alice, "/Team/plan.txt", bad).await.expect_err("bad body");
            assert_eq!(err.code, ErrorCode::BadRequest);
        }
        let err = s.add_comment(&alice, "/Team", "on a folder").await.expect_err("folder");
        assert_eq!(err.code, ErrorCode::NotAFile);
        let (all, next) = s.comments(&carol, "/Team/plan.txt", None, None).await.expect("viewer reads");
        assert_eq!(all.iter().map(|c| c.author.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
        assert_eq!(next, None);
        let (page, next) = s.comments(&alice, "/Team/plan.txt", None, Some(1)).await.expect("page");
        assert_eq!((page.len(), next), (1, Some(first.id)));

        // Authors edit their own; nobody else does.
        let edited = s.edit_comment(&bob, coffer_core::CommentId(reply.id), "Looks good").await.expect("edit own");
        assert!(edited.edited_at.is_some());
        let err = s.edit_comment(&alice, coffer_core::CommentId(reply.id), "hijack").await.expect_err("not hers");
        assert_eq!(err.code, ErrorCode::Forbidden);
        // The file's owner deletes any; a commenter only their own; others see nothing.
        let err = s.delete_comment(&bob, coffer_core::CommentId(first.id)).await.expect_err("not his");
        assert_eq!(err.code, ErrorCode::Forbidden);
        let err = s.delete_comment(&dave, coffer_core::CommentId(first.id)).await.expect_err("stranger");
        assert_eq!(err.code, ErrorCode::NotFound);
        assert_eq!(
            s.comments(&dave, "/Team/plan.txt", None, None).await.expect_err("stranger").code,
            ErrorCode::NotFound
        );
        s.delete_comment(&alice, coffer_core::CommentId(reply.id)).await.expect("owner deletes bob's");

        // Purging the file removes its comments.
        s.delete(&alice, "/Team/plan.txt").await.expect("trash");
        s.trash_purge(&alice, Some(NodeId(file.id))).await.expect("purge");
        let err = s.edit_comment(&alice, coffer_core::CommentId(first.id), "gone?").await.expect_err("purged");
        assert_eq!(err.code, ErrorCode::NotFound);
    }
}

/// Uploads `data` as a new revision of file `id`, reached by id (a shared file).
async fn put_by_id(
    s: &Service,
    c: &Caller,
    id: i64,
    data: &[u8],
    parent_rev: Option<i64>,
) -> coffer_service::CommitOutcome {
    common::put_to(s, c, "/whatever.txt", Some(id), data, parent_rev).await
}

async fn content(s: &Service, c: &Caller, rev: i64) -> coffer_service::Result<Vec<u8>> {
    use futures::StreamExt;
    let stream = s.open_revision(c, RevisionId(rev)).await?;
    let size = stream.size;
    let mut out = Vec::new();
    let mut body = std::pin::pin!(stream.range(0, size));
    while let Some(piece) = body.next().await {
        out.extend_from_slice(&piece?);
    }
    Ok(out)
}

#[tokio::test]
async fn a_file_shared_with_one_user_is_reached_by_id_and_updated_by_an_editor() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let bob = caller(s, "bob").await;
        let carol = caller(s, "carol").await;
        let dave = caller(s, "dave").await;
        let file = put(s, &alice, "/Reports/q3.txt", b"quarter three", None).await.expect("put");
        put(s, &alice, "/Reports/other.txt", b"not shared", None).await.expect("put");
        let (id, rev) = (file.id, file.rev.expect("rev"));

        // Only files, only viewer or editor, only by whoever may share it.
        let err = s.share_file(&alice, "/Reports", "bob", Role::Viewer).await.expect_err("a folder");
        assert_eq!(err.code, ErrorCode::NotAFile);
        let err = s.share_file(&alice, "/Reports/q3.txt", "bob", Role::Commenter).await.expect_err("role");
        assert_eq!(err.code, ErrorCode::BadRequest);
        let err = s.share_file(&bob, "/Reports/q3.txt", "carol", Role::Viewer).await.expect_err("not bob's");
        assert_eq!(err.code, ErrorCode::NotFound);
        let info = s.share_file(&alice, "/Reports/q3.txt", "bob", Role::Editor).await.expect("share");
        assert_eq!((info.id, info.path.as_deref(), info.role), (id, Some("/Reports/q3.txt"), Role::Owner));
        s.share_file(&alice, "/Reports/q3.txt", "carol", Role::Viewer).await.expect("share");

        // Shared with me: listed with the owner, not placed in the tree, not synced.
        let mine = s.file_shares(&bob, true).await.expect("list");
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].owner.as_str(), mine[0].role, mine[0].path.as_deref()), ("alice", Role::Editor, None));
        assert_eq!(mine[0].members.len(), 1, "bob sees only himself");
        assert!(s.list(&bob, "/", None, None).await.expect("ls").0.is_empty());
        let delta = s.delta(&bob, None, None).await.expect("delta");
        assert!(delta.changes.iter().all(|c| c.node.id != id), "not in bob's journal");
        let by_alice = s.file_shares(&alice, false).await.expect("list");
        assert_eq!(by_alice.len(), 1);
        assert_eq!(by_alice[0].members.len(), 2);

        // Read by id: the file, its content, any revision; nothing beside it.
        assert_eq!(s.stat_id(&carol, NodeId(id)).await.expect("stat").name, "q3.txt");
        assert_eq!(content(s, &carol, rev).await.expect("read"), b"quarter three");
        let other = s.stat(&alice, "/Reports/other.txt").await.expect("stat");
        assert_eq!(s.stat_id(&carol, NodeId(other.id)).await.expect_err("not shared").code, ErrorCode::NotFound);
        let folder = s.stat(&alice, "/Reports").await.expect("stat");
        assert_eq!(s.stat_id(&carol, NodeId(folder.id)).await.expect_err("folder").code, ErrorCode::NotFound);
        assert_eq!(s.stat_id(&dave, NodeId(id)).await.expect_err("dave").code, ErrorCode::NotFound);

        // The editor updates it by id (a conflict if based on an old revision); the
        // viewer cannot; the owner sees the new version in place, on her quota.
        let updated = put_by_id(s, &bob, id, b"quarter three, revised", Some(rev)).await.expect("bob updates");
        assert_eq!((updated.id, updated.path.as_deref()), (id, None));
        let stale = put_by_id(s, &bob, id, b"from an old base", Some(rev)).await.expect_err("stale");
        assert_eq!(stale.code, ErrorCode::Conflict);
        let refused = put_by_id(s, &carol, id, b"carol was here", updated.rev).await.expect_err("viewer");
        assert_eq!(refused.code, ErrorCode::ReadOnly);
        let refused = put_by_id(s, &dave, id, b"dave was here", updated.rev).await.expect_err("stranger");
        assert_eq!(refused.code, ErrorCode::NotFound);
        let now = s.stat(&alice, "/Reports/q3.txt").await.expect("stat");
        assert_eq!(now.rev, updated.rev);
        assert_eq!(content(s, &carol, now.rev.expect("rev")).await.expect("read"), b"quarter three, revised");

        // In the trash, out of reach; restored, back.
        let trashed = s.delete(&alice, "/Reports").await.expect("trash");
        assert_eq!(s.stat_id(&bob, NodeId(id)).await.expect_err("trashed").code, ErrorCode::NotFound);
        assert!(s.file_shares(&bob, true).await.expect("list").is_empty());
        s.trash_restore(&alice, NodeId(trashed.id)).await.expect("restore");
        assert!(s.stat_id(&bob, NodeId(id)).await.is_ok());

        // Ending shares: a user leaves; the owner removes; others may not.
        let err = s.unshare_file(&bob, NodeId(id), "carol").await.expect_err("bob is no owner");
        assert_eq!(err.code, ErrorCode::Forbidden);
        assert_eq!(s.unshare_file(&dave, NodeId(id), "carol").await.expect_err("dave").code, ErrorCode::NotFound);
        s.unshare_file(&carol, NodeId(id), "carol").await.expect("carol leaves");
        assert_eq!(s.stat_id(&carol, NodeId(id)).await.expect_err("left").code, ErrorCode::NotFound);
        s.unshare_file(&alice, NodeId(id), "bob").await.expect("alice removes bob");
        assert!(s.file_shares(&bob, true).await.expect("list").is_empty());
        assert_eq!(put_by_id(s, &bob, id, b"too late", now.rev).await.expect_err("removed").code, ErrorCode::NotFound);

        // Purged: the share goes with the file.
        s.share_file(&alice, "/Reports/q3.txt", "bob", Role::Viewer).await.expect("share again");
        s.delete(&alice, "/Reports/q3.txt").await.expect("trash");
        s.trash_purge(&alice, None).await.expect("purge");
        assert!(s.file_shares(&alice, false).await.expect("list").is_empty());
    }
}

#[tokio::test]
async fn an_editor_puts_a_shared_folder_back_as_it_was_and_a_viewer_may_not() {
    for env in envs(ServiceConfig::default()).await {
        let s = &env.service;
        let alice = caller(s, "alice").await;
        let bob = caller(s, "bob").await;
        let carol = caller(s, "carol").await;
        put(s, &alice, "/Team/plan.txt", b"the plan", None).await.expect("put");
        put(s, &alice, "/Team/docs/a.txt", b"a document", None).await.expect("put");
        s.share_folder(&alice, "/Team", "bob", Role::Editor).await.expect("share");
        s.share_folder(&alice, "/Team", "carol", Role::Viewer).await.expect("share");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let moment =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;

        // Bob damages the folder: an edit, a delete, a rename, a new file.
        let plan = s.stat(&bob, "/Team/plan.txt").await.expect("stat");
        put(s, &bob, "/Team/plan.txt", b"scribbles", plan.rev).await.expect("edit");
        s.delete(&bob, "/Team/docs/a.txt").await.expect("delete");
        s.move_node(&bob, "/Team/docs", "/Team/old-docs").await.expect("rename");
        put(s, &bob, "/Team/junk.txt", b"junk", None).await.expect("new");

        let refused = s.restore_at(&carol, "/Team", moment, false).await.map_err(|e| e.code);
        assert_eq!(refused.err(), Some(ErrorCode::ReadOnly), "a viewer restores nothing");
        let dry = s.restore_at(&bob, "/Team", moment, true).await.expect("dry run");
        assert_eq!(dry.changes.len(), 4, "{:?}", dry.changes);
        assert!(s.stat(&alice, "/Team/junk.txt").await.is_ok(), "a dry run changes nothing");
        let done = s.restore_at(&bob, "/Team", moment, false).await.expect("restore");
        assert!(done.skipped.is_empty(), "{:?}", done.skipped);

        // Everyone sees the folder as it was.
        for who in [&alice, &bob, &carol] {
            let got = s.open_file(who, "/Team/plan.txt", None).await.expect("plan");
            assert_eq!(
                got.content_hash,
                s.stat(&alice, "/Team/plan.txt").await.expect("stat").content_hash.expect("hash")
            );
            assert!(s.stat(who, "/Team/docs/a.txt").await.is_ok());
            assert_eq!(s.stat(who, "/Team/junk.txt").await.map_err(|e| e.code).err(), Some(ErrorCode::NotFound));
            assert_eq!(s.stat(who, "/Team/old-docs").await.map_err(|e| e.code).err(), Some(ErrorCode::NotFound));
            let tree = tree_from_delta(s, who).await;
            assert!(tree.contains_key("/Team/docs/a.txt") && !tree.contains_key("/Team/junk.txt"), "{tree:?}");
        }
        assert_eq!(s.stat(&alice, "/Team/plan.txt").await.expect("stat").size, 8, "the plan's first bytes");
        // And the moment a namespace never saw: nothing was there.
        let before_time = s.restore_at(&bob, "/Team/nothing", moment, true).await.map_err(|e| e.code);
        assert_eq!(before_time.err(), Some(ErrorCode::NotFound));
        let future = s.restore_at(&bob, "/Team", i64::MAX, true).await.map_err(|e| e.code);
        assert_eq!(future.err(), Some(ErrorCode::BadRequest));
    }
}
