//! The audit log: one row per security-relevant event (sign-ins and failures, account
//! security changes, credentials, shares and links, permanent deletes, admin actions).
//! Rows are only added and, past the retention, deleted; never changed.

use coffer_core::UserId;

use crate::db::{DbRow, Tx};
use crate::{MetaError, args};

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    /// The account the event belongs to (its actor, or the account a failed sign-in
    /// named); `None` for events of no account (a guessed user name, a link visitor).
    pub user_id: Option<UserId>,
    /// Who did it, by name: a user, `operator` for the command line on the database, or
    /// none for an anonymous visitor.
    pub actor: Option<String>,
    /// The credential (device, browser sign-in, app password) it was done with.
    pub credential_id: Option<i64>,
    pub address: Option<String>,
    /// What it was done to: a path, a user, a link, a credential.
    pub target: Option<String>,
    /// More about it, in words (a role, a count, why it failed).
    pub detail: Option<String>,
}

impl AuditRecord {
    fn from_row(r: &DbRow) -> Result<Self, MetaError> {
        Ok(Self {
            id: r.i64("id")?,
            at: r.i64("at")?,
            kind: r.text("kind")?,
            user_id: r.opt_id("user_id")?,
            actor: r.opt_text("actor")?,
            credential_id: r.opt_i64("credential_id")?,
            address: r.opt_text("address")?,
            target: r.opt_text("target")?,
            detail: r.opt_text("detail")?,
        })
    }
}

/// Which events to read: all conditions hold; newest first, below `before_id`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user_id: Option<UserId>,
    pub kinds: Vec<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub before_id: Option<i64>,
}

impl Tx {
    /// Records an event.
    pub async fn add_audit(&mut self, e: &AuditRecord) -> Result<(), MetaError> {
        self.exec(
            "INSERT INTO audit (at, kind, user_id, actor, credential_id, address, target, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            args![
                e.at,
                e.kind.clone(),
                e.user_id.map(|u| u.get()),
                e.actor.clone(),
                e.credential_id,
                e.address.clone(),
                e.target.clone(),
                e.detail.clone()
            ],
        )
        .await?;
        Ok(())
    }

    /// Up to `limit` events matching `filter`, newest first.
    pub async fn audit_page(&mut self, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditRecord>, MetaError> {
        let mut sql = String::from(
            "SELECT id, at, kind, user_id, actor, credential_id, address, target, detail FROM audit WHERE 1 = 1",
        );
        let mut args = Vec::new();
        let mut bind = |sql: &mut String, cond: &str, arg: crate::db::Arg| {
            args.push(arg);
            sql.push_str(&cond.replace('?', &format!("${}", args.len())));
        };
        if let Some(user) = filter.user_id {
            bind(&mut sql, " AND user_id = ?", user.get().into());
        }
        if let Some(since) = filter.since {
            bind(&mut sql, " AND at >= ?", since.into());
        }
        if let Some(until) = filter.until {
            bind(&mut sql, " AND at < ?", until.into());
        }
        if let Some(before) = filter.before_id {
            bind(&mut sql, " AND id < ?", before.into());
        }
        if !filter.kinds.is_empty() {
            sql.push_str(" AND kind IN (");
            for (i, kind) in filter.kinds.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                bind(&mut sql, "?", kind.clone().into());
            }
            sql.push(')');
        }
        bind(&mut sql, " ORDER BY id DESC LIMIT ?", limit.into());
        self.rows_dyn(sql, args).await?.iter().map(AuditRecord::from_row).collect()
    }

    /// Deletes up to `batch` events older than `before` (ms); returns how many.
    pub async fn forget_audit_before(&mut self, before: i64, batch: i64) -> Result<u64, MetaError> {
        self.exec(
            "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < $1 ORDER BY id LIMIT $2)",
            args![before, batch],
        )
        .await
    }
}
