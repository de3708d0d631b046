//! Downloads with HTTP Range and ETag; manifests and single chunks.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffer_core::wire::ManifestResponse;
use coffer_core::{ErrorCode, RevisionId};
use coffer_service::ContentStream;
use futures::TryStreamExt;
use serde::Deserialize;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery, Auth};
use crate::routes::UserSlot;

#[derive(Deserialize)]
pub struct ContentQuery {
    pub path: String,
    pub rev: Option<i64>,
    /// Show the file in the browser (a preview) rather than save it.
    #[serde(default)]
    pub inline: bool,
}

#[derive(Deserialize)]
pub struct RevisionQuery {
    #[serde(default)]
    pub inline: bool,
}

pub async fn by_path(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<ContentQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let slot = s.downloads.take(c.user_id())?;
    serve_content(s.service.open_file(&c, &q.path, q.rev.map(RevisionId)).await?, &headers, slot, q.inline)
}

pub async fn by_revision(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiPath(rev): ApiPath<i64>,
    ApiQuery(q): ApiQuery<RevisionQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let slot = s.downloads.take(c.user_id())?;
    serve_content(s.service.open_revision(&c, RevisionId(rev)).await?, &headers, slot, q.inline)
}

/// A selection of files and folders (`?path=/a&path=/b`, or one folder) as a zip that
/// streams while it is written, with no size cap.
pub async fn zip(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let paths: Vec<String> = q.into_iter().filter(|(k, _)| k == "path").map(|(_, v)| v).collect();
    let entries = s.service.walk(&c, &paths).await?;
    let name = match paths.as_slice() {
        [one] => one.rsplit('/').find(|n| !n.is_empty()).unwrap_or("Coffer").to_owned(),
        _ => "Coffer".to_owned(),
    };
    let slot = s.downloads.take(c.user_id())?;
    let mut resp = crate::zip::zip_body(s.service.clone(), entries, slot).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    set_disposition(&mut resp, &format!("{name}.zip"), false);
    Ok(resp)
}

#[derive(Deserialize)]
pub struct ThumbnailQuery {
    pub path: String,
    pub rev: Option<i64>,
    #[serde(default = "default_thumbnail_size")]
    pub size: u32,
}

fn default_thumbnail_size() -> u32 {
    256
}

/// A thumbnail of an image. With `rev` the answer never changes and is cached for good;
/// by path alone the browser checks it again each time (a 304 while it is the same).
pub async fn thumbnail(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<ThumbnailQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let t = s.service.thumbnail(&c, &q.path, q.rev.map(RevisionId), q.size).await?;
    let etag = HeaderValue::from_str(&t.etag).map_err(|_| ApiError::new(ErrorCode::Internal, "bad etag"))?;
    let cache = if q.rev.is_some() { "private, max-age=31536000, immutable" } else { "private, no-cache" };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { t.bytes.into_response() };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(t.content_type));
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(INLINE_CSP));
    Ok(resp)
}

pub async fn manifest(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiPath(rev): ApiPath<i64>,
) -> ApiResult<Json<ManifestResponse>> {
    Ok(Json(s.service.manifest(&c, RevisionId(rev)).await?))
}

pub async fn chunk(State(s): State<AppState>, Auth(c): Auth, ApiPath(hash): ApiPath<String>) -> ApiResult<Response> {
    let hash = hash
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::InvalidHash, "a chunk hash is 64 lowercase hex characters"))?;
    let _slot = s.downloads.take(c.user_id())?;
    let data = s.service.read_chunk(&c, &hash).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], data).into_response())
}

/// A byte range request, resolved against the size: `Ok(start..end)` or unsatisfiable.
fn parse_range(value: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if size == 0 {
        // No byte of an empty file can be asked for.
        return Some(Err(()));
    }
    if spec.contains(',') {
        // Several ranges: serve the whole content, as RFC 9110 allows.
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return Some(Err(()));
        }
        (size.saturating_sub(n), size)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() { size } else { b.parse::<u64>().ok()?.saturating_add(1).min(size) };
        if start >= size || end <= start {
            return Some(Err(()));
        }
        (start, end)
    };
    Some(Ok(range))
}

/// What a download request gets, decided from its conditional and range headers.
pub(crate) enum Plan {
    NotModified,
    Unsatisfiable,
    /// Send bytes `start..end` with this status (200 or 206).
    Send {
        status: StatusCode,
        start: u64,
        end: u64,
    },
}

fn etag_of(c: &ContentStream) -> String {
    format!("\"{}\"", c.content_hash)
}

/// Reads `If-None-Match`, `If-Range` and `Range` against the revision.
pub(crate) fn plan(c: &ContentStream, headers: &HeaderMap) -> Plan {
    let etag = etag_of(c);
    if let Some(inm) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && inm.split(',').any(|t| t.trim() == etag || t.trim() == "*" || t.trim().trim_start_matches("W/") == etag)
    {
        return Plan::NotModified;
    }
    let size = c.size;
    let if_range_ok = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()).is_none_or(|v| v.trim() == etag);
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_ok)
        .and_then(|v| parse_range(v, size));
    match range {
        None => Plan::Send { status: StatusCode::OK, start: 0, end: size },
        Some(Ok((start, end))) => Plan::Send { status: StatusCode::PARTIAL_CONTENT, start, end },
        Some(Err(())) => Plan::Unsatisfiable,
    }
}

/// Answers as `plan` says, streaming the bytes; `slot` (one of the user's download
/// slots) is held until the body is dropped.
pub(crate) fn respond(c: ContentStream, plan: Plan, slot: UserSlot) -> ApiResult<Response> {
    let etag_value = HeaderValue::from_str(&etag_of(&c)).map_err(|_| ApiError::new(ErrorCode::Internal, "bad etag"))?;
    let size = c.size;
    let (status, start, end) = match plan {
        Plan::NotModified => return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response()),
        Plan::Unsatisfiable => {
            let mut resp =
                ApiError::new(ErrorCode::RangeNotSatisfiable, format!("the file has {size} bytes")).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
        Plan::Send { status, start, end } => (status, start, end),
    };
    let stream = c.range(start, end).map_err(move |e| {
        let _held = &slot;
        std::io::Error::other(e.to_string())
    });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, etag_value);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(resp)
}

fn serve_content(c: ContentStream, headers: &HeaderMap, slot: UserSlot, inline: bool) -> ApiResult<Response> {
    let name = c.node.name.clone();
    let plan = plan(&c, headers);
    let mut resp = respond(c, plan, slot)?;
    set_disposition(&mut resp, &name, inline);
    Ok(resp)
}

/// The types a browser may show inline, by file extension: images, PDF, audio, video and
/// plain text. Anything that can run script where it is shown (HTML, SVG, XML) is not
/// among them: it is only ever saved.
fn preview_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "bmp" => "image/bmp",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "ogv" => "video/ogg",
        "mov" => "video/quicktime",
        "txt" | "md" | "markdown" | "csv" | "log" | "json" | "yaml" | "yml" | "toml" | "ini" | "rs" | "py" | "js"
        | "ts" | "tsx" | "jsx" | "c" | "h" | "cpp" | "hpp" | "go" | "java" | "kt" | "rb" | "sh" | "css" | "sql"
        | "html" | "htm" | "svg" | "xml" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// The policy of a file shown inline: it runs nothing and loads nothing (a sandbox with
/// no scripts), may be framed only by this server's own pages. PDF is left out of the
/// sandbox, whose browsers' viewers refuse to run inside one; a PDF's own scripts do not
/// run in them.
const INLINE_CSP: &str = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self';      style-src 'unsafe-inline'; frame-ancestors 'self'";
const INLINE_PDF_CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline';      object-src 'self'; frame-ancestors 'self'";

/// `Content-Disposition` with the name in ASCII and in UTF-8 (RFC 6266): `attachment`
/// (saved) unless `inline` is asked for and the type is safe to show.
pub(crate) fn set_disposition(resp: &mut Response, name: &str, inline: bool) {
    let shown = if inline { preview_type(name) } else { None };
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
    let kind = if shown.is_some() { "inline" } else { "attachment" };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(ct) = shown {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        let csp = if ct == "application/pdf" { INLINE_PDF_CSP } else { INLINE_CSP };
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Ok((0, 10))));
        assert_eq!(parse_range("bytes=90-", 100), Some(Ok((90, 100))));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok((90, 100))));
        assert_eq!(parse_range("bytes=50-500", 100), Some(Ok((50, 100))));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=-0", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=x-1", 100), None);
        assert_eq!(parse_range("bytes=-5", 0), Some(Err(())));
        assert_eq!(parse_range("bytes=0-", 0), Some(Err(())));
    }
}
