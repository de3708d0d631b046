//! The mass-delete brake: when one pass would delete more than a few files and a good
//! share of the folder's (an emptied disk, a script gone wrong, ransomware, a colleague
//! who tidied up on the server), those deletions are held while everything else syncs.
//! A person lets them through (`confirm`) or brings the files back (`undo`: the base
//! forgets them, so the side that still has them gives them to the other again).
//!
//! The brake holds deletions going to the server (made on this device) and deletions
//! coming from it (which would remove files here) separately. Moves never count.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::super::plan::{Kind, Op, Trees, key};

/// When the brake holds: more than `max_files` files deleted in one pass, and more than
/// `max_percent` % of the files the folder had when last synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Brake {
    pub max_files: usize,
    pub max_percent: u32,
}

impl Default for Brake {
    fn default() -> Self {
        Self { max_files: 50, max_percent: 25 }
    }
}

/// Which way a held deletion goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteSide {
    /// Deleted on this device; the server still has it.
    Server,
    /// Deleted on the server; this device still has it.
    Device,
}

/// A deletion the brake holds until a person decides.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HeldDelete {
    /// The item's path in the account (a file or a folder).
    pub path: String,
    /// Where the deletion would be carried out.
    pub side: DeleteSide,
    pub kind: Kind,
}

impl HeldDelete {
    fn of(op: &Op, trees: &Trees) -> Option<Self> {
        let (path, side) = match op {
            Op::DeleteRemote { path, .. } => (path, DeleteSide::Server),
            Op::DeleteLocal { path } => (path, DeleteSide::Device),
            _ => return None,
        };
        let kind = trees.synced.get(&key(path)).map_or(Kind::Folder, |(_, e)| e.kind);
        Some(Self { path: path.to_string(), side, kind })
    }
}

/// Splits a pass's operations into those to carry out and the deletions held. A
/// deletion the user confirmed (in `confirmed`) goes through; the others of a side are
/// held when, together, they delete more files than the brake allows.
pub fn hold(ops: Vec<Op>, trees: &Trees, brake: Brake, confirmed: &[HeldDelete]) -> (Vec<Op>, Vec<HeldDelete>) {
    let confirmed: HashSet<&HeldDelete> = confirmed.iter().collect();
    let total = trees.synced.values().filter(|(_, e)| e.kind == Kind::File).count();
    let mut files = [0usize; 2];
    for op in &ops {
        if let Some(d) = HeldDelete::of(op, trees)
            && d.kind == Kind::File
            && !confirmed.contains(&d)
        {
            files[d.side as usize] += 1;
        }
    }
    let over = |n: usize| n > brake.max_files && n * 100 > brake.max_percent as usize * total;
    let holding = [over(files[0]), over(files[1])];
    if !holding[0] && !holding[1] {
        return (ops, Vec::new());
    }
    let mut run = Vec::with_capacity(ops.len());
    let mut held = Vec::new();
    for op in ops {
        match HeldDelete::of(&op, trees) {
            Some(d) if holding[d.side as usize] && !confirmed.contains(&d) => held.push(d),
            _ => run.push(op),
        }
    }
    (run, held)
}

/// The confirmations still wanted: those of deletions still planned (the others were
/// carried out, or are moot).
pub fn still_planned(confirmed: Vec<HeldDelete>, ops: &[Op], trees: &Trees) -> Vec<HeldDelete> {
    let planned: HashSet<HeldDelete> = ops.iter().filter_map(|op| HeldDelete::of(op, trees)).collect();
    confirmed.into_iter().filter(|c| planned.contains(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::plan::Entry;
    use coffer_core::RemotePath;

    fn trees(files: usize) -> Trees {
        let mut t = Trees::default();
        for i in 0..files {
            let p = RemotePath::parse(&format!("/d/f{i}")).expect("path");
            t.synced.insert(key(&p), (p, Entry::file(coffer_core::ContentHash([7; 32]), Some(1))));
        }
        let d = RemotePath::parse("/d").expect("path");
        t.synced.insert(key(&d), (d, Entry::folder()));
        t
    }

    fn deletes(n: usize, remote: bool) -> Vec<Op> {
        (0..n)
            .map(|i| {
                let path = RemotePath::parse(&format!("/d/f{i}")).expect("path");
                if remote { Op::DeleteRemote { path, if_rev: Some(1) } } else { Op::DeleteLocal { path } }
            })
            .collect()
    }

    #[test]
    fn a_few_deletions_or_a_small_share_pass() {
        let t = trees(1000);
        assert!(hold(deletes(50, true), &t, Brake::default(), &[]).1.is_empty(), "50 is not more than 50");
        assert!(hold(deletes(200, true), &t, Brake::default(), &[]).1.is_empty(), "20 % is not more than 25 %");
        let t = trees(60);
        let (run, held) = hold(deletes(51, false), &t, Brake::default(), &[]);
        assert_eq!((run.len(), held.len()), (0, 51), "51 of 60 from the server: held");
        assert!(held.iter().all(|h| h.side == DeleteSide::Device));
    }

    #[test]
    fn held_deletions_leave_the_rest_and_confirmed_ones_through() {
        let t = trees(100);
        let mut ops = deletes(80, true);
        ops.push(Op::DeleteRemote { path: RemotePath::parse("/d").expect("path"), if_rev: None });
        ops.push(Op::CreateLocalFolder { path: RemotePath::parse("/new").expect("path") });
        ops.extend(deletes(3, false));
        let (run, held) = hold(ops.clone(), &t, Brake::default(), &[]);
        assert_eq!(held.len(), 81, "the files and their folder, on the server's side");
        assert_eq!(run.len(), 4, "the new folder and the three deletions from the server");
        let (run, held) = hold(ops.clone(), &t, Brake::default(), &held);
        assert!(held.is_empty());
        assert_eq!(run.len(), ops.len());
        let tighter = Brake { max_files: 2, max_percent: 1 };
        assert_eq!(hold(ops, &t, tighter, &[]).1.len(), 84, "both sides held");
    }
}
