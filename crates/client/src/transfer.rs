//! The upload engine behind `coffer put` (and later the sync engine): chunk and hash
//! local files, ask the server which chunks it lacks, send only those, and commit.
//!
//! Small files are grouped into batches (one upload session, a few framed chunk bodies
//! and one commit for up to `batch_files` files), so thousands of small files cost a
//! handful of requests. A large file gets its own session; it is read twice, once to
//! compute its manifest and once to send the missing chunks, so memory stays bounded
//! whatever its size. At most `concurrency` chunk requests are in flight at any time.
//!
//! Semantics are those of `cp`: an existing destination file is overwritten (its current
//! revision is sent as `parent_rev`, so a concurrent edit on the server is reported as a
//! conflict rather than lost), and a destination that already has the same content is
//! left alone and reported `unchanged`.

mod batch;
mod collect;
mod large;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::UNIX_EPOCH;

use coffer_core::wire::{CommitFileRequest, CommitResult, FileMode, NodeInfo, NodeKind};
use coffer_core::{Chunk, ChunkRef, ContentHash, ErrorCode, Manifest, Name, RemotePath};
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::api::Client;
use crate::error::ClientError;

pub use collect::{collect_dirs, collect_items};

/// Most files the server accepts in one commit.
const MAX_COMMIT_FILES: usize = 1000;
/// Jobs (a batch or a large file) worked on at once, so one hashes while another sends.
const PARALLEL_JOBS: usize = 2;

/// One local file and the full remote path it is uploaded to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadItem {
    pub local: PathBuf,
    pub remote: String,
    /// What the caller saw: the file is uploaded only if it still has this content, as
    /// the revision after `parent_rev` (a sync names the revision its edit started
    /// from); the destination is then not looked up.
    pub expect: Option<Expect>,
    /// Update the file with this id instead of the one at `remote` (a file shared with
    /// the caller; give `expect` too).
    pub node_id: Option<i64>,
}

/// See [`UploadItem::expect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// The local content expected (`None`: whatever the file holds now).
    pub content: Option<ContentHash>,
    pub parent_rev: Option<i64>,
    /// The mode expected. With one, a symbolic link is never followed: it is uploaded
    /// as a link (its target text) if a link is expected, and refused otherwise.
    /// Without, the local path is followed as `cp` does.
    pub mode: Option<FileMode>,
}

/// How an upload reads its local path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Open {
    /// Follow a symbolic link to the file it names (`coffer put`).
    Follow,
    /// A regular file only; a symbolic link there is refused.
    NoFollow,
    /// The symbolic link itself: its target text is the content.
    Link,
}

impl UploadItem {
    pub fn new(local: impl Into<PathBuf>, remote: impl Into<String>) -> Self {
        Self { local: local.into(), remote: remote.into(), expect: None, node_id: None }
    }
}

/// Tunables of [`upload`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    /// Chunk requests in flight at once.
    pub concurrency: usize,
    /// Most small files per batch (one commit).
    pub batch_files: usize,
    /// Most bytes of small files per batch; a file up to a quarter of this is small.
    pub batch_bytes: usize,
    /// The caller knows no destination exists yet (say, it uploads into a folder that
    /// did not exist): skip looking for files to overwrite. If one does exist after all,
    /// its commit is a conflict, never an overwrite.
    pub fresh_destination: bool,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self { concurrency: 4, batch_files: 256, batch_bytes: 16 * 1024 * 1024, fresh_destination: false }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// A new file was created.
    Created,
    /// An existing file got a new revision.
    Modified,
    /// The destination already had this content; nothing was committed.
    Unchanged,
    /// The destination changed on the server meanwhile; nothing was committed.
    Conflict,
    /// The file could not be uploaded; see `error`.
    Failed,
}

/// The outcome for one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    pub remote: String,
    pub local: PathBuf,
    pub status: FileStatus,
    /// The file's size.
    pub bytes_total: u64,
    /// Chunk bytes actually sent for this file (less than the size when deduplicated).
    pub bytes_sent: u64,
    /// The destination's current revision, when known.
    pub rev: Option<i64>,
    /// The destination's node id, when a commit made it.
    pub node_id: Option<i64>,
    pub error: Option<String>,
}

/// The outcome of [`upload`]: one report per item, in the items' order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UploadReport {
    pub files: Vec<FileReport>,
    pub bytes_total: u64,
    pub bytes_sent: u64,
}

/// Progress events; byte counts are increments, not totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Every item was looked at: this many files of this total size will be uploaded.
    Scanned { files: u64, bytes: u64 },
    /// Bytes read and hashed.
    BytesHashed(u64),
    /// Chunk bytes the server accepted.
    BytesSent(u64),
    /// A file is finished (whatever its status); the remote path.
    FileDone(String),
}

/// The progress callback; called from worker threads too.
pub(crate) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// [`UploadOptions`] made safe to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub concurrency: usize,
    pub batch_files: usize,
    pub batch_bytes: u64,
    /// Largest file that goes into a batch.
    pub small_max: u64,
}

impl Limits {
    pub(crate) fn new(opts: &UploadOptions) -> Self {
        let batch_bytes = opts.batch_bytes.max(1) as u64;
        Self {
            concurrency: opts.concurrency.max(1),
            batch_files: opts.batch_files.clamp(1, MAX_COMMIT_FILES),
            batch_bytes,
            small_max: batch_bytes / 4,
        }
    }
}

/// A unit of work: a batch of small files, or one large file (indexes into the sizes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Job {
    Batch(Vec<usize>),
    Large(usize),
}

/// Splits files (by size, in order) into batches of small files and single large files.
pub(crate) fn plan_jobs(sizes: &[u64], limits: &Limits) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut batch = Vec::new();
    let mut batch_bytes = 0u64;
    for (i, &size) in sizes.iter().enumerate() {
        if size > limits.small_max {
            jobs.push(Job::Large(i));
            continue;
        }
        if !batch.is_empty() && (batch.len() >= limits.batch_files || batch_bytes + size > limits.batch_bytes) {
            jobs.push(Job::Batch(std::mem::take(&mut batch)));
            batch_bytes = 0;
        }
        batch.push(i);
        batch_bytes += size;
    }
    if !batch.is_empty() {
        jobs.push(Job::Batch(batch));
    }
    jobs
}

/// One item that passed the checks, with its position in the caller's list.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub index: usize,
    pub local: PathBuf,
    pub remote: String,
    pub path: RemotePath,
    pub size: u64,
    pub expect: Option<Expect>,
    pub node_id: Option<i64>,
    pub open: Open,
}

/// A file's finished report, tagged with the item's position.
pub(crate) type Done = (usize, FileReport);

fn report_of(index: usize, local: PathBuf, remote: String, status: FileStatus, bytes_total: u64) -> Done {
    (index, FileReport { remote, local, status, bytes_total, bytes_sent: 0, rev: None, node_id: None, error: None })
}

impl Entry {
    pub(crate) fn failed(&self, error: impl fmt::Display) -> Done {
        let (i, mut r) = report_of(self.index, self.local.clone(), self.remote.clone(), FileStatus::Failed, self.size);
        r.error = Some(error.to_string());
        (i, r)
    }
}

/// A hashed file on its way to a commit.
#[derive(Debug)]
pub(crate) struct Pending {
    pub entry: Entry,
    pub parent_rev: Option<i64>,
    pub mtime: Option<i64>,
    pub mode: FileMode,
    pub chunks: Vec<ChunkRef>,
    pub bytes_sent: u64,
}

/// A commit's verdict on one file.
pub(crate) enum Outcome {
    Done(Done),
    /// `missing_chunks`: send them and commit again.
    Missing,
}

impl Pending {
    pub(crate) fn size(&self) -> u64 {
        self.chunks.iter().map(|c| u64::from(c.size)).sum()
    }

    pub(crate) fn content_hash(&self) -> ContentHash {
        Manifest::new(self.chunks.clone()).content_hash()
    }

    fn report(&self, status: FileStatus, rev: Option<i64>, error: Option<String>) -> Done {
        let e = &self.entry;
        let (i, mut r) = report_of(e.index, e.local.clone(), e.remote.clone(), status, self.size());
        r.bytes_sent = self.bytes_sent;
        r.rev = rev;
        r.error = error;
        (i, r)
    }

    pub(crate) fn failed(&self, error: impl fmt::Display) -> Done {
        self.report(FileStatus::Failed, None, Some(error.to_string()))
    }

    pub(crate) fn commit_file(&self) -> CommitFileRequest {
        CommitFileRequest {
            node_id: self.entry.node_id,
            path: self.entry.path.to_string(),
            parent_rev: self.parent_rev,
            mtime: self.mtime,
            mode: self.mode,
            chunks: self.chunks.clone(),
        }
    }

    /// Decides what this file replaces. With an expectation: only the expected content,
    /// after the expected revision (else a `Conflict` report: it changed since it was
    /// seen). Otherwise as [`Pending::against`].
    pub(crate) fn settle(&mut self, remote: Option<&NodeInfo>) -> Option<Done> {
        match self.entry.expect {
            Some(ex)
                if ex.content.is_some_and(|c| c != self.content_hash()) || ex.mode.is_some_and(|m| m != self.mode) =>
            {
                Some(self.report(FileStatus::Conflict, None, Some("changed since it was scanned".into())))
            }
            Some(ex) => {
                self.parent_rev = ex.parent_rev;
                None
            }
            None => self.against(remote),
        }
    }

    /// Compares with the destination as it is: an identical file is `Unchanged` (the
    /// report is returned); otherwise `parent_rev` is set to overwrite it.
    pub(crate) fn against(&mut self, remote: Option<&NodeInfo>) -> Option<Done> {
        let node = remote.filter(|n| n.kind == NodeKind::File)?;
        if node.content_hash == Some(self.content_hash()) && node.mode == self.mode {
            return Some(self.report(FileStatus::Unchanged, node.rev, None));
        }
        self.parent_rev = node.rev;
        None
    }

    pub(crate) fn outcome(&self, result: CommitResult) -> Outcome {
        match (result.node, result.error) {
            (Some(node), _) => {
                let status = if self.parent_rev.is_some() { FileStatus::Modified } else { FileStatus::Created };
                let (i, mut r) = self.report(status, node.rev, None);
                r.node_id = Some(node.id);
                Outcome::Done((i, r))
            }
            (None, Some(e)) if e.code == ErrorCode::MissingChunks => Outcome::Missing,
            (None, Some(e)) => {
                let status = if e.code == ErrorCode::Conflict { FileStatus::Conflict } else { FileStatus::Failed };
                let rev = e.current.as_ref().and_then(|n| n.rev);
                Outcome::Done(self.report(status, rev, Some(format!("{}: {}", e.code, e.message))))
            }
            (None, None) => Outcome::Done(self.failed("the server returned neither a node nor an error")),
        }
    }
}

/// The key under which the server matches a path: names compared case-insensitively.
fn path_key(path: &RemotePath) -> String {
    path.names().iter().map(|n| format!("/{}", n.collision_key())).collect()
}

/// The nodes at the given destinations, by [`path_key`], with one listing per folder.
pub(crate) async fn remote_files<'a>(
    client: &Client,
    paths: impl Iterator<Item = &'a RemotePath>,
) -> Result<HashMap<String, NodeInfo>, ClientError> {
    let mut parents = HashMap::new();
    for path in paths {
        let parent = path.parent().unwrap_or_default();
        parents.entry(path_key(&parent)).or_insert(parent);
    }
    /// Folders listed at once.
    const PARALLEL_LISTS: usize = 8;
    let listings: Vec<(String, Result<Vec<NodeInfo>, ClientError>)> = futures::stream::iter(parents)
        .map(|(key, parent)| async move { (key, client.list(&parent.to_string()).await) })
        .buffer_unordered(PARALLEL_LISTS)
        .collect()
        .await;
    let mut found = HashMap::new();
    for (key, listing) in listings {
        let entries = match listing {
            Ok(entries) => entries,
            // A folder that does not exist yet (the commit creates it), or a file where a
            // folder should be (the commit reports it per file).
            Err(e) if matches!(e.code(), Some(ErrorCode::NotFound | ErrorCode::NotAFolder)) => continue,
            Err(e) => return Err(e),
        };
        for node in entries {
            if let Ok(name) = Name::new(&node.name) {
                found.insert(format!("{key}/{}", name.collision_key()), node);
            }
        }
    }
    Ok(found)
}

/// The node at one destination (for a large file, where one stat beats a listing).
pub(crate) async fn remote_file(client: &Client, path: &RemotePath) -> Result<Option<NodeInfo>, ClientError> {
    match client.stat_optional(&path.to_string()).await {
        Err(e) if e.code() == Some(ErrorCode::NotAFolder) => Ok(None),
        other => other,
    }
}

/// Sets a flag when dropped, so blocking work started for a cancelled future stops.
pub(crate) struct CancelOnDrop(Arc<AtomicBool>);

impl CancelOnDrop {
    pub(crate) fn new() -> Self {
        Self(Arc::new(AtomicBool::new(false)))
    }

    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub(crate) fn check_cancel(flag: &AtomicBool) -> std::io::Result<()> {
    if flag.load(Ordering::Relaxed) {
        return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "upload cancelled"));
    }
    Ok(())
}

/// What an upload reads: the bytes, the modification time in Unix ms, the mode.
pub(crate) type Source = (Box<dyn Read + Send>, Option<i64>, FileMode);

/// Opens a local path for an upload as `open` says.
pub(crate) fn open_file(path: &std::path::Path, open: Open) -> std::io::Result<Source> {
    if open == Open::Link {
        let meta = std::fs::symlink_metadata(path)?;
        if !meta.file_type().is_symlink() {
            return Err(std::io::Error::other("no longer a symbolic link"));
        }
        let target = link_target(path)?;
        return Ok((Box::new(std::io::Cursor::new(target)), mtime_of(&meta), FileMode::Symlink));
    }
    let file = if open == Open::NoFollow { open_nofollow(path)? } else { File::open(path)? };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok((Box::new(file), mtime_of(&meta), mode_of(&meta)))
}

/// Opens a file for reading, refusing a symbolic link in its place.
pub(crate) fn open_nofollow(path: &std::path::Path) -> std::io::Result<File> {
    let mut options = File::options();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options.open(path).map_err(|e| match e.raw_os_error() {
        #[cfg(unix)]
        Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => {
            std::io::Error::other("a symbolic link where a file was expected")
        }
        _ => e,
    })
}

/// A symbolic link's target as bytes (never followed).
pub fn link_target(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let target = std::fs::read_link(path)?;
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = target.to_string_lossy().into_owned().into_bytes();
    Ok(bytes)
}

/// A regular file's mode: executable when its owner may run it.
pub fn mode_of(meta: &std::fs::Metadata) -> FileMode {
    #[cfg(unix)]
    if std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o100 != 0 {
        return FileMode::Executable;
    }
    let _ = meta;
    FileMode::Regular
}

/// A modification time in Unix ms.
fn mtime_of(meta: &std::fs::Metadata) -> Option<i64> {
    meta.modified().ok().map(|t| match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    })
}

pub(crate) fn chunk_ref(chunk: &Chunk) -> std::io::Result<ChunkRef> {
    let size = u32::try_from(chunk.data.len()).map_err(|_| std::io::Error::other("chunk larger than 4 GiB"))?;
    Ok(ChunkRef { hash: chunk.hash, size })
}

pub(crate) fn join_error(e: tokio::task::JoinError) -> ClientError {
    ClientError::Io(std::io::Error::other(format!("a worker task failed: {e}")))
}

/// The state shared by every job of one [`upload`].
pub(crate) struct Ctx<'a> {
    pub client: &'a Client,
    pub progress: ProgressFn,
    pub limits: Limits,
    /// One permit per chunk request in flight.
    pub permits: Semaphore,
    /// See [`UploadOptions::fresh_destination`].
    pub fresh: bool,
}

/// Checks every item: a valid remote path and a regular local file.
fn scan(items: Vec<UploadItem>) -> (Vec<Entry>, Vec<Done>) {
    let mut entries = Vec::with_capacity(items.len());
    let mut failed = Vec::new();
    let mut seen = HashSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let fail = |msg: String| {
            let (i, mut r) = report_of(index, item.local.clone(), item.remote.clone(), FileStatus::Failed, 0);
            r.error = Some(msg);
            (i, r)
        };
        let path = match RemotePath::parse(&item.remote) {
            Ok(p) if p.is_root() => {
                failed.push(fail("the destination is the root folder".into()));
                continue;
            }
            Ok(p) => p,
            Err(e) => {
                failed.push(fail(format!("invalid remote path: {e}")));
                continue;
            }
        };
        if !seen.insert(path_key(&path)) {
            failed.push(fail("the same destination appears twice in this upload".into()));
            continue;
        }
        // With an expected mode the path itself is looked at, never what a link names.
        let open = match item.expect.and_then(|e| e.mode) {
            None => Open::Follow,
            Some(FileMode::Symlink) => Open::Link,
            Some(_) => Open::NoFollow,
        };
        let meta = match open {
            Open::Follow => std::fs::metadata(&item.local),
            Open::NoFollow | Open::Link => std::fs::symlink_metadata(&item.local),
        };
        match meta {
            Ok(m) if m.is_file() || (open == Open::Link && m.file_type().is_symlink()) => entries.push(Entry {
                index,
                local: item.local,
                remote: item.remote,
                path,
                size: m.len(),
                expect: item.expect,
                node_id: item.node_id,
                open,
            }),
            Ok(m) if m.file_type().is_symlink() => {
                failed.push(fail("a symbolic link where a file was expected".into()))
            }
            Ok(_) if open == Open::Link => failed.push(fail("no longer a symbolic link".into())),
            Ok(_) => failed.push(fail("not a regular file".into())),
            Err(e) => failed.push(fail(e.to_string())),
        }
    }
    (entries, failed)
}

/// Uploads `items` and reports on each, in order. Files fail one by one (a conflict,
/// an unreadable file); `Err` is kept for failures that stop everything: the server is
/// unreachable after retries, answers nonsense, or no longer accepts the token.
pub async fn upload(
    client: &Client,
    items: Vec<UploadItem>,
    opts: &UploadOptions,
    progress: Arc<dyn Fn(Progress) + Send + Sync>,
) -> Result<UploadReport, ClientError> {
    let limits = Limits::new(opts);
    let count = items.len();
    let (entries, failed) = tokio::task::spawn_blocking(move || scan(items)).await.map_err(join_error)?;
    progress(Progress::Scanned { files: entries.len() as u64, bytes: entries.iter().map(|e| e.size).sum() });
    let mut reports: Vec<Option<FileReport>> = (0..count).map(|_| None).collect();
    let mut record = |(index, report): Done| {
        progress(Progress::FileDone(report.remote.clone()));
        if let Some(slot) = reports.get_mut(index) {
            *slot = Some(report);
        }
    };
    failed.into_iter().for_each(&mut record);

    let sizes: Vec<u64> = entries.iter().map(|e| e.size).collect();
    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
    let mut take = |i: usize| slots.get_mut(i).and_then(Option::take);
    let work: Vec<Work> = plan_jobs(&sizes, &limits)
        .into_iter()
        .filter_map(|job| match job {
            Job::Batch(ix) => Some(Work::Batch(ix.into_iter().filter_map(&mut take).collect())),
            Job::Large(i) => take(i).map(Work::Large),
        })
        .collect();
    let ctx = Ctx {
        client,
        progress: progress.clone(),
        limits,
        permits: Semaphore::new(limits.concurrency),
        fresh: opts.fresh_destination,
    };
    let mut running = futures::stream::iter(work)
        .map(|w| async {
            match w {
                Work::Batch(entries) => batch::run(&ctx, entries).await,
                Work::Large(entry) => large::run(&ctx, entry).await,
            }
        })
        .buffer_unordered(PARALLEL_JOBS);
    while let Some(done) = running.next().await {
        done?.into_iter().for_each(&mut record);
    }
    drop(running);

    let files: Vec<FileReport> = reports.into_iter().flatten().collect();
    if files.len() != count {
        return Err(ClientError::Protocol(format!("{} of {count} files got no report", count - files.len())));
    }
    let bytes_total = files.iter().map(|f| f.bytes_total).sum();
    let bytes_sent = files.iter().map(|f| f.bytes_sent).sum();
    Ok(UploadReport { files, bytes_total, bytes_sent })
}

enum Work {
    Batch(Vec<Entry>),
    Large(Entry),
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn limits(batch_files: usize, batch_bytes: usize) -> Limits {
        Limits::new(&UploadOptions { concurrency: 4, batch_files, batch_bytes, fresh_destination: false })
    }

    #[test]
    fn options_are_clamped() {
        let l =
            Limits::new(&UploadOptions { concurrency: 0, batch_files: 0, batch_bytes: 0, fresh_destination: false });
        assert_eq!((l.concurrency, l.batch_files, l.batch_bytes, l.small_max), (1, 1, 1, 0));
        assert_eq!(limits(100_000, 16 << 20).batch_files, MAX_COMMIT_FILES);
        assert_eq!(Limits::new(&UploadOptions::default()).small_max, 4 * MIB);
    }

    #[test]
    fn small_files_are_batched_by_count_and_bytes() {
        let l = limits(3, 16 << 20);
        let sizes = [10, 0, 20, 30, 40, 4 * MIB, 4 * MIB + 1, 5];
        assert_eq!(
            plan_jobs(&sizes, &l),
            vec![Job::Batch(vec![0, 1, 2]), Job::Large(6), Job::Batch(vec![3, 4, 5]), Job::Batch(vec![7])]
        );
        // By bytes: 4 files of 4 MiB fill a 16 MiB batch exactly.
        let l = limits(256, 16 << 20);
        let sizes = [4 * MIB, 4 * MIB, 4 * MIB, 4 * MIB, 1];
        assert_eq!(plan_jobs(&sizes, &l), vec![Job::Batch(vec![0, 1, 2, 3]), Job::Batch(vec![4])]);
        assert!(plan_jobs(&[], &l).is_empty());
        // A tiny budget still makes progress: empty files batch, others go alone.
        let l = limits(256, 1);
        assert_eq!(plan_jobs(&[0, 0, 1], &l), vec![Job::Large(2), Job::Batch(vec![0, 1])]);
    }

    #[test]
    fn path_keys_ignore_case_and_leading_slash() {
        let a = RemotePath::parse("/Docs/Report.TXT").expect("valid");
        let b = RemotePath::parse("docs/report.txt").expect("valid");
        assert_eq!(path_key(&a), path_key(&b));
        assert_eq!(path_key(&a), "/docs/report.txt");
        assert_eq!(path_key(&RemotePath::root()), "");
    }

    #[test]
    fn scan_refuses_bad_items() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, b"abc").expect("write");
        let item = |local: &std::path::Path, remote: &str| UploadItem::new(local, remote);
        let items = vec![
            item(&file, "/a/f"),
            item(&file, "/"),
            item(&file, "/a/../f"),
            item(dir.path(), "/d"),
            item(&dir.path().join("missing"), "/m"),
            item(&file, "/A/F"),
        ];
        let (entries, failed) = scan(items);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].size, 3);
        let failed: Vec<usize> = failed.iter().map(|(i, _)| *i).collect();
        assert_eq!(failed, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn the_upload_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let client = Client::new("http://127.0.0.1:9", None).expect("valid");
        let opts = UploadOptions::default();
        let fut = upload(&client, Vec::new(), &opts, Arc::new(|_| {}));
        assert_send(&fut);
    }
}
