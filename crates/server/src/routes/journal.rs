//! Delta and long-poll over the journal.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use coffer_core::wire::{CursorResponse, DeltaResponse, LongPollResponse};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiQuery, Auth};

/// The longest a long-poll waits before answering "nothing changed".
const MAX_LONGPOLL_SECS: u64 = 300;

#[derive(Deserialize)]
pub struct DeltaQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize)]
pub struct PollQuery {
    pub cursor: Option<String>,
    pub timeout_secs: Option<u64>,
}

pub async fn delta(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<DeltaQuery>,
) -> ApiResult<Json<DeltaResponse>> {
    Ok(Json(s.service.delta(&c, q.cursor.as_deref(), q.limit).await?))
}

pub async fn latest(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<CursorResponse>> {
    Ok(Json(CursorResponse { cursor: s.service.latest_cursor(&c).await? }))
}

pub async fn longpoll(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<PollQuery>,
) -> ApiResult<Json<LongPollResponse>> {
    let timeout = Duration::from_secs(q.timeout_secs.unwrap_or(60).clamp(1, MAX_LONGPOLL_SECS));
    Ok(Json(LongPollResponse { changed: s.service.wait_for_change(&c, q.cursor.as_deref(), timeout).await? }))
}
