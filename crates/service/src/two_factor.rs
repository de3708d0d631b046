//! Two-factor sign-in with an authenticator app (TOTP, RFC 6238: six digits, 30-second
//! steps, one step of clock drift either way) and ten single-use recovery codes.
//!
//! Enabling is two steps: `begin` makes a secret (pending: sign-ins are unchanged), and
//! `confirm` with a first code from the app turns it on and returns the recovery codes,
//! shown once (only their hashes are kept). A code is accepted once: the last accepted
//! time step is stored and a code of that step or an earlier one is refused, so a code
//! seen over a shoulder cannot be replayed. A wrong code counts as a failed sign-in in
//! the password gate's back-off, per account and per address.

use coffer_core::ErrorCode;
use coffer_core::wire::{RecoveryCodes, TwoFactorSetup, TwoFactorStatus};
use coffer_metastore::UserRecord;
use rand::RngCore;
use totp_rs::{Algorithm, Secret, Totp};

use crate::access::Caller;
use crate::limits::Attempt;
use crate::{Result, Service, ServiceError, now_ms};

/// Shown by authenticator apps above the account name.
const ISSUER: &str = "Coffer";
const RECOVERY_CODES: usize = 10;
/// Bytes of secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;
/// The longest code looked at (a recovery code with its dashes, and some slack).
const MAX_CODE_LEN: usize = 64;

fn totp(secret: &str, account: &str) -> Result<Totp> {
    let bytes = Secret::try_from_base32(secret)
        .map_err(|_| ServiceError::new(ErrorCode::Internal, "a stored two-factor secret is damaged"))?;
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(bytes)
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .map_err(|e| ServiceError::new(ErrorCode::Internal, format!("two-factor setup failed: {e}")))
}

/// A recovery code: 16 letters and digits (80 bits) in groups of four.
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let letters: Vec<char> = bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    letters.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// How a recovery code is kept: its hash, of the code as typed without dashes, spaces
/// or case.
fn recovery_hash(code: &str) -> String {
    let normal: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    blake3::hash(format!("coffer recovery code {normal}").as_bytes()).to_hex().to_string()
}

/// Only digits (spaces allowed, as apps show "123 456"): a TOTP code, not a recovery one.
fn as_totp_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

fn qr_svg(uri: &str) -> Result<String> {
    let code = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| ServiceError::new(ErrorCode::Internal, format!("QR code: {e}")))?;
    Ok(code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build())
}

/// The setting that makes two-factor sign-in compulsory for every account.
const REQUIRE_SETTING: &str = "require_two_factor";
/// How long a server node trusts what it last read of that setting.
const POLICY_TTL: std::time::Duration = std::time::Duration::from_secs(1);

impl Service {
    /// Whether the administrator requires two-factor sign-in (read again every few
    /// seconds, so every server node follows a change).
    pub async fn two_factor_is_required(&self) -> Result<bool> {
        if let Some((at, on)) = *self.inner.two_factor_policy.lock().unwrap_or_else(|p| p.into_inner())
            && at.elapsed() < POLICY_TTL
        {
            return Ok(on);
        }
        let on = {
            let mut tx = self.meta().read().await?;
            tx.setting(REQUIRE_SETTING).await?.as_deref() == Some("true")
        };
        *self.inner.two_factor_policy.lock().unwrap_or_else(|p| p.into_inner()) = Some((std::time::Instant::now(), on));
        Ok(on)
    }

    /// Requires (or stops requiring) two-factor sign-in for every account. Accounts
    /// without it may then only set it up; app passwords are not affected.
    pub async fn set_two_factor_required(&self, admin: &crate::Admin, on: bool) -> Result<()> {
        let mut tx = self.meta().write().await?;
        if on {
            tx.set_setting(REQUIRE_SETTING, "true").await?;
        } else {
            tx.delete_setting(REQUIRE_SETTING).await?;
        }
        let detail = if on { "two-factor sign-in required" } else { "two-factor sign-in optional" };
        let event = crate::audit::Event::new(coffer_core::wire::AuditKind::SettingChanged).detail(detail);
        let record = event.by_admin(&mut tx, admin).await?;
        self.audit_in(&mut tx, &record).await?;
        tx.commit().await?;
        *self.inner.two_factor_policy.lock().unwrap_or_else(|p| p.into_inner()) = Some((std::time::Instant::now(), on));
        tracing::info!(on, by = ?admin.user(), "two-factor sign-in requirement changed");
        Ok(())
    }

    /// Whether `user` must set up two-factor sign-in before anything else.
    pub(crate) async fn must_set_up_two_factor(&self, user: coffer_core::UserId) -> Result<bool> {
        if !self.two_factor_is_required().await? {
            return Ok(false);
        }
        let mut tx = self.meta().read().await?;
        Ok(tx.two_factor(user).await?.is_none_or(|r| r.enabled_at.is_none()))
    }

    /// Whether the caller's account signs in with a second factor.
    pub async fn two_factor_status(&self, caller: &Caller) -> Result<TwoFactorStatus> {
        let mut tx = self.meta().read().await?;
        let record = tx.two_factor(caller.user_id()).await?;
        let left = tx.recovery_codes_left(caller.user_id()).await?;
        Ok(TwoFactorStatus {
            enabled: record.as_ref().is_some_and(|r| r.enabled_at.is_some()),
            pending: record.as_ref().is_some_and(|r| r.enabled_at.is_none()),
            recovery_codes_left: left.max(0) as u32,
        })
    }

    /// Starts (or starts over) setting up two-factor sign-in: a new secret, pending until
    /// [`Service::two_factor_confirm`]. Refused when it is already on.
    pub async fn two_factor_begin(&self, caller: &Caller) -> Result<TwoFactorSetup> {
        caller.signed_in()?;
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let secret = Secret::new(bytes.to_vec().into_boxed_slice()).to_base32();
        let mut tx = self.meta().write().await?;
        if tx.two_factor(caller.user_id()).await?.is_some_and(|r| r.enabled_at.is_some()) {
            return Err(ServiceError::new(
                ErrorCode::AlreadyExists,
                "two-factor sign-in is already on; turn it off first to set up another app",
            ));
        }
        tx.set_pending_two_factor(caller.user_id(), &secret, now_ms()).await?;
        tx.commit().await?;
        let uri = totp(&secret, caller.user_name())?
            .to_url()
            .map_err(|e| ServiceError::new(ErrorCode::Internal, format!("two-factor setup failed: {e}")))?;
        let qr_svg = qr_svg(&uri)?;
        Ok(TwoFactorSetup { otpauth_uri: uri, secret, qr_svg })
    }

    /// Turns two-factor sign-in on with a first code from the app; returns the recovery
    /// codes (shown once).
    pub async fn two_factor_confirm(&self, caller: &Caller, code: &str) -> Result<RecoveryCodes> {
        caller.signed_in()?;
        let mut tx = self.meta().write().await?;
        let Some(record) = tx.two_factor(caller.user_id()).await? else {
            return Err(ServiceError::new(ErrorCode::NotFound, "no two-factor setup was started"));
        };
        if record.enabled_at.is_some() {
            return Err(ServiceError::new(ErrorCode::AlreadyExists, "two-factor sign-in is already on"));
        }
        let step = as_totp_code(code).and_then(|c| totp(&record.secret, caller.user_name()).ok()?.check_current(&c));
        // (Not `unauthorized`: the caller is signed in, only the code is wrong.)
        let Some(step) = step else {
            return Err(ServiceError::new(ErrorCode::BadRequest, "that code is not the app's current one"));
        };
        let now = now_ms();
        tx.take_totp_step(caller.user_id(), step as i64).await?;
        tx.enable_two_factor(caller.user_id(), now).await?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
        tx.set_recovery_codes(caller.user_id(), &hashes, now).await?;
        let event = crate::audit::Event::new(coffer_core::wire::AuditKind::TwoFactorEnabled);
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        tracing::info!(user = caller.user_name(), "two-factor sign-in turned on");
        Ok(RecoveryCodes { codes })
    }

    /// Turns two-factor sign-in off (or drops a pending setup): the password and a code
    /// (from the app, or a recovery code) are both needed.
    pub async fn two_factor_disable(&self, caller: &Caller, password: &str, code: &str) -> Result<()> {
        caller.signed_in()?;
        let user = {
            let mut tx = self.meta().read().await?;
            tx.user_by_id(caller.user_id()).await?.ok_or_else(|| ServiceError::not_found("user"))?
        };
        let attempt = Attempt { account: &user.name, address: None };
        // A wrong factor here is `forbidden`, not `unauthorized`: the caller stays signed in.
        if !self.check_password_alone(&attempt, password, Some(user.password_hash.clone())).await? {
            return Err(ServiceError::new(ErrorCode::Forbidden, "wrong password"));
        }
        let pending = {
            let mut tx = self.meta().read().await?;
            tx.two_factor(user.id).await?.is_some_and(|r| r.enabled_at.is_none())
        };
        if !pending {
            self.second_factor(&user, Some(code), &attempt).await.map_err(|e| match e.code {
                ErrorCode::Unauthorized | ErrorCode::TwoFactorRequired => {
                    ServiceError::new(ErrorCode::Forbidden, "wrong or already used code")
                }
                _ => e,
            })?;
        }
        let mut tx = self.meta().write().await?;
        tx.delete_two_factor(user.id).await?;
        let what = if pending { "a setup not confirmed" } else { "two-factor sign-in" };
        let event = crate::audit::Event::new(coffer_core::wire::AuditKind::TwoFactorDisabled).detail(what);
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        self.inner.passwords.succeeded(&attempt);
        tracing::info!(user = %user.name, "two-factor sign-in turned off");
        Ok(())
    }

    /// The second step of a sign-in whose password was right: nothing for an account
    /// without two-factor sign-in; otherwise a current code not used before, or an
    /// unused recovery code (then used up). A wrong code counts as a failed attempt.
    pub(crate) async fn second_factor(
        &self,
        user: &UserRecord,
        code: Option<&str>,
        attempt: &Attempt<'_>,
    ) -> Result<()> {
        let record = {
            let mut tx = self.meta().read().await?;
            tx.two_factor(user.id).await?
        };
        let Some(record) = record.filter(|r| r.enabled_at.is_some()) else { return Ok(()) };
        let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
            return Err(ServiceError::new(
                ErrorCode::TwoFactorRequired,
                "this account needs a code from its authenticator app (or a recovery code)",
            ));
        };
        let wrong = || ServiceError::new(ErrorCode::Unauthorized, "wrong or already used code");
        if code.len() > MAX_CODE_LEN {
            self.inner.passwords.failed(attempt);
            return Err(wrong());
        }
        let now = now_ms();
        let accepted = match as_totp_code(code) {
            Some(digits) => match totp(&record.secret, &user.name)?.check_current(&digits) {
                Some(step) => {
                    let mut tx = self.meta().write().await?;
                    let fresh = tx.take_totp_step(user.id, step as i64).await?;
                    tx.commit().await?;
                    fresh
                }
                None => false,
            },
            None => {
                let hash = recovery_hash(code);
                let mut tx = self.meta().write().await?;
                let used = tx.use_recovery_code(user.id, &hash, now).await?;
                tx.commit().await?;
                if used {
                    tracing::warn!(user = %user.name, "signed in with a recovery code");
                }
                used
            }
        };
        if !accepted {
            self.inner.passwords.failed(attempt);
            tracing::warn!(user = %user.name, address = ?attempt.address, "wrong two-factor code");
            return Err(wrong());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_long_random_and_forgiving_to_type() {
        let a = new_recovery_code();
        assert_eq!(a.len(), 19, "{a}");
        assert_eq!(a.matches('-').count(), 3);
        assert_ne!(a, new_recovery_code());
        assert_eq!(recovery_hash(&a), recovery_hash(&a.to_uppercase().replace('-', " ")));
        assert_ne!(recovery_hash(&a), recovery_hash(&new_recovery_code()));
    }

    #[test]
    fn only_six_digits_are_an_app_code() {
        assert_eq!(as_totp_code("123 456").as_deref(), Some("123456"));
        assert_eq!(as_totp_code("12345"), None);
        assert_eq!(as_totp_code("abcd-efgh-jkmn-pqrs"), None);
    }
}
