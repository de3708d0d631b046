//! Crash safety: the server is killed with SIGKILL in the middle of a large upload and
//! in the middle of batched commits. After a restart no half-written revision is
//! visible, every committed file downloads intact (no revision references a missing
//! chunk), and re-running the upload completes.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, Server, random_bytes};

fn count_chunks(data: &Path) -> usize {
    fn walk(p: &Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    // Plaintext chunks, and sealed ones (not their key list beside them).
    let sealed = data.join("chunks/sealed");
    let sealed_files = std::fs::read_dir(&sealed)
        .map(|rd| rd.flatten().filter(|e| e.path().is_dir()).map(|e| walk(&e.path())).sum())
        .unwrap_or(0);
    walk(&data.join("chunks/chunks")) + sealed_files
}

fn spawn_put(c: &Client, local: &Path, remote: &str) -> std::process::Child {
    Command::new(common::bin())
        .args(["put", "--json", local.to_str().expect("utf8"), remote])
        .env("COFFER_CONFIG_DIR", c.config.path())
        .env("COFFER_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn put")
}

/// Every file the server lists under `remote` downloads and equals the local copy:
/// no visible revision is half-written or references a missing chunk.
fn assert_listed_files_intact(c: &Client, remote: &str, local_root: &Path) -> usize {
    if c.run(&["stat", remote]).code != 0 {
        return 0;
    }
    let dl = tempfile::tempdir().expect("tempdir");
    let dest = dl.path().join("copy");
    c.ok(&["get", remote, dest.to_str().expect("utf8")]);
    let mut n = 0;
    let mut stack = vec![dest.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(&dest).expect("inside");
            assert_eq!(
                std::fs::read(&p).expect("read"),
                std::fs::read(local_root.join(rel)).expect("read local"),
                "{} is visible but its content is not what was uploaded",
                rel.display()
            );
            n += 1;
        }
    }
    n
}

#[test]
fn kill_during_a_large_upload() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let c = Client::login(&server, "alice");
    let work = tempfile::tempdir().expect("tempdir");
    let big = work.path().join("big.bin");
    std::fs::write(&big, random_bytes(64 * 1024 * 1024, 9)).expect("write");

    let mut put = spawn_put(&c, &big, "/big.bin");
    let start = Instant::now();
    // With 4 chunk requests in flight, the 8th chunk on disk means at least 4 uploads
    // were acknowledged (and recorded) before the kill.
    while count_chunks(data.path()) < 8 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill9();
    let _ = put.kill();
    let _ = put.wait();
    server.restart();

    // Nothing half-written is visible: the file is absent or whole.
    let stat = c.run(&["stat", "--json", "/big.bin"]);
    if stat.code == 0 {
        assert_eq!(stat.json()["size"].as_u64(), Some(64 * 1024 * 1024));
    }
    // The re-run completes, and sends only what did not arrive before the crash.
    let rerun = c.ok(&["put", "--json", big.to_str().expect("utf8"), "/big.bin"]).json();
    if stat.code != 0 {
        let sent = rerun["bytes_sent"].as_u64().expect("sent");
        assert!(
            sent < 64 * 1024 * 1024,
            "the resumed upload sent {sent} bytes: chunks stored before the crash were sent again"
        );
    }
    let out = work.path().join("back.bin");
    c.ok(&["get", "/big.bin", out.to_str().expect("utf8")]);
    assert_eq!(std::fs::read(&out).expect("read"), std::fs::read(&big).expect("read"));
}

#[test]
fn kill_during_commits() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let c = Client::login(&server, "alice");
    let work = tempfile::tempdir().expect("tempdir");
    let tree = work.path().join("tree");
    for d in 0..4 {
        let dir = tree.join(format!("d{d}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        for f in 0..150 {
            let bytes = random_bytes(200 + (d * 150 + f) * 37, (d * 1000 + f) as u64);
            std::fs::write(dir.join(format!("f{f}.bin")), bytes).expect("write");
        }
    }
    // Kill at several points of the run (the chunk count says how far it got: chunks
    // are sent a batch at a time and each batch is committed before the next); each
    // restart must find a consistent state. Chunks from earlier rounds are not sent again.
    for threshold in [150usize, 350, 550] {
        let mut put = spawn_put(&c, &tree, "/");
        let start = Instant::now();
        while count_chunks(data.path()) < threshold && start.elapsed() < Duration::from_secs(60) {
            if put.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        server.kill9();
        // The client would retry until the server is back; this test is about the server.
        let _ = put.kill();
        let _ = put.wait();
        server.restart();
        let visible = assert_listed_files_intact(&c, "/tree", &tree);
        eprintln!("killed after {threshold} chunks: {visible} files visible, all intact");
    }
    c.ok(&["put", &tree.to_string_lossy(), "/"]);
    assert_eq!(assert_listed_files_intact(&c, "/tree", &tree), 600);
}

/// A bulk purge and a bulk restore cut short by SIGKILL are finished by maintenance
/// after the restart: the purged folder is gone with its quota refunded, and every item
/// of the restored folder is told of in the journal exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_a_huge_purge_and_restore() {
    for database in common::databases().await {
        kill_during_bulk_work(database).await;
    }
}

async fn kill_during_bulk_work(database: Option<String>) {
    use serde_json::{Value, json};
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("coffer.toml");
    std::fs::write(&config, "maintenance_interval_secs = 1\n").expect("config");
    let mut server =
        Server::start_with(&dir.path().join("data"), database, &["--config", config.to_str().expect("utf-8 path")]);
    server.add_user("alice", &[]);
    let token = Client::login(&server, "alice").token();
    coffer_server::tls::install_default_provider();
    let http = reqwest::Client::new();
    let api = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{}{path}", server.url)).bearer_auth(&token).json(&body).send()
    };
    // One 100-byte chunk, shared by every file.
    let data = random_bytes(100, 3);
    let hash = coffer_core::ChunkHash::of(&data);
    let chunk = json!([{"hash": hash, "size": 100}]);
    let up: Value = api(reqwest::Method::POST, "/api/v1/uploads", json!({"chunks": chunk}))
        .await
        .expect("begin")
        .json()
        .await
        .expect("json");
    let upload = up["upload_id"].as_str().expect("id").to_owned();
    let sent = http
        .put(format!("{}/api/v1/uploads/{upload}/chunks/{hash}", server.url))
        .bearer_auth(&token)
        .body(data.clone())
        .send()
        .await
        .expect("chunk");
    assert!(sent.status().is_success());
    let fill = |folder: &'static str| {
        let (api, upload, chunk) = (&api, upload.clone(), chunk.clone());
        async move {
            for batch in 0..20 {
                let files: Vec<Value> =
                    (0..1000).map(|i| json!({"path": format!("/{folder}/d{batch}/f{i}"), "chunks": chunk})).collect();
                let r = api(reqwest::Method::POST, "/api/v1/commit", json!({"upload_id": upload, "files": files}))
                    .await
                    .expect("commit");
                assert!(r.status().is_success());
            }
        }
    };
    fill("purged").await;
    fill("restored").await;
    for folder in ["/purged", "/restored"] {
        let r = api(reqwest::Method::POST, "/api/v1/fs/delete", json!({"path": folder})).await.expect("trash");
        assert!(r.status().is_success());
    }
    let trash = |server_url: String, token: String| async move {
        let v: Value = reqwest::Client::new()
            .get(format!("{server_url}/api/v1/trash"))
            .bearer_auth(token)
            .send()
            .await
            .expect("trash")
            .json()
            .await
            .expect("json");
        v["entries"].as_array().cloned().unwrap_or_default()
    };
    let in_trash = trash(server.url.clone(), token.clone()).await;
    let id_of = |path: &str| {
        in_trash
            .iter()
            .find(|e| e["original_path"] == path)
            .map(|e| e["node"]["id"].as_i64().expect("id"))
            .expect("in the trash")
    };
    let (purged_id, restored_id) = (id_of("/purged"), id_of("/restored"));
    let (_, cursor) = delta_to_end(&http, &server.url, &token, None).await;

    // Purge and restore at once, and kill the server while they run.
    let purge = tokio::spawn(api(reqwest::Method::POST, "/api/v1/trash/purge", json!({"id": purged_id})));
    let restore = tokio::spawn(api(reqwest::Method::POST, "/api/v1/trash/restore", json!({"id": restored_id})));
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.restart();
    let (purge, restore) = (purge.await.expect("join"), restore.await.expect("join"));
    eprintln!(
        "cut short by the kill: purge {}, restore {}",
        purge.as_ref().map_or(true, |r| !r.status().is_success()),
        restore.as_ref().map_or(true, |r| !r.status().is_success())
    );
    // The restore may not have begun: then the user tries again.
    if trash(server.url.clone(), token.clone()).await.iter().any(|e| e["original_path"] == "/restored") {
        let r = http
            .post(format!("{}/api/v1/trash/restore", server.url))
            .bearer_auth(&token)
            .json(&json!({"id": restored_id}))
            .send()
            .await
            .expect("restore again");
        assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
    }
    // The purge may not have begun either: then it is asked for again.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = trash(server.url.clone(), token.clone()).await;
        let me: Value = http
            .get(format!("{}/api/v1/auth/whoami", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .expect("whoami")
            .json()
            .await
            .expect("json");
        if left.is_empty() && me["used_bytes"] == 20_000 * 100 {
            break;
        }
        if left.iter().any(|e| e["original_path"] == "/purged") {
            let _ = http
                .post(format!("{}/api/v1/trash/purge", server.url))
                .bearer_auth(&token)
                .json(&json!({"id": purged_id}))
                .send()
                .await;
        }
        assert!(Instant::now() < deadline, "purge not finished: {} in the trash, {me}", left.len());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Every restored item is told of exactly once (maintenance finishes the journal).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut told = std::collections::HashMap::<i64, usize>::new();
        for change in delta_to_end(&http, &server.url, &token, cursor.clone()).await.0 {
            if change["kind"] == "restored" {
                *told.entry(change["node"]["id"].as_i64().expect("id")).or_default() += 1;
            }
        }
        assert!(told.values().all(|n| *n == 1), "an item was told of twice");
        if told.len() == 1 + 20 + 20_000 {
            break;
        }
        assert!(Instant::now() < deadline, "restore journal incomplete: {} of 20,021", told.len());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every change of the journal after `cursor`, and the cursor of its end.
async fn delta_to_end(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    mut cursor: Option<String>,
) -> (Vec<serde_json::Value>, Option<String>) {
    let mut changes = Vec::new();
    loop {
        let q = cursor.as_ref().map(|c| format!("?cursor={c}&limit=5000")).unwrap_or("?limit=5000".into());
        let d: serde_json::Value = http
            .get(format!("{url}/api/v1/journal/delta{q}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("delta")
            .json()
            .await
            .expect("json");
        changes.extend(d["changes"].as_array().cloned().unwrap_or_default());
        cursor = d["cursor"].as_str().map(str::to_owned);
        if d["has_more"] != true {
            return (changes, cursor);
        }
    }
}
