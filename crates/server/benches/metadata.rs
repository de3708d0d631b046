//! Metadata latency over real HTTP on loopback, embedded store (SQLite + local chunks):
//! stat, rename, and listing a folder of 1,000 entries, each measured over many
//! requests, reported as p50 / p99 / max.
//!
//! `cargo bench -p coffer-server --bench metadata`

use std::time::{Duration, Instant};

use coffer_core::ChunkRef;
use coffer_core::wire::{CommitFileRequest, CommitRequest};
use coffer_service::{Service, ServiceConfig, StorageConfig};
use serde_json::json;

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!("p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})", ms(at(0.5)), ms(at(0.99)), ms(at(1.0)), samples.len())
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = StorageConfig {
        database_url: format!("sqlite://{}", dir.path().join("meta.db").display()),
        chunk_dir: dir.path().join("chunks"),
    };
    let service = Service::open(&storage, ServiceConfig::default()).await.expect("open");
    service.admin_service().create_user("bench", "a long password", false, None).await.expect("user");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = coffer_server::app(service.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    coffer_server::tls::install_default_provider();
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"user": "bench", "password": "a long password", "device": "bench"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();

    // A folder of 1,000 empty files, committed in four batches.
    for batch in 0..4 {
        let files = (0..250)
            .map(|i| CommitFileRequest {
                node_id: None,
                path: format!("/big/file-{:04}.txt", batch * 250 + i),
                parent_rev: None,
                mtime: None,
                mode: Default::default(),
                chunks: Vec::<ChunkRef>::new(),
            })
            .collect();
        let req = CommitRequest { upload_id: None, files, close_upload: false };
        let resp =
            http.post(format!("{base}/api/v1/commit")).bearer_auth(&token).json(&req).send().await.expect("commit");
        assert!(resp.status().is_success());
    }

    let mut stat = Vec::new();
    for i in 0..2000 {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/api/v1/fs/stat"))
            .query(&[("path", format!("/big/file-{:04}.txt", i % 1000))])
            .bearer_auth(&token)
            .send()
            .await
            .expect("stat");
        r.bytes().await.expect("body");
        stat.push(t.elapsed());
    }
    let mut rename = Vec::new();
    for i in 0..1000 {
        let (from, to) = if i % 2 == 0 {
            ("/big/file-0000.txt", "/big/renamed.txt")
        } else {
            ("/big/renamed.txt", "/big/file-0000.txt")
        };
        let t = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/fs/move"))
            .bearer_auth(&token)
            .json(&json!({"from": from, "to": to}))
            .send()
            .await
            .expect("move");
        assert!(r.status().is_success());
        r.bytes().await.expect("body");
        rename.push(t.elapsed());
    }
    let mut list = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/api/v1/fs/list"))
            .query(&[("path", "/big"), ("limit", "1000")])
            .bearer_auth(&token)
            .send()
            .await
            .expect("list");
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["entries"].as_array().map(|a| a.len()), Some(1000));
        list.push(t.elapsed());
    }
    println!("stat:            {}", percentiles(stat));
    println!("rename:          {}", percentiles(rename));
    println!("list 1,000:      {}", percentiles(list));
}
