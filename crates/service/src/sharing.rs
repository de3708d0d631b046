//! Shared folders, Dropbox's model: the owner shares a folder of their home, which
//! becomes a namespace of its own (no bytes copied, every id kept; the folder stays in
//! the owner's home as their mount of it). Each member is invited by user name as
//! viewer, commenter or editor and sees the folder mounted in their own home, under a
//! name and place they may change (the mount is a node, kept by id). The owner changes
//! roles and removes members; a member can leave. What each role may do is decided by
//! the access checkpoint (`access.rs`), like everything else.

use std::collections::HashSet;

use coffer_core::wire::{AuditKind, ChangeKind, MemberInfo, SharedFolderInfo};
use coffer_core::{ErrorCode, Manifest, NamespaceId, NodeId, Permission, RemotePath, Role, UserId};
use coffer_metastore::{NodeRecord, Tx, UserRecord};

use crate::access::{Caller, check_for};
use crate::audit::Event;
use crate::tree::{PURGE_BATCH, change_name, create_folder, distinct_hashes, parse_path};
use crate::{Result, Service, ServiceError, now_ms};

/// Revisions read per query when granting a new member a shared folder's chunks.
const GRANT_PAGE: i64 = 500;

impl Service {
    /// Shares the folder at `path` with `user` as `role`, or changes their role if they
    /// are a member already. The first share of a folder makes it a shared folder.
    pub async fn share_folder(&self, caller: &Caller, path: &str, user: &str, role: Role) -> Result<SharedFolderInfo> {
        if role == Role::Owner {
            return Err(ServiceError::new(
                ErrorCode::BadRequest,
                "a member is a viewer, commenter or editor; a shared folder has one owner",
            ));
        }
        let path = parse_path(path)?;
        if path.is_root() {
            return Err(ServiceError::new(ErrorCode::RootImmutable, "the root folder cannot be shared"));
        }
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        let invitee = self.other_user(&mut tx, caller, user).await?;
        lock_homes(&mut tx, caller.home(), invitee.home_namespace_id).await?;
        let located = self.lock_and_locate(&mut tx, caller, &path, Permission::Read).await?;
        let (namespace, name) = match located.mount.clone() {
            Some(mount) if located.missing.is_empty() => {
                let namespace = located.node.namespace_id;
                self.access_namespace(&mut tx, caller, namespace, Permission::Share).await?;
                (namespace, mount.name)
            }
            _ => {
                let folder = located.existing(&path)?;
                let name = folder.name.clone();
                (self.make_shared(&mut tx, caller, &path, folder, now).await?, name)
            }
        };
        match tx.membership(invitee.id, namespace).await? {
            Some(Role::Owner) => {
                return Err(ServiceError::new(ErrorCode::BadRequest, format!("'{user}' owns '{path}'")));
            }
            Some(_) => {
                tx.set_member_role(namespace, invitee.id, role).await?;
            }
            None => {
                // A mark in the folder's journal where this membership begins: a device
                // of a member added again after being removed is behind it, and is sent
                // the folder's whole history again (its copy of the folder is gone).
                let root = tx.namespace_root(namespace).await?;
                let root = tx.node(root).await?.ok_or_else(|| ServiceError::not_found("shared folder"))?;
                tx.append_journal(change_name(ChangeKind::Modified), &root, now).await?;
                tx.add_member(namespace, invitee.id, role).await?;
                self.mount_for(&mut tx, &invitee, namespace, &name, now).await?;
                self.grant_namespace_chunks(&mut tx, namespace, invitee.id).await?;
                self.check_node_limit(&mut tx, invitee.home_namespace_id).await?;
            }
        }
        let info = self.shared_folder_info(&mut tx, caller, namespace).await?;
        let event = Event::new(AuditKind::ShareCreated).target(path.to_string()).detail(format!("{user} as {role}"));
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        tracing::info!(by = caller.user_name(), with = user, %role, namespace = namespace.get(), "folder shared");
        self.notify(&[namespace, caller.home(), invitee.home_namespace_id]);
        Ok(info)
    }

    /// The shared folders the caller is in (only those shared with them when
    /// `with_me`), or the one holding `path`.
    pub async fn shares(&self, caller: &Caller, path: Option<&str>, with_me: bool) -> Result<Vec<SharedFolderInfo>> {
        let mut tx = self.meta().read().await?;
        let namespaces = match path {
            Some(path) => {
                let path = parse_path(path)?;
                let located = self.locate(&mut tx, caller, &path, Permission::Read).await?;
                let namespace = located.existing(&path)?.namespace_id;
                if namespace == caller.home() {
                    return Err(ServiceError::not_found(format!("a shared folder at '{path}'")));
                }
                vec![(namespace, self.role_in(&mut tx, caller, namespace).await?)]
            }
            None => {
                tx.memberships(caller.user_id()).await?.into_iter().filter(|(ns, _)| *ns != caller.home()).collect()
            }
        };
        let mut out = Vec::new();
        for (namespace, role) in namespaces {
            if with_me && role == Role::Owner {
                continue;
            }
            out.push(self.shared_folder_info(&mut tx, caller, namespace).await?);
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Removes `user` from the shared folder at `path` (its owner only). Their mount
    /// goes at once, and their devices stop hearing of the folder's changes.
    pub async fn unshare(&self, caller: &Caller, path: &str, user: &str) -> Result<SharedFolderInfo> {
        let path = parse_path(path)?;
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        let member = self.other_user(&mut tx, caller, user).await?;
        lock_homes(&mut tx, caller.home(), member.home_namespace_id).await?;
        let namespace = self.shared_folder_at(&mut tx, caller, &path).await?.0;
        self.access_namespace(&mut tx, caller, namespace, Permission::Share).await?;
        match tx.membership(member.id, namespace).await? {
            Some(Role::Owner) => {
                return Err(ServiceError::new(ErrorCode::BadRequest, "the owner of a shared folder cannot be removed"));
            }
            None => return Err(ServiceError::not_found(format!("'{user}' in '{path}'"))),
            Some(_) => {}
        }
        tx.remove_member(namespace, member.id).await?;
        if let Some(mount) = tx.mount_of(member.id, namespace).await? {
            remove_mount(&mut tx, &mount, now).await?;
        }
        let info = self.shared_folder_info(&mut tx, caller, namespace).await?;
        let event = Event::new(AuditKind::ShareRemoved).target(path.to_string()).detail(user);
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        tracing::info!(
            by = caller.user_name(),
            user,
            namespace = namespace.get(),
            "member removed from a shared folder"
        );
        self.notify(&[namespace, member.home_namespace_id]);
        Ok(info)
    }

    /// The caller leaves the shared folder at `path` (its mount goes; nothing in it is
    /// touched). The owner cannot leave: they remove the members instead.
    pub async fn leave_share(&self, caller: &Caller, path: &str) -> Result<()> {
        caller.may_change()?;
        let path = parse_path(path)?;
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        tx.lock_namespace(caller.home()).await?;
        let (namespace, mount) = self.shared_folder_at(&mut tx, caller, &path).await?;
        if self.role_in(&mut tx, caller, namespace).await? == Role::Owner {
            return Err(ServiceError::new(
                ErrorCode::BadRequest,
                "the owner cannot leave a shared folder; remove its members instead",
            ));
        }
        tx.remove_member(namespace, caller.user_id()).await?;
        remove_mount(&mut tx, &mount, now).await?;
        self.audit_in(&mut tx, &Event::new(AuditKind::ShareLeft).target(path.to_string()).by(caller)).await?;
        tx.commit().await?;
        tracing::info!(user = caller.user_name(), namespace = namespace.get(), "left a shared folder");
        self.notify(&[caller.home()]);
        Ok(())
    }

    /// Another existing user, by name.
    pub(crate) async fn other_user(&self, tx: &mut Tx, caller: &Caller, name: &str) -> Result<UserRecord> {
        let user = tx.user_by_name(name).await?.ok_or_else(|| ServiceError::not_found(format!("user '{name}'")))?;
        if user.id == caller.user_id() {
            return Err(ServiceError::new(ErrorCode::BadRequest, "that is you"));
        }
        Ok(user)
    }

    /// The shared folder whose mount is at `path`, and the mount.
    async fn shared_folder_at(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        path: &RemotePath,
    ) -> Result<(NamespaceId, NodeRecord)> {
        let located = self.locate(tx, caller, path, Permission::Read).await?;
        match located.mount {
            Some(mount) if located.missing.is_empty() => Ok((located.node.namespace_id, mount)),
            _ => {
                located.existing(path)?;
                Err(ServiceError::new(ErrorCode::BadRequest, format!("'{path}' is not a shared folder")))
            }
        }
    }

    /// Turns a folder of the caller's home into a shared folder they own, and tells of
    /// its content in its own journal (so each member's devices learn of it).
    async fn make_shared(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        path: &RemotePath,
        folder: NodeRecord,
        now: i64,
    ) -> Result<NamespaceId> {
        if !folder.is_folder {
            return Err(ServiceError::new(ErrorCode::NotAFolder, format!("'{path}' is a file; share its folder")));
        }
        if folder.namespace_id != caller.home() {
            return Err(ServiceError::new(
                ErrorCode::SharedFolder,
                format!("'{path}' is inside a shared folder; shared folders do not nest"),
            ));
        }
        check_for(caller, self.role_in(tx, caller, folder.namespace_id).await?, Permission::Share)?;
        if tx.subtree_has_mount(folder.id).await? {
            return Err(ServiceError::new(
                ErrorCode::SharedFolder,
                format!("'{path}' holds a shared folder; shared folders do not nest"),
            ));
        }
        let prefix = self.path_of(tx, folder.id).await?;
        let (namespace, _root) = tx.make_shared_namespace(folder.id, &prefix, now).await?;
        tx.add_member(namespace, caller.user_id(), Role::Owner).await?;
        let nodes = tx.namespace_nodes(namespace).await?;
        for batch in nodes.chunks(PURGE_BATCH) {
            tx.append_journal_many(namespace, change_name(ChangeKind::Created), batch, now).await?;
        }
        // The owner's devices learn of the new namespace through their home's journal.
        let mount = tx.node(folder.id).await?.ok_or_else(|| ServiceError::not_found("folder"))?;
        tx.append_journal(change_name(ChangeKind::Modified), &mount, now).await?;
        Ok(namespace)
    }

    /// Makes `user`'s mount of a shared folder at the top of their home, named like
    /// the folder (suffixed when the name is taken).
    async fn mount_for(
        &self,
        tx: &mut Tx,
        user: &UserRecord,
        namespace: NamespaceId,
        name: &str,
        now: i64,
    ) -> Result<()> {
        let home = user.home_namespace_id;
        let root = tx.namespace_root(home).await?;
        let base = coffer_core::Name::new(name)?;
        let mut name = base.clone();
        let mut attempt = 1;
        while tx.child(home, root, &name.collision_key()).await?.is_some() {
            name = base.with_suffix(&if attempt == 1 { "shared".to_string() } else { format!("shared {attempt}") });
            attempt += 1;
        }
        let mount = create_folder(tx, home, root, &name, now).await?;
        tx.set_mount(mount.id, namespace).await?;
        Ok(())
    }

    /// Lets a new member be told the chunks of every revision in a shared folder exist:
    /// they now hold those files (dedup privacy is per user).
    async fn grant_namespace_chunks(&self, tx: &mut Tx, namespace: NamespaceId, user: UserId) -> Result<()> {
        let mut after = 0;
        loop {
            let page = tx.namespace_manifests(namespace, after, GRANT_PAGE).await?;
            let Some((last, _)) = page.last() else { break };
            after = *last;
            let mut hashes = HashSet::new();
            for (_, manifest) in &page {
                let manifest = Manifest::decode(manifest)
                    .map_err(|_| ServiceError::new(ErrorCode::Internal, "a shared revision has a damaged manifest"))?;
                hashes.extend(distinct_hashes(&manifest));
            }
            tx.grant_user_chunks(user, &hashes.into_iter().collect::<Vec<_>>()).await?;
            if (page.len() as i64) < GRANT_PAGE {
                break;
            }
        }
        Ok(())
    }

    /// A shared folder as the caller sees it.
    async fn shared_folder_info(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        namespace: NamespaceId,
    ) -> Result<SharedFolderInfo> {
        let members = tx.members(namespace).await?;
        let role = members
            .iter()
            .find(|m| m.user_id == caller.user_id())
            .map(|m| m.role)
            .ok_or_else(|| ServiceError::not_found("shared folder"))?;
        let owner = members.iter().find(|m| m.role == Role::Owner).map(|m| m.user_name.clone()).unwrap_or_default();
        let path = match tx.mount_of(caller.user_id(), namespace).await? {
            Some(mount) => self.path_of(tx, mount.id).await?,
            None => String::new(),
        };
        Ok(SharedFolderInfo {
            path,
            namespace_id: namespace.get(),
            role,
            owner,
            members: members.into_iter().map(|m| MemberInfo { user: m.user_name, role: m.role }).collect(),
        })
    }

    /// Moves a file or folder (with everything below it, trash included) from one
    /// namespace into another (between a home and a shared folder): ids are kept and no
    /// bytes are copied; the bytes move from the source owner's quota to the target
    /// owner's, and the target's members are told of everything that came in.
    pub(crate) async fn move_across(
        &self,
        tx: &mut Tx,
        node: &NodeRecord,
        target: &NodeRecord,
        name: &coffer_core::Name,
        now: i64,
    ) -> Result<NodeRecord> {
        let (from, to) = (node.namespace_id, target.namespace_id);
        if node.mount_namespace_id.is_some() || (node.is_folder && tx.subtree_has_mount(node.id).await?) {
            return Err(ServiceError::new(
                ErrorCode::SharedFolder,
                format!("'{}' is or holds a shared folder; shared folders do not nest", node.name),
            ));
        }
        tx.lock_namespace(to).await?;
        let ids: Vec<NodeId> = tx.subtree_ids_deepest_first(node.id).await?;
        let bytes = tx.revision_bytes_of_nodes(&ids).await?;
        let (from_owner, to_owner) = (self.quota_owner(tx, from).await?, self.quota_owner(tx, to).await?);
        if from_owner != to_owner {
            self.ensure_room(tx, to_owner, to, bytes, now).await?;
            tx.add_used_bytes(from_owner, -bytes).await?;
            tx.add_used_bytes(to_owner, bytes).await?;
        }
        tx.add_node_count(from, -(ids.len() as i64)).await?;
        tx.add_node_count(to, ids.len() as i64).await?;
        tx.set_namespace(&ids, to).await?;
        tx.relocate_node(node.id, target.id, name.as_str(), &name.collision_key(), now).await?;
        let mut hashes: HashSet<Vec<u8>> = HashSet::new();
        for manifest in tx.manifests_of_nodes(&ids).await? {
            let manifest = Manifest::decode(&manifest)
                .map_err(|_| ServiceError::new(ErrorCode::Internal, "a moved revision has a damaged manifest"))?;
            hashes.extend(distinct_hashes(&manifest));
        }
        grant_members(tx, to, from_owner, &hashes.into_iter().collect::<Vec<_>>()).await?;
        let moved = tx.node(node.id).await?.ok_or_else(|| ServiceError::not_found("item"))?;
        // Both journals tell of the move: the source's members see it leave, the
        // target's see it arrive, with everything below it (parents first).
        tx.append_journal_to(from, change_name(ChangeKind::Moved), &moved, now).await?;
        tx.append_journal(change_name(ChangeKind::Moved), &moved, now).await?;
        let below: Vec<NodeRecord> = tx.subtree(node.id).await?.into_iter().filter(|n| n.id != node.id).collect();
        let hidden = hidden_below(&below);
        let live: Vec<NodeRecord> = below.into_iter().filter(|n| !hidden.contains(&n.id)).collect();
        for batch in live.chunks(PURGE_BATCH) {
            tx.append_journal_many(to, change_name(ChangeKind::Created), batch, now).await?;
        }
        self.check_node_limit(tx, to).await?;
        Ok(moved)
    }
}

/// Nodes that are trashed or below a trashed one (given parents before children).
fn hidden_below(nodes: &[NodeRecord]) -> HashSet<NodeId> {
    let mut hidden = HashSet::new();
    for n in nodes {
        if n.trashed_at.is_some() || n.parent_id.is_some_and(|p| hidden.contains(&p)) {
            hidden.insert(n.id);
        }
    }
    hidden
}

/// Gives every member of `namespace` but `except` (who holds them already) the chunks
/// of files committed or moved there: they hold those files now (dedup privacy).
pub(crate) async fn grant_members(
    tx: &mut Tx,
    namespace: NamespaceId,
    except: UserId,
    hashes: &[Vec<u8>],
) -> Result<()> {
    if hashes.is_empty() {
        return Ok(());
    }
    for member in tx.member_ids(namespace).await? {
        if member != except {
            tx.grant_user_chunks(member, hashes).await?;
        }
    }
    Ok(())
}

/// Takes two homes' write locks in one order (smaller id first), so two users sharing
/// with each other at once never wait on each other in a cycle.
async fn lock_homes(tx: &mut Tx, a: NamespaceId, b: NamespaceId) -> Result<()> {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    tx.lock_namespace(first).await?;
    tx.lock_namespace(second).await?;
    Ok(())
}

/// Removes a member's mount of a shared folder: their home's journal tells their
/// devices it is gone.
pub(crate) async fn remove_mount(tx: &mut Tx, mount: &NodeRecord, now: i64) -> Result<()> {
    tx.append_journal(change_name(ChangeKind::Deleted), mount, now).await?;
    tx.delete_mount(mount.id).await?;
    tx.add_node_count(mount.namespace_id, -1).await?;
    Ok(())
}
