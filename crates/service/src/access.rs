//! The access checkpoint: who is asking, what an operation needs, and the one place
//! that decides.
//!
//! - A [`Caller`] is made only by authentication ([`Service::authenticate`]); its fields
//!   are private, so no door can make one up.
//! - An admin operation takes an [`Admin`], which only an admin caller
//!   ([`Caller::admin`]) or the operator holding the database
//!   ([`crate::AdminService`]) can produce.
//! - Every file operation names the [`Permission`] it needs and asks [`Service::locate`]
//!   (a path) or [`Service::access_node`] (an id), which find the namespace the target
//!   lives in, the caller's [`Role`] there, and refuse what that role does not grant.
//!   A namespace the caller is not a member of is "not found", never "forbidden": ids
//!   and paths of other users' data tell nothing.

use std::collections::HashMap;

use coffer_core::wire::NodeInfo;
use coffer_core::{DeviceId, ErrorCode, Name, NamespaceId, NodeId, Permission, RemotePath, Role, UserId};
use coffer_metastore::{NodeRecord, Tx};

use crate::tree::node_info;
use crate::{Result, Service, ServiceError};

/// The credential a request was authenticated with; a public link's visitor is not a
/// caller at all ([`crate::LinkVisitor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A signed-in client's token.
    Device(DeviceId),
    /// A web app sign-in: a cookie, with a CSRF token on every change (checked by the
    /// door that reads the cookie). Listed and revoked with the devices.
    Session(DeviceId),
    /// An app password (a WebDAV client, a script): never asked for a second factor, so
    /// it may not manage the account's security; a read-only one is a viewer everywhere.
    AppPassword { id: DeviceId, read_only: bool },
}

/// An authenticated request's principal: a user, through one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    user_id: UserId,
    user_name: String,
    is_admin: bool,
    home: NamespaceId,
    credential: Credential,
    /// The client's address, when the door knows it (for the audit log).
    address: Option<std::net::IpAddr>,
    /// The administrator requires two-factor sign-in and this account has none yet.
    must_enroll: bool,
}

impl Caller {
    /// Only authentication makes a caller.
    pub(crate) fn new(
        user_id: UserId,
        user_name: String,
        is_admin: bool,
        home: NamespaceId,
        credential: Credential,
    ) -> Self {
        Self { user_id, user_name, is_admin, home, credential, address: None, must_enroll: false }
    }

    /// The same caller, who must set up two-factor sign-in before anything else.
    pub(crate) fn with_enrollment(mut self, must: bool) -> Self {
        self.must_enroll = must;
        self
    }

    /// The administrator requires two-factor sign-in and this account has none yet: the
    /// doors allow only setting it up (and signing out).
    pub fn must_set_up_two_factor(&self) -> bool {
        self.must_enroll
    }

    /// The same caller, seen coming from `address`.
    pub(crate) fn with_address(mut self, address: Option<std::net::IpAddr>) -> Self {
        self.address = address;
        self
    }

    /// Where the request came from, when known.
    pub fn address(&self) -> Option<std::net::IpAddr> {
        self.address
    }

    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    pub fn user_name(&self) -> &str {
        &self.user_name
    }

    pub fn is_admin(&self) -> bool {
        self.is_admin
    }

    pub fn credential(&self) -> Credential {
        self.credential
    }

    /// The credential's row in the devices list.
    pub fn device_id(&self) -> Option<DeviceId> {
        match self.credential {
            Credential::Device(id) | Credential::Session(id) | Credential::AppPassword { id, .. } => Some(id),
        }
    }

    /// Whether this credential may only read (a read-only app password).
    pub fn read_only(&self) -> bool {
        matches!(self.credential, Credential::AppPassword { read_only: true, .. })
    }

    /// Refuses a change to anything (files, memberships, uploads) from a read-only
    /// credential; roles are capped too, this guards what no role covers.
    pub(crate) fn may_change(&self) -> Result<()> {
        if self.read_only() {
            return Err(ServiceError::new(ErrorCode::ReadOnly, "this app password may only read"));
        }
        Ok(())
    }

    /// The credential of a signed-in device or browser, which passed the password (and
    /// the second factor): only such a sign-in manages the account's security
    /// (passwords, two-factor sign-in, app passwords, other sign-ins).
    pub(crate) fn signed_in(&self) -> Result<DeviceId> {
        match self.credential {
            Credential::Device(id) | Credential::Session(id) => Ok(id),
            Credential::AppPassword { .. } => Err(ServiceError::new(
                ErrorCode::Forbidden,
                "an app password may not manage the account's security; sign in with the password",
            )),
        }
    }

    /// The caller's own tree: the namespace a path starts in.
    pub(crate) fn home(&self) -> NamespaceId {
        self.home
    }

    /// Proof that this caller may run admin operations; `forbidden` otherwise.
    pub fn admin(&self) -> Result<Admin> {
        if self.is_admin && !self.read_only() {
            Ok(Admin { by: Some(self.user_id) })
        } else {
            Err(ServiceError::new(ErrorCode::Forbidden, "only an administrator may do this"))
        }
    }
}

/// Proof that an administrator is asking: an admin user, or the operator who holds the
/// database (the `coffer admin` commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admin {
    /// The admin user, or `None` for the operator.
    by: Option<UserId>,
}

impl Admin {
    /// The operator with direct access to the database.
    pub(crate) fn operator() -> Self {
        Self { by: None }
    }

    /// The admin user who asks, if it is not the operator.
    pub fn user(&self) -> Option<UserId> {
        self.by
    }
}

/// What the checkpoint found for a path: the deepest existing node on it (whose
/// namespace anything created below it goes into) and the names below it that do not
/// exist (empty when the whole path exists).
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub node: NodeRecord,
    /// When `node` is a shared folder's root reached through the caller's mount: the
    /// mount (what the caller sees at that path).
    pub mount: Option<NodeRecord>,
    pub missing: Vec<Name>,
}

impl Located {
    /// The node the path names; "not found" if part of it is missing.
    pub fn existing(self, path: &RemotePath) -> Result<NodeRecord> {
        if self.missing.is_empty() { Ok(self.node) } else { Err(ServiceError::not_found(format!("'{path}'"))) }
    }
}

/// How the caller sees nodes: a shared folder's root appears as the caller's mount of
/// it (its id, name and place in the caller's tree), so a device sees one tree.
#[derive(Debug, Clone)]
pub(crate) struct View {
    home: NamespaceId,
    /// Shared roots the caller has mounted, and the mount of each.
    mounts: HashMap<NodeId, NodeRecord>,
}

impl View {
    /// The caller's home namespace.
    pub fn home(&self) -> NamespaceId {
        self.home
    }

    /// The caller's mount of a shared folder.
    pub fn mount_of_namespace(&self, namespace: NamespaceId) -> Option<&NodeRecord> {
        self.mounts.values().find(|m| m.mount_namespace_id == Some(namespace))
    }

    /// The node as the caller sees it: a shared root is shown as its mount, a child of
    /// one has the mount as its parent.
    pub fn info(&self, n: &NodeRecord, path: Option<String>) -> NodeInfo {
        if let Some(mount) = self.mounts.get(&n.id) {
            return node_info(mount, path);
        }
        let mut info = node_info(n, path);
        if let Some(mount) = n.parent_id.and_then(|p| self.mounts.get(&p)) {
            info.parent_id = Some(mount.id.get());
        }
        info
    }

    /// Whether a node is a shared root (never shown on its own).
    pub fn is_shared_root(&self, id: NodeId) -> bool {
        self.mounts.contains_key(&id)
    }

    /// The mount through which a shared root is seen.
    pub fn mount_of_root(&self, root: NodeId) -> Option<&NodeRecord> {
        self.mounts.get(&root)
    }
}

/// The one rule: a role does what it grants, and nothing else.
pub(crate) fn check(role: Role, need: Permission) -> Result<()> {
    if role.grants(need) {
        return Ok(());
    }
    Err(match need {
        Permission::Write | Permission::Comment => ServiceError::new(
            ErrorCode::ReadOnly,
            format!("a {role} may not {}", if need == Permission::Write { "change anything here" } else { "comment" }),
        ),
        Permission::Read | Permission::Share | Permission::Admin => {
            ServiceError::new(ErrorCode::Forbidden, format!("a {role} may not do this here"))
        }
    })
}

/// [`check`] for a caller: a read-only credential is told that it is the credential,
/// not the role, that may only read.
pub(crate) fn check_for(caller: &Caller, role: Role, need: Permission) -> Result<()> {
    if !Role::Viewer.grants(need) {
        caller.may_change()?;
    }
    check(role, need)
}

impl Service {
    /// How the caller sees shared folders (one query).
    pub(crate) async fn view(&self, tx: &mut Tx, caller: &Caller) -> Result<View> {
        let mounts = tx.mounts_of_user(caller.user_id).await?;
        Ok(View { home: caller.home, mounts: mounts.into_iter().map(|(mount, root)| (root, mount)).collect() })
    }

    /// The namespaces the caller may see, with the role in each.
    pub(crate) async fn visible_namespaces(&self, tx: &mut Tx, caller: &Caller) -> Result<Vec<NamespaceId>> {
        Ok(tx.memberships(caller.user_id).await?.into_iter().map(|(ns, _)| ns).collect())
    }

    /// The caller's role in a namespace; "not found" for a namespace they are not in.
    /// A read-only credential is a viewer wherever its account is a member.
    pub(crate) async fn role_in(&self, tx: &mut Tx, caller: &Caller, namespace: NamespaceId) -> Result<Role> {
        let role = tx.membership(caller.user_id, namespace).await?.ok_or_else(|| ServiceError::not_found("item"))?;
        Ok(if caller.read_only() { role.min(Role::Viewer) } else { role })
    }

    /// Walks `path` from the caller's root through live nodes as far as it exists, and
    /// checks `need` in the namespace where the walk ended. Passing through a file is
    /// `not_a_folder`.
    pub(crate) async fn locate(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        path: &RemotePath,
        need: Permission,
    ) -> Result<Located> {
        let namespace = caller.home();
        let root_id = tx.namespace_root(namespace).await?;
        let mut node = tx.node(root_id).await?.ok_or_else(|| ServiceError::not_found("root"))?;
        let names = path.names();
        let mut found = 0;
        let mut mount = None;
        for (i, name) in names.iter().enumerate() {
            if !node.is_folder {
                let so_far = RemotePath::parse(&names[..i].iter().map(|n| n.as_str()).collect::<Vec<_>>().join("/"))?;
                return Err(ServiceError::new(ErrorCode::NotAFolder, format!("'{so_far}' is a file")));
            }
            let Some(child) = tx.child(node.namespace_id, node.id, &name.collision_key()).await? else { break };
            found = i + 1;
            // A mount leads into the shared folder's own namespace, at its root.
            match child.mount_namespace_id {
                Some(shared) => {
                    let root = tx.namespace_root(shared).await?;
                    node = tx.node(root).await?.ok_or_else(|| ServiceError::not_found(format!("'{path}'")))?;
                    mount = Some(child);
                }
                None => {
                    node = child;
                    mount = None;
                }
            }
        }
        let role = self.role_in(tx, caller, node.namespace_id).await?;
        check_for(caller, role, need)?;
        Ok(Located { node, mount, missing: names[found..].to_vec() })
    }

    /// The node `path` names, if the caller's role allows `need` there.
    pub(crate) async fn resolve(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        path: &RemotePath,
        need: Permission,
    ) -> Result<NodeRecord> {
        self.locate(tx, caller, path, need).await?.existing(path)
    }

    /// A node by id (trashed ones too), if the caller's role in its namespace allows
    /// `need`; a node in a namespace the caller is not in is "not found".
    pub(crate) async fn access_node(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        id: NodeId,
        need: Permission,
    ) -> Result<NodeRecord> {
        let node = tx.node(id).await?.ok_or_else(|| ServiceError::not_found("item"))?;
        let role = self.role_in(tx, caller, node.namespace_id).await?;
        check_for(caller, role, need)?;
        Ok(node)
    }

    /// Checks `need` in a namespace the caller names (a trash listing, a purge of all).
    pub(crate) async fn access_namespace(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        namespace: NamespaceId,
        need: Permission,
    ) -> Result<Role> {
        let role = self.role_in(tx, caller, namespace).await?;
        check_for(caller, role, need)?;
        Ok(role)
    }

    /// Whose quota a namespace's files count against: its owner's. The one quota rule
    /// (see docs/ARCHITECTURE.md): bytes and items are charged to, and refunded to, the
    /// owner of the namespace they live in, whoever wrote or removed them.
    pub(crate) async fn quota_owner(&self, tx: &mut Tx, namespace: NamespaceId) -> Result<UserId> {
        tx.namespace_owner(namespace)
            .await?
            .ok_or_else(|| ServiceError::new(ErrorCode::Internal, format!("namespace {namespace} has no owner")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_what_the_role_lacks() {
        assert!(check(Role::Owner, Permission::Admin).is_ok());
        assert_eq!(check(Role::Viewer, Permission::Write).map_err(|e| e.code), Err(ErrorCode::ReadOnly));
        assert_eq!(check(Role::Commenter, Permission::Write).map_err(|e| e.code), Err(ErrorCode::ReadOnly));
        assert_eq!(check(Role::Viewer, Permission::Comment).map_err(|e| e.code), Err(ErrorCode::ReadOnly));
        assert_eq!(check(Role::Editor, Permission::Share).map_err(|e| e.code), Err(ErrorCode::Forbidden));
        assert!(check(Role::Commenter, Permission::Comment).is_ok());
    }
}
