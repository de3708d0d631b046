//! Sync that cannot destroy, with the real binary and server: the mass-delete brake
//! holds a pass's deletions (made on a device, or arriving from the server) while the
//! rest syncs, until someone confirms them or brings the files back.

mod common;

use std::fs;
use std::path::Path;

use common::{Client, Output, Server, local_tree, settle};

fn sync(c: &Client, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["sync", "--once", dir.to_str().expect("utf8")];
    args.extend_from_slice(extra);
    c.run(&args)
}

fn dir_arg(dir: &Path) -> &str {
    dir.to_str().expect("utf8")
}

/// A server, one user with two devices, and a folder for each (`a`, `b`).
struct Devices {
    _data: tempfile::TempDir,
    _server: Server,
    laptop: Client,
    phone: Client,
    work: tempfile::TempDir,
    a: std::path::PathBuf,
    b: std::path::PathBuf,
}

impl Devices {
    fn new() -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let server = Server::start(data.path(), None);
        server.add_user("alice", &[]);
        let (laptop, phone) = (Client::login(&server, "alice"), Client::login(&server, "alice"));
        let work = tempfile::tempdir().expect("tempdir");
        let (a, b) = (work.path().join("a"), work.path().join("b"));
        Devices { _data: data, _server: server, laptop, phone, work, a, b }
    }
}

fn file_count(c: &Client, remote: &str) -> usize {
    c.ok(&["ls", "--json", remote]).json().as_array().map_or(0, Vec::len)
}

#[test]
fn mass_deletions_are_held_both_ways_until_confirmed_or_undone() {
    let d = Devices::new();
    let (laptop, phone, a, b) = (&d.laptop, &d.phone, d.a.clone(), d.b.clone());
    fs::create_dir_all(a.join("Photos")).expect("mkdir");
    for i in 0..100 {
        fs::write(a.join(format!("Photos/p{i:03}.jpg")), format!("photo {i}")).expect("write");
    }
    fs::write(a.join("keep.txt"), b"kept").expect("write");
    settle(&a);
    assert_eq!(sync(laptop, &a, &[]).code, 0);
    assert_eq!(sync(phone, &b, &[]).code, 0);
    let full = local_tree(&a);

    // 70 of 101 files deleted on the laptop, and one file added: the new file goes up,
    // the deletions wait, and the exit code says something is pending.
    for i in 0..70 {
        fs::remove_file(a.join(format!("Photos/p{i:03}.jpg"))).expect("rm");
    }
    fs::write(a.join("new.txt"), b"new").expect("write");
    settle(&a);
    let out = sync(laptop, &a, &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("mass deletion held: 70 file(s) deleted on this device"), "{}", out.stderr);
    assert_eq!(file_count(laptop, "/Photos"), 100, "nothing was deleted on the server");
    assert_eq!(laptop.ok(&["get", "/new.txt", "-"]).stdout, "new", "the rest synced");
    let status = laptop.ok(&["status", dir_arg(&a), "--json"]).json();
    assert_eq!(status["up_to_date"], false);
    assert_eq!(status["held_deletes"].as_array().map(Vec::len), Some(70), "{status:#}");
    let text = laptop.ok(&["status", dir_arg(&a)]).stdout;
    assert!(text.contains("held deletion: /Photos/p000.jpg: deleted here, held from the server"), "{text}");

    // Undo: the files come back to the laptop from the server.
    let undo = laptop.ok(&["sync", "undo-deletes", dir_arg(&a)]);
    assert!(undo.stdout.contains("70 item(s) will be brought back"), "{}", undo.stdout);
    assert_eq!(sync(laptop, &a, &[]).code, 0);
    let mut expected = full.clone();
    expected.push(("new.txt".into(), b"new".to_vec()));
    expected.sort();
    assert_eq!(local_tree(&a), expected, "every photo is back on the laptop");

    // Deleted again, and confirmed: the server deletes them (to its trash).
    for i in 0..70 {
        fs::remove_file(a.join(format!("Photos/p{i:03}.jpg"))).expect("rm");
    }
    assert_eq!(sync(laptop, &a, &[]).code, 1);
    laptop.ok(&["sync", "confirm-deletes", dir_arg(&a)]);
    assert_eq!(sync(laptop, &a, &[]).code, 0);
    assert_eq!(file_count(laptop, "/Photos"), 30);
    assert_eq!(laptop.ok(&["status", dir_arg(&a), "--json"]).json()["up_to_date"], true);

    // The same brake on the phone, for deletions arriving from the server: its files
    // stay until it confirms.
    let out = sync(phone, &b, &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("70 file(s) deleted on the server not deleted here"), "{}", out.stderr);
    assert!(b.join("Photos/p000.jpg").exists() && b.join("new.txt").exists());
    phone.ok(&["sync", "confirm-deletes", dir_arg(&b)]);
    assert_eq!(sync(phone, &b, &[]).code, 0);
    assert_eq!(local_tree(&a), local_tree(&b));

    // Thresholds are the user's: a lower limit holds a smaller deletion.
    for i in 70..100 {
        fs::remove_file(a.join(format!("Photos/p{i:03}.jpg"))).expect("rm");
    }
    assert_eq!(sync(laptop, &a, &["--max-deletes", "10"]).code, 1);
    assert_eq!(file_count(laptop, "/Photos"), 30);
    let out = sync(laptop, &a, &[]);
    assert_eq!(out.code, 0, "30 files are below the default limit: {}", out.stderr);
    assert_eq!(file_count(laptop, "/Photos"), 0);
    let out = sync(phone, &b, &["--max-delete-percent", "101"]);
    assert_eq!(out.code, 2, "a share above 100 % is a usage error: {}", out.stderr);
}

#[test]
fn a_folder_moved_away_replaced_or_gone_is_never_synced_as_deletes() {
    let d = Devices::new();
    let (laptop, phone, work, a, b) = (&d.laptop, &d.phone, d.work.path(), d.a.clone(), d.b.clone());
    fs::create_dir_all(a.join("docs")).expect("mkdir");
    for i in 0..10 {
        fs::write(a.join(format!("docs/n{i}.txt")), format!("note {i}")).expect("write");
    }
    settle(&a);
    assert_eq!(sync(laptop, &a, &[]).code, 0);
    assert_eq!(sync(phone, &b, &[]).code, 0);
    let full = local_tree(&a);

    // Replaced by an empty folder (a disk not mounted leaves one): refused, and said.
    fs::rename(&a, work.join("a-moved")).expect("mv");
    fs::create_dir(&a).expect("mkdir");
    let out = sync(laptop, &a, &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("no longer holds its sync state") && out.stderr.contains("--relink"), "{}", out.stderr);
    let status = laptop.run(&["status", dir_arg(&a)]);
    assert_eq!(status.code, 1);
    assert!(status.stdout.contains("sync stopped"), "{}", status.stdout);
    assert_eq!(file_count(laptop, "/docs"), 10, "the server keeps every file");

    // Gone altogether: refused, and not made again.
    fs::remove_dir(&a).expect("rmdir");
    let out = sync(laptop, &a, &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("is gone"), "{}", out.stderr);
    assert!(!a.exists(), "a synced folder that vanished is not made again");

    // A copy of another folder's state: refused.
    fs::create_dir(&a).expect("mkdir");
    copy_dir(&b.join(".coffer"), &a.join(".coffer"));
    let out = sync(laptop, &a, &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("another folder"), "{}", out.stderr);
    fs::remove_dir_all(&a).expect("rm");

    // Relinked on purpose, the empty folder gets every file back; nothing is deleted.
    fs::create_dir(&a).expect("mkdir");
    let out = sync(laptop, &a, &["--relink"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(local_tree(&a), full);
    assert_eq!(sync(phone, &b, &[]).code, 0);
    assert_eq!(local_tree(&b), full);

    // While a continuous sync runs, the folder is moved away and an empty one put in
    // its place: the sync stops, the server and the other device keep every file.
    let mut running = std::process::Command::new(common::bin())
        .args(["sync", dir_arg(&a)])
        .env("COFFER_CONFIG_DIR", laptop.config.path())
        .env("COFFER_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_secs(2));
    fs::rename(&a, work.join("a-moved-again")).expect("mv");
    fs::create_dir(&a).expect("mkdir");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = running.try_wait().expect("wait") {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the sync did not stop");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut running.stderr.take().expect("stderr"), &mut err).expect("read");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("sync stopped"), "{err}");
    assert_eq!(file_count(laptop, "/docs"), 10, "the server keeps every file");
    assert_eq!(sync(phone, &b, &[]).code, 0);
    assert_eq!(local_tree(&b), full, "so does the other device");
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

#[test]
fn conflicted_copies_are_listed_and_resolved_as_ordinary_changes() {
    let d = Devices::new();
    let (laptop, phone, a, b) = (&d.laptop, &d.phone, d.a.clone(), d.b.clone());
    fs::create_dir_all(a.join("Docs")).expect("mkdir");
    fs::write(a.join("Docs/plan.bin"), [0u8, 1, 2]).expect("write");
    settle(&a);
    assert_eq!(sync(laptop, &a, &["--device", "laptop"]).code, 0);
    assert_eq!(sync(phone, &b, &["--device", "phone"]).code, 0);
    // Both change the file before syncing: binary, so both versions are kept.
    fs::write(a.join("Docs/plan.bin"), [0xffu8, 1, 1]).expect("write");
    fs::write(b.join("Docs/plan.bin"), [0xfeu8, 2, 2]).expect("write");
    settle(&a);
    settle(&b);
    assert_eq!(sync(laptop, &a, &["--device", "laptop"]).code, 0);
    assert_eq!(sync(phone, &b, &["--device", "phone"]).code, 0);

    let listed = laptop.ok(&["conflicts", "ls", "--json"]).json();
    let listed = listed.as_array().expect("array");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let copy = listed[0]["path"].as_str().expect("path").to_owned();
    assert!(copy.starts_with("/Docs/plan (phone's conflicted copy "), "{copy}");
    assert_eq!(listed[0]["original"], "/Docs/plan.bin");
    assert_eq!(listed[0]["original_exists"], true);
    assert_eq!(listed[0]["device"], "phone");

    // The phone's version wins, as a new version of the file; the copy goes.
    let out = laptop.ok(&["conflicts", "resolve", &copy, "--keep", "mine"]);
    assert!(out.stdout.contains("-> /Docs/plan.bin"), "{}", out.stdout);
    assert_eq!(
        laptop.ok(&["get", "/Docs/plan.bin", "-"]).stdout.as_bytes(),
        String::from_utf8_lossy(&[0xfe, 2, 2]).as_bytes()
    );
    let versions = laptop.ok(&["versions", "ls", "--json", "/Docs/plan.bin"]).json();
    assert_eq!(versions.as_array().map(Vec::len), Some(3), "the first, the laptop's, the phone's: {versions:#}");
    assert_eq!(sync(laptop, &a, &["--device", "laptop"]).code, 0);
    assert_eq!(sync(phone, &b, &["--device", "phone"]).code, 0);
    assert_eq!(fs::read(a.join("Docs/plan.bin")).expect("read"), [0xfe, 2, 2]);
    assert_eq!(local_tree(&a), local_tree(&b), "every device has the resolution");
    assert_eq!(laptop.ok(&["conflicts", "ls", "--json"]).json().as_array().map(Vec::len), Some(0));

    // Patterns, both kept under plain names, and --all.
    for (name, body) in
        [("a (pc's conflicted copy 2026-11-25).txt", "x"), ("b (pc's conflicted copy 2026-11-25).txt", "y")]
    {
        let out = laptop.run_stdin(&["put", "-", &format!("/Docs/{name}")], body);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let out = laptop.run_stdin(&["put", "-", "/Notes/c (pc's conflicted copy 2026-11-26).txt"], "z");
    assert_eq!(out.code, 0, "{}", out.stderr);
    laptop.ok(&["conflicts", "resolve", "/Docs/*", "--keep", "both"]);
    assert_eq!(
        laptop.ok(&["get", "/Docs/a (pc).txt", "-"]).stdout,
        "x",
        "the original is gone: the copy takes a plain name"
    );
    assert_eq!(laptop.ok(&["get", "/Docs/b (pc).txt", "-"]).stdout, "y");
    assert_eq!(laptop.ok(&["conflicts", "ls", "--json"]).json().as_array().map(Vec::len), Some(1), "/Notes untouched");
    laptop.ok(&["conflicts", "resolve", "--all", "--keep", "theirs"]);
    assert_eq!(laptop.ok(&["conflicts", "ls", "--json"]).json().as_array().map(Vec::len), Some(0));
    let out = laptop.run(&["conflicts", "resolve", "/Nothing/*", "--keep", "mine"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no conflicted copy matches"), "{}", out.stderr);
    assert_eq!(laptop.run(&["conflicts", "resolve", "--keep", "mine"]).code, 1, "what to resolve must be said");
}

#[test]
fn a_paused_folder_waits_and_limits_are_taken() {
    let d = Devices::new();
    let (laptop, a) = (&d.laptop, d.a.clone());
    fs::create_dir_all(&a).expect("mkdir");
    assert_eq!(sync(laptop, &a, &[]).code, 0);

    // Paused: a one-shot sync says so and sends nothing.
    laptop.ok(&["pause", dir_arg(&a)]);
    fs::write(a.join("one.txt"), b"one").expect("write");
    settle(&a);
    let out = sync(laptop, &a, &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("is paused"), "{}", out.stderr);
    assert!(laptop.ok(&["status", dir_arg(&a)]).stdout.contains("paused"));
    assert_eq!(laptop.run(&["stat", "--json", "/one.txt"]).json()["error"]["code"], "not_found");
    laptop.ok(&["resume", dir_arg(&a)]);
    assert_eq!(sync(laptop, &a, &[]).code, 0);
    assert_eq!(laptop.ok(&["get", "/one.txt", "-"]).stdout, "one");
    // What is not synced is named, with why.
    fs::write(a.join("~$lock.docx"), b"office lock").expect("write");
    settle(&a);
    let status = laptop.ok(&["status", dir_arg(&a), "--json"]).json();
    let not_synced = status["not_synced"].as_array().expect("not_synced");
    assert!(
        not_synced.iter().any(|e| e[0] == "~$lock.docx" && e[1].as_str().is_some_and(|w| w.starts_with("ignored"))),
        "{status:#}"
    );

    // A running sync honours a pause and a resume.
    let mut running = std::process::Command::new(common::bin())
        .args(["sync", dir_arg(&a), "--limit-up", "50M", "--limit-down", "50M"])
        .env("COFFER_CONFIG_DIR", laptop.config.path())
        .env("COFFER_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let appears = |path: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if laptop.run(&["stat", path]).code == 0 {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        false
    };
    fs::write(a.join("two.txt"), b"two").expect("write");
    assert!(appears("/two.txt"), "the running sync uploads");
    laptop.ok(&["pause", dir_arg(&a)]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    fs::write(a.join("three.txt"), b"three").expect("write");
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(laptop.run(&["stat", "/three.txt"]).code, 1, "paused: nothing goes up");
    laptop.ok(&["resume", dir_arg(&a)]);
    assert!(appears("/three.txt"), "resumed: it goes up");
    let _ = running.kill();
    let _ = running.wait();

    // Limits are checked.
    for bad in [["--limit-up", "0"], ["--limit-down", "fast"]] {
        let out = sync(laptop, &a, &bad);
        assert_ne!(out.code, 0, "{bad:?}");
    }
    fs::write(a.join("big.bin"), common::random_bytes(3 << 20, 5)).expect("write");
    settle(&a);
    assert_eq!(sync(laptop, &a, &["--limit-up", "64M", "--limit-down", "none"]).code, 0);
    assert_eq!(laptop.ok(&["stat", "--json", "/big.bin"]).json()["size"], 3 << 20);
}

#[cfg(unix)]
fn mode_bits(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(unix)]
fn mtime_ms(path: &Path) -> u128 {
    let t = fs::metadata(path).expect("metadata").modified().expect("mtime");
    t.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_millis()
}

#[cfg(unix)]
#[test]
fn links_stay_links_and_programs_stay_programs() {
    use std::os::unix::fs::symlink;
    let d = Devices::new();
    let (laptop, phone, a, b) = (&d.laptop, &d.phone, d.a.clone(), d.b.clone());
    // Something outside the synced folder that links lead to: never read, never written.
    let outside = d.work.path().join("outside");
    fs::create_dir_all(&outside).expect("mkdir");
    fs::write(outside.join("secret.txt"), b"never uploaded").expect("write");
    fs::create_dir_all(a.join("bin")).expect("mkdir");
    fs::write(a.join("bin/run.sh"), b"#!/bin/sh\necho hi\n").expect("write");
    set_mode(&a.join("bin/run.sh"), 0o755);
    fs::write(a.join("notes.txt"), b"notes").expect("write");
    symlink("notes.txt", a.join("latest")).expect("symlink");
    symlink(outside.join("secret.txt"), a.join("secret")).expect("symlink");
    symlink(&outside, a.join("elsewhere")).expect("symlink");
    symlink("no/such/file", a.join("dangling")).expect("symlink");
    settle(&a);
    assert_eq!(sync(laptop, &a, &[]).code, 0);
    assert_eq!(sync(phone, &b, &[]).code, 0);

    // The phone has the links as links, with the same targets, and the program can run.
    assert_eq!(fs::read_link(b.join("latest")).expect("a link"), Path::new("notes.txt"));
    assert_eq!(fs::read_link(b.join("secret")).expect("a link"), outside.join("secret.txt"));
    assert_eq!(fs::read_link(b.join("elsewhere")).expect("a link"), outside);
    assert_eq!(fs::read_link(b.join("dangling")).expect("a link"), Path::new("no/such/file"));
    assert_eq!(mode_bits(&b.join("bin/run.sh")) & 0o111, 0o111, "executable on the phone too");
    assert_eq!(mode_bits(&b.join("notes.txt")) & 0o111, 0, "an ordinary file is not made executable");
    assert_eq!(mtime_ms(&b.join("notes.txt")), mtime_ms(&a.join("notes.txt")), "the modification time travels");
    assert_eq!(local_tree(&a), local_tree(&b));
    // The disk's name rules were probed (this test's disk is an ordinary Linux one).
    if cfg!(target_os = "linux") {
        let status = laptop.ok(&["status", dir_arg(&a), "--json"]).json();
        assert_eq!(status["disk"], "case-sensitive", "{status:#}");
    }

    // The server holds a link's target text, never the bytes it leads to; nothing below a
    // linked folder was synced.
    assert_eq!(laptop.ok(&["get", "/secret", "-"]).stdout, outside.join("secret.txt").display().to_string());
    let listing = laptop.ok(&["ls", "--json", "/"]).json();
    let entry = |name: &str| listing.as_array().and_then(|l| l.iter().find(|e| e["name"] == name)).cloned();
    assert_eq!(entry("secret").expect("listed")["mode"], "symlink");
    assert_eq!(entry("elsewhere").expect("listed")["kind"], "file", "a linked folder is a link, not a folder");
    let bin = laptop.ok(&["ls", "--json", "/bin"]).json();
    assert_eq!(bin[0]["mode"], "executable", "{bin:#}");
    assert!(entry("notes.txt").expect("listed").get("mode").is_none(), "an ordinary file has no mode");

    // Changes of mode and of a link's target are changes like any other, both ways.
    set_mode(&b.join("bin/run.sh"), 0o644);
    fs::remove_file(b.join("latest")).expect("rm");
    symlink("bin/run.sh", b.join("latest")).expect("symlink");
    settle(&b);
    assert_eq!(sync(phone, &b, &[]).code, 0);
    assert_eq!(sync(laptop, &a, &[]).code, 0);
    assert_eq!(mode_bits(&a.join("bin/run.sh")) & 0o111, 0, "no longer executable on the laptop");
    assert_eq!(fs::read_link(a.join("latest")).expect("a link"), Path::new("bin/run.sh"));
    assert_eq!(fs::read(outside.join("secret.txt")).expect("read"), b"never uploaded", "outside is untouched");
    let versions = laptop.ok(&["versions", "ls", "/bin/run.sh", "--json"]).json();
    assert_eq!(versions.as_array().map(Vec::len), Some(2), "the mode change is a version: {versions:#}");

    // `coffer put` and `coffer get` keep the executable bit too.
    let tool = d.work.path().join("tool");
    fs::write(&tool, b"#!/bin/sh\n").expect("write");
    set_mode(&tool, 0o700);
    laptop.ok(&["put", tool.to_str().expect("utf8"), "/tool"]);
    let fetched = d.work.path().join("fetched");
    laptop.ok(&["get", "/tool", fetched.to_str().expect("utf8")]);
    assert_eq!(mode_bits(&fetched) & 0o100, 0o100, "still a program after put and get");
}

#[test]
fn a_file_moved_and_edited_between_syncs_keeps_its_history() {
    use std::io::Write;
    let d = Devices::new();
    let (laptop, a) = (&d.laptop, d.a.clone());
    fs::create_dir_all(a.join("Drafts")).expect("mkdir");
    fs::write(a.join("Drafts/plan.txt"), b"first draft\n").expect("write");
    fs::write(a.join("keep.txt"), b"kept").expect("write");
    settle(&a);
    assert_eq!(sync(laptop, &a, &[]).code, 0);
    let id = laptop.ok(&["ls", "--json", "/Drafts"]).json()[0]["id"].clone();

    // Renamed into another folder and edited in place before the next sync.
    fs::create_dir_all(a.join("Final")).expect("mkdir");
    fs::rename(a.join("Drafts/plan.txt"), a.join("Final/plan-final.txt")).expect("move");
    let mut f = fs::File::options().append(true).open(a.join("Final/plan-final.txt")).expect("open");
    f.write_all(b"second draft\n").expect("append");
    drop(f);
    settle(&a);
    assert_eq!(sync(laptop, &a, &[]).code, 0);

    let moved = laptop.ok(&["ls", "--json", "/Final"]).json();
    assert_eq!(moved[0]["id"], id, "the same item on the server, moved: {moved:#}");
    let versions = laptop.ok(&["versions", "ls", "/Final/plan-final.txt", "--json"]).json();
    assert_eq!(versions.as_array().map(Vec::len), Some(2), "both drafts in its history: {versions:#}");
    let trash = laptop.ok(&["trash", "ls", "--json"]).json();
    assert_eq!(trash.as_array().map(Vec::len), Some(0), "nothing went to the trash: {trash:#}");
    assert_eq!(laptop.ok(&["get", "/Final/plan-final.txt", "-"]).stdout, "first draft\nsecond draft\n");
}
