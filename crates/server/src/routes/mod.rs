//! The route table.

mod accounts;
mod comments;
pub(crate) mod content;
mod journal;
mod links;
mod notify;
mod ops;
mod sharing;
mod tree;
mod upload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use coffer_core::ErrorCode;
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::error::ApiError;

/// Bodies of ordinary JSON requests.
const JSON_LIMIT: usize = 1024 * 1024;
/// Commit and upload declarations carry manifests: up to about 600,000 chunks.
const MANIFEST_LIMIT: usize = 64 * 1024 * 1024;
/// A batch of framed chunks.
pub(crate) const FRAMES_LIMIT: usize = 32 * 1024 * 1024 + 64 * 1024;

pub fn router(state: AppState) -> Router {
    let manifests = Router::new()
        .route("/api/v1/uploads", post(upload::begin))
        .route("/api/v1/commit", post(upload::commit))
        .layer(DefaultBodyLimit::max(MANIFEST_LIMIT));
    let chunks = Router::new()
        .route("/api/v1/uploads/{id}/chunks/{hash}", put(upload::put_chunk))
        .route("/api/v1/uploads/{id}/chunks", post(upload::put_frames))
        .layer(DefaultBodyLimit::max(FRAMES_LIMIT));
    let api = Router::new()
        .route("/api/v1/setup", get(accounts::setup_status).post(accounts::setup))
        .route("/api/v1/session", get(accounts::session).post(accounts::start_session).delete(accounts::end_session))
        .route("/api/v1/auth/login", post(accounts::login))
        .route("/api/v1/auth/logout", post(accounts::logout))
        .route("/api/v1/auth/whoami", get(accounts::whoami))
        .route("/api/v1/devices", get(accounts::devices))
        .route("/api/v1/devices/revoke-others", post(accounts::revoke_other_devices))
        .route("/api/v1/account/password", post(accounts::change_password))
        .route("/api/v1/account/2fa", get(accounts::two_factor))
        .route("/api/v1/account/2fa/enable", post(accounts::two_factor_enable))
        .route("/api/v1/account/2fa/confirm", post(accounts::two_factor_confirm))
        .route("/api/v1/account/2fa/disable", post(accounts::two_factor_disable))
        .route("/api/v1/devices/{id}", delete(accounts::revoke_device))
        .route("/api/v1/audit", get(accounts::audit))
        .route("/api/v1/app-passwords", get(accounts::app_passwords).post(accounts::create_app_password))
        .route("/api/v1/app-passwords/{id}", delete(accounts::revoke_app_password))
        .route("/api/v1/fs/stat", get(tree::stat))
        .route("/api/v1/nodes/{id}", get(tree::stat_id))
        .route("/api/v1/fs/list", get(tree::list))
        .route("/api/v1/fs/mkdir", post(tree::mkdir))
        .route("/api/v1/fs/move", post(tree::move_node))
        .route("/api/v1/fs/delete", post(tree::delete))
        .route("/api/v1/fs/restore", post(tree::restore_at))
        .route("/api/v1/trash", get(tree::trash_list))
        .route("/api/v1/trash/restore", post(tree::trash_restore))
        .route("/api/v1/trash/purge", post(tree::trash_purge))
        .route("/api/v1/versions", get(tree::versions))
        .route("/api/v1/versions/restore", post(tree::restore_version))
        .route("/api/v1/shares", get(sharing::list).post(sharing::share))
        .route("/api/v1/shares/remove", post(sharing::remove_member))
        .route("/api/v1/shares/leave", post(sharing::leave))
        .route("/api/v1/file-shares", get(sharing::file_shares).post(sharing::share_file))
        .route("/api/v1/file-shares/remove", post(sharing::unshare_file))
        .route("/api/v1/comments", get(comments::list).post(comments::add))
        .route("/api/v1/comments/{id}", put(comments::edit).delete(comments::delete))
        .route("/api/v1/links", get(links::list).post(links::create))
        .route("/api/v1/links/{id}", delete(links::revoke))
        .route("/api/v1/public/{token}", get(links::summary))
        .route("/api/v1/public/{token}/unlock", post(links::unlock))
        .route("/api/v1/public/{token}/stat", get(links::stat))
        .route("/api/v1/public/{token}/list", get(links::list_folder))
        .route("/api/v1/public/{token}/content", get(links::content))
        .route("/api/v1/public/{token}/zip", get(links::zip))
        .route("/s/{token}", get(links::direct))
        .route("/api/v1/fs/content", get(content::by_path))
        .route("/api/v1/fs/zip", get(content::zip))
        .route("/api/v1/fs/thumbnail", get(content::thumbnail))
        .route("/api/v1/revisions/{rev}/content", get(content::by_revision))
        .route("/api/v1/revisions/{rev}/manifest", get(content::manifest))
        .route("/api/v1/chunks/{hash}", get(content::chunk))
        .route("/api/v1/uploads/{id}", delete(upload::abort))
        .route("/api/v1/journal/delta", get(journal::delta))
        .route("/api/v1/journal/latest", get(journal::latest))
        .route("/api/v1/journal/longpoll", get(journal::longpoll))
        .route("/api/v1/notify", get(notify::notify))
        .layer(DefaultBodyLimit::max(JSON_LIMIT));
    Router::new()
        .merge(manifests)
        .merge(chunks)
        .merge(api)
        .route("/api/v1/openapi.json", get(ops::openapi))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .fallback(crate::web::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(record_metrics))
        .layer(middleware::from_fn_with_state(state.clone(), crate::web::common_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this endpoint does not take that method")
}

/// A request method as a metrics label: one of a fixed set, so a client cannot create
/// series (hyper accepts any token as a method).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts requests and their latency by route template, method and status: labels come
/// from closed sets (routes of the table, "unmatched" for the rest), never from the request.
async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(req.method());
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("coffer_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("coffer_http_request_seconds", "route" => route, "method" => method)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// Long-lived things (downloads, notify sockets) each user holds open right now, so that
/// one user cannot hold an unbounded number of them.
#[derive(Clone)]
pub(crate) struct UserSlots {
    what: &'static str,
    per_user: usize,
    open: Arc<Mutex<HashMap<coffer_core::UserId, usize>>>,
}

/// One held slot; freed when dropped (with the response body or the socket).
pub(crate) struct UserSlot {
    user: coffer_core::UserId,
    open: Arc<Mutex<HashMap<coffer_core::UserId, usize>>>,
}

impl UserSlots {
    pub(crate) fn new(what: &'static str, per_user: usize) -> Self {
        Self { what, per_user: per_user.max(1), open: Arc::default() }
    }

    pub(crate) fn take(&self, user: coffer_core::UserId) -> Result<UserSlot, ApiError> {
        let mut open = self.open.lock().map_err(|_| ApiError::new(ErrorCode::Internal, "slots poisoned"))?;
        let n = open.entry(user).or_default();
        if *n >= self.per_user {
            let mut e = ApiError::new(
                ErrorCode::RateLimited,
                format!("at most {} {} at once per user; retry when one ends", self.per_user, self.what),
            );
            e.0.retry_after = Some(std::time::Duration::from_secs(1));
            return Err(e);
        }
        *n += 1;
        Ok(UserSlot { user, open: self.open.clone() })
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock()
            && let Some(n) = open.get_mut(&self.user)
        {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}
