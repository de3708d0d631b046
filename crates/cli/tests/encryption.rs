//! Encryption at rest with the real binary: a copy of the data directory (database and
//! chunks) holds none of the files' bytes; a server without its key, or with another,
//! refuses to start; a key rotation goes on while files are uploaded and downloaded and
//! survives the server being killed midway; an existing plaintext store is sealed after
//! `coffer admin key init`.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, Server};

/// Every byte of every file below `dir`, with its path.
fn every_file(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p.display().to_string(), bytes));
            }
        }
    }
    out
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Files with marker strings: small ones, and a large one of several chunks whose
/// marker repeats all through it.
fn write_marked_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::create_dir_all(dir).expect("dir");
    let mut files = Vec::new();
    for i in 0..5 {
        let body = format!("tax return {i}: MARKER-Q7ZK-{i:03} account 1234-5678\n").repeat(50 + i * 30);
        files.push((format!("note{i}.txt"), body.into_bytes()));
    }
    let mut big = common::random_bytes(9 << 20, 7);
    for (n, at) in (0..big.len() - 64).step_by(1 << 20).enumerate() {
        let mark = format!("MARKER-Q7ZK-BIG{n:02}");
        big[at..at + mark.len()].copy_from_slice(mark.as_bytes());
    }
    files.push(("photos.bin".into(), big));
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).expect("write");
    }
    files
}

/// `coffer serve` run to its end (it must refuse to start): its exit code and stderr.
fn serve_refused(data: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(common::bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"]).arg(data).args(args);
    cmd.env_remove("COFFER_MASTER_KEY").env_remove("COFFER_KEY_FILE").env("COFFER_LOG", "error");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    // A server that starts would never exit: the test fails instead of hanging.
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started when it had to refuse");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn admin_key(args: &[&str]) -> serde_json::Value {
    let out = Command::new(common::bin())
        .args(["admin", "key"])
        .args(args)
        .arg("--json")
        .env_remove("COFFER_MASTER_KEY")
        .output()
        .expect("admin key");
    assert!(out.status.success(), "admin key {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn a_copy_of_the_data_holds_no_file_bytes_and_the_server_needs_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let key_file = dir.path().join("keys").join("coffer.key");
    std::fs::create_dir_all(key_file.parent().expect("parent")).expect("keys dir");
    let key_arg = key_file.to_str().expect("path");
    let mut server = Server::start_with(&data, None, &["--key-file", key_arg]);
    assert!(key_file.exists(), "a new deployment made its key file");
    server.add_user("alice", &[]);
    let alice = Client::login(&server, "alice");
    let files = write_marked_files(&dir.path().join("src"));
    alice.ok(&["put", dir.path().join("src").to_str().expect("path"), "/"]);
    server.kill9();

    // Every byte of the data directory: database, its journal, chunks, caches.
    let copy = every_file(&data);
    assert!(copy.iter().any(|(p, _)| p.contains("sealed")), "chunks are sealed");
    for (path, bytes) in &copy {
        assert!(!holds(bytes, b"MARKER-Q7ZK"), "a marker in {path}");
        assert!(!holds(bytes, b"account 1234-5678"), "file text in {path}");
    }

    // Without its key, or with another, the server refuses to start.
    let (code, err) = serve_refused(&data, &[], &[]);
    assert_ne!(code, 0);
    assert!(err.contains("encrypted") && err.contains("key"), "{err}");
    let other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let (code, err) = serve_refused(&data, &[("COFFER_MASTER_KEY", other)], &[]);
    assert_ne!(code, 0);
    assert!(err.contains("not the one the chunks were sealed with"), "{err}");
    let inside = data.join("coffer.key");
    let (code, err) = serve_refused(&data, &[], &["--key-file", inside.to_str().expect("path")]);
    assert_ne!(code, 0);
    assert!(err.contains("inside the data directory"), "{err}");

    // With it, every file comes back intact.
    server.restart();
    let back = dir.path().join("back");
    alice.ok(&["get", "/src", back.to_str().expect("path")]);
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(back.join(name)).expect("downloaded"), bytes, "{name}");
    }
    let status = admin_key(&["status", "--data", data.to_str().expect("path"), "--key-file", key_arg]);
    assert_eq!(status["encrypted"], true);
    assert_eq!(status["older_keys_in_use"], serde_json::json!([]));
}

#[test]
fn a_key_rotation_under_load_survives_a_kill_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let key_file = dir.path().join("coffer.key");
    let key_arg = key_file.to_str().expect("path").to_owned();
    let config = dir.path().join("coffer.toml");
    std::fs::write(&config, "maintenance_interval_secs = 1\n").expect("config");
    let mut server =
        Server::start_with(&data, None, &["--key-file", &key_arg, "--config", config.to_str().expect("path")]);
    server.add_user("alice", &[]);
    let alice = Client::login(&server, "alice");
    let src = dir.path().join("src");
    let mut files = write_marked_files(&src);
    alice.ok(&["put", src.to_str().expect("path"), "/"]);
    let data_arg = data.to_str().expect("path").to_owned();
    let first = admin_key(&["status", "--data", &data_arg, "--key-file", &key_arg])["key_id"].clone();

    // Uploads and downloads go on while the key rotates and the server is killed.
    let rotated = admin_key(&["rotate", "--data", &data_arg, "--key-file", &key_arg]);
    assert_ne!(rotated["key_id"], first);
    assert_eq!(rotated["older"], serde_json::json!([first]));
    for round in 0..6 {
        let name = format!("during{round}.txt");
        let body = format!("written during the rotation {round} MARKER-Q7ZK-R{round}\n").repeat(300).into_bytes();
        std::fs::write(src.join(&name), &body).expect("write");
        alice.ok(&["put", src.join(&name).to_str().expect("path"), "/src/"]);
        files.push((name, body));
        let got = dir.path().join(format!("check{round}"));
        alice.ok(&["get", "/src/photos.bin", got.to_str().expect("path")]);
        assert_eq!(std::fs::read(&got).expect("read"), files[5].1, "read while rotating");
        if round == 2 {
            server.kill9();
            server.restart();
        }
    }

    // The rotation finishes (in the background of the running server).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let st = admin_key(&["status", "--data", &data_arg, "--key-file", &key_arg]);
        if st["older_keys_in_use"] == serde_json::json!([]) {
            assert_eq!(st["key_id"], rotated["key_id"]);
            break;
        }
        assert!(Instant::now() < deadline, "the rotation did not finish: {st}");
        std::thread::sleep(Duration::from_millis(300));
    }

    // The new key alone is enough now: the old one is dropped from the file.
    server.kill9();
    let text = std::fs::read_to_string(&key_file).expect("key file");
    let only_new: String =
        text.lines().filter(|l| !l.trim_start().starts_with("old")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&key_file, only_new).expect("write");
    server.restart();
    let back = dir.path().join("back");
    alice.ok(&["get", "/src", back.to_str().expect("path")]);
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(back.join(name)).expect("downloaded"), bytes, "{name}");
    }
    for (path, bytes) in every_file(&data) {
        assert!(!holds(&bytes, b"MARKER-Q7ZK"), "a marker in {path}");
    }
}

#[test]
fn an_existing_plaintext_store_is_sealed_after_key_init() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let files = write_marked_files(&dir.path().join("src"));
    // A store written before encryption existed.
    let config = dir.path().join("coffer.toml");
    std::fs::write(&config, "maintenance_interval_secs = 1\n").expect("config");
    let key_file = dir.path().join("coffer.key");
    let key_arg = key_file.to_str().expect("path").to_owned();
    let data_arg = data.to_str().expect("path").to_owned();
    let alice = Client { config: tempfile::tempdir().expect("tempdir") };
    {
        // A server from before encryption at rest, in this process.
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let url = rt.block_on(async {
            std::fs::create_dir_all(&data).expect("data");
            let storage = coffer_service::StorageConfig {
                database_url: format!("sqlite://{}", data.join("meta.db").display()),
                chunk_dir: data.join("chunks"),
            };
            let s = coffer_service::Service::open(&storage, Default::default()).await.expect("open plaintext");
            s.admin_service().create_user("alice", common::PASSWORD, false, None).await.expect("user");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let url = format!("http://{}", listener.local_addr().expect("addr"));
            let day = Duration::from_secs(86_400);
            tokio::spawn(coffer_server::serve(s, listener, Default::default(), day, std::future::pending()));
            url
        });
        let login = alice.run_stdin(&["login", &url, "--user", "alice"], &format!("{}\n", common::PASSWORD));
        assert_eq!(login.code, 0, "{}", login.stderr);
        alice.ok(&["put", dir.path().join("src").to_str().expect("path"), "/"]);
    }
    assert!(every_file(&data).iter().any(|(_, b)| holds(b, b"MARKER-Q7ZK")), "plaintext before");
    let st = admin_key(&["status", "--data", &data_arg, "--key-file", &key_arg]);
    assert_eq!(st["encrypted"], false);

    let made = admin_key(&["init", "--data", &data_arg, "--key-file", &key_arg]);
    assert!(made["key_id"].is_string());
    let server = Server::start_with(&data, None, &["--key-file", &key_arg, "--config", config.to_str().expect("path")]);
    let relogin = alice.run_stdin(&["login", &server.url, "--user", "alice"], &format!("{}\n", common::PASSWORD));
    assert_eq!(relogin.code, 0, "{}", relogin.stderr);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = admin_key(&["status", "--data", &data_arg, "--key-file", &key_arg]);
        if st["plaintext_chunks_remain"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "plaintext chunks remain: {st}");
        std::thread::sleep(Duration::from_millis(300));
    }
    for (path, bytes) in every_file(&data) {
        assert!(!holds(&bytes, b"MARKER-Q7ZK"), "a marker in {path}");
    }
    let back = dir.path().join("back");
    alice.ok(&["get", "/src", back.to_str().expect("path")]);
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(back.join(name)).expect("downloaded"), bytes, "{name}");
    }
    drop(server);
}
