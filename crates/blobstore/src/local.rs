//! A chunk store in a local directory: `chunks/ab/<hash>`, or with encryption at rest
//! `sealed/ab/<keyed name>` (see [`crate::seal`]), written durably. The 256 folders are
//! made (and fsynced) when the store is opened, so a write never has to create one.
//!
//! A sealed store records in `sealed/KEYS` the ids of the keys that sealed its chunks
//! (and `plain` while plaintext chunks from before encryption remain): it refuses to open
//! without a key, or with a keyring that lacks one of them. Chunks under an older key
//! or in plaintext are read where they are and sealed again under the current key by
//! [`BlobStore::reseal`], a bounded batch at a time.
//!
//! A write goes to `tmp/`, is fsynced, renamed into place, and the directory holding it
//! is fsynced before the batch is acknowledged; so after a crash a chunk is either
//! whole or absent, never half-written. A chunk that fails verification on read is moved
//! to `quarantine/`, so the next upload of the same bytes heals the store.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use coffer_core::ChunkHash;
use futures::{StreamExt, TryStreamExt};

use crate::seal::{self, KeyId, Keyring};
use crate::{BlobError, BlobStore, PutOutcome, ResealReport, codec};

/// How many chunk writes of one batch run at once.
const WRITE_CONCURRENCY: usize = 8;

/// A cheap-to-clone handle on a chunk directory.
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    tmp_counter: AtomicU64,
    /// The keys of a sealed store (swapped when the key file changes).
    keyring: std::sync::RwLock<Option<Arc<Keyring>>>,
}

/// What `sealed/KEYS` says: the keys that sealed chunks here, and whether plaintext
/// chunks may remain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealState {
    pub keys: Vec<KeyId>,
    pub plaintext: bool,
}

impl LocalDirStore {
    /// Opens (creating if needed) a plaintext store under `root`, and removes temporary
    /// files a crash may have left behind. A sealed store is refused (`KeyNeeded`).
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        Self::open_with(root, None)
    }

    /// Opens a store with encryption at rest when `keyring` is given: new chunks are
    /// sealed under its current key. A store sealed before is refused without a keyring,
    /// or with one that lacks a key its chunks were sealed with.
    pub fn open_with(root: impl Into<PathBuf>, keyring: Option<Keyring>) -> Result<Self, BlobError> {
        let root = root.into();
        for sub in ["chunks", "tmp", "quarantine"] {
            create_dir_durably(&root.join(sub))?;
        }
        let state = read_seal_state(&root)?;
        match (&keyring, &state) {
            (None, Some(_)) => return Err(BlobError::KeyNeeded),
            (Some(ring), Some(state)) => {
                let missing: Vec<String> =
                    state.keys.iter().filter(|id| !ring.ids().contains(id)).map(|id| id.to_string()).collect();
                if !missing.is_empty() {
                    return Err(BlobError::WrongKey(missing.join(", ")));
                }
            }
            _ => {}
        }
        if let Some(ring) = &keyring {
            create_dir_durably(&root.join("sealed"))?;
            let mut state = state.clone().unwrap_or_default();
            if !state.keys.contains(&ring.current_id()) {
                state.keys.insert(0, ring.current_id());
            }
            state.plaintext |= has_plaintext(&root)?;
            write_seal_state(&root, &state)?;
        }
        for prefix in 0..=255u8 {
            let prefix = format!("{prefix:02x}");
            create_dir_durably(&root.join("chunks").join(&prefix))?;
            if keyring.is_some() {
                create_dir_durably(&root.join("sealed").join(&prefix))?;
            }
            // Temporary files are spread like the chunks, so concurrent writes do not all
            // contend for one directory's lock.
            let tmp = root.join("tmp").join(&prefix);
            create_dir_durably(&tmp)?;
            for entry in fs::read_dir(&tmp)? {
                let _ = fs::remove_file(entry?.path());
            }
        }
        let keyring = std::sync::RwLock::new(keyring.map(Arc::new));
        Ok(Self { inner: Arc::new(Inner { root, tmp_counter: AtomicU64::new(0), keyring }) })
    }

    /// The store's seal state (`None`: a plaintext store).
    pub fn seal_state(root: &Path) -> Result<Option<SealState>, BlobError> {
        read_seal_state(root)
    }

    /// Takes a new keyring (after a rotation): it must hold every key that sealed
    /// chunks here. New chunks are sealed under its current key from now on.
    fn set_keyring_now(&self, ring: Keyring) -> Result<(), BlobError> {
        let root = &self.inner.root;
        let mut state = read_seal_state(root)?.ok_or(BlobError::KeyNeeded)?;
        let missing: Vec<String> =
            state.keys.iter().filter(|id| !ring.ids().contains(id)).map(|id| id.to_string()).collect();
        if !missing.is_empty() {
            return Err(BlobError::WrongKey(missing.join(", ")));
        }
        if !state.keys.contains(&ring.current_id()) {
            state.keys.insert(0, ring.current_id());
            write_seal_state(root, &state)?;
        }
        *self.inner.keyring.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(ring));
        Ok(())
    }
}

/// Whether any plaintext chunk file is stored.
fn has_plaintext(root: &Path) -> std::io::Result<bool> {
    let chunks = root.join("chunks");
    for prefix in fs::read_dir(&chunks)? {
        let prefix = prefix?;
        if prefix.file_type()?.is_dir() && fs::read_dir(prefix.path())?.next().is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

fn read_seal_state(root: &Path) -> Result<Option<SealState>, BlobError> {
    let text = match fs::read_to_string(root.join("sealed").join("KEYS")) {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            // A `sealed` folder without its list is a store whose first open was cut
            // short: still sealed.
            return Ok(root.join("sealed").is_dir().then(SealState::default));
        }
        Err(e) => return Err(e.into()),
    };
    let mut state = SealState::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if line == "plain" {
            state.plaintext = true;
        } else {
            let id = line.parse().map_err(|_| std::io::Error::other(format!("sealed/KEYS: bad line '{line}'")))?;
            state.keys.push(id);
        }
    }
    Ok(Some(state))
}

fn write_seal_state(root: &Path, state: &SealState) -> std::io::Result<()> {
    let dir = root.join("sealed");
    let mut text = String::from("# The ids of the keys that sealed chunks here (the current first).\n");
    for id in &state.keys {
        text.push_str(&format!("{id}\n"));
    }
    if state.plaintext {
        text.push_str("plain\n");
    }
    let tmp = dir.join("KEYS.tmp");
    let mut f = create_private(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join("KEYS"))?;
    sync_dir(&dir)
}

impl LocalDirStore {
    /// Chunk copies written to disk so far (new chunks and already stored ones alike).
    pub fn writes(&self) -> u64 {
        self.inner.tmp_counter.load(Ordering::Relaxed)
    }
}

impl Inner {
    fn keyring(&self) -> Option<Arc<Keyring>> {
        self.keyring.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Where a plaintext chunk is (or would be).
    fn plain_path(&self, hash: &ChunkHash) -> PathBuf {
        let hex = hash.to_hex();
        self.root.join("chunks").join(&hex[..2]).join(hex)
    }

    /// Where a chunk sealed under the key that names it `name` is.
    fn sealed_path(&self, name: &str) -> PathBuf {
        self.root.join("sealed").join(&name[..2]).join(name)
    }

    /// Where new copies of a chunk go: sealed under the current key, or in plaintext.
    fn write_path(&self, hash: &ChunkHash, ring: Option<&Keyring>) -> PathBuf {
        match ring {
            Some(r) => self.sealed_path(&r.current().name_of(hash)),
            None => self.plain_path(hash),
        }
    }

    /// Every place a chunk may be: under the current key, under older keys, in plaintext.
    fn all_paths(&self, hash: &ChunkHash) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = match self.keyring() {
            Some(r) => r.keys().map(|k| self.sealed_path(&k.name_of(hash))).collect(),
            None => Vec::new(),
        };
        out.push(self.plain_path(hash));
        out
    }

    /// Writes a framed chunk to a temporary file (fsynced when `sync`).
    ///
    /// A chunk already stored goes the same way as a new one (written, flushed, renamed),
    /// except that it is renamed aside and deleted after the answer, off the request path:
    /// the time an upload takes must not tell another user whether someone stores these
    /// bytes. (Deleting the copy in the request would add work that new bytes never cost.)
    fn write_temp(&self, hash: ChunkHash, data: &[u8], sync: bool) -> Result<Staged, BlobError> {
        let ring = self.keyring();
        let path = self.write_path(&hash, ring.as_deref());
        let dir = path.parent().map_or_else(|| self.root.clone(), Path::to_path_buf);
        let framed = match &ring {
            Some(r) => r.current().seal(&hash, &codec::encode(data)),
            None => codec::encode(data),
        };
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        // Named like the file it becomes (a keyed name for a sealed chunk).
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("chunk").to_owned();
        let tmp = self.root.join("tmp").join(&name[..2]).join(format!("{name}.{}.{n}", std::process::id()));
        let guard = TempGuard(Some(tmp.clone()));
        let mut f = create_private(&tmp)?;
        f.write_all(&framed)?;
        if sync {
            f.sync_all()?;
        }
        let present = path.exists();
        Ok(Staged { tmp: guard, path, dir, stored: framed.len() as u64, present })
    }

    /// Reads a chunk from wherever it is (see [`Inner::all_paths`]); the path it was at.
    fn read_one(&self, hash: &ChunkHash) -> Result<(Vec<u8>, PathBuf), BlobError> {
        let ring = self.keyring();
        for path in self.all_paths(hash) {
            let file = match fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            let plain = if path.starts_with(self.root.join("sealed")) {
                ring.as_deref().and_then(|r| r.open_body(hash, &file)).and_then(|frame| codec::decode(hash, &frame))
            } else {
                codec::decode(hash, &file)
            };
            return match plain {
                Some(plain) => Ok((plain, path)),
                None => {
                    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("chunk");
                    let target = self.root.join("quarantine").join(name);
                    tracing::error!(chunk = %hash, "chunk failed verification; moved to quarantine");
                    let _ = fs::rename(&path, &target);
                    Err(BlobError::Corrupt(*hash))
                }
            };
        }
        Err(BlobError::NotFound(*hash))
    }

    /// Seals again, under the current key, up to `limit` chunks that are in plaintext or
    /// under an older key: each is read and verified, written like a new chunk, and only
    /// then removed from where it was (so a crash at any point loses nothing).
    fn reseal(&self, limit: usize) -> Result<ResealReport, BlobError> {
        let nothing = ResealReport { resealed: 0, done: true };
        let Some(ring) = self.keyring() else { return Ok(nothing) };
        let mut state = read_seal_state(&self.root)?.unwrap_or_default();
        let current = ring.current_id();
        if !state.plaintext && state.keys.iter().all(|k| *k == current) {
            return Ok(nothing);
        }
        let mut report = ResealReport::default();
        let mut found_old = false;
        'scan: for prefix in 0..=255u8 {
            let prefix = format!("{prefix:02x}");
            let mut candidates = Vec::new();
            if state.plaintext {
                for entry in fs::read_dir(self.root.join("chunks").join(&prefix))? {
                    let entry = entry?;
                    if let Some(hash) = entry.file_name().to_str().and_then(|n| n.parse::<ChunkHash>().ok()) {
                        candidates.push(hash);
                    }
                }
            }
            for entry in fs::read_dir(self.root.join("sealed").join(&prefix))? {
                let path = entry?.path();
                let head = read_head(&path, seal::HEADER_LEN)?;
                if seal::sealed_by(&head).is_some_and(|id| id != current)
                    && let Some(hash) = ring.open_header(&head)
                {
                    candidates.push(hash);
                }
            }
            for hash in candidates {
                if report.resealed as usize >= limit {
                    found_old = true;
                    break 'scan;
                }
                let (plain, from) = match self.read_one(&hash) {
                    Ok(found) => found,
                    // Deleted meanwhile, or damaged (then quarantined): nothing to move.
                    Err(BlobError::NotFound(_) | BlobError::Corrupt(_)) => continue,
                    Err(e) => return Err(e),
                };
                let to = self.write_path(&hash, Some(&ring));
                if from != to {
                    let staged = self.write_temp(hash, &plain, true)?;
                    if let (_, _, Some(extra)) = staged.publish()? {
                        let _ = fs::remove_file(extra);
                    }
                    let dir = to.parent().map_or_else(|| self.root.clone(), Path::to_path_buf);
                    sync_dir(&dir)?;
                }
                // Every older copy goes (the one read, and any other left by a crash).
                for old in self.all_paths(&hash).into_iter().filter(|p| *p != to) {
                    match fs::remove_file(&old) {
                        Ok(()) => {}
                        Err(e) if e.kind() == ErrorKind::NotFound => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                report.resealed += 1;
            }
        }
        if !found_old {
            // A full pass found nothing left: only the current key holds chunks now.
            state = SealState { keys: vec![current], plaintext: false };
            write_seal_state(&self.root, &state)?;
        }
        report.done = !found_old;
        Ok(report)
    }
}

/// A chunk written to its temporary file, waiting to be renamed into place.
struct Staged {
    tmp: TempGuard,
    path: PathBuf,
    dir: PathBuf,
    stored: u64,
    /// The chunk was already stored: the copy is set aside for deletion after the answer.
    present: bool,
}

impl Staged {
    /// Renames the chunk into place, or a copy of a stored chunk aside (returned, to be
    /// deleted later).
    fn publish(mut self) -> std::io::Result<(PutOutcome, PathBuf, Option<PathBuf>)> {
        let Some(tmp) = self.tmp.0.take() else {
            return Ok((PutOutcome::AlreadyPresent, self.dir, None));
        };
        if self.present {
            // Its folder is flushed like a new chunk's, so both cost the same.
            let aside = tmp.with_extension("discard");
            fs::rename(&tmp, &aside)?;
            let dir = aside.parent().map_or(self.dir, Path::to_path_buf);
            return Ok((PutOutcome::AlreadyPresent, dir, Some(aside)));
        }
        fs::rename(&tmp, &self.path)?;
        Ok((PutOutcome::Written { stored: self.stored }, self.dir, None))
    }
}

/// Removes a temporary file unless it was renamed into place.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// Batches at least this large are made durable with two filesystem flushes (before
/// and after the renames) instead of an fsync per file and per folder.
const SYNCFS_BATCH: usize = 8;

fn syncfs(path: &Path) -> std::io::Result<()> {
    let dir = File::open(path)?;
    rustix::fs::syncfs(&dir).map_err(std::io::Error::from)
}

/// Chunk files are readable by the server's user only (0600).
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

/// Chunk folders are the server's user's only (0700).
fn private_dir_builder() -> fs::DirBuilder {
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b
}

/// Creates `dir` and any missing parents, fsyncing each parent that gained an entry,
/// so the directory survives a crash.
fn create_dir_durably(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_durably(parent)?;
    }
    match private_dir_builder().create(dir) {
        Ok(()) => {
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The first `n` bytes of a file (fewer if it is shorter).
fn read_head(path: &Path, n: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(n);
    File::open(path)?.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[async_trait]
impl BlobStore for LocalDirStore {
    async fn put_many(&self, chunks: Vec<(ChunkHash, Bytes)>) -> Result<Vec<PutOutcome>, BlobError> {
        let batched = chunks.len() >= SYNCFS_BATCH;
        let staged: Vec<Staged> = futures::stream::iter(chunks)
            .map(|(hash, data)| {
                let store = self.inner.clone();
                async move {
                    tokio::task::spawn_blocking(move || store.write_temp(hash, &data, !batched))
                        .await
                        .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
                }
            })
            .buffered(WRITE_CONCURRENCY)
            .try_collect()
            .await?;
        let root = self.inner.root.clone();
        type Published = (Vec<PutOutcome>, Vec<PathBuf>);
        let outcomes = tokio::task::spawn_blocking(move || -> std::io::Result<Published> {
            if batched {
                // Every temporary file's bytes reach the disk before any is renamed.
                syncfs(&root)?;
            }
            let mut dirs = BTreeSet::new();
            let mut outcomes = Vec::with_capacity(staged.len());
            let mut aside = Vec::new();
            for s in staged {
                let (outcome, dir, discard) = s.publish()?;
                dirs.insert(dir);
                outcomes.push(outcome);
                aside.extend(discard);
            }
            // The renames themselves become durable before the batch is acknowledged.
            if batched && !dirs.is_empty() {
                syncfs(&root)?;
            } else {
                dirs.iter().try_for_each(|d| sync_dir(d))?;
            }
            Ok((outcomes, aside))
        })
        .await
        .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
        let (outcomes, aside) = outcomes;
        if !aside.is_empty() {
            // After the answer; a crash before it leaves files that `open` removes.
            tokio::task::spawn_blocking(move || {
                for p in aside {
                    let _ = fs::remove_file(p);
                }
            });
        }
        Ok(outcomes)
    }

    async fn get(&self, hash: &ChunkHash) -> Result<Bytes, BlobError> {
        let store = self.inner.clone();
        let hash = *hash;
        tokio::task::spawn_blocking(move || store.read_one(&hash).map(|(plain, _)| Bytes::from(plain)))
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
    }

    async fn contains(&self, hash: &ChunkHash) -> Result<bool, BlobError> {
        for path in self.inner.all_paths(hash) {
            if tokio::fs::try_exists(path).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn list(&self, prefix: u8) -> Result<Vec<(ChunkHash, std::time::SystemTime)>, BlobError> {
        let dir = self.inner.root.join("chunks").join(format!("{prefix:02x}"));
        let sealed = self.inner.root.join("sealed").join(format!("{prefix:02x}"));
        let ring = self.inner.keyring();
        tokio::task::spawn_blocking(move || -> std::io::Result<Vec<(ChunkHash, std::time::SystemTime)>> {
            let mut out = Vec::new();
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                let Some(hash) = entry.file_name().to_str().and_then(|n| n.parse::<ChunkHash>().ok()) else {
                    continue;
                };
                out.push((hash, entry.metadata()?.modified()?));
            }
            // A sealed file's name does not tell its chunk: its header does.
            if let Some(ring) = ring.filter(|_| sealed.is_dir()) {
                for entry in fs::read_dir(&sealed)? {
                    let entry = entry?;
                    let head = read_head(&entry.path(), seal::HEADER_LEN)?;
                    if let Some(hash) = ring.open_header(&head) {
                        out.push((hash, entry.metadata()?.modified()?));
                    }
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
        .map_err(BlobError::from)
    }

    async fn delete(&self, hash: &ChunkHash) -> Result<(), BlobError> {
        for path in self.inner.all_paths(hash) {
            match tokio::fs::remove_file(path).await {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn set_keyring(&self, ring: Keyring) -> Result<(), BlobError> {
        self.set_keyring_now(ring)
    }

    async fn reseal(&self, limit: usize) -> Result<ResealReport, BlobError> {
        let store = self.inner.clone();
        tokio::task::spawn_blocking(move || store.reseal(limit))
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
    }
}
