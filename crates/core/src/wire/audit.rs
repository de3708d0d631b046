//! The audit log on the wire: `GET /api/v1/audit`.

use serde::{Deserialize, Serialize};

/// What an audit event records. The stored and wire spelling is [`AuditKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A device or browser signed in with the password (and code).
    SignIn,
    /// A sign-in (or HTTP Basic with an app password) was refused.
    SignInFailed,
    /// A credential ended itself (sign out).
    SignOut,
    TwoFactorEnabled,
    TwoFactorDisabled,
    PasswordChanged,
    AppPasswordCreated,
    /// A device, browser sign-in or app password was revoked (one, or all others).
    CredentialRevoked,
    /// A folder shared with a member, or a member's role changed.
    ShareCreated,
    ShareRemoved,
    ShareLeft,
    FileShareCreated,
    FileShareRemoved,
    LinkCreated,
    LinkRevoked,
    /// A public link's file or folder downloaded.
    LinkDownloaded,
    /// A wrong password given for a public link.
    LinkUnlockFailed,
    /// Items deleted for good from the trash.
    Purged,
    /// An administrator (or the operator) made a user.
    UserCreated,
    /// An administrator (or the operator) changed a user's quota.
    QuotaChanged,
    /// An administrator (or the operator) changed a server-wide setting.
    SettingChanged,
}

impl AuditKind {
    pub const ALL: [AuditKind; 21] = [
        Self::SignIn,
        Self::SignInFailed,
        Self::SignOut,
        Self::TwoFactorEnabled,
        Self::TwoFactorDisabled,
        Self::PasswordChanged,
        Self::AppPasswordCreated,
        Self::CredentialRevoked,
        Self::ShareCreated,
        Self::ShareRemoved,
        Self::ShareLeft,
        Self::FileShareCreated,
        Self::FileShareRemoved,
        Self::LinkCreated,
        Self::LinkRevoked,
        Self::LinkDownloaded,
        Self::LinkUnlockFailed,
        Self::Purged,
        Self::UserCreated,
        Self::QuotaChanged,
        Self::SettingChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignOut => "sign_out",
            Self::TwoFactorEnabled => "two_factor_enabled",
            Self::TwoFactorDisabled => "two_factor_disabled",
            Self::PasswordChanged => "password_changed",
            Self::AppPasswordCreated => "app_password_created",
            Self::CredentialRevoked => "credential_revoked",
            Self::ShareCreated => "share_created",
            Self::ShareRemoved => "share_removed",
            Self::ShareLeft => "share_left",
            Self::FileShareCreated => "file_share_created",
            Self::FileShareRemoved => "file_share_removed",
            Self::LinkCreated => "link_created",
            Self::LinkRevoked => "link_revoked",
            Self::LinkDownloaded => "link_downloaded",
            Self::LinkUnlockFailed => "link_unlock_failed",
            Self::Purged => "purged",
            Self::UserCreated => "user_created",
            Self::QuotaChanged => "quota_changed",
            Self::SettingChanged => "setting_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Most events in one page of `GET /api/v1/audit`.
pub const MAX_AUDIT_PAGE: i64 = 1000;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// When, in milliseconds since the epoch.
    pub at: i64,
    /// An [`AuditKind`] spelling (a newer server may send kinds this client does not know).
    pub kind: String,
    /// Who did it: a user name, `operator` (the command line on the database), or none
    /// for an anonymous visitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The device, browser sign-in or app password it was done with (its id in the
    /// devices list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// What it was done to: a path, a user, a link, a credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A page of events, newest first; `next_before` continues below the last one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// `GET /api/v1/audit` query: times in milliseconds since the epoch; `kind` a
/// comma-separated list; `user` (administrators only) a user name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_spelling() {
        for k in AuditKind::ALL {
            assert_eq!(AuditKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_string(&k).expect("json"), format!("\"{}\"", k.as_str()));
        }
        assert_eq!(AuditKind::parse("nope"), None);
    }
}
