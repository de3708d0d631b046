//! Shared folders: share, list, remove a member, leave.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use coffer_core::wire::{PathRequest, ShareRequest, SharedFolderInfo, SharesResponse, UnshareRequest};
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
