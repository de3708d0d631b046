//! The account's own security on the wire: two-factor sign-in, the password, signing
//! out everywhere else, app passwords.

use serde::{Deserialize, Serialize};

/// Two-factor sign-in of the caller's account: `GET /api/v1/account/2fa`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorStatus {
    /// Every password sign-in needs a code.
    pub enabled: bool,
    /// A setup was started and waits for its first code.
    pub pending: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
}

/// A started setup: the secret for the authenticator app, as a URI (what its QR code
/// holds), as text to type, and as an SVG QR code. Pending until a code confirms it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwoFactorSetup {
    pub otpauth_uri: String,
    pub secret: String,
    pub qr_svg: String,
}

/// A code from the authenticator app (or a recovery code where one is accepted).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwoFactorCodeRequest {
    pub code: String,
}

/// Turning two-factor sign-in off takes the password and a code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwoFactorDisableRequest {
    pub password: String,
    pub code: String,
}

/// A new password: `POST /api/v1/account/password`. Every other credential of the
/// account is revoked with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordChangeRequest {
    pub current: String,
    pub new: String,
}

/// How many credentials (devices, browser sign-ins) were revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedResponse {
    pub revoked: u64,
}

/// Single-use recovery codes, shown once (the server keeps only their hashes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// A new app password: `POST /api/v1/app-passwords`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppPasswordRequest {
    /// What it is for ("phone WebDAV", "backup script").
    pub name: String,
    /// Only reading: every change is refused, whatever the account may do.
    #[serde(default)]
    pub read_only: bool,
}

/// A made app password, shown once: the server keeps only its hash. Use it as
/// `Authorization: Bearer <password>`, or with HTTP Basic as the account's password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppPasswordCreated {
    pub id: i64,
    pub name: String,
    pub read_only: bool,
    pub user: String,
    pub password: String,
}
