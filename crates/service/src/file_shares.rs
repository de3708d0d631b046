//! Files shared with single users: the owner of a file (whoever may share it) gives one
//! user the role of viewer or editor on it. The file is not mounted anywhere and not
//! synced: the user finds it under "shared with me" and reaches it by id, to read its
//! metadata and content (any revision) and, as an editor, to commit new revisions
//! (`CommitFile::node_id`). A file in the trash is out of reach until it is restored;
//! purging it ends its shares.
//!
//! [`Service::access_file`] extends the access checkpoint for exactly those
//! operations; everything else (paths, listings, moves, history by path, comments)
//! still needs a membership of the namespace.

use coffer_core::wire::{AuditKind, MemberInfo, SharedFileInfo};
use coffer_core::{ErrorCode, NodeId, Permission, Role};
use coffer_metastore::{NodeRecord, Tx};

use crate::access::{Caller, check_for};
use crate::audit::Event;
use crate::tree::parse_path;
use crate::{Result, Service, ServiceError, now_ms};

impl Service {
    /// A node by id for an operation on a file's content: through a membership of its
    /// namespace like [`Service::access_node`], or else through a share of that one
    /// file with the caller (while neither it nor a folder above it is in the trash).
    pub(crate) async fn access_file(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        id: NodeId,
        need: Permission,
    ) -> Result<NodeRecord> {
        match self.access_node(tx, caller, id, need).await {
            Err(e) if e.code == ErrorCode::NotFound => {}
            other => return other,
        }
        let not_found = || ServiceError::not_found("item");
        let role = tx.file_share_role(id, caller.user_id()).await?.ok_or_else(not_found)?;
        let node = tx.node(id).await?.ok_or_else(not_found)?;
        if node.is_folder || tx.ancestry(id).await?.iter().any(|n| n.trashed_at.is_some()) {
            return Err(not_found());
        }
        check_for(caller, role, need)?;
        Ok(node)
    }

    /// Shares the file at `path` with `user` as viewer or editor, or changes their role.
    pub async fn share_file(&self, caller: &Caller, path: &str, user: &str, role: Role) -> Result<SharedFileInfo> {
        if !matches!(role, Role::Viewer | Role::Editor) {
            return Err(ServiceError::new(ErrorCode::BadRequest, "a file is shared as viewer or editor"));
        }
        let path = parse_path(path)?;
        let mut tx = self.meta().write().await?;
        let invitee = self.other_user(&mut tx, caller, user).await?;
        let node = self.resolve(&mut tx, caller, &path, Permission::Share).await?;
        if node.is_folder {
            return Err(ServiceError::new(
                ErrorCode::NotAFile,
                format!("'{path}' is a folder; share folders as shared folders"),
            ));
        }
        tx.set_file_share(node.id, invitee.id, role, now_ms()).await?;
        let info = self.shared_file_info(&mut tx, caller, node, Role::Owner).await?;
        let event =
            Event::new(AuditKind::FileShareCreated).target(path.to_string()).detail(format!("{user} as {role}"));
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        tracing::info!(by = caller.user_name(), with = user, %role, node = info.id, "file shared");
        Ok(info)
    }

    /// Files shared with the caller (`with_me`), or the caller's files shared with
    /// others. Files in the trash are left out.
    pub async fn file_shares(&self, caller: &Caller, with_me: bool) -> Result<Vec<SharedFileInfo>> {
        let mut tx = self.meta().read().await?;
        let found: Vec<(NodeRecord, Role)> = if with_me {
            tx.files_shared_with(caller.user_id()).await?
        } else {
            tx.files_shared_by(caller.user_id()).await?.into_iter().map(|n| (n, Role::Owner)).collect()
        };
        let mut out = Vec::with_capacity(found.len());
        for (node, role) in found {
            if tx.ancestry(node.id).await?.iter().any(|n| n.trashed_at.is_some()) {
                continue;
            }
            out.push(self.shared_file_info(&mut tx, caller, node, role).await?);
        }
        Ok(out)
    }

    /// Ends the share of file `id` with `user`: its owner may end anyone's, a user their
    /// own. Anything else about a file the caller cannot see is "not found".
    pub async fn unshare_file(&self, caller: &Caller, id: NodeId, user: &str) -> Result<()> {
        caller.may_change()?;
        let mut tx = self.meta().write().await?;
        let target = tx.user_by_name(user).await?.ok_or_else(|| ServiceError::not_found(format!("user '{user}'")))?;
        if target.id != caller.user_id() {
            let node = self.access_file(&mut tx, caller, id, Permission::Read).await?;
            // Whoever holds the file only through a share of it has no right to share.
            let role = tx.membership(caller.user_id(), node.namespace_id).await?.unwrap_or(Role::Viewer);
            check_for(caller, role, Permission::Share)?;
        }
        if !tx.remove_file_share(id, target.id).await? {
            return Err(ServiceError::not_found(format!("a share of this file with '{user}'")));
        }
        let event = Event::new(AuditKind::FileShareRemoved).target(format!("file {id}")).detail(user);
        self.audit_in(&mut tx, &event.by(caller)).await?;
        tx.commit().await?;
        tracing::info!(by = caller.user_name(), with = user, node = id.get(), "file share ended");
        Ok(())
    }

    async fn shared_file_info(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        node: NodeRecord,
        role: Role,
    ) -> Result<SharedFileInfo> {
        let owner_id = self.quota_owner(tx, node.namespace_id).await?;
        let owner = tx.user_by_id(owner_id).await?.map(|u| u.name).unwrap_or_default();
        let members = tx.file_share_members(node.id).await?;
        let members = members
            .into_iter()
            .filter(|m| role == Role::Owner || m.user_id == caller.user_id())
            .map(|m| MemberInfo { user: m.user_name, role: m.role })
            .collect();
        let path = if role == Role::Owner {
            let view = self.view(tx, caller).await?;
            self.visible_path(tx, &view, node.id).await?
        } else {
            None
        };
        Ok(SharedFileInfo {
            id: node.id.get(),
            name: node.name,
            path,
            size: node.size.max(0) as u64,
            rev: node.current_rev.map(|r| r.get()),
            modified_at: node.modified_at,
            owner,
            role,
            members,
        })
    }
}
