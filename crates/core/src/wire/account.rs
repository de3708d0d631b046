//! The account's own security on the wire: two-factor sign-in, the password, signing
//! out everywhere else.

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
