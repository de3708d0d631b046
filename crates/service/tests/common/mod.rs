//! Helpers shared by the service's integration tests: a service on every engine, a
//! signed-in caller, a one-chunk upload.

#![allow(dead_code)]

use bytes::Bytes;
use coffer_core::{ChunkHash, ChunkRef};
use coffer_service::{Caller, CommitFile, Service, ServiceConfig, StorageConfig};

pub struct Env {
    pub service: Service,
    pub dir: tempfile::TempDir,
    pub url: String,
}

pub async fn envs(config: ServiceConfig) -> Vec<Env> {
    let mut out = Vec::new();
    let mut urls: Vec<Option<String>> = vec![None];
    if let Some(pg) = coffer_metastore::testing::fresh_postgres().await {
        urls.push(Some(pg));
    }
    for url in urls {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("meta.db").display()));
        let storage = StorageConfig { database_url: url.clone(), chunk_dir: dir.path().join("chunks") };
        out.push(Env { service: Service::open(&storage, config.clone()).await.expect("open"), dir, url });
    }
    out
}

pub async fn caller(s: &Service, name: &str) -> Caller {
    s.admin_service().create_user(name, "a long password", false, None).await.expect("user");
    let login = s.login(name, "a long password", "dev", None).await.expect("login");
    s.authenticate(&login.token).await.expect("auth")
}

/// Uploads and commits `data` (one chunk) at `path`.
pub async fn put(
    s: &Service,
    c: &Caller,
    path: &str,
    data: &[u8],
    parent_rev: Option<i64>,
) -> coffer_service::CommitOutcome {
    put_to(s, c, path, None, data, parent_rev).await
}

/// Uploads and commits `data` (one chunk) at `path`, or as a new revision of the file
/// with id `node_id` (a file shared with the caller; `path` then only names it).
pub async fn put_to(
    s: &Service,
    c: &Caller,
    path: &str,
    node_id: Option<i64>,
    data: &[u8],
    parent_rev: Option<i64>,
) -> coffer_service::CommitOutcome {
    let hash = ChunkHash::of(data);
    let chunks = vec![ChunkRef { hash, size: data.len() as u32 }];
    let up = s.begin_upload(c, &chunks).await.expect("begin");
    if !up.missing.is_empty() {
        s.put_chunks(c, &coffer_core::UploadId(up.upload_id.clone()), vec![(hash, Bytes::copy_from_slice(data))])
            .await
            .expect("put");
    }
    let file = CommitFile {
        path: path.into(),
        node_id: node_id.map(coffer_core::NodeId),
        parent_rev: parent_rev.map(coffer_core::RevisionId),
        mtime: None,
        mode: Default::default(),
        chunks,
    };
    let mut out =
        s.commit(c, Some(&coffer_core::UploadId(up.upload_id.clone())), vec![file], false).await.expect("commit");
    out.remove(0)
}
