//! Stable machine codes for every error a client can see.
//!
//! Error policy: library crates return their own `thiserror` enums; the service maps
//! them to one [`ErrorCode`] plus a human message; the server maps each code to an HTTP
//! status. Codes never change meaning once published; new ones may be added.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed (bad JSON, a missing or mistyped field).
    BadRequest,
    /// A name or path breaks the naming rules.
    InvalidName,
    /// A hash is not 64 lowercase hex characters.
    InvalidHash,
    /// A journal cursor could not be decoded.
    InvalidCursor,
    /// No valid credentials: missing, wrong, revoked or expired.
    Unauthorized,
    /// The caller is known but may not do this.
    Forbidden,
    /// A request made with a web app sign-in came from another site's page, or lacks
    /// the session's CSRF token.
    CsrfFailed,
    /// A shared folder cannot take part in this as a whole: shared folders do not nest,
    /// a shared folder is left or unshared rather than deleted, and one is not moved
    /// into another.
    SharedFolder,
    /// The caller may see this but not change it (a viewer or commenter of a shared
    /// folder, a read-only credential).
    ReadOnly,
    /// Nothing the caller may see has this path or id.
    NotFound,
    /// A public link is past its expiry.
    LinkExpired,
    /// A public link was revoked by its owner.
    LinkRevoked,
    /// A public link's downloads are used up.
    LinkExhausted,
    /// The password was right; the account also needs a code from its authenticator
    /// app (or a recovery code): sign in again with `code`.
    TwoFactorRequired,
    /// The administrator requires two-factor sign-in and this account has none yet: only
    /// setting it up (and signing out) is allowed until it is on.
    TwoFactorSetupRequired,
    /// A public link has a password and the request did not carry its key (or the
    /// password given is wrong).
    PasswordRequired,
    /// A public link lets its visitors look but not download.
    DownloadDisabled,
    /// The file is not an image Coffer can make a thumbnail of (an unknown or broken
    /// format, or too large to decode safely).
    NoThumbnail,
    /// The target path is already taken.
    AlreadyExists,
    /// The edit was based on a revision that is no longer current.
    Conflict,
    /// A folder was expected.
    NotAFolder,
    /// A file was expected.
    NotAFile,
    /// A folder cannot be moved into itself or below itself.
    MoveIntoSelf,
    /// The root folder cannot be moved, renamed or deleted.
    RootImmutable,
    /// Uploaded bytes do not hash to the hash they were sent as.
    ChunkHashMismatch,
    /// A chunk, body or manifest is larger than allowed.
    TooLarge,
    /// A commit names chunks the server does not hold for this caller.
    MissingChunks,
    /// The upload session does not exist or has expired.
    UploadNotFound,
    /// The commit would exceed the user's storage quota.
    QuotaExceeded,
    /// The requested byte range cannot be served.
    RangeNotSatisfiable,
    /// The endpoint exists but does not take this HTTP method.
    MethodNotAllowed,
    /// First-admin setup was already done, or the setup token is wrong.
    SetupUnavailable,
    /// Too many requests; retry later.
    RateLimited,
    /// The server is busy with this object; retry shortly.
    Busy,
    /// Something failed on the server; nothing was changed.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::InvalidName => "invalid_name",
            Self::InvalidHash => "invalid_hash",
            Self::InvalidCursor => "invalid_cursor",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::ReadOnly => "read_only",
            Self::SharedFolder => "shared_folder",
            Self::NotFound => "not_found",
            Self::LinkExpired => "link_expired",
            Self::LinkRevoked => "link_revoked",
            Self::LinkExhausted => "link_exhausted",
            Self::PasswordRequired => "password_required",
            Self::TwoFactorRequired => "two_factor_required",
            Self::TwoFactorSetupRequired => "two_factor_setup_required",
            Self::CsrfFailed => "csrf_failed",
            Self::NoThumbnail => "no_thumbnail",
            Self::DownloadDisabled => "download_disabled",
            Self::AlreadyExists => "already_exists",
            Self::Conflict => "conflict",
            Self::NotAFolder => "not_a_folder",
            Self::NotAFile => "not_a_file",
            Self::MoveIntoSelf => "move_into_self",
            Self::RootImmutable => "root_immutable",
            Self::ChunkHashMismatch => "chunk_hash_mismatch",
            Self::TooLarge => "too_large",
            Self::MissingChunks => "missing_chunks",
            Self::UploadNotFound => "upload_not_found",
            Self::QuotaExceeded => "quota_exceeded",
            Self::RangeNotSatisfiable => "range_not_satisfiable",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::SetupUnavailable => "setup_unavailable",
            Self::RateLimited => "rate_limited",
            Self::Busy => "busy",
            Self::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for code in [ErrorCode::BadRequest, ErrorCode::MoveIntoSelf, ErrorCode::ChunkHashMismatch] {
            let json = serde_json::to_string(&code).expect("serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
