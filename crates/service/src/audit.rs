//! The audit log: who did what to whose account, when, from where and with which
//! credential. Events of an operation that writes are recorded in its own transaction
//! (both land or neither); refusals (a failed sign-in, a wrong link password) are
//! recorded in a short transaction of their own, after the guessing back-off has
//! admitted the attempt, so a flood of refused requests cannot become a flood of writes.
//! A user reads their own events, an administrator everyone's; events older than the
//! retention are deleted by the maintenance pass.

use std::net::IpAddr;

use coffer_core::wire::{AuditEntry, AuditKind, AuditPage, AuditQuery};
use coffer_core::{ErrorCode, UserId};
use coffer_metastore::{AuditFilter, AuditRecord, Tx};

use crate::access::{Admin, Caller};
use crate::{Result, Service, ServiceError, now_ms};

pub use coffer_core::wire::MAX_AUDIT_PAGE;
/// Events deleted per statement by the retention pass.
const FORGET_BATCH: i64 = 5000;
/// The actor name of the operator (the command line on the database).
pub const OPERATOR: &str = "operator";

/// An event about to be recorded.
pub(crate) struct Event {
    pub kind: AuditKind,
    pub target: Option<String>,
    pub detail: Option<String>,
}

impl Event {
    pub fn new(kind: AuditKind) -> Self {
        Self { kind, target: None, detail: None }
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The event as done by `caller`.
    pub fn by(self, caller: &Caller) -> AuditRecord {
        AuditRecord {
            id: 0,
            at: now_ms(),
            kind: self.kind.as_str().to_owned(),
            user_id: Some(caller.user_id()),
            actor: Some(caller.user_name().to_owned()),
            credential_id: caller.device_id().map(|d| d.get()),
            address: caller.address().map(|a| a.to_string()),
            target: self.target,
            detail: self.detail,
        }
    }

    /// The event as done by an administrator (a user, or the operator), recorded in the
    /// administrator's log; `tx` finds the administrator's name.
    pub async fn by_admin(self, tx: &mut Tx, admin: &Admin) -> Result<AuditRecord> {
        let name = match admin.user() {
            Some(id) => tx.user_by_id(id).await?.map(|u| u.name),
            None => None,
        };
        Ok(AuditRecord {
            id: 0,
            at: now_ms(),
            kind: self.kind.as_str().to_owned(),
            user_id: admin.user(),
            actor: Some(name.unwrap_or_else(|| OPERATOR.to_owned())),
            credential_id: None,
            address: None,
            target: self.target,
            detail: self.detail,
        })
    }

    /// The event of someone not signed in: about `account` (when it exists), from
    /// `address`, under the name they gave.
    pub fn by_anyone(self, account: Option<UserId>, actor: Option<&str>, address: Option<IpAddr>) -> AuditRecord {
        AuditRecord {
            id: 0,
            at: now_ms(),
            kind: self.kind.as_str().to_owned(),
            user_id: account,
            actor: actor.map(str::to_owned),
            credential_id: None,
            address: address.map(|a| a.to_string()),
            target: self.target,
            detail: self.detail,
        }
    }
}

impl Service {
    /// Records an event in the caller's transaction.
    pub(crate) async fn audit_in(&self, tx: &mut Tx, record: &AuditRecord) -> Result<()> {
        tx.add_audit(record).await?;
        Ok(())
    }

    /// Records an event in a transaction of its own. A failure to record is logged, not
    /// returned: the refusal it records stands either way.
    pub(crate) async fn audit_now(&self, record: AuditRecord) {
        let result = async {
            let mut tx = self.meta().write().await?;
            tx.add_audit(&record).await?;
            tx.commit().await?;
            Ok::<_, ServiceError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(kind = record.kind, error = %e, "could not record an audit event");
        }
    }

    /// A page of the audit log: the caller's own events, or for an administrator
    /// everyone's (or one user's, with `user`).
    pub async fn audit_log(&self, caller: &Caller, q: &AuditQuery) -> Result<AuditPage> {
        let limit = q.limit.unwrap_or(100);
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(ServiceError::new(ErrorCode::BadRequest, format!("limit is 1 to {MAX_AUDIT_PAGE}")));
        }
        let mut kinds = Vec::new();
        for k in q.kind.as_deref().unwrap_or("").split(',').map(str::trim).filter(|k| !k.is_empty()) {
            let kind = AuditKind::parse(k).ok_or_else(|| {
                let known: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
                ServiceError::new(ErrorCode::BadRequest, format!("unknown kind '{k}'; kinds: {}", known.join(", ")))
            })?;
            kinds.push(kind.as_str().to_owned());
        }
        let mut tx = self.meta().read().await?;
        let user_id = match (&q.user, caller.is_admin() && caller.admin().is_ok()) {
            (None, true) => None,
            (None, false) => Some(caller.user_id()),
            (Some(name), admin) => {
                let user = tx.user_by_name(name).await?;
                match user {
                    Some(u) if admin || u.id == caller.user_id() => Some(u.id),
                    _ if !admin => {
                        return Err(ServiceError::new(
                            ErrorCode::Forbidden,
                            "only an administrator sees other users' events",
                        ));
                    }
                    _ => return Err(ServiceError::not_found(format!("user '{name}'"))),
                }
            }
        };
        let filter = AuditFilter { user_id, kinds, since: q.since, until: q.until, before_id: q.before };
        let rows = tx.audit_page(&filter, limit).await?;
        let next_before = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.id)).flatten();
        Ok(AuditPage { entries: rows.into_iter().map(entry).collect(), next_before })
    }

    /// Deletes events older than the retention; returns how many.
    pub(crate) async fn forget_old_audit(&self) -> Result<u64> {
        let Some(keep) = self.config().audit_retention else { return Ok(0) };
        let before = now_ms() - keep.as_millis() as i64;
        let mut total = 0;
        loop {
            let mut tx = self.meta().write().await?;
            let n = tx.forget_audit_before(before, FORGET_BATCH).await?;
            tx.commit().await?;
            total += n;
            if n < FORGET_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

fn entry(r: AuditRecord) -> AuditEntry {
    AuditEntry {
        id: r.id,
        at: r.at,
        kind: r.kind,
        actor: r.actor,
        credential_id: r.credential_id,
        address: r.address,
        target: r.target,
        detail: r.detail,
    }
}
