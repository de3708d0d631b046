//! Accounts: first-admin setup, users, passwords (argon2id), devices and their tokens.
//!
//! A device token is 32 random bytes shown to the client once; the server keeps only its
//! BLAKE3 hash, so a copy of the database does not hold usable tokens.

use argon2::{Argon2, PasswordHasher};
use base64::Engine as _;
use coffer_core::wire::{AuditKind, DeviceKind, LoginResponse, SetupStatus, UserInfo};
use coffer_core::{ErrorCode, UserId};
use coffer_metastore::{NewCredential, UserRecord};
use rand::RngCore;
use std::net::IpAddr;

use crate::access::{Admin, Caller, Credential};
use crate::audit::Event;
use crate::credentials::device_name;
use crate::limits::Attempt;
use crate::{Result, Service, ServiceError, now_ms};

const SETUP_TOKEN_KEY: &str = "setup_token_hash";

/// What a person signs in with: the user name, the password and, for an account with
/// two-factor sign-in, a code.
#[derive(Debug, Clone, Copy)]
pub struct SignIn<'a> {
    pub name: &'a str,
    pub password: &'a str,
    pub code: Option<&'a str>,
}
const MAX_PASSWORD_BYTES: usize = 1024;
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_USER_NAME: usize = 64;
/// A web app sign-in ends this long after it began, however active.
pub const SESSION_LIFETIME_MS: i64 = 30 * 24 * 3600 * 1000;
const CSRF_CONTEXT: &str = "coffer 2026-12 web app session csrf token";

/// The CSRF token of a web app session: derived from the session token, so the server
/// keeps nothing more and a page that cannot read the HttpOnly cookie cannot compute it.
/// The web app learns it from the sign-in answer (or `GET /api/v1/session`), which only
/// same-origin script can read.
pub fn session_csrf(session_token: &str) -> String {
    hex_of(&blake3::derive_key(CSRF_CONTEXT, session_token.as_bytes()))
}

/// Whether `given` is the CSRF token of `session_token`, compared in constant time.
pub fn csrf_matches(session_token: &str, given: &str) -> bool {
    constant_time_eq(session_csrf(session_token).as_bytes(), given.as_bytes())
}

/// A short, printable name for a web app sign-in, from the browser's User-Agent.
fn browser_name(user_agent: &str) -> String {
    let ua = user_agent;
    let browser =
        [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
            .iter()
            .find(|(tag, _)| ua.contains(tag))
            .map_or("Browser", |(_, name)| name);
    let os = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(tag, _)| ua.contains(tag))
    .map(|(_, name)| *name);
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_owned(),
    }
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    blake3::hash(token.as_bytes()).as_bytes().to_vec()
}

pub(crate) fn user_info(u: &UserRecord) -> UserInfo {
    UserInfo {
        id: u.id.get(),
        name: u.name.clone(),
        is_admin: u.is_admin,
        quota_bytes: u.quota_bytes.map(|q| q.max(0) as u64),
        used_bytes: u.used_bytes.max(0) as u64,
        must_set_up_two_factor: false,
    }
}

fn validate_user_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_USER_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        && !name.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(ServiceError::new(
            ErrorCode::BadRequest,
            format!("a user name is 1 to {MAX_USER_NAME} of a-z A-Z 0-9 . _ - @, not starting with . or -"),
        ))
    }
}

fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(ServiceError::new(
            ErrorCode::BadRequest,
            format!("a password is {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} bytes long"),
        ));
    }
    Ok(())
}

/// Most argon2 memory a stored hash may ask for (256 MiB); a hash asking for more is
/// refused rather than allowed to make every check that expensive.
const MAX_ARGON2_BLOCKS: usize = 256 * 1024;

thread_local! {
    /// Each password thread's argon2 memory, allocated once and reused: a fresh 19 MiB
    /// allocation per check would be kept by the allocator in whichever arena served it,
    /// up to one copy per arena.
    static ARGON2_MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Checks `password` against a stored PHC argon2 hash, in this thread's reusable memory.
fn verify_argon2(password: &[u8], stored: &str) -> bool {
    use argon2::{Algorithm, Params, PasswordHash, Version};
    let Ok(hash) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
    let (Ok(params), Ok(algorithm)) = (Params::try_from(&hash), Algorithm::try_from(hash.algorithm.as_str())) else {
        return false;
    };
    let Ok(version) = hash.version.map_or(Ok(Version::default()), Version::try_from) else { return false };
    let blocks = params.block_count();
    if blocks > MAX_ARGON2_BLOCKS {
        return false;
    }
    let mut out = vec![0u8; expected.as_bytes().len()];
    let argon = Argon2::new(algorithm, version, params);
    let computed = ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::new());
        }
        argon.hash_password_into_with_memory(password, salt.as_ref(), &mut out, &mut memory[..blocks])
    });
    computed.is_ok() && constant_time_eq(&out, expected.as_bytes())
}

/// A decoy hash checked for unknown users, so timing does not tell which users exist.
fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| Argon2::default().hash_password(b"coffer decoy").map(|h| h.to_string()).unwrap_or_default())
        .clone()
}

impl Service {
    /// Hashes a new password on the bounded password pool.
    pub(crate) async fn hash_password(&self, password: String) -> Result<String> {
        self.inner
            .passwords
            .run(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
            .await?
            .map_err(|_| ServiceError::new(ErrorCode::Internal, "password hashing failed"))
    }

    /// Checks a password attempt against `hash` (`None`: unknown account, checked against
    /// a decoy so it takes the same time). Refused at once, before any hashing, while the
    /// account or address waits out a back-off; a wrong password counts towards one.
    pub(crate) async fn check_password(
        &self,
        attempt: &Attempt<'_>,
        password: &str,
        hash: Option<String>,
    ) -> Result<bool> {
        let ok = self.check_password_alone(attempt, password, hash).await?;
        if ok {
            self.inner.passwords.succeeded(attempt);
        }
        Ok(ok)
    }

    /// [`Service::check_password`] without forgetting the account's failures when the
    /// password is right: for a sign-in that still needs its second factor (a wrong code
    /// then counts as a failure like a wrong password).
    pub(crate) async fn check_password_alone(
        &self,
        attempt: &Attempt<'_>,
        password: &str,
        hash: Option<String>,
    ) -> Result<bool> {
        let gate = &self.inner.passwords;
        gate.admit(attempt)?;
        let password = password.to_owned();
        let ok = gate
            .run(move || {
                let known = hash.is_some();
                let hash = hash.unwrap_or_else(decoy_hash);
                verify_argon2(password.as_bytes(), &hash) && known
            })
            .await?;
        if !ok {
            gate.failed(attempt);
            tracing::warn!(account = attempt.account, address = ?attempt.address, "wrong password");
        }
        Ok(ok)
    }

    /// When no user exists yet, makes a fresh one-time setup token (replacing any older
    /// one) and returns it for the operator to see; `None` once set up.
    pub async fn prepare_setup_token(&self) -> Result<Option<String>> {
        let mut tx = self.meta().write().await?;
        if tx.count_users().await? > 0 {
            tx.delete_setting(SETUP_TOKEN_KEY).await?;
            tx.commit().await?;
            return Ok(None);
        }
        let token = random_token();
        tx.set_setting(SETUP_TOKEN_KEY, &hex_of(&token_hash(&token))).await?;
        tx.commit().await?;
        Ok(Some(token))
    }

    /// Creates the first admin with the setup token printed at first start. The token
    /// is checked before the password is hashed, so a wrong token costs nothing.
    pub async fn setup(&self, token: &str, name: &str, password: &str, from: Option<IpAddr>) -> Result<UserInfo> {
        validate_user_name(name)?;
        validate_password(password)?;
        let attempt = Attempt { account: SETUP_TOKEN_KEY, address: from };
        self.inner.passwords.admit(&attempt)?;
        let unavailable =
            || ServiceError::new(ErrorCode::SetupUnavailable, "setup is done or the setup token is wrong");
        let token_ok = |expected: Option<String>| {
            expected.is_some_and(|e| constant_time_eq(e.as_bytes(), hex_of(&token_hash(token)).as_bytes()))
        };
        {
            let mut tx = self.meta().read().await?;
            if !token_ok(tx.setting(SETUP_TOKEN_KEY).await?) || tx.count_users().await? > 0 {
                self.inner.passwords.failed(&attempt);
                return Err(unavailable());
            }
        }
        let hash = self.hash_password(password.to_owned()).await?;
        let mut tx = self.meta().write().await?;
        // Looked at again under the write lock: another setup may have won meanwhile.
        if !token_ok(tx.setting(SETUP_TOKEN_KEY).await?) || tx.count_users().await? > 0 {
            return Err(unavailable());
        }
        let user = tx.create_user(name, &hash, true, None, now_ms()).await?;
        tx.delete_setting(SETUP_TOKEN_KEY).await?;
        let event = Event::new(AuditKind::UserCreated).target(name).detail("the first admin, with the setup token");
        self.audit_in(&mut tx, &event.by_anyone(Some(user.id), Some(name), from)).await?;
        tx.commit().await?;
        tracing::info!(user = name, "first admin created with the setup token");
        Ok(user_info(&user))
    }

    /// Creates a user.
    pub async fn create_user(
        &self,
        admin: &Admin,
        name: &str,
        password: &str,
        is_admin: bool,
        quota: Option<u64>,
    ) -> Result<UserInfo> {
        validate_user_name(name)?;
        validate_password(password)?;
        let hash = self.hash_password(password.to_owned()).await?;
        let mut tx = self.meta().write().await?;
        if tx.user_by_name(name).await?.is_some() {
            return Err(ServiceError::new(ErrorCode::AlreadyExists, format!("user '{name}' exists")));
        }
        let quota = quota.map(|q| i64::try_from(q).unwrap_or(i64::MAX));
        let user = tx.create_user(name, &hash, is_admin, quota, now_ms()).await?;
        tx.delete_setting(SETUP_TOKEN_KEY).await?;
        let event = Event::new(AuditKind::UserCreated).target(name).detail(if is_admin { "admin" } else { "user" });
        let record = event.by_admin(&mut tx, admin).await?;
        self.audit_in(&mut tx, &record).await?;
        tx.commit().await?;
        tracing::info!(user = name, is_admin, by = ?admin.user(), "user created");
        Ok(user_info(&user))
    }

    pub async fn list_users(&self, _admin: &Admin) -> Result<Vec<UserInfo>> {
        let mut tx = self.meta().read().await?;
        Ok(tx.list_users().await?.iter().map(user_info).collect())
    }

    pub async fn set_quota(&self, admin: &Admin, name: &str, quota: Option<u64>) -> Result<UserInfo> {
        let mut tx = self.meta().write().await?;
        let user = tx.user_by_name(name).await?.ok_or_else(|| ServiceError::not_found(format!("user '{name}'")))?;
        tx.set_quota(user.id, quota.map(|q| i64::try_from(q).unwrap_or(i64::MAX))).await?;
        let user = tx.user_by_id(user.id).await?.ok_or_else(|| ServiceError::not_found("user"))?;
        let shown = user.quota_bytes.map_or_else(|| "no limit".to_owned(), |q| format!("{q} bytes"));
        let record = Event::new(AuditKind::QuotaChanged).target(name).detail(shown).by_admin(&mut tx, admin).await?;
        self.audit_in(&mut tx, &record).await?;
        tx.commit().await?;
        tracing::info!(user = name, quota = ?user.quota_bytes, by = ?admin.user(), "quota set");
        Ok(user_info(&user))
    }

    /// Checks a password and issues a token for a new device. `from` is the client's
    /// address, for the guessing back-off.
    pub async fn login(&self, name: &str, password: &str, device: &str, from: Option<IpAddr>) -> Result<LoginResponse> {
        self.sign_in(&SignIn { name, password, code: None }, device, from).await
    }

    /// Signs a device in (a password, and a code where two-factor sign-in is on) and
    /// makes its token.
    pub async fn sign_in(&self, sign_in: &SignIn<'_>, device: &str, from: Option<IpAddr>) -> Result<LoginResponse> {
        let device = device_name(device)?;
        let user = self.verify_sign_in(sign_in, from).await?;
        let token = random_token();
        let mut tx = self.meta().write().await?;
        let new = NewCredential {
            user_id: user.id,
            name: device,
            kind: DeviceKind::Device,
            read_only: false,
            token_hash: &token_hash(&token),
            expires_at: None,
        };
        let dev = tx.create_device(&new, now_ms()).await?;
        let mut record = Event::new(AuditKind::SignIn).target(device).detail("device").by_anyone(
            Some(user.id),
            Some(&user.name),
            from,
        );
        record.credential_id = Some(dev.id.get());
        self.audit_in(&mut tx, &record).await?;
        tx.commit().await?;
        let must = self.must_set_up_two_factor(user.id).await?;
        Ok(LoginResponse {
            token,
            device_id: dev.id.get(),
            user: UserInfo { must_set_up_two_factor: must, ..user_info(&user) },
        })
    }

    /// Signs a browser in: checks the password like [`Service::login`] and starts a web
    /// app session that ends after [`SESSION_LIFETIME_MS`] (or sooner, idle, with the
    /// configured token idle expiry). Returns the session token (for the cookie only) and
    /// what the page may see.
    pub async fn start_session(
        &self,
        sign_in: &SignIn<'_>,
        user_agent: &str,
        from: Option<IpAddr>,
    ) -> Result<(String, coffer_core::wire::BrowserSession)> {
        let user = self.verify_sign_in(sign_in, from).await?;
        let token = random_token();
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        let name = browser_name(user_agent);
        let new = NewCredential {
            user_id: user.id,
            name: &name,
            kind: DeviceKind::Browser,
            read_only: false,
            token_hash: &token_hash(&token),
            expires_at: Some(now + SESSION_LIFETIME_MS),
        };
        let dev = tx.create_device(&new, now).await?;
        let mut record = Event::new(AuditKind::SignIn).target(name.as_str()).detail("browser").by_anyone(
            Some(user.id),
            Some(&user.name),
            from,
        );
        record.credential_id = Some(dev.id.get());
        self.audit_in(&mut tx, &record).await?;
        tx.commit().await?;
        let session = coffer_core::wire::BrowserSession {
            csrf: session_csrf(&token),
            user: UserInfo { must_set_up_two_factor: self.must_set_up_two_factor(user.id).await?, ..user_info(&user) },
            device_id: dev.id.get(),
        };
        Ok((token, session))
    }

    /// What the page of a signed-in browser may see again after a reload.
    pub async fn session_info(
        &self,
        caller: &Caller,
        session_token: &str,
    ) -> Result<coffer_core::wire::BrowserSession> {
        let Credential::Session(id) = caller.credential() else {
            return Err(ServiceError::new(ErrorCode::Unauthorized, "this is not a web app sign-in"));
        };
        Ok(coffer_core::wire::BrowserSession {
            csrf: session_csrf(session_token),
            user: self.whoami(caller).await?,
            device_id: id.get(),
        })
    }

    /// Whether the server still waits for its first admin.
    pub async fn setup_status(&self) -> Result<SetupStatus> {
        let mut tx = self.meta().read().await?;
        Ok(SetupStatus { needed: tx.count_users().await? == 0 })
    }

    /// The user whose name and password these are; every failure is the same
    /// `unauthorized`, after the same work, and counts towards the guessing back-off.
    /// Checks a sign-in: the password, then, where two-factor sign-in is on, the code.
    async fn verify_sign_in(&self, sign_in: &SignIn<'_>, from: Option<IpAddr>) -> Result<UserRecord> {
        let SignIn { name, password, code } = *sign_in;
        let denied = || ServiceError::new(ErrorCode::Unauthorized, "wrong user name or password");
        if password.len() > MAX_PASSWORD_BYTES || name.len() > MAX_USER_NAME {
            return Err(denied());
        }
        let user = {
            let mut tx = self.meta().read().await?;
            tx.user_by_name(name).await?
        };
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let attempt = Attempt { account: name, address: from };
        let ok = self.check_password_alone(&attempt, password, hash).await?;
        let failed = |account: Option<UserId>, why: &str| {
            Event::new(AuditKind::SignInFailed).target(name).detail(why).by_anyone(account, Some(name), from)
        };
        let user = match user {
            Some(u) if ok => u,
            other => {
                self.audit_now(failed(other.map(|u| u.id), "wrong user name or password")).await;
                return Err(denied());
            }
        };
        if let Err(e) = self.second_factor(&user, code, &attempt).await {
            if e.code == ErrorCode::Unauthorized {
                self.audit_now(failed(Some(user.id), "wrong two-factor code")).await;
            }
            return Err(e);
        }
        self.inner.passwords.succeeded(&attempt);
        Ok(user)
    }

    pub async fn whoami(&self, caller: &Caller) -> Result<UserInfo> {
        let mut tx = self.meta().read().await?;
        let user = tx.user_by_id(caller.user_id()).await?.ok_or_else(|| ServiceError::not_found("user"))?;
        Ok(UserInfo { must_set_up_two_factor: caller.must_set_up_two_factor(), ..user_info(&user) })
    }

    /// Changes the caller's password (the current one is needed) and revokes every other
    /// credential of the account: a stolen token dies with the old password. Returns how
    /// many were revoked.
    pub async fn change_password(&self, caller: &Caller, current: &str, new: &str) -> Result<u64> {
        let keep = caller.signed_in()?;
        validate_password(new)?;
        let user = {
            let mut tx = self.meta().read().await?;
            tx.user_by_id(caller.user_id()).await?.ok_or_else(|| ServiceError::not_found("user"))?
        };
        // A wrong current password is `forbidden`, not `unauthorized`: the caller stays
        // signed in.
        let attempt = Attempt { account: &user.name, address: None };
        if current.len() > MAX_PASSWORD_BYTES
            || !self.check_password(&attempt, current, Some(user.password_hash)).await?
        {
            return Err(ServiceError::new(ErrorCode::Forbidden, "the current password is wrong"));
        }
        let hash = self.hash_password(new.to_owned()).await?;
        let mut tx = self.meta().write().await?;
        tx.set_password_hash(user.id, &hash).await?;
        let n = tx.revoke_devices_but(user.id, keep, now_ms()).await?;
        let event = Event::new(AuditKind::PasswordChanged).detail(format!("{n} other sign-in(s) revoked"));
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        tracing::info!(user = %user.name, revoked = n, "password changed; other sign-ins revoked");
        self.inner.notifier.credentials_changed(user.id);
        Ok(n)
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reusable_memory_checks_agree_with_argon2() {
        let stored = Argon2::default().hash_password(b"correct horse").expect("hash").to_string();
        assert!(verify_argon2(b"correct horse", &stored));
        assert!(!verify_argon2(b"correct horsf", &stored));
        assert!(verify_argon2(b"correct horse", &stored), "the reused memory gives the same answer");
        assert!(!verify_argon2(b"correct horse", "not a hash"));
        assert!(!verify_argon2(b"x", &decoy_hash().replace("argon2id", "argon2x")));
    }
}
