//! Shared folders (share, list, remove a member, leave) and files shared with single
//! users.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use coffer_core::wire::{
    FileShareRequest, FileSharesResponse, FileUnshareRequest, PathRequest, ShareRequest, SharedFileInfo,
    SharedFolderInfo, SharesResponse, UnshareRequest,
};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, Auth};

#[derive(Deserialize)]
pub struct SharesQuery {
    pub path: Option<String>,
    #[serde(default)]
    pub with_me: bool,
}

pub async fn share(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<ShareRequest>,
) -> ApiResult<Json<SharedFolderInfo>> {
    Ok(Json(s.service.share_folder(&c, &r.path, &r.user, r.role).await?))
}

pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<SharesQuery>,
) -> ApiResult<Json<SharesResponse>> {
    Ok(Json(SharesResponse { shares: s.service.shares(&c, q.path.as_deref(), q.with_me).await? }))
}

pub async fn remove_member(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<UnshareRequest>,
) -> ApiResult<Json<SharedFolderInfo>> {
    Ok(Json(s.service.unshare(&c, &r.path, &r.user).await?))
}

pub async fn leave(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<PathRequest>,
) -> ApiResult<StatusCode> {
    s.service.leave_share(&c, &r.path).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct FileSharesQuery {
    #[serde(default)]
    pub with_me: bool,
}

pub async fn share_file(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<FileShareRequest>,
) -> ApiResult<Json<SharedFileInfo>> {
    Ok(Json(s.service.share_file(&c, &r.path, &r.user, r.role).await?))
}

pub async fn file_shares(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<FileSharesQuery>,
) -> ApiResult<Json<FileSharesResponse>> {
    Ok(Json(FileSharesResponse { files: s.service.file_shares(&c, q.with_me).await? }))
}

pub async fn unshare_file(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<FileUnshareRequest>,
) -> ApiResult<StatusCode> {
    s.service.unshare_file(&c, coffer_core::NodeId(r.id), &r.user).await?;
    Ok(StatusCode::NO_CONTENT)
}
