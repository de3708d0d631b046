//! `coffer sync --once` over a shared folder, with the real binary and server: an
//! editor's changes flow both ways; a viewer's device sends nothing into the folder (its
//! edits are kept aside as conflicted copies in the viewer's own space, and the server's
//! version comes back); a member who deletes the folder on their device leaves it; a
//! removed member's device keeps its copy of the folder, renamed and no longer synced,
//! and `coffer status` says why; nothing of the owner's is lost.

mod common;

use std::fs;
use std::path::Path;

use common::{Client, Server, settle};

fn sync(c: &Client, dir: &Path) -> common::Output {
    if dir.exists() {
        settle(dir);
    }
    let out = c.run(&["sync", "--once", dir.to_str().expect("utf8")]);
    assert_eq!(out.code, 0, "sync failed:\n{}\n{}", out.stdout, out.stderr);
    out
}

fn read(path: impl AsRef<Path>) -> String {
    fs::read_to_string(path).expect("read")
}

#[test]
fn sync_follows_sharing_by_role() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), None);
    for user in ["alice", "bob", "carol"] {
        server.add_user(user, &[]);
    }
    let (alice, bob, carol) =
        (Client::login(&server, "alice"), Client::login(&server, "bob"), Client::login(&server, "carol"));
    let work = tempfile::tempdir().expect("tempdir");
    let (b, c) = (work.path().join("bob"), work.path().join("carol"));
    let plan = work.path().join("plan.txt");
    fs::write(&plan, "v1\n").expect("write");
    alice.ok(&["mkdir", "/Team"]);
    alice.ok(&["put", plan.to_str().expect("utf8"), "/Team/"]);
    alice.ok(&["share", "/Team", "--with", "bob", "--role", "editor"]);
    alice.ok(&["share", "/Team", "--with", "carol", "--role", "viewer"]);
    // Bob has files of his own too (a device whose whole account empties is stopped by the
    // wipe guard instead; see the README).
    let own = work.path().join("own.txt");
    fs::write(&own, "bob's own\n").expect("write");
    bob.ok(&["put", own.to_str().expect("utf8"), "/"]);
    sync(&bob, &b);
    sync(&carol, &c);
    assert_eq!(read(b.join("Team/plan.txt")), "v1\n");
    assert_eq!(read(c.join("Team/plan.txt")), "v1\n");

    // The editor's changes reach the owner and the viewer.
    fs::write(b.join("Team/plan.txt"), "v2 by bob\n").expect("write");
    fs::write(b.join("Team/notes.txt"), "bob's notes\n").expect("write");
    sync(&bob, &b);
    assert_eq!(alice.ok(&["get", "/Team/plan.txt", "-"]).stdout, "v2 by bob\n");
    sync(&carol, &c);
    assert_eq!(read(c.join("Team/notes.txt")), "bob's notes\n");

    // The viewer's device sends nothing into the folder.
    fs::write(c.join("Team/plan.txt"), "carol's edit\n").expect("write");
    fs::write(c.join("Team/mine.txt"), "carol's file\n").expect("write");
    fs::remove_file(c.join("Team/notes.txt")).expect("rm");
    sync(&carol, &c);
    assert_eq!(alice.ok(&["get", "/Team/plan.txt", "-"]).stdout, "v2 by bob\n", "the owner's file is untouched");
    assert_eq!(alice.run(&["stat", "/Team/mine.txt"]).code, 1, "nothing was added to the shared folder");
    assert_eq!(read(c.join("Team/plan.txt")), "v2 by bob\n", "the server's version came back");
    assert_eq!(read(c.join("Team/notes.txt")), "bob's notes\n", "the deleted file came back");
    let copies: Vec<String> = fs::read_dir(&c)
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("conflicted copy"))
        .collect();
    assert_eq!(copies.len(), 2, "{copies:?}");
    let kept: Vec<String> = copies.iter().map(|n| read(c.join(n))).collect();
    assert!(kept.contains(&"carol's edit\n".to_string()) && kept.contains(&"carol's file\n".to_string()));
    let status = carol.ok(&["status", c.to_str().expect("utf8")]).stdout;
    assert!(status.contains("up to date") && status.contains("conflicted copy"), "{status}");
    // The copies are in carol's own space on the server, and a second sync has nothing to do.
    let listed = carol.ok(&["ls", "/"]).stdout;
    assert_eq!(listed.matches("conflicted copy").count(), 2, "{listed}");
    let again = sync(&carol, &c);
    assert!(again.stdout.contains("0 up, 0 down"), "{}", again.stdout);

    // A member who deletes the shared folder on their device leaves it; nothing in it is
    // deleted for the others.
    fs::remove_dir_all(c.join("Team")).expect("rm -r");
    sync(&carol, &c);
    assert!(carol.ok(&["share", "ls", "--json"]).json().as_array().expect("array").is_empty(), "carol left");
    assert_eq!(alice.ok(&["get", "/Team/notes.txt", "-"]).stdout, "bob's notes\n");
    assert!(alice.ok(&["trash", "ls"]).stdout.is_empty(), "nothing was trashed");

    // Removed: bob's device keeps its copy (with what it changed and had not synced),
    // renamed out of the way and no longer synced; `coffer status` says why.
    fs::write(b.join("Team/notes.txt"), "bob's unsynced edit\n").expect("write");
    alice.ok(&["share", "rm", "/Team", "--with", "bob"]);
    sync(&bob, &b);
    assert!(!b.join("Team").exists(), "the shared folder's path is free");
    let kept = b.join("Team (no longer shared)");
    assert_eq!(read(kept.join("notes.txt")), "bob's unsynced edit\n");
    assert_eq!(read(kept.join("plan.txt")), "v2 by bob\n");
    assert_eq!(bob.run(&["stat", "/Team (no longer shared)"]).code, 1, "not uploaded to bob's own space");
    let status = bob.ok(&["status", b.to_str().expect("utf8")]).stdout;
    assert!(status.contains("kept, not synced: /Team (no longer shared): no longer shared with you"), "{status}");
    let again = sync(&bob, &b);
    assert!(again.stdout.contains("0 up, 0 down"), "{}", again.stdout);
    assert_eq!(alice.ok(&["get", "/Team/notes.txt", "-"]).stdout, "bob's notes\n", "the owner keeps the folder");
    assert_eq!(alice.ok(&["get", "/Team/plan.txt", "-"]).stdout, "v2 by bob\n");
    // Moved out of the detached folder, a file is bob's own and syncs like any other.
    fs::rename(kept.join("notes.txt"), b.join("my notes.txt")).expect("move out");
    sync(&bob, &b);
    assert_eq!(bob.ok(&["get", "/my notes.txt", "-"]).stdout, "bob's unsynced edit\n");
    // Deleted, it is forgotten.
    fs::remove_dir_all(&kept).expect("rm -r");
    sync(&bob, &b);
    let status = bob.ok(&["status", b.to_str().expect("utf8")]).stdout;
    assert!(!status.contains("kept, not synced"), "{status}");
}
