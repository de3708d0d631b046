//! The planner against a model of the disk and the server: random trees, random
//! independent edits on both sides, then plan-and-apply rounds until nothing is left
//! to do. Thousands of seeds run in every test run; a failure prints its seed.
//!
//! Replay one seed: `COFFER_PLAN_SEED=1234 cargo test -p coffer-client plan_converges`.
//! More seeds: `COFFER_PLAN_SEEDS=100000 cargo test -p coffer-client plan_converges`.

use std::collections::BTreeSet;

use coffer_core::{ContentHash, Name, RemotePath};

use super::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

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

fn ensure_parents(tree: &mut Tree, path: &RemotePath) {
    let mut p = path.parent();
    while let Some(parent) = p {
        if parent.is_root() {
            break;
        }
        if !tree.contains_key(&key(&parent)) {
            insert(tree, &parent, Entry::folder());
        }
        p = parent.parent();
    }
}

/// One random edit of a tree; returns content written, if any.
fn edit(tree: &mut Tree, rng: &mut Rng, next_content: &mut u64) {
    let existing: Vec<RemotePath> = tree.values().map(|(p, _)| p.clone()).collect();
    match rng.below(5) {
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
            insert(tree, &path, Entry::file(content(*next_content), None));
        }
        2 => {
            let dirs = folders(tree);
            let dir = dirs[rng.below(dirs.len())].clone();
            let path = dir.join(Name::new(NAMES[rng.below(NAMES.len())]).expect("name"));
            if !tree.contains_key(&key(&path)) && path.names().len() <= 3 {
                insert(tree, &path, Entry::folder());
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
                insert(tree, &p, Entry::file(content(*next_content), None));
            }
        }
        _ => {}
    }
}

struct World {
    trees: Trees,
    next_rev: i64,
}

impl World {
    /// Applies one operation as the executor and the server would; an operation whose
    /// premise no longer holds is refused and left for the next round.
    fn apply(&mut self, op: &Op) {
        let t = &mut self.trees;
        match op {
            Op::Upload { path, content, parent_rev } => {
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
                ensure_parents(&mut t.remote, path);
                self.next_rev += 1;
                let e = Entry::file(*content, Some(self.next_rev));
                insert(&mut t.remote, path, e.clone());
                insert(&mut t.synced, path, e);
            }
            Op::CreateRemoteFolder { path } => {
                if t.remote.contains_key(&key(path)) || under_a_file(&t.remote, path) {
                    return;
                }
                ensure_parents(&mut t.remote, path);
                insert(&mut t.remote, path, Entry::folder());
                insert(&mut t.synced, path, Entry::folder());
            }
            Op::DeleteRemote { path } => {
                remove_subtree(&mut t.remote, path);
                t.synced.remove(&key(path));
            }
            Op::Download { path, content, rev } => {
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
                ensure_parents(&mut t.local, path);
                let e = Entry::file(*content, *rev);
                insert(&mut t.local, path, e.clone());
                insert(&mut t.synced, path, e);
            }
            Op::CreateLocalFolder { path } => {
                if t.local.contains_key(&key(path)) || under_a_file(&t.local, path) {
                    return;
                }
                ensure_parents(&mut t.local, path);
                insert(&mut t.local, path, Entry::folder());
                insert(&mut t.synced, path, Entry::folder());
            }
            Op::DeleteLocal { path } => {
                let k = key(path);
                // Never delete what is not synced: the item must equal the base, and a
                // folder must be empty (its children were handled first).
                let (Some((_, l)), Some((_, b))) = (t.local.get(&k), t.synced.get(&k)) else {
                    t.synced.remove(&k);
                    return;
                };
                if !l.same_as(b) || t.local.keys().any(|o| o.starts_with(&format!("{k}/"))) {
                    return;
                }
                t.local.remove(&k);
                t.synced.remove(&k);
            }
            Op::MoveLocalAside { path, copy } => {
                let (Some(e), false) = (t.local.remove(&key(path)), t.local.contains_key(&key(copy))) else {
                    return;
                };
                // A folder moves with its contents.
                let prefix = format!("{}/", key(path));
                let children: Vec<(String, (RemotePath, Entry))> = t
                    .local
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for (k, (p, ce)) in children {
                    t.local.remove(&k);
                    let rest = &p.names()[path.names().len()..];
                    let mut np = copy.clone();
                    for n in rest {
                        np = np.join(n.clone());
                    }
                    insert(&mut t.local, &np, ce);
                }
                insert(&mut t.local, copy, e.1);
            }
            Op::Record { path, entry } => match entry {
                Some(e) => insert(&mut t.synced, path, e.clone()),
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

fn run(seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
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
    let mut world =
        World { trees: Trees { remote: start.clone(), local: start.clone(), synced: start.clone() }, next_rev: 1000 };
    for (_, e) in world.trees.local.values_mut() {
        e.rev = None;
    }
    // Independent offline edits on both sides.
    for _ in 0..rng.below(6) {
        edit(&mut world.trees.local, &mut rng, &mut next_content);
    }
    for _ in 0..rng.below(6) {
        edit(&mut world.trees.remote, &mut rng, &mut next_content);
        for (_, e) in world.trees.remote.values_mut() {
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
}

#[test]
fn plan_converges_without_losing_writes() {
    if let Ok(seed) = std::env::var("COFFER_PLAN_SEED") {
        run(seed.parse().expect("COFFER_PLAN_SEED is a number"));
        return;
    }
    let seeds: u64 = std::env::var("COFFER_PLAN_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5000);
    for seed in 0..seeds {
        run(seed);
    }
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
    assert_eq!(ops, vec![Op::Upload { path: p.clone(), content: content(2), parent_rev: None }]);
    // Deleted locally, edited remotely: downloaded.
    trees.local.clear();
    insert(&mut trees.remote, &p, Entry::file(content(3), Some(2)));
    let ops = plan(&trees, "laptop", "2026-11-25");
    assert_eq!(ops, vec![Op::Download { path: p, content: content(3), rev: Some(2) }]);
}
