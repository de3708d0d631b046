//! The account's own security on the wire: its credentials (devices, browser sign-ins,
//! app passwords), two-factor sign-in, the password, signing out everywhere else.

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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub id: i64,
    pub name: String,
    /// A signed-in client (`device`), a web app sign-in (`browser`) or an app password
    /// (`app_password`).
    #[serde(default)]
    pub kind: DeviceKind,
    /// An app password that may only read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The address it was last used from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_address: Option<String>,
    /// True for the device whose token made this request.
    pub current: bool,
}

/// What a credential in the devices list is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A client signed in with `coffer login` (a bearer token).
    #[default]
    Device,
    /// A web app sign-in (a cookie session with a CSRF token).
    Browser,
    /// An app password: made by a signed-in user for a WebDAV client or a script, used
    /// as a bearer token or with HTTP Basic; never asks for a second factor, may not
    /// manage the account's security.
    AppPassword,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::Browser => "browser",
            Self::AppPassword => "app_password",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "device" => Some(Self::Device),
            "browser" => Some(Self::Browser),
            "app_password" => Some(Self::AppPassword),
            _ => None,
        }
    }
}
