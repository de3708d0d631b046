//! An in-memory stand-in for the server's REST API, for this crate's tests only. It
//! keeps files as chunk lists, deduplicates chunks, checks `parent_rev`, serves ranges
//! with ETags, pages listings two entries at a time, and can inject faults.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use bytes::Bytes;
use coffer_core::chunking::MAX_CHUNK_SIZE;
use coffer_core::wire::{
    CommitRequest, CommitResponse, CommitResult, ErrorBody, ErrorDetail, HealthResponse, ListResponse, NodeInfo,
    NodeKind, UploadRequest, UploadResponse, chunk_frames,
};
use coffer_core::{ChunkHash, ChunkRef, ErrorCode, Manifest, RemotePath};
use futures::StreamExt;
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct MockFile {
    pub path: RemotePath,
    pub rev: i64,
    pub chunks: Vec<ChunkRef>,
}

/// The server's state, open to tests for setup and inspection.
#[derive(Debug, Default)]
pub struct MockState {
    pub files: HashMap<String, MockFile>,
    pub chunks: HashMap<ChunkHash, Bytes>,
    pub next_rev: i64,
    pub next_upload: u64,
    /// Requests per endpoint name ("commit", "put_chunk", ...).
    pub calls: HashMap<&'static str, usize>,
    /// Answer the next N requests with 503.
    pub fail_next: usize,
    /// Cut the next download body after this many bytes.
    pub cut_download_after: Option<usize>,
    /// After cutting a download, replace the file's content with these bytes.
    pub replace_after_cut: Option<Vec<u8>>,
    /// The next commit "loses" every chunk it names and reports them missing.
    pub forget_chunks_once: bool,
    /// The next commit finds every existing file edited meanwhile.
    pub edit_before_commit: bool,
}

pub type Shared = Arc<Mutex<MockState>>;

fn lock(s: &Shared) -> MutexGuard<'_, MockState> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

impl MockState {
    fn count(&mut self, name: &'static str) {
        *self.calls.entry(name).or_default() += 1;
    }

    pub fn calls(&self, name: &str) -> usize {
        self.calls.get(name).copied().unwrap_or(0)
    }

    /// Stores `data` as a file at `path` (chunked like a client would).
    pub fn put_file(&mut self, path: &str, data: &[u8]) {
        let mut chunks = Vec::new();
        for c in coffer_core::chunk_reader(data, coffer_core::ChunkerConfig::default()).flatten() {
            chunks.push(ChunkRef { hash: c.hash, size: c.data.len() as u32 });
            self.chunks.insert(c.hash, Bytes::from(c.data));
        }
        let path = RemotePath::parse(path).expect("valid test path");
        self.next_rev += 1;
        self.files.insert(key(&path), MockFile { path, rev: self.next_rev, chunks });
    }

    pub fn content(&self, path: &str) -> Option<Vec<u8>> {
        let f = self.files.get(&key(&RemotePath::parse(path).ok()?))?;
        let mut out = Vec::new();
        for c in &f.chunks {
            out.extend_from_slice(self.chunks.get(&c.hash)?);
        }
        Some(out)
    }

    fn is_folder(&self, path: &RemotePath) -> bool {
        let k = key(path);
        path.is_root() || self.files.keys().any(|f| f.starts_with(&format!("{k}/")))
    }
}

fn key(path: &RemotePath) -> String {
    path.to_string().to_lowercase()
}

fn error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let detail = ErrorDetail { code, message: message.into(), current: None, missing: None, retry_after_secs: None };
    (status, axum::Json(ErrorBody { error: detail })).into_response()
}

fn file_node(f: &MockFile) -> NodeInfo {
    let m = Manifest::new(f.chunks.clone());
    NodeInfo {
        id: f.rev,
        namespace_id: 1,
        parent_id: Some(1),
        name: f.path.file_name().map(|n| n.to_string()).unwrap_or_default(),
        kind: NodeKind::File,
        path: Some(f.path.to_string()),
        size: m.size(),
        rev: Some(f.rev),
        content_hash: Some(m.content_hash()),
        modified_at: 0,
        mtime: None,
        mode: Default::default(),
        trashed: false,
    }
}

fn folder_node(path: &RemotePath) -> NodeInfo {
    NodeInfo {
        id: 1,
        namespace_id: 1,
        parent_id: None,
        name: path.file_name().map(|n| n.to_string()).unwrap_or_default(),
        kind: NodeKind::Folder,
        path: Some(path.to_string()),
        size: 0,
        rev: None,
        content_hash: None,
        modified_at: 0,
        mtime: None,
        mode: Default::default(),
        trashed: false,
    }
}

#[derive(Deserialize)]
struct PathQuery {
    path: String,
    after: Option<String>,
}

async fn faults(State(s): State<Shared>, req: Request, next: Next) -> Response {
    {
        let mut st = lock(&s);
        if st.fail_next > 0 {
            st.fail_next -= 1;
            return error(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy, "busy");
        }
    }
    next.run(req).await
}

async fn health(State(s): State<Shared>) -> Response {
    lock(&s).count("health");
    axum::Json(HealthResponse { status: "ok".into(), version: "mock".into() }).into_response()
}

async fn stat(State(s): State<Shared>, Query(q): Query<PathQuery>) -> Response {
    let mut st = lock(&s);
    st.count("stat");
    let Ok(path) = RemotePath::parse(&q.path) else {
        return error(StatusCode::BAD_REQUEST, ErrorCode::InvalidName, "bad path");
    };
    if let Some(f) = st.files.get(&key(&path)) {
        return axum::Json(file_node(f)).into_response();
    }
    if st.is_folder(&path) {
        return axum::Json(folder_node(&path)).into_response();
    }
    error(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such file")
}

async fn list(State(s): State<Shared>, Query(q): Query<PathQuery>) -> Response {
    let mut st = lock(&s);
    st.count("list");
    let Ok(path) = RemotePath::parse(&q.path) else {
        return error(StatusCode::BAD_REQUEST, ErrorCode::InvalidName, "bad path");
    };
    if !st.is_folder(&path) {
        return error(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such folder");
    }
    let depth = path.names().len() + 1;
    let mut entries: HashMap<String, NodeInfo> = HashMap::new();
    for f in st.files.values().filter(|f| f.path.starts_with(&path) && f.path.names().len() >= depth) {
        let names = &f.path.names()[..depth];
        let child = names.iter().fold(RemotePath::root(), |p, n| p.join(n.clone()));
        let node = if f.path.names().len() == depth { file_node(f) } else { folder_node(&child) };
        entries.insert(node.name.clone(), node);
    }
    let mut entries: Vec<NodeInfo> = entries.into_values().collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    entries.retain(|e| q.after.as_ref().is_none_or(|a| e.name > *a));
    let next_after = (entries.len() > 2).then(|| entries[1].name.clone());
    entries.truncate(2);
    axum::Json(ListResponse { entries, next_after }).into_response()
}

async fn begin_upload(State(s): State<Shared>, axum::Json(req): axum::Json<UploadRequest>) -> Response {
    let mut st = lock(&s);
    st.count("begin_upload");
    st.next_upload += 1;
    let mut seen = HashSet::new();
    let missing =
        req.chunks.iter().filter(|c| !st.chunks.contains_key(&c.hash) && seen.insert(c.hash)).map(|c| c.hash).collect();
    let upload_id = format!("{:032x}", st.next_upload);
    axum::Json(UploadResponse { upload_id, missing, expires_at: 0 }).into_response()
}

fn store(st: &mut MockState, hash: ChunkHash, data: &[u8]) -> Option<Response> {
    if ChunkHash::of(data) != hash {
        return Some(error(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ChunkHashMismatch, "mismatch"));
    }
    st.chunks.insert(hash, Bytes::copy_from_slice(data));
    None
}

async fn put_chunk(State(s): State<Shared>, Path((_id, hash)): Path<(String, String)>, body: Bytes) -> Response {
    let mut st = lock(&s);
    st.count("put_chunk");
    let Ok(hash) = hash.parse::<ChunkHash>() else {
        return error(StatusCode::BAD_REQUEST, ErrorCode::InvalidHash, "bad hash");
    };
    store(&mut st, hash, &body).unwrap_or_else(|| StatusCode::NO_CONTENT.into_response())
}

async fn put_chunks(State(s): State<Shared>, Path(_id): Path<String>, body: Bytes) -> Response {
    let mut st = lock(&s);
    st.count("put_chunks");
    let Some(frames) = chunk_frames::parse(&body, MAX_CHUNK_SIZE) else {
        return error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "bad frames");
    };
    for (hash, start, end) in frames {
        if let Some(refused) = store(&mut st, hash, &body[start..end]) {
            return refused;
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn abort_upload(State(s): State<Shared>) -> Response {
    lock(&s).count("abort_upload");
    StatusCode::NO_CONTENT.into_response()
}

async fn commit(State(s): State<Shared>, axum::Json(req): axum::Json<CommitRequest>) -> Response {
    let mut st = lock(&s);
    st.count("commit");
    if std::mem::take(&mut st.forget_chunks_once) {
        for c in req.files.iter().flat_map(|f| &f.chunks) {
            st.chunks.remove(&c.hash);
        }
    }
    if std::mem::take(&mut st.edit_before_commit) {
        for f in st.files.values_mut() {
            f.rev += 1000;
        }
    }
    let mut results = Vec::new();
    for file in req.files {
        let fail = |code, message: String, missing| CommitResult {
            node: None,
            error: Some(ErrorDetail { code, message, current: None, missing, retry_after_secs: None }),
        };
        let Ok(path) = RemotePath::parse(&file.path) else {
            results.push(fail(ErrorCode::InvalidName, "bad path".into(), None));
            continue;
        };
        let missing: Vec<ChunkHash> =
            file.chunks.iter().filter(|c| !st.chunks.contains_key(&c.hash)).map(|c| c.hash).collect();
        if !missing.is_empty() {
            results.push(fail(ErrorCode::MissingChunks, "chunks missing".into(), Some(missing)));
            continue;
        }
        let k = key(&path);
        if let Some(existing) = st.files.get(&k)
            && Some(existing.rev) != file.parent_rev
        {
            results.push(fail(ErrorCode::Conflict, format!("'{path}' changed meanwhile"), None));
            continue;
        }
        st.next_rev += 1;
        let f = MockFile { path, rev: st.next_rev, chunks: file.chunks };
        results.push(CommitResult { node: Some(file_node(&f)), error: None });
        st.files.insert(k, f);
    }
    axum::Json(CommitResponse { results }).into_response()
}

async fn content(State(s): State<Shared>, Query(q): Query<PathQuery>, headers: HeaderMap) -> Response {
    let mut st = lock(&s);
    st.count("content");
    let Some(file) = RemotePath::parse(&q.path).ok().and_then(|p| st.files.get(&key(&p)).cloned()) else {
        return error(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such file");
    };
    let data = st.content(&q.path).unwrap_or_default();
    let etag = format!("\"{}\"", Manifest::new(file.chunks.clone()).content_hash());
    let range_start = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.strip_suffix('-'))
        .and_then(|v| v.parse::<usize>().ok());
    let if_range_ok = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) == Some(etag.as_str());
    let (status, start) = match range_start {
        Some(start) if if_range_ok => {
            st.count("content_range");
            if start >= data.len() {
                return error(StatusCode::RANGE_NOT_SATISFIABLE, ErrorCode::RangeNotSatisfiable, "bad range");
            }
            (StatusCode::PARTIAL_CONTENT, start)
        }
        _ => (StatusCode::OK, 0),
    };
    let body = data[start..].to_vec();
    let mut resp = Response::builder()
        .status(status)
        .header(header::ETAG, &etag)
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::ACCEPT_RANGES, "bytes");
    if status == StatusCode::PARTIAL_CONTENT {
        resp = resp.header(header::CONTENT_RANGE, format!("bytes {start}-{}/{}", data.len() - 1, data.len()));
    }
    let body = match st.cut_download_after.take() {
        Some(cut) if cut < body.len() => {
            if let Some(new) = st.replace_after_cut.take() {
                st.put_file(&q.path, &new);
            }
            let head = Bytes::copy_from_slice(&body[..cut]);
            let parts: Vec<Result<Bytes, std::io::Error>> =
                vec![Ok(head), Err(std::io::Error::other("connection cut by the test"))];
            // The pause lets the head and the first bytes reach the client before the cut.
            Body::from_stream(futures::stream::iter(parts).then(|part| async {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                part
            }))
        }
        _ => Body::from(body),
    };
    resp.body(body).unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Starts the mock on a free local port; returns its base URL and state.
pub async fn start() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new()
        .route("/healthz", get(health))
        .route("/api/v1/fs/stat", get(stat))
        .route("/api/v1/fs/list", get(list))
        .route("/api/v1/fs/content", get(content))
        .route("/api/v1/uploads", post(begin_upload))
        .route("/api/v1/uploads/{id}", delete(abort_upload))
        .route("/api/v1/uploads/{id}/chunks", post(put_chunks))
        .route("/api/v1/uploads/{id}/chunks/{hash}", put(put_chunk))
        .route("/api/v1/commit", post(commit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), faults))
        .layer(DefaultBodyLimit::disable())
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), state)
}
