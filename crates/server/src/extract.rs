//! Request extractors whose rejections are JSON errors with stable codes (axum's own
//! rejections are plain text), and the bearer-token extractor that makes a handler
//! impossible to run unauthenticated.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use coffer_core::ErrorCode;
use coffer_service::Caller;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body; malformed JSON is `400 bad_request`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(e) => {
                let code = if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ErrorCode::TooLarge
                } else {
                    ErrorCode::BadRequest
                };
                Err(ApiError::new(code, e.body_text()))
            }
        }
    }
}

/// Query parameters; a malformed query is `400 bad_request`, and so is one whose
/// percent-escapes do not decode to UTF-8 (they would otherwise become U+FFFD silently).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(q) = parts.uri.query()
            && !query_is_utf8(q)
        {
            return Err(ApiError::new(ErrorCode::BadRequest, "the query string is not valid percent-encoded UTF-8"));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))
    }
}

/// Path parameters; a malformed one is `400 bad_request`.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))
    }
}

/// Whether every `%XX` escape and `+` of a query decodes, pair by pair, to UTF-8.
fn query_is_utf8(query: &str) -> bool {
    query.split('&').flat_map(|pair| pair.split('=')).all(|part| {
        let bytes = part.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' => {
                    let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 3;
                        }
                        None => return false,
                    }
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        std::str::from_utf8(&out).is_ok()
    })
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
pub(crate) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The user name and password of an `Authorization: Basic` header (the scheme in any
/// case); `None` for another scheme or a value that is not base64 of UTF-8 `user:pass`.
pub(crate) fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim_start().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The secret a request's credential is checked by again later (a notify socket's
/// re-checks): a bearer token, an app password sent with Basic, or the session cookie.
pub(crate) fn credential_secret(headers: &axum::http::HeaderMap) -> String {
    bearer_token(headers)
        .map(str::to_owned)
        .or_else(|| basic_credentials(headers).map(|(_, password)| password))
        .or_else(|| cookie(headers, SESSION_COOKIE).map(str::to_owned))
        .unwrap_or_default()
}

/// The authenticated caller: a client's `Authorization: Bearer <token>` (a device token
/// or an app password), `Authorization: Basic` with an app password, or a web app
/// sign-in's cookie (then with the checks of [`check_browser_request`]).
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let from = client_addr(parts, state.http.trust_forwarded_for);
        let caller = if let Some(token) = bearer_token(&parts.headers) {
            state.service.authenticate_from(token, from).await?
        } else if let Some((user, password)) = basic_credentials(&parts.headers) {
            state.service.authenticate_basic(&user, &password, from).await?
        } else if parts.headers.contains_key(axum::http::header::AUTHORIZATION) {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "the Authorization header is neither 'Bearer <token>' nor Basic with an app password",
            ));
        } else {
            BrowserAuth::from_request_parts(parts, state).await?.caller
        };
        if caller.must_set_up_two_factor() && !ENROLLMENT.contains(&(parts.method.as_str(), parts.uri.path())) {
            return Err(ApiError::new(
                ErrorCode::TwoFactorSetupRequired,
                "the administrator requires two-factor sign-in: set it up first (`coffer 2fa enable`, or the \
                 web app's Devices page)",
            ));
        }
        Ok(Self(caller))
    }
}

/// What an account that must set up two-factor sign-in may still do.
const ENROLLMENT: &[(&str, &str)] = &[
    ("GET", "/api/v1/auth/whoami"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/account/2fa"),
    ("POST", "/api/v1/account/2fa/enable"),
    ("POST", "/api/v1/account/2fa/confirm"),
];

/// The cookie that carries a web app session's token. HttpOnly: page script never sees it.
pub const SESSION_COOKIE: &str = "coffer_session";
/// The header that carries a web app session's CSRF token.
pub const CSRF_HEADER: &str = "x-coffer-csrf";

/// A web app sign-in: the caller and the session token of its cookie.
pub struct BrowserAuth {
    pub caller: Caller,
    pub token: String,
}

impl FromRequestParts<AppState> for BrowserAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(|| {
            ApiError::new(ErrorCode::Unauthorized, "this needs 'Authorization: Bearer <token>' or a web app sign-in")
        })?;
        check_browser_request(parts, Some(token))?;
        let from = client_addr(parts, state.http.trust_forwarded_for);
        let caller = state.service.authenticate_from(token, from).await?;
        if !matches!(caller.credential(), coffer_service::Credential::Session(_)) {
            // A client's token in a cookie: cookies are for web app sessions only.
            return Err(ApiError::new(ErrorCode::Unauthorized, "the session is invalid, revoked or expired"));
        }
        Ok(Self { caller, token: token.to_owned() })
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// What a request riding on the browser's cookie must show, since the browser attaches
/// cookies to requests other sites' pages make too:
/// - an `Origin` header, when present, naming this server (the `Host` it was sent to);
///   browsers send it on every cross-site request and on every WebSocket;
/// - for anything but GET and HEAD, the session's CSRF token in `X-Coffer-CSRF`, which
///   only this server's own pages can read (`session` is `None` before sign-in, when
///   only the origin is checked).
pub(crate) fn check_browser_request(parts: &Parts, session: Option<&str>) -> Result<(), ApiError> {
    let forbidden = |m: &str| ApiError::new(ErrorCode::CsrfFailed, m.to_owned());
    if let Some(origin) = parts.headers.get(axum::http::header::ORIGIN) {
        let host = parts.headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, rest)| rest);
        if host.is_none() || origin_host != host {
            return Err(forbidden("a request from another site's page may not use this sign-in"));
        }
    }
    let reads = matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD);
    if let Some(token) = session
        && !reads
    {
        let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !coffer_service::csrf_matches(token, given) {
            return Err(forbidden("this request needs the session's X-Coffer-CSRF header"));
        }
    }
    Ok(())
}

/// A visitor of a public link, from the `{token}` in the path and the key of a
/// password-protected link (the `X-Coffer-Link-Key` header or the `key` query
/// parameter), let in by the service.
pub struct Visitor(pub coffer_service::LinkVisitor);

/// The header that carries a password-protected link's key.
pub const LINK_KEY_HEADER: &str = "x-coffer-link-key";

#[derive(serde::Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiPath(token) = ApiPath::<String>::from_request_parts(parts, state).await?;
        let ApiQuery(q) = ApiQuery::<KeyQuery>::from_request_parts(parts, state).await?;
        let key = parts.headers.get(LINK_KEY_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned).or(q.key);
        Ok(Self(state.service.open_link(&token, key.as_deref()).await?))
    }
}

/// The client's address: the TCP peer, or with `trust_forwarded_for` the last
/// `X-Forwarded-For` entry (the one the reverse proxy added). `None` when unknown.
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(client_addr(parts, state.http.trust_forwarded_for)))
    }
}

pub(crate) fn client_addr(parts: &Parts, trust_forwarded_for: bool) -> Option<std::net::IpAddr> {
    if trust_forwarded_for
        && let Some(last) = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
        && let Ok(ip) = last.trim().parse()
    {
        return Some(ip);
    }
    parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip())
}

/// A WebSocket upgrade; a plain request to a WebSocket endpoint is `400 bad_request`
/// in JSON like every other error.
pub struct ApiWebSocket(pub axum::extract::ws::WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for ApiWebSocket {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::ws::WebSocketUpgrade::from_request_parts(parts, state).await.map(Self).map_err(|e| {
            ApiError::new(ErrorCode::BadRequest, format!("this endpoint is a WebSocket: {}", e.body_text()))
        })
    }
}

/// A raw body within the route's size limit; over it is `413 too_large`.
pub struct ApiBytes(pub bytes::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match bytes::Bytes::from_request(req, state).await {
            Ok(b) => Ok(Self(b)),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::new(ErrorCode::TooLarge, "the body is larger than this endpoint accepts"))
            }
            Err(e) => Err(ApiError::new(ErrorCode::BadRequest, e.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_must_decode_to_utf8() {
        assert!(query_is_utf8("path=/a%20b&after=x"));
        assert!(query_is_utf8("path=%E2%82%AC"));
        assert!(!query_is_utf8("path=%ff"));
        assert!(!query_is_utf8("path=%e2%82"));
        assert!(!query_is_utf8("path=%zz"));
        assert!(!query_is_utf8("path=%4"));
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = axum::http::HeaderMap::new();
        h.append(axum::http::header::COOKIE, "a=1; coffer_session_x=2".parse().expect("value"));
        h.append(axum::http::header::COOKIE, "theme=dark; coffer_session=tok ; z=".parse().expect("value"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "a"), Some("1"));
        assert_eq!(cookie(&h, "z"), None);
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let mut h = axum::http::HeaderMap::new();
        for v in ["Bearer abc", "bearer abc", "BEARER  abc "] {
            h.insert(axum::http::header::AUTHORIZATION, v.parse().expect("value"));
            assert_eq!(bearer_token(&h), Some("abc"), "{v}");
        }
        h.insert(axum::http::header::AUTHORIZATION, "Basic abc".parse().expect("value"));
        assert_eq!(bearer_token(&h), None);
    }
}
