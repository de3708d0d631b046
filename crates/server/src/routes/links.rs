//! Public links: their owners make, list and revoke them; anyone with one sees its item
//! (metadata, folder listings) and, if the link allows, downloads files (Range, ETag)
//! and folders (a streamed zip). `GET /s/{token}` is the link itself: the file, or the
//! folder's zip, for any HTTP client.

use axum::Json;
use axum::extract::State;
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
use crate::routes::content::{Plan, plan, respond};

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
    download_file(&s, &v, &q.path, &headers).await
}

pub async fn zip(
    State(s): State<AppState>,
    Visitor(v): Visitor,
    ApiQuery(q): ApiQuery<PublicQuery>,
) -> ApiResult<Response> {
    download_zip(&s, &v, &q.path).await
}

/// The link itself: its file, or its folder as a zip.
pub async fn direct(State(s): State<AppState>, Visitor(v): Visitor, headers: HeaderMap) -> ApiResult<Response> {
    if v.is_folder() { download_zip(&s, &v, "/").await } else { download_file(&s, &v, "/", &headers).await }
}

/// A file below the link. A request that starts at the first byte counts as one
/// download; later ranges of it (a resumed or seeking client) do not.
async fn download_file(s: &AppState, v: &LinkVisitor, path: &str, headers: &HeaderMap) -> ApiResult<Response> {
    let c = s.service.link_open_file(v, path).await?;
    let slot = s.downloads.take(v.owner())?;
    let name = c.node.name.clone();
    let plan = plan(&c, headers);
    if let Plan::Send { start: 0, .. } = plan {
        s.service.link_take_download(v).await?;
    }
    let mut resp = respond(c, plan, slot)?;
    set_attachment(&mut resp, &name);
    Ok(resp)
}

/// A folder below the link as a zip named after it; counts as one download.
async fn download_zip(s: &AppState, v: &LinkVisitor, path: &str) -> ApiResult<Response> {
    let entries = s.service.link_walk(v, path)?;
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
    set_attachment(&mut resp, &format!("{name}.zip"));
    Ok(resp)
}

/// `Content-Disposition: attachment` with the name in ASCII and in UTF-8 (RFC 6266).
fn set_attachment(resp: &mut Response, name: &str) {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
}
