//! The per-namespace journal: one strictly increasing sequence number per change.
//!
//! Appending takes the namespace row's lock (`UPDATE ... seq = seq + 1`) inside the
//! writer's transaction, so sequence numbers become visible in order: a reader that has
//! seen seq N has seen every change up to N.

use coffer_core::wire::FileMode;
use coffer_core::{NamespaceId, NodeId, RevisionId, UserId};

use crate::db::{DbRow, Tx};
use crate::queries::NodeRecord;
use crate::{MetaError, args};

/// One change and the node's state right after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecord {
    pub namespace_id: NamespaceId,
    pub seq: i64,
    pub kind: String,
    pub node_id: NodeId,
    pub parent_id: Option<NodeId>,
    pub name: String,
    pub is_folder: bool,
    pub rev: Option<RevisionId>,
    pub size: i64,
    pub content_hash: Option<Vec<u8>>,
    pub mtime: Option<i64>,
    pub mode: FileMode,
    pub trashed: bool,
    pub at: i64,
}

impl JournalRecord {
    fn from_row(r: &DbRow) -> Result<Self, MetaError> {
        Ok(Self {
            namespace_id: r.id("namespace_id")?,
            seq: r.i64("seq")?,
            kind: r.text("kind")?,
            node_id: r.id("node_id")?,
            parent_id: r.opt_id("parent_id")?,
            name: r.text("name")?,
            is_folder: r.bool("is_folder")?,
            rev: r.opt_id("rev")?,
            size: r.i64("size")?,
            content_hash: r.opt_bytes("content_hash")?,
            mtime: r.opt_i64("mtime")?,
            mode: FileMode::from_code(r.i64("mode")?),
            trashed: r.bool("trashed")?,
            at: r.i64("at")?,
        })
    }
}

impl Tx {
    /// Records a change to `node` (its state after the change) in its namespace's
    /// journal. Returns the new seq.
    pub async fn append_journal(&mut self, kind: &str, node: &NodeRecord, now: i64) -> Result<i64, MetaError> {
        self.append_journal_to(node.namespace_id, kind, node, now).await
    }

    /// Records a change to `node` in the journal of `namespace_id` (a node that moved
    /// between namespaces is told of in both).
    pub async fn append_journal_to(
        &mut self,
        namespace_id: NamespaceId,
        kind: &str,
        node: &NodeRecord,
        now: i64,
    ) -> Result<i64, MetaError> {
        let seq = self
            .one("UPDATE namespaces SET seq = seq + 1 WHERE id = $1 RETURNING seq", args![namespace_id])
            .await?
            .i64("seq")?;
        self.exec(
            "INSERT INTO journal (namespace_id, seq, kind, node_id, parent_id, name, is_folder, rev, size, \
             content_hash, mtime, mode, trashed, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14)",
            args![
                namespace_id,
                seq,
                kind,
                node.id,
                node.parent_id,
                node.name.as_str(),
                node.is_folder,
                node.current_rev,
                node.size,
                node.content_hash.clone(),
                node.mtime,
                node.mode.code(),
                node.trashed_at.is_some(),
                now
            ],
        )
        .await?;
        Ok(seq)
    }

    /// Changes after `after_seq`, oldest first, at most `limit`.
    pub async fn journal_since(
        &mut self,
        namespace_id: NamespaceId,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<JournalRecord>, MetaError> {
        self.rows(
            "SELECT namespace_id, seq, kind, node_id, parent_id, name, is_folder, rev, size, content_hash, mtime, \
             mode, trashed, at FROM journal WHERE namespace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            args![namespace_id, after_seq, limit],
        )
        .await?
        .iter()
        .map(JournalRecord::from_row)
        .collect()
    }

    /// Every node of a namespace as it was at `at` (ms since the epoch): the last change
    /// to each at or before then, in no particular order. Nodes made later are absent.
    /// This reads the whole journal of the namespace; it serves point-in-time restores.
    pub async fn journal_state_at(
        &mut self,
        namespace_id: NamespaceId,
        at: i64,
    ) -> Result<Vec<JournalRecord>, MetaError> {
        self.rows(
            "SELECT j.namespace_id, j.seq, j.kind, j.node_id, j.parent_id, j.name, j.is_folder, j.rev, j.size, \
             j.content_hash, j.mtime, j.mode, j.trashed, j.at FROM journal j \
             JOIN (SELECT node_id, MAX(seq) AS seq FROM journal WHERE namespace_id = $1 AND at <= $2 GROUP BY node_id) l \
             ON l.seq = j.seq WHERE j.namespace_id = $1",
            args![namespace_id, at],
        )
        .await?
        .iter()
        .map(JournalRecord::from_row)
        .collect()
    }

    /// Every namespace a user belongs to with its latest seq, in one query (a user in a
    /// thousand shared folders costs no more round trips than one in none).
    pub async fn namespace_positions(&mut self, user_id: UserId) -> Result<Vec<(NamespaceId, i64)>, MetaError> {
        self.rows(
            "SELECT m.namespace_id, s.seq FROM namespace_members m JOIN namespaces s ON s.id = m.namespace_id \
             WHERE m.user_id = $1 ORDER BY m.namespace_id",
            args![user_id],
        )
        .await?
        .iter()
        .map(|r| Ok((r.id("namespace_id")?, r.i64("seq")?)))
        .collect()
    }

    /// [`Tx::namespace_positions`], with where in each journal the user's membership
    /// began.
    pub async fn namespace_positions_joined(
        &mut self,
        user_id: UserId,
    ) -> Result<Vec<(NamespaceId, i64, i64)>, MetaError> {
        self.rows(
            "SELECT m.namespace_id, s.seq, m.joined_seq FROM namespace_members m \
             JOIN namespaces s ON s.id = m.namespace_id WHERE m.user_id = $1 ORDER BY m.namespace_id",
            args![user_id],
        )
        .await?
        .iter()
        .map(|r| Ok((r.id("namespace_id")?, r.i64("seq")?, r.i64("joined_seq")?)))
        .collect()
    }

    /// The latest seq of a namespace.
    pub async fn namespace_seq(&mut self, namespace_id: NamespaceId) -> Result<i64, MetaError> {
        self.row("SELECT seq FROM namespaces WHERE id = $1", args![namespace_id])
            .await?
            .ok_or(MetaError::NotFound)?
            .i64("seq")
    }
}

impl Tx {
    /// Serializes structural changes of one namespace (moves, restores): the check that a
    /// folder is not moved into itself cannot race another move.
    pub async fn lock_namespace(&mut self, namespace_id: NamespaceId) -> Result<(), MetaError> {
        self.exec("UPDATE namespaces SET seq = seq WHERE id = $1", args![namespace_id]).await?;
        Ok(())
    }
}

impl Tx {
    /// Records one change per node, all of one namespace, with one sequence bump and
    /// multi-row inserts. Returns the seqs in order.
    pub async fn append_journal_many(
        &mut self,
        namespace_id: NamespaceId,
        kind: &str,
        nodes: &[NodeRecord],
        now: i64,
    ) -> Result<Vec<i64>, MetaError> {
        if nodes.is_empty() {
            return Ok(Vec::new());
        }
        let last = self
            .one(
                "UPDATE namespaces SET seq = seq + $1 WHERE id = $2 RETURNING seq",
                args![nodes.len() as i64, namespace_id],
            )
            .await?
            .i64("seq")?;
        let first = last - nodes.len() as i64 + 1;
        for (g, group) in nodes.chunks(200).enumerate() {
            // $1 namespace, $2 kind, $3 time; then 11 values per node.
            let rows = (0..group.len())
                .map(|i| {
                    let b = 4 + 11 * i;
                    let cols: Vec<String> = (b..b + 11).map(|n| format!("${n}")).collect();
                    format!("($1, {}, $2, {}, $3)", cols[0], cols[1..].join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO journal (namespace_id, seq, kind, node_id, parent_id, name, is_folder, rev, size, \
                 content_hash, mtime, mode, trashed, at) VALUES {rows}"
            );
            let mut a: Vec<crate::db::Arg> = args![namespace_id, kind, now];
            for (i, n) in group.iter().enumerate() {
                let seq = first + (g * 200 + i) as i64;
                a.extend(args![
                    seq,
                    n.id,
                    n.parent_id,
                    n.name.as_str(),
                    n.is_folder,
                    n.current_rev,
                    n.size,
                    n.content_hash.clone(),
                    n.mtime,
                    n.mode.code(),
                    n.trashed_at.is_some()
                ]);
            }
            self.exec_dyn(sql, a).await?;
        }
        Ok((first..=last).collect())
    }
}
