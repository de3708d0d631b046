//! Setup, login, logout, devices, app passwords, and the web app's cookie sessions.

use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffer_core::wire::{
    AppPasswordCreated, AppPasswordRequest, AuditPage, AuditQuery, DeviceInfo, LoginRequest, LoginResponse,
    PasswordChangeRequest, RecoveryCodes, RevokedResponse, SessionRequest, SetupRequest, SetupStatus,
    TwoFactorCodeRequest, TwoFactorDisableRequest, TwoFactorSetup, TwoFactorStatus, UserInfo,
};
use coffer_core::{DeviceId, ErrorCode};
use coffer_service::SignIn;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, Auth, BrowserAuth, ClientAddr, SESSION_COOKIE, check_browser_request,
};

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
    let sign_in = SignIn { name: &req.user, password: &req.password, code: req.code.as_deref() };
    Ok(Json(s.service.sign_in(&sign_in, &req.device, from).await?))
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

/// The audit log: the caller's own events, an administrator's everyone's.
pub async fn audit(
    State(s): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    Ok(Json(s.service.audit_log(&caller, &q).await?))
}

/// The account's app passwords.
pub async fn app_passwords(State(s): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<Vec<DeviceInfo>>> {
    Ok(Json(s.service.app_passwords(&caller).await?))
}

/// Makes an app password, shown in this answer only.
pub async fn create_app_password(
    State(s): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<AppPasswordRequest>,
) -> ApiResult<Response> {
    let made: AppPasswordCreated = s.service.create_app_password(&caller, &req.name, req.read_only).await?;
    Ok(([(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], (StatusCode::CREATED, Json(made)))
        .into_response())
}

/// Revokes one of the account's app passwords.
pub async fn revoke_app_password(
    State(s): State<AppState>,
    Auth(caller): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    s.service.revoke_app_password(&caller, DeviceId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs out every other device and browser of the account.
pub async fn revoke_other_devices(State(s): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<RevokedResponse>> {
    Ok(Json(RevokedResponse { revoked: s.service.revoke_other_devices(&caller).await? }))
}

/// Changes the password; every other device and browser is signed out.
pub async fn change_password(
    State(s): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<PasswordChangeRequest>,
) -> ApiResult<Json<RevokedResponse>> {
    Ok(Json(RevokedResponse { revoked: s.service.change_password(&caller, &req.current, &req.new).await? }))
}

/// Whether the caller's account signs in with a second factor.
pub async fn two_factor(State(s): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<TwoFactorStatus>> {
    Ok(Json(s.service.two_factor_status(&caller).await?))
}

/// Starts setting up two-factor sign-in (pending until confirmed by a first code).
pub async fn two_factor_enable(State(s): State<AppState>, Auth(caller): Auth) -> ApiResult<Response> {
    let setup: TwoFactorSetup = s.service.two_factor_begin(&caller).await?;
    Ok(([(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Json(setup)).into_response())
}

/// Turns two-factor sign-in on; the answer holds the recovery codes, shown once.
pub async fn two_factor_confirm(
    State(s): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<TwoFactorCodeRequest>,
) -> ApiResult<Response> {
    let codes: RecoveryCodes = s.service.two_factor_confirm(&caller, &req.code).await?;
    Ok(([(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Json(codes)).into_response())
}

/// Turns two-factor sign-in off (the password and a code).
pub async fn two_factor_disable(
    State(s): State<AppState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<TwoFactorDisableRequest>,
) -> ApiResult<StatusCode> {
    s.service.two_factor_disable(&caller, &req.password, &req.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the first admin still has to be created (the web app then shows the setup form).
pub async fn setup_status(State(s): State<AppState>) -> ApiResult<Json<SetupStatus>> {
    Ok(Json(s.service.setup_status().await?))
}

/// Signs a browser in: the session token goes into an HttpOnly cookie, the page gets the
/// CSRF token and the user.
pub async fn start_session(
    State(s): State<AppState>,
    ClientAddr(from): ClientAddr,
    parts: Parts,
    ApiJson(req): ApiJson<SessionRequest>,
) -> ApiResult<Response> {
    // No session yet, but a sign-in from another site's page (signing the visitor in to
    // an account of the other site's choosing) is refused all the same.
    check_browser_request(&parts, None)?;
    let agent = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let sign_in = SignIn { name: &req.user, password: &req.password, code: req.code.as_deref() };
    let (token, session) = s.service.start_session(&sign_in, agent, from).await?;
    let max_age = coffer_service::SESSION_LIFETIME_MS / 1000;
    let cookie = session_cookie(&parts, &s, &token, max_age)?;
    Ok(([(header::SET_COOKIE, cookie), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Json(session))
        .into_response())
}

/// The signed-in browser's session again (after a reload the page has lost its CSRF token).
pub async fn session(State(s): State<AppState>, auth: BrowserAuth) -> ApiResult<Response> {
    let info = s.service.session_info(&auth.caller, &auth.token).await?;
    Ok(([(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Json(info)).into_response())
}

/// Signs the browser out: the session is revoked and the cookie cleared.
pub async fn end_session(State(s): State<AppState>, parts: Parts, auth: BrowserAuth) -> ApiResult<Response> {
    s.service.logout(&auth.caller).await?;
    let cookie = session_cookie(&parts, &s, "", 0)?;
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

/// The session cookie: HttpOnly (page script cannot read it), SameSite=Lax (not sent on
/// other sites' subrequests and form posts), Secure when the browser reached the server
/// over HTTPS (a reverse proxy that says so in `X-Forwarded-Proto`, when trusted).
fn session_cookie(parts: &Parts, s: &AppState, token: &str, max_age: i64) -> ApiResult<HeaderValue> {
    let https = s.http.tls.is_some()
        || s.http.trust_forwarded_for
            && parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(|_| ApiError::new(ErrorCode::Internal, "the session cookie is not a header value"))
}
