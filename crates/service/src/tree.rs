//! The file tree: stat, list, mkdir, move, delete to trash, restore, purge and version
//! history. Every path and id goes through the access checkpoint (`access.rs`) with the
//! permission the operation needs, so another user's nodes are simply not found.

use std::collections::{HashMap, HashSet};

use coffer_core::wire::{ChangeKind, NodeInfo, NodeKind, RevisionInfo, TrashEntry};
use coffer_core::{
    ContentHash, ErrorCode, Manifest, Name, NamespaceId, NodeId, Permission, RemotePath, RevisionId, Role, UserId,
};
use coffer_metastore::{NewNode, NodeRecord, Tx};

use crate::access::{Caller, Located, View};
use crate::{Result, Service, ServiceError, now_ms};

/// Most entries in one page of a listing.
pub const MAX_PAGE: i64 = 5000;

pub(crate) fn change_name(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Created => "created",
        ChangeKind::Modified => "modified",
        ChangeKind::Moved => "moved",
        ChangeKind::Trashed => "trashed",
        ChangeKind::Restored => "restored",
        ChangeKind::Deleted => "deleted",
    }
}

pub(crate) fn node_info(n: &NodeRecord, path: Option<String>) -> NodeInfo {
    NodeInfo {
        id: n.id.get(),
        namespace_id: n.namespace_id.get(),
        parent_id: n.parent_id.map(NodeId::get),
        name: n.name.clone(),
        kind: if n.is_folder { NodeKind::Folder } else { NodeKind::File },
        path,
        size: n.size.max(0) as u64,
        rev: n.current_rev.map(RevisionId::get),
        content_hash: n.content_hash.as_deref().and_then(ContentHash::from_slice),
        modified_at: n.modified_at,
        mtime: n.mtime,
        mode: n.mode,
        trashed: n.trashed_at.is_some(),
    }
}

fn join_path(parent: &str, name: &str) -> String {
    if parent == "/" { format!("/{name}") } else { format!("{parent}/{name}") }
}

pub(crate) fn parse_path(raw: &str) -> Result<RemotePath> {
    Ok(RemotePath::parse(raw)?)
}

/// Distinct chunk hashes of a manifest, as stored keys.
pub(crate) fn distinct_hashes(m: &Manifest) -> Vec<Vec<u8>> {
    let set: HashSet<[u8; 32]> = m.chunks.iter().map(|c| c.hash.0).collect();
    set.into_iter().map(|h| h.to_vec()).collect()
}

impl Service {
    /// Takes the write lock of the namespace `path` leads into (the caller's home first,
    /// so every writer locks in the same order), then locates `path` under it.
    pub(crate) async fn lock_and_locate(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        path: &RemotePath,
        need: Permission,
    ) -> Result<Located> {
        tx.lock_namespace(caller.home()).await?;
        let located = self.locate(tx, caller, path, need).await?;
        if located.node.namespace_id == caller.home() {
            return Ok(located);
        }
        tx.lock_namespace(located.node.namespace_id).await?;
        self.locate(tx, caller, path, need).await
    }

    /// The path of a live node below its namespace's root.
    pub(crate) async fn path_of(&self, tx: &mut Tx, node_id: NodeId) -> Result<String> {
        let chain = tx.ancestry(node_id).await?;
        let names: Vec<&str> = chain.iter().rev().skip(1).map(|n| n.name.as_str()).collect();
        Ok(format!("/{}", names.join("/")))
    }

    /// The path the caller knows a live node by: below their root, through their mount
    /// when the node is in a shared folder. `None` when the caller has no mount of it.
    pub(crate) async fn visible_path(&self, tx: &mut Tx, view: &View, node_id: NodeId) -> Result<Option<String>> {
        let chain = tx.ancestry(node_id).await?;
        let Some(top) = chain.last() else { return Ok(None) };
        let inner: Vec<&str> = chain.iter().rev().skip(1).map(|n| n.name.as_str()).collect();
        let prefix = match view.mount_of_root(top.id) {
            Some(mount) => self.path_of(tx, mount.id).await?,
            None if top.namespace_id == view.home() => String::new(),
            None => return Ok(None),
        };
        Ok(Some(if inner.is_empty() && !prefix.is_empty() {
            prefix
        } else {
            format!("{}/{}", prefix.trim_end_matches('/'), inner.join("/"))
        }))
    }

    /// Walks `path` (relative to a namespace's root `root`) and creates the folders it
    /// lacks, inside that namespace: where a restored item's folders are remade.
    pub(crate) async fn ensure_folders_below(
        &self,
        tx: &mut Tx,
        root: NodeRecord,
        path: &RemotePath,
        now: i64,
    ) -> Result<NodeRecord> {
        let mut node = root;
        for name in path.names() {
            node = match tx.child(node.namespace_id, node.id, &name.collision_key()).await? {
                Some(existing) if existing.is_folder && existing.mount_namespace_id.is_none() => existing,
                Some(_) => {
                    return Err(ServiceError::new(ErrorCode::NotAFolder, format!("'{name}' in '{path}' is a file")));
                }
                None => create_folder(tx, node.namespace_id, node.id, name, now).await?,
            };
        }
        Ok(node)
    }

    /// Finds or creates each folder of `path` (`mkdir -p`), recording new ones in the
    /// journal of the namespace they go into. Returns the last folder.
    pub(crate) async fn ensure_folders(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        path: &RemotePath,
        now: i64,
    ) -> Result<NodeRecord> {
        let Located { mut node, missing, .. } = self.locate(tx, caller, path, Permission::Write).await?;
        if !node.is_folder {
            return Err(ServiceError::new(ErrorCode::NotAFolder, format!("'{}' in '{path}' is a file", node.name)));
        }
        for name in &missing {
            node = create_folder(tx, node.namespace_id, node.id, name, now).await?;
        }
        Ok(node)
    }

    pub async fn stat(&self, caller: &Caller, path: &str) -> Result<NodeInfo> {
        let path = parse_path(path)?;
        let mut tx = self.meta().read().await?;
        let located = self.locate(&mut tx, caller, &path, Permission::Read).await?;
        let mount = located.mount.clone();
        let node = located.existing(&path)?;
        Ok(node_info(mount.as_ref().unwrap_or(&node), Some(path.to_string())))
    }

    pub async fn stat_id(&self, caller: &Caller, id: NodeId) -> Result<NodeInfo> {
        let mut tx = self.meta().read().await?;
        let node = self.access_file(&mut tx, caller, id, Permission::Read).await?;
        let view = self.view(&mut tx, caller).await?;
        let path = if node.trashed_at.is_none() { self.visible_path(&mut tx, &view, node.id).await? } else { None };
        Ok(view.info(&node, path))
    }

    /// One page of a folder, sorted by name; `after` is the last name of the previous page.
    pub async fn list(
        &self,
        caller: &Caller,
        path: &str,
        after: Option<&str>,
        limit: Option<i64>,
    ) -> Result<(Vec<NodeInfo>, Option<String>)> {
        let path = parse_path(path)?;
        let limit = limit.unwrap_or(1000).clamp(1, MAX_PAGE);
        let mut tx = self.meta().read().await?;
        let located = self.locate(&mut tx, caller, &path, Permission::Read).await?;
        let mount = located.mount.clone();
        let folder = located.existing(&path)?;
        if !folder.is_folder {
            return Ok((vec![node_info(&folder, Some(path.to_string()))], None));
        }
        let mut rows = tx.children(folder.id, after, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let base = path.to_string();
        let next = if more { rows.last().map(|n| n.name.clone()) } else { None };
        // Children of a shared root are shown below the caller's mount.
        let parent = mount.as_ref().map(|m| m.id.get());
        let infos = rows
            .iter()
            .map(|n| {
                let mut info = node_info(n, Some(join_path(&base, &n.name)));
                if parent.is_some() {
                    info.parent_id = parent;
                }
                info
            })
            .collect();
        Ok((infos, next))
    }

    pub async fn mkdir(&self, caller: &Caller, path: &str, parents: bool) -> Result<NodeInfo> {
        let path = parse_path(path)?;
        let Some(name) = path.file_name().cloned() else {
            return if parents {
                self.stat(caller, "/").await
            } else {
                Err(ServiceError::new(ErrorCode::AlreadyExists, "the root exists"))
            };
        };
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        let parent_path = path.parent().unwrap_or_default();
        self.lock_and_locate(&mut tx, caller, &parent_path, Permission::Write).await?;
        let parent = if parents {
            self.ensure_folders(&mut tx, caller, &parent_path, now).await?
        } else {
            let p = self.resolve(&mut tx, caller, &parent_path, Permission::Write).await?;
            if !p.is_folder {
                return Err(ServiceError::new(ErrorCode::NotAFolder, format!("'{parent_path}' is a file")));
            }
            p
        };
        let namespace = parent.namespace_id;
        let node = match tx.child(namespace, parent.id, &name.collision_key()).await? {
            Some(existing) if existing.is_folder && parents => existing,
            Some(_) => return Err(ServiceError::new(ErrorCode::AlreadyExists, format!("'{path}' exists"))),
            None => create_folder(&mut tx, namespace, parent.id, &name, now).await?,
        };
        self.check_node_limit(&mut tx, namespace).await?;
        tx.commit().await?;
        self.notify(&[namespace]);
        let path = parent_path.join(Name::new(&node.name)?);
        Ok(node_info(&node, Some(path.to_string())))
    }

    /// Moves and/or renames. The target path must be free (a case-only rename of the
    /// same node is allowed); a folder cannot go into itself.
    pub async fn move_node(&self, caller: &Caller, from: &str, to: &str) -> Result<NodeInfo> {
        let from = parse_path(from)?;
        let to = parse_path(to)?;
        let (Some(_), Some(new_name)) = (from.file_name(), to.file_name()) else {
            return Err(ServiceError::new(ErrorCode::RootImmutable, "the root folder cannot be moved"));
        };
        // Every path the move carries must stay addressable. Only a move to a longer path
        // can break that; the subtree is measured before the write transaction, so a
        // huge folder does not hold the writer while it is walked.
        let longer = to.to_string().len().saturating_sub(from.to_string().len()) as i64;
        if longer > 0 {
            let mut tx = self.meta().read().await?;
            let node = self.resolve(&mut tx, caller, &from, Permission::Read).await?;
            let deepest = from.to_string().len() as i64 + longer + tx.subtree_path_bytes(node.id).await?;
            if node.is_folder && deepest > coffer_core::path::MAX_PATH_BYTES as i64 {
                return Err(ServiceError::new(
                    ErrorCode::InvalidName,
                    format!(
                        "moving '{from}' to '{to}' would make a path {deepest} bytes long; at most {} are allowed",
                        coffer_core::path::MAX_PATH_BYTES
                    ),
                ));
            }
        }
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        let located = self.lock_and_locate(&mut tx, caller, &from, Permission::Read).await?;
        // A shared folder's mount is the caller's own node: any member may rename or
        // move it within their home.
        let node = match located.mount.clone() {
            Some(mount) if located.missing.is_empty() => mount,
            _ => located.existing(&from)?,
        };
        self.access_namespace(&mut tx, caller, node.namespace_id, Permission::Write).await?;
        let to_parent_path = to.parent().unwrap_or_default();
        let target_parent = self.resolve(&mut tx, caller, &to_parent_path, Permission::Write).await?;
        if !target_parent.is_folder {
            return Err(ServiceError::new(ErrorCode::NotAFolder, format!("'{to_parent_path}' is a file")));
        }
        let namespace = node.namespace_id;
        if node.is_folder && tx.ancestry(target_parent.id).await?.iter().any(|a| a.id == node.id) {
            return Err(ServiceError::new(ErrorCode::MoveIntoSelf, format!("cannot move '{from}' into itself")));
        }
        if let Some(existing) =
            tx.child(target_parent.namespace_id, target_parent.id, &new_name.collision_key()).await?
            && existing.id != node.id
        {
            return Err(ServiceError::new(ErrorCode::AlreadyExists, format!("'{to}' exists")));
        }
        let moved = if target_parent.namespace_id == namespace {
            tx.relocate_node(node.id, target_parent.id, new_name.as_str(), &new_name.collision_key(), now).await?;
            let moved = tx.node(node.id).await?.ok_or_else(|| ServiceError::not_found("item"))?;
            tx.append_journal(change_name(ChangeKind::Moved), &moved, now).await?;
            moved
        } else {
            self.move_across(&mut tx, &node, &target_parent, new_name, now).await?
        };
        let view = self.view(&mut tx, caller).await?;
        tx.commit().await?;
        self.notify(&[namespace, moved.namespace_id]);
        Ok(view.info(&moved, Some(to.to_string())))
    }

    /// Deletes to the trash: the item and everything below it disappear from the tree,
    /// and can be restored until the trash retention ends.
    pub async fn delete(&self, caller: &Caller, path: &str) -> Result<NodeInfo> {
        self.delete_if(caller, path, None).await
    }

    /// Deletes to the trash only if the file is still at revision `if_rev` (when given):
    /// a delete decided on an old revision never trashes a newer edit.
    pub async fn delete_if(&self, caller: &Caller, path: &str, if_rev: Option<RevisionId>) -> Result<NodeInfo> {
        let path = parse_path(path)?;
        if path.is_root() {
            return Err(ServiceError::new(ErrorCode::RootImmutable, "the root folder cannot be deleted"));
        }
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        let located = self.lock_and_locate(&mut tx, caller, &path, Permission::Read).await?;
        if let Some(mount) = located.mount.clone().filter(|_| located.missing.is_empty()) {
            // A member who deletes a shared folder from their tree leaves it (nothing in
            // it is touched); its owner removes the members instead.
            caller.may_change()?;
            if self.role_in(&mut tx, caller, located.node.namespace_id).await? == Role::Owner {
                return Err(ServiceError::new(
                    ErrorCode::SharedFolder,
                    format!("'{path}' is a shared folder you own: remove its members instead of deleting it"),
                ));
            }
            tx.remove_member(located.node.namespace_id, caller.user_id()).await?;
            crate::sharing::remove_mount(&mut tx, &mount, now).await?;
            let event = crate::audit::Event::new(coffer_core::wire::AuditKind::ShareLeft).target(path.to_string());
            self.audit_in(&mut tx, &event.by(caller)).await?;
            tx.commit().await?;
            tracing::info!(
                user = caller.user_name(),
                namespace = located.node.namespace_id.get(),
                "left a shared folder"
            );
            self.notify(&[caller.home()]);
            return Ok(node_info(&mount, None));
        }
        let node = located.existing(&path)?;
        self.access_namespace(&mut tx, caller, node.namespace_id, Permission::Write).await?;
        if if_rev.is_some() && node.current_rev != if_rev {
            return Err(ServiceError::conflict(node_info(&node, Some(path.to_string()))));
        }
        if node.is_folder && tx.subtree_has_mount(node.id).await? {
            return Err(ServiceError::new(
                ErrorCode::SharedFolder,
                format!("'{path}' holds a shared folder: move it out, leave it or unshare it first"),
            ));
        }
        // The original place is kept relative to the namespace, so whoever restores it
        // (any editor of a shared folder) puts it back in the same folder.
        let original = self.path_of(&mut tx, node.id).await?;
        tx.trash_node(node.id, &original, now).await?;
        let trashed = tx.node(node.id).await?.ok_or_else(|| ServiceError::not_found("item"))?;
        tx.append_journal(change_name(ChangeKind::Trashed), &trashed, now).await?;
        tx.commit().await?;
        self.notify(&[trashed.namespace_id]);
        Ok(node_info(&trashed, None))
    }

    /// The trash of the caller's home and of every shared folder they may change,
    /// newest first, each item with the path the caller knows its place by.
    pub async fn trash_list(&self, caller: &Caller) -> Result<Vec<TrashEntry>> {
        let mut tx = self.meta().read().await?;
        let view = self.view(&mut tx, caller).await?;
        let mut out = Vec::new();
        for (namespace, role) in tx.memberships(caller.user_id()).await? {
            if !role.grants(Permission::Write) {
                continue;
            }
            let Some(prefix) = self.namespace_prefix(&mut tx, &view, namespace).await? else { continue };
            for n in tx.trashed(namespace).await? {
                out.push(TrashEntry {
                    node: view.info(&n, None),
                    original_path: format!("{prefix}{}", n.original_path.as_deref().unwrap_or_default()),
                    trashed_at: n.trashed_at.unwrap_or_default(),
                });
            }
        }
        out.sort_by_key(|e| std::cmp::Reverse((e.trashed_at, e.node.id)));
        Ok(out)
    }

    /// Where a namespace's root is in the caller's tree: "" for their home, their
    /// mount's path for a shared folder; `None` when they have no mount of it.
    async fn namespace_prefix(&self, tx: &mut Tx, view: &View, namespace: NamespaceId) -> Result<Option<String>> {
        if namespace == view.home() {
            return Ok(Some(String::new()));
        }
        match view.mount_of_namespace(namespace) {
            Some(mount) => Ok(Some(self.path_of(tx, mount.id).await?)),
            None => Ok(None),
        }
    }

    /// Restores a trashed item to where it was, recreating missing folders; if the name
    /// is taken meanwhile, the restored item gets a suffixed name ("a (restored).txt").
    pub async fn trash_restore(&self, caller: &Caller, id: NodeId) -> Result<NodeInfo> {
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        tx.lock_namespace(caller.home()).await?;
        let node = self.access_node(&mut tx, caller, id, Permission::Write).await?;
        let namespace = node.namespace_id;
        if namespace != caller.home() {
            tx.lock_namespace(namespace).await?;
        }
        if node.trashed_at.is_none() || tx.is_purging(node.id).await? {
            return Err(ServiceError::not_found("trashed item"));
        }
        let original = RemotePath::parse(node.original_path.as_deref().unwrap_or(""))
            .ok()
            .filter(|p| !p.is_root())
            .unwrap_or_else(|| RemotePath::root().join(Name::new(&node.name).unwrap_or_else(|_| fallback_name())));
        let parent_path = original.parent().unwrap_or_default();
        let root_id = tx.namespace_root(namespace).await?;
        let root = tx.node(root_id).await?.ok_or_else(|| ServiceError::not_found("root"))?;
        let parent = self.ensure_folders_below(&mut tx, root, &parent_path, now).await?;
        let base = original.file_name().cloned().unwrap_or_else(fallback_name);
        let mut name = base.clone();
        let mut attempt = 1;
        while tx.child(parent.namespace_id, parent.id, &name.collision_key()).await?.is_some() {
            name = base.with_suffix(&if attempt == 1 { "restored".to_string() } else { format!("restored {attempt}") });
            attempt += 1;
        }
        tx.untrash_node(node.id, parent.id, name.as_str(), &name.collision_key(), now).await?;
        let restored = tx.node(node.id).await?.ok_or_else(|| ServiceError::not_found("item"))?;
        tx.append_journal(change_name(ChangeKind::Restored), &restored, now).await?;
        // What came back below it is told of in batches (see `journal_restore`).
        let has_children = restored.is_folder && !tx.children(node.id, None, 1).await?.is_empty();
        if has_children {
            tx.start_restore_job(node.id, namespace).await?;
        }
        self.check_node_limit(&mut tx, namespace).await?;
        let view = self.view(&mut tx, caller).await?;
        let prefix = self.namespace_prefix(&mut tx, &view, namespace).await?.unwrap_or_default();
        tx.commit().await?;
        self.notify(&[namespace]);
        if has_children {
            self.journal_restore(node.id, namespace, (0, node.id)).await?;
        }
        Ok(view.info(&restored, Some(format!("{prefix}{}", parent_path.join(name)))))
    }

    /// Tells sync clients about everything that came back with a restored folder, parents
    /// before children, in batches of [`PURGE_BATCH`] journal entries (one short
    /// transaction each, progress recorded), so restoring a huge folder never holds the
    /// writer for long. Items trashed on their own inside the folder stay in the trash.
    /// An interrupted restore is finished by the next maintenance pass from `after`
    /// (the `(depth, id)` last told of).
    pub(crate) async fn journal_restore(
        &self,
        root_id: NodeId,
        namespace_id: NamespaceId,
        after: (i64, NodeId),
    ) -> Result<()> {
        let outline = {
            let mut tx = self.meta().read().await?;
            tx.subtree_outline(root_id).await?
        };
        let mut hidden: HashSet<NodeId> = HashSet::new();
        let mut todo = Vec::new();
        for (id, parent, depth, trashed) in outline {
            if id == root_id {
                continue;
            }
            if trashed || parent.is_some_and(|p| hidden.contains(&p)) {
                hidden.insert(id);
                continue;
            }
            if (depth, id) > after {
                todo.push((depth, id));
            }
        }
        let mut next = 0;
        while next < todo.len() {
            let now = now_ms();
            let mut tx = self.meta().write().await?;
            tx.lock_namespace(namespace_id).await?;
            // Under the namespace lock, another runner of the same restore (maintenance
            // beside the request) cannot be half way: skip what it told of already.
            let Some(progress) = tx.restore_job_progress(root_id).await? else { return Ok(()) };
            while next < todo.len() && todo[next] <= progress {
                next += 1;
            }
            let batch = &todo[next..(next + PURGE_BATCH).min(todo.len())];
            if batch.is_empty() {
                break;
            }
            next += batch.len();
            // Deleted again meanwhile: what is below it stays out of sight.
            if tx.node(root_id).await?.is_none_or(|r| r.trashed_at.is_some()) {
                break;
            }
            let ids: Vec<NodeId> = batch.iter().map(|(_, id)| *id).collect();
            let nodes = tx.nodes_by_ids(&ids).await?;
            let nodes: Vec<_> = nodes.into_iter().filter(|n| n.trashed_at.is_none()).collect();
            tx.append_journal_many(namespace_id, change_name(ChangeKind::Restored), &nodes, now).await?;
            if let Some((depth, id)) = batch.last() {
                tx.advance_restore_job(root_id, *depth, *id).await?;
            }
            tx.commit().await?;
            self.notify(&[namespace_id]);
        }
        let mut tx = self.meta().write().await?;
        tx.finish_restore_job(root_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes trashed items for good (one, or the whole trash). Returns how many.
    ///
    /// Each item is purged in batches of short transactions ([`Service::purge`]), so a
    /// huge folder never holds the metadata store's writer for long.
    pub async fn trash_purge(&self, caller: &Caller, id: Option<NodeId>) -> Result<u64> {
        let (roots, what) = {
            let mut tx = self.meta().read().await?;
            match id {
                Some(id) => {
                    let node = self.access_node(&mut tx, caller, id, Permission::Write).await?;
                    if node.trashed_at.is_none() || tx.is_purging(node.id).await? {
                        return Err(ServiceError::not_found("trashed item"));
                    }
                    let what = node.original_path.clone().unwrap_or_else(|| node.name.to_string());
                    (vec![node.id], what)
                }
                None => {
                    self.access_namespace(&mut tx, caller, caller.home(), Permission::Write).await?;
                    (tx.trashed(caller.home()).await?.iter().map(|n| n.id).collect(), "the whole trash".to_owned())
                }
            }
        };
        let mut purged = 0;
        for root in roots {
            if self.purge(root).await? {
                purged += 1;
            }
        }
        if purged > 0 {
            let event = crate::audit::Event::new(coffer_core::wire::AuditKind::Purged)
                .target(what)
                .detail(format!("{purged} item(s) deleted for good"));
            self.audit_now(event.by(caller)).await;
        }
        Ok(purged)
    }

    /// Purges one trashed item: marks it (it leaves the trash and cannot be restored),
    /// then deletes its subtree deepest first in batches of [`PURGE_BATCH`] nodes, each
    /// batch one transaction that also releases its chunks and refunds the owner's quota.
    /// A purge interrupted anywhere (a crash, a dropped request) is finished by the next
    /// maintenance pass. False if the item is no longer in the trash.
    pub(crate) async fn purge(&self, root_id: NodeId) -> Result<bool> {
        let namespace_id = {
            let mut tx = self.meta().write().await?;
            let Some(root) = tx.lock_node(root_id).await? else { return Ok(false) };
            // An item inside an already purged folder is gone with it; one restored
            // meanwhile is no longer trash.
            if root.trashed_at.is_none() {
                return Ok(false);
            }
            tx.mark_purging(root_id).await?;
            tx.commit().await?;
            root.namespace_id
        };
        let ids = {
            let mut tx = self.meta().read().await?;
            tx.subtree_ids_deepest_first(root_id).await?
        };
        for batch in ids.chunks(PURGE_BATCH) {
            let now = now_ms();
            let mut tx = self.meta().write().await?;
            let owner = self.quota_owner(&mut tx, namespace_id).await?;
            let (revisions, nodes) = tx.delete_node_batch(batch).await?;
            let mut counts: HashMap<Vec<u8>, i64> = HashMap::new();
            let mut freed = 0;
            for (size, manifest) in &revisions {
                let manifest = Manifest::decode(manifest)
                    .map_err(|_| ServiceError::new(ErrorCode::Internal, "a purged revision has a damaged manifest"))?;
                for h in distinct_hashes(&manifest) {
                    *counts.entry(h).or_default() += 1;
                }
                freed += size;
            }
            release_chunks(&mut tx, counts, now).await?;
            tx.add_used_bytes(owner, -freed).await?;
            tx.add_node_count(namespace_id, -(nodes as i64)).await?;
            tx.commit().await?;
            metrics::counter!("coffer_purged_nodes_total").increment(nodes);
        }
        Ok(true)
    }

    /// Deletes the oldest old versions of a namespace until `needed` bytes are freed
    /// (or none is left), releasing their chunks. Returns the bytes freed, already
    /// refunded to `owner` (the namespace's owner, by the quota rule).
    pub(crate) async fn thin_versions(
        &self,
        tx: &mut Tx,
        owner: UserId,
        namespace_id: NamespaceId,
        needed: i64,
        now: i64,
    ) -> Result<i64> {
        let mut freed = 0;
        while freed < needed {
            let old = tx.oldest_old_revisions(namespace_id, 100).await?;
            if old.is_empty() {
                break;
            }
            let mut counts: HashMap<Vec<u8>, i64> = HashMap::new();
            for rev in old {
                if freed >= needed {
                    break;
                }
                let manifest = Manifest::decode(&rev.manifest)
                    .map_err(|_| ServiceError::new(ErrorCode::Internal, "an old version has a damaged manifest"))?;
                // Another writer may have removed it meanwhile: count only our own.
                if !tx.delete_revision(rev.id).await? {
                    continue;
                }
                for h in distinct_hashes(&manifest) {
                    *counts.entry(h).or_default() += 1;
                }
                freed += rev.size;
            }
            release_chunks(tx, counts, now).await?;
        }
        if freed > 0 {
            tx.add_used_bytes(owner, -freed).await?;
            tracing::info!(user_id = owner.get(), freed, "old versions removed to stay within the quota");
        }
        Ok(freed)
    }

    /// Refuses a change that leaves a namespace's owner with more files and folders
    /// than allowed (checked after the change, inside its transaction).
    pub(crate) async fn check_node_limit(&self, tx: &mut Tx, namespace_id: NamespaceId) -> Result<()> {
        let max = self.config().max_nodes_per_user;
        let owner = self.quota_owner(tx, namespace_id).await?;
        let user = tx.user_by_id(owner).await?.ok_or_else(|| ServiceError::not_found("user"))?;
        if user.node_count > max {
            return Err(ServiceError::new(
                ErrorCode::QuotaExceeded,
                format!("an account holds at most {max} files and folders (trash included)"),
            ));
        }
        Ok(())
    }

    pub async fn versions(&self, caller: &Caller, path: &str) -> Result<Vec<RevisionInfo>> {
        let path = parse_path(path)?;
        let mut tx = self.meta().read().await?;
        let node = self.resolve(&mut tx, caller, &path, Permission::Read).await?;
        if node.is_folder {
            return Err(ServiceError::new(ErrorCode::NotAFile, format!("'{path}' is a folder")));
        }
        Ok(tx
            .revisions(node.id)
            .await?
            .iter()
            .map(|r| RevisionInfo {
                rev: r.id.get(),
                size: r.size.max(0) as u64,
                content_hash: ContentHash::from_slice(&r.content_hash).unwrap_or(ContentHash([0; 32])),
                created_at: r.created_at,
                device: r.device_name.clone(),
                mtime: r.mtime,
                mode: r.mode,
                current: Some(r.id) == node.current_rev,
            })
            .collect())
    }

    /// Makes an old revision current again, as a new revision (history only grows).
    pub async fn restore_version(&self, caller: &Caller, path: &str, rev: RevisionId) -> Result<NodeInfo> {
        let path = parse_path(path)?;
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        let node = self.lock_and_locate(&mut tx, caller, &path, Permission::Write).await?.existing(&path)?;
        let owner = self.quota_owner(&mut tx, node.namespace_id).await?;
        let old = tx
            .revision(rev)
            .await?
            .filter(|r| r.node_id == node.id)
            .ok_or_else(|| ServiceError::not_found("version"))?;
        let Some(updated) = self.revert_to(&mut tx, owner, &node, &old, caller, node.mtime, now).await? else {
            return Err(ServiceError::new(ErrorCode::Conflict, "the file changed during the restore; try again"));
        };
        tx.commit().await?;
        self.notify(&[updated.namespace_id]);
        Ok(node_info(&updated, Some(path.to_string())))
    }

    /// Makes room for `growth` bytes in `owner`'s quota: past it, the oldest old versions
    /// of `namespace` go first; refused if that is not enough.
    pub(crate) async fn ensure_room(
        &self,
        tx: &mut Tx,
        owner: UserId,
        namespace: NamespaceId,
        growth: i64,
        now: i64,
    ) -> Result<()> {
        match self.check_quota(tx, owner, growth).await {
            // Thinning only helps when the growth fits the quota at all.
            Err(e) if e.code == ErrorCode::QuotaExceeded && self.fits_quota(tx, owner, growth).await? => {
                self.thin_versions(tx, owner, namespace, growth, now).await?;
                self.check_quota(tx, owner, growth).await
            }
            other => other,
        }
    }

    /// Whether `growth` bytes fit the user's quota beside the current files alone.
    async fn fits_quota(&self, tx: &mut Tx, user_id: UserId, growth: i64) -> Result<bool> {
        let user = tx.user_by_id(user_id).await?.ok_or_else(|| ServiceError::not_found("user"))?;
        Ok(user.quota_bytes.is_none_or(|q| growth <= q))
    }

    /// Refuses growth beyond a user's quota (files, every version of them, and bytes
    /// held by the user's open upload sessions).
    pub(crate) async fn check_quota(&self, tx: &mut Tx, user_id: UserId, growth: i64) -> Result<()> {
        if growth <= 0 {
            return Ok(());
        }
        let user = tx.user_by_id(user_id).await?.ok_or_else(|| ServiceError::not_found("user"))?;
        let Some(quota) = user.quota_bytes else { return Ok(()) };
        // Bytes held by open upload sessions count too.
        let (_, pending) = tx.open_uploads(user_id, now_ms()).await?;
        let used = user.used_bytes + pending;
        if used + growth > quota {
            return Err(ServiceError::new(
                ErrorCode::QuotaExceeded,
                format!("this needs {growth} more bytes; {used} of {quota} are used (uploads in progress included)"),
            ));
        }
        Ok(())
    }
}

/// Nodes deleted per transaction by a purge.
pub(crate) const PURGE_BATCH: usize = 2000;

/// Drops references to chunks (`hash -> how many references go`).
async fn release_chunks(tx: &mut Tx, counts: HashMap<Vec<u8>, i64>, now: i64) -> Result<()> {
    let mut by_count: HashMap<i64, Vec<Vec<u8>>> = HashMap::new();
    for (h, n) in counts {
        by_count.entry(n).or_default().push(h);
    }
    for (n, hashes) in by_count {
        tx.add_chunk_refs(&hashes, -n, now).await?;
    }
    Ok(())
}

/// Creates a folder and records it in the journal.
pub(crate) async fn create_folder(
    tx: &mut Tx,
    namespace_id: NamespaceId,
    parent_id: NodeId,
    name: &Name,
    now: i64,
) -> Result<NodeRecord> {
    let created = tx
        .insert_node(NewNode {
            namespace_id,
            parent_id,
            name: name.as_str(),
            name_key: &name.collision_key(),
            is_folder: true,
            now,
        })
        .await?;
    tx.append_journal(change_name(ChangeKind::Created), &created, now).await?;
    tx.add_node_count(namespace_id, 1).await?;
    Ok(created)
}

fn fallback_name() -> Name {
    Name::new("restored item").expect("a constant valid name")
}
