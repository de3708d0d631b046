//! Errors as HTTP responses: a status per code and the JSON body of `ErrorBody`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use coffer_core::ErrorCode;
use coffer_core::wire::ErrorBody;
use coffer_service::ServiceError;

/// An error leaving the API.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ServiceError::new(code, message))
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self(e)
    }
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest | ErrorCode::InvalidName | ErrorCode::InvalidHash | ErrorCode::InvalidCursor => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::Unauthorized | ErrorCode::PasswordRequired | ErrorCode::TwoFactorRequired => {
            StatusCode::UNAUTHORIZED
        }
        ErrorCode::LinkExpired | ErrorCode::LinkRevoked | ErrorCode::LinkExhausted => StatusCode::GONE,
        ErrorCode::DownloadDisabled | ErrorCode::TwoFactorSetupRequired => StatusCode::FORBIDDEN,
        ErrorCode::Forbidden | ErrorCode::ReadOnly | ErrorCode::SetupUnavailable | ErrorCode::CsrfFailed => {
            StatusCode::FORBIDDEN
        }
        ErrorCode::NotFound | ErrorCode::UploadNotFound => StatusCode::NOT_FOUND,
        ErrorCode::NoThumbnail => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::AlreadyExists
        | ErrorCode::Conflict
        | ErrorCode::NotAFolder
        | ErrorCode::NotAFile
        | ErrorCode::MoveIntoSelf
        | ErrorCode::RootImmutable
        | ErrorCode::SharedFolder
        | ErrorCode::MissingChunks => StatusCode::CONFLICT,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::ChunkHashMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::QuotaExceeded => StatusCode::INSUFFICIENT_STORAGE,
        ErrorCode::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Busy => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.0.code;
        let status = status_of(code);
        let retry_after = self.0.retry_after.map(|d| d.as_secs().max(1));
        metrics::counter!("coffer_http_errors_total", "code" => self.0.code.as_str()).increment(1);
        let mut resp = (status, Json(ErrorBody { error: self.0.into_detail() })).into_response();
        if code == ErrorCode::Unauthorized {
            resp.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = retry_after {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
