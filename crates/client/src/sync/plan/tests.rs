//! The planner against a model of the disk and the server: random trees, random
//! independent edits on both sides, then plan-and-apply rounds until nothing is left
//! to do. Thousands of seeds run in every test run; a failure prints its seed.
//!
//! Replay one seed: `COFFER_PLAN_SEED=1234 cargo test -p coffer-client plan_converges`.
//! More seeds: `COFFER_PLAN_SEEDS=100000 cargo test -p coffer-client plan_converges`.

use std::collections::BTreeSet;

use coffer_core::testing::Rng;
use coffer_core::{ContentHash, Name, RemotePath};

use super::*;

fn content(n: u64) -> ContentHash {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_le_bytes());
    ContentHash(b)
}

const NAMES: &[&str] = &["a", "B", "b", "c.txt", "C.TXT", "D.txt", "e", "notes.md"];

fn path_of(names: &[&str]) -> RemotePath {
    RemotePath::parse(&names.join("/")).expect("valid test path")
}

fn insert(tree: &mut Tree, path: &RemotePath, e: Entry) {
    tree.insert(key(path), (path.clone(), e));
}

fn folders(tree: &Tree) -> Vec<RemotePath> {
    let mut out = vec![RemotePath::root()];
    out.extend(tree.values().filter(|(_, e)| e.kind == Kind::Folder).map(|(p, _)| p.clone()));
    out
}

fn remove_subtree(tree: &mut Tree, path: &RemotePath) {
    let k = key(path);
    tree.retain(|other, _| other != &k && !other.starts_with(&format!("{k}/")));
}

/// True when some ancestor of `path` is a file (nothing can be created there).
fn under_a_file(tree: &Tree, path: &RemotePath) -> bool {
    let mut p = path.parent();
    while let Some(parent) = p {
        if tree.get(&key(&parent)).is_some_and(|(_, e)| e.kind == Kind::File) {
            return true;
        }
        p = parent.parent();
    }
    false
}

/// Creates missing parent folders, each a new item (`uid` numbers them).
fn ensure_parents(tree: &mut Tree, path: &RemotePath, uid: &mut u64) {
    let mut p = path.parent();
    while let Some(parent) = p {
        if parent.is_root() {
            break;
        }
        if !tree.contains_key(&key(&parent)) {
            *uid += 1;
            insert(tree, &parent, Entry::folder().with_id(Some(*uid as i64)).with_ino(Some(*uid)));
        }
        p = parent.parent();
    }
}

/// Moves `from` and everything below it to `to`, entries unchanged (ids follow).
fn move_subtree(tree: &mut Tree, from: &RemotePath, to: &RemotePath) {
    let prefix = key(from);
    let below = format!("{prefix}/");
    let moving: Vec<(String, (RemotePath, Entry))> = tree
        .iter()
        .filter(|(k, _)| **k == prefix || k.starts_with(&below))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, _) in &moving {
        tree.remove(k);
    }
    for (_, (p, e)) in moving {
        let np = p.names()[from.names().len()..].iter().fold(to.clone(), |np, n| np.join(n.clone()));
        insert(tree, &np, e);
    }
}

/// True when `path` is `folder` or below it.
fn within(path: &RemotePath, folder: &RemotePath) -> bool {
    let (p, f) = (key(path), key(folder));
    p == f || p.starts_with(&format!("{f}/"))
}

/// A new item's ids: a node id where the server made it, a file id where a disk did.
fn fresh(e: Entry, uid: &mut u64) -> Entry {
    *uid += 1;
    let born = Some(*uid as i64);
    Entry { born, ..e.with_id(Some(*uid as i64)).with_ino(Some(*uid)) }
}

/// One random edit of a tree: create, overwrite, delete, rename or move.
fn edit(tree: &mut Tree, rng: &mut Rng, next_content: &mut u64) {
    let existing: Vec<RemotePath> = tree.values().map(|(p, _)| p.clone()).collect();
    match rng.below(7) {
        5 | 6 if !existing.is_empty() => {
            // Rename or move an item (a folder with everything in it).
            let from = existing[rng.below(existing.len())].clone();
            let dirs: Vec<RemotePath> = folders(tree).into_iter().filter(|d| !within(d, &from)).collect();
            let dir =
                if rng.below(2) == 0 { from.parent().unwrap_or_default() } else { dirs[rng.below(dirs.len())].clone() };
            let name = Name::new(NAMES[rng.below(NAMES.len())]).expect("name");
            let to = dir.join(name);
            let case_only = key(&to) == key(&from) && to != from;
            if (tree.contains_key(&key(&to)) && !case_only) || to.names().len() > 3 || within(&to, &from) && !case_only
            {
                return;
            }
            move_subtree(tree, &from, &to);
        }
        0 | 1 => {
            // Create or overwrite a file in some folder.
            let dirs = folders(tree);
            let dir = dirs[rng.below(dirs.len())].clone();
            let name = Name::new(NAMES[rng.below(NAMES.len())]).expect("name");
            let path = dir.join(name);
            if tree.get(&key(&path)).is_some_and(|(_, e)| e.kind == Kind::Folder) {
                return;
            }
            *next_content += 1;
            // Now and then an executable, or a symbolic link, or the same bytes with
            // another mode: the mode is part of what a file is.
            let mode = [FileMode::Regular, FileMode::Regular, FileMode::Executable, FileMode::Symlink][rng.below(4)];
            let same = tree.get(&key(&path)).and_then(|(_, e)| e.content).filter(|_| rng.below(3) == 0);
            let e = fresh(Entry::file(same.unwrap_or(content(*next_content)), None).with_mode(mode), next_content);
            insert(tree, &path, e);
        }
        2 => {
            let dirs = folders(tree);
            let dir = dirs[rng.below(dirs.len())].clone();
            let path = dir.join(Name::new(NAMES[rng.below(NAMES.len())]).expect("name"));
            if !tree.contains_key(&key(&path)) && path.names().len() <= 3 {
                let e = fresh(Entry::folder(), next_content);
                insert(tree, &path, e);
            }
        }
        3 if !existing.is_empty() => {
            let p = existing[rng.below(existing.len())].clone();
            remove_subtree(tree, &p);
        }
        _ if !existing.is_empty() => {
            // Modify an existing file.
            let files: Vec<RemotePath> =
                tree.values().filter(|(_, e)| e.kind == Kind::File).map(|(p, _)| p.clone()).collect();
            if let Some(p) = files.get(rng.below(files.len().max(1))).cloned() {
                *next_content += 1;
                let old = tree[&key(&p)].1.clone();
                // Written in place (same ids) or saved as a new file over the old one.
                let e = if rng.below(2) == 0 {
                    Entry {
                        born: old.born,
                        ..Entry::file(content(*next_content), None).with_id(old.id).with_ino(old.ino)
                    }
                } else {
                    fresh(Entry::file(content(*next_content), None), next_content)
                };
                insert(tree, &p, e);
            }
        }
        _ => {}
    }
}

struct World {
    trees: Trees,
    next_rev: i64,
    next_uid: u64,
}

/// Moves an item on one side (refused, as by a real disk or server, when the source is
/// gone, the destination taken, or the destination inside the source) and the base
/// follows.
fn apply_move(side: &mut Tree, synced: &mut Tree, from: &RemotePath, to: &RemotePath, uid: &mut u64) {
    let case_only = key(from) == key(to);
    if !side.contains_key(&key(from))
        || (side.contains_key(&key(to)) && !case_only)
        || (within(to, from) && !case_only)
        || under_a_file(side, to)
    {
        return;
    }
    move_subtree(side, from, to);
    ensure_parents(side, to, uid);
    move_subtree(synced, from, to);
}

impl World {
    /// Applies one operation as the executor and the server would; an operation whose
    /// premise no longer holds is refused and left for the next round.
    fn apply(&mut self, op: &Op) {
        let t = &mut self.trees;
        match op {
            Op::Upload { path, content, mode, parent_rev } => {
                let current = t.remote.get(&key(path)).map(|(_, e)| e.clone());
                match &current {
                    Some(e) if e.kind == Kind::Folder => return,
                    Some(e) if e.rev != *parent_rev => return, // conflict: re-plan
                    None if parent_rev.is_some() => {}         // edit wins over delete
                    _ => {}
                }
                // The server creates missing parents; a file in the way refuses.
                let mut p = path.parent();
                while let Some(parent) = p {
                    if t.remote.get(&key(&parent)).is_some_and(|(_, e)| e.kind == Kind::File) {
                        return;
                    }
                    p = parent.parent();
                }
                ensure_parents(&mut t.remote, path, &mut self.next_uid);
                self.next_rev += 1;
                let id = current.and_then(|e| e.id).unwrap_or_else(|| {
                    self.next_uid += 1;
                    self.next_uid as i64
                });
                let e = Entry::file(*content, Some(self.next_rev)).with_id(Some(id)).with_mode(*mode);
                insert(&mut t.remote, path, e.clone());
                let here = t.local.get(&key(path)).map(|(_, l)| l.clone());
                let (ino, born) = here.map_or((None, None), |l| (l.ino, l.born));
                insert(&mut t.synced, path, Entry { born, ..e.with_ino(ino) });
            }
            Op::CreateRemoteFolder { path } => {
                if t.remote.contains_key(&key(path)) || under_a_file(&t.remote, path) {
                    return;
                }
                ensure_parents(&mut t.remote, path, &mut self.next_uid);
                let e = fresh(Entry::folder(), &mut self.next_uid);
                insert(&mut t.remote, path, e.clone());
                let here = t.local.get(&key(path)).map(|(_, l)| l.clone());
                let (ino, born) = here.map_or((None, None), |l| (l.ino, l.born));
                insert(&mut t.synced, path, Entry { born, ..e.with_ino(ino) });
            }
            Op::DeleteRemote { path, .. } => {
                remove_subtree(&mut t.remote, path);
                t.synced.remove(&key(path));
            }
            Op::Download { path, content, mode, rev } => {
                if t.local.get(&key(path)).is_some_and(|(_, e)| e.kind == Kind::Folder) {
                    return;
                }
                // Re-check: the local file must still be what the base says (or absent).
                let local = t.local.get(&key(path)).map(|(_, e)| e.clone());
                let base = t.synced.get(&key(path)).map(|(_, e)| e.clone());
                if let Some(l) = &local
                    && !base.as_ref().is_some_and(|b| b.same_as(l))
                {
                    return;
                }
                let mut p = path.parent();
                while let Some(parent) = p {
                    if t.local.get(&key(&parent)).is_some_and(|(_, e)| e.kind == Kind::File) {
                        return;
                    }
                    p = parent.parent();
                }
                ensure_parents(&mut t.local, path, &mut self.next_uid);
                let e = fresh(Entry::file(*content, *rev).with_mode(*mode), &mut self.next_uid);
                insert(&mut t.local, path, e.clone());
                let id = t.remote.get(&key(path)).and_then(|(_, r)| r.id);
                insert(&mut t.synced, path, e.with_id(id));
            }
            Op::CreateLocalFolder { path } => {
                if t.local.contains_key(&key(path)) || under_a_file(&t.local, path) {
                    return;
                }
                ensure_parents(&mut t.local, path, &mut self.next_uid);
                let e = fresh(Entry::folder(), &mut self.next_uid);
                insert(&mut t.local, path, e.clone());
                let id = t.remote.get(&key(path)).and_then(|(_, r)| r.id);
                insert(&mut t.synced, path, e.with_id(id));
            }
            Op::DeleteLocal { path } => {
                let k = key(path);
                // Never delete what is not synced: the item must equal the base (here, or
                // where it was moved from), and a folder must be empty (its children were
                // handled first).
                let Some((_, l)) = t.local.get(&k) else {
                    t.synced.remove(&k);
                    return;
                };
                let synced = match t.synced.get(&k) {
                    Some((_, b)) => l.same_as(b),
                    None => t.synced.values().any(|(_, b)| b.ino.is_some() && b.ino == l.ino && b.same_as(l)),
                };
                if !synced || t.local.keys().any(|o| o.starts_with(&format!("{k}/"))) {
                    return;
                }
                t.local.remove(&k);
                t.synced.remove(&k);
            }
            Op::MoveLocalAside { path, copy } | Op::KeepAside { path, copy } => {
                if t.local.contains_key(&key(path)) && !t.local.contains_key(&key(copy)) {
                    move_subtree(&mut t.local, path, copy);
                    // The copy is a new item, not the synced one moved: the base forgets
                    // which file it was.
                    if let Some((_, b)) = t.synced.get_mut(&key(path)) {
                        (b.ino, b.born) = (None, None);
                    }
                }
            }
            Op::MoveRemote { from, to } => apply_move(&mut t.remote, &mut t.synced, from, to, &mut self.next_uid),
            Op::MoveLocal { from, to } => apply_move(&mut t.local, &mut t.synced, from, to, &mut self.next_uid),
            Op::Record { path, entry } => match entry {
                Some(e) => {
                    let k = key(path);
                    let id = e.id.or_else(|| t.remote.get(&k).and_then(|(_, r)| r.id));
                    let here = t.local.get(&k).map(|(_, l)| (l.ino, l.born));
                    let (ino, born) = if e.ino.is_some() { (e.ino, e.born) } else { here.unwrap_or_default() };
                    insert(&mut t.synced, path, Entry { born, ..e.clone().with_id(id).with_ino(ino) });
                }
                None => {
                    t.synced.remove(&key(path));
                }
            },
        }
    }
}

fn contents(tree: &Tree) -> BTreeSet<ContentHash> {
    tree.values().filter_map(|(_, e)| e.content).collect()
}

fn shape(tree: &Tree) -> Vec<(String, Kind, Option<ContentHash>)> {
    tree.iter().map(|(k, (_, e))| (k.clone(), e.kind, e.content)).collect()
}

/// Runs one seed; returns how many moves it made.
fn run(seed: u64) -> usize {
    let mut rng = Rng::new(seed);
    let mut next_content = 0;
    // A synced starting point.
    let mut start = Tree::new();
    for _ in 0..rng.below(12) {
        edit(&mut start, &mut rng, &mut next_content);
    }
    let mut rev = 0;
    for (_, e) in start.values_mut() {
        if e.kind == Kind::File {
            rev += 1;
            e.rev = Some(rev);
        }
    }
    let mut world = World {
        trees: Trees { remote: start.clone(), local: start.clone(), synced: start.clone() },
        next_rev: 1000,
        next_uid: 1_000_000,
    };
    for (_, e) in world.trees.local.values_mut() {
        e.rev = None;
        e.id = None;
    }
    for (_, e) in world.trees.remote.values_mut() {
        e.ino = None;
    }
    // Independent offline edits on both sides.
    for _ in 0..rng.below(6) {
        edit(&mut world.trees.local, &mut rng, &mut next_content);
        for (_, e) in world.trees.local.values_mut() {
            e.id = None;
        }
    }
    for _ in 0..rng.below(6) {
        edit(&mut world.trees.remote, &mut rng, &mut next_content);
        for (_, e) in world.trees.remote.values_mut() {
            e.ino = None;
            if e.kind == Kind::File && e.rev.is_none() {
                world.next_rev += 1;
                e.rev = Some(world.next_rev);
            }
        }
    }
    let start_contents = contents(&start);
    // Files one side deleted and the other left alone must stay deleted.
    let stay_deleted: Vec<String> = start
        .iter()
        .filter(|(_, (_, e))| e.kind == Kind::File)
        .filter(|(k, (_, e))| {
            let (l, r) = (world.trees.local.get(*k), world.trees.remote.get(*k));
            (l.is_none() && r.is_some_and(|(_, r)| r.same_as(e)))
                || (r.is_none() && l.is_some_and(|(_, l)| l.same_as(e)))
        })
        .map(|(k, _)| k.clone())
        .collect();
    let must_survive: BTreeSet<ContentHash> = contents(&world.trees.local)
        .union(&contents(&world.trees.remote))
        .filter(|c| !start_contents.contains(c))
        .copied()
        .collect();

    let mut rounds = 0;
    let mut moves = 0;
    loop {
        let ops = plan(&world.trees, "laptop", "2026-11-25");
        if ops.is_empty() {
            break;
        }
        rounds += 1;
        if std::env::var("COFFER_PLAN_DEBUG").is_ok() {
            eprintln!(
                "round {rounds}\n local  {:?}\n remote {:?}\n synced {:?}\n ops {ops:?}",
                shape(&world.trees.local),
                shape(&world.trees.remote),
                shape(&world.trees.synced)
            );
        }
        assert!(rounds <= 12, "seed {seed}: no convergence after 12 rounds; last plan: {ops:?}");
        for op in &ops {
            moves += usize::from(matches!(op, Op::MoveLocal { .. } | Op::MoveRemote { .. }));
            world.apply(op);
        }
    }
    let t = &world.trees;
    assert_eq!(shape(&t.local), shape(&t.remote), "seed {seed}: the two sides differ");
    assert_eq!(shape(&t.synced), shape(&t.remote), "seed {seed}: the base differs from both sides");
    for k in &stay_deleted {
        assert!(
            t.remote.get(k).is_none_or(|(_, e)| e.kind == Kind::Folder),
            "seed {seed}: {k} was deleted on one side, untouched on the other, and came back"
        );
    }
    let finals = contents(&t.remote);
    for c in must_survive {
        assert!(finals.contains(&c), "seed {seed}: content {c:?} written offline was lost");
    }
    moves
}

#[test]
fn plan_converges_without_losing_writes() {
    if let Ok(seed) = std::env::var("COFFER_PLAN_SEED") {
        run(seed.parse().expect("COFFER_PLAN_SEED is a number"));
        return;
    }
    let seeds: u64 = std::env::var("COFFER_PLAN_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5000);
    let moves: usize = (0..seeds).map(run).sum();
    assert!(moves as u64 > seeds / 10, "only {moves} moves in {seeds} seeds: the model hardly moves anything");
}

#[test]
fn renames_and_moves_are_sent_as_moves() {
    let (docs, papers, lower) = (path_of(&["Docs"]), path_of(&["Papers"]), path_of(&["docs"]));
    let (a, pa) = (path_of(&["Docs", "a.txt"]), path_of(&["Papers", "a.txt"]));
    let folder = Entry::folder().with_id(Some(1)).with_ino(Some(11));
    let file = Entry::file(content(1), Some(5)).with_id(Some(2)).with_ino(Some(12));
    let mut base = Tree::new();
    insert(&mut base, &docs, folder.clone());
    insert(&mut base, &a, file.clone());
    let on_disk = |tree: &Tree| -> Tree {
        tree.iter().map(|(k, (p, e))| (k.clone(), (p.clone(), e.clone().with_id(None)))).collect()
    };
    let on_server = |tree: &Tree| -> Tree {
        tree.iter().map(|(k, (p, e))| (k.clone(), (p.clone(), e.clone().with_ino(None)))).collect()
    };
    let mut moved = Tree::new();
    insert(&mut moved, &papers, folder.clone());
    insert(&mut moved, &pa, file.clone());

    // A folder renamed on disk: one server move, nothing for the files inside.
    let trees = Trees { remote: on_server(&base), local: on_disk(&moved), synced: base.clone() };
    assert_eq!(plan(&trees, "laptop", "2026-11-25"), vec![Op::MoveRemote { from: docs.clone(), to: papers.clone() }]);
    // Renamed on the server: one local move.
    let trees = Trees { remote: on_server(&moved), local: on_disk(&base), synced: base.clone() };
    assert_eq!(plan(&trees, "laptop", "2026-11-25"), vec![Op::MoveLocal { from: docs.clone(), to: papers.clone() }]);
    // A case-only rename is a move too, either way.
    let mut recased = Tree::new();
    insert(&mut recased, &lower, folder.clone());
    insert(&mut recased, &path_of(&["docs", "a.txt"]), file.clone());
    let trees = Trees { remote: on_server(&base), local: on_disk(&recased), synced: base.clone() };
    assert_eq!(plan(&trees, "laptop", "2026-11-25"), vec![Op::MoveRemote { from: docs.clone(), to: lower.clone() }]);
    let trees = Trees { remote: on_server(&recased), local: on_disk(&base), synced: base.clone() };
    assert_eq!(plan(&trees, "laptop", "2026-11-25"), vec![Op::MoveLocal { from: docs.clone(), to: lower }]);
    // A file id reused for other bytes is not a move: the new file is uploaded and the
    // old one deleted on the server.
    let mut other = Tree::new();
    insert(&mut other, &docs, folder);
    insert(&mut other, &path_of(&["Docs", "b.txt"]), Entry::file(content(2), None).with_ino(Some(12)));
    let trees = Trees { remote: on_server(&base), local: on_disk(&other), synced: base };
    let ops = plan(&trees, "laptop", "2026-11-25");
    assert!(ops.iter().all(|op| !matches!(op, Op::MoveRemote { .. } | Op::MoveLocal { .. })), "{ops:?}");
    assert!(ops.contains(&Op::DeleteRemote { path: a, if_rev: Some(5) }), "{ops:?}");
}

#[test]
fn a_folder_renamed_while_a_file_moves_into_it_goes_as_one_move() {
    // "/Renamed" sorts after "/mine.txt": the file's move must not go first, or the
    // folder's new name would exist on the server and its move split into one per item
    // (which, for a shared folder's mount, would carry its items out of it).
    let (old, new) = (path_of(&["Renamed"]), path_of(&["Again"]));
    let (a, na) = (path_of(&["Renamed", "a.txt"]), path_of(&["Again", "a.txt"]));
    let (mine, nmine) = (path_of(&["mine.txt"]), path_of(&["Again", "mine.txt"]));
    let folder = Entry::folder().with_id(Some(1)).with_ino(Some(11));
    let file_a = Entry::file(content(1), Some(5)).with_id(Some(2)).with_ino(Some(12));
    let file_m = Entry::file(content(2), Some(6)).with_id(Some(3)).with_ino(Some(13));
    let mut base = Tree::new();
    insert(&mut base, &old, folder.clone());
    insert(&mut base, &a, file_a.clone());
    insert(&mut base, &mine, file_m.clone());
    let mut local = Tree::new();
    insert(&mut local, &new, folder.clone().with_id(None));
    insert(&mut local, &na, file_a.clone().with_id(None));
    insert(&mut local, &nmine, file_m.clone().with_id(None));
    let remote: Tree = base.iter().map(|(k, (p, e))| (k.clone(), (p.clone(), e.clone().with_ino(None)))).collect();
    let trees = Trees { remote, local, synced: base };
    assert_eq!(plan(&trees, "laptop", "2026-12-01"), vec![Op::MoveRemote { from: old, to: new }]);
}

#[test]
fn a_file_moved_and_edited_is_a_move_when_it_is_the_same_file() {
    let (from, to) = (path_of(&["Drafts", "plan.txt"]), path_of(&["plan-final.txt"]));
    let drafts = Entry::folder().with_id(Some(1)).with_ino(Some(11));
    let before = Entry { born: Some(500), ..Entry::file(content(1), Some(5)).with_id(Some(2)).with_ino(Some(12)) };
    let trees_with = |now: Entry| {
        let mut t = Trees::default();
        insert(&mut t.synced, &path_of(&["Drafts"]), drafts.clone());
        insert(&mut t.synced, &from, before.clone());
        insert(&mut t.local, &path_of(&["Drafts"]), drafts.clone().with_id(None));
        insert(&mut t.local, &to, now);
        t.remote = t.synced.iter().map(|(k, (p, e))| (k.clone(), (p.clone(), e.clone().with_ino(None)))).collect();
        t
    };
    // The same inode, made at the same moment, other bytes: moved (its history follows),
    // and uploaded as its next version in the following round.
    let edited = Entry { born: Some(500), ..Entry::file(content(2), None).with_ino(Some(12)) };
    let ops = plan(&trees_with(edited), "laptop", "2026-12-07");
    assert_eq!(ops, vec![Op::MoveRemote { from: from.clone(), to: to.clone() }]);
    // The inode number reused by a new file (another birth time): not the same file, so
    // the old one is deleted and the new one uploaded.
    let reused = Entry { born: Some(900), ..Entry::file(content(2), None).with_ino(Some(12)) };
    let ops = plan(&trees_with(reused), "laptop", "2026-12-07");
    assert!(!ops.iter().any(|op| matches!(op, Op::MoveRemote { .. })), "{ops:?}");
    assert!(ops.contains(&Op::DeleteRemote { path: from.clone(), if_rev: Some(5) }), "{ops:?}");
    // No birth time to tell (a disk that keeps none): only the same bytes make a move.
    let unknown = Entry::file(content(2), None).with_ino(Some(12));
    let ops = plan(&trees_with(unknown), "laptop", "2026-12-07");
    assert!(!ops.iter().any(|op| matches!(op, Op::MoveRemote { .. })), "{ops:?}");
}

#[test]
fn both_edited_keeps_both_and_edit_wins_over_delete() {
    let p = path_of(&["doc.txt"]);
    let base = Entry::file(content(1), Some(1));
    let mut trees = Trees::default();
    insert(&mut trees.synced, &p, base.clone());
    insert(&mut trees.local, &p, Entry::file(content(2), None));
    insert(&mut trees.remote, &p, Entry::file(content(3), Some(2)));
    let ops = plan(&trees, "laptop", "2026-11-25");
    assert_eq!(
        ops,
        vec![Op::MoveLocalAside { path: p.clone(), copy: path_of(&["doc (laptop's conflicted copy 2026-11-25).txt"]) }]
    );
    // Deleted remotely, edited locally: uploaded as a new file.
    trees.remote.clear();
    let ops = plan(&trees, "laptop", "2026-11-25");
    assert_eq!(
        ops,
        vec![Op::Upload { path: p.clone(), content: content(2), mode: FileMode::Regular, parent_rev: None }]
    );
    // Deleted locally, edited remotely: downloaded.
    trees.local.clear();
    insert(&mut trees.remote, &p, Entry::file(content(3), Some(2)));
    let ops = plan(&trees, "laptop", "2026-11-25");
    assert_eq!(ops, vec![Op::Download { path: p, content: content(3), mode: FileMode::Regular, rev: Some(2) }]);
}

#[test]
fn a_delete_wins_over_a_move() {
    let (a, b) = (path_of(&["a.txt"]), path_of(&["b.txt"]));
    let file = Entry::file(content(1), Some(5)).with_id(Some(2)).with_ino(Some(12));
    let mut base = Tree::new();
    insert(&mut base, &a, file.clone());
    // Renamed on the server, deleted here: trashed where it is now, at the revision seen.
    let mut remote = Tree::new();
    insert(&mut remote, &b, file.clone().with_ino(None));
    let trees = Trees { remote, local: Tree::new(), synced: base.clone() };
    assert_eq!(plan(&trees, "laptop", "2026-11-25"), vec![Op::DeleteRemote { path: b.clone(), if_rev: Some(5) }]);
    // Renamed here, deleted on the server: deleted here.
    let mut local = Tree::new();
    insert(&mut local, &b, file.clone().with_id(None));
    let trees = Trees { remote: Tree::new(), local, synced: base.clone() };
    assert_eq!(plan(&trees, "laptop", "2026-11-25"), vec![Op::DeleteLocal { path: b.clone() }]);
    // Renamed and edited here, deleted on the server: the edit wins, uploaded anew.
    let mut local = Tree::new();
    insert(&mut local, &b, Entry::file(content(2), None).with_ino(Some(12)));
    let trees = Trees { remote: Tree::new(), local, synced: base };
    let ops = plan(&trees, "laptop", "2026-11-25");
    assert!(
        ops.contains(&Op::Upload { path: b, content: content(2), mode: FileMode::Regular, parent_rev: None }),
        "{ops:?}"
    );
}

#[test]
fn nothing_is_sent_into_a_read_only_shared_folder() {
    let mount = path_of(&["Team"]);
    let (edited, new_file, gone, moved_in) = (
        path_of(&["Team", "plan.txt"]),
        path_of(&["Team", "new.txt"]),
        path_of(&["Team", "old.txt"]),
        path_of(&["Team", "mine.txt"]),
    );
    let folder = Entry::folder().with_id(Some(1)).with_ino(Some(11));
    let plan_v1 = Entry::file(content(1), Some(5)).with_id(Some(2)).with_ino(Some(12));
    let old = Entry::file(content(3), Some(6)).with_id(Some(3)).with_ino(Some(13));
    let mine = Entry::file(content(4), Some(7)).with_id(Some(4)).with_ino(Some(14));
    let mut base = Tree::new();
    insert(&mut base, &mount, folder.clone());
    insert(&mut base, &edited, plan_v1.clone());
    insert(&mut base, &gone, old.clone());
    insert(&mut base, &path_of(&["mine.txt"]), mine.clone());
    let remote: Tree = base.iter().map(|(k, (p, e))| (k.clone(), (p.clone(), e.clone().with_ino(None)))).collect();
    // On disk: plan.txt edited, new.txt made, old.txt deleted, mine.txt moved in.
    let mut local = Tree::new();
    insert(&mut local, &mount, folder.clone().with_id(None));
    insert(&mut local, &edited, Entry::file(content(2), None).with_ino(Some(12)));
    insert(&mut local, &new_file, Entry::file(content(9), None).with_ino(Some(19)));
    insert(&mut local, &moved_in, mine.clone().with_id(None));
    let trees = Trees { remote, local, synced: base };
    let ops = fence_shared(
        plan(&trees, "carol", "2026-12-01"),
        &trees,
        &[(mount.clone(), Role::Viewer)],
        "carol",
        "2026-12-01",
    );
    // Nothing goes to the server inside the folder...
    for op in &ops {
        match op {
            Op::Upload { path, .. } | Op::CreateRemoteFolder { path } | Op::DeleteRemote { path, .. } => {
                assert!(!path.to_string().starts_with("/Team/"), "{op:?} in {ops:?}")
            }
            Op::MoveRemote { from, to } => {
                assert!(!from.to_string().starts_with("/Team/") && !to.to_string().starts_with("/Team/"), "{ops:?}")
            }
            _ => {}
        }
    }
    // ...edits and new files are kept aside in the user's own space, the delete is undone
    // and the move is moved back.
    let copy = |name: &str| path_of(&[name]);
    assert!(ops.contains(&Op::KeepAside { path: edited, copy: copy("plan (carol's conflicted copy 2026-12-01).txt") }));
    assert!(
        ops.contains(&Op::KeepAside { path: new_file, copy: copy("new (carol's conflicted copy 2026-12-01).txt") })
    );
    assert!(
        ops.contains(&Op::Download { path: gone, content: content(3), mode: FileMode::Regular, rev: Some(6) }),
        "{ops:?}"
    );
    assert!(ops.contains(&Op::MoveLocal { from: moved_in, to: path_of(&["mine.txt"]) }), "{ops:?}");
    // Renaming the shared folder itself (the user's own mount) still goes through.
    let mut renamed = trees.local.clone();
    renamed.clear();
    insert(&mut renamed, &path_of(&["From Alice"]), folder.with_id(None));
    let trees = Trees { local: renamed, ..trees };
    let ops = fence_shared(
        plan(&trees, "carol", "2026-12-01"),
        &trees,
        &[(mount.clone(), Role::Viewer)],
        "carol",
        "2026-12-01",
    );
    assert!(ops.iter().any(|op| matches!(op, Op::MoveRemote { from, .. } if *from == mount)), "{ops:?}");
}

#[test]
fn a_shared_folder_deleted_on_disk_is_left_or_comes_back_never_emptied() {
    let mount = path_of(&["Team"]);
    let (a, sub, b) = (path_of(&["Team", "a.txt"]), path_of(&["Team", "sub"]), path_of(&["Team", "sub", "b.txt"]));
    let mut base = Tree::new();
    insert(&mut base, &mount, Entry::folder().with_id(Some(1)).with_ino(Some(11)));
    insert(&mut base, &a, Entry::file(content(1), Some(5)).with_id(Some(2)).with_ino(Some(12)));
    insert(&mut base, &sub, Entry::folder().with_id(Some(3)).with_ino(Some(13)));
    insert(&mut base, &b, Entry::file(content(2), Some(6)).with_id(Some(4)).with_ino(Some(14)));
    let remote: Tree = base.iter().map(|(k, (p, e))| (k.clone(), (p.clone(), e.clone().with_ino(None)))).collect();
    let trees = Trees { remote, local: Tree::new(), synced: base };
    // (With nothing left on disk the engine's emptied-folder guard stops first; the fence
    // is what holds when the shared folder is one folder among others.)
    let planned = plan(&trees, "laptop", "2026-12-01");
    assert!(planned.iter().filter(|op| matches!(op, Op::DeleteRemote { .. })).count() > 1, "{planned:?}");
    // A member (any role) leaves: only the mount is deleted on the server.
    for role in [Role::Editor, Role::Viewer] {
        let ops = fence_shared(planned.clone(), &trees, &[(mount.clone(), role)], "laptop", "2026-12-01");
        let deletes: Vec<&Op> = ops.iter().filter(|op| matches!(op, Op::DeleteRemote { .. })).collect();
        assert_eq!(deletes, vec![&Op::DeleteRemote { path: mount.clone(), if_rev: None }], "{role}: {ops:?}");
        assert!(!ops.iter().any(|op| matches!(op, Op::Download { .. })), "{ops:?}");
    }
    // Its owner gets it back, parents first, and nothing is deleted on the server.
    let ops = fence_shared(planned, &trees, &[(mount.clone(), Role::Owner)], "laptop", "2026-12-01");
    assert!(!ops.iter().any(|op| matches!(op, Op::DeleteRemote { .. })), "{ops:?}");
    let at = |p: &RemotePath| {
        ops.iter().position(|op| match op {
            Op::CreateLocalFolder { path } | Op::Download { path, .. } => path == p,
            _ => false,
        })
    };
    let (m, s, f) = (at(&mount).expect("mount"), at(&sub).expect("sub"), at(&b).expect("b"));
    assert!(m < s && s < f && at(&a).is_some(), "{ops:?}");
}
