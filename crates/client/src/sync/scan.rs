//! The local side: a walk of the synced folder into the planner's tree, hashing only
//! files whose stamp (size, modification time, inode) differs from the last scan, and
//! saying why anything is left out (ignored, a name other systems cannot hold, still
//! being written, a special file, unreadable). A symbolic link is an entry of its own
//! (its target text is its content), never followed.
//!
//! Blocking file-system work: run it on a blocking thread.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::BufReader;
use std::path::Path;
use std::time::{Duration, SystemTime};

use coffer_core::wire::FileMode;
use coffer_core::{ChunkRef, ChunkerConfig, ContentHash, Manifest, Name, RemotePath, chunk_reader};
use globset::{Glob, GlobSet, GlobSetBuilder};

use super::names::FsRules;
use super::plan::{Entry, Tree, key};
use crate::transfer::mode_of;

/// The folder inside a synced folder that holds the engine's own state; never synced.
pub const STATE_DIR: &str = ".coffer";
/// The file of ignore patterns at the top of a synced folder.
pub const IGNORE_FILE: &str = ".cofferignore";
/// Temporary and lock files of common programs, never synced.
pub const BUILT_IN_IGNORES: &[&str] = &["~$*", ".DS_Store", "*.swp", "*.tmp", ".~lock.*", "Thumbs.db"];
/// A file modified more recently than this is probably still being written (when no
/// file watcher says when writing stopped).
pub const SETTLE_TIME: Duration = Duration::from_secs(2);

/// The longest symbolic link target synced (the usual `PATH_MAX`).
pub const MAX_LINK_TARGET: u64 = 4096;

/// A symbolic link's content as an upload cuts it: its target, one chunk.
fn link_chunks(target: &[u8]) -> Vec<ChunkRef> {
    chunk_reader(std::io::Cursor::new(target), ChunkerConfig::default())
        .filter_map(Result::ok)
        .map(|c| ChunkRef { hash: c.hash, size: c.data.len() as u32 })
        .collect()
}

/// What identifies a file's version on disk without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: i128,
    pub inode: u64,
    /// When the file was made (ns since the epoch), where the disk keeps it: with the
    /// inode, it tells the very same file from a new one that got a freed inode.
    pub born: Option<i64>,
}

/// Stamp and content of each file of the last scan, by key.
pub type Stamps = HashMap<String, (Stamp, ContentHash)>;

/// Why a path is not synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    Ignored,
    /// The name breaks the naming rules (see `coffer_core::path`).
    InvalidName(String),
    /// Modified within the last moments: picked up once it settles.
    StillChanging,
    /// A symbolic link that cannot be synced (an empty target, or one too long).
    Symlink,
    Special,
    Unreadable(String),
    /// Another item in the same folder has this name but for case (or Unicode form):
    /// the server, and case-insensitive disks, can hold only one of them. The one
    /// synced before (else the first by name) is synced; this one waits to be renamed.
    NameClash(String),
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skipped::Ignored => write!(f, "ignored (a temporary file or a .cofferignore pattern)"),
            Skipped::InvalidName(why) => write!(f, "invalid name: {why}"),
            Skipped::StillChanging => write!(f, "still being written"),
            Skipped::Symlink => write!(f, "a symbolic link with an empty target or one over 4096 bytes"),
            Skipped::Special => write!(f, "not a regular file or folder"),
            Skipped::Unreadable(why) => write!(f, "unreadable: {why}"),
            Skipped::NameClash(other) => write!(f, "differs from '{other}' only by case: rename one of them"),
        }
    }
}

/// One scan's result.
#[derive(Debug, Default)]
pub struct Scan {
    pub tree: Tree,
    /// Stamp and content of every file, for the next scan.
    pub stamps: HashMap<String, (Stamp, ContentHash)>,
    /// The chunks of every file read in this scan (others were known by their stamp):
    /// where a download can find bytes without fetching them.
    pub chunks: HashMap<String, Vec<ChunkRef>>,
    /// Relative paths (as found on disk) left out, and why.
    pub skipped: Vec<(String, Skipped)>,
    /// Folders that could not be read: what is below them is unknown this time, and the
    /// engine must treat it as unchanged (never as deleted).
    pub unsure: Vec<RemotePath>,
}

/// Ignore rules: the built-in patterns plus the lines of `.cofferignore` (`#` starts a
/// comment). A pattern without `/` matches a name at any depth; with `/` it matches the
/// path from the top of the synced folder.
#[derive(Debug, Clone)]
pub struct Ignore {
    names: GlobSet,
    paths: GlobSet,
}

impl Ignore {
    pub fn new(extra: &[String]) -> Result<Self, globset::Error> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        for p in BUILT_IN_IGNORES.iter().map(|s| s.to_string()).chain(extra.iter().cloned()) {
            let p = p.trim();
            if p.is_empty() || p.starts_with('#') {
                continue;
            }
            match p.trim_start_matches('/').trim_end_matches('/') {
                anchored if p.contains('/') => paths.add(Glob::new(anchored)?),
                name => names.add(Glob::new(name)?),
            };
        }
        Ok(Self { names: names.build()?, paths: paths.build()? })
    }

    /// Reads `.cofferignore` at `root` (absent is fine).
    pub fn load(root: &Path) -> Result<Self, std::io::Error> {
        let lines = match fs::read_to_string(root.join(IGNORE_FILE)) {
            Ok(text) => text.lines().map(str::to_owned).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        Self::new(&lines).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    pub fn matches(&self, relative: &str, name: &str) -> bool {
        self.names.is_match(name) || self.paths.is_match(relative)
    }
}

/// What identifies this version of a file without reading it.
pub fn stamp_of(meta: &fs::Metadata) -> Stamp {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let inode = 0;
    let born = meta
        .created()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .filter(|&ns| ns > 0); // Some disks say 0 for "unknown".
    Stamp { size: meta.len(), mtime_ns, inode, born }
}

/// A file's chunk list and content identity, as an upload computes them.
pub fn manifest_of(path: &Path) -> std::io::Result<(Vec<ChunkRef>, ContentHash)> {
    let file = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut chunks = Vec::new();
    for chunk in chunk_reader(file, ChunkerConfig::default()) {
        let chunk = chunk?;
        chunks.push(ChunkRef { hash: chunk.hash, size: chunk.data.len() as u32 });
    }
    let content = Manifest::new(chunks.clone()).content_hash();
    Ok((chunks, content))
}

/// The content identity of a file, as an upload would compute it.
pub fn content_of(path: &Path) -> std::io::Result<ContentHash> {
    manifest_of(path).map(|(_, content)| content)
}

/// Walks `root`. `previous` holds stamps and contents from the last scan: a file whose
/// stamp is unchanged is not read again. `known` holds the file ids (inodes) of what was
/// synced, by key: of names that clash, the known item wins. `rules` says how the disk
/// treats names. A file modified less than `settle` before `now` is still changing.
pub fn scan(
    root: &Path,
    (previous, known): (&Stamps, &HashMap<String, u64>),
    ignore: &Ignore,
    rules: &FsRules,
    now: SystemTime,
    settle: Duration,
) -> std::io::Result<Scan> {
    let mut out = Scan::default();
    let by_inode: HashMap<u64, (Stamp, ContentHash)> = previous.values().map(|(s, c)| (s.inode, (*s, *c))).collect();
    let mut stack = vec![(root.to_path_buf(), RemotePath::root(), String::new())];
    while let Some((dir, remote, relative)) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if !relative.is_empty() => {
                out.skipped.push((relative.clone(), Skipped::Unreadable(e.to_string())));
                out.unsure.push(remote);
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut entries = entries.collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        let keepers = clash_keepers(&entries, &remote, previous, known);
        for entry in entries {
            let raw = entry.file_name();
            let rel = |name: &str| if relative.is_empty() { name.to_owned() } else { format!("{relative}/{name}") };
            let Some(name_str) = raw.to_str() else {
                out.skipped.push((rel(&raw.to_string_lossy()), Skipped::InvalidName("not UTF-8".into())));
                continue;
            };
            let rel_path = rel(name_str);
            if relative.is_empty() && name_str == STATE_DIR {
                continue;
            }
            if ignore.matches(&rel_path, name_str) {
                out.skipped.push((rel_path, Skipped::Ignored));
                continue;
            }
            let name = match Name::new(name_str) {
                Ok(n) => n,
                Err(e) => {
                    out.skipped.push((rel_path, Skipped::InvalidName(e.to_string())));
                    continue;
                }
            };
            // Names are NFC everywhere; a disk that keeps another form as another name
            // could not find it again (one that merges the forms, as macOS', finds it
            // by its NFC name).
            if !rules.normalizes && name.as_str() != name_str {
                out.skipped.push((rel_path, Skipped::InvalidName("not in Unicode NFC form: rename it".into())));
                continue;
            }
            if let Some(keeper) = keepers.get(&name.collision_key())
                && keeper.as_str() != name_str
            {
                out.skipped.push((rel_path, Skipped::NameClash(keeper.clone())));
                continue;
            }
            let path = remote.join(name);
            let meta = match entry.metadata() {
                Ok(m) => m,
                Err(e) => {
                    out.skipped.push((rel_path, Skipped::Unreadable(e.to_string())));
                    continue;
                }
            };
            let file_type = meta.file_type();
            if file_type.is_symlink() {
                // Synced as a link: its target text is its content, never followed.
                match crate::transfer::link_target(&entry.path()) {
                    Ok(target) if !target.is_empty() && target.len() as u64 <= MAX_LINK_TARGET => {
                        let (stamp, k) = (stamp_of(&meta), key(&path));
                        let content = Manifest::new(link_chunks(&target)).content_hash();
                        out.stamps.insert(k.clone(), (stamp, content));
                        let entry = Entry::file(content, None).with_stamp(Some(stamp)).with_mode(FileMode::Symlink);
                        out.tree.insert(k, (path, entry));
                    }
                    Ok(_) => out.skipped.push((rel_path, Skipped::Symlink)),
                    Err(e) => out.skipped.push((rel_path, Skipped::Unreadable(e.to_string()))),
                }
            } else if file_type.is_dir() {
                out.tree.insert(key(&path), (path.clone(), Entry::folder().with_stamp(Some(stamp_of(&meta)))));
                stack.push((entry.path(), path, rel_path));
            } else if file_type.is_file() {
                let stamp = stamp_of(&meta);
                let k = key(&path);
                let known = previous.get(&k).copied();
                // A file moved or renamed keeps its stamp: it is not read again either.
                let moved = || by_inode.get(&stamp.inode).filter(|(old, _)| *old == stamp).map(|(_, c)| *c);
                let content = match known.filter(|(old, _)| *old == stamp).map(|(_, c)| c).or_else(moved) {
                    Some(content) => Ok(content),
                    _ => {
                        let settled = now
                            .duration_since(SystemTime::UNIX_EPOCH)
                            .map(|n| n.as_nanos() as i128 - stamp.mtime_ns >= settle.as_nanos() as i128)
                            .unwrap_or(true);
                        if !settled {
                            Err(Skipped::StillChanging)
                        } else {
                            match manifest_of(&entry.path()) {
                                // Re-check: a file that changed while it was read waits for
                                // the next scan.
                                Ok((chunks, c))
                                    if fs::metadata(entry.path()).map(|m| stamp_of(&m)).ok() == Some(stamp) =>
                                {
                                    out.chunks.insert(k.clone(), chunks);
                                    Ok(c)
                                }
                                Ok(_) => Err(Skipped::StillChanging),
                                Err(e) => Err(Skipped::Unreadable(e.to_string())),
                            }
                        }
                    }
                };
                match (content, known) {
                    (Ok(content), _) => {
                        out.stamps.insert(k.clone(), (stamp, content));
                        let entry = Entry::file(content, None).with_stamp(Some(stamp)).with_mode(mode_of(&meta));
                        out.tree.insert(k, (path, entry));
                    }
                    // Not readable now, but known: it stays as it was (a file being
                    // written must never look deleted).
                    (Err(why), Some((old, content))) => {
                        out.skipped.push((rel_path, why));
                        out.stamps.insert(k.clone(), (old, content));
                        let entry = Entry::file(content, None).with_stamp(Some(old)).with_mode(mode_of(&meta));
                        out.tree.insert(k, (path, entry));
                    }
                    (Err(why), None) => out.skipped.push((rel_path, why)),
                }
            } else {
                out.skipped.push((rel_path, Skipped::Special));
            }
        }
    }
    out.skipped.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// For each group of names in one folder that clash (same collision key), the name to
/// sync: the item synced before (its file id is known), else the first by name.
fn clash_keepers(
    entries: &[fs::DirEntry],
    folder: &RemotePath,
    previous: &HashMap<String, (Stamp, ContentHash)>,
    known: &HashMap<String, u64>,
) -> HashMap<String, String> {
    let mut groups: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    for e in entries {
        if let Some(Ok(name)) = e.file_name().to_str().map(Name::new) {
            #[cfg(unix)]
            let ino = std::os::unix::fs::DirEntryExt::ino(e);
            #[cfg(not(unix))]
            let ino = 0;
            let raw = e.file_name().to_string_lossy().into_owned();
            groups.entry(name.collision_key()).or_default().push((raw, ino));
        }
    }
    groups
        .into_iter()
        .filter(|(_, names)| names.len() > 1)
        .map(|(ck, names)| {
            let k = key(&folder.join(Name::new(&names[0].0).expect("checked above")));
            let synced = known.get(&k).copied().or_else(|| previous.get(&k).map(|(s, _)| s.inode));
            let keeper = names.iter().find(|(_, ino)| Some(*ino) == synced).unwrap_or(&names[0]);
            (ck, keeper.0.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn later() -> SystemTime {
        SystemTime::now() + Duration::from_secs(60)
    }

    #[test]
    fn scans_hashes_skips_and_reuses_stamps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::create_dir_all(root.join("docs/empty")).expect("mkdir");
        fs::create_dir_all(root.join(STATE_DIR)).expect("state dir");
        fs::write(root.join(STATE_DIR).join("state.db"), b"x").expect("state");
        fs::write(root.join("docs/a.txt"), b"alpha").expect("write");
        fs::write(root.join("docs/~$lock.docx"), b"office lock").expect("write");
        fs::write(root.join("notes.swp"), b"vim").expect("write");
        fs::write(root.join("bad\nname"), b"x").expect("write");
        fs::write(root.join("build.log"), b"x").expect("write");
        fs::write(root.join("cafe\u{301}.txt"), b"decomposed").expect("write");
        fs::write(root.join(IGNORE_FILE), "# comment\n*.log\n/docs/empty/\n").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink("docs/a.txt", root.join("link")).expect("symlink");

        let ignore = Ignore::load(root).expect("ignore rules");
        let s = scan(root, (&HashMap::new(), &HashMap::new()), &ignore, &FsRules::default(), later(), SETTLE_TIME)
            .expect("scan");
        let paths: Vec<String> = s.tree.values().map(|(p, _)| p.to_string()).collect();
        #[cfg(unix)]
        assert_eq!(paths, vec!["/.cofferignore", "/docs", "/docs/a.txt", "/link"]);
        // A symbolic link is synced as a link: its target text is its content.
        #[cfg(unix)]
        {
            let link = &s.tree["/link"].1;
            assert_eq!(link.mode, FileMode::Symlink);
            assert_eq!(link.content, Some(Manifest::new(link_chunks(b"docs/a.txt")).content_hash()));
            assert!(!s.chunks.contains_key("/link"), "a link's target is never read as a local source of chunks");
        }
        let a = &s.tree["/docs/a.txt"].1;
        assert_eq!(a.content, Some(content_of(&root.join("docs/a.txt")).expect("hash")));
        let skipped: Vec<(&str, &Skipped)> = s.skipped.iter().map(|(p, r)| (p.as_str(), r)).collect();
        assert!(skipped.contains(&("build.log", &Skipped::Ignored)));
        assert!(skipped.contains(&("docs/empty", &Skipped::Ignored)));
        assert!(skipped.contains(&("docs/~$lock.docx", &Skipped::Ignored)));
        assert!(skipped.contains(&("notes.swp", &Skipped::Ignored)));
        assert!(skipped.iter().any(|(p, r)| *p == "bad\nname" && matches!(r, Skipped::InvalidName(_))));
        assert!(skipped.iter().any(|(p, r)| *p == "cafe\u{301}.txt" && matches!(r, Skipped::InvalidName(_))));
        // On a disk that merges Unicode forms the decomposed name is the same item as
        // its NFC spelling, and synced under it.
        let merging = FsRules { normalizes: true, ..FsRules::default() };
        let m = scan(root, (&HashMap::new(), &HashMap::new()), &ignore, &merging, later(), SETTLE_TIME).expect("scan");
        assert!(m.tree.contains_key("/caf\u{e9}.txt"), "{:?}", m.tree.keys().collect::<Vec<_>>());

        // An unchanged stamp is trusted: the file is not read again.
        let mut previous = s.stamps.clone();
        let fake = ContentHash([9; 32]);
        previous.get_mut("/docs/a.txt").expect("stamp").1 = fake;
        let again =
            scan(root, (&previous, &HashMap::new()), &ignore, &FsRules::default(), later(), SETTLE_TIME).expect("scan");
        assert_eq!(again.tree["/docs/a.txt"].1.content, Some(fake));
        // A changed file is read again.
        fs::write(root.join("docs/a.txt"), b"alpha, longer now").expect("write");
        let changed =
            scan(root, (&previous, &HashMap::new()), &ignore, &FsRules::default(), later(), SETTLE_TIME).expect("scan");
        assert_ne!(changed.tree["/docs/a.txt"].1.content, Some(fake));
        // A file modified a moment ago waits until it settles.
        // A file modified a moment ago waits until it settles; meanwhile it keeps its
        // last known content (it must never look deleted).
        let fresh =
            scan(root, (&previous, &HashMap::new()), &ignore, &FsRules::default(), SystemTime::now(), SETTLE_TIME)
                .expect("scan");
        assert!(fresh.skipped.contains(&("docs/a.txt".to_owned(), Skipped::StillChanging)));
        assert_eq!(fresh.tree["/docs/a.txt"].1.content, Some(fake));
        fs::write(root.join("docs/new.txt"), b"just now").expect("write");
        let newer =
            scan(root, (&previous, &HashMap::new()), &ignore, &FsRules::default(), SystemTime::now(), SETTLE_TIME)
                .expect("scan");
        assert!(!newer.tree.contains_key("/docs/new.txt"), "a new file waits until it settles");
    }
}

#[cfg(test)]
mod clash_tests {
    use super::*;

    #[test]
    fn of_names_that_differ_by_case_the_synced_one_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::write(root.join("report.txt"), b"synced before").expect("write");
        fs::write(root.join("Report.txt"), b"new").expect("write");
        let later = SystemTime::now() + Duration::from_secs(60);
        let ignore = Ignore::new(&[]).expect("rules");
        // Nothing known: the first by name ("R" < "r").
        let s = scan(root, (&HashMap::new(), &HashMap::new()), &ignore, &FsRules::default(), later, SETTLE_TIME)
            .expect("scan");
        assert_eq!(s.tree["/report.txt"].0.to_string(), "/Report.txt");
        assert_eq!(s.skipped, vec![("report.txt".to_owned(), Skipped::NameClash("Report.txt".into()))]);
        // The synced one wins, whatever its name.
        let ino = fs::metadata(root.join("report.txt")).map(|m| stamp_of(&m).inode).expect("meta");
        let known = HashMap::from([("/report.txt".to_owned(), ino)]);
        let s = scan(root, (&HashMap::new(), &known), &ignore, &FsRules::default(), later, SETTLE_TIME).expect("scan");
        assert_eq!(s.tree["/report.txt"].0.to_string(), "/report.txt");
        assert_eq!(s.tree["/report.txt"].1.content, Some(content_of(&root.join("report.txt")).expect("hash")));
        assert_eq!(s.skipped, vec![("Report.txt".to_owned(), Skipped::NameClash("report.txt".into()))]);
    }
}
