//! What the server's end-to-end test files share: a real server on loopback for each
//! engine (SQLite, and PostgreSQL when available), users, uploads and zip reading.
#![allow(dead_code)]

use bytes::Bytes;
use coffer_core::{ChunkHash, ChunkRef, NodeId};
use coffer_service::{Caller, CommitFile, Service, ServiceConfig, StorageConfig};
use reqwest::{Client, StatusCode};
use serde_json::Value;

pub struct Env {
    pub service: Service,
    pub base: String,
    pub http: Client,
    pub dir: tempfile::TempDir,
}

pub async fn envs() -> Vec<Env> {
    let mut urls = vec![None];
    if let Some(pg) = coffer_metastore::testing::fresh_postgres().await {
        urls.push(Some(pg));
    }
    let mut out = Vec::new();
    for url in urls {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("meta.db").display()));
        let storage = StorageConfig { database_url: url, chunk_dir: dir.path().join("chunks") };
        let service = Service::open(&storage, ServiceConfig::default()).await.expect("open");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let day = std::time::Duration::from_secs(86_400);
        tokio::spawn(coffer_server::serve(service.clone(), listener, Default::default(), day, std::future::pending()));
        coffer_server::tls::install_default_provider();
        out.push(Env { service, base, http: Client::new(), dir });
    }
    out
}

pub async fn caller(s: &Service, name: &str) -> Caller {
    s.admin_service().create_user(name, "a long password", false, None).await.expect("user");
    let login = s.login(name, "a long password", "dev", None).await.expect("login");
    s.authenticate(&login.token).await.expect("auth")
}

/// Uploads `data` at `path` in chunks of `piece` bytes (repeated pieces are sent once).
pub async fn put(s: &Service, c: &Caller, path: &str, data: &[u8], piece: usize) -> NodeId {
    let chunks: Vec<ChunkRef> =
        data.chunks(piece.max(1)).map(|p| ChunkRef { hash: ChunkHash::of(p), size: p.len() as u32 }).collect();
    let up = s.begin_upload(c, &chunks).await.expect("begin");
    let id = coffer_core::UploadId(up.upload_id);
    let mut sent = std::collections::HashSet::new();
    for p in data.chunks(piece.max(1)) {
        let hash = ChunkHash::of(p);
        if up.missing.contains(&hash) && sent.insert(hash) {
            s.put_chunks(c, &id, vec![(hash, Bytes::copy_from_slice(p))]).await.expect("put");
        }
    }
    let file = CommitFile {
        node_id: None,
        path: path.into(),
        parent_rev: None,
        mtime: Some(1_700_000_000_000),
        mode: Default::default(),
        chunks,
    };
    let node = s.commit(c, Some(&id), vec![file], true).await.expect("commit").remove(0).expect("committed");
    NodeId(node.id)
}

impl Env {
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, reqwest::header::HeaderMap, Bytes) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("send");
        let (status, h) = (resp.status(), resp.headers().clone());
        (status, h, resp.bytes().await.expect("body"))
    }

    pub async fn json(&self, path: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.get(path, &[]).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    pub async fn code(&self, path: &str) -> (StatusCode, String) {
        let (status, v) = self.json(path).await;
        (status, v["error"]["code"].as_str().unwrap_or_default().to_owned())
    }
}

/// Reads a zip with Python's `zipfile` (checking every CRC): name -> size, or a
/// trailing `/` for folders, and the bytes of `read`.
pub fn read_zip(path: &std::path::Path, read: &str) -> (Vec<(String, u64)>, Vec<u8>) {
    read_zip_with(path, read, "assert z.testzip() is None, 'a bad CRC'")
}

/// [`read_zip`], with `check` (Python, `z` the open archive) run before the listing.
pub fn read_zip_with(path: &std::path::Path, read: &str, check: &str) -> (Vec<(String, u64)>, Vec<u8>) {
    let script = r#"
import sys, zipfile, json, zlib
z = zipfile.ZipFile(sys.argv[1])
exec(sys.argv[3])
print(json.dumps([[i.filename, i.file_size] for i in z.infolist()]))
data = z.read(sys.argv[2]) if sys.argv[2] else b""
sys.stdout.flush()
sys.stdout.buffer.write(data)
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(read)
        .arg(check)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "python zipfile: {}", String::from_utf8_lossy(&out.stderr));
    let newline = out.stdout.iter().position(|b| *b == b'\n').expect("listing line");
    let listing: Vec<(String, u64)> = serde_json::from_slice(&out.stdout[..newline]).expect("listing json");
    (listing, out.stdout[newline + 1..].to_vec())
}
