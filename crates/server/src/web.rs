//! The web app: its built assets, embedded in the binary by `build.rs`, served with a
//! strict Content-Security-Policy. Any GET outside `/api/` that names no asset gets the
//! app's page, whose script routes by the URL (`/files/...`, `/trash`, `/s/{token}`).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffer_core::ErrorCode;

use crate::error::ApiError;

pub(crate) struct Asset {
    pub path: &'static str,
    pub body: &'static [u8],
    pub content_type: &'static str,
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The policy of every page of the app: scripts, styles and workers only from this
/// server (no inline script, no eval; WebAssembly for hashing), nothing framed from
/// elsewhere, and the app never framed by another site.
pub(crate) const APP_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
     img-src 'self' blob: data:; media-src 'self' blob:; frame-src 'self' blob:; worker-src 'self' blob:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// The app's page, for any route the app handles in the browser.
pub(crate) fn index() -> Response {
    match find("/index.html") {
        Some(a) => respond(a, &HeaderMap::new()),
        None => ApiError::new(ErrorCode::NotFound, "this server has no web app").into_response(),
    }
}

/// The router's fallback: unknown API endpoints are JSON errors, a GET of anything else
/// is an asset or the app's page.
pub(crate) async fn fallback(req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path == "/api" {
        return ApiError::new(ErrorCode::NotFound, "no such endpoint").into_response();
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return ApiError::new(ErrorCode::MethodNotAllowed, "this endpoint does not take that method").into_response();
    }
    match find(path) {
        Some(a) if path != "/index.html" => respond(a, req.headers()),
        // A missing file under /assets/ is a stale page asking for an old build's
        // script: a 404 tells it so, where the page would be parsed as a script.
        None if path.starts_with("/assets/") => {
            ApiError::new(ErrorCode::NotFound, "no such asset (reload the page)").into_response()
        }
        _ => index(),
    }
}

fn respond(a: &'static Asset, req: &HeaderMap) -> Response {
    let hashed = a.path.starts_with("/assets/");
    let not_modified = req
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == a.etag));
    let mut resp =
        if not_modified { StatusCode::NOT_MODIFIED.into_response() } else { Body::from(a.body).into_response() };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    h.insert(header::ETAG, HeaderValue::from_static(a.etag));
    // Vite names built files by their content: they never change. The page itself is
    // checked every time so a new build is picked up at once.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if hashed { "public, max-age=31536000, immutable" } else { "no-cache" }),
    );
    if a.content_type.starts_with("text/html") {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(APP_CSP));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    resp
}

/// Headers every answer carries: no MIME sniffing (a file served as bytes is never run
/// as a page), and no Referer leaking a public link's token or a path to other sites.
pub(crate) async fn common_headers(
    axum::extract::State(s): axum::extract::State<crate::AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if s.http.tls.is_some() {
        // Served over TLS: browsers keep to HTTPS for this host for a year.
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    resp
}
