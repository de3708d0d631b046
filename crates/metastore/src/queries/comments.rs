//! Comments on files.

use coffer_core::{CommentId, NodeId, RevisionId, UserId};

use crate::db::{DbRow, Tx};
use crate::{MetaError, args};

/// A comment, with its author's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRecord {
    pub id: CommentId,
    pub node_id: NodeId,
    pub author_id: UserId,
    pub author_name: String,
    /// The file's revision when the comment was made.
    pub rev: Option<RevisionId>,
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
}

impl CommentRecord {
    fn from_row(r: &DbRow) -> Result<Self, MetaError> {
        Ok(Self {
            id: r.id("id")?,
            node_id: r.id("node_id")?,
            author_id: r.id("author_id")?,
            author_name: r.text("author_name")?,
            rev: r.opt_id("rev")?,
            body: r.text("body")?,
            created_at: r.i64("created_at")?,
            edited_at: r.opt_i64("edited_at")?,
        })
    }
}

macro_rules! select_comments {
    ($tail:literal) => {
        concat!(
            "SELECT c.id, c.node_id, c.author_id, u.name AS author_name, c.rev, c.body, c.created_at, c.edited_at \
             FROM comments c JOIN users u ON u.id = c.author_id ",
            $tail
        )
    };
}

impl Tx {
    pub async fn insert_comment(
        &mut self,
        node: NodeId,
        author: UserId,
        rev: Option<RevisionId>,
        body: &str,
        now: i64,
    ) -> Result<CommentId, MetaError> {
        self.one(
            "INSERT INTO comments (node_id, author_id, rev, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            args![node, author, rev, body, now],
        )
        .await?
        .id("id")
    }

    pub async fn comment(&mut self, id: CommentId) -> Result<Option<CommentRecord>, MetaError> {
        self.row(select_comments!("WHERE c.id = $1"), args![id]).await?.map(|r| CommentRecord::from_row(&r)).transpose()
    }

    /// A file's comments, oldest first, after comment `after`, at most `limit`.
    pub async fn comments_of(&mut self, node: NodeId, after: i64, limit: i64) -> Result<Vec<CommentRecord>, MetaError> {
        self.rows(
            select_comments!("WHERE c.node_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3"),
            args![node, after, limit],
        )
        .await?
        .iter()
        .map(CommentRecord::from_row)
        .collect()
    }

    pub async fn edit_comment(&mut self, id: CommentId, body: &str, now: i64) -> Result<(), MetaError> {
        self.exec("UPDATE comments SET body = $1, edited_at = $2 WHERE id = $3", args![body, now, id]).await?;
        Ok(())
    }

    pub async fn delete_comment(&mut self, id: CommentId) -> Result<(), MetaError> {
        self.exec("DELETE FROM comments WHERE id = $1", args![id]).await?;
        Ok(())
    }
}
