//! Setup, login, logout, devices.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use coffer_core::DeviceId;
use coffer_core::wire::{DeviceInfo, LoginRequest, LoginResponse, SetupRequest, UserInfo};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Auth, ClientAddr};

pub async fn setup(
    State(s): State<AppState>,
    ClientAddr(from): ClientAddr,
    ApiJson(req): ApiJson<SetupRequest>,
) -> ApiResult<Json<UserInfo>> {
    Ok(Json(s.service.setup(&req.token, &req.name, &req.password, from).await?))
}

pub async fn login(
    State(s): State<AppState>,
    ClientAddr(from): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    Ok(Json(s.service.login(&req.user, &req.password, &req.device, from).await?))
}

pub async fn logout(State(s): State<AppState>, Auth(caller): Auth) -> ApiResult<StatusCode> {
    s.service.logout(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn whoami(State(s): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<UserInfo>> {
    Ok(Json(s.service.whoami(&caller).await?))
}

pub async fn devices(State(s): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<Vec<DeviceInfo>>> {
    Ok(Json(s.service.list_devices(&caller).await?))
}

pub async fn revoke_device(
    State(s): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    s.service.revoke_device(&caller, DeviceId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
