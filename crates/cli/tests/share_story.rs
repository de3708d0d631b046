//! Shared folders through the `coffer` binary as a user types it: share, list, write as
//! an editor, be refused as a viewer (exit code 4), remove and leave; on SQLite and
//! (when the test script provides one) PostgreSQL.

mod common;

use common::{Client, Server};

#[tokio::test(flavor = "multi_thread")]
async fn share_story_on_every_database() {
    common::on_every_database(story).await;
}

fn story(db: Option<String>) {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), db);
    for user in ["alice", "bob", "carol"] {
        server.add_user(user, &[]);
    }
    let alice = Client::login(&server, "alice");
    let bob = Client::login(&server, "bob");
    let carol = Client::login(&server, "carol");
    let work = tempfile::tempdir().expect("tempdir");
    let plan = work.path().join("plan.txt");
    std::fs::write(&plan, b"the plan\n").expect("write");
    let plan_s = plan.to_str().expect("utf8");
    alice.ok(&["mkdir", "/Team"]);
    alice.ok(&["put", plan_s, "/Team/"]);

    // Sharing needs a folder and a user.
    let usage = alice.run(&["share", "/Team"]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    let shared = alice.ok(&["share", "/Team", "--with", "bob", "--role", "editor", "--json"]).json();
    assert_eq!(shared["owner"], "alice");
    assert!(alice.ok(&["share", "/Team", "--with", "carol"]).stdout.contains("as viewer"));

    // Bob sees it in his own tree and writes to it; alice sees his file.
    assert!(bob.ok(&["ls", "/"]).stdout.contains("Team"));
    let got = bob.ok(&["get", "/Team/plan.txt", "-"]);
    assert_eq!(got.stdout, "the plan\n");
    let note = work.path().join("from-bob.txt");
    std::fs::write(&note, b"hello from bob\n").expect("write");
    bob.ok(&["put", note.to_str().expect("utf8"), "/Team/"]);
    assert_eq!(alice.ok(&["get", "/Team/from-bob.txt", "-"]).stdout, "hello from bob\n");

    // Carol may read, not write: exit code 4 and the stable code in JSON.
    assert_eq!(carol.ok(&["get", "/Team/plan.txt", "-"]).stdout, "the plan\n");
    let refused = carol.run(&["mkdir", "/Team/mine"]);
    assert_eq!(refused.code, 4, "{} {}", refused.stdout, refused.stderr);
    let refused = carol.run(&["--json", "rm", "/Team/plan.txt"]);
    assert_eq!(refused.code, 4);
    assert_eq!(refused.json()["error"]["code"], "read_only");
    // Only the owner shares further.
    let refused = bob.run(&["share", "/Team", "--with", "carol", "--role", "editor"]);
    assert_eq!(refused.code, 4, "{}", refused.stderr);

    // Listings.
    let mine = alice.ok(&["share", "ls", "--json"]).json();
    assert_eq!(mine.as_array().expect("array").len(), 1);
    let members: Vec<&str> =
        mine[0]["members"].as_array().expect("members").iter().filter_map(|m| m["user"].as_str()).collect();
    assert_eq!(members, ["alice", "bob", "carol"]);
    assert!(alice.ok(&["share", "ls", "--with-me", "--json"]).json().as_array().expect("array").is_empty());
    let with_bob = bob.ok(&["share", "ls", "--with-me"]).stdout;
    assert!(with_bob.contains("/Team") && with_bob.contains("owner: alice"), "{with_bob}");
    let members = bob.ok(&["share", "ls", "/Team/plan.txt"]).stdout;
    assert!(members.contains("viewer") && members.contains("carol"), "{members}");

    // Comments: bob (editor) comments, carol (viewer) may not, alice deletes bob's.
    let added = bob.ok(&["comment", "add", "/Team/plan.txt", "Looks good", "--json"]).json();
    let id = added["id"].as_i64().expect("id").to_string();
    assert_eq!(carol.run(&["comment", "add", "/Team/plan.txt", "me too"]).code, 4);
    let listed = carol.ok(&["comment", "ls", "/Team/plan.txt"]).stdout;
    assert!(listed.contains("bob") && listed.contains("Looks good"), "{listed}");
    assert_eq!(carol.run(&["comment", "rm", &id]).code, 4);
    alice.ok(&["comment", "rm", &id]);
    assert!(alice.ok(&["comment", "ls", "/Team/plan.txt", "--json"]).json().as_array().expect("array").is_empty());

    // Sharing again changes the role: carol, now an editor, may write; then back to viewer.
    alice.ok(&["share", "/Team", "--with", "carol", "--role", "editor"]);
    carol.ok(&["mkdir", "/Team/carol-was-here"]);
    alice.ok(&["share", "/Team", "--with", "carol", "--role", "viewer"]);
    assert_eq!(carol.run(&["mkdir", "/Team/again"]).code, 4);

    // A member renames their mount; a member leaves; the owner removes one.
    bob.ok(&["mv", "/Team", "/Alice's team"]);
    assert_eq!(bob.ok(&["get", "/Alice's team/plan.txt", "-"]).stdout, "the plan\n");
    carol.ok(&["share", "leave", "/Team"]);
    assert_eq!(carol.run(&["stat", "/Team"]).code, 1);
    alice.ok(&["share", "rm", "/Team", "--with", "bob"]);
    assert_eq!(bob.run(&["stat", "/Alice's team"]).code, 1);
    let left = alice.ok(&["share", "ls", "/Team", "--json"]).json();
    assert_eq!(left[0]["members"].as_array().expect("members").len(), 1, "only the owner is left");
    // Nothing of the owner's was lost.
    assert_eq!(alice.ok(&["get", "/Team/from-bob.txt", "-"]).stdout, "hello from bob\n");

    // One file shared with bob (editor) and carol (viewer): listed under "shared with
    // me" with its id, reached by it, updated by the editor only.
    let report = work.path().join("report.txt");
    std::fs::write(&report, b"draft 1\n").expect("write");
    alice.ok(&["put", report.to_str().expect("utf8"), "/report.txt"]);
    let shared = alice.ok(&["share", "/report.txt", "--with", "bob", "--role", "editor", "--json"]).json();
    let id = shared["id"].as_i64().expect("id").to_string();
    alice.ok(&["share", "/report.txt", "--with", "carol"]);
    let with_bob = bob.ok(&["share", "ls", "--with-me", "--json"]).json();
    let files: Vec<&serde_json::Value> =
        with_bob.as_array().expect("array").iter().filter(|e| e["type"] == "file").collect();
    assert_eq!(files.len(), 1, "{with_bob}");
    assert_eq!((files[0]["id"].to_string(), files[0]["owner"].as_str()), (id.clone(), Some("alice")));
    assert!(bob.ok(&["share", "ls", "--with-me"]).stdout.contains(&format!("file #{id}")));
    assert_eq!(bob.run(&["stat", "/report.txt"]).code, 1, "not placed in bob's tree");
    assert_eq!(bob.ok(&["share", "get", &id, "-"]).stdout, "draft 1\n");
    let edited = work.path().join("edited.txt");
    std::fs::write(&edited, b"draft 2 by bob\n").expect("write");
    bob.ok(&["share", "put", edited.to_str().expect("utf8"), &id]);
    assert_eq!(alice.ok(&["get", "/report.txt", "-"]).stdout, "draft 2 by bob\n");
    let refused = carol.run(&["share", "put", edited.to_str().expect("utf8"), &id]);
    assert_eq!(refused.code, 4, "a viewer's upload is refused: {} {}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("read_only"), "{}", refused.stderr);
    let got = work.path().join("got");
    std::fs::create_dir_all(&got).expect("mkdir");
    carol.ok(&["share", "get", &id, got.to_str().expect("utf8")]);
    assert_eq!(std::fs::read(got.join("report.txt")).expect("read"), b"draft 2 by bob\n");
    carol.ok(&["share", "leave", "--file", &id]);
    assert_eq!(carol.run(&["share", "get", &id, "-"]).code, 1);
    alice.ok(&["share", "rm", "/report.txt", "--with", "bob"]);
    assert_eq!(bob.run(&["share", "get", &id, "-"]).code, 1);
}
