//! Hostile load against a real `coffer serve` on loopback: floods and slow clients
//! must cost bounded memory, be refused with clear codes, and never take the server
//! down. Each test would fail on a server without the matching limit.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Server;
use futures::StreamExt;
use reqwest::{Method, StatusCode};

const MIB: u64 = 1024 * 1024;

fn http() -> reqwest::Client {
    coffer_server::tls::install_default_provider();
    reqwest::Client::builder().pool_max_idle_per_host(256).build().expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_flood_keeps_memory_bounded_and_is_refused_with_429() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    server.add_user("alice", &[]);
    let http = http();
    let url = format!("{}/api/v1/auth/login", server.url);
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    // 640 wrong passwords, 128 in flight at a time, over a few accounts (one real).
    let statuses: Vec<u16> = futures::stream::iter(0..640)
        .map(|i| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let user = if i % 2 == 0 { "alice".to_owned() } else { format!("nobody{}", i % 7) };
                let body = serde_json::json!({"user": user, "password": format!("guess number {i}"), "device": "d"});
                match http.post(&url).json(&body).send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                }
            }
        })
        .buffer_unordered(128)
        .collect()
        .await;
    for s in statuses {
        *counts.entry(s).or_default() += 1;
    }
    let peak = server.peak_rss();
    eprintln!("statuses {counts:?}; server peak RSS {} MiB", peak / MIB);
    assert!(peak < 300 * MIB, "server peak RSS {} MiB under a sign-in flood", peak / MIB);
    assert_eq!(counts.get(&0), None, "every request was answered: {counts:?}");
    assert!(counts.keys().all(|s| [401, 429, 503].contains(s)), "only 401, 429 and 503: {counts:?}");
    // The flood is answered `busy` past the queue; the guesses that were checked count
    // towards the back-off, so the next guess at the account is refused unchecked.
    let next = http
        .post(&url)
        .json(&serde_json::json!({"user": "alice", "password": "one more guess", "device": "d"}))
        .send()
        .await
        .expect("send");
    assert_eq!(next.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(next.headers().contains_key("retry-after"));
    let health = http.get(format!("{}/healthz", server.url)).send().await.expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_methods_do_not_grow_the_metrics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    let http = http();
    let long = "M".repeat(8 * 1024);
    let methods: Vec<String> = (0..3000).map(|i| format!("FLOOD{i}")).chain([long]).collect();
    let statuses: Vec<u16> = futures::stream::iter(methods)
        .map(|m| {
            let http = http.clone();
            let url = format!("{}/api/v1/fs/list", server.url);
            async move {
                let method = Method::from_bytes(m.as_bytes()).expect("method");
                http.request(method, url).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s < 500), "no 5xx for a made-up method");
    let text = http.get(format!("{}/metrics", server.url)).send().await.expect("metrics").text().await.expect("text");
    assert!(!text.contains("FLOOD"), "a made-up method became a label");
    assert!(text.contains("method=\"other\""), "made-up methods are counted as other");
    assert!(text.len() < 256 * 1024, "/metrics is {} bytes after a method flood", text.len());
}

#[test]
fn slow_clients_are_disconnected_after_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("coffer.toml");
    std::fs::write(&config, "header_timeout_secs = 2\n").expect("config");
    let server =
        Server::start_with(&dir.path().join("data"), None, &["--config", config.to_str().expect("utf-8 path")]);
    let addr = server.url.trim_start_matches("http://").to_owned();
    // 300 clients that send half a request and then nothing.
    let mut slow: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).expect("connect");
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: coffer\r\nX-Slow: ").expect("write");
            s
        })
        .collect();
    // An idle keep-alive connection is closed after the same time.
    let mut idle = TcpStream::connect(&addr).expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: coffer\r\n\r\n").expect("write");
    std::thread::sleep(Duration::from_secs(5));
    slow.push(idle);
    let mut closed = 0;
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut buf = Vec::new();
        // Whatever the server said (a 408, or the idle one's answer), it then closed.
        if s.read_to_end(&mut buf).is_ok() {
            closed += 1;
        }
    }
    assert_eq!(closed, slow.len(), "slow connections still open after the header timeout");
    let mut fresh = TcpStream::connect(&addr).expect("connect");
    fresh.write_all(b"GET /healthz HTTP/1.1\r\nHost: coffer\r\nConnection: close\r\n\r\n").expect("write");
    let mut answer = String::new();
    fresh.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data, None);
    server.add_user("alice", &[]);
    let client = common::Client::login(&server, "alice");
    let local = dir.path().join("f.bin");
    std::fs::write(&local, common::random_bytes(300_000, 1)).expect("write");
    client.ok(&["put", local.to_str().expect("path"), "/"]);
    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data directory");
    assert_eq!(mode(&data.join("meta.db")), 0o600, "meta.db");
    let mut chunk_files = 0;
    // Plaintext chunks (none: the server encrypts) and sealed ones, with their key list.
    for tree in ["chunks", "sealed"] {
        for prefix in std::fs::read_dir(data.join("chunks").join(tree)).expect("chunks") {
            let prefix = prefix.expect("entry").path();
            if prefix.is_file() {
                assert_eq!(mode(&prefix), 0o600, "{}", prefix.display());
                continue;
            }
            assert_eq!(mode(&prefix), 0o700, "{}", prefix.display());
            for f in std::fs::read_dir(&prefix).expect("prefix") {
                assert_eq!(mode(&f.expect("entry").path()), 0o600);
                chunk_files += 1;
            }
        }
    }
    assert!(chunk_files > 0);
}

#[test]
fn slow_readers_hold_bounded_memory_are_capped_per_user_and_time_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("coffer.toml");
    std::fs::write(&config, "download_memory_mib = 32\ndownloads_per_user = 40\nsend_timeout_secs = 3\n")
        .expect("config");
    let server =
        Server::start_with(&dir.path().join("data"), None, &["--config", config.to_str().expect("utf-8 path")]);
    server.add_user("alice", &[]);
    let client = common::Client::login(&server, "alice");
    let local = dir.path().join("forty.bin");
    std::fs::write(&local, common::random_bytes(40 << 20, 9)).expect("write");
    client.ok(&["put", local.to_str().expect("path"), "/"]);
    let token = client.token();
    let addr = server.url.trim_start_matches("http://").to_owned();
    let request = format!(
        "GET /api/v1/fs/content?path=/forty.bin HTTP/1.1\r\nHost: coffer\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    let before = server.rss();
    // 40 downloads that read nothing: each may hold what its response has in flight,
    // but all of them together stay within the download budget.
    let stalled: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).expect("connect");
            s.write_all(request.as_bytes()).expect("write");
            s
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let during = server.rss();
    eprintln!("server RSS {} MiB before, {} MiB with 40 stalled downloads", before / MIB, during / MIB);
    assert!(during.saturating_sub(before) < 96 * MIB, "40 stalled downloads took {} MiB", (during - before) / MIB);
    // The 41st download of the same user is refused while they hang on.
    let mut extra = TcpStream::connect(&addr).expect("connect");
    extra.write_all(request.as_bytes()).expect("write");
    let mut head = [0u8; 12];
    extra.read_exact(&mut head).expect("answer");
    assert_eq!(&head, b"HTTP/1.1 429", "{}", String::from_utf8_lossy(&head));
    // Past the send timeout the stalled connections are closed and their slots free.
    std::thread::sleep(Duration::from_secs(6));
    for mut s in stalled {
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut sink = Vec::new();
        let ended = s.read_to_end(&mut sink);
        assert!(ended.is_ok() || ended.is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset));
        assert!(sink.len() < 40 << 20, "a stalled download was not cut off");
    }
    let mut fresh = TcpStream::connect(&addr).expect("connect");
    fresh.write_all(request.as_bytes()).expect("write");
    fresh.read_exact(&mut head).expect("answer");
    assert_eq!(&head, b"HTTP/1.1 200", "slots came back");
}
