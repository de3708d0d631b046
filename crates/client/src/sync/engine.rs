//! One synced folder: rounds of catch up with the journal, scan the disk, plan, carry
//! out the plan, until nothing is left to do.
//!
//! Every step re-checks its premise before it touches anything: a download replaces a
//! file only if the file is still exactly what the scan saw (and the scan saw it equal to
//! the base), a local delete removes only such a file or an empty folder, an upload
//! commits against the revision the edit started from (a newer one is a conflict, planned
//! in the next round). Deletions on the server go to its trash. A folder that scans as
//! empty while the base remembers files is refused as a whole: an unmounted disk or a
//! mistaken `rm -rf` is never synced as deletes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::time::SystemTime;

use coffer_core::{ErrorCode, RemotePath};

use futures::StreamExt;

use super::names::{FsRules, leave_out_unholdable};
use super::plan::{Entry, Kind, Op, Tree, Trees, fence_shared, key, plan};
use super::remote::RemoteTree;
use super::scan::{Ignore, SETTLE_TIME, STATE_DIR, Skipped, Stamp, scan, stamp_of};
use super::state::{CASE_RENAME_STEP, MoveSide, StateError, SyncState};
use crate::api::Client;
use crate::error::ClientError;

/// Largest text file merged line by line when edited on two sides (bigger ones are
/// kept as two versions).
pub const MERGE_LIMIT: u64 = 4 << 20;

mod brake;
mod controls;
mod detach;
mod files;
mod identity;

pub use brake::{Brake, DeleteSide, HeldDelete};
pub use identity::FolderIdentity;

use detach::leave_out_detached;

/// Rounds before `sync_until_idle` gives up (each round makes progress or stops).
const MAX_ROUNDS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(
        "'{0}' is empty but {1} synced files are remembered: if the folder was emptied on purpose, \
         delete the files on the server instead; nothing was changed"
    )]
    FolderEmptied(PathBuf, usize),
    #[error(
        "the account's files are gone from the server but {0} synced files are remembered here: \
         restore them from the server's trash, or move this folder away to start over; nothing was changed"
    )]
    RemoteEmptied(usize),
    #[error("'{0}' {1}; nothing was changed. If this is the folder to sync now, run `coffer sync {0} --relink`")]
    FolderGone(PathBuf, String),
    #[error("sync interrupted on purpose (a simulated crash)")]
    Interrupted,
}

/// Where a synced folder stands (`coffer status`).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SyncStatus {
    pub folder: String,
    /// Nothing to upload, download or resolve.
    pub up_to_date: bool,
    /// Changes here waiting to reach the server (files, folders, moves, deletes).
    pub to_upload: usize,
    /// Changes on the server waiting to reach this folder.
    pub to_download: usize,
    /// Files changed on both sides, to be merged or kept as two versions.
    pub to_resolve: usize,
    /// Conflicted copies in the folder (both versions were kept; a person decides).
    pub conflicted_copies: Vec<String>,
    /// Folders left out of this device's sync.
    pub excluded: Vec<String>,
    /// Folders kept on this device but no longer synced, and why (a shared folder the
    /// user is no longer in).
    pub detached: Vec<(String, String)>,
    /// Items not synced, and why.
    pub not_synced: Vec<(String, String)>,
    /// Deletions the mass-delete brake holds until `confirm_deletes` or `undo_deletes`.
    pub held_deletes: Vec<HeldDelete>,
    /// Steps the last sync could not carry out (retried next time), with the error.
    pub failed: Vec<(String, String)>,
    /// Syncing is paused (`coffer pause`).
    pub paused: bool,
    /// How the disk under the folder treats names, as probed ("case-sensitive", ...).
    pub disk: String,
    /// When the last sync ended (ms since the epoch), and its error if it failed.
    pub last_sync_at: Option<i64>,
    pub last_error: Option<String>,
}

/// What one `sync_until_idle` did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SyncReport {
    pub rounds: usize,
    pub uploaded: usize,
    pub downloaded: usize,
    pub deleted_remote: usize,
    pub deleted_local: usize,
    pub moved_remote: usize,
    pub moved_local: usize,
    pub conflicts: usize,
    /// Text files edited on both sides whose edits were merged into one new revision.
    pub merged: usize,
    /// Chunk bytes uploaded (only what the server lacked).
    pub bytes_up: u64,
    /// File bytes downloaded, and bytes a download copied from files already on this
    /// device instead.
    pub bytes_down: u64,
    pub bytes_reused: u64,
    /// Steps that failed (they are retried next time), with why.
    pub failed: Vec<(String, String)>,
    /// Paths not synced, with why (ignored, invalid names, still being written...).
    pub not_synced: Vec<(String, String)>,
    /// Deletions the mass-delete brake held in the last round.
    pub held_deletes: Vec<HeldDelete>,
    /// Nothing was done: syncing is paused.
    pub paused: bool,
}

impl SyncReport {
    /// Adds a later pass's work to this one; what failed and what was not synced are
    /// the later pass's (the earlier ones were tried again).
    pub fn absorb(&mut self, later: SyncReport) {
        self.rounds += later.rounds;
        self.uploaded += later.uploaded;
        self.downloaded += later.downloaded;
        self.deleted_remote += later.deleted_remote;
        self.deleted_local += later.deleted_local;
        self.moved_remote += later.moved_remote;
        self.moved_local += later.moved_local;
        self.conflicts += later.conflicts;
        self.merged += later.merged;
        self.bytes_up += later.bytes_up;
        self.bytes_down += later.bytes_down;
        self.bytes_reused += later.bytes_reused;
        self.failed = later.failed;
        self.not_synced = later.not_synced;
        self.held_deletes = later.held_deletes;
        self.paused = later.paused;
    }

    /// Files skipped because they were still being written when the folder was scanned.
    pub fn still_being_written(&self) -> usize {
        let waiting = Skipped::StillChanging.to_string();
        self.not_synced.iter().filter(|(_, why)| *why == waiting).count()
    }
}

/// Downloads in flight at once (most are small files: latency, not bandwidth).
const PARALLEL_DOWNLOADS: usize = 16;

/// The temporary file a download of revision `rev` is written to.
fn tmp_name_of(rev: i64) -> String {
    format!("download-{rev}-{}", std::process::id())
}

/// Notes a failed step (planned again next round), or stops the round on errors that
/// stop the sync: the server unreachable or refusing the token, a simulated crash.
fn step_failed(op: &Op, result: Result<(), SyncError>, report: &mut SyncReport) -> Result<(), SyncError> {
    match result {
        Ok(()) => Ok(()),
        Err(SyncError::Client(c)) if c.code().is_none_or(|code| code == ErrorCode::Unauthorized) => {
            Err(SyncError::Client(c))
        }
        Err(SyncError::Interrupted) => Err(SyncError::Interrupted),
        Err(e) => {
            report.failed.push((op.describe(), e.to_string()));
            Ok(())
        }
    }
}

/// What a round starts from.
struct Observation {
    trees: Trees,
    remote: RemoteTree,
    stamps: HashMap<String, Stamp>,
    not_synced: Vec<(String, String)>,
    /// What the ignore rules keep on this device.
    ignored: Vec<String>,
}

/// Selective sync: below an excluded folder nothing is downloaded, and what was synced
/// there is removed from the disk (the server keeps it). Local changes there that were
/// never synced stay on the disk, untouched and not uploaded.
/// Whether a key is one of `keys` or lies below one.
fn below_any(keys: Vec<String>) -> impl Fn(&str) -> bool {
    move |k: &str| keys.iter().any(|e| k == e || (k.starts_with(e.as_str()) && k.as_bytes()[e.len()] == b'/'))
}

fn leave_out_excluded(trees: &mut Trees, excluded: &[RemotePath]) {
    if excluded.is_empty() {
        return;
    }
    let inside = below_any(excluded.iter().map(key).collect());
    trees.remote.retain(|k, _| !inside(k));
    // Only what is exactly as synced is taken away (the planner deletes it locally);
    // the folders holding anything else stay, out of the planner's sight.
    let synced = &trees.synced;
    let kept: Vec<String> = trees
        .local
        .iter()
        .filter(|(k, (_, l))| inside(k) && !synced.get(*k).is_some_and(|(_, b)| b.same_as(l)))
        .map(|(k, _)| k.clone())
        .collect();
    let holds_kept = |k: &str| kept.iter().any(|c| c == k || (c.starts_with(k) && c.as_bytes()[k.len()] == b'/'));
    trees.local.retain(|k, _| !inside(k) || !holds_kept(k));
    let local = &trees.local;
    trees.synced.retain(|k, _| !inside(k) || local.contains_key(k));
}

/// The mounts as the planner's fence takes them.
fn fence_of(mounts: &[Mount]) -> Vec<(RemotePath, coffer_core::Role)> {
    mounts.iter().map(|(p, role, _)| (p.clone(), *role)).collect()
}

/// A shared folder mounted in the account: where, the user's role, its namespace.
type Mount = (RemotePath, coffer_core::Role, i64);

pub struct Engine {
    client: Client,
    root: PathBuf,
    state: SyncState,
    device: String,
    settle: std::time::Duration,
    /// Steps left before a simulated crash (negative: none planned).
    crash_countdown: std::sync::atomic::AtomicI64,
    /// File bytes fetched from the server, and copied from files already here instead.
    bytes_down: std::sync::atomic::AtomicU64,
    bytes_reused: std::sync::atomic::AtomicU64,
    brake: Brake,
    /// What the folder was when this sync attached to it (checked every round).
    identity: Option<FolderIdentity>,
    /// What names the disk can hold (probed when the folder is opened).
    fs_rules: FsRules,
}

/// Where the brake keeps its lists in the folder's state.
const HELD_DELETES: &str = "held_deletes";
const CONFIRMED_DELETES: &str = "confirmed_deletes";
/// The steps the last sync could not carry out.
const LAST_FAILED: &str = "last_failed";
/// How the disk treats names, as last probed.
const FS_RULES: &str = "fs_rules";

fn local_path(root: &Path, path: &RemotePath) -> PathBuf {
    path.names().iter().fold(root.to_path_buf(), |p, n| p.join(n.as_str()))
}

/// Where a path is on disk: below the deepest folder (or the item itself) the scan
/// found under the path's key, spelled as found (names that differ only by case share a
/// key), then as the path says.
fn on_disk(root: &Path, local: &Tree, path: &RemotePath) -> PathBuf {
    let names = path.names();
    for depth in (1..=names.len()).rev() {
        let ancestor = names[..depth].iter().fold(RemotePath::root(), |p, n| p.join(n.clone()));
        if let Some((found, _)) = local.get(&key(&ancestor)) {
            return names[depth..].iter().fold(local_path(root, found), |p, n| p.join(n.as_str()));
        }
    }
    local_path(root, path)
}

/// Where a new item goes on disk: into its parent as found, under its own name.
fn new_on_disk(root: &Path, local: &Tree, path: &RemotePath) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => on_disk(root, local, &parent).join(name.as_str()),
        _ => root.to_path_buf(),
    }
}

/// Whether every folder between the synced folder and `path` is a real folder, not a
/// symbolic link (which could lead outside): the engine writes, moves and deletes only
/// there. The item itself may be a link; folders still to be made are fine.
fn within(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else { return false };
    let mut names: Vec<_> = relative.components().collect();
    names.pop();
    let mut at = root.to_path_buf();
    for name in names {
        at.push(name);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.is_dir() => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
            _ => return false,
        }
    }
    true
}

/// Whether `path`'s folder lists an item spelled exactly as its last name (a lookup on a
/// case-insensitive disk finds other spellings too).
pub(crate) fn listed_exactly(path: &Path) -> bool {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return false };
    std::fs::read_dir(dir).is_ok_and(|rd| rd.flatten().any(|e| e.file_name() == name))
}

fn stamp_now(path: &Path) -> Option<Stamp> {
    std::fs::symlink_metadata(path).ok().map(|m| stamp_of(&m))
}

impl Engine {
    /// Opens the folder's state (in `root/.coffer`).
    pub async fn open(client: Client, root: &Path, device: &str) -> Result<Self, SyncError> {
        std::fs::create_dir_all(root)?;
        let state = SyncState::open(&root.join(STATE_DIR)).await?;
        let tmp = root.join(STATE_DIR).join("tmp");
        std::fs::create_dir_all(&tmp)?;
        // Downloads put in place and local moves made just before a crash, whose base
        // was not recorded yet.
        state.recover_placements(&tmp).await?;
        state.recover_local_moves(root).await?;
        // Downloads a crash interrupted: never in place, so simply dropped.
        for entry in std::fs::read_dir(&tmp)?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
        let mut engine = Self::with_state(client, root, state, device);
        // Kept for `coffer status`, which looks without writing anything.
        engine.fs_rules = FsRules::probe(&root.join(STATE_DIR).join("probe"))?;
        engine.state.set_meta_json(FS_RULES, &engine.fs_rules).await?;
        Ok(engine)
    }

    fn with_state(client: Client, root: &Path, state: SyncState, device: &str) -> Self {
        Self {
            client,
            root: root.to_path_buf(),
            state,
            device: device.to_owned(),
            settle: SETTLE_TIME,
            crash_countdown: std::sync::atomic::AtomicI64::new(-1),
            bytes_down: Default::default(),
            bytes_reused: Default::default(),
            brake: Brake::default(),
            identity: None,
            fs_rules: FsRules::default(),
        }
    }

    /// Opens a synced folder's state to look at it, while a sync of it may be running:
    /// nothing on disk is cleaned up or recovered. `None` if the folder was never synced.
    pub async fn inspect(client: Client, root: &Path) -> Result<Option<Self>, SyncError> {
        if !root.join(STATE_DIR).join("state.db").is_file() {
            return Ok(None);
        }
        let state = SyncState::open(&root.join(STATE_DIR)).await?;
        let mut engine = Self::with_state(client, root, state, "");
        engine.fs_rules = engine.state.meta_json(FS_RULES).await?.unwrap_or_default();
        Ok(Some(engine))
    }

    /// Where the folder stands: what a sync would do now (nothing is changed to find
    /// out), the conflicted copies in it, what is excluded or not synced, and how the
    /// last sync ended.
    pub async fn status(&self) -> Result<SyncStatus, SyncError> {
        let (last_sync_at, last_error) = self.state.last_result().await?;
        let excluded = self.state.excluded().await?.iter().map(|p| p.to_string()).collect();
        let detached = self.state.detached().await?.into_iter().map(|(p, why)| (p.to_string(), why)).collect();
        let seen = self.observe(false).await?;
        let mounts = fence_of(&self.mounts().await?);
        let ops = fence_shared(plan(&seen.trees, "", ""), &seen.trees, &mounts, "", "");
        let confirmed: Vec<HeldDelete> = self.state.meta_json(CONFIRMED_DELETES).await?.unwrap_or_default();
        let (ops, held_deletes) = brake::hold(ops, &seen.trees, self.brake, &confirmed);
        let mut status = SyncStatus {
            held_deletes,
            paused: self.paused().await?,
            disk: self.fs_rules.describe(),
            folder: self.root.display().to_string(),
            excluded,
            detached,
            not_synced: seen.not_synced,
            failed: self.state.meta_json(LAST_FAILED).await?.unwrap_or_default(),
            last_sync_at,
            last_error,
            ..SyncStatus::default()
        };
        for path in seen.ignored {
            let why = "ignored: a temporary file or a .cofferignore pattern, kept on this device only";
            status.not_synced.push((path, why.to_string()));
        }
        for op in &ops {
            match op {
                Op::Upload { .. } | Op::CreateRemoteFolder { .. } | Op::DeleteRemote { .. } | Op::MoveRemote { .. } => {
                    status.to_upload += 1
                }
                Op::Download { .. } | Op::CreateLocalFolder { .. } | Op::DeleteLocal { .. } | Op::MoveLocal { .. } => {
                    status.to_download += 1
                }
                Op::MoveLocalAside { .. } => status.to_resolve += 1,
                Op::KeepAside { path, copy } => {
                    status.to_resolve += 1;
                    status.not_synced.push((
                        path.to_string(),
                        format!("changed in a shared folder you may only read: kept aside as {copy}"),
                    ));
                }
                Op::Record { .. } => {}
            }
        }
        status.up_to_date =
            status.to_upload + status.to_download + status.to_resolve == 0 && status.held_deletes.is_empty();
        status.conflicted_copies = seen
            .trees
            .local
            .values()
            .filter(|(p, _)| p.file_name().is_some_and(|n| n.as_str().contains("'s conflicted copy ")))
            .map(|(p, _)| p.to_string())
            .collect();
        Ok(status)
    }

    /// Where the shared folders this user is in are mounted in their tree, with their role
    /// there (none on a server without shared folders).
    async fn mounts(&self) -> Result<Vec<Mount>, SyncError> {
        match self.client.shares(None, false).await {
            Ok(r) => Ok(r
                .shares
                .into_iter()
                .filter_map(|s| Some((RemotePath::parse(&s.path).ok()?, s.role, s.namespace_id)))
                .collect()),
            Err(e) if e.code() == Some(ErrorCode::NotFound) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// The folders kept on this device but no longer synced, with why.
    pub async fn detached(&self) -> Result<Vec<(RemotePath, String)>, SyncError> {
        Ok(self.state.detached().await?)
    }

    /// Remembers how a sync ended, for `status`.
    pub async fn note_result(&self, at_ms: i64, error: Option<&str>) -> Result<(), SyncError> {
        Ok(self.state.set_last_result(at_ms, error).await?)
    }

    /// The folders left out of this device's sync.
    pub async fn excluded(&self) -> Result<Vec<RemotePath>, SyncError> {
        Ok(self.state.excluded().await?)
    }

    /// Sets the folders left out of this device's sync: the next round removes their
    /// synced contents from the disk (never from the server) and stops downloading
    /// them; taking one off the list brings it back.
    pub async fn set_excluded(&self, paths: &[RemotePath]) -> Result<(), SyncError> {
        Ok(self.state.set_excluded(paths).await?)
    }

    /// For crash tests: the `n`-th step from now makes its change (on disk or on the
    /// server) and then, instead of being recorded, fails with [`SyncError::Interrupted`],
    /// leaving what a crash at that moment would leave. Drop the engine and open it again
    /// to recover, as a restarted process would.
    pub fn interrupt_after_steps(&mut self, n: usize) {
        self.crash_countdown.store(n as i64, std::sync::atomic::Ordering::SeqCst);
    }

    /// Called between a step's effect and its record.
    fn checkpoint(&self) -> Result<(), SyncError> {
        use std::sync::atomic::Ordering::SeqCst;
        let left = self.crash_countdown.load(SeqCst);
        if left < 0 {
            return Ok(());
        }
        self.crash_countdown.store(left - 1, SeqCst);
        if left <= 1 { Err(SyncError::Interrupted) } else { Ok(()) }
    }

    /// How long a file must be left alone before it is uploaded. A caller with a file
    /// watcher (which reports when writing stopped) can shorten it.
    pub fn set_settle_time(&mut self, settle: std::time::Duration) {
        self.settle = settle;
    }

    /// How the disk treats names, as probed when the folder was opened.
    pub fn fs_rules(&self) -> FsRules {
        self.fs_rules
    }

    /// Syncs as if the disk had these name rules (a simulated device whose disk the
    /// probe cannot see as such).
    pub fn set_fs_rules(&mut self, rules: FsRules) {
        self.fs_rules = rules;
    }

    /// Rounds until a plan comes back empty. `date` (YYYY-MM-DD) names conflicted copies.
    pub async fn sync_until_idle(&mut self, date: &str) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let (down, reused) = (self.bytes_down.load(Relaxed), self.bytes_reused.load(Relaxed));
        for _ in 0..MAX_ROUNDS {
            report.rounds += 1;
            if !self.round(date, &mut report).await? {
                break;
            }
        }
        report.bytes_down = self.bytes_down.load(Relaxed) - down;
        report.bytes_reused = self.bytes_reused.load(Relaxed) - reused;
        self.state.set_meta_json(LAST_FAILED, &report.failed).await?;
        Ok(report)
    }

    /// One round; false when there was nothing to do.
    async fn round(&mut self, date: &str, report: &mut SyncReport) -> Result<bool, SyncError> {
        if let Some(why) = self.identity.as_ref().and_then(|k| identity::problem(&self.root, k)) {
            return Err(SyncError::FolderGone(self.root.clone(), why));
        }
        if self.paused().await? {
            report.paused = true;
            return Ok(false);
        }
        report.paused = false;
        let mounts = self.mounts().await?;
        self.detach_lost_mounts(&mounts).await?;
        let mounts = fence_of(&mounts);
        let mut seen = self.observe(true).await?;
        report.not_synced = std::mem::take(&mut seen.not_synced);
        let ops = fence_shared(plan(&seen.trees, &self.device, date), &seen.trees, &mounts, &self.device, date);
        tracing::debug!(folder = %self.root.display(), ?ops, "planned");
        let confirmed: Vec<HeldDelete> = self.state.meta_json(CONFIRMED_DELETES).await?.unwrap_or_default();
        let confirmed = brake::still_planned(confirmed, &ops, &seen.trees);
        let (ops, held) = brake::hold(ops, &seen.trees, self.brake, &confirmed);
        if !held.is_empty() {
            tracing::warn!(folder = %self.root.display(), held = held.len(), "mass deletion held");
        }
        self.state.set_meta_json(CONFIRMED_DELETES, &confirmed).await?;
        self.state.set_meta_json(HELD_DELETES, &held).await?;
        report.held_deletes = held;
        if ops.is_empty() {
            return Ok(false);
        }
        // Moves, conflicted copies, folders and records first, in plan order; then the
        // uploads (batched: many files per request) and the downloads (several at once);
        // deletions last.
        let (mut uploads, mut downloads, mut deletes, mut others) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for op in ops {
            match op {
                Op::Upload { .. } => uploads.push(op),
                Op::Download { .. } => downloads.push(op),
                Op::DeleteRemote { .. } | Op::DeleteLocal { .. } => deletes.push(op),
                _ => others.push(op),
            }
        }
        for op in &others {
            let result = self.execute(op, &seen.trees, &seen.remote, &seen.stamps, report).await;
            step_failed(op, result, report)?;
        }
        let this: &Engine = self;
        let seen = &seen;
        let (up, down) = tokio::join!(this.upload_all(&uploads, &seen.trees), async {
            futures::stream::iter(&downloads)
                .map(|op| async move {
                    let mut mine = SyncReport::default();
                    let result = this.execute(op, &seen.trees, &seen.remote, &seen.stamps, &mut mine).await;
                    (op, result, mine)
                })
                .buffer_unordered(PARALLEL_DOWNLOADS)
                .collect::<Vec<_>>()
                .await
        });
        for (op, result, mine) in down {
            report.downloaded += mine.downloaded;
            step_failed(op, result, report)?;
        }
        let up = up?;
        report.uploaded += up.uploaded;
        report.bytes_up += up.bytes_up;
        report.failed.extend(up.failed);
        for op in &deletes {
            let result = self.execute(op, &seen.trees, &seen.remote, &seen.stamps, report).await;
            step_failed(op, result, report)?;
        }
        Ok(true)
    }

    /// What there is now: the server's tree (caught up with the journal), the disk's (a
    /// scan), and the base, ready for the planner. With `save`, what was learned (journal
    /// changes, stamps) is kept for the next round; without, nothing is written.
    async fn observe(&self, save: bool) -> Result<Observation, SyncError> {
        let mut loaded = self.state.load().await?;
        let excluded = self.state.excluded().await?;
        let detached = self.state.detached().await?;
        let mut remote = std::mem::take(&mut loaded.remote);
        // The root never appears in the journal: learn its id, so paths can be built.
        let root = self.client.stat("/").await?;
        remote.insert_node(super::remote::RemoteNode::root(root.id));
        let mut cursor = std::mem::take(&mut loaded.cursor);
        loop {
            let d = self.client.delta(Some(&cursor), Some(2000)).await?;
            if save {
                self.state.apply_remote(&d.changes, &d.cursor).await?;
            }
            for c in &d.changes {
                remote.apply(c);
            }
            cursor = d.cursor;
            if !d.has_more {
                break;
            }
        }
        // Server moves made just before a crash: if the server has the node where it was
        // going, the base follows now.
        if save && self.state.recover_remote_moves(&remote).await? {
            loaded.synced = self.state.load().await?.synced;
        }
        let remote_tree = remote.to_tree();
        // Uploads committed just before a crash: the base learns of them now.
        if save
            && self.state.has_noted_uploads().await?
            && self.state.recover_uploads(&remote.to_tree_with_trashed()).await?
        {
            loaded.synced = self.state.load().await?.synced;
        }
        let root = self.root.clone();
        let stamps = loaded.stamps.clone();
        let known: HashMap<String, u64> =
            loaded.synced.iter().filter_map(|(k, (_, e))| e.ino.map(|ino| (k.clone(), ino))).collect();
        let (settle, rules) = (self.settle, self.fs_rules);
        let scanned = tokio::task::spawn_blocking(move || {
            let ignore = Ignore::load(&root)?;
            scan(&root, (&stamps, &known), &ignore, &rules, SystemTime::now(), settle)
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
        if save {
            self.state.save_stamps(&loaded.stamps, &scanned.stamps, &scanned.chunks).await?;
        }
        let remembered = loaded.synced.values().filter(|(_, e)| e.kind == Kind::File).count();
        // Nothing at all there (not even a file being written or ignored) while files
        // were synced: an unmounted disk or a mistaken `rm -rf`, never mirrored as deletes.
        let nothing_there = scanned.tree.is_empty() && scanned.unsure.is_empty() && scanned.skipped.is_empty();
        if nothing_there && remembered > 0 {
            return Err(SyncError::FolderEmptied(self.root.clone(), remembered));
        }
        let mut not_synced: Vec<(String, String)> = scanned
            .skipped
            .iter()
            .filter(|(_, why)| !matches!(why, Skipped::Ignored))
            .map(|(p, why)| (p.clone(), why.to_string()))
            .collect();
        let ignored =
            scanned.skipped.iter().filter(|(_, why)| matches!(why, Skipped::Ignored)).map(|(p, _)| p.clone()).collect();
        let mut local = scanned.tree;
        // Whatever the scan left out (still being written, unreadable, ignored since it
        // was synced) or could not read stays as it was synced, with everything below
        // it: it must never look deleted.
        let left_out = scanned
            .skipped
            .iter()
            // A name clashing with a synced one is another, new item.
            .filter(|(_, why)| !matches!(why, Skipped::NameClash(_)))
            .filter_map(|(relative, _)| RemotePath::parse(relative).ok())
            .chain(scanned.unsure.iter().cloned());
        for path in left_out {
            let prefix = key(&path);
            let below = format!("{prefix}/");
            for (k, v) in &loaded.synced {
                if (k == &prefix || k.starts_with(&below)) && !local.contains_key(k) {
                    local.insert(k.clone(), v.clone());
                }
            }
        }
        if remote_tree.is_empty() && remembered > 0 {
            // Another account, another server, or everything deleted there at once:
            // never mirrored as local deletes without a person deciding.
            return Err(SyncError::RemoteEmptied(remembered));
        }
        let mut trees = Trees { remote: remote_tree, local, synced: loaded.synced };
        leave_out_excluded(&mut trees, &excluded);
        leave_out_detached(&mut trees, &detached);
        not_synced.extend(leave_out_unholdable(&mut trees, &self.fs_rules));
        let stamps = scanned.stamps.iter().map(|(k, (s, _))| (k.clone(), *s)).collect();
        Ok(Observation { trees, remote, stamps, not_synced, ignored })
    }

    async fn execute(
        &self,
        op: &Op,
        trees: &Trees,
        remote: &RemoteTree,
        stamps: &HashMap<String, Stamp>,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        match op {
            // Sent in batches: see `upload_all`.
            Op::Upload { .. } => {}
            Op::CreateRemoteFolder { path } => {
                let node = self.client.mkdir(&path.to_string(), true).await?;
                self.record(trees, path, Entry::folder().with_id(Some(node.id))).await?;
            }
            Op::MoveRemote { from, to } => {
                if let Some(parent) = to.parent()
                    && !parent.is_root()
                    && !trees.remote.contains_key(&key(&parent))
                {
                    self.client.mkdir(&parent.to_string(), true).await?;
                }
                // Noted first: a crash after the server moved it but before the base
                // followed is recovered by the next round (the server then says where
                // the node is), so the item is not taken for a new one.
                let id = trees.synced.get(&key(from)).and_then(|(_, e)| e.id);
                self.state.note_move(from, to, MoveSide::Remote { node_id: id }).await?;
                match self.client.move_node(&from.to_string(), &to.to_string()).await {
                    Ok(_) => {}
                    // Gone or taken meanwhile: the next round sees why and plans anew.
                    Err(e) if matches!(e.code(), Some(ErrorCode::NotFound | ErrorCode::AlreadyExists)) => {
                        return Ok(());
                    }
                    Err(e) => return Err(e.into()),
                }
                self.checkpoint()?;
                self.state.record_move(from, to).await?;
                report.moved_remote += 1;
            }
            Op::MoveLocal { from, to } => {
                let (source, target) =
                    (on_disk(&self.root, &trees.local, from), new_on_disk(&self.root, &trees.local, to));
                let Ok(meta) = std::fs::symlink_metadata(&source) else { return Ok(()) };
                if !within(&self.root, &source) || !within(&self.root, &target) {
                    return Ok(()); // A folder on the way became a link: next round decides.
                }
                // Already there (a move made before a crash): only the record is missing.
                if source != target {
                    // Never over something: only onto nothing, or onto the item itself (a
                    // case-only rename on a case-insensitive disk, which may even give the
                    // name another file id: there the exact spelling is what counts).
                    let case_only = key(from) == key(to);
                    let taken = match std::fs::symlink_metadata(&target) {
                        Ok(_) if case_only => listed_exactly(&target),
                        Ok(there) => stamp_of(&there).inode != stamp_of(&meta).inode,
                        Err(_) => false,
                    };
                    if taken {
                        return Ok(());
                    }
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    // Noted first, as for server moves: recovered at the next start.
                    let relative = |p: &Path| p.strip_prefix(&self.root).unwrap_or(p).to_string_lossy().into_owned();
                    let side = MoveSide::Local { source: relative(&source), target: relative(&target) };
                    self.state.note_move(from, to, side).await?;
                    if case_only {
                        // Through another name: some case-insensitive disks keep the old
                        // spelling when asked to rename to the same name in another case.
                        let step = target.with_file_name(CASE_RENAME_STEP);
                        std::fs::rename(&source, &step)?;
                        std::fs::rename(&step, &target)?;
                    } else {
                        std::fs::rename(&source, &target)?;
                    }
                    for dir in [source.parent(), target.parent()].into_iter().flatten() {
                        std::fs::File::open(dir)?.sync_all()?;
                    }
                }
                self.checkpoint()?;
                self.state.record_move(from, to).await?;
                report.moved_local += 1;
            }
            Op::DeleteRemote { path, if_rev } => {
                // Only the revision this device last synced: a newer edit wins.
                match self.client.delete_if(&path.to_string(), *if_rev).await {
                    Ok(_) => {}
                    Err(e) if e.code() == Some(ErrorCode::NotFound) => {}
                    Err(e) if e.code() == Some(ErrorCode::Conflict) => {
                        tracing::debug!(%path, error = ?e, "not deleted: changed on the server");
                        return Ok(());
                    }
                    Err(e) => return Err(e.into()),
                }
                self.checkpoint()?;
                self.state.record(path, None).await?;
                report.deleted_remote += 1;
            }
            Op::Download { path, content, mode, rev } => {
                // The file keeps the modification time its writer gave it.
                let node = trees.remote.get(&key(path)).and_then(|(_, e)| remote.node(e.id?));
                let id = trees.remote.get(&key(path)).and_then(|(_, e)| e.id);
                let planned = Entry::file(*content, *rev).with_id(id).with_mode(*mode);
                if let Some(stamp) = self.download(path, &planned, node, &trees.local, stamps).await? {
                    self.record(trees, path, planned.with_stamp(Some(stamp))).await?;
                    report.downloaded += 1;
                }
            }
            Op::CreateLocalFolder { path } => {
                let target = on_disk(&self.root, &trees.local, path);
                if std::fs::symlink_metadata(&target).is_ok_and(|m| !m.is_dir()) || !within(&self.root, &target) {
                    return Ok(()); // Something appeared there: next round decides.
                }
                std::fs::create_dir_all(&target)?;
                self.record(trees, path, Entry::folder().with_stamp(stamp_now(&target))).await?;
            }
            Op::DeleteLocal { path } => {
                let target = on_disk(&self.root, &trees.local, path);
                let k = key(path);
                if !within(&self.root, &target) {
                    return Ok(());
                }
                match trees.local.get(&k).map(|(_, e)| e.kind) {
                    Some(Kind::File) => {
                        // Only the very file the scan saw (and found synced).
                        if stamp_now(&target) != stamps.get(&k).copied() {
                            return Ok(());
                        }
                        std::fs::remove_file(&target)?;
                    }
                    Some(Kind::Folder) => match std::fs::remove_dir(&target) {
                        Ok(()) => {}
                        // Not empty: something new is inside; next round keeps it.
                        Err(_) => return Ok(()),
                    },
                    None => {}
                }
                self.checkpoint()?;
                self.state.record(path, None).await?;
                report.deleted_local += 1;
            }
            Op::MoveLocalAside { path, copy } => {
                // Text edited on both sides: merged when the edits do not overlap.
                if self.merge(path, trees, stamps).await? {
                    report.merged += 1;
                    return Ok(());
                }
                let (from, to) = (on_disk(&self.root, &trees.local, path), new_on_disk(&self.root, &trees.local, copy));
                if std::fs::symlink_metadata(&to).is_err() && within(&self.root, &from) && within(&self.root, &to) {
                    // Forgotten first: after a crash the copy must not look moved.
                    self.forget_file(trees, path).await?;
                    std::fs::rename(&from, &to)?;
                    report.conflicts += 1;
                }
            }
            Op::KeepAside { path, copy } => {
                let (from, to) = (on_disk(&self.root, &trees.local, path), new_on_disk(&self.root, &trees.local, copy));
                if std::fs::symlink_metadata(&to).is_err() && within(&self.root, &from) && within(&self.root, &to) {
                    // Forgotten first: after a crash the copy must not look moved.
                    self.forget_file(trees, path).await?;
                    std::fs::rename(&from, &to)?;
                    tracing::info!(%path, %copy, "kept aside: the shared folder is read-only for this user");
                    report.conflicts += 1;
                }
            }
            Op::Record { path, entry: Some(entry) } => self.record(trees, path, entry.clone()).await?,
            Op::Record { path, entry: None } => {
                self.checkpoint()?;
                self.state.record(path, None).await?
            }
        }
        Ok(())
    }

    /// After a local item was set aside under a new name: the base forgets which file
    /// was at `path`, so the copy is taken for the new item it is, not for the synced
    /// one moved and edited.
    async fn forget_file(&self, trees: &Trees, path: &RemotePath) -> Result<(), SyncError> {
        if let Some((_, b)) = trees.synced.get(&key(path)) {
            let entry = Entry { ino: None, born: None, ..b.clone() };
            self.state.record(path, Some(&entry)).await?;
        }
        Ok(())
    }

    /// Records a path of the base, with the server's node id and the local file id the
    /// round saw there when the step did not learn them itself.
    async fn record(&self, trees: &Trees, path: &RemotePath, mut entry: Entry) -> Result<(), SyncError> {
        self.checkpoint()?;
        let k = key(path);
        if entry.id.is_none() {
            entry.id = trees.remote.get(&k).and_then(|(_, e)| e.id);
        }
        if entry.ino.is_none()
            && let Some((_, l)) = trees.local.get(&k)
        {
            (entry.ino, entry.born) = (l.ino, l.born);
        }
        Ok(self.state.record(path, Some(&entry)).await?)
    }
}
