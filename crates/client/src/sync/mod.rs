//! The sync engine's decision core. [`plan`] is a pure function from three trees (what
//! the server has, what the disk has, what both last agreed on) to operations; the
//! engine around it (scanner, local state, executor) persists observations and derives
//! the work anew each time, so a crash never leaves half-planned work behind.

#[cfg(test)]
use coffer_core::ContentHash;
#[cfg(test)]
use coffer_core::wire::{Change, ChangeKind, NodeInfo, NodeKind};

pub mod engine;
pub mod names;
pub mod plan;
pub mod remote;
pub mod scan;
pub mod state;

pub use engine::{
    Brake, DeleteSide, Engine, FolderIdentity, HeldDelete, MERGE_LIMIT, SyncError, SyncReport, SyncStatus,
};
pub use plan::{Entry, Kind, Op, Trees, conflict_copy_name, plan};
pub use remote::{RemoteNode, RemoteTree};

/// A journal change for tests: files get `rev = seq` and a content hash made of `seq`.
#[cfg(test)]
pub(crate) fn test_change(
    seq: i64,
    kind: ChangeKind,
    id: i64,
    parent: Option<i64>,
    name: &str,
    folder: bool,
    trashed: bool,
) -> Change {
    Change {
        namespace_id: 1,
        seq,
        kind,
        node: NodeInfo {
            id,
            namespace_id: 1,
            parent_id: parent,
            name: name.into(),
            kind: if folder { NodeKind::Folder } else { NodeKind::File },
            path: None,
            size: 0,
            rev: (!folder).then_some(seq),
            content_hash: (!folder).then_some(ContentHash([seq as u8; 32])),
            modified_at: 0,
            mtime: None,
            mode: Default::default(),
            trashed,
        },
    }
}
