//! Upload sessions, chunk uploads (single or framed batches) and commits.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use coffer_core::chunking::MAX_CHUNK_SIZE;
use coffer_core::wire::{CommitRequest, CommitResponse, CommitResult, UploadRequest, UploadResponse, chunk_frames};
use coffer_core::{ChunkHash, ErrorCode, RevisionId, UploadId};
use coffer_service::CommitFile;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiBytes, ApiJson, ApiPath, Auth};

pub async fn begin(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<UploadRequest>,
) -> ApiResult<Json<UploadResponse>> {
    Ok(Json(s.service.begin_upload(&c, &r.chunks).await?))
}

fn parse_hash(raw: &str) -> ApiResult<ChunkHash> {
    raw.parse().map_err(|_| ApiError::new(ErrorCode::InvalidHash, "a chunk hash is 64 lowercase hex characters"))
}

pub async fn put_chunk(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiPath((id, hash)): ApiPath<(String, String)>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<StatusCode> {
    let hash = parse_hash(&hash)?;
    if body.len() > MAX_CHUNK_SIZE {
        return Err(ApiError::new(ErrorCode::TooLarge, format!("a chunk is at most {MAX_CHUNK_SIZE} bytes")));
    }
    s.service.put_chunks(&c, &UploadId(id), vec![(hash, body)]).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn put_frames(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiPath(id): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<StatusCode> {
    let frames = chunk_frames::parse(&body, MAX_CHUNK_SIZE)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "the body is not a sequence of chunk frames"))?;
    let chunks = frames.into_iter().map(|(h, start, end)| (h, body.slice(start..end))).collect();
    s.service.put_chunks(&c, &UploadId(id), chunks).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn abort(State(s): State<AppState>, Auth(c): Auth, ApiPath(id): ApiPath<String>) -> ApiResult<StatusCode> {
    s.service.abort_upload(&c, &UploadId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn commit(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<CommitRequest>,
) -> ApiResult<Json<CommitResponse>> {
    let files = r
        .files
        .into_iter()
        .map(|f| CommitFile {
            path: f.path,
            node_id: f.node_id.map(coffer_core::NodeId),
            parent_rev: f.parent_rev.map(RevisionId),
            mtime: f.mtime,
            mode: f.mode,
            chunks: f.chunks,
        })
        .collect();
    let outcomes = s.service.commit(&c, r.upload_id.map(UploadId).as_ref(), files, r.close_upload).await?;
    let results = outcomes
        .into_iter()
        .map(|o| match o {
            Ok(node) => CommitResult { node: Some(node), error: None },
            Err(e) => CommitResult { node: None, error: Some(e.into_detail()) },
        })
        .collect();
    Ok(Json(CommitResponse { results }))
}
