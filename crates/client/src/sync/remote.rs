//! The server's tree as a device knows it, kept up to date from the journal: each
//! change carries the node's state right after it, keyed by the node's stable id, so
//! moves and renames are updates of one entry and a trashed folder hides everything
//! below it without a change per descendant.

use std::collections::HashMap;

use coffer_core::wire::{Change, ChangeKind, FileMode, NodeKind};
use coffer_core::{ContentHash, Name, RemotePath};

use super::plan::{Entry, Kind, Tree, key};

/// One node as the journal last described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteNode {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: Kind,
    pub rev: Option<i64>,
    pub content: Option<ContentHash>,
    pub trashed: bool,
    /// A file's modification time (ms since the epoch), as the device that wrote it said.
    pub mtime: Option<i64>,
    /// A file's size in bytes.
    pub size: u64,
    /// Executable or a symbolic link (files only).
    pub mode: FileMode,
}

impl RemoteNode {
    /// The planner's entry for this node.
    pub fn entry(&self) -> Entry {
        Entry {
            kind: self.kind,
            content: self.content,
            rev: self.rev,
            id: Some(self.id),
            ino: None,
            born: None,
            mode: self.mode,
        }
    }

    /// The account's root folder (it never appears in the journal itself).
    pub fn root(id: i64) -> Self {
        Self {
            id,
            parent_id: None,
            name: String::new(),
            kind: Kind::Folder,
            rev: None,
            content: None,
            trashed: false,
            mtime: None,
            size: 0,
            mode: FileMode::Regular,
        }
    }
}

/// Nodes by id; paths are derived on demand.
#[derive(Debug, Clone, Default)]
pub struct RemoteTree {
    nodes: HashMap<i64, RemoteNode>,
}

/// Deepest folder nesting followed when building paths (a guard, never a real limit:
/// the server's path limit is far below it).
const MAX_DEPTH: usize = 2048;

impl RemoteTree {
    /// Applies one journal change.
    pub fn apply(&mut self, change: &Change) {
        let n = &change.node;
        if change.kind == ChangeKind::Deleted {
            self.nodes.remove(&n.id);
            return;
        }
        self.nodes.insert(
            n.id,
            RemoteNode {
                id: n.id,
                parent_id: n.parent_id,
                name: n.name.clone(),
                kind: if n.kind == NodeKind::Folder { Kind::Folder } else { Kind::File },
                rev: n.rev,
                content: n.content_hash,
                trashed: n.trashed,
                mtime: n.mtime,
                size: n.size,
                mode: n.mode,
            },
        );
    }

    /// Adds or replaces a node as stored (loading saved state).
    pub fn insert_node(&mut self, node: RemoteNode) {
        self.nodes.insert(node.id, node);
    }

    pub fn node(&self, id: i64) -> Option<&RemoteNode> {
        self.nodes.get(&id)
    }

    /// The path of a live node below the root, or `None` when it (or an ancestor) is
    /// trashed, unknown, or has a name this device cannot use.
    pub fn path_of(&self, id: i64) -> Option<RemotePath> {
        self.walk(id, true)
    }

    /// The path from the root down to `id`; `None` if a node on the way is unknown, has
    /// an unusable name, or (with `live`) is trashed.
    fn walk(&self, id: i64, live: bool) -> Option<RemotePath> {
        let mut names = Vec::new();
        let mut at = self.nodes.get(&id)?;
        for _ in 0..MAX_DEPTH {
            if live && at.trashed {
                return None;
            }
            let Some(parent) = at.parent_id else {
                // The namespace root: the path is complete.
                names.reverse();
                return Some(names.into_iter().fold(RemotePath::root(), |p, n| p.join(n)));
            };
            names.push(Name::new(&at.name).ok()?);
            at = self.nodes.get(&parent)?;
        }
        None
    }

    /// Every node the journal described, trashed ones included, by the path it has (or
    /// had when it was trashed): to recognize what this device committed before a crash,
    /// even if it was deleted elsewhere since.
    pub fn to_tree_with_trashed(&self) -> Tree {
        let mut tree = Tree::new();
        for node in self.nodes.values() {
            if let Some(path) = self.walk(node.id, false).filter(|p| !p.is_root()) {
                let entry = node.entry();
                tree.insert(key(&path), (path, entry));
            }
        }
        tree
    }

    /// The planner's view: every live node but the root, by path.
    pub fn to_tree(&self) -> Tree {
        let mut tree = Tree::new();
        for node in self.nodes.values() {
            if node.parent_id.is_none() {
                continue;
            }
            if let Some(path) = self.path_of(node.id) {
                let entry = node.entry();
                tree.insert(key(&path), (path, entry));
            }
        }
        tree
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_change as change;
    use super::*;

    fn paths(t: &RemoteTree) -> Vec<String> {
        t.to_tree().values().map(|(p, _)| p.to_string()).collect()
    }

    #[test]
    fn moves_trash_and_restore_follow_the_journal() {
        use ChangeKind::*;
        let mut t = RemoteTree::default();
        // The root arrives only implicitly (as a parent): paths wait for it.
        t.apply(&change(1, Created, 10, Some(1), "Docs", true, false));
        t.apply(&change(2, Created, 11, Some(10), "a.txt", false, false));
        assert!(paths(&t).is_empty(), "no root known yet");
        t.apply(&change(0, Created, 1, None, "", true, false));
        assert_eq!(paths(&t), vec!["/Docs", "/Docs/a.txt"]);
        t.apply(&change(3, Moved, 11, Some(1), "b.txt", false, false));
        assert_eq!(paths(&t), vec!["/b.txt", "/Docs"]);
        t.apply(&change(4, Moved, 11, Some(10), "b.txt", false, false));
        t.apply(&change(5, Trashed, 10, Some(1), "Docs", true, true));
        assert!(paths(&t).is_empty(), "a trashed folder hides what is below it");
        t.apply(&change(6, Restored, 10, Some(1), "Docs", true, false));
        assert_eq!(paths(&t), vec!["/Docs", "/Docs/b.txt"]);
        t.apply(&change(7, Modified, 11, Some(10), "b.txt", false, false));
        assert_eq!(t.to_tree()["/docs/b.txt"].1.rev, Some(7));
        t.apply(&change(8, Deleted, 11, Some(10), "b.txt", false, true));
        assert_eq!(paths(&t), vec!["/Docs"]);
    }
}
