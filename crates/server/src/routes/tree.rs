//! Stat, list, mkdir, move, delete, trash and versions.

use axum::Json;
use axum::extract::State;
use coffer_core::wire::{
    ListResponse, MkdirRequest, MoveRequest, NodeInfo, PathRequest, PurgeResponse, RestoreAtRequest, RestoreAtResponse,
    TrashListResponse, TrashPurgeRequest, TrashRestoreRequest, VersionRestoreRequest, VersionsResponse,
};
use coffer_core::{NodeId, RevisionId};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};

#[derive(Deserialize)]
pub struct PathQuery {
    pub path: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub path: String,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

pub async fn stat(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<PathQuery>,
) -> ApiResult<Json<NodeInfo>> {
    Ok(Json(s.service.stat(&c, &q.path).await?))
}

pub async fn stat_id(State(s): State<AppState>, Auth(c): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<NodeInfo>> {
    Ok(Json(s.service.stat_id(&c, NodeId(id)).await?))
}

pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ListResponse>> {
    let (entries, next_after) = s.service.list(&c, &q.path, q.after.as_deref(), q.limit).await?;
    Ok(Json(ListResponse { entries, next_after }))
}

pub async fn mkdir(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<MkdirRequest>,
) -> ApiResult<Json<NodeInfo>> {
    Ok(Json(s.service.mkdir(&c, &r.path, r.parents).await?))
}

pub async fn move_node(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<MoveRequest>,
) -> ApiResult<Json<NodeInfo>> {
    Ok(Json(s.service.move_node(&c, &r.from, &r.to).await?))
}

pub async fn delete(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<PathRequest>,
) -> ApiResult<Json<NodeInfo>> {
    Ok(Json(s.service.delete_if(&c, &r.path, r.if_rev.map(RevisionId)).await?))
}

pub async fn trash_list(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<TrashListResponse>> {
    Ok(Json(TrashListResponse { entries: s.service.trash_list(&c).await? }))
}

pub async fn trash_restore(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<TrashRestoreRequest>,
) -> ApiResult<Json<NodeInfo>> {
    Ok(Json(s.service.trash_restore(&c, NodeId(r.id)).await?))
}

pub async fn trash_purge(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<TrashPurgeRequest>,
) -> ApiResult<Json<PurgeResponse>> {
    Ok(Json(PurgeResponse { purged: s.service.trash_purge(&c, r.id.map(NodeId)).await? }))
}

pub async fn versions(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<PathQuery>,
) -> ApiResult<Json<VersionsResponse>> {
    Ok(Json(VersionsResponse { versions: s.service.versions(&c, &q.path).await? }))
}

pub async fn restore_version(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<VersionRestoreRequest>,
) -> ApiResult<Json<NodeInfo>> {
    Ok(Json(s.service.restore_version(&c, &r.path, RevisionId(r.rev)).await?))
}

pub async fn restore_at(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<RestoreAtRequest>,
) -> ApiResult<Json<RestoreAtResponse>> {
    Ok(Json(s.service.restore_at(&c, &r.path, r.at, r.dry_run).await?))
}
