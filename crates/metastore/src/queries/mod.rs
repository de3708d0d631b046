//! Typed queries, grouped by what they own. Each is one or a few statements inside the
//! caller's transaction.

mod accounts;
mod audit;
mod chunks;
mod comments;
mod journal;
mod links;
mod sharing;
mod tree;
mod two_factor;

pub use accounts::{DeviceRecord, NewCredential, UserRecord};
pub use audit::{AuditFilter, AuditRecord};
pub use comments::CommentRecord;
pub use journal::JournalRecord;
pub use links::{LinkRecord, NewLink};
pub use sharing::MemberRecord;
pub(crate) use tree::select_nodes_sql;
pub use tree::{FileHead, NewFile, NewNode, NodeRecord, RevisionRecord};
pub use two_factor::TwoFactorRecord;

/// Largest number of values in one `IN (...)` list (SQLite allows 32,766 variables,
/// PostgreSQL 65,535; smaller lists keep statements cheap to plan).
pub(crate) const IN_BATCH: usize = 500;
