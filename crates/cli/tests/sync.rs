//! `coffer sync --once` between two devices through a real server: new files and
//! folders travel both ways, an edit on one side reaches the other, edits on both sides
//! keep both versions, a delete propagates, and an emptied folder is never synced as
//! deletes.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{Client, Server, settle};

/// A server with one user, two devices signed in to it, and a folder for each.
struct Devices {
    _data: tempfile::TempDir,
    _server: Server,
    laptop: Client,
    phone: Client,
    _work: tempfile::TempDir,
    a: PathBuf,
    b: PathBuf,
}

fn two_devices() -> Devices {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let laptop = Client::login(&server, "alice");
    let phone = Client::login(&server, "alice");
    let work = tempfile::tempdir().expect("tempdir");
    let (a, b) = (work.path().join("a"), work.path().join("b"));
    Devices { _data: data, _server: server, laptop, phone, _work: work, a, b }
}

fn sync(c: &Client, dir: &Path) -> common::Output {
    let out = c.run(&["sync", "--once", dir.to_str().expect("utf8")]);
    assert_eq!(out.code, 0, "sync failed:\n{}\n{}", out.stdout, out.stderr);
    out
}

/// Paths with a short digest of the content (readable when an assertion fails).
fn files_of(dir: &Path) -> Vec<(String, String)> {
    common::local_tree(dir).into_iter().map(|(p, b)| (p, blake3::hash(&b).to_hex()[..12].to_string())).collect()
}

#[test]
fn two_devices_stay_in_sync() {
    let d = two_devices();
    let (laptop, phone, a, b) = (&d.laptop, &d.phone, &d.a, &d.b);

    // New files and folders travel from A to B.
    fs::create_dir_all(a.join("docs/empty")).expect("mkdir");
    fs::write(a.join("docs/report.txt"), b"first draft\n").expect("write");
    fs::write(a.join("big.bin"), common::random_bytes(5 * 1024 * 1024 + 7, 3)).expect("write");
    fs::write(a.join("~$lock.docx"), b"office lock file").expect("write");
    settle(a);
    let before = files_of(a);
    sync(laptop, a);
    assert_eq!(files_of(a), before, "syncing never changes a folder that is ahead");
    sync(phone, b);
    let on_b = files_of(b);
    assert_eq!(files_of(a), on_b);
    assert!(!b.join("~$lock.docx").exists(), "ignored files stay local");

    // Files written just before `--once` are waited for until they settle, then synced:
    // never taken for deleted, never left pending.
    fs::write(b.join("docs/report.txt"), b"half writ").expect("write");
    fs::write(b.join("fresh.txt"), b"just created").expect("write");
    sync(phone, b);
    assert_eq!(phone.ok(&["get", "/docs/report.txt", "-"]).stdout, "half writ");
    assert_eq!(phone.ok(&["get", "/fresh.txt", "-"]).stdout, "just created", "--once waited, then uploaded it");
    fs::remove_file(b.join("fresh.txt")).expect("rm");

    // An edit on B reaches A.
    fs::write(b.join("docs/report.txt"), b"second draft\n").expect("write");
    settle(b);
    sync(phone, b);
    sync(laptop, a);
    assert_eq!(fs::read(a.join("docs/report.txt")).expect("read"), b"second draft\n");

    // Both edit the same file offline: both versions are kept, on both devices.
    fs::write(a.join("docs/report.txt"), b"laptop's version\n").expect("write");
    fs::write(b.join("docs/report.txt"), b"phone's version\n").expect("write");
    settle(a);
    settle(b);
    sync(laptop, a);
    let out = sync(phone, b);
    assert!(out.stdout.contains("1 conflicts"), "{}", out.stdout);
    sync(laptop, a);
    sync(phone, b);
    assert_eq!(files_of(a), files_of(b));
    let contents: Vec<Vec<u8>> =
        common::local_tree(b).into_iter().filter(|(p, _)| p.starts_with("docs/report")).map(|(_, c)| c).collect();
    assert!(contents.contains(&b"laptop's version\n".to_vec()), "{contents:?}");
    assert!(contents.contains(&b"phone's version\n".to_vec()), "{contents:?}");

    // A folder ignored after it was synced stays on the server (and on the other
    // device): ignoring is not deleting.
    fs::write(a.join(".cofferignore"), "/docs/\n").expect("write");
    settle(a);
    sync(laptop, a);
    assert_eq!(laptop.run(&["stat", "/docs/report.txt"]).code, 0);
    assert_eq!(laptop.run(&["stat", "/docs/empty"]).code, 0);
    fs::remove_file(a.join(".cofferignore")).expect("rm");
    sync(laptop, a);
    sync(phone, b);

    // B edits and syncs first; A, not yet aware, deletes the same file: the edit wins
    // and comes back to A.
    let edited = b.join("docs/report.txt");
    fs::write(&edited, b"phone's later edit\n").expect("write");
    settle(b);
    sync(phone, b);
    fs::remove_file(a.join("docs/report.txt")).expect("rm");
    sync(laptop, a);
    assert_eq!(fs::read(a.join("docs/report.txt")).expect("came back"), b"phone's later edit\n");

    // A delete on A reaches B (into the server's trash, not lost).
    fs::remove_file(a.join("big.bin")).expect("rm");
    sync(laptop, a);
    sync(phone, b);
    assert!(!b.join("big.bin").exists());
    let trash = laptop.ok(&["trash", "ls", "--json"]).json();
    assert_eq!(trash.as_array().expect("a")[0]["original_path"], "/big.bin");

    // An emptied folder is refused as a whole, and the server keeps everything.
    for e in fs::read_dir(a).expect("ls").flatten() {
        if e.file_name() != ".coffer" {
            let p = e.path();
            if p.is_dir() { fs::remove_dir_all(p).expect("rm -r") } else { fs::remove_file(p).expect("rm") }
        }
    }
    let refused = laptop.run(&["sync", "--once", a.to_str().expect("utf8")]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("is empty"), "{}", refused.stderr);
    assert!(laptop.run(&["stat", "/docs/report.txt"]).code == 0);
}

/// A script writes files and runs `sync --once` at once: the files are still "being
/// written" for the scan, and `--once` waits for them rather than returning with them
/// pending.
#[test]
fn once_waits_for_files_just_written() {
    let d = two_devices();
    fs::create_dir_all(&d.a).expect("mkdir");
    fs::write(d.a.join("fresh.txt"), b"written a moment ago\n").expect("write");
    fs::create_dir_all(d.a.join("docs")).expect("mkdir");
    fs::write(d.a.join("docs/also.txt"), b"and this\n").expect("write");
    let out = sync(&d.laptop, &d.a);
    assert!(out.stdout.contains("synced: 2 up"), "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("not synced"), "{}", out.stderr);
    assert_eq!(d.phone.ok(&["get", "/fresh.txt", "-"]).stdout, "written a moment ago\n");
    assert_eq!(d.phone.ok(&["get", "/docs/also.txt", "-"]).stdout, "and this\n");
}

#[test]
fn a_sync_killed_mid_transfer_resumes_and_leaves_no_partial_file() {
    let d = two_devices();
    let (laptop, phone, a, b) = (&d.laptop, &d.phone, &d.a, &d.b);
    fs::create_dir_all(a).expect("mkdir");
    let big = common::random_bytes(48 * 1024 * 1024, 11);
    fs::write(a.join("big.bin"), &big).expect("write");
    settle(a);

    let kill_after = |c: &Client, dir: &Path, ms: u64| {
        let mut child = std::process::Command::new(common::bin())
            .args(["sync", "--once", dir.to_str().expect("utf8")])
            .env("COFFER_CONFIG_DIR", c.config.path())
            .env("COFFER_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn sync");
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = child.kill();
        let _ = child.wait();
    };
    // Killed during the upload, then run again to the end.
    kill_after(laptop, a, 400);
    sync(laptop, a);
    assert_eq!(fs::read(a.join("big.bin")).expect("still there"), big, "the source is never touched");
    // Killed during the download: the target is absent or whole, never partial.
    fs::create_dir_all(b).expect("mkdir");
    kill_after(phone, b, 300);
    if let Ok(partial) = fs::read(b.join("big.bin")) {
        assert_eq!(partial, big, "a partial file was put in place");
    }
    sync(phone, b);
    assert_eq!(fs::read(b.join("big.bin")).expect("synced"), big);
    assert_eq!(fs::read_dir(b.join(".coffer/tmp")).expect("tmp").count(), 0, "interrupted downloads are cleaned up");
}

#[test]
fn renames_and_moves_travel_as_moves() {
    use std::os::unix::fs::MetadataExt;
    let d = two_devices();
    let (laptop, phone, a, b) = (&d.laptop, &d.phone, &d.a, &d.b);
    fs::create_dir_all(a.join("Docs/deep")).expect("mkdir");
    for (i, name) in ["one.txt", "two.txt", "deep/three.txt"].iter().enumerate() {
        fs::write(a.join("Docs").join(name), format!("file {i}\n").repeat(1000)).expect("write");
    }
    fs::write(a.join("notes.txt"), b"notes\n").expect("write");
    settle(a);
    sync(laptop, a);
    sync(phone, b);
    let id_of = |path: &str| laptop.ok(&["stat", path, "--json"]).json()["id"].as_i64().expect("id");
    let (docs_id, one_id, notes_id) = (id_of("/Docs"), id_of("/Docs/one.txt"), id_of("/notes.txt"));
    let inode_on_b = fs::metadata(b.join("Docs/deep/three.txt")).expect("on b").ino();

    // On A: a folder renamed, a file moved out of it, a case-only rename.
    fs::rename(a.join("Docs"), a.join("Papers")).expect("rename folder");
    fs::rename(a.join("Papers/one.txt"), a.join("one.txt")).expect("move file");
    fs::rename(a.join("notes.txt"), a.join("Notes.txt")).expect("case-only rename");
    let out = sync(laptop, a);
    let trash = laptop.ok(&["trash", "ls", "--json"]).stdout;
    assert!(out.stdout.contains("0 up"), "moves upload nothing: {}\n{trash}", out.stdout);
    assert_eq!(id_of("/Papers"), docs_id, "the folder was moved, not re-created");
    assert_eq!(id_of("/one.txt"), one_id, "the file was moved, not re-uploaded");
    assert_eq!(id_of("/Notes.txt"), notes_id);
    let listed = laptop.ok(&["ls", "/", "--json"]).json();
    let names: Vec<&str> = listed.as_array().expect("list").iter().filter_map(|n| n["name"].as_str()).collect();
    assert!(names.contains(&"Notes.txt") && !names.contains(&"notes.txt"), "{names:?}");
    assert!(laptop.ok(&["trash", "ls", "--json"]).json().as_array().expect("trash").is_empty(), "nothing deleted");

    // B follows with local moves: the same files, not downloaded again.
    let out = sync(phone, b);
    assert!(out.stdout.contains("0 down"), "moves download nothing: {}", out.stdout);
    assert_eq!(files_of(a), files_of(b));
    assert_eq!(fs::metadata(b.join("Papers/deep/three.txt")).expect("moved on b").ino(), inode_on_b);
    assert!(b.join("Notes.txt").exists() && !b.join("notes.txt").exists());

    // And back: B moves a folder into another one.
    fs::create_dir_all(b.join("Archive")).expect("mkdir");
    fs::rename(b.join("Papers"), b.join("Archive/Papers")).expect("move folder");
    sync(phone, b);
    sync(laptop, a);
    assert_eq!(files_of(a), files_of(b));
    assert_eq!(id_of("/Archive/Papers"), docs_id);
}

#[test]
fn text_edits_on_both_sides_are_merged() {
    let d = two_devices();
    let (laptop, phone, a, b) = (&d.laptop, &d.phone, &d.a, &d.b);
    fs::create_dir_all(a).expect("mkdir");
    let lines: Vec<String> = (1..=20).map(|i| format!("line {i}\n")).collect();
    fs::write(a.join("notes.md"), lines.concat()).expect("write");
    fs::write(a.join("data.bin"), [0u8, 1, 2, 3]).expect("write");
    settle(a);
    sync(laptop, a);
    sync(phone, b);

    // Edits in different places of a text file: merged, no conflicted copy.
    let mut on_a = lines.clone();
    on_a[1] = "line 2, edited on the laptop\n".into();
    let mut on_b = lines.clone();
    on_b[17] = "line 18, edited on the phone\n".into();
    fs::write(a.join("notes.md"), on_a.concat()).expect("write");
    fs::write(b.join("notes.md"), on_b.concat()).expect("write");
    // A binary file edited on both sides is never merged: both versions are kept.
    fs::write(a.join("data.bin"), [0u8, 9, 2, 3]).expect("write");
    fs::write(b.join("data.bin"), [0u8, 1, 2, 9]).expect("write");
    settle(a);
    settle(b);
    sync(laptop, a);
    let out = sync(phone, b);
    assert!(out.stdout.contains("1 merged, 1 conflicts"), "{}", out.stdout);
    sync(laptop, a);
    let mut merged = lines.clone();
    merged[1] = on_a[1].clone();
    merged[17] = on_b[17].clone();
    for dir in [&a, &b] {
        assert_eq!(fs::read_to_string(dir.join("notes.md")).expect("read"), merged.concat());
    }
    assert_eq!(files_of(a), files_of(b));
    assert_eq!(files_of(a).iter().filter(|(p, _)| p.starts_with("data")).count(), 2, "both binaries kept");
    // The phone's own version is kept in the history, under the merged one.
    let versions = phone.ok(&["versions", "ls", "/notes.md", "--json"]).json();
    let sizes: Vec<u64> = versions.as_array().expect("versions").iter().filter_map(|v| v["size"].as_u64()).collect();
    assert!(sizes.contains(&(on_b.concat().len() as u64)), "{versions}");
    assert_eq!(sizes.len(), 4, "first, laptop's, phone's, merged: {versions}");
}

#[test]
fn selective_sync_and_status() {
    let d = two_devices();
    let (laptop, phone, a, b) = (&d.laptop, &d.phone, &d.a, &d.b);
    fs::create_dir_all(a.join("Photos")).expect("mkdir");
    fs::create_dir_all(a.join("Docs")).expect("mkdir");
    fs::write(a.join("Photos/one.jpg"), common::random_bytes(300_000, 1)).expect("write");
    fs::write(a.join("Photos/two.jpg"), common::random_bytes(200_000, 2)).expect("write");
    fs::write(a.join("Docs/plan.txt"), b"plan\n").expect("write");
    settle(a);
    sync(laptop, a);
    let a_str = a.to_str().expect("utf8");

    // Status: up to date; then a new file waits to be uploaded.
    let st = laptop.ok(&["status", a_str, "--json"]).json();
    assert_eq!(st["up_to_date"], true, "{st}");
    assert!(st["last_sync_at"].is_i64() && st["last_error"].is_null(), "{st}");
    fs::write(a.join("Docs/new.txt"), b"new\n").expect("write");
    settle(a);
    let st = laptop.ok(&["status", a_str, "--json"]).json();
    assert_eq!((st["up_to_date"].as_bool(), st["to_upload"].as_u64()), (Some(false), Some(1)), "{st}");
    sync(laptop, a);
    let text = laptop.ok(&["status"]).stdout;
    assert!(text.contains("up to date"), "status defaults to the folder last synced: {text}");

    // The phone leaves /Photos out: its synced copies go, the server keeps them, a file
    // made there locally and never synced stays.
    sync(phone, b);
    assert!(b.join("Photos/one.jpg").exists());
    phone.ok(&["sync", "exclude", "add", "/Photos"]);
    fs::write(b.join("Photos/mine.txt"), b"only on the phone\n").expect("write");
    settle(b);
    sync(phone, b);
    assert!(!b.join("Photos/one.jpg").exists() && !b.join("Photos/two.jpg").exists());
    assert_eq!(fs::read(b.join("Photos/mine.txt")).expect("kept"), b"only on the phone\n");
    assert_eq!(phone.run(&["stat", "/Photos/one.jpg"]).code, 0, "never deleted on the server");
    assert_ne!(phone.run(&["stat", "/Photos/mine.txt"]).code, 0, "nothing uploaded from an excluded folder");
    assert!(b.join("Docs/new.txt").exists(), "the rest still syncs");
    // New files there are not downloaded either.
    fs::write(a.join("Photos/three.jpg"), common::random_bytes(100_000, 3)).expect("write");
    settle(a);
    sync(laptop, a);
    sync(phone, b);
    assert!(!b.join("Photos/three.jpg").exists());
    let listed = phone.ok(&["sync", "exclude", "ls", "--json"]).json();
    assert_eq!(listed["excluded"], serde_json::json!(["/Photos"]));
    let st = phone.ok(&["status", "--json"]).json();
    assert_eq!(st["excluded"], serde_json::json!(["/Photos"]));
    assert_eq!(st["up_to_date"], true, "{st}");
    assert_ne!(phone.run(&["sync", "exclude", "rm", "/Nope"]).code, 0);

    // Included again: everything comes back, and the local file goes up.
    phone.ok(&["sync", "exclude", "rm", "/photos"]);
    sync(phone, b);
    sync(laptop, a);
    for name in ["one.jpg", "two.jpg", "three.jpg", "mine.txt"] {
        assert!(b.join("Photos").join(name).exists() && a.join("Photos").join(name).exists(), "{name}");
    }
    assert_eq!(files_of(a), files_of(b));

    // `coffer sync DIR --exclude PATH` does the same, and is remembered.
    phone.ok(&["sync", "--once", "--exclude", "/Docs", b.to_str().expect("utf8")]);
    assert!(!b.join("Docs/plan.txt").exists());
    assert_eq!(phone.run(&["stat", "/Docs/plan.txt"]).code, 0);
    let listed = phone.ok(&["sync", "exclude", "ls", "--json"]).json();
    assert_eq!(listed["excluded"], serde_json::json!(["/Docs"]));
    assert_ne!(phone.run(&["sync", "exclude", "add", "/"]).code, 0, "the root cannot be excluded");
    assert_ne!(phone.run(&["sync", "--once", "--exclude", "../x", b.to_str().expect("utf8")]).code, 0);
}

#[test]
fn an_edit_moves_only_the_chunks_that_changed_both_ways() {
    let d = two_devices();
    let (laptop, phone, a, b) = (&d.laptop, &d.phone, &d.a, &d.b);
    fs::create_dir_all(a).expect("mkdir");
    let mut bytes = common::random_bytes(48 << 20, 21);
    fs::write(a.join("video.bin"), &bytes).expect("write");
    settle(a);
    sync(laptop, a);
    sync(phone, b);
    // One byte inserted at the start: a few chunks change, the rest are found again.
    bytes.insert(0, b'!');
    fs::write(a.join("video.bin"), &bytes).expect("write");
    settle(a);
    let json = |c: &Client, dir: &Path| c.ok(&["sync", "--once", "--json", dir.to_str().expect("utf8")]).json();
    let up = json(laptop, a);
    let down = json(phone, b);
    assert_eq!(fs::read(b.join("video.bin")).expect("synced"), bytes);
    let (sent, fetched, reused) = (up["bytes_up"].as_u64(), down["bytes_down"].as_u64(), down["bytes_reused"].as_u64());
    assert!(sent.is_some_and(|n| n > 0 && n <= 8 << 20), "sent {sent:?} of 48 MiB: {up}");
    assert!(fetched.is_some_and(|n| n <= 8 << 20), "fetched {fetched:?} of 48 MiB: {down}");
    assert_eq!(fetched.unwrap_or(0) + reused.unwrap_or(0), bytes.len() as u64, "{down}");
}
