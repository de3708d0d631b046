//! Sending one request: bearer auth, retries with backoff, and turning error statuses
//! into [`ClientError::Api`] from the server's [`ErrorBody`].
//!
//! Retry policy: `429` and `503` mean the server refused the request without doing
//! anything, and a connect error means it never left this machine, so those are retried
//! for every call. Other transport failures (a reset mid-request, a timeout) are retried
//! only for idempotent calls, where doing the request twice is harmless.

use std::error::Error as _;
use std::time::Duration;

use coffer_core::ErrorCode;
use coffer_core::wire::ErrorBody;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::api::Client;
use crate::error::ClientError;

/// Retries after the first attempt.
pub(crate) const MAX_RETRIES: u32 = 4;
/// Longest wait between two attempts, whatever `Retry-After` asks for.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Most bytes of a non-JSON error body kept in the error message.
const MAX_ERROR_TEXT: usize = 512;

/// Whether a call may be repeated after a failure that might have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Safe to repeat: reads, chunk uploads, opening or ending an upload session.
    Idempotent,
    /// Repeated only when the server surely did nothing (connect error, 429, 503).
    Unsafe,
}

/// The wait before retry number `attempt` (0-based): 250 ms doubling, with some jitter.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250).saturating_mul(1 << attempt.min(6));
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()) % 100)
        .unwrap_or(0);
    (base + Duration::from_millis(jitter)).min(MAX_BACKOFF)
}

fn retry_after(resp: &Response) -> Option<Duration> {
    let secs: u64 = resp.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// A transport error as text, with its causes ("connection refused") and the URL.
pub(crate) fn transport_error(e: &reqwest::Error) -> ClientError {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    ClientError::Transport(msg)
}

fn retryable_transport(e: &reqwest::Error, retry: Retry) -> bool {
    if e.is_builder() || e.is_redirect() || e.is_decode() {
        return false;
    }
    e.is_connect() || retry == Retry::Idempotent
}

impl Client {
    /// Sends the request `make` builds (once per attempt) and returns the response if
    /// its status is 2xx; an error status becomes [`ClientError::Api`].
    pub(crate) async fn send(
        &self,
        retry: Retry,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, ClientError> {
        let mut attempt = 0;
        loop {
            let mut builder = make(self.http());
            if let Some(token) = self.token() {
                builder = builder.bearer_auth(token);
            }
            match builder.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        return Ok(resp);
                    }
                    let busy = status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE;
                    // A long wait (a sign-in back-off, a full set of upload sessions) is
                    // reported at once rather than slept through.
                    let wait = retry_after(&resp).unwrap_or_else(|| backoff(attempt));
                    if busy && attempt < MAX_RETRIES && wait <= MAX_BACKOFF {
                        tracing::debug!(%status, url = %resp.url(), ?wait, "server busy, retrying");
                        attempt += 1;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(error_from_response(resp).await);
                }
                Err(e) if attempt < MAX_RETRIES && retryable_transport(&e, retry) => {
                    let wait = backoff(attempt);
                    tracing::debug!(error = %e, ?wait, "request failed, retrying");
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(transport_error(&e)),
            }
        }
    }
}

/// Turns an error response into [`ClientError::Api`]; a body that is not an
/// [`ErrorBody`] becomes an `internal` error carrying the body's text.
pub(crate) async fn error_from_response(resp: Response) -> ClientError {
    let status = resp.status();
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return ClientError::api(status.as_u16(), ErrorCode::Internal, format!("HTTP {status}: {e}")),
    };
    error_from_body(status.as_u16(), &body)
}

pub(crate) fn error_from_body(status: u16, body: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => ClientError::Api { status, detail: parsed.error },
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let mut text = text.trim().to_string();
            if text.len() > MAX_ERROR_TEXT {
                let mut cut = MAX_ERROR_TEXT;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push('…');
            }
            let message = if text.is_empty() { format!("HTTP {status}") } else { format!("HTTP {status}: {text}") };
            ClientError::api(status, ErrorCode::Internal, message)
        }
    }
}

/// Reads a 2xx response's body as JSON.
pub(crate) async fn read_json<T: DeserializeOwned>(resp: Response) -> Result<T, ClientError> {
    let url = resp.url().clone();
    let body = resp.bytes().await.map_err(|e| transport_error(&e))?;
    serde_json::from_slice(&body).map_err(|e| ClientError::Protocol(format!("{}: {e}", url.path())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_parsed_or_kept_as_text() {
        let json = br#"{"error":{"code":"not_found","message":"no such file"}}"#;
        let e = error_from_body(404, json);
        assert_eq!(e.code(), Some(ErrorCode::NotFound));
        assert_eq!(e.detail().map(|d| d.message.as_str()), Some("no such file"));

        let e = error_from_body(502, b"<html>Bad Gateway</html>");
        assert_eq!(e.code(), Some(ErrorCode::Internal));
        assert_eq!(e.status(), Some(502));
        assert!(e.to_string().contains("Bad Gateway"));

        let long = "é".repeat(1000);
        let e = error_from_body(500, long.as_bytes());
        assert!(e.detail().map(|d| d.message.len()).unwrap_or(0) < 600);
        assert_eq!(error_from_body(500, b"").detail().map(|d| d.message.clone()), Some("HTTP 500".into()));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) < Duration::from_millis(400));
        assert!(backoff(3) >= Duration::from_secs(2));
        assert!(backoff(30) <= MAX_BACKOFF);
    }
}
