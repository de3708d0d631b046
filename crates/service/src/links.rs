//! Public links: a random token that lets anyone who has it see (and, if allowed,
//! download) one file or folder, with an optional expiry, password and download limit.
//!
//! A link is a principal of its own: [`Service::open_link`] is the one place that turns
//! a token (and, for a password-protected link, the key [`Service::unlock_link`] gave)
//! into a [`LinkVisitor`], and it decides everything a visitor may do:
//! - a revoked, expired or used-up link is refused with its own code (`link_revoked`,
//!   `link_expired`, `link_exhausted`);
//! - a link whose item is in the trash (or inside a trashed folder), or that its maker
//!   may no longer share (the item moved into someone else's shared folder), is "not
//!   found" until that changes: restoring the item brings the link back;
//! - a visitor sees only the item and what is below it, by paths relative to it; a
//!   shared folder mounted inside a linked folder is not part of the link.
//!
//! Who may make a link: whoever may share the item (its owner). Passwords are argon2id
//! hashes checked through the same bounded, back-off-guarded pool as sign-ins. A key is
//! stateless (a keyed BLAKE3 MAC over the link, an expiry and the password hash), so
//! it works on every server node, and changing the link's password voids old keys.

use std::net::IpAddr;

use base64::Engine as _;
use coffer_core::wire::{
    LinkInfo, LinkRequest, LinkState, NodeKind, PublicItem, PublicLinkResponse, PublicListResponse, UnlockResponse,
};
use coffer_core::{ContentHash, ErrorCode, LinkId, NodeId, Permission, RemotePath, RevisionId, UserId};
use coffer_metastore::{LinkRecord, NewLink, NodeRecord, Tx};
use futures::Stream;

use crate::access::{Caller, check};
use crate::accounts::{random_token, token_hash};
use crate::audit::Event;
use crate::limits::Attempt;
use crate::tree::{MAX_PAGE, parse_path};
use crate::{ContentStream, Result, Service, ServiceError, now_ms};
use coffer_core::wire::AuditKind;

/// Links one user may keep (revoked ones included, until their item is purged).
pub const MAX_LINKS_PER_USER: i64 = 10_000;
/// How long a key from a link's password stays good.
const KEY_LIFETIME_MS: i64 = 12 * 3600 * 1000;
/// Longest link password, in bytes.
const MAX_LINK_PASSWORD: usize = 1024;
/// The setting holding the secret that signs link keys.
const KEY_SECRET_SETTING: &str = "link_key_secret";
/// A visitor of a public link that [`Service::open_link`] let in.
#[derive(Debug, Clone)]
pub struct LinkVisitor {
    link: LinkRecord,
    root: NodeRecord,
}

impl LinkVisitor {
    pub fn link_id(&self) -> LinkId {
        self.link.id
    }

    /// Whose link it is (whose download slots its visitors use).
    pub fn owner(&self) -> UserId {
        self.link.owner_id
    }

    pub fn allows_download(&self) -> bool {
        self.link.allow_download
    }

    /// The linked item's name (a folder's zip is named after it).
    pub fn name(&self) -> &str {
        &self.root.name
    }

    pub fn is_folder(&self) -> bool {
        self.root.is_folder
    }

    fn downloads_left(&self) -> Option<u64> {
        self.link.max_downloads.map(|m| (m - self.link.downloads).max(0) as u64)
    }
}

/// An item found by walking a folder (a linked one, or a signed-in user's selection),
/// for a zip of it.
#[derive(Debug, Clone)]
pub struct LinkEntry {
    /// Below the walked folder, `/`-separated, the folder's own name first.
    pub path: String,
    pub is_folder: bool,
    /// Modification time in milliseconds (the file's own, else when Coffer last
    /// changed it).
    pub mtime: i64,
    pub size: u64,
    pub(crate) node: NodeId,
    pub(crate) rev: Option<RevisionId>,
}

fn state_of(l: &LinkRecord, now: i64) -> LinkState {
    if l.revoked_at.is_some() {
        LinkState::Revoked
    } else if l.expires_at.is_some_and(|e| e <= now) {
        LinkState::Expired
    } else if l.max_downloads.is_some_and(|m| l.downloads >= m) {
        LinkState::Exhausted
    } else {
        LinkState::Active
    }
}

fn refusal(state: LinkState) -> ServiceError {
    match state {
        LinkState::Revoked => ServiceError::new(ErrorCode::LinkRevoked, "this link was revoked by its owner"),
        LinkState::Expired => ServiceError::new(ErrorCode::LinkExpired, "this link has expired"),
        LinkState::Exhausted => ServiceError::new(ErrorCode::LinkExhausted, "this link's downloads are used up"),
        LinkState::Active | LinkState::Unavailable => unavailable(),
    }
}

fn unavailable() -> ServiceError {
    ServiceError::not_found("the item this link points to")
}

fn public_item(n: &NodeRecord, path: String) -> PublicItem {
    PublicItem {
        name: n.name.clone(),
        path,
        kind: if n.is_folder { NodeKind::Folder } else { NodeKind::File },
        size: n.size.max(0) as u64,
        mtime: n.mtime,
        modified_at: n.modified_at,
        content_hash: n.content_hash.as_deref().and_then(ContentHash::from_slice),
    }
}

fn join(base: &str, name: &str) -> String {
    if base == "/" { format!("/{name}") } else { format!("{base}/{name}") }
}

/// The MAC of a key: over the link, the key's expiry and the link's password hash.
fn key_mac(secret: &[u8; 32], link: &LinkRecord, expires: i64) -> [u8; 32] {
    let mut h = blake3::Hasher::new_keyed(secret);
    h.update(b"coffer link key v1");
    h.update(&link.id.get().to_be_bytes());
    h.update(&expires.to_be_bytes());
    h.update(link.password_hash.as_deref().unwrap_or("").as_bytes());
    *h.finalize().as_bytes()
}

fn encode_key(secret: &[u8; 32], link: &LinkRecord, expires: i64) -> String {
    let mut raw = Vec::with_capacity(40);
    raw.extend_from_slice(&expires.to_be_bytes());
    raw.extend_from_slice(&key_mac(secret, link, expires));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn key_opens(secret: &[u8; 32], link: &LinkRecord, key: &str, now: i64) -> bool {
    let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(key.as_bytes()) else { return false };
    if raw.len() != 40 {
        return false;
    }
    let expires = i64::from_be_bytes(raw[..8].try_into().unwrap_or_default());
    expires > now && crate::accounts::constant_time_eq(&raw[8..], &key_mac(secret, link, expires))
}

/// Where a visitor of a link to `node` browses: `node` itself, or for a shared folder's
/// mount the shared folder's root, under the mount's name.
async fn link_browse_root(tx: &mut Tx, node: NodeRecord) -> Result<NodeRecord> {
    let Some(shared) = node.mount_namespace_id else { return Ok(node) };
    let root = tx.namespace_root(shared).await?;
    let mut r = tx.node(root).await?.ok_or_else(|| ServiceError::not_found("link"))?;
    r.name = node.name;
    Ok(r)
}

impl Service {
    /// Makes a public link to the item at `req.path`; the caller must be allowed to
    /// share it.
    pub async fn create_link(&self, caller: &Caller, req: &LinkRequest) -> Result<LinkInfo> {
        let path = parse_path(&req.path)?;
        if path.is_root() {
            return Err(ServiceError::new(ErrorCode::BadRequest, "a link is to a file or folder, not to the root"));
        }
        let now = now_ms();
        if req.expires_at.is_some_and(|e| e <= now) {
            return Err(ServiceError::new(ErrorCode::BadRequest, "the expiry is in the past"));
        }
        let max_downloads = match req.max_downloads {
            Some(0) => return Err(ServiceError::new(ErrorCode::BadRequest, "a download limit is at least 1")),
            Some(n) => Some(i64::try_from(n).unwrap_or(i64::MAX)),
            None => None,
        };
        let password_hash = match req.password.as_deref() {
            Some(p) if p.is_empty() || p.len() > MAX_LINK_PASSWORD || p.chars().any(char::is_control) => {
                return Err(ServiceError::new(
                    ErrorCode::BadRequest,
                    format!("a link password is 1 to {MAX_LINK_PASSWORD} bytes, without control characters"),
                ));
            }
            Some(p) => Some(self.hash_password(p.to_owned()).await?),
            None => None,
        };
        let token = random_token();
        let mut tx = self.meta().write().await?;
        let located = self.locate(&mut tx, caller, &path, Permission::Share).await?;
        // A shared folder is linked through its owner's mount: what the owner sees at
        // that path, with its name (the shared root itself has none).
        let mount = located.mount.clone();
        let node = located.existing(&path)?;
        let node = mount.unwrap_or(node);
        if tx.links_of(caller.user_id(), 0, MAX_LINKS_PER_USER).await?.len() as i64 >= MAX_LINKS_PER_USER {
            return Err(ServiceError::new(
                ErrorCode::TooLarge,
                format!("a user may keep {MAX_LINKS_PER_USER} links; remove some first"),
            ));
        }
        let link = tx
            .insert_link(NewLink {
                token: &token,
                token_hash: &token_hash(&token),
                node_id: node.id,
                owner_id: caller.user_id(),
                expires_at: req.expires_at,
                password_hash,
                max_downloads,
                allow_download: req.allow_download,
                now,
            })
            .await?;
        let info = self.link_info(&mut tx, caller, link).await?;
        let mut terms = vec![if req.allow_download { "download allowed" } else { "no download" }.to_owned()];
        if req.password.is_some() {
            terms.push("password".into());
        }
        if let Some(e) = req.expires_at {
            terms.push(format!("expires {e}"));
        }
        if let Some(n) = req.max_downloads {
            terms.push(format!("{n} download(s)"));
        }
        let event =
            Event::new(AuditKind::LinkCreated).target(format!("{path} (link {})", info.id)).detail(terms.join(", "));
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        tracing::info!(link = info.id, node = info.node_id, user = caller.user_name(), "public link created");
        Ok(info)
    }

    /// The caller's links, all of them or those to the item at `path`.
    pub async fn links(&self, caller: &Caller, path: Option<&str>) -> Result<Vec<LinkInfo>> {
        let mut tx = self.meta().read().await?;
        let records = match path {
            Some(path) => {
                let path = parse_path(path)?;
                let located = self.locate(&mut tx, caller, &path, Permission::Read).await?;
                let mount = located.mount.clone();
                let node = mount.unwrap_or(located.existing(&path)?);
                tx.links_to(caller.user_id(), node.id).await?
            }
            None => tx.links_of(caller.user_id(), 0, MAX_LINKS_PER_USER).await?,
        };
        let mut out = Vec::with_capacity(records.len());
        for link in records {
            out.push(self.link_info(&mut tx, caller, link).await?);
        }
        Ok(out)
    }

    /// Revokes one of the caller's links: it answers `link_revoked` from then on.
    /// Another user's link is not found.
    pub async fn revoke_link(&self, caller: &Caller, id: LinkId) -> Result<LinkInfo> {
        let mut tx = self.meta().write().await?;
        let link = tx
            .link(id)
            .await?
            .filter(|l| l.owner_id == caller.user_id())
            .ok_or_else(|| ServiceError::not_found("link"))?;
        tx.revoke_link(link.id, now_ms()).await?;
        let link = tx.link(id).await?.ok_or_else(|| ServiceError::not_found("link"))?;
        let info = self.link_info(&mut tx, caller, link).await?;
        let event = Event::new(AuditKind::LinkRevoked)
            .target(format!("{} (link {id})", info.path.as_deref().unwrap_or("an item in the trash")));
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        tracing::info!(link = id.get(), user = caller.user_name(), "public link revoked");
        Ok(info)
    }

    async fn link_info(&self, tx: &mut Tx, caller: &Caller, l: LinkRecord) -> Result<LinkInfo> {
        let node = tx.node(l.node_id).await?.ok_or_else(|| ServiceError::not_found("link"))?;
        let available = self.link_target_available(tx, &l, &node).await?;
        let path = if available {
            let view = self.view(tx, caller).await?;
            self.visible_path(tx, &view, node.id).await?
        } else {
            None
        };
        let state = match state_of(&l, now_ms()) {
            LinkState::Active if !available => LinkState::Unavailable,
            state => state,
        };
        Ok(LinkInfo {
            id: l.id.get(),
            url_path: format!("/s/{}", l.token),
            token: l.token,
            path,
            node_id: node.id.get(),
            kind: if node.is_folder { NodeKind::Folder } else { NodeKind::File },
            created_at: l.created_at,
            expires_at: l.expires_at,
            has_password: l.password_hash.is_some(),
            max_downloads: l.max_downloads.map(|m| m.max(0) as u64),
            downloads: l.downloads.max(0) as u64,
            allow_download: l.allow_download,
            state,
        })
    }

    /// Whether a link's item is live (neither it nor a folder above it in the trash)
    /// and its maker may still share it.
    async fn link_target_available(&self, tx: &mut Tx, l: &LinkRecord, node: &NodeRecord) -> Result<bool> {
        if tx.ancestry(node.id).await?.iter().any(|n| n.trashed_at.is_some()) {
            return Ok(false);
        }
        Ok(tx
            .membership(l.owner_id, node.namespace_id)
            .await?
            .is_some_and(|role| check(role, Permission::Share).is_ok()))
    }

    /// The secret that signs link keys, made on first use and kept in the database so
    /// every server node shares it.
    async fn link_key_secret(&self) -> Result<[u8; 32]> {
        let secret = self
            .inner
            .link_secret
            .get_or_try_init(|| async {
                let parse = |hex: &str| -> Option<[u8; 32]> {
                    let bytes: Vec<u8> = (0..hex.len())
                        .step_by(2)
                        .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                        .collect();
                    bytes.try_into().ok()
                };
                {
                    let mut tx = self.meta().read().await?;
                    if let Some(secret) = tx.setting(KEY_SECRET_SETTING).await?.as_deref().and_then(parse) {
                        return Ok::<_, ServiceError>(secret);
                    }
                }
                let mut tx = self.meta().write().await?;
                if let Some(secret) = tx.setting(KEY_SECRET_SETTING).await?.as_deref().and_then(parse) {
                    return Ok(secret);
                }
                let mut secret = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
                let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
                tx.set_setting(KEY_SECRET_SETTING, &hex).await?;
                tx.commit().await?;
                Ok(secret)
            })
            .await?;
        Ok(*secret)
    }

    /// The link a token names, whatever its state.
    /// The link of `token` and the node it names (for a shared folder, its owner's mount).
    async fn find_link(&self, tx: &mut Tx, token: &str) -> Result<(LinkRecord, NodeRecord)> {
        let not_found = || ServiceError::not_found("link");
        if token.is_empty() || token.len() > 128 {
            return Err(not_found());
        }
        let link = tx.link_by_token_hash(&token_hash(token)).await?.ok_or_else(not_found)?;
        let node = tx.node(link.node_id).await?.ok_or_else(not_found)?;
        Ok((link, node))
    }

    /// Lets a visitor in through a link: refused with the link's state when it no
    /// longer works, "not found" while its item is unavailable, `password_required`
    /// when it has a password and `key` does not open it.
    pub async fn open_link(&self, token: &str, key: Option<&str>) -> Result<LinkVisitor> {
        let mut tx = self.meta().read().await?;
        let (link, root) = self.find_link(&mut tx, token).await?;
        let now = now_ms();
        match state_of(&link, now) {
            LinkState::Active => {}
            state => return Err(refusal(state)),
        }
        if !self.link_target_available(&mut tx, &link, &root).await? {
            return Err(unavailable());
        }
        let root = link_browse_root(&mut tx, root).await?;
        drop(tx);
        if link.password_hash.is_some() {
            let secret = self.link_key_secret().await?;
            if !key.is_some_and(|k| key_opens(&secret, &link, k, now)) {
                return Err(ServiceError::new(ErrorCode::PasswordRequired, "this link needs its password"));
            }
        }
        Ok(LinkVisitor { link, root })
    }

    /// Checks a link's password and gives a key that opens the link for a while.
    /// Wrong guesses back off per link and per address like sign-ins do.
    pub async fn unlock_link(&self, token: &str, password: &str, from: Option<IpAddr>) -> Result<UnlockResponse> {
        let (link, root) = {
            let mut tx = self.meta().read().await?;
            self.find_link(&mut tx, token).await?
        };
        match state_of(&link, now_ms()) {
            LinkState::Active => {}
            state => return Err(refusal(state)),
        }
        let Some(hash) = link.password_hash.clone() else {
            return Err(ServiceError::new(ErrorCode::BadRequest, "this link has no password"));
        };
        let wrong = || ServiceError::new(ErrorCode::PasswordRequired, "wrong password for this link");
        if password.len() > MAX_LINK_PASSWORD {
            return Err(wrong());
        }
        let account = format!("link:{}", link.id);
        if !self.check_password(&Attempt { account: &account, address: from }, password, Some(hash)).await? {
            let event = Event::new(AuditKind::LinkUnlockFailed).target(format!("{} (link {})", root.name, link.id));
            self.audit_now(event.by_anyone(Some(link.owner_id), None, from)).await;
            return Err(wrong());
        }
        {
            let mut tx = self.meta().read().await?;
            if !self.link_target_available(&mut tx, &link, &root).await? {
                return Err(unavailable());
            }
        }
        let expires_at = now_ms() + KEY_LIFETIME_MS;
        let secret = self.link_key_secret().await?;
        Ok(UnlockResponse { key: encode_key(&secret, &link, expires_at), expires_at })
    }

    /// What a link shows of itself.
    pub async fn link_summary(&self, visitor: &LinkVisitor) -> PublicLinkResponse {
        PublicLinkResponse {
            item: public_item(&visitor.root, "/".into()),
            allow_download: visitor.link.allow_download,
            expires_at: visitor.link.expires_at,
            downloads_left: visitor.downloads_left(),
        }
    }

    /// The item at `path` below the link's item (`/` is the item itself).
    async fn link_node(&self, tx: &mut Tx, visitor: &LinkVisitor, path: &RemotePath) -> Result<NodeRecord> {
        let mut node = visitor.root.clone();
        for name in path.names() {
            if !node.is_folder {
                return Err(ServiceError::not_found(format!("'{path}'")));
            }
            node = tx
                .child(node.namespace_id, node.id, &name.collision_key())
                .await?
                // A shared folder mounted below the linked folder is not part of the link.
                .filter(|c| c.mount_namespace_id.is_none())
                .ok_or_else(|| ServiceError::not_found(format!("'{path}'")))?;
        }
        Ok(node)
    }

    /// The item at `path` below the link's item.
    pub async fn link_stat(&self, visitor: &LinkVisitor, path: &str) -> Result<PublicItem> {
        let path = parse_path(path)?;
        let mut tx = self.meta().read().await?;
        let node = self.link_node(&mut tx, visitor, &path).await?;
        Ok(public_item(&node, path.to_string()))
    }

    /// One page of a folder below the link's item, sorted by name.
    pub async fn link_list(
        &self,
        visitor: &LinkVisitor,
        path: &str,
        after: Option<&str>,
        limit: Option<i64>,
    ) -> Result<PublicListResponse> {
        let path = parse_path(path)?;
        let limit = limit.unwrap_or(1000).clamp(1, MAX_PAGE);
        let mut tx = self.meta().read().await?;
        let folder = self.link_node(&mut tx, visitor, &path).await?;
        if !folder.is_folder {
            return Err(ServiceError::new(ErrorCode::NotAFolder, format!("'{path}' is a file")));
        }
        let mut rows = tx.children(folder.id, after, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_after = if more { rows.last().map(|n| n.name.clone()) } else { None };
        let base = path.to_string();
        let entries = rows
            .iter()
            .filter(|n| n.mount_namespace_id.is_none())
            .map(|n| public_item(n, join(&base, &n.name)))
            .collect();
        Ok(PublicListResponse { entries, next_after })
    }

    /// Opens the file at `path` below the link's item; `download_disabled` for a link
    /// that only lets visitors look.
    pub async fn link_open_file(&self, visitor: &LinkVisitor, path: &str) -> Result<ContentStream> {
        if !visitor.link.allow_download {
            return Err(ServiceError::new(ErrorCode::DownloadDisabled, "this link lets visitors look, not download"));
        }
        let path = parse_path(path)?;
        let mut tx = self.meta().read().await?;
        let node = self.link_node(&mut tx, visitor, &path).await?;
        if node.is_folder {
            return Err(ServiceError::new(ErrorCode::NotAFile, format!("'{path}' is a folder")));
        }
        let rev = node.current_rev.ok_or_else(|| ServiceError::not_found("content"))?;
        let record = tx.revision(rev).await?.ok_or_else(|| ServiceError::not_found("content"))?;
        let mut info = crate::tree::node_info(&node, Some(path.to_string()));
        info.namespace_id = 0;
        info.parent_id = None;
        self.content_of(info, record)
    }

    /// Counts one download of the link; `link_exhausted` when none are left.
    pub async fn link_take_download(&self, visitor: &LinkVisitor) -> Result<()> {
        if !visitor.link.allow_download {
            return Err(ServiceError::new(ErrorCode::DownloadDisabled, "this link lets visitors look, not download"));
        }
        let mut tx = self.meta().write().await?;
        if !tx.take_link_download(visitor.link.id).await? {
            return Err(refusal(LinkState::Exhausted));
        }
        let event =
            Event::new(AuditKind::LinkDownloaded).target(format!("{} (link {})", visitor.root.name, visitor.link.id));
        self.audit_in(&mut tx, &event.by_anyone(Some(visitor.link.owner_id), None, None)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Walks the folder at `path` below the link's item, depth first, parents before
    /// their contents, each folder's items by name. Memory stays bounded whatever the
    /// folder holds: one page of children per level. A shared folder mounted below the
    /// linked folder is not part of the link and is left out.
    pub async fn link_walk(
        &self,
        visitor: &LinkVisitor,
        path: &str,
    ) -> Result<impl Stream<Item = Result<LinkEntry>> + Send + 'static> {
        if !visitor.link.allow_download {
            return Err(ServiceError::new(ErrorCode::DownloadDisabled, "this link lets visitors look, not download"));
        }
        let path = parse_path(path)?;
        let mut tx = self.meta().read().await?;
        let node = self.link_node(&mut tx, visitor, &path).await?;
        if !node.is_folder {
            return Err(ServiceError::new(ErrorCode::NotAFolder, format!("'{path}' is a file")));
        }
        let name = node.name.clone();
        Ok(crate::walk::walk_nodes(self.clone(), vec![(node, name)], crate::walk::Mounts::Skip))
    }

    /// Opens a file found by [`Service::link_walk`] as it was when walked; "not found"
    /// if that version is gone since.
    pub async fn open_link_entry(&self, entry: &LinkEntry) -> Result<ContentStream> {
        let rev = entry.rev.ok_or_else(|| ServiceError::not_found("content"))?;
        let mut tx = self.meta().read().await?;
        let record = tx
            .revision(rev)
            .await?
            .filter(|r| r.node_id == entry.node)
            .ok_or_else(|| ServiceError::not_found("content"))?;
        let node = tx.node(entry.node).await?.ok_or_else(|| ServiceError::not_found("content"))?;
        let mut info = crate::tree::node_info(&node, Some(entry.path.clone()));
        info.namespace_id = 0;
        info.parent_id = None;
        self.content_of(info, record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(password: Option<&str>) -> LinkRecord {
        LinkRecord {
            id: LinkId(7),
            token: "t".into(),
            node_id: NodeId(1),
            owner_id: UserId(1),
            created_at: 0,
            expires_at: None,
            password_hash: password.map(str::to_owned),
            max_downloads: None,
            downloads: 0,
            allow_download: true,
            revoked_at: None,
        }
    }

    #[test]
    fn keys_open_their_link_until_they_expire_or_the_password_changes() {
        let secret = [9u8; 32];
        let l = link(Some("hash-a"));
        let key = encode_key(&secret, &l, 1_000);
        assert!(key_opens(&secret, &l, &key, 999));
        assert!(!key_opens(&secret, &l, &key, 1_000), "expired");
        assert!(!key_opens(&secret, &link(Some("hash-b")), &key, 999), "password changed");
        assert!(!key_opens(&[8u8; 32], &l, &key, 999), "another server secret");
        let mut other = link(Some("hash-a"));
        other.id = LinkId(8);
        assert!(!key_opens(&secret, &other, &key, 999), "another link");
        assert!(!key_opens(&secret, &l, "not a key", 999));
        assert!(!key_opens(&secret, &l, "", 999));
    }

    #[test]
    fn states_in_order_of_precedence() {
        let mut l = link(None);
        assert_eq!(state_of(&l, 10), LinkState::Active);
        l.max_downloads = Some(2);
        l.downloads = 2;
        assert_eq!(state_of(&l, 10), LinkState::Exhausted);
        l.expires_at = Some(10);
        assert_eq!(state_of(&l, 10), LinkState::Expired);
        l.revoked_at = Some(5);
        assert_eq!(state_of(&l, 10), LinkState::Revoked);
    }
}
