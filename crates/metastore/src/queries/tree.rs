//! Namespaces, nodes (files and folders) and revisions.

use coffer_core::wire::FileMode;
use coffer_core::{DeviceId, NamespaceId, NodeId, RevisionId, Role, UserId};

use crate::db::{Arg, DbRow, Tx};
use crate::{MetaError, args};

/// A file or folder. `current_rev`, `size` and `content_hash` describe a file's current
/// revision; a folder has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    pub id: NodeId,
    pub namespace_id: NamespaceId,
    pub parent_id: Option<NodeId>,
    pub name: String,
    pub is_folder: bool,
    pub current_rev: Option<RevisionId>,
    pub size: i64,
    pub content_hash: Option<Vec<u8>>,
    pub mtime: Option<i64>,
    pub mode: FileMode,
    pub modified_at: i64,
    pub trashed_at: Option<i64>,
    pub original_path: Option<String>,
    /// On a folder of a home: the shared folder (namespace) mounted here.
    pub mount_namespace_id: Option<NamespaceId>,
}

impl NodeRecord {
    pub(crate) fn from_row(r: &DbRow) -> Result<Self, MetaError> {
        Ok(Self {
            id: r.id("id")?,
            namespace_id: r.id("namespace_id")?,
            parent_id: r.opt_id("parent_id")?,
            name: r.text("name")?,
            is_folder: r.bool("is_folder")?,
            current_rev: r.opt_id("current_rev")?,
            size: r.i64("size")?,
            content_hash: r.opt_bytes("content_hash")?,
            mtime: r.opt_i64("mtime")?,
            mode: FileMode::from_code(r.i64("mode")?),
            modified_at: r.i64("modified_at")?,
            trashed_at: r.opt_i64("trashed_at")?,
            original_path: r.opt_text("original_path")?,
            mount_namespace_id: r.opt_id("mount_namespace_id")?,
        })
    }
}

/// What a revision says of its file, and what the node copies from its current one.
#[derive(Debug, Clone, Copy)]
pub struct FileHead<'a> {
    pub size: i64,
    pub content_hash: &'a [u8],
    pub mtime: Option<i64>,
    pub mode: FileMode,
}

impl<'a> FileHead<'a> {
    /// The head of a stored revision (to restore it).
    pub fn of(rev: &'a RevisionRecord) -> Self {
        Self { size: rev.size, content_hash: &rev.content_hash, mtime: rev.mtime, mode: rev.mode }
    }
}

/// What [`Tx::insert_node`] needs.
#[derive(Debug, Clone)]
pub struct NewNode<'a> {
    pub namespace_id: NamespaceId,
    pub parent_id: NodeId,
    pub name: &'a str,
    pub name_key: &'a str,
    pub is_folder: bool,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRecord {
    pub id: RevisionId,
    pub node_id: NodeId,
    pub size: i64,
    pub content_hash: Vec<u8>,
    pub manifest: Vec<u8>,
    pub device_id: Option<DeviceId>,
    pub device_name: Option<String>,
    pub created_at: i64,
    pub mtime: Option<i64>,
    pub mode: FileMode,
}

impl RevisionRecord {
    fn from_row(r: &DbRow) -> Result<Self, MetaError> {
        Ok(Self {
            id: r.id("id")?,
            node_id: r.id("node_id")?,
            size: r.i64("size")?,
            content_hash: r.bytes("content_hash")?,
            manifest: r.bytes("manifest")?,
            device_id: r.opt_id("device_id")?,
            device_name: r.opt_text("device_name")?,
            created_at: r.i64("created_at")?,
            mtime: r.opt_i64("mtime")?,
            mode: FileMode::from_code(r.i64("mode")?),
        })
    }
}

macro_rules! select_nodes {
    ($tail:literal) => {
        concat!(
            "SELECT id, namespace_id, parent_id, name, is_folder, current_rev, size, content_hash, mtime, \
             mode, modified_at, trashed_at, original_path, mount_namespace_id FROM nodes ",
            $tail
        )
    };
}

/// `SELECT <node columns> FROM nodes `, for queries built at run time.
pub(crate) fn select_nodes_sql() -> &'static str {
    select_nodes!("")
}

/// The node columns of `nodes n`, for queries that join it.
macro_rules! select_joined_nodes {
    () => {
        "SELECT n.id, n.namespace_id, n.parent_id, n.name, n.is_folder, n.current_rev, n.size, n.content_hash, \
         n.mtime, n.mode, n.modified_at, n.trashed_at, n.original_path, n.mount_namespace_id FROM nodes n "
    };
}

macro_rules! select_revisions {
    ($tail:literal) => {
        concat!(
            "SELECT r.id, r.node_id, r.size, r.content_hash, r.manifest, r.device_id, d.name AS device_name, \
             r.created_at, r.mtime, r.mode FROM revisions r LEFT JOIN devices d ON d.id = r.device_id ",
            $tail
        )
    };
}

impl Tx {
    /// The namespaces a user belongs to, with the role: `(namespace_id, role)`.
    pub async fn memberships(&mut self, user_id: UserId) -> Result<Vec<(NamespaceId, Role)>, MetaError> {
        self.rows(
            "SELECT namespace_id, role FROM namespace_members WHERE user_id = $1 ORDER BY namespace_id",
            args![user_id],
        )
        .await?
        .iter()
        .map(|r| Ok((r.id("namespace_id")?, role_of(&r.text("role")?)?)))
        .collect()
    }

    /// The user's role in one namespace; `None` when not a member.
    pub async fn membership(&mut self, user_id: UserId, namespace_id: NamespaceId) -> Result<Option<Role>, MetaError> {
        self.row(
            "SELECT role FROM namespace_members WHERE user_id = $1 AND namespace_id = $2",
            args![user_id, namespace_id],
        )
        .await?
        .map(|r| role_of(&r.text("role")?))
        .transpose()
    }

    pub async fn namespace_root(&mut self, namespace_id: NamespaceId) -> Result<NodeId, MetaError> {
        self.row("SELECT root_node_id FROM namespaces WHERE id = $1", args![namespace_id])
            .await?
            .ok_or(MetaError::NotFound)?
            .opt_id("root_node_id")?
            .ok_or(MetaError::NotFound)
    }

    pub async fn node(&mut self, id: NodeId) -> Result<Option<NodeRecord>, MetaError> {
        self.row(select_nodes!("WHERE id = $1"), args![id]).await?.map(|r| NodeRecord::from_row(&r)).transpose()
    }

    /// The live (not trashed) child of `parent_id` whose name collides with `name_key`.
    pub async fn child(
        &mut self,
        namespace_id: NamespaceId,
        parent_id: NodeId,
        name_key: &str,
    ) -> Result<Option<NodeRecord>, MetaError> {
        self.row(
            select_nodes!("WHERE namespace_id = $1 AND parent_id = $2 AND name_key = $3 AND trashed_at IS NULL"),
            args![namespace_id, parent_id, name_key],
        )
        .await?
        .map(|r| NodeRecord::from_row(&r))
        .transpose()
    }

    /// Live children sorted by name (byte order), after `after`, at most `limit`.
    pub async fn children(
        &mut self,
        parent_id: NodeId,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<NodeRecord>, MetaError> {
        let rows = match after {
            Some(after) => {
                self.rows(
                    select_nodes!("WHERE parent_id = $1 AND trashed_at IS NULL AND name > $2 ORDER BY name LIMIT $3"),
                    args![parent_id, after, limit],
                )
                .await?
            }
            None => {
                self.rows(
                    select_nodes!("WHERE parent_id = $1 AND trashed_at IS NULL ORDER BY name LIMIT $2"),
                    args![parent_id, limit],
                )
                .await?
            }
        };
        rows.iter().map(NodeRecord::from_row).collect()
    }

    /// Inserts a node; a live sibling with a colliding name is [`MetaError::Duplicate`].
    pub async fn insert_node(&mut self, n: NewNode<'_>) -> Result<NodeRecord, MetaError> {
        let id = self
            .one(
                "INSERT INTO nodes (namespace_id, parent_id, name, name_key, is_folder, modified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                args![n.namespace_id, n.parent_id, n.name, n.name_key, n.is_folder, n.now],
            )
            .await?
            .id("id")?;
        self.node(id).await?.ok_or(MetaError::NotFound)
    }

    /// Moves and/or renames a node. Its id never changes.
    pub async fn relocate_node(
        &mut self,
        id: NodeId,
        parent_id: NodeId,
        name: &str,
        name_key: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        self.exec(
            "UPDATE nodes SET parent_id = $1, name = $2, name_key = $3, modified_at = $4 WHERE id = $5",
            args![parent_id, name, name_key, now, id],
        )
        .await?;
        Ok(())
    }

    /// Points a file at a new revision, but only if its current revision is still
    /// `expected_rev` (compare-and-set). False means someone else committed first.
    pub async fn set_current_revision(
        &mut self,
        id: NodeId,
        expected_rev: Option<RevisionId>,
        rev: RevisionId,
        head: &FileHead<'_>,
        now: i64,
    ) -> Result<bool, MetaError> {
        let FileHead { size, content_hash, mtime, mode } = *head;
        let changed = match expected_rev {
            Some(expected) => {
                self.exec(
                    "UPDATE nodes SET current_rev = $1, size = $2, content_hash = $3, mtime = $4, mode = $5, \
                     modified_at = $6 WHERE id = $7 AND current_rev = $8",
                    args![rev, size, content_hash, mtime, mode.code(), now, id, expected],
                )
                .await?
            }
            None => {
                self.exec(
                    "UPDATE nodes SET current_rev = $1, size = $2, content_hash = $3, mtime = $4, mode = $5, \
                     modified_at = $6 WHERE id = $7 AND current_rev IS NULL",
                    args![rev, size, content_hash, mtime, mode.code(), now, id],
                )
                .await?
            }
        };
        Ok(changed == 1)
    }

    pub async fn trash_node(&mut self, id: NodeId, original_path: &str, now: i64) -> Result<(), MetaError> {
        self.exec(
            "UPDATE nodes SET trashed_at = $1, original_path = $2, modified_at = $1 WHERE id = $3",
            args![now, original_path, id],
        )
        .await?;
        Ok(())
    }

    pub async fn untrash_node(
        &mut self,
        id: NodeId,
        parent_id: NodeId,
        name: &str,
        name_key: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        self.exec(
            "UPDATE nodes SET trashed_at = NULL, original_path = NULL, parent_id = $1, name = $2, name_key = $3, \
             modified_at = $4 WHERE id = $5",
            args![parent_id, name, name_key, now, id],
        )
        .await?;
        Ok(())
    }

    /// Items deleted to the trash in a namespace (not their contents), newest first.
    pub async fn trashed(&mut self, namespace_id: NamespaceId) -> Result<Vec<NodeRecord>, MetaError> {
        self.rows(
            select_nodes!(
                "WHERE namespace_id = $1 AND trashed_at IS NOT NULL AND purging = 0 ORDER BY trashed_at DESC, id DESC"
            ),
            args![namespace_id],
        )
        .await?
        .iter()
        .map(NodeRecord::from_row)
        .collect()
    }

    /// Trashed items deleted before `cutoff`, across all namespaces (retention).
    pub async fn trashed_before(&mut self, cutoff: i64, limit: i64) -> Result<Vec<NodeRecord>, MetaError> {
        self.rows(
            select_nodes!(
                "WHERE trashed_at IS NOT NULL AND trashed_at < $1 AND purging = 0 ORDER BY trashed_at LIMIT $2"
            ),
            args![cutoff, limit],
        )
        .await?
        .iter()
        .map(NodeRecord::from_row)
        .collect()
    }

    /// The node and everything below it, parents before children.
    pub async fn subtree(&mut self, id: NodeId) -> Result<Vec<NodeRecord>, MetaError> {
        self.rows(
            concat!(
                "WITH RECURSIVE sub(id, depth) AS (SELECT id, 0 FROM nodes WHERE id = $1 \
                 UNION ALL SELECT n.id, sub.depth + 1 FROM nodes n JOIN sub ON n.parent_id = sub.id) ",
                select_joined_nodes!(),
                "JOIN sub ON sub.id = n.id ORDER BY sub.depth, n.id"
            ),
            args![id],
        )
        .await?
        .iter()
        .map(NodeRecord::from_row)
        .collect()
    }

    /// The longest path below a node, in bytes, counted from the node (`/a/b` below it
    /// is 4): what a move adds to the length of the deepest path it carries.
    pub async fn subtree_path_bytes(&mut self, id: NodeId) -> Result<i64, MetaError> {
        let row = self
            .one(
                "WITH RECURSIVE sub(id, len) AS (SELECT id, 0 FROM nodes WHERE id = $1 \
                 UNION ALL SELECT n.id, sub.len + 1 + octet_length(n.name) FROM nodes n JOIN sub ON n.parent_id = sub.id \
                 WHERE n.trashed_at IS NULL) \
                 SELECT CAST(COALESCE(MAX(len), 0) AS BIGINT) AS longest FROM sub",
                args![id],
            )
            .await?;
        row.i64("longest")
    }

    /// The node and its ancestors up to the root, the node first.
    pub async fn ancestry(&mut self, id: NodeId) -> Result<Vec<NodeRecord>, MetaError> {
        self.rows(
            concat!(
                "WITH RECURSIVE up(id, depth) AS (SELECT id, 0 FROM nodes WHERE id = $1 \
                 UNION ALL SELECT n.parent_id, up.depth + 1 FROM nodes n JOIN up ON n.id = up.id \
                 WHERE n.parent_id IS NOT NULL) ",
                select_joined_nodes!(),
                "JOIN up ON up.id = n.id ORDER BY up.depth"
            ),
            args![id],
        )
        .await?
        .iter()
        .map(NodeRecord::from_row)
        .collect()
    }

    /// `(id, parent_id, depth, trashed)` of a node and everything below it, parents
    /// before children (by depth, then id): the order a restore tells of them.
    pub async fn subtree_outline(&mut self, id: NodeId) -> Result<Vec<(NodeId, Option<NodeId>, i64, bool)>, MetaError> {
        self.rows(
            "WITH RECURSIVE sub(id, depth) AS (SELECT id, 0 FROM nodes WHERE id = $1 \
             UNION ALL SELECT n.id, sub.depth + 1 FROM nodes n JOIN sub ON n.parent_id = sub.id) \
             SELECT n.id, n.parent_id, CAST(sub.depth AS BIGINT) AS depth, \
             CAST(CASE WHEN n.trashed_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS trashed \
             FROM nodes n JOIN sub ON sub.id = n.id ORDER BY sub.depth, n.id",
            args![id],
        )
        .await?
        .iter()
        .map(|r| Ok((r.id("id")?, r.opt_id("parent_id")?, r.i64("depth")?, r.bool("trashed")?)))
        .collect()
    }

    /// Nodes by id, in the order given (missing ones left out).
    pub async fn nodes_by_ids(&mut self, ids: &[NodeId]) -> Result<Vec<NodeRecord>, MetaError> {
        let mut found = std::collections::HashMap::new();
        for group in ids.chunks(ROWS_PER_STATEMENT) {
            let list = crate::db::placeholders(1, group.len());
            let a: Vec<Arg> = group.iter().map(|id| Arg::from(*id)).collect();
            let sql = format!("{}WHERE id IN ({list})", select_nodes_sql());
            for r in self.rows_dyn(sql, a).await? {
                let n = NodeRecord::from_row(&r)?;
                found.insert(n.id, n);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Records a restore whose items are still to be told of in the journal.
    pub async fn start_restore_job(&mut self, root_id: NodeId, namespace_id: NamespaceId) -> Result<(), MetaError> {
        self.exec(
            "INSERT INTO restore_jobs (root_id, namespace_id, done_depth, done_id) VALUES ($1, $2, 0, $1)",
            args![root_id, namespace_id],
        )
        .await?;
        Ok(())
    }

    /// The last item a restore has told of, by `(depth, id)`.
    pub async fn advance_restore_job(&mut self, root_id: NodeId, depth: i64, id: NodeId) -> Result<(), MetaError> {
        self.exec(
            "UPDATE restore_jobs SET done_depth = $1, done_id = $2 WHERE root_id = $3",
            args![depth, id, root_id],
        )
        .await?;
        Ok(())
    }

    pub async fn finish_restore_job(&mut self, root_id: NodeId) -> Result<(), MetaError> {
        self.exec("DELETE FROM restore_jobs WHERE root_id = $1", args![root_id]).await?;
        Ok(())
    }

    /// How far a restore has told of its items, `(depth, id)`; `None` once finished.
    pub async fn restore_job_progress(&mut self, root_id: NodeId) -> Result<Option<(i64, NodeId)>, MetaError> {
        self.row("SELECT done_depth, done_id FROM restore_jobs WHERE root_id = $1", args![root_id])
            .await?
            .map(|r| Ok((r.i64("done_depth")?, r.id("done_id")?)))
            .transpose()
    }

    /// Restores under way: `(root_id, namespace_id, done_depth, done_id)`.
    pub async fn restore_jobs(&mut self, limit: i64) -> Result<Vec<(NodeId, NamespaceId, i64, NodeId)>, MetaError> {
        self.rows(
            "SELECT root_id, namespace_id, done_depth, done_id FROM restore_jobs ORDER BY root_id LIMIT $1",
            args![limit],
        )
        .await?
        .iter()
        .map(|r| Ok((r.id("root_id")?, r.id("namespace_id")?, r.i64("done_depth")?, r.id("done_id")?)))
        .collect()
    }

    /// Marks a trashed item as being purged: it leaves the trash listing, cannot be
    /// restored, and a purge interrupted by a crash is resumed from [`Tx::purging_roots`].
    pub async fn mark_purging(&mut self, id: NodeId) -> Result<(), MetaError> {
        self.exec("UPDATE nodes SET purging = 1 WHERE id = $1", args![id]).await?;
        Ok(())
    }

    pub async fn is_purging(&mut self, id: NodeId) -> Result<bool, MetaError> {
        Ok(self.row("SELECT 1 AS x FROM nodes WHERE id = $1 AND purging = 1", args![id]).await?.is_some())
    }

    /// Items whose purge is under way (interrupted ones, after a crash).
    pub async fn purging_roots(&mut self, limit: i64) -> Result<Vec<NodeRecord>, MetaError> {
        self.rows(select_nodes!("WHERE purging = 1 ORDER BY id LIMIT $1"), args![limit])
            .await?
            .iter()
            .map(NodeRecord::from_row)
            .collect()
    }

    /// Ids of a node and everything below it, deepest first: deleting them in this
    /// order, in any number of batches, never leaves a row pointing at a missing parent.
    pub async fn subtree_ids_deepest_first(&mut self, id: NodeId) -> Result<Vec<NodeId>, MetaError> {
        self.rows(
            "WITH RECURSIVE sub(id, depth) AS (SELECT id, 0 FROM nodes WHERE id = $1 \
             UNION ALL SELECT n.id, sub.depth + 1 FROM nodes n JOIN sub ON n.parent_id = sub.id) \
             SELECT id FROM sub ORDER BY depth DESC, id",
            args![id],
        )
        .await?
        .iter()
        .map(|r| r.id("id"))
        .collect()
    }

    /// Removes a batch of nodes for good (children before or with their parents), with
    /// their revisions, in a few statements. Returns `(size, manifest)` of each revision
    /// this call removed and how many nodes it removed: only what this transaction
    /// deleted is counted, so two purges of one folder never release a chunk twice.
    pub async fn delete_node_batch(&mut self, ids: &[NodeId]) -> Result<(Vec<(i64, Vec<u8>)>, u64), MetaError> {
        let mut removed = Vec::new();
        let mut nodes = 0;
        for group in ids.chunks(ROWS_PER_STATEMENT) {
            let list = crate::db::placeholders(1, group.len());
            let a: Vec<Arg> = group.iter().map(|id| Arg::from(*id)).collect();
            self.exec_dyn(format!("DELETE FROM comments WHERE node_id IN ({list})"), a.clone()).await?;
            self.exec_dyn(format!("DELETE FROM links WHERE node_id IN ({list})"), a.clone()).await?;
            self.exec_dyn(format!("DELETE FROM file_shares WHERE node_id IN ({list})"), a.clone()).await?;
            let sql = format!("DELETE FROM revisions WHERE node_id IN ({list}) RETURNING size, manifest");
            for r in self.rows_dyn(sql, a.clone()).await? {
                removed.push((r.i64("size")?, r.bytes("manifest")?));
            }
            nodes += self.exec_dyn(format!("DELETE FROM nodes WHERE id IN ({list})"), a).await?;
        }
        Ok((removed, nodes))
    }

    /// The oldest revisions of a namespace that are not a file's current one (version
    /// history), for thinning it.
    pub async fn oldest_old_revisions(
        &mut self,
        namespace_id: NamespaceId,
        limit: i64,
    ) -> Result<Vec<RevisionRecord>, MetaError> {
        self.rows(
            select_revisions!(
                "JOIN nodes n ON n.id = r.node_id WHERE n.namespace_id = $1 \
                 AND (n.current_rev IS NULL OR n.current_rev <> r.id) ORDER BY r.id LIMIT $2"
            ),
            args![namespace_id, limit],
        )
        .await?
        .iter()
        .map(RevisionRecord::from_row)
        .collect()
    }

    /// Deletes one revision; false if it was gone already.
    pub async fn delete_revision(&mut self, id: RevisionId) -> Result<bool, MetaError> {
        Ok(self.exec("DELETE FROM revisions WHERE id = $1", args![id]).await? == 1)
    }

    pub async fn insert_revision(
        &mut self,
        node_id: NodeId,
        head: &FileHead<'_>,
        manifest: &[u8],
        device_id: Option<DeviceId>,
        now: i64,
    ) -> Result<RevisionId, MetaError> {
        let FileHead { size, content_hash, mtime, mode } = *head;
        self.one(
            "INSERT INTO revisions (node_id, size, content_hash, manifest, device_id, created_at, mtime, mode) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            args![node_id, size, content_hash, manifest, device_id, now, mtime, mode.code()],
        )
        .await?
        .id("id")
    }

    /// All revisions of a file, newest first.
    pub async fn revisions(&mut self, node_id: NodeId) -> Result<Vec<RevisionRecord>, MetaError> {
        self.rows(select_revisions!("WHERE r.node_id = $1 ORDER BY r.id DESC"), args![node_id])
            .await?
            .iter()
            .map(RevisionRecord::from_row)
            .collect()
    }

    pub async fn revision(&mut self, id: RevisionId) -> Result<Option<RevisionRecord>, MetaError> {
        self.row(select_revisions!("WHERE r.id = $1"), args![id])
            .await?
            .map(|r| RevisionRecord::from_row(&r))
            .transpose()
    }
}

impl Tx {
    /// The owner of a namespace (whose quota its files count against).
    pub async fn namespace_owner(&mut self, namespace_id: NamespaceId) -> Result<Option<UserId>, MetaError> {
        self.row(
            "SELECT user_id FROM namespace_members WHERE namespace_id = $1 AND role = 'owner' ORDER BY user_id LIMIT 1",
            args![namespace_id],
        )
        .await?
        .map(|r| r.id("user_id"))
        .transpose()
    }
}

impl Tx {
    /// Takes the node's row lock until the transaction ends, and returns the node as
    /// committed by whoever held the lock before. A check made after this cannot be
    /// invalidated by a concurrent writer (PostgreSQL's READ COMMITTED re-reads the row).
    pub async fn lock_node(&mut self, id: NodeId) -> Result<Option<NodeRecord>, MetaError> {
        self.exec("UPDATE nodes SET modified_at = modified_at WHERE id = $1", args![id]).await?;
        self.node(id).await
    }
}

/// A new file for [`Tx::insert_files`]: its node and first revision together.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub parent_id: NodeId,
    pub name: String,
    pub name_key: String,
    pub size: i64,
    pub content_hash: Vec<u8>,
    pub manifest: Vec<u8>,
    pub mtime: Option<i64>,
    pub mode: FileMode,
}

/// Rows per multi-row statement: far below every engine's variable limit.
const ROWS_PER_STATEMENT: usize = 200;

impl Tx {
    /// Creates many files of one namespace at once (a node and a current revision
    /// each), with a few multi-row statements instead of several statements a file.
    /// Returns the created nodes in the order given. A taken name fails the whole call
    /// with [`MetaError::Duplicate`].
    pub async fn insert_files(
        &mut self,
        namespace_id: NamespaceId,
        files: &[NewFile],
        device_id: Option<DeviceId>,
        now: i64,
    ) -> Result<Vec<NodeRecord>, MetaError> {
        let mut out = Vec::with_capacity(files.len());
        for group in files.chunks(ROWS_PER_STATEMENT) {
            // $1 namespace, $2 time; then 7 values per file.
            let rows = (0..group.len())
                .map(|i| {
                    let v: Vec<String> = (3 + 7 * i..3 + 7 * (i + 1)).map(|n| format!("${n}")).collect();
                    format!("($1, {}, {}, {}, 0, {}, $2)", v[0], v[1], v[2], v[3..].join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO nodes (namespace_id, parent_id, name, name_key, is_folder, size, content_hash, mtime, \
                 mode, modified_at) VALUES {rows} RETURNING id, parent_id, name_key"
            );
            let mut a: Vec<Arg> = args![namespace_id, now];
            for f in group {
                a.extend(args![
                    f.parent_id,
                    f.name.as_str(),
                    f.name_key.as_str(),
                    f.size,
                    f.content_hash.clone(),
                    f.mtime,
                    f.mode.code()
                ]);
            }
            let mut ids = std::collections::HashMap::new();
            for r in self.rows_dyn(sql, a).await? {
                ids.insert((r.id::<NodeId>("parent_id")?, r.text("name_key")?), r.id::<NodeId>("id")?);
            }
            let node_ids: Vec<NodeId> = group
                .iter()
                .map(|f| ids.get(&(f.parent_id, f.name_key.clone())).copied().ok_or(MetaError::NotFound))
                .collect::<Result<_, _>>()?;
            // Revisions: $1 device, $2 time; then 6 values per file.
            let rows = (0..group.len())
                .map(|i| {
                    let v: Vec<String> = (3 + 6 * i..3 + 6 * (i + 1)).map(|n| format!("${n}")).collect();
                    format!("({}, $1, $2)", v.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO revisions (node_id, size, content_hash, manifest, mtime, mode, device_id, created_at) \
                 VALUES {rows} RETURNING id, node_id"
            );
            let mut a: Vec<Arg> = args![device_id, now];
            for (f, id) in group.iter().zip(&node_ids) {
                a.extend(args![*id, f.size, f.content_hash.clone(), f.manifest.clone(), f.mtime, f.mode.code()]);
            }
            let mut revs = std::collections::HashMap::new();
            for r in self.rows_dyn(sql, a).await? {
                revs.insert(r.id::<NodeId>("node_id")?, r.id::<RevisionId>("id")?);
            }
            let sql = format!(
                "UPDATE nodes SET current_rev = (SELECT MAX(r.id) FROM revisions r WHERE r.node_id = nodes.id) \
                 WHERE id IN ({})",
                crate::db::placeholders(1, node_ids.len())
            );
            self.exec_dyn(sql, node_ids.iter().map(|id| Arg::from(*id)).collect()).await?;
            for (f, id) in group.iter().zip(node_ids) {
                out.push(NodeRecord {
                    id,
                    namespace_id,
                    parent_id: Some(f.parent_id),
                    name: f.name.clone(),
                    is_folder: false,
                    current_rev: revs.get(&id).copied(),
                    size: f.size,
                    content_hash: Some(f.content_hash.clone()),
                    mtime: f.mtime,
                    mode: f.mode,
                    modified_at: now,
                    trashed_at: None,
                    original_path: None,
                    mount_namespace_id: None,
                });
            }
        }
        Ok(out)
    }
}

/// A stored role; anything else means the database was changed by hand.
pub(crate) fn role_of(s: &str) -> Result<Role, MetaError> {
    Role::parse(s).ok_or_else(|| MetaError::Corrupt(format!("unknown role '{s}'")))
}
