//! The planner: a three-way comparison, path by path, of the remote tree, the local tree
//! and the synced tree (the base both sides last agreed on).
//!
//! A side *changed* a path when its entry differs from the base (kind or content; a
//! folder has no content). Then:
//!
//! | local | remote | operation |
//! | --- | --- | --- |
//! | unchanged | unchanged | nothing |
//! | changed | unchanged | upload it, create the folder, or delete it on the server |
//! | unchanged | changed | download it, create the folder, or delete it locally |
//! | changed | changed, same result | record the agreement |
//! | deleted | edited | download: an edit wins over a delete |
//! | edited | deleted | upload as new: an edit wins over a delete |
//! | both edited | | keep both: the local file becomes a conflicted copy |
//!
//! Moves come first. An item the base knows that one side now has at another path
//! (the server says so by its node id, the disk by its file id and, for a file, the same
//! bytes or the same birth time: a file moved and edited keeps its history) while the other side still has it where it was, is moved on that other side
//! too: a renamed folder of ten thousand files is one move, not ten thousand deletes and
//! uploads. A case-only rename is a move within one key. Paths touched by a move wait
//! for the next round, when the base has followed it.
//!
//! Invariants the property test checks: repeated planning and applying converges (both
//! sides equal, nothing left to do); no content either side wrote is lost (it ends up
//! at its path or in a conflicted copy); nothing is deleted on a side that changed it.
//! Deciding never looks at clocks.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use coffer_core::wire::FileMode;
use coffer_core::{ContentHash, Name, RemotePath, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    File,
    Folder,
}

/// One path's state in one tree. `content` identifies a file's bytes (the manifest's
/// content hash); folders have none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    pub content: Option<ContentHash>,
    /// The server's revision of a file (remote and synced trees), for optimistic commits.
    pub rev: Option<i64>,
    /// The server's node id (remote and synced trees): follows moves.
    pub id: Option<i64>,
    /// The local file id, the inode (local and synced trees): follows local moves.
    pub ino: Option<u64>,
    /// When the local file was made, where the disk says (local and synced trees): an
    /// inode with the same birth time is the same file, not one that reused the number.
    pub born: Option<i64>,
    /// Executable or a symbolic link (files only): part of what a file is, like its
    /// bytes.
    pub mode: FileMode,
}

impl Entry {
    pub fn folder() -> Self {
        Self { kind: Kind::Folder, content: None, rev: None, id: None, ino: None, born: None, mode: FileMode::Regular }
    }

    pub fn file(content: ContentHash, rev: Option<i64>) -> Self {
        Self { kind: Kind::File, content: Some(content), rev, id: None, ino: None, born: None, mode: FileMode::Regular }
    }

    pub fn with_id(self, id: Option<i64>) -> Self {
        Self { id, ..self }
    }

    pub fn with_ino(self, ino: Option<u64>) -> Self {
        Self { ino, ..self }
    }

    /// The local file's id and birth time, from its stamp.
    pub fn with_stamp(self, stamp: Option<crate::sync::scan::Stamp>) -> Self {
        Self { ino: stamp.map(|s| s.inode), born: stamp.and_then(|s| s.born), ..self }
    }

    /// The very same file on disk as `other`: the same inode, made at the same moment (an
    /// inode alone may have been given to a new file after the old one was deleted).
    pub fn same_file(&self, other: &Entry) -> bool {
        self.ino.is_some() && self.ino == other.ino && self.born.is_some() && self.born == other.born
    }

    pub fn with_mode(self, mode: FileMode) -> Self {
        Self { mode, ..self }
    }

    /// Same kind, bytes and mode (revisions are bookkeeping, not content).
    pub fn same_as(&self, other: &Entry) -> bool {
        self.kind == other.kind && self.content == other.content && self.mode == other.mode
    }
}

/// A tree: paths (by their case-insensitive key, see [`key`]) to entries.
pub type Tree = BTreeMap<String, (RemotePath, Entry)>;

/// The key two paths collide under: NFC names, compared without case.
pub fn key(path: &RemotePath) -> String {
    path.names().iter().map(|n| format!("/{}", n.collision_key())).collect()
}

/// The planner's input.
#[derive(Debug, Clone, Default)]
pub struct Trees {
    pub remote: Tree,
    pub local: Tree,
    pub synced: Tree,
}

/// One step for the executor. Each names what the planner saw, so the executor can
/// refuse a step whose premise no longer holds (the file changed again meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Send the local file; `parent_rev` is the revision the edit started from.
    Upload {
        path: RemotePath,
        content: ContentHash,
        mode: FileMode,
        parent_rev: Option<i64>,
    },
    CreateRemoteFolder {
        path: RemotePath,
    },
    /// Move the server's item to the trash (a file only if still at `if_rev`).
    DeleteRemote {
        path: RemotePath,
        if_rev: Option<i64>,
    },
    /// Fetch the server's file into place.
    Download {
        path: RemotePath,
        content: ContentHash,
        mode: FileMode,
        rev: Option<i64>,
    },
    CreateLocalFolder {
        path: RemotePath,
    },
    /// Remove a local item that is unchanged since it was synced.
    DeleteLocal {
        path: RemotePath,
    },
    /// Rename the local item to `copy` (it is then uploaded as a new file by a later
    /// round), making room for the server's version at `path`.
    MoveLocalAside {
        path: RemotePath,
        copy: RemotePath,
    },
    /// Move the server's item from where the base has it to where the disk has it now.
    MoveRemote {
        from: RemotePath,
        to: RemotePath,
    },
    /// Move the local item from where the base has it to where the server has it now.
    MoveLocal {
        from: RemotePath,
        to: RemotePath,
    },
    /// A local change the server may not take (inside a shared folder this user may only
    /// read): the local item is renamed to `copy`, in the user's own space, where a later
    /// round uploads it; the server's version comes back at `path`.
    KeepAside {
        path: RemotePath,
        copy: RemotePath,
    },
    /// Both sides agree; remember it as the new base (`None`: gone on both sides).
    Record {
        path: RemotePath,
        entry: Option<Entry>,
    },
}

impl Op {
    /// The step in words, for messages ("upload /a.txt").
    pub fn describe(&self) -> String {
        match self {
            Op::Upload { path, .. } => format!("upload {path}"),
            Op::CreateRemoteFolder { path } => format!("create folder {path} on the server"),
            Op::DeleteRemote { path, .. } => format!("delete {path} on the server"),
            Op::Download { path, .. } => format!("download {path}"),
            Op::CreateLocalFolder { path } => format!("create folder {path} here"),
            Op::DeleteLocal { path } => format!("delete {path} here"),
            Op::MoveLocalAside { path, copy } => format!("keep both versions of {path} ({copy})"),
            Op::MoveRemote { from, to } => format!("move {from} to {to} on the server"),
            Op::MoveLocal { from, to } => format!("move {from} to {to} here"),
            Op::KeepAside { path, copy } => format!("keep {path} aside as {copy}"),
            Op::Record { path, .. } => format!("record {path}"),
        }
    }
}

/// "report (laptop's conflicted copy 2026-11-25).txt", numbered when taken.
pub fn conflict_copy_name(name: &Name, device: &str, date: &str, taken: &dyn Fn(&Name) -> bool) -> Name {
    let base = format!("{device}'s conflicted copy {date}");
    let mut candidate = name.with_suffix(&base);
    let mut n = 2;
    while taken(&candidate) {
        candidate = name.with_suffix(&format!("{base} {n}"));
        n += 1;
    }
    candidate
}

/// Plans one round. Parents come before children for creations, children before parents
/// for deletions, so applying the operations in order is always possible.
pub fn plan(trees: &Trees, device: &str, date: &str) -> Vec<Op> {
    let (moves, moved_keys) = moves(trees);
    let keys: BTreeSet<&String> = trees
        .remote
        .keys()
        .chain(trees.local.keys())
        .chain(trees.synced.keys())
        .filter(|k| !moved_keys.iter().any(|m| within(k, m)))
        .collect();
    let mut creates = Vec::new();
    let mut deletes = Vec::new();
    let mut asides = Vec::new();
    let taken_names: BTreeSet<String> = trees.remote.keys().chain(trees.local.keys()).cloned().collect();
    // A folder counts as changed on a side when anything below it changed there: a
    // folder deleted on one side but given new content on the other is kept.
    let dirty_below = |side: &Tree| -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let differs = side
            .iter()
            .filter(|(k, (_, e))| trees.synced.get(*k).is_none_or(|(_, b)| !e.same_as(b)))
            .map(|(k, _)| k)
            .chain(trees.synced.keys().filter(|k| !side.contains_key(*k)));
        for k in differs {
            let mut at = k.as_str();
            while let Some(i) = at.rfind('/') {
                at = &at[..i];
                if !out.insert(at.to_owned()) {
                    break;
                }
            }
        }
        out
    };
    let (local_below, remote_below) = (dirty_below(&trees.local), dirty_below(&trees.remote));
    for k in keys {
        let remote = trees.remote.get(k);
        let local = trees.local.get(k);
        let base = trees.synced.get(k);
        let path = remote.or(local).or(base).map(|(p, _)| p.clone()).unwrap_or_default();
        // The base learns an agreement under the disk's spelling: if the server spells
        // it otherwise, that then shows as the server's rename, which the disk follows.
        let spelled_here = local.or(remote).or(base).map(|(p, _)| p.clone()).unwrap_or_default();
        let changed = |side: Option<&(RemotePath, Entry)>| match (side, base) {
            (None, None) => false,
            (Some((_, e)), Some((_, b))) => !e.same_as(b),
            _ => true,
        };
        let is_folder = |side: Option<&(RemotePath, Entry)>| side.is_some_and(|(_, e)| e.kind == Kind::Folder);
        if is_folder(local) && is_folder(remote) {
            // A folder on both sides: only the base may need to learn of it (or of the
            // server's new folder standing where the one it knew was).
            // Its ids and spelling are refreshed too: if the server spells it otherwise,
            // the next round renames the disk's to match.
            let id = remote.and_then(|(_, r)| r.id);
            let ino = local.and_then(|(_, l)| l.ino);
            let stale =
                |(bp, b): &(RemotePath, Entry)| b.id != id || (ino.is_some() && b.ino != ino) || *bp != spelled_here;
            if !is_folder(base) || base.is_some_and(stale) {
                creates.push(Op::Record { path: spelled_here, entry: Some(Entry::folder().with_id(id)) });
            }
            continue;
        }
        let local_changed = changed(local) || local_below.contains(k.as_str());
        let remote_changed = changed(remote) || remote_below.contains(k.as_str());
        match (local_changed, remote_changed) {
            (false, false) => {
                // Base out of date only in bookkeeping (a new revision number of the same
                // bytes): refresh it.
                if let (Some((_, r)), Some((_, b))) = (remote, base)
                    && (r.rev != b.rev || r.id != b.id)
                {
                    creates.push(Op::Record { path: spelled_here, entry: Some(r.clone()) });
                }
            }
            (true, false) => match (local, remote) {
                // The kind changed here: the server's item goes first (after its children).
                // (The server's revision has the base's bytes: deleting it loses nothing.)
                (Some((_, l)), Some((_, r))) if l.kind != r.kind => {
                    deletes.push(Op::DeleteRemote { path, if_rev: r.rev })
                }
                // On top of the server's revision: it has the base's bytes and mode, though
                // maybe as a newer revision (edited there and back): overwriting it loses
                // nothing, and naming the base's revision would be refused forever.
                (Some((_, l)), r) => creates.push(push_local(&path, l, r.and_then(|(_, r)| r.rev))),
                (None, r) => deletes.push(Op::DeleteRemote { path, if_rev: r.and_then(|(_, r)| r.rev) }),
            },
            (false, true) => match (remote, local) {
                // The kind changed there: the local item goes first (after its children).
                (Some((_, r)), Some((_, l))) if l.kind != r.kind => deletes.push(Op::DeleteLocal { path }),
                (Some((_, r)), _) => creates.push(pull_remote(&path, r)),
                (None, _) => deletes.push(Op::DeleteLocal { path }),
            },
            (true, true) => match (local, remote) {
                (None, None) => creates.push(Op::Record { path, entry: None }),
                (Some((_, l)), Some((_, r))) if l.same_as(r) => {
                    creates.push(Op::Record { path: spelled_here, entry: Some(r.clone()) })
                }
                // Deleted here, edited there: the edit wins.
                (None, Some((_, r))) => creates.push(pull_remote(&path, r)),
                // Edited here, deleted there: the edit wins, as a new item.
                (Some((_, l)), None) => creates.push(push_local(&path, l, None)),
                (Some(_), Some(_)) => {
                    if let Some(name) = path.file_name() {
                        // Two different versions: keep both. The local one steps aside
                        // under a conflicted-copy name; the server's takes the path.
                        let parent = path.parent().unwrap_or_default();
                        let taken = |n: &Name| taken_names.contains(&key(&parent.join(n.clone())));
                        let copy = parent.join(conflict_copy_name(name, device, date, &taken));
                        asides.push(Op::MoveLocalAside { path, copy });
                    }
                }
            },
        }
    }
    // Deepest first for deletions, shallowest first for the rest.
    let depth = |op: &Op| match op {
        Op::Upload { path, .. }
        | Op::CreateRemoteFolder { path }
        | Op::DeleteRemote { path, .. }
        | Op::Download { path, .. }
        | Op::CreateLocalFolder { path }
        | Op::DeleteLocal { path }
        | Op::MoveLocalAside { path, .. }
        | Op::KeepAside { path, .. }
        | Op::Record { path, .. } => path.names().len(),
        Op::MoveRemote { from, .. } | Op::MoveLocal { from, .. } => from.names().len(),
    };
    creates.sort_by_key(depth);
    deletes.sort_by_key(|op| std::cmp::Reverse(depth(op)));
    moves.into_iter().chain(asides).chain(creates).chain(deletes).collect()
}

/// Keeps a round's operations within what the user may do in shared folders (`mounts`:
/// where each is mounted in the user's tree, and the user's role there).
///
/// Inside a folder the user may only read, nothing is sent: a local file or folder made or
/// changed there is kept aside in the user's own space (at the top of the synced folder, as
/// a conflicted copy) and the server's version comes back; a local delete there is undone
/// by fetching the item again; a local move into, out of or inside one is moved back.
/// Renaming or moving the shared folder itself (the user's own mount) stays allowed.
///
/// A shared folder deleted from the disk as a whole is never emptied on the server item by
/// item: a member leaves it (only the mount is deleted, which the server takes as leaving),
/// and its owner gets it back (they remove members to stop sharing).
pub fn fence_shared(ops: Vec<Op>, trees: &Trees, mounts: &[(RemotePath, Role)], device: &str, date: &str) -> Vec<Op> {
    if mounts.is_empty() {
        return ops;
    }
    let fenced: Vec<String> =
        mounts.iter().filter(|(_, role)| !matches!(role, Role::Editor | Role::Owner)).map(|(p, _)| key(p)).collect();
    let inside = |p: &RemotePath| {
        let k = key(p);
        fenced.iter().any(|f| k.len() > f.len() && within(&k, f))
    };
    // Mounts deleted on disk this round, and whether the user owns each.
    let gone: Vec<(String, bool)> = mounts
        .iter()
        .filter(|(p, _)| ops.iter().any(|op| matches!(op, Op::DeleteRemote { path, .. } if key(path) == key(p))))
        .map(|(p, role)| (key(p), *role == Role::Owner))
        .collect();
    let in_gone = |p: &RemotePath| {
        let k = key(p);
        gone.iter().find(|(g, _)| within(&k, g)).map(|(g, owned)| (k == *g, *owned))
    };
    let mut taken: BTreeSet<String> = trees.local.keys().chain(trees.remote.keys()).cloned().collect();
    let mut aside = |path: &RemotePath| -> Op {
        let name = path.file_name().cloned().unwrap_or_else(|| Name::new("item").expect("a valid name"));
        let copy = conflict_copy_name(&name, device, date, &|n: &Name| {
            taken.contains(&key(&RemotePath::root().join(n.clone())))
        });
        let copy = RemotePath::root().join(copy);
        taken.insert(key(&copy));
        Op::KeepAside { path: path.clone(), copy }
    };
    let restore = |path: &RemotePath| trees.remote.get(&key(path)).map(|(rp, r)| pull_remote(rp, r));
    let mut out = Vec::with_capacity(ops.len());
    let mut restored = Vec::new();
    for op in ops {
        match op {
            Op::DeleteRemote { ref path, .. } if in_gone(path).is_some() => match in_gone(path) {
                // The owner's shared folder comes back, whole.
                Some((_, true)) => restored.extend(restore(path)),
                // A member leaves: the mount goes, nothing in it.
                Some((true, false)) => out.push(op),
                _ => {}
            },
            Op::Upload { ref path, .. } | Op::CreateRemoteFolder { ref path } if inside(path) => {
                // Whatever stands inside a kept-aside folder goes with it.
                if !out.iter().any(|o: &Op| matches!(o, Op::KeepAside { path: p, .. } if within(&key(path), &key(p)))) {
                    out.push(aside(path));
                }
            }
            Op::DeleteRemote { ref path, .. } if inside(path) => restored.extend(restore(path)),
            Op::MoveRemote { ref from, ref to } if inside(from) || inside(to) => {
                out.push(Op::MoveLocal { from: to.clone(), to: from.clone() });
            }
            op => out.push(op),
        }
    }
    // Fetched again parents first (deletes came deepest first).
    restored.sort_by_key(|op| match op {
        Op::Download { path, .. } | Op::CreateLocalFolder { path } => path.names().len(),
        _ => 0,
    });
    restored.extend(out);
    restored
}

/// True when key `a` is key `b` or below it.
fn within(a: &str, b: &str) -> bool {
    a == b || (a.len() > b.len() && a.starts_with(b) && a.as_bytes()[b.len()] == b'/')
}

/// True when one key is the other or below it.
fn related(a: &str, b: &str) -> bool {
    within(a, b) || within(b, a)
}

/// True when an item is elsewhere: in another folder, or under another name (case
/// counts). A folder above it spelled differently is that folder's own rename.
fn moved(now: &RemotePath, before: &RemotePath) -> bool {
    now.parent().map(|p| key(&p)) != before.parent().map(|p| key(&p)) || now.file_name() != before.file_name()
}

/// True when a file stands where a folder above `path` would have to be.
fn under_file(tree: &Tree, path: &RemotePath) -> bool {
    std::iter::successors(path.parent(), |p| p.parent())
        .any(|p| tree.get(&key(&p)).is_some_and(|(_, e)| e.kind == Kind::File))
}

/// The moves to make this round (shallowest first, none inside another), and the keys
/// they touch (their sources and destinations), which the rest of the round leaves alone.
fn moves(trees: &Trees) -> (Vec<Op>, Vec<String>) {
    let remote_by_id: HashMap<i64, &String> =
        trees.remote.iter().filter_map(|(k, (_, e))| e.id.map(|id| (id, k))).collect();
    // Hard links share a file id: such an id says nothing about moves.
    let mut local_by_ino: HashMap<u64, Option<&String>> = HashMap::new();
    for (k, (_, e)) in &trees.local {
        if let Some(ino) = e.ino {
            local_by_ino.entry(ino).and_modify(|v| *v = None).or_insert(Some(k));
        }
    }
    let mut candidates = Vec::new();
    for (bk, (bp, b)) in &trees.synced {
        // Moved on the server: the same node elsewhere, while the disk still has the item
        // where it was (the same file, if its id is known) and nothing where it went.
        if let Some(rk) = b.id.and_then(|id| remote_by_id.get(&id))
            && let Some((rp, r)) = trees.remote.get(*rk)
            && moved(rp, bp)
            && r.kind == b.kind
            && let Some((_, l)) = trees.local.get(bk)
            && l.kind == b.kind
            // (A case-only rename: the item at the key is the one renamed, whatever its
            // file id; some disks give a file a new one when it is renamed.)
            && (l.ino.is_none() || b.ino.is_none() || l.ino == b.ino || *rk == bk)
            && (*rk == bk || !trees.local.contains_key(*rk))
            && !under_file(&trees.local, rp)
        {
            candidates.push((bp.names().len(), bk, *rk, Op::MoveLocal { from: bp.clone(), to: rp.clone() }));
            continue;
        }
        // Moved on disk: the same file id elsewhere (a file with the same bytes), or a
        // case-only rename; the server still has it where it was and nothing where it went.
        // (A case-only rename with the same bytes is one whatever the file id: some disks
        // give a renamed file a new one.)
        let moved_here = b.ino.and_then(|ino| local_by_ino.get(&ino).copied().flatten()).or_else(|| {
            trees.local.get_key_value(bk).filter(|(_, (lp, l))| moved(lp, bp) && l.same_as(b)).map(|(k, _)| k)
        });
        if let Some(lk) = moved_here
            && let Some((lp, l)) = trees.local.get(lk)
            && moved(lp, bp)
            && l.kind == b.kind
            // A file moved and edited is still the same file (its history follows it);
            // without a birth time to tell, only the same bytes say so.
            && (l.kind == Kind::Folder || l.content == b.content || l.same_file(b))
            && let Some((rp, r)) = trees.remote.get(bk)
            && !moved(rp, bp)
            && r.kind == b.kind
            && (b.id.is_none() || r.id == b.id)
            && (lk == bk || !trees.remote.contains_key(lk))
            && !under_file(&trees.remote, lp)
        {
            candidates.push((bp.names().len(), bk, lk, Op::MoveRemote { from: bp.clone(), to: lp.clone() }));
            continue;
        }
        // A file moved on one side and deleted on the other, unchanged: a move is not an
        // edit, so the delete wins (where the file is now).
        if b.kind == Kind::File && !trees.local.contains_key(bk) && moved_here.is_none() {
            if let Some(rk) = b.id.and_then(|id| remote_by_id.get(&id))
                && let Some((rp, r)) = trees.remote.get(*rk)
                && moved(rp, bp)
                && r.same_as(b)
                && !trees.local.contains_key(*rk)
                && !trees.synced.contains_key(*rk)
            {
                candidates.push((bp.names().len(), bk, *rk, Op::DeleteRemote { path: rp.clone(), if_rev: r.rev }));
            }
        } else if b.kind == Kind::File
            && !trees.remote.contains_key(bk)
            && b.id.is_some_and(|id| !remote_by_id.contains_key(&id))
            && let Some(lk) = moved_here
            && let Some((lp, l)) = trees.local.get(lk)
            && moved(lp, bp)
            && l.same_as(b)
            && !trees.remote.contains_key(lk)
            && !trees.synced.contains_key(lk)
        {
            candidates.push((bp.names().len(), bk, lk, Op::DeleteLocal { path: lp.clone() }));
        }
    }
    // Shallowest first, and of one depth folders before files: a folder renamed while a
    // file was moved into it goes as one move, and the file follows next round (were the
    // file first, it would make the folder's new name exist and split the folder's move
    // into one move per item).
    candidates.sort_by_key(|(depth, _, _, op)| (*depth, !moves_folder(trees, op)));
    let mut ops = Vec::new();
    let mut accepted: Vec<&String> = Vec::new();
    let mut touched: Vec<String> = Vec::new();
    for (_, from, to, op) in candidates {
        // Into what stands where the item was (or out of it): left to the paths.
        if from != to && related(from, to) {
            continue;
        }
        // A move inside another one waits for the next round (the paths too).
        touched.push(from.clone());
        touched.push(to.clone());
        if accepted.iter().any(|t| related(from, t) || related(to, t)) {
            continue;
        }
        accepted.push(from);
        accepted.push(to);
        ops.push(op);
    }
    (ops, touched)
}

/// Whether a move candidate carries a folder.
fn moves_folder(trees: &Trees, op: &Op) -> bool {
    match op {
        Op::MoveLocal { from, .. } | Op::MoveRemote { from, .. } => {
            trees.synced.get(&key(from)).is_some_and(|(_, e)| e.kind == Kind::Folder)
        }
        _ => false,
    }
}

fn push_local(path: &RemotePath, local: &Entry, parent_rev: Option<i64>) -> Op {
    match (local.kind, local.content) {
        (Kind::File, Some(content)) => Op::Upload { path: path.clone(), content, mode: local.mode, parent_rev },
        _ => Op::CreateRemoteFolder { path: path.clone() },
    }
}

fn pull_remote(path: &RemotePath, remote: &Entry) -> Op {
    match (remote.kind, remote.content) {
        (Kind::File, Some(content)) => Op::Download { path: path.clone(), content, mode: remote.mode, rev: remote.rev },
        _ => Op::CreateLocalFolder { path: path.clone() },
    }
}

#[cfg(test)]
mod tests;
