//! Public links: their owners make, list and revoke them; anyone with one sees its item
//! (metadata, folder listings) and, if the link allows, downloads files (Range, ETag)
//! and folders (a streamed zip). `GET /s/{token}` is the link itself: the file, or the
//! folder's zip, for any HTTP client.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use coffer_core::LinkId;
use coffer_core::wire::{
    LinkInfo, LinkRequest, LinksResponse, PublicItem, PublicLinkResponse, PublicListResponse, UnlockRequest,
    UnlockResponse,
};
use coffer_service::LinkVisitor;
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, ClientAddr, Visitor};
use crate::routes::content::{Plan, plan, respond, set_disposition};

#[derive(Deserialize)]
pub struct LinksQuery {
    pub path: Option<String>,
}

pub async fn create(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiJson(r): ApiJson<LinkRequest>,
) -> ApiResult<Json<LinkInfo>> {
    Ok(Json(s.service.create_link(&c, &r).await?))
}

pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<LinksQuery>,
) -> ApiResult<Json<LinksResponse>> {
    Ok(Json(LinksResponse { links: s.service.links(&c, q.path.as_deref()).await? }))
}

pub async fn revoke(State(s): State<AppState>, Auth(c): Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<LinkInfo>> {
    Ok(Json(s.service.revoke_link(&c, LinkId(id)).await?))
}

/// Where below a link a visitor looks.
#[derive(Deserialize)]
pub struct PublicQuery {
    /// A path below the linked item (`/` is the item).
    #[serde(default = "root")]
    pub path: String,
    pub after: Option<String>,
    pub limit: Option<i64>,
    /// Show a file in the browser (a preview) rather than save it.
    #[serde(default)]
    pub inline: bool,
}

fn root() -> String {
    "/".into()
}

pub async fn summary(State(s): State<AppState>, Visitor(v): Visitor) -> ApiResult<Json<PublicLinkResponse>> {
    Ok(Json(s.service.link_summary(&v).await))
}

pub async fn unlock(
    State(s): State<AppState>,
    ClientAddr(from): ClientAddr,
    ApiPath(token): ApiPath<String>,
    ApiJson(r): ApiJson<UnlockRequest>,
) -> ApiResult<Json<UnlockResponse>> {
    Ok(Json(s.service.unlock_link(&token, &r.password, from).await?))
}

pub async fn stat(
    State(s): State<AppState>,
    Visitor(v): Visitor,
    ApiQuery(q): ApiQuery<PublicQuery>,
) -> ApiResult<Json<PublicItem>> {
    Ok(Json(s.service.link_stat(&v, &q.path).await?))
}

pub async fn list_folder(
    State(s): State<AppState>,
    Visitor(v): Visitor,
    ApiQuery(q): ApiQuery<PublicQuery>,
) -> ApiResult<Json<PublicListResponse>> {
    Ok(Json(s.service.link_list(&v, &q.path, q.after.as_deref(), q.limit).await?))
}

pub async fn content(
    State(s): State<AppState>,
    Visitor(v): Visitor,
    ApiQuery(q): ApiQuery<PublicQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    download_file(&s, &v, &q.path, &headers, q.inline).await
}

pub async fn zip(
    State(s): State<AppState>,
    Visitor(v): Visitor,
    ApiQuery(q): ApiQuery<PublicQuery>,
) -> ApiResult<Response> {
    download_zip(&s, &v, &q.path).await
}

/// The link itself: for a browser, the web app's landing page of the link (preview,
/// folder browsing, download); for any other client (curl, wget), its file or its
/// folder as a zip. `?download` always means the bytes.
pub async fn direct(State(s): State<AppState>, mut parts: Parts) -> ApiResult<Response> {
    let wants_page = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().starts_with("text/html")));
    let download =
        parts.uri.query().is_some_and(|q| q.split('&').any(|p| p == "download" || p.starts_with("download=")));
    if wants_page && !download {
        return Ok(crate::web::index());
    }
    let Visitor(v) = Visitor::from_request_parts(&mut parts, &s).await?;
    if v.is_folder() {
        download_zip(&s, &v, "/").await
    } else {
        download_file(&s, &v, "/", &parts.headers, false).await
    }
}

/// A file below the link. A request that starts at the first byte counts as one
/// download; later ranges of it (a resumed or seeking client) do not.
async fn download_file(
    s: &AppState,
    v: &LinkVisitor,
    path: &str,
    headers: &HeaderMap,
    inline: bool,
) -> ApiResult<Response> {
    let c = s.service.link_open_file(v, path).await?;
    let slot = s.downloads.take(v.owner())?;
    let name = c.node.name.clone();
    let plan = plan(&c, headers);
    if let Plan::Send { start: 0, .. } = plan {
        s.service.link_take_download(v).await?;
    }
    let mut resp = respond(c, plan, slot)?;
    set_disposition(&mut resp, &name, inline);
    Ok(resp)
}

/// A folder below the link as a zip named after it; counts as one download.
async fn download_zip(s: &AppState, v: &LinkVisitor, path: &str) -> ApiResult<Response> {
    let entries = s.service.link_walk(v, path).await?;
    let item = s.service.link_stat(v, path).await?;
    if item.kind != coffer_core::wire::NodeKind::Folder {
        return Err(crate::error::ApiError::new(
            coffer_core::ErrorCode::NotAFolder,
            format!("'{}' is a file; download it as one", item.path),
        ));
    }
    let name = if item.path == "/" { v.name().to_owned() } else { item.name };
    let slot = s.downloads.take(v.owner())?;
    s.service.link_take_download(v).await?;
    let mut resp = crate::zip::zip_body(s.service.clone(), entries, slot).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    set_disposition(&mut resp, &format!("{name}.zip"), false);
    Ok(resp)
}
