//! Two-factor sign-in: each user's TOTP secret (pending until a first code confirms it),
//! the last time step accepted (a code counts once), and single-use recovery codes
//! (kept as hashes).

use coffer_core::UserId;

use crate::db::{DbRow, Tx};
use crate::{MetaError, args};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoFactorRecord {
    pub user_id: UserId,
    /// The shared secret, base32.
    pub secret: String,
    /// `None` while pending: made, not yet confirmed by a code.
    pub enabled_at: Option<i64>,
    /// The last TOTP time step accepted; a code of that step or before is refused.
    pub last_step: i64,
}

impl TwoFactorRecord {
    fn from_row(r: &DbRow) -> Result<Self, MetaError> {
        Ok(Self {
            user_id: r.id("user_id")?,
            secret: r.text("secret")?,
            enabled_at: r.opt_i64("enabled_at")?,
            last_step: r.i64("last_step")?,
        })
    }
}

impl Tx {
    pub async fn two_factor(&mut self, user_id: UserId) -> Result<Option<TwoFactorRecord>, MetaError> {
        self.row("SELECT user_id, secret, enabled_at, last_step FROM two_factor WHERE user_id = $1", args![user_id])
            .await?
            .map(|r| TwoFactorRecord::from_row(&r))
            .transpose()
    }

    /// Starts (or starts over) a pending setup with a new secret.
    pub async fn set_pending_two_factor(&mut self, user_id: UserId, secret: &str, now: i64) -> Result<(), MetaError> {
        self.exec(
            "INSERT INTO two_factor (user_id, secret, enabled_at, last_step, created_at) VALUES ($1, $2, NULL, 0, $3) \
             ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, enabled_at = NULL, last_step = 0, \
             created_at = excluded.created_at",
            args![user_id, secret, now],
        )
        .await?;
        Ok(())
    }

    pub async fn enable_two_factor(&mut self, user_id: UserId, now: i64) -> Result<(), MetaError> {
        self.exec("UPDATE two_factor SET enabled_at = $2 WHERE user_id = $1", args![user_id, now]).await?;
        Ok(())
    }

    /// Accepts a TOTP time step once: true if it is later than every step accepted
    /// before (the check and the update are one statement, so two sign-ins racing with
    /// one code cannot both pass).
    pub async fn take_totp_step(&mut self, user_id: UserId, step: i64) -> Result<bool, MetaError> {
        let n = self
            .exec("UPDATE two_factor SET last_step = $2 WHERE user_id = $1 AND last_step < $2", args![user_id, step])
            .await?;
        Ok(n == 1)
    }

    /// Turns two-factor sign-in off: the secret and every recovery code go.
    pub async fn delete_two_factor(&mut self, user_id: UserId) -> Result<(), MetaError> {
        self.exec("DELETE FROM two_factor WHERE user_id = $1", args![user_id]).await?;
        self.exec("DELETE FROM recovery_codes WHERE user_id = $1", args![user_id]).await?;
        Ok(())
    }

    /// Replaces the user's recovery codes by these (hashes, hex).
    pub async fn set_recovery_codes(&mut self, user_id: UserId, hashes: &[String], now: i64) -> Result<(), MetaError> {
        self.exec("DELETE FROM recovery_codes WHERE user_id = $1", args![user_id]).await?;
        for h in hashes {
            self.exec(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
                args![user_id, h.as_str(), now],
            )
            .await?;
        }
        Ok(())
    }

    /// Uses a recovery code (by hash) once: true if it was there and unused.
    pub async fn use_recovery_code(&mut self, user_id: UserId, hash: &str, now: i64) -> Result<bool, MetaError> {
        let n = self
            .exec(
                "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                args![user_id, hash, now],
            )
            .await?;
        Ok(n == 1)
    }

    /// Recovery codes not used yet.
    pub async fn recovery_codes_left(&mut self, user_id: UserId) -> Result<i64, MetaError> {
        self.one("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL", args![user_id])
            .await?
            .i64("n")
    }
}
