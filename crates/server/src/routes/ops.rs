//! Health, metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use coffer_core::wire::HealthResponse;

use crate::AppState;
use crate::error::ApiResult;

pub async fn healthz(State(s): State<AppState>) -> ApiResult<Json<HealthResponse>> {
    s.service.health().await?;
    Ok(Json(HealthResponse { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() }))
}

pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render())
}

pub async fn openapi() -> impl IntoResponse {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], crate::openapi::document())
}
