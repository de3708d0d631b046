//! [`ClientError`]: everything that can go wrong talking to a Coffer server.

use coffer_core::ErrorCode;
use coffer_core::wire::ErrorDetail;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status and (usually) an [`ErrorDetail`] body.
    #[error("{}: {} (HTTP {status})", detail.code, detail.message)]
    Api { status: u16, detail: ErrorDetail },
    /// The server could not be reached or the connection failed (after any retries).
    #[error("cannot talk to the server: {0}")]
    Transport(String),
    /// A local file could not be read or written.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The server's answer was not what the protocol promises.
    #[error("unexpected response from the server: {0}")]
    Protocol(String),
    /// The server URL given to [`crate::Client::new`] is not usable.
    #[error("invalid server URL: {0}")]
    InvalidUrl(String),
}

impl ClientError {
    /// The server's machine code, for [`ClientError::Api`] errors.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { detail, .. } => Some(detail.code),
            _ => None,
        }
    }

    /// The HTTP status, for [`ClientError::Api`] errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's error body, for [`ClientError::Api`] errors.
    pub fn detail(&self) -> Option<&ErrorDetail> {
        match self {
            Self::Api { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// Builds an API error from a status and a code, for answers without a JSON body.
    pub(crate) fn api(status: u16, code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Api {
            status,
            detail: ErrorDetail { code, message: message.into(), current: None, missing: None, retry_after_secs: None },
        }
    }

    /// True for errors that make going on with other requests pointless: the server is
    /// unreachable, speaks another protocol, or no longer accepts the credentials.
    pub(crate) fn is_fatal(&self) -> bool {
        match self {
            Self::Transport(_) | Self::Protocol(_) | Self::InvalidUrl(_) => true,
            Self::Api { detail, .. } => detail.code == ErrorCode::Unauthorized,
            Self::Io(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_expose_code_and_status() {
        let e = ClientError::api(409, ErrorCode::Conflict, "changed meanwhile");
        assert_eq!(e.code(), Some(ErrorCode::Conflict));
        assert_eq!(e.status(), Some(409));
        assert_eq!(e.to_string(), "conflict: changed meanwhile (HTTP 409)");
        assert!(!e.is_fatal());
        assert!(ClientError::api(401, ErrorCode::Unauthorized, "no").is_fatal());
        assert!(ClientError::Transport("refused".into()).is_fatal());
        assert_eq!(ClientError::Protocol("x".into()).code(), None);
    }
}
