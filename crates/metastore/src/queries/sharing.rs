//! Shared folders: namespaces of their own, their members and roles, and the mounts
//! through which members see them in their homes.

use coffer_core::{NamespaceId, NodeId, Role, UserId};

use crate::db::Tx;
use crate::queries::tree::role_of;
use crate::queries::{NodeRecord, select_nodes_sql};
use crate::{MetaError, args};

/// A member of a shared folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub user_id: UserId,
    pub user_name: String,
    pub role: Role,
}

impl Tx {
    /// A new namespace (`home` or `shared`) with its root folder.
    pub(crate) async fn create_namespace(&mut self, kind: &str, now: i64) -> Result<(NamespaceId, NodeId), MetaError> {
        let ns: NamespaceId = self
            .one("INSERT INTO namespaces (kind, created_at) VALUES ($1, $2) RETURNING id", args![kind, now])
            .await?
            .id("id")?;
        let root: NodeId = self
            .one(
                "INSERT INTO nodes (namespace_id, parent_id, name, name_key, is_folder, modified_at) \
                 VALUES ($1, NULL, '', '', 1, $2) RETURNING id",
                args![ns, now],
            )
            .await?
            .id("id")?;
        self.exec("UPDATE namespaces SET root_node_id = $1 WHERE id = $2", args![root, ns]).await?;
        Ok((ns, root))
    }

    /// Turns a folder of a home into the mount of a new shared namespace: a new root
    /// node takes the folder's children, everything below it (trash included) moves to
    /// the namespace with its ids kept, and trashed items' original paths become
    /// relative to the new root (`prefix` is the folder's path in the home). Returns
    /// the namespace and its root.
    pub async fn make_shared_namespace(
        &mut self,
        folder: NodeId,
        prefix: &str,
        now: i64,
    ) -> Result<(NamespaceId, NodeId), MetaError> {
        let (ns, root) = self.create_namespace("shared", now).await?;
        self.exec(
            "UPDATE nodes SET namespace_id = $1 WHERE id IN (WITH RECURSIVE sub(id) AS \
             (SELECT id FROM nodes WHERE parent_id = $2 UNION ALL SELECT n.id FROM nodes n JOIN sub ON n.parent_id = sub.id) \
             SELECT id FROM sub)",
            args![ns, folder],
        )
        .await?;
        self.exec("UPDATE nodes SET parent_id = $1 WHERE parent_id = $2", args![root, folder]).await?;
        self.exec(
            "UPDATE nodes SET original_path = substr(original_path, CAST($1 AS INTEGER)) \
             WHERE namespace_id = $2 AND trashed_at IS NOT NULL \
             AND substr(original_path, 1, CAST($3 AS INTEGER)) = $4",
            args![prefix.len() as i64 + 1, ns, prefix.len() as i64 + 1, format!("{prefix}/")],
        )
        .await?;
        self.exec("UPDATE nodes SET mount_namespace_id = $1 WHERE id = $2", args![ns, folder]).await?;
        Ok((ns, root))
    }

    /// Whether a node or anything below it (trash included) is a mount.
    pub async fn subtree_has_mount(&mut self, id: NodeId) -> Result<bool, MetaError> {
        Ok(self
            .row(
                "WITH RECURSIVE sub(id) AS (SELECT id FROM nodes WHERE id = $1 \
                 UNION ALL SELECT n.id FROM nodes n JOIN sub ON n.parent_id = sub.id) \
                 SELECT 1 AS x FROM nodes n JOIN sub ON sub.id = n.id WHERE n.mount_namespace_id IS NOT NULL LIMIT 1",
                args![id],
            )
            .await?
            .is_some())
    }

    pub async fn add_member(&mut self, ns: NamespaceId, user: UserId, role: Role) -> Result<(), MetaError> {
        self.exec(
            "INSERT INTO namespace_members (namespace_id, user_id, role, joined_seq) \
             VALUES ($1, $2, $3, (SELECT seq FROM namespaces WHERE id = $1))",
            args![ns, user, role.as_str()],
        )
        .await?;
        Ok(())
    }

    /// Changes a member's role; false when the user is not a member.
    pub async fn set_member_role(&mut self, ns: NamespaceId, user: UserId, role: Role) -> Result<bool, MetaError> {
        Ok(self
            .exec(
                "UPDATE namespace_members SET role = $1 WHERE namespace_id = $2 AND user_id = $3",
                args![role.as_str(), ns, user],
            )
            .await?
            == 1)
    }

    /// Removes a member; false when the user was not one.
    pub async fn remove_member(&mut self, ns: NamespaceId, user: UserId) -> Result<bool, MetaError> {
        Ok(self.exec("DELETE FROM namespace_members WHERE namespace_id = $1 AND user_id = $2", args![ns, user]).await?
            == 1)
    }

    /// The members of a namespace, owner first, then by name.
    pub async fn members(&mut self, ns: NamespaceId) -> Result<Vec<MemberRecord>, MetaError> {
        let mut out: Vec<MemberRecord> = self
            .rows(
                "SELECT m.user_id, u.name, m.role FROM namespace_members m JOIN users u ON u.id = m.user_id \
                 WHERE m.namespace_id = $1 ORDER BY u.name",
                args![ns],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(MemberRecord {
                    user_id: r.id("user_id")?,
                    user_name: r.text("name")?,
                    role: role_of(&r.text("role")?)?,
                })
            })
            .collect::<Result<_, MetaError>>()?;
        out.sort_by_key(|m| m.role != Role::Owner);
        Ok(out)
    }

    /// The user's mount of a shared namespace (live or trashed), if they have one.
    pub async fn mount_of(&mut self, user: UserId, ns: NamespaceId) -> Result<Option<NodeRecord>, MetaError> {
        let sql = format!(
            "{} WHERE mount_namespace_id = $1 AND namespace_id = (SELECT home_namespace_id FROM users WHERE id = $2)",
            select_nodes_sql()
        );
        self.rows_dyn(sql, args![ns, user]).await?.first().map(NodeRecord::from_row).transpose()
    }

    /// Every mount in a user's home with the root node of the shared folder it shows:
    /// `(mount, root)`.
    pub async fn mounts_of_user(&mut self, user: UserId) -> Result<Vec<(NodeRecord, NodeId)>, MetaError> {
        self.rows(
            "SELECT n.id, n.namespace_id, n.parent_id, n.name, n.is_folder, n.current_rev, n.size, n.content_hash, \
             n.mtime, n.mode, n.modified_at, n.trashed_at, n.original_path, n.mount_namespace_id, s.root_node_id AS shared_root \
             FROM nodes n JOIN namespaces s ON s.id = n.mount_namespace_id \
             WHERE n.namespace_id = (SELECT home_namespace_id FROM users WHERE id = $1) ORDER BY n.id",
            args![user],
        )
        .await?
        .iter()
        .map(|r| Ok((NodeRecord::from_row(r)?, r.id("shared_root")?)))
        .collect()
    }

    /// Makes a folder node a mount of `ns`.
    pub async fn set_mount(&mut self, node: NodeId, ns: NamespaceId) -> Result<(), MetaError> {
        self.exec("UPDATE nodes SET mount_namespace_id = $1 WHERE id = $2", args![ns, node]).await?;
        Ok(())
    }

    /// Removes a mount node for good (it has no children: a shared folder's content
    /// lives below the namespace's root).
    pub async fn delete_mount(&mut self, node: NodeId) -> Result<(), MetaError> {
        self.exec("DELETE FROM nodes WHERE id = $1 AND mount_namespace_id IS NOT NULL", args![node]).await?;
        Ok(())
    }

    /// Encoded manifests of every revision in a namespace (to grant a new member the
    /// chunks they may now read), after revision `after`, at most `limit`:
    /// `(revision id, manifest)`.
    pub async fn namespace_manifests(
        &mut self,
        ns: NamespaceId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Vec<u8>)>, MetaError> {
        self.rows(
            "SELECT r.id, r.manifest FROM revisions r JOIN nodes n ON n.id = r.node_id \
             WHERE n.namespace_id = $1 AND r.id > $2 ORDER BY r.id LIMIT $3",
            args![ns, after, limit],
        )
        .await?
        .iter()
        .map(|r| Ok((r.i64("id")?, r.bytes("manifest")?)))
        .collect()
    }

    /// The members of a namespace who hold a file's chunks once it is committed there.
    pub async fn member_ids(&mut self, ns: NamespaceId) -> Result<Vec<UserId>, MetaError> {
        self.rows("SELECT user_id FROM namespace_members WHERE namespace_id = $1 ORDER BY user_id", args![ns])
            .await?
            .iter()
            .map(|r| r.id("user_id"))
            .collect()
    }

    /// The live nodes of a namespace below its root, parents before children (to tell
    /// new members of everything in a shared folder).
    pub async fn namespace_nodes(&mut self, ns: NamespaceId) -> Result<Vec<NodeRecord>, MetaError> {
        let sql = format!(
            "{} WHERE id IN (WITH RECURSIVE sub(id, depth) AS (SELECT root_node_id, 0 FROM namespaces WHERE id = $1 \
             UNION ALL SELECT n.id, sub.depth + 1 FROM nodes n JOIN sub ON n.parent_id = sub.id \
             WHERE n.trashed_at IS NULL) SELECT id FROM sub WHERE depth > 0)",
            select_nodes_sql()
        );
        let mut nodes: Vec<NodeRecord> =
            self.rows_dyn(sql, args![ns]).await?.iter().map(NodeRecord::from_row).collect::<Result<_, _>>()?;
        // Parents first: a parent's id is smaller unless it was moved under a newer
        // folder, so order by depth through the parent chain.
        let depth = depths(&nodes);
        nodes.sort_by_key(|n| (depth.get(&n.id).copied().unwrap_or(0), n.id));
        Ok(nodes)
    }
}

/// Each node's depth below the nodes whose parents are not in the set.
fn depths(nodes: &[NodeRecord]) -> std::collections::HashMap<NodeId, usize> {
    let parent: std::collections::HashMap<NodeId, Option<NodeId>> = nodes.iter().map(|n| (n.id, n.parent_id)).collect();
    let mut out = std::collections::HashMap::new();
    for n in nodes {
        let mut d = 0;
        let mut at = n.parent_id;
        while let Some(p) = at {
            match parent.get(&p) {
                Some(next) if d < nodes.len() => {
                    d += 1;
                    at = *next;
                }
                _ => break,
            }
        }
        out.insert(n.id, d);
    }
    out
}

impl Tx {
    /// Bytes of every revision of these nodes (what moving them to another owner's
    /// namespace moves between quotas).
    pub async fn revision_bytes_of_nodes(&mut self, ids: &[NodeId]) -> Result<i64, MetaError> {
        let mut total = 0;
        for group in ids.chunks(crate::queries::IN_BATCH) {
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM revisions WHERE node_id IN ({})",
                crate::db::placeholders(1, group.len())
            );
            let rows = self.rows_dyn(sql, group.iter().map(|id| crate::db::Arg::from(*id)).collect()).await?;
            total += rows.first().map(|r| r.i64("bytes")).transpose()?.unwrap_or(0);
        }
        Ok(total)
    }

    /// Encoded manifests of every revision of these nodes.
    pub async fn manifests_of_nodes(&mut self, ids: &[NodeId]) -> Result<Vec<Vec<u8>>, MetaError> {
        let mut out = Vec::new();
        for group in ids.chunks(crate::queries::IN_BATCH) {
            let sql = format!(
                "SELECT manifest FROM revisions WHERE node_id IN ({})",
                crate::db::placeholders(1, group.len())
            );
            for r in self.rows_dyn(sql, group.iter().map(|id| crate::db::Arg::from(*id)).collect()).await? {
                out.push(r.bytes("manifest")?);
            }
        }
        Ok(out)
    }

    /// Moves nodes to another namespace (their ids, parents and names are kept).
    pub async fn set_namespace(&mut self, ids: &[NodeId], ns: NamespaceId) -> Result<(), MetaError> {
        for group in ids.chunks(crate::queries::IN_BATCH) {
            let sql =
                format!("UPDATE nodes SET namespace_id = $1 WHERE id IN ({})", crate::db::placeholders(2, group.len()));
            let mut a = args![ns];
            a.extend(group.iter().map(|id| crate::db::Arg::from(*id)));
            self.exec_dyn(sql, a).await?;
        }
        Ok(())
    }
}

impl Tx {
    /// Shares a file with a user, or changes their role.
    pub async fn set_file_share(&mut self, node: NodeId, user: UserId, role: Role, now: i64) -> Result<(), MetaError> {
        let changed = self
            .exec(
                "UPDATE file_shares SET role = $1 WHERE node_id = $2 AND user_id = $3",
                args![role.as_str(), node, user],
            )
            .await?;
        if changed == 0 {
            self.exec(
                "INSERT INTO file_shares (node_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
                args![node, user, role.as_str(), now],
            )
            .await?;
        }
        Ok(())
    }

    /// Ends a file's share with a user; false when there was none.
    pub async fn remove_file_share(&mut self, node: NodeId, user: UserId) -> Result<bool, MetaError> {
        Ok(self.exec("DELETE FROM file_shares WHERE node_id = $1 AND user_id = $2", args![node, user]).await? == 1)
    }

    /// The role a file is shared with a user in, if it is.
    pub async fn file_share_role(&mut self, node: NodeId, user: UserId) -> Result<Option<Role>, MetaError> {
        self.row("SELECT role FROM file_shares WHERE node_id = $1 AND user_id = $2", args![node, user])
            .await?
            .map(|r| role_of(&r.text("role")?))
            .transpose()
    }

    /// Whom a file is shared with, by name.
    pub async fn file_share_members(&mut self, node: NodeId) -> Result<Vec<MemberRecord>, MetaError> {
        self.rows(
            "SELECT f.user_id, u.name, f.role FROM file_shares f JOIN users u ON u.id = f.user_id \
             WHERE f.node_id = $1 ORDER BY u.name",
            args![node],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(MemberRecord { user_id: r.id("user_id")?, user_name: r.text("name")?, role: role_of(&r.text("role")?)? })
        })
        .collect()
    }

    /// Files shared with a user, with the user's role in each, oldest share first.
    pub async fn files_shared_with(&mut self, user: UserId) -> Result<Vec<(NodeRecord, Role)>, MetaError> {
        let shares: Vec<(NodeId, Role)> = self
            .rows("SELECT node_id, role FROM file_shares WHERE user_id = $1 ORDER BY created_at, node_id", args![user])
            .await?
            .iter()
            .map(|r| Ok((r.id("node_id")?, role_of(&r.text("role")?)?)))
            .collect::<Result<_, MetaError>>()?;
        let ids: Vec<NodeId> = shares.iter().map(|s| s.0).collect();
        let mut nodes: std::collections::HashMap<NodeId, NodeRecord> =
            self.nodes_by_ids(&ids).await?.into_iter().map(|n| (n.id, n)).collect();
        Ok(shares.into_iter().filter_map(|(id, role)| nodes.remove(&id).map(|n| (n, role))).collect())
    }

    /// Files in namespaces a user owns that are shared with someone.
    pub async fn files_shared_by(&mut self, owner: UserId) -> Result<Vec<NodeRecord>, MetaError> {
        let sql = format!(
            "{}WHERE id IN (SELECT node_id FROM file_shares) AND namespace_id IN \
             (SELECT namespace_id FROM namespace_members WHERE user_id = $1 AND role = 'owner') ORDER BY id",
            select_nodes_sql()
        );
        self.rows_dyn(sql, args![owner]).await?.iter().map(NodeRecord::from_row).collect()
    }
}
