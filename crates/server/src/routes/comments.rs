//! Comments on files: add, list, edit, delete.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use coffer_core::CommentId;
use coffer_core::wire::{CommentEditRequest, CommentInfo, CommentRequest, CommentsResponse};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};

#[derive(Deserialize)]
pub struct CommentsQuery {
    pub path: String,
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

pub async fn add(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<CommentRequest>,
) -> ApiResult<Json<CommentInfo>> {
    Ok(Json(s.service.add_comment(&c, &r.path, &r.body).await?))
}

pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<CommentsQuery>,
) -> ApiResult<Json<CommentsResponse>> {
    let (comments, next_after) = s.service.comments(&c, &q.path, q.after, q.limit).await?;
    Ok(Json(CommentsResponse { comments, next_after }))
}

pub async fn edit(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<CommentEditRequest>,
) -> ApiResult<Json<CommentInfo>> {
    Ok(Json(s.service.edit_comment(&c, CommentId(id), &r.body).await?))
}

pub async fn delete(State(s): State<AppState>, Auth(c): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    s.service.delete_comment(&c, CommentId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
