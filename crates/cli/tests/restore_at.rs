//! `coffer restore PATH --at TIME`: a folder or the whole account back as it was at a
//! moment, with the real binary and server. Ransomware that rewrote and renamed every
//! file of a synced folder is undone on every device, the restore is itself a set of new
//! revisions (and can be undone), and what cannot come back is named.

mod common;

use std::fs;
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use common::{Client, Server, local_tree, settle};

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
}

/// An RFC 3339 moment (UTC, milliseconds) between what came before and what comes after.
fn moment() -> String {
    sleep(Duration::from_millis(20));
    let ms = now_ms();
    sleep(Duration::from_millis(20));
    let secs = ms.div_euclid(1000);
    let (y, m, d) = coffer_core::time::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms % 1000)
}

fn sync(c: &Client, dir: &Path) {
    let out = c.run(&["sync", "--once", dir.to_str().expect("utf8")]);
    assert_eq!(out.code, 0, "sync failed:\n{}\n{}", out.stdout, out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn ransomware_is_undone_on_every_device_on_every_database() {
    common::on_every_database(ransomware).await;
}

fn ransomware(db: Option<String>) {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), db);
    server.add_user("alice", &[]);
    let (laptop, phone) = (Client::login(&server, "alice"), Client::login(&server, "alice"));
    let work = tempfile::tempdir().expect("tempdir");
    let (a, b) = (work.path().join("a"), work.path().join("b"));
    for dir in ["Documents/2026", "Photos", "Empty"] {
        fs::create_dir_all(a.join(dir)).expect("mkdir");
    }
    for i in 0..12 {
        fs::write(a.join(format!("Documents/2026/letter-{i}.txt")), format!("Dear {i},\n").repeat(i + 1)).expect("w");
    }
    fs::write(a.join("Photos/cat.jpg"), common::random_bytes(3 * 1024 * 1024 + 11, 7)).expect("write");
    fs::write(a.join("notes.md"), b"# Notes\n").expect("write");
    settle(&a);
    sync(&laptop, &a);
    sync(&phone, &b);
    let before = local_tree(&a);
    assert_eq!(local_tree(&b), before);
    let clean = moment();

    // Every file is rewritten and renamed, and a note is left behind.
    let mut stack = vec![a.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".coffer") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let scrambled: Vec<u8> = fs::read(&p).expect("read").iter().map(|b| b ^ 0x5a).collect();
            fs::write(p.with_extension("locked"), scrambled).expect("write");
            fs::remove_file(&p).expect("rm");
        }
    }
    fs::write(a.join("READ-ME-TO-DECRYPT.txt"), b"pay up").expect("write");
    settle(&a);
    sync(&laptop, &a);
    sync(&phone, &b);
    assert!(b.join("Documents/2026/letter-3.locked").exists(), "the damage reached the other device");
    let damaged = moment();

    // A dry run lists every change and makes none: each file of then comes back (from
    // the trash, or moved back and given its old content), each scrambled one and the
    // note go to the trash.
    let dry = phone.ok(&["restore", "/", "--at", &clean, "--dry-run", "--json"]).json();
    let changes = dry["changes"].as_array().expect("changes");
    let actions_on = |path: &str| -> Vec<String> {
        changes.iter().filter(|c| c["path"] == path).filter_map(|c| c["action"].as_str().map(str::to_owned)).collect()
    };
    for (path, _) in before.iter().filter(|(p, _)| !p.ends_with('/')) {
        let acts = actions_on(&format!("/{path}"));
        assert!(
            acts.iter().any(|a| a == "undelete")
                || acts.iter().any(|a| a == "move") && acts.iter().any(|a| a == "content"),
            "{path}: {acts:?}\n{dry:#}"
        );
        let locked = Path::new(path).with_extension("locked").display().to_string();
        assert_eq!(actions_on(&format!("/{locked}")), vec!["trash"], "{locked}");
    }
    assert_eq!(actions_on("/READ-ME-TO-DECRYPT.txt"), vec!["trash"]);
    assert_eq!(dry["skipped"].as_array().map(Vec::len), Some(0));
    assert!(phone.ok(&["ls", "/"]).stdout.contains("READ-ME-TO-DECRYPT.txt"), "a dry run changes nothing");

    // The restore brings back every byte and name, on both devices.
    let out = phone.ok(&["restore", "/", "--at", &clean]);
    assert!(out.stdout.contains("trash     /READ-ME-TO-DECRYPT.txt"), "{}", out.stdout);
    assert!(out.stderr.contains(&format!("{} items changed", changes.len())), "{}", out.stderr);
    sync(&laptop, &a);
    sync(&phone, &b);
    assert_eq!(local_tree(&a), before, "the first device is as it was");
    assert_eq!(local_tree(&b), before, "the second device is as it was");

    // Nothing was rewritten: what the restore removed is in the trash.
    let trash = phone.ok(&["trash", "ls", "--json"]).json();
    let trashed: Vec<&str> =
        trash.as_array().expect("trash").iter().filter_map(|e| e["original_path"].as_str()).collect();
    assert!(trashed.contains(&"/READ-ME-TO-DECRYPT.txt") && trashed.contains(&"/notes.locked"), "{trashed:?}");

    // And it can be undone the same way; then redone.
    phone.ok(&["restore", "/", "--at", &damaged]);
    assert_eq!(phone.ok(&["get", "/Documents/2026/letter-0.locked", "-"]).stdout.len(), "Dear 0,\n".len());
    phone.ok(&["restore", "/", "--at", &clean]);
    sync(&laptop, &a);
    assert_eq!(local_tree(&a), before);
    // Nothing left to change.
    let again = phone.ok(&["restore", "/", "--at", &clean, "--json"]).json();
    assert_eq!(again["changes"].as_array().map(Vec::len), Some(0), "{again:#}");
}

#[test]
fn a_folder_goes_back_with_moves_deletes_and_new_items_undone() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let c = Client::login(&server, "alice");
    let put = |remote: &str, text: &str| {
        let out = c.run_stdin(&["put", "-", remote], text);
        assert_eq!(out.code, 0, "{}", out.stderr);
    };
    c.ok(&["mkdir", "-p", "/P/sub"]);
    c.ok(&["mkdir", "-p", "/Q"]);
    put("/P/a.txt", "a1");
    put("/P/sub/b.txt", "b1");
    put("/P/c.txt", "c1");
    put("/Q/x.txt", "x1");
    let then = moment();

    put("/P/a.txt", "a2");
    c.ok(&["mv", "/P/sub/b.txt", "/Q/b.txt"]);
    c.ok(&["rm", "/P/c.txt"]);
    put("/P/new.txt", "new");
    c.ok(&["mv", "/P/sub", "/P/renamed"]);
    put("/P/c.txt", "an impostor under the old name");
    c.ok(&["rm", "/Q/x.txt"]);
    c.ok(&["trash", "purge", "/Q/x.txt"]);

    let dry = c.ok(&["restore", "/P", "--at", &then, "--dry-run", "--json"]).json();
    let mut got: Vec<(String, String)> = dry["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|ch| (ch["action"].as_str().unwrap_or("").to_owned(), ch["path"].as_str().unwrap_or("").to_owned()))
        .collect();
    got.sort();
    let want: Vec<(String, String)> = [
        ("content", "/P/a.txt"),
        ("move", "/P/sub"),
        ("move", "/P/sub/b.txt"),
        ("trash", "/P/c.txt"),
        ("trash", "/P/new.txt"),
        ("undelete", "/P/c.txt"),
    ]
    .iter()
    .map(|(a, p)| ((*a).to_owned(), (*p).to_owned()))
    .collect();
    assert_eq!(got, want, "{dry:#}");

    let out = c.run(&["restore", "/P", "--at", &then]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let cat = |p: &str| c.ok(&["get", p, "-"]).stdout;
    assert_eq!(cat("/P/a.txt"), "a1");
    assert_eq!(cat("/P/sub/b.txt"), "b1");
    assert_eq!(cat("/P/c.txt"), "c1", "the deleted file is back, the impostor in the trash");
    let missing = |p: &str| c.run(&["stat", "--json", p]).json()["error"]["code"] == "not_found";
    assert!(missing("/P/new.txt"), "made since: in the trash");
    assert!(missing("/P/renamed"));
    assert!(missing("/Q/x.txt"), "outside the folder: untouched");
    let versions = c.ok(&["versions", "ls", "--json", "/P/a.txt"]).json();
    assert_eq!(versions.as_array().map(Vec::len), Some(3), "a1, a2 and a1 again: {versions:#}");
    let trash = c.ok(&["trash", "ls", "--json"]).json();
    let trashed: Vec<&str> =
        trash.as_array().expect("trash").iter().filter_map(|e| e["original_path"].as_str()).collect();
    assert!(trashed.contains(&"/P/c.txt") && trashed.contains(&"/P/new.txt"), "{trashed:?}");
    let impostor =
        trash.as_array().expect("trash").iter().find(|e| e["original_path"] == "/P/c.txt").expect("impostor");
    assert_eq!(impostor["node"]["size"], 30);

    // The whole account: the purged file cannot come back, and the exit code says so.
    let out = c.run(&["restore", "/", "--at", &then]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("skipped   /Q/x.txt: the file was deleted for good"), "{}", out.stdout);

    // A single file, and a folder that is gone now.
    put("/P/a.txt", "a3");
    c.ok(&["restore", "/P/a.txt", "--at", &then]);
    assert_eq!(cat("/P/a.txt"), "a1");
    c.ok(&["rm", "/P"]);
    c.ok(&["restore", "/P/sub", "--at", &then]);
    assert_eq!(cat("/P/sub/b.txt"), "b1", "its folders are made again");

    // Bad input is refused with a reason.
    let out = c.run(&["restore", "/P", "--at", "2 fortnights ago"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("is not a moment"), "{}", out.stderr);
    let out = c.run(&["restore", "/P", "--at", "2999-01-01", "--json"]);
    assert_eq!(out.json()["error"]["code"], "bad_request", "{}", out.stdout);
    let out = c.run(&["restore", "/Nowhere", "--at", &then, "--json"]);
    assert_eq!(out.json()["error"]["code"], "not_found", "{}", out.stdout);
}
