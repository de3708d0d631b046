//! Health, metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use coffer_core::wire::HealthResponse;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{bearer_token, client_addr};
use coffer_core::ErrorCode;

pub async fn healthz(State(s): State<AppState>) -> ApiResult<Json<HealthResponse>> {
    s.service.health().await?;
    Ok(Json(HealthResponse { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() }))
}

/// Prometheus metrics: for loopback clients, and for others with the configured
/// metrics token (`Authorization: Bearer <metrics_token>`).
pub async fn metrics(State(s): State<AppState>, parts: axum::http::request::Parts) -> ApiResult<impl IntoResponse> {
    let peer = client_addr(&parts, false);
    if !metrics_allowed(peer, s.http.metrics_token.as_deref(), bearer_token(&parts.headers)) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "metrics are served to loopback clients, and to others with the metrics token",
        ));
    }
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render()))
}

/// Loopback peers may read metrics; others only with the configured token.
fn metrics_allowed(peer: Option<std::net::IpAddr>, token: Option<&str>, given: Option<&str>) -> bool {
    let token_ok = match (token, given) {
        (Some(expected), Some(given)) => constant_time_eq(expected.as_bytes(), given.as_bytes()),
        _ => false,
    };
    peer.is_some_and(|a| a.is_loopback()) || token_ok
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn openapi() -> impl IntoResponse {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], crate::openapi::document())
}

#[cfg(test)]
mod tests {
    use super::metrics_allowed;

    #[test]
    fn metrics_are_for_loopback_or_the_token() {
        let remote = Some("203.0.113.9".parse().expect("ip"));
        let local = Some("127.0.0.1".parse().expect("ip"));
        assert!(metrics_allowed(local, None, None));
        assert!(metrics_allowed(Some("::1".parse().expect("ip")), None, None));
        assert!(!metrics_allowed(remote, None, None));
        assert!(!metrics_allowed(remote, None, Some("anything")));
        assert!(!metrics_allowed(remote, Some("sixteen chars ok"), Some("wrong")));
        assert!(metrics_allowed(remote, Some("sixteen chars ok"), Some("sixteen chars ok")));
        assert!(!metrics_allowed(None, None, None), "no peer address: not loopback");
    }
}
