//! Users, devices (per-device tokens), settings.

use coffer_core::wire::DeviceKind;
use coffer_core::{DeviceId, NamespaceId, UserId};

use crate::db::{DbRow, Tx};
use crate::{MetaError, args};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub quota_bytes: Option<i64>,
    pub used_bytes: i64,
    /// Files and folders in the user's own tree, trash included.
    pub node_count: i64,
    pub home_namespace_id: NamespaceId,
    pub created_at: i64,
}

impl UserRecord {
    fn from_row(r: &DbRow) -> Result<Self, MetaError> {
        Ok(Self {
            id: r.id("id")?,
            name: r.text("name")?,
            password_hash: r.text("password_hash")?,
            is_admin: r.bool("is_admin")?,
            quota_bytes: r.opt_i64("quota_bytes")?,
            used_bytes: r.i64("used_bytes")?,
            node_count: r.i64("node_count")?,
            home_namespace_id: NamespaceId(r.opt_i64("home_namespace_id")?.unwrap_or(0)),
            created_at: r.i64("created_at")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: DeviceId,
    pub user_id: UserId,
    pub name: String,
    pub kind: DeviceKind,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The address it was last used from, when known.
    pub last_address: Option<String>,
    /// An app password that may only read.
    pub read_only: bool,
}

/// A credential to record: a device's or browser's sign-in, or an app password.
#[derive(Debug, Clone)]
pub struct NewCredential<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub kind: DeviceKind,
    pub read_only: bool,
    /// The hash of the token (the token itself is never kept).
    pub token_hash: &'a [u8],
    pub expires_at: Option<i64>,
}

impl DeviceRecord {
    fn from_row(r: &DbRow) -> Result<Self, MetaError> {
        Ok(Self {
            id: r.id("id")?,
            user_id: r.id("user_id")?,
            name: r.text("name")?,
            // A kind this version does not know is treated as the most limited one.
            kind: DeviceKind::parse(&r.text("kind")?).unwrap_or(DeviceKind::Browser),
            created_at: r.i64("created_at")?,
            last_seen_at: r.i64("last_seen_at")?,
            expires_at: r.opt_i64("expires_at")?,
            revoked_at: r.opt_i64("revoked_at")?,
            last_address: r.opt_text("last_address")?,
            read_only: r.i64("read_only")? != 0,
        })
    }
}

macro_rules! select_users {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, password_hash, is_admin, quota_bytes, used_bytes, node_count, home_namespace_id, \
             created_at FROM users ",
            $tail
        )
    };
}

macro_rules! select_devices {
    ($tail:literal) => {
        concat!(
            "SELECT id, user_id, name, kind, created_at, last_seen_at, expires_at, revoked_at, last_address, \
             read_only FROM devices ",
            $tail
        )
    };
}

impl Tx {
    pub async fn setting(&mut self, key: &str) -> Result<Option<String>, MetaError> {
        self.row("SELECT value FROM settings WHERE key = $1", args![key]).await?.map(|r| r.text("value")).transpose()
    }

    pub async fn set_setting(&mut self, key: &str, value: &str) -> Result<(), MetaError> {
        self.exec(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            args![key, value],
        )
        .await?;
        Ok(())
    }

    pub async fn delete_setting(&mut self, key: &str) -> Result<(), MetaError> {
        self.exec("DELETE FROM settings WHERE key = $1", args![key]).await?;
        Ok(())
    }

    pub async fn count_users(&mut self) -> Result<i64, MetaError> {
        self.one("SELECT COUNT(*) AS n FROM users", vec![]).await?.i64("n")
    }

    /// Creates a user with a home namespace, its root folder and owner membership.
    /// A taken name is [`MetaError::Duplicate`].
    pub async fn create_user(
        &mut self,
        name: &str,
        password_hash: &str,
        is_admin: bool,
        quota_bytes: Option<i64>,
        now: i64,
    ) -> Result<UserRecord, MetaError> {
        let user_id = self
            .one(
                "INSERT INTO users (name, password_hash, is_admin, quota_bytes, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                args![name, password_hash, is_admin, quota_bytes, now],
            )
            .await?
            .id::<UserId>("id")?;
        let (ns, _root) = self.create_namespace("home", now).await?;
        self.exec(
            "INSERT INTO namespace_members (namespace_id, user_id, role) VALUES ($1, $2, 'owner')",
            args![ns, user_id],
        )
        .await?;
        self.exec("UPDATE users SET home_namespace_id = $1 WHERE id = $2", args![ns, user_id]).await?;
        self.user_by_id(user_id).await?.ok_or(MetaError::NotFound)
    }

    pub async fn user_by_id(&mut self, id: UserId) -> Result<Option<UserRecord>, MetaError> {
        self.row(select_users!("WHERE id = $1"), args![id]).await?.map(|r| UserRecord::from_row(&r)).transpose()
    }

    pub async fn user_by_name(&mut self, name: &str) -> Result<Option<UserRecord>, MetaError> {
        self.row(select_users!("WHERE name = $1"), args![name]).await?.map(|r| UserRecord::from_row(&r)).transpose()
    }

    pub async fn list_users(&mut self) -> Result<Vec<UserRecord>, MetaError> {
        self.rows(select_users!("ORDER BY name"), vec![]).await?.iter().map(UserRecord::from_row).collect()
    }

    pub async fn set_quota(&mut self, user_id: UserId, quota: Option<i64>) -> Result<bool, MetaError> {
        Ok(self.exec("UPDATE users SET quota_bytes = $1 WHERE id = $2", args![quota, user_id]).await? == 1)
    }

    pub async fn add_used_bytes(&mut self, user_id: UserId, delta: i64) -> Result<(), MetaError> {
        self.exec("UPDATE users SET used_bytes = used_bytes + $1 WHERE id = $2", args![delta, user_id]).await?;
        Ok(())
    }

    /// Counts files and folders created (positive) or removed for good (negative) in a
    /// namespace against its owner (the quota rule: a shared folder's items count
    /// against the user who shared it).
    pub async fn add_node_count(&mut self, namespace_id: NamespaceId, delta: i64) -> Result<(), MetaError> {
        if delta != 0 {
            self.exec(
                "UPDATE users SET node_count = node_count + $1 WHERE id = \
                 (SELECT user_id FROM namespace_members WHERE namespace_id = $2 AND role = 'owner')",
                args![delta, namespace_id],
            )
            .await?;
        }
        Ok(())
    }

    pub async fn create_device(&mut self, new: &NewCredential<'_>, now: i64) -> Result<DeviceRecord, MetaError> {
        let r = self
            .one(
                "INSERT INTO devices (user_id, name, kind, read_only, token_hash, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
                 RETURNING id, user_id, name, kind, created_at, last_seen_at, expires_at, revoked_at, last_address, \
                 read_only",
                args![new.user_id, new.name, new.kind.as_str(), i64::from(new.read_only), new.token_hash, now, new.expires_at],
            )
            .await?;
        DeviceRecord::from_row(&r)
    }

    pub async fn device_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<DeviceRecord>, MetaError> {
        self.row(select_devices!("WHERE token_hash = $1"), args![token_hash])
            .await?
            .map(|r| DeviceRecord::from_row(&r))
            .transpose()
    }

    pub async fn list_devices(&mut self, user_id: UserId) -> Result<Vec<DeviceRecord>, MetaError> {
        self.rows(select_devices!("WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id"), args![user_id])
            .await?
            .iter()
            .map(DeviceRecord::from_row)
            .collect()
    }

    /// Records a credential's use: when, and from where (kept when unknown).
    pub async fn touch_device(&mut self, id: DeviceId, now: i64, address: Option<&str>) -> Result<(), MetaError> {
        self.exec(
            "UPDATE devices SET last_seen_at = $1, last_address = COALESCE($2, last_address) WHERE id = $3",
            args![now, address.map(str::to_owned), id],
        )
        .await?;
        Ok(())
    }

    /// Revokes every live credential of the user but `keep`; returns how many.
    pub async fn revoke_devices_but(&mut self, user_id: UserId, keep: DeviceId, now: i64) -> Result<u64, MetaError> {
        self.exec(
            "UPDATE devices SET revoked_at = $1 WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL",
            args![now, user_id, keep],
        )
        .await
    }

    pub async fn set_password_hash(&mut self, user_id: UserId, hash: &str) -> Result<(), MetaError> {
        self.exec("UPDATE users SET password_hash = $1 WHERE id = $2", args![hash, user_id]).await?;
        Ok(())
    }

    /// Revokes one of the user's devices; false when the user has no such live device.
    pub async fn revoke_device(&mut self, user_id: UserId, device_id: DeviceId, now: i64) -> Result<bool, MetaError> {
        Ok(self
            .exec(
                "UPDATE devices SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                args![now, device_id, user_id],
            )
            .await?
            == 1)
    }
}
