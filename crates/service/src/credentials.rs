//! Credentials: turning a token (or HTTP Basic with an app password) into a [`Caller`],
//! the devices list, revocation, and app passwords.
//!
//! Every credential is a row of `devices` holding only the BLAKE3 hash of its token: a
//! client's token (`coffer login`), a web app sign-in's cookie, or an app password.
//! Revoking one tells the change feeds of its account at once, so an open notify socket
//! of a revoked credential closes without waiting for its next keep-alive check.

use std::net::IpAddr;

use coffer_core::wire::{AppPasswordCreated, AuditKind, DeviceInfo, DeviceKind};
use coffer_core::{DeviceId, ErrorCode};
use coffer_metastore::{DeviceRecord, NewCredential};

use crate::access::{Caller, Credential};
use crate::accounts::token_hash;
use crate::audit::Event;
use crate::limits::Attempt;
use crate::{Result, Service, ServiceError, now_ms};

/// Only record a credential's last use this often, so reads do not become writes.
const TOUCH_INTERVAL_MS: i64 = 60_000;
/// Longest device or app password name, in bytes.
pub(crate) const MAX_DEVICE_NAME: usize = 128;
/// Live app passwords one account may hold.
pub const MAX_APP_PASSWORDS: usize = 100;

/// A device or app password name: 1 to [`MAX_DEVICE_NAME`] bytes, no control characters.
pub(crate) fn device_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_DEVICE_NAME || name.chars().any(char::is_control) {
        return Err(ServiceError::new(
            ErrorCode::BadRequest,
            format!("a name is 1 to {MAX_DEVICE_NAME} bytes without control characters"),
        ));
    }
    Ok(name)
}

fn device_info(d: &DeviceRecord, current: Option<DeviceId>) -> DeviceInfo {
    DeviceInfo {
        id: d.id.get(),
        name: d.name.clone(),
        kind: d.kind,
        read_only: d.read_only,
        created_at: d.created_at,
        last_seen_at: d.last_seen_at,
        last_address: d.last_address.clone(),
        current: Some(d.id) == current,
    }
}

impl Service {
    /// Resolves a bearer token to its caller. Unknown, revoked and expired tokens are
    /// all `unauthorized`, with no hint which.
    pub async fn authenticate(&self, token: &str) -> Result<Caller> {
        self.authenticate_from(token, None).await
    }

    /// [`Service::authenticate`] for a request from `address`, which the devices list
    /// then shows as where the credential was last used.
    pub async fn authenticate_from(&self, token: &str, address: Option<IpAddr>) -> Result<Caller> {
        self.authenticate_as(None, token, address).await
    }

    /// HTTP Basic: a user name and one of that user's app passwords (what WebDAV clients
    /// and scripts send). The account's own password is refused here: it would skip
    /// two-factor sign-in. Failures count towards the guessing back-off of the account
    /// and the address.
    pub async fn authenticate_basic(&self, user: &str, password: &str, address: Option<IpAddr>) -> Result<Caller> {
        let attempt = Attempt { account: user, address };
        self.inner.passwords.admit(&attempt)?;
        match self.authenticate_as(Some(user), password, address).await {
            Ok(caller) => Ok(caller),
            Err(e) if e.code == ErrorCode::Unauthorized => {
                self.inner.passwords.failed(&attempt);
                let account = if user.len() <= 64 {
                    let mut tx = self.meta().read().await?;
                    tx.user_by_name(user).await?.map(|u| u.id)
                } else {
                    None
                };
                let event = Event::new(AuditKind::SignInFailed).target(user).detail("wrong app password (HTTP Basic)");
                self.audit_now(event.by_anyone(account, Some(user), address)).await;
                Err(ServiceError::new(
                    ErrorCode::Unauthorized,
                    "wrong user name or app password (HTTP Basic takes an app password, not the account's password)",
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// The caller a token makes; with `user`, only an app password of that user counts.
    async fn authenticate_as(&self, user: Option<&str>, token: &str, address: Option<IpAddr>) -> Result<Caller> {
        let denied = || ServiceError::new(ErrorCode::Unauthorized, "the token is invalid, revoked or expired");
        if token.is_empty() || token.len() > 256 {
            return Err(denied());
        }
        let now = now_ms();
        let (device, account) = {
            let mut tx = self.meta().read().await?;
            let device = tx.device_by_token_hash(&token_hash(token)).await?.ok_or_else(denied)?;
            let account = tx.user_by_id(device.user_id).await?.ok_or_else(denied)?;
            (device, account)
        };
        if device.revoked_at.is_some() || device.expires_at.is_some_and(|e| e <= now) {
            return Err(denied());
        }
        if user.is_some_and(|u| u != account.name || device.kind != DeviceKind::AppPassword) {
            return Err(denied());
        }
        if let Some(idle) = self.config().token_idle_expiry
            && now - device.last_seen_at > idle.as_millis() as i64
        {
            return Err(denied());
        }
        let shown = address.map(|a| a.to_string());
        let moved = shown.is_some() && shown != device.last_address;
        if moved || now - device.last_seen_at > TOUCH_INTERVAL_MS {
            let mut tx = self.meta().write().await?;
            tx.touch_device(device.id, now, shown.as_deref()).await?;
            tx.commit().await?;
        }
        let credential = match device.kind {
            DeviceKind::Device => Credential::Device(device.id),
            DeviceKind::Browser => Credential::Session(device.id),
            DeviceKind::AppPassword => Credential::AppPassword { id: device.id, read_only: device.read_only },
        };
        // App passwords never pass a second factor: the requirement is for sign-ins.
        let must_enroll = device.kind != DeviceKind::AppPassword && self.must_set_up_two_factor(account.id).await?;
        Ok(Caller::new(account.id, account.name, account.is_admin, account.home_namespace_id, credential)
            .with_address(address)
            .with_enrollment(must_enroll))
    }

    /// Revokes the credential the caller signed in with.
    pub async fn logout(&self, caller: &Caller) -> Result<()> {
        match caller.device_id() {
            Some(id) => self.revoke_device(caller, id).await,
            None => Ok(()),
        }
    }

    /// Every live credential of the caller's account: devices, web app sign-ins and
    /// app passwords.
    pub async fn list_devices(&self, caller: &Caller) -> Result<Vec<DeviceInfo>> {
        let mut tx = self.meta().read().await?;
        Ok(tx.list_devices(caller.user_id()).await?.iter().map(|d| device_info(d, caller.device_id())).collect())
    }

    /// "Sign out everywhere else": revokes every credential of the caller's account but
    /// the one making the request (app passwords too). Returns how many.
    pub async fn revoke_other_devices(&self, caller: &Caller) -> Result<u64> {
        let keep = caller.signed_in()?;
        let mut tx = self.meta().write().await?;
        let n = tx.revoke_devices_but(caller.user_id(), keep, now_ms()).await?;
        let event =
            Event::new(AuditKind::CredentialRevoked).target("every other sign-in").detail(format!("{n} revoked"));
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        tracing::info!(user = caller.user_name(), revoked = n, "signed out everywhere else");
        self.inner.notifier.credentials_changed(caller.user_id());
        Ok(n)
    }

    /// Revokes one of the caller's credentials; another user's is not found. An app
    /// password may revoke only itself.
    pub async fn revoke_device(&self, caller: &Caller, device_id: DeviceId) -> Result<()> {
        if caller.device_id() != Some(device_id) {
            caller.signed_in()?;
        }
        let mut tx = self.meta().write().await?;
        if !tx.revoke_device(caller.user_id(), device_id, now_ms()).await? {
            return Err(ServiceError::not_found("device"));
        }
        let event = if caller.device_id() == Some(device_id) {
            Event::new(AuditKind::SignOut)
        } else {
            Event::new(AuditKind::CredentialRevoked).target(format!("credential {device_id}"))
        };
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        self.inner.notifier.credentials_changed(caller.user_id());
        Ok(())
    }

    /// Makes an app password for the caller's account (only a password sign-in may),
    /// shown this once. `read_only` makes a credential that is a viewer everywhere.
    pub async fn create_app_password(
        &self,
        caller: &Caller,
        name: &str,
        read_only: bool,
    ) -> Result<AppPasswordCreated> {
        caller.signed_in()?;
        let name = device_name(name)?;
        let password = app_password();
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        let live = tx.list_devices(caller.user_id()).await?;
        if live.iter().filter(|d| d.kind == DeviceKind::AppPassword).count() >= MAX_APP_PASSWORDS {
            return Err(ServiceError::new(
                ErrorCode::TooLarge,
                format!("an account holds at most {MAX_APP_PASSWORDS} app passwords; remove one first"),
            ));
        }
        let new = NewCredential {
            user_id: caller.user_id(),
            name,
            kind: DeviceKind::AppPassword,
            read_only,
            token_hash: &token_hash(&password),
            expires_at: None,
        };
        let dev = tx.create_device(&new, now).await?;
        let scope = if read_only { "read-only" } else { "all files" };
        let event =
            Event::new(AuditKind::AppPasswordCreated).target(format!("{name} (credential {})", dev.id)).detail(scope);
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        tracing::info!(user = caller.user_name(), id = dev.id.get(), read_only, "app password created");
        Ok(AppPasswordCreated {
            id: dev.id.get(),
            name: dev.name,
            read_only,
            user: caller.user_name().to_owned(),
            password,
        })
    }

    /// The caller's live app passwords.
    pub async fn app_passwords(&self, caller: &Caller) -> Result<Vec<DeviceInfo>> {
        let mut all = self.list_devices(caller).await?;
        all.retain(|d| d.kind == DeviceKind::AppPassword);
        Ok(all)
    }

    /// Revokes one of the caller's app passwords (a device or sign-in id is not found
    /// here: those are revoked from the devices list).
    pub async fn revoke_app_password(&self, caller: &Caller, id: DeviceId) -> Result<()> {
        let is_app_password = {
            let mut tx = self.meta().read().await?;
            tx.list_devices(caller.user_id()).await?.iter().any(|d| d.id == id && d.kind == DeviceKind::AppPassword)
        };
        if !is_app_password {
            return Err(ServiceError::not_found("app password"));
        }
        self.revoke_device(caller, id).await
    }
}

/// A new app password: 150 random bits as five groups of six lowercase letters and
/// digits, easy to read out and to paste into a WebDAV client's password field.
fn app_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let groups: Vec<String> =
        (0..5).map(|_| (0..6).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()).collect();
    groups.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_passwords_are_long_random_and_typeable() {
        let a = app_password();
        assert_eq!(a.len(), 5 * 6 + 4);
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(a, app_password());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(device_name("  phone ").expect("ok"), "phone");
        assert!(device_name("").is_err());
        assert!(device_name("a\nb").is_err());
        assert!(device_name(&"x".repeat(MAX_DEVICE_NAME + 1)).is_err());
    }
}
