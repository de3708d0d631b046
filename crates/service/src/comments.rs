//! Comments on files: commenters, editors and owners add them; everyone who may read
//! the file reads them; an author edits and deletes their own, and the owner of the
//! file (of the shared folder it is in) may delete any. Each keeps the revision it was
//! made on. Members hear of every change on the notify channel; purging the file
//! removes its comments.

use coffer_core::wire::CommentInfo;
use coffer_core::{CommentId, ErrorCode, NodeId, Permission, Role};
use coffer_metastore::{CommentRecord, Tx};

use crate::access::{Caller, check_for};
use crate::tree::parse_path;
use crate::{Result, Service, ServiceError, now_ms};

/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 10_000;
/// Most comments in one page of a listing.
const MAX_COMMENT_PAGE: i64 = 1000;

fn validate_body(body: &str) -> Result<&str> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_COMMENT_CHARS {
        return Err(ServiceError::new(
            ErrorCode::BadRequest,
            format!("a comment is 1 to {MAX_COMMENT_CHARS} characters"),
        ));
    }
    if body.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ServiceError::new(ErrorCode::BadRequest, "a comment may not hold control characters"));
    }
    Ok(body)
}

fn comment_info(c: CommentRecord) -> CommentInfo {
    CommentInfo {
        id: c.id.get(),
        node_id: c.node_id.get(),
        author: c.author_name,
        rev: c.rev.map(|r| r.get()),
        body: c.body,
        created_at: c.created_at,
        edited_at: c.edited_at,
    }
}

impl Service {
    /// Comments on the file at `path`, as of its current revision.
    pub async fn add_comment(&self, caller: &Caller, path: &str, body: &str) -> Result<CommentInfo> {
        let body = validate_body(body)?;
        let path = parse_path(path)?;
        let mut tx = self.meta().write().await?;
        let node = self.resolve(&mut tx, caller, &path, Permission::Comment).await?;
        if node.is_folder {
            return Err(ServiceError::new(ErrorCode::NotAFile, format!("'{path}' is a folder; comment on a file")));
        }
        let id = tx.insert_comment(node.id, caller.user_id(), node.current_rev, body, now_ms()).await?;
        let comment = tx.comment(id).await?.ok_or_else(|| ServiceError::not_found("comment"))?;
        tx.commit().await?;
        self.inner.notifier.comment(node.namespace_id, node.id, id);
        Ok(comment_info(comment))
    }

    /// One page of the comments on the file at `path`, oldest first, after comment
    /// `after`.
    pub async fn comments(
        &self,
        caller: &Caller,
        path: &str,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<(Vec<CommentInfo>, Option<i64>)> {
        let path = parse_path(path)?;
        let limit = limit.unwrap_or(MAX_COMMENT_PAGE).clamp(1, MAX_COMMENT_PAGE);
        let mut tx = self.meta().read().await?;
        let node = self.resolve(&mut tx, caller, &path, Permission::Read).await?;
        let mut rows = tx.comments_of(node.id, after.unwrap_or(0), limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = if more { rows.last().map(|c| c.id.get()) } else { None };
        Ok((rows.into_iter().map(comment_info).collect(), next))
    }

    /// Changes the text of one's own comment.
    pub async fn edit_comment(&self, caller: &Caller, id: CommentId, body: &str) -> Result<CommentInfo> {
        let body = validate_body(body)?;
        let mut tx = self.meta().write().await?;
        let (comment, node, _) = self.own_comment(&mut tx, caller, id).await?;
        if comment.author_id != caller.user_id() {
            return Err(ServiceError::new(ErrorCode::Forbidden, "only its author may edit a comment"));
        }
        tx.edit_comment(id, body, now_ms()).await?;
        let edited = tx.comment(id).await?.ok_or_else(|| ServiceError::not_found("comment"))?;
        tx.commit().await?;
        self.inner.notifier.comment(node.0, node.1, id);
        Ok(comment_info(edited))
    }

    /// Deletes a comment: one's own, or any on a file the caller owns.
    pub async fn delete_comment(&self, caller: &Caller, id: CommentId) -> Result<()> {
        let mut tx = self.meta().write().await?;
        let (comment, node, role) = self.own_comment(&mut tx, caller, id).await?;
        if comment.author_id != caller.user_id() && role != Role::Owner {
            return Err(ServiceError::new(
                ErrorCode::Forbidden,
                "only its author or the file's owner may delete a comment",
            ));
        }
        tx.delete_comment(id).await?;
        tx.commit().await?;
        self.inner.notifier.comment(node.0, node.1, id);
        Ok(())
    }

    /// A comment the caller may act on (they may comment on its file), with its file's
    /// namespace and id and the caller's role there; "not found" when they may not see it.
    async fn own_comment(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        id: CommentId,
    ) -> Result<(CommentRecord, (coffer_core::NamespaceId, NodeId), Role)> {
        let comment = tx.comment(id).await?.ok_or_else(|| ServiceError::not_found("comment"))?;
        let node = self
            .access_node(tx, caller, comment.node_id, Permission::Read)
            .await
            .map_err(|_| ServiceError::not_found("comment"))?;
        let role = self.role_in(tx, caller, node.namespace_id).await?;
        check_for(caller, role, Permission::Comment)?;
        Ok((comment, (node.namespace_id, node.id), role))
    }
}
