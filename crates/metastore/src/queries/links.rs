//! Public links to files and folders.

use coffer_core::{LinkId, NodeId, UserId};

use crate::db::{DbRow, Tx};
use crate::{MetaError, args};

/// A public link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    pub id: LinkId,
    pub token: String,
    pub node_id: NodeId,
    pub owner_id: UserId,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// PHC argon2id hash of the link's password.
    pub password_hash: Option<String>,
    pub max_downloads: Option<i64>,
    pub downloads: i64,
    pub allow_download: bool,
    pub revoked_at: Option<i64>,
}

impl LinkRecord {
    fn from_row(r: &DbRow) -> Result<Self, MetaError> {
        Ok(Self {
            id: r.id("id")?,
            token: r.text("token")?,
            node_id: r.id("node_id")?,
            owner_id: r.id("owner_id")?,
            created_at: r.i64("created_at")?,
            expires_at: r.opt_i64("expires_at")?,
            password_hash: r.opt_text("password_hash")?,
            max_downloads: r.opt_i64("max_downloads")?,
            downloads: r.i64("downloads")?,
            allow_download: r.bool("allow_download")?,
            revoked_at: r.opt_i64("revoked_at")?,
        })
    }
}

/// A link to be made.
#[derive(Debug, Clone)]
pub struct NewLink<'a> {
    pub token: &'a str,
    pub token_hash: &'a [u8],
    pub node_id: NodeId,
    pub owner_id: UserId,
    pub expires_at: Option<i64>,
    pub password_hash: Option<String>,
    pub max_downloads: Option<i64>,
    pub allow_download: bool,
    pub now: i64,
}

macro_rules! select_links {
    ($tail:literal) => {
        concat!(
            "SELECT id, token, node_id, owner_id, created_at, expires_at, password_hash, max_downloads, downloads, \
             allow_download, revoked_at FROM links ",
            $tail
        )
    };
}

impl Tx {
    pub async fn insert_link(&mut self, l: NewLink<'_>) -> Result<LinkRecord, MetaError> {
        let id: LinkId = self
            .one(
                "INSERT INTO links (token, token_hash, node_id, owner_id, created_at, expires_at, password_hash, \
                 max_downloads, allow_download) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                args![
                    l.token,
                    l.token_hash,
                    l.node_id,
                    l.owner_id,
                    l.now,
                    l.expires_at,
                    l.password_hash,
                    l.max_downloads,
                    l.allow_download
                ],
            )
            .await?
            .id("id")?;
        self.link(id).await?.ok_or_else(|| MetaError::Corrupt(format!("link {id} vanished after insert")))
    }

    pub async fn link(&mut self, id: LinkId) -> Result<Option<LinkRecord>, MetaError> {
        self.row(select_links!("WHERE id = $1"), args![id]).await?.map(|r| LinkRecord::from_row(&r)).transpose()
    }

    pub async fn link_by_token_hash(&mut self, token_hash: &[u8]) -> Result<Option<LinkRecord>, MetaError> {
        self.row(select_links!("WHERE token_hash = $1"), args![token_hash])
            .await?
            .map(|r| LinkRecord::from_row(&r))
            .transpose()
    }

    /// A user's links, oldest first, after link `after`, at most `limit`.
    pub async fn links_of(&mut self, owner: UserId, after: i64, limit: i64) -> Result<Vec<LinkRecord>, MetaError> {
        self.rows(select_links!("WHERE owner_id = $1 AND id > $2 ORDER BY id LIMIT $3"), args![owner, after, limit])
            .await?
            .iter()
            .map(LinkRecord::from_row)
            .collect()
    }

    /// A user's links to one item.
    pub async fn links_to(&mut self, owner: UserId, node: NodeId) -> Result<Vec<LinkRecord>, MetaError> {
        self.rows(select_links!("WHERE owner_id = $1 AND node_id = $2 ORDER BY id"), args![owner, node])
            .await?
            .iter()
            .map(LinkRecord::from_row)
            .collect()
    }

    pub async fn revoke_link(&mut self, id: LinkId, now: i64) -> Result<(), MetaError> {
        self.exec("UPDATE links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", args![now, id]).await?;
        Ok(())
    }

    /// Counts one download if the link has any left; false when it has none.
    pub async fn take_link_download(&mut self, id: LinkId) -> Result<bool, MetaError> {
        let changed = self
            .exec(
                "UPDATE links SET downloads = downloads + 1 \
                 WHERE id = $1 AND (max_downloads IS NULL OR downloads < max_downloads)",
                args![id],
            )
            .await?;
        Ok(changed == 1)
    }
}
