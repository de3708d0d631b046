//! The five-minute tour, end to end: real server, real `coffer` binary, on SQLite and
//! (when the test script provides one) PostgreSQL; and the rough edges a newcomer meets
//! first: `-` for standard input and output, `mv` into a folder that is not there.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Client, Server, random_bytes};

#[tokio::test(flavor = "multi_thread")]
async fn cli_story_on_every_database() {
    common::on_every_database(story).await;
}

fn story(db: Option<String>) {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), db);
    // First start: a one-time setup token creates the first admin, once.
    let token = server.setup_token().expect("the first start prints a setup token");
    let anon = Client { config: tempfile::tempdir().expect("tempdir") };
    let setup = anon
        .run_stdin(&["setup", &server.url, "--token", &token, "--user", "root"], &format!("{}\n", common::PASSWORD));
    assert_eq!(setup.code, 0, "{}", setup.stderr);
    let again = anon
        .run_stdin(&["setup", &server.url, "--token", &token, "--user", "evil"], &format!("{}\n", common::PASSWORD));
    assert_eq!(again.code, 1, "the setup token works once");
    assert!(Client::login(&server, "root").ok(&["whoami", "--json"]).json()["user"]["is_admin"] == true);
    server.add_user("alice", &["--admin"]);
    let c = Client::login(&server, "alice");
    assert!(c.ok(&["whoami"]).stdout.contains("alice"));

    // A folder with a multi-chunk file, small files and an empty folder.
    let work = tempfile::tempdir().expect("tempdir");
    let docs = work.path().join("docs");
    std::fs::create_dir_all(docs.join("sub/empty")).expect("mkdir");
    let big = random_bytes(9 * 1024 * 1024 + 123, 1);
    std::fs::write(docs.join("big.bin"), &big).expect("write");
    for i in 0..20 {
        std::fs::write(docs.join(format!("sub/note-{i}.txt")), format!("note {i}\n").repeat(i + 1)).expect("write");
    }
    std::fs::write(docs.join("empty.txt"), b"").expect("write");
    let docs_s = docs.to_str().expect("utf8");

    let put = c.ok(&["put", "--json", docs_s, "/"]).json();
    let total = put["bytes_total"].as_u64().expect("bytes_total");
    assert!(total > big.len() as u64);
    assert_eq!(put["bytes_sent"].as_u64(), Some(total), "first upload sends everything");
    assert_eq!(put["files"].as_array().expect("files").len(), 22);

    let ls = c.ok(&["ls", "--json", "/docs"]).json();
    let names: Vec<&str> = ls.as_array().expect("array").iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(names, vec!["big.bin", "empty.txt", "sub"]);
    let sub = c.ok(&["ls", "--json", "/docs/sub"]).json();
    assert_eq!(sub.as_array().expect("array").len(), 21, "20 notes and the empty folder");

    // The same folder again: nothing to send (deduplication).
    let again = c.ok(&["put", "--json", docs_s, "/"]).json();
    assert_eq!(again["bytes_sent"].as_u64(), Some(0), "{again}");

    // One byte inserted at the start of the big file: only a few chunks travel.
    let mut edited = vec![b'!'];
    edited.extend_from_slice(&big);
    std::fs::write(docs.join("big.bin"), &edited).expect("write");
    let delta = c.ok(&["put", "--json", docs.join("big.bin").to_str().expect("utf8"), "/docs/big.bin"]).json();
    let sent = delta["bytes_sent"].as_u64().expect("sent");
    assert!(sent > 0 && sent < edited.len() as u64 / 2, "delta upload sent {sent} of {}", edited.len());

    // Download a file and the whole folder; bytes match.
    let out = tempfile::tempdir().expect("tempdir");
    c.ok(&["get", "/docs/big.bin", out.path().join("big.bin").to_str().expect("utf8")]);
    assert_eq!(std::fs::read(out.path().join("big.bin")).expect("read"), edited);
    c.ok(&["get", "/docs", out.path().to_str().expect("utf8")]);
    assert_eq!(std::fs::read(out.path().join("docs/sub/note-3.txt")).expect("read"), "note 3\n".repeat(4).as_bytes());
    assert_eq!(std::fs::read(out.path().join("docs/empty.txt")).expect("read"), b"");

    // Versions: two revisions of big.bin; the old one downloads and restores.
    let versions = c.ok(&["versions", "ls", "--json", "/docs/big.bin"]).json();
    let versions = versions.as_array().expect("array");
    assert_eq!(versions.len(), 2);
    let old_rev = versions[1]["rev"].as_i64().expect("rev");
    let old_path = out.path().join("old.bin");
    c.ok(&["versions", "get", "/docs/big.bin", &old_rev.to_string(), old_path.to_str().expect("utf8")]);
    assert_eq!(std::fs::read(&old_path).expect("read"), big);
    c.ok(&["versions", "restore", "/docs/big.bin", &old_rev.to_string()]);
    let stat = c.ok(&["stat", "--json", "/docs/big.bin"]).json();
    assert_eq!(stat["size"].as_u64(), Some(big.len() as u64));
    assert_eq!(c.ok(&["versions", "ls", "--json", "/docs/big.bin"]).json().as_array().expect("a").len(), 3);

    // mkdir, mv (rename keeps the id; into a folder), no overwrite, no folder into itself.
    c.ok(&["mkdir", "-p", "/archive/2026"]);
    let id_before = c.ok(&["stat", "--json", "/docs/sub/note-1.txt"]).json()["id"].as_i64();
    c.ok(&["mv", "/docs/sub/note-1.txt", "/docs/sub/renamed.txt"]);
    c.ok(&["mv", "/docs/sub/renamed.txt", "/archive/2026"]);
    let moved = c.ok(&["stat", "--json", "/archive/2026/renamed.txt"]).json();
    assert_eq!(moved["id"].as_i64(), id_before, "a move never changes the id");
    let clash = c.run(&["mv", "/docs/sub/note-2.txt", "/docs/sub/note-3.txt"]);
    assert_eq!(clash.code, 3, "target exists: conflict exit code; {}", clash.stderr);
    let into_self = c.run(&["mv", "/archive", "/archive/2026/inside"]);
    assert_eq!(into_self.code, 1, "{}", into_self.stderr);
    assert!(into_self.stderr.contains("itself"), "{}", into_self.stderr);
    assert_eq!(c.run(&["mkdir", "/archive"]).code, 3, "mkdir of an existing folder");

    // Delete to trash, restore, restore onto a taken name, purge.
    c.ok(&["rm", "/docs/sub"]);
    assert_eq!(c.run(&["stat", "/docs/sub/note-5.txt"]).code, 1);
    let trash = c.ok(&["trash", "ls", "--json"]).json();
    assert_eq!(trash.as_array().expect("a")[0]["original_path"].as_str(), Some("/docs/sub"));
    c.ok(&["trash", "restore", "/docs/sub"]);
    assert_eq!(c.ok(&["stat", "--json", "/docs/sub/note-5.txt"]).json()["size"].as_u64(), Some(42));
    c.ok(&["rm", "/docs/empty.txt"]);
    c.ok(&["put", docs.join("sub/note-0.txt").to_str().expect("utf8"), "/docs/empty.txt"]);
    c.ok(&["trash", "restore", "/docs/empty.txt"]);
    c.ok(&["stat", "/docs/empty (restored).txt"]);
    c.ok(&["rm", "/docs/big.bin"]);
    let purged = c.ok(&["trash", "purge", "--all", "--json"]).json();
    assert_eq!(purged["purged"].as_u64(), Some(1));
    assert!(c.ok(&["trash", "ls", "--json"]).json().as_array().expect("a").is_empty());

    // Quotas: a commit beyond the quota is refused with a clear code.
    server.add_user("bob", &["--quota", "1M"]);
    let b = Client::login(&server, "bob");
    let over = b.run(&["put", "--json", docs.join("big.bin").to_str().expect("utf8"), "/big.bin"]);
    assert_ne!(over.code, 0);
    assert!(over.stdout.contains("quota_exceeded"), "{}\n{}", over.stdout, over.stderr);
    let mut cmd_args = vec!["admin", "user", "set-quota", "bob", "none", "--data"];
    let data_dir = server.data.to_str().expect("utf8").to_owned();
    cmd_args.push(&data_dir);
    let db_arg = server.database.clone();
    if let Some(db) = &db_arg {
        cmd_args.extend(["--database", db.as_str()]);
    }
    b.ok(&cmd_args);
    b.ok(&["put", docs.join("big.bin").to_str().expect("utf8"), "/big.bin"]);
    let users = b.ok(&["admin", "user", "list", "--json", "--data", &data_dir]);
    if db_arg.is_none() {
        let users = users.json();
        let bob = users.as_array().expect("a").iter().find(|u| u["name"] == "bob").expect("bob");
        assert_eq!(bob["quota_bytes"], serde_json::Value::Null);
        assert_eq!(bob["used_bytes"].as_u64(), Some(edited.len() as u64));
    }
    // Bob sees none of Alice's files.
    let bobs: Vec<String> =
        b.ok(&["ls", "--json", "/"]).json().as_array().expect("a").iter().map(|e| e["name"].to_string()).collect();
    assert_eq!(bobs, vec!["\"big.bin\""]);

    // Logout revokes the token.
    let token = c.token();
    c.ok(&["logout"]);
    assert_ne!(c.run(&["whoami"]).code, 0);
    let status = reqwest::blocking_get_status(&format!("{}/api/v1/auth/whoami", server.url), &token);
    assert_eq!(status, 401);
}

mod reqwest {
    /// A tiny blocking GET with a bearer token (std only, HTTP/1.1 on loopback).
    pub fn blocking_get_status(url: &str, token: &str) -> u16 {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").expect("http url");
        let (host, path) = rest.split_once('/').expect("path");
        let mut s = std::net::TcpStream::connect(host).expect("connect");
        write!(s, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read");
        resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("status")
    }
}

/// Standard input and output as `-`, and `mv` into a folder that is not there: what a
/// newcomer following the tour meets first.
#[test]
fn stdio_dash_and_mv_into_a_missing_folder() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let c = Client::login(&server, "alice");
    // The spool for standard input goes here, so the test can see it is cleaned up.
    let tmp = tempfile::tempdir().expect("tempdir");

    // Binary, several chunks long, with bytes that are not UTF-8.
    let mut bytes = random_bytes(5 * 1024 * 1024 + 77, 7);
    bytes.extend_from_slice(&[0xff, 0xfe, 0x00, 0x80, b'\n']);
    let put = run_raw(&c, &["put", "--json", "-", "/Inbox/blob.bin"], &bytes, tmp.path());
    assert_eq!(put.status.code(), Some(0), "{}", String::from_utf8_lossy(&put.stderr));
    let report: serde_json::Value = serde_json::from_slice(&put.stdout).expect("put --json");
    assert_eq!(report["bytes_total"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(report["files"][0]["remote"].as_str(), Some("/Inbox/blob.bin"));
    assert_eq!(report["files"][0]["local"].as_str(), Some("-"), "the report names stdin, not a spool file");
    assert_eq!(std::fs::read_dir(tmp.path()).expect("read tmp").count(), 0, "the spool file is removed");

    // `get FILE -`: exactly the bytes on stdout, nothing else.
    let got = run_raw(&c, &["get", "/Inbox/blob.bin", "-"], b"", tmp.path());
    assert_eq!(got.status.code(), Some(0), "{}", String::from_utf8_lossy(&got.stderr));
    assert!(got.stdout == bytes, "stdout is the file: {} bytes, want {}", got.stdout.len(), bytes.len());
    assert!(!tmp.path().join("-").exists(), "no file named '-' was created");

    // Into something that is not a regular file (a named pipe here, /dev/null in a
    // benchmark): written through, as `cp` would; never replaced by a rename.
    let fifo = tmp.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).expect("read the pipe"))
    };
    c.ok(&["get", "/Inbox/blob.bin", fifo.to_str().expect("utf8")]);
    assert!(reader.join().expect("reader") == bytes, "the pipe carried the file");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).expect("pipe").file_type().is_fifo(), "still a pipe");
    std::fs::remove_file(&fifo).expect("rm pipe");

    // A reader that stops early is not an error.
    let mut child = Command::new(common::bin())
        .args(["get", "/Inbox/blob.bin", "-"])
        .env("COFFER_CONFIG_DIR", c.config.path())
        .env("COFFER_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn coffer");
    let mut first = [0u8; 4];
    child.stdout.take().expect("stdout").read_exact(&mut first).expect("read");
    assert_eq!(first[..], bytes[..4]);
    let early = child.wait_with_output().expect("wait");
    assert_eq!(early.status.code(), Some(0), "{}", String::from_utf8_lossy(&early.stderr));

    // Replacing a file from stdin, then an empty one.
    c.ok(&["mkdir", "/Existing"]);
    let text = c.run_stdin(&["put", "-", "/Inbox/blob.bin"], "now text\n");
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert_eq!(c.ok(&["get", "/Inbox/blob.bin", "-"]).stdout, "now text\n");
    assert_eq!(c.run_stdin(&["put", "-", "/Inbox/empty.txt"], "").code, 0);
    let empty = run_raw(&c, &["get", "/Inbox/empty.txt", "-"], b"", tmp.path());
    assert_eq!((empty.status.code(), empty.stdout.len()), (Some(0), 0));

    // Usage errors (exit code 2), before anything is read or written.
    for args in [
        &["put", "-", "/Existing"][..],
        &["put", "-", "/Existing/"],
        &["put", "-", "/"],
        &["put", "-", "/Inbox/a.txt", "/Existing"],
        &["get", "/Existing", "-"],
        &["get", "--json", "/Inbox/blob.bin", "-"],
    ] {
        let out = c.run_stdin(args, "ignored\n");
        assert_eq!(out.code, 2, "coffer {args:?}: {}\n{}", out.stdout, out.stderr);
        assert!(!out.stderr.is_empty(), "coffer {args:?} says why");
        if args[0] == "get" {
            assert!(out.stdout.is_empty(), "coffer {args:?} printed to stdout: {}", out.stdout);
        }
    }
    assert!(c.run(&["put", "-", "/Existing"]).stderr.contains("is a folder"));
    assert!(c.ok(&["ls", "--json", "/Existing"]).json().as_array().expect("a").is_empty(), "nothing uploaded");

    // `mv` into a folder that does not exist says so; once it exists, the move works.
    let missing = c.run(&["mv", "/Inbox/empty.txt", "/Archive/"]);
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(missing.stderr.contains("'/Archive' does not exist"), "{}", missing.stderr);
    assert!(!missing.stderr.contains("not a folder"), "{}", missing.stderr);
    let deeper = c.run(&["mv", "/Inbox/empty.txt", "/Archive/2026/empty.txt"]);
    assert_ne!(deeper.code, 0);
    assert!(deeper.stderr.contains("'/Archive/2026' does not exist"), "{}", deeper.stderr);
    let onto_file = c.run(&["mv", "/Inbox/empty.txt", "/Inbox/blob.bin/"]);
    assert_eq!(onto_file.code, 1);
    assert!(onto_file.stderr.contains("is a file, not a folder"), "{}", onto_file.stderr);
    c.ok(&["mkdir", "/Archive"]);
    c.ok(&["mv", "/Inbox/empty.txt", "/Archive/"]);
    c.ok(&["stat", "/Archive/empty.txt"]);
}

/// Runs `coffer` as `c` in `tmp` (also its TMPDIR) with raw bytes on stdin; raw stdout.
fn run_raw(c: &Client, args: &[&str], stdin: &[u8], tmp: &Path) -> std::process::Output {
    let mut child = Command::new(common::bin())
        .args(args)
        .env("COFFER_CONFIG_DIR", c.config.path())
        .env("COFFER_LOG", "warn")
        .env("TMPDIR", tmp)
        .current_dir(tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn coffer");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    // A writer of its own: the child may fill its output pipes before it reads all input.
    let writer = std::thread::spawn(move || {
        // A command refused before reading its input closes the pipe: not a test failure.
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("stdin writer");
    out
}

/// The server's log written to a pipe (or a file) is plain text, without the colour
/// codes meant for a terminal.
#[test]
fn the_server_log_in_a_pipe_has_no_colour_codes() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(common::bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .env("COFFER_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.expect("read");
        let done = line.starts_with("coffer: listening on ");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(lines.iter().any(|l| l.contains("INFO")), "some log lines came: {lines:?}");
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "colour codes in a piped log: {lines:?}");
}
