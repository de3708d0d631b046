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
}

pub async fn by_path(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiQuery(q): ApiQuery<ContentQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let slot = s.downloads.take(c.user_id())?;
    serve_content(s.service.open_file(&c, &q.path, q.rev.map(RevisionId)).await?, &headers, slot)
}

pub async fn by_revision(
    State(s): State<AppState>,
    Auth(c): Auth,
    ApiPath(rev): ApiPath<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let slot = s.downloads.take(c.user_id())?;
    serve_content(s.service.open_revision(&c, RevisionId(rev)).await?, &headers, slot)
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

fn serve_content(c: ContentStream, headers: &HeaderMap, slot: UserSlot) -> ApiResult<Response> {
    let plan = plan(&c, headers);
    respond(c, plan, slot)
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
