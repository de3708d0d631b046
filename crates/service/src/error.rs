//! The one error type of the service: a stable code, a message for people, and the
//! details a client needs to recover (the current node on a conflict, the chunks still
//! missing on a commit).

use coffer_blobstore::BlobError;
use coffer_core::wire::{ErrorDetail, NodeInfo};
use coffer_core::{ChunkHash, ErrorCode, NameError};
use coffer_metastore::MetaError;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ServiceError {
    pub code: ErrorCode,
    pub message: String,
    pub current: Option<Box<NodeInfo>>,
    pub missing: Option<Vec<ChunkHash>>,
    /// On `rate_limited` and `busy`: how long to wait before trying again.
    pub retry_after: Option<std::time::Duration>,
}

impl ServiceError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), current: None, missing: None, retry_after: None }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn conflict(current: NodeInfo) -> Self {
        Self {
            code: ErrorCode::Conflict,
            message: format!("'{}' changed since the revision this edit started from", current.name),
            current: Some(Box::new(current)),
            missing: None,
            retry_after: None,
        }
    }

    pub fn into_detail(self) -> ErrorDetail {
        ErrorDetail {
            code: self.code,
            message: self.message,
            current: self.current,
            missing: self.missing,
            retry_after_secs: self.retry_after.map(|d| d.as_secs().max(1)),
        }
    }
}

impl From<MetaError> for ServiceError {
    fn from(e: MetaError) -> Self {
        match e {
            MetaError::NotFound => Self::not_found("item"),
            MetaError::Duplicate => Self::new(ErrorCode::AlreadyExists, "the name is taken (changed concurrently)"),
            MetaError::Busy => {
                tracing::warn!("metadata store busy; asking the client to retry");
                let mut e = Self::new(ErrorCode::Busy, "the server is busy; nothing was changed, retry shortly");
                e.retry_after = Some(std::time::Duration::from_secs(1));
                e
            }
            other => {
                tracing::error!(error = %other, "metadata store failure");
                Self::new(ErrorCode::Internal, "the metadata store failed; nothing was changed")
            }
        }
    }
}

impl From<BlobError> for ServiceError {
    fn from(e: BlobError) -> Self {
        tracing::error!(error = %e, "chunk store failure");
        match e {
            BlobError::NotFound(h) | BlobError::Corrupt(h) => {
                Self::new(ErrorCode::Internal, format!("chunk {h} is unavailable or damaged on the server"))
            }
            BlobError::Io(_) => Self::new(ErrorCode::Internal, "the chunk store failed"),
            BlobError::KeyNeeded | BlobError::WrongKey(_) => {
                Self::new(ErrorCode::Internal, "the chunk store's keys are not available")
            }
        }
    }
}

impl From<NameError> for ServiceError {
    fn from(e: NameError) -> Self {
        Self::new(ErrorCode::InvalidName, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_store_is_busy_with_a_retry_time_never_internal() {
        let e = ServiceError::from(MetaError::Busy);
        assert_eq!(e.code, ErrorCode::Busy);
        assert!(e.retry_after.is_some());
    }
}
